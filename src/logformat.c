/* Log-format compiler and renderer (see logformat.h). */
#include <stdio.h>
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/logformat.h>
#include <proxyd/sample.h>

struct registry lf_vars = REGISTRY_INIT("log-format variables");

static const struct lf_var *lf_var_find(const char *name, size_t len)
{
	struct reg_node *n;

	registry_for_each(n, lf_vars)
		for (const struct lf_var *v = n->table; v->name; v++)
			if (strlen(v->name) == len && strncmp(v->name, name, len) == 0)
				return v;
	return NULL;
}

static int parse_opts(const char **pp, unsigned *opts, char *err, size_t errlen)
{
	const char *p = *pp + 1;   /* after '{' */

	while (*p && *p != '}') {
		int on = *p == '+';
		if (*p != '+' && *p != '-') {
			snprintf(err, errlen, "option '%c' in %%{...} must start with '+' or '-'", *p);
			return -1;
		}
		p++;
		unsigned bit = *p == 'Q' ? LF_OPT_QUOTE : *p == 'X' ? LF_OPT_HEX : *p == 'E' ? LF_OPT_ESC :
		               *p == 'J' ? LF_OPT_JSON : 0;
		if (!bit) {
			snprintf(err, errlen, "unknown log-format option '%c' (proxyd knows Q, X, E and J)", *p);
			return -1;
		}
		*opts = on ? (*opts | bit) : (*opts & ~bit);
		p++;
		if (*p == ',')
			p++;
	}
	if (*p != '}') {
		snprintf(err, errlen, "missing '}' after log-format options");
		return -1;
	}
	*pp = p + 1;
	return 0;
}

int logformat_parse(const char *fmt, struct logformat *lf, char *err, size_t errlen)
{
	struct lf_node nodes[128];
	int nb = 0;
	char text[4096];
	size_t tl = 0;
	const char *p = fmt;
	unsigned defopts = 0;     /* set by %{...}o for every item after it */

	memset(lf, 0, sizeof(*lf));
	while (*p) {
		if (*p != '%') {
			if (tl + 1 >= sizeof(text)) {
				snprintf(err, errlen, "log-format text too long");
				return -1;
			}
			text[tl++] = *p++;
			continue;
		}
		if (p[1] == '%') {
			text[tl++] = '%';
			p += 2;
			continue;
		}
		if (nb + 2 >= (int)ARRAY_SIZE(nodes)) {
			snprintf(err, errlen, "too many items in log-format");
			return -1;
		}
		if (tl) {
			nodes[nb].type = LF_TEXT;
			nodes[nb].text = cfg_strndup(text, tl);
			nodes[nb].len = tl;
			nb++;
			tl = 0;
		}
		struct lf_node *n = &nodes[nb];
		memset(n, 0, sizeof(*n));
		n->opts = defopts;
		p++;
		if (*p == '{' && parse_opts(&p, &n->opts, err, errlen) < 0)
			return -1;
		if (*p == 'o' && !((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z'))) {
			/* HAProxy's "global option": the options apply from here on */
			defopts = n->opts;
			p++;
			continue;
		}
		if (*p == '[') {
			const char *e = p + 1;
			char perr[512];
			struct sample_expr *expr = sample_parse_expr(&e, perr, sizeof(perr));
			if (!expr) {
				snprintf(err, errlen, "failed to parse sample expression in '%s': %s", fmt, perr);
				return -1;
			}
			if (*e != ']') {
				snprintf(err, errlen, "missing ']' after sample expression '%.*s' in '%s'",
				         (int)(e - p - 1), p + 1, fmt);
				return -1;
			}
			n->type = LF_EXPR;
			n->expr = expr;
			lf->use |= expr->fetch->use;
			p = e + 1;
		} else {
			const char *name = p;
			while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
				p++;
			const struct lf_var *v = NULL;
			/* the longest known name wins: %Tr vs %T */
			for (const char *q = p; q > name && !v; q--)
				if ((v = lf_var_find(name, (size_t)(q - name))))
					p = q;
			if (!v) {
				snprintf(err, errlen, "unknown log-format variable '%%%.*s' in '%s' (use %%[fetch] for samples,"
				         " %%%% for a percent sign)", (int)(p - name), name, fmt);
				return -1;
			}
			n->type = LF_VAR;
			n->var = v;
			lf->use |= v->use;
			if (!strcmp(v->name, "bi") || !strcmp(v->name, "bp"))
				lf->flags |= LF_F_BSRC;
		}
		nb++;
	}
	if (tl) {
		nodes[nb].type = LF_TEXT;
		nodes[nb].text = cfg_strndup(text, tl);
		nodes[nb].len = tl;
		nodes[nb].opts = 0;
		nb++;
	}
	lf->nb = nb;
	lf->nodes = cfg_alloc(sizeof(*nodes) * (size_t)(nb ? nb : 1));
	memcpy(lf->nodes, nodes, sizeof(*nodes) * (size_t)nb);
	lf->is_const = nb == 0 || (nb == 1 && nodes[0].type == LF_TEXT);
	return 0;
}

static size_t put(char *dst, size_t pos, size_t size, const char *s, size_t len)
{
	if (pos >= size)
		return pos;
	if (len > size - pos)
		len = size - pos;
	memcpy(dst + pos, s, len);
	return pos + len;
}

void logformat_set_http(struct logformat *lf)
{
	lf->http = 1;
}

int logformat_check_use(const struct logformat *lf, unsigned where, char *err, size_t errlen)
{
	for (int i = 0; i < lf->nb; i++) {
		const struct lf_node *n = &lf->nodes[i];
		if (n->type != LF_EXPR || !(n->expr->fetch->use & ~where))
			continue;
		unsigned miss = n->expr->fetch->use & ~where;
		snprintf(err, errlen, "sample fetch <%s> may not be reliably used here because it needs '%s' "
		         "which is not available here", n->expr->fetch->kw,
		         (miss & SMP_USE_HRS) ? "HTTP response headers" : "HTTP request headers");
		return -1;
	}
	return 0;
}

/* Writes a sample's string into an HTTP value, control characters as %XX. */
static size_t put_http(char *dst, size_t pos, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t') {
			char enc[3] = { '%', hex[c >> 4], hex[c & 15] };
			pos = put(dst, pos, size, enc, 3);
		} else if (c == 0x7f) {
			pos = put(dst, pos, size, "%7F", 3);
		} else {
			pos = put(dst, pos, size, (const char *)&s[i], 1);
		}
	}
	return pos;
}

/* Log lines: as HAProxy, a run of blanks between items is one separator,
 * and an item that writes nothing does not double it. */
static size_t put_log_text(char *dst, size_t pos, size_t size, const char *t, size_t len, int *last_sep)
{
	for (size_t i = 0; i < len; i++) {
		if (t[i] == ' ') {
			if (*last_sep)
				continue;
			*last_sep = 1;
		} else {
			*last_sep = 0;
		}
		pos = put(dst, pos, size, &t[i], 1);
	}
	return pos;
}

/* A sample in a log line, as HAProxy writes it: options applied, "-" (or
 * "") for a sample without a value or with an empty one. */
static size_t put_log_sample(const struct lf_node *n, struct stream *s, char *dst, size_t pos, size_t size,
                             unsigned flags)
{
	struct sample smp;
	int ok;

	smp.flags = 0;
	ok = sample_process(n->expr, s, &smp);
	if (ok && (n->opts & LF_OPT_HEX) && (smp.type == SMP_T_SINT || smp.type == SMP_T_BOOL)) {
		char hex[32];
		int l = snprintf(hex, sizeof(hex), "%llX", (unsigned long long)smp.data.sint);
		return put(dst, pos, size, hex, (size_t)l);
	}
	if (ok)
		ok = sample_cast(&smp, SMP_T_STR);
	if (pos >= size)
		return pos;
	if (!ok || !smp.data.str.len) {
		if (flags & LF_EMPTY_MISSING)
			return pos;
		return pos + (size_t)lf_put_missing(dst + pos, size - pos, n->opts);
	}
	return pos + (size_t)lf_put_str(dst + pos, size - pos, smp.data.str.ptr, smp.data.str.len, n->opts);
}

size_t logformat_build(const struct logformat *lf, struct stream *s, char *dst, size_t size, unsigned flags)
{
	size_t pos = 0;
	/* no blank at the start of a log line, as HAProxy */
	int last_sep = (flags & LF_LOG_LINE) != 0;

	for (int i = 0; i < lf->nb; i++) {
		const struct lf_node *n = &lf->nodes[i];
		size_t before = pos;
		switch (n->type) {
		case LF_TEXT:
			if (flags & LF_LOG_LINE) {
				pos = put_log_text(dst, pos, size, n->text, n->len, &last_sep);
				continue;
			}
			pos = put(dst, pos, size, n->text, n->len);
			break;
		case LF_EXPR:
			if (lf->http) {
				struct sample smp;
				smp.flags = 0;
				if (sample_process(n->expr, s, &smp) && sample_cast(&smp, SMP_T_STR))
					pos = put_http(dst, pos, size, smp.data.str.ptr, smp.data.str.len);
				break;
			}
			pos = put_log_sample(n, s, dst, pos, size, flags);
			break;
		case LF_VAR: {
			if (pos >= size)
				break;
			int l = n->var->fn(s, dst + pos, size - pos, n->opts);
			if (l >= 0)
				pos += (size_t)l;
			else if (!(flags & LF_EMPTY_MISSING))
				pos += (size_t)lf_put_missing(dst + pos, size - pos, n->opts);
			/* an empty capture leaves the blanks around it as one */
			if (pos == before && (n->var->flags & LFV_MAY_VANISH))
				continue;
			last_sep = 0;
			continue;
		}
		}
		if (pos > before)
			last_sep = 0;
	}
	return pos;
}
