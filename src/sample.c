/* Sample expressions: parsing "fetch(args),conv(args),...", evaluating
 * them, and the casts between types that let any fetch feed any converter
 * or matcher that makes sense. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/proxy.h>
#include <proxyd/regex.h>
#include <proxyd/sample.h>

struct registry smp_fetches = REGISTRY_INIT("sample fetches");
struct registry smp_convs = REGISTRY_INIT("sample converters");

static const char *const type_names[SMP_TYPES] = {
	[SMP_T_ANY] = "any", [SMP_T_BOOL] = "boolean", [SMP_T_SINT] = "integer",
	[SMP_T_IPV4] = "ipv4", [SMP_T_IPV6] = "ipv6", [SMP_T_ADDR] = "address",
	[SMP_T_STR] = "string", [SMP_T_BIN] = "binary", [SMP_T_METH] = "method",
};

const char *smp_type_name(enum smp_type t)
{
	return t < SMP_TYPES ? type_names[t] : "?";
}

/*------------------------------------------------------------------------
 * Scratch buffers
 */
#define TRASH_NB 8
static __thread struct trash trash_ring[TRASH_NB];
static __thread int trash_next;

struct trash *smp_trash(void)
{
	struct trash *t = &trash_ring[trash_next];

	trash_next = (trash_next + 1) % TRASH_NB;
	if (!t->area) {
		t->size = global.bufsize > 0 ? (size_t)global.bufsize : 16384;
		t->area = malloc(t->size);
		if (!t->area) {
			t->size = 0;
			return t;   /* callers check t->size */
		}
	}
	t->len = 0;
	return t;
}

void smp_trash_init(void)
{
	trash_next = 0;
}

void smp_trash_deinit(void)
{
	for (int i = 0; i < TRASH_NB; i++) {
		free(trash_ring[i].area);
		trash_ring[i].area = NULL;
		trash_ring[i].size = 0;
	}
}

/*------------------------------------------------------------------------
 * Lookups
 */
const struct sample_fetch *smp_find_fetch(const char *name, size_t len)
{
	struct reg_node *n;

	registry_for_each(n, smp_fetches)
		for (const struct sample_fetch *f = n->table; f->kw; f++)
			if (strlen(f->kw) == len && strncmp(f->kw, name, len) == 0)
				return f;
	return NULL;
}

const struct sample_conv *smp_find_conv(const char *name, size_t len)
{
	struct reg_node *n;

	registry_for_each(n, smp_convs)
		for (const struct sample_conv *c = n->table; c->kw; c++)
			if (strlen(c->kw) == len && strncmp(c->kw, name, len) == 0)
				return c;
	return NULL;
}

/*------------------------------------------------------------------------
 * Arguments
 */

/* Arguments whose names are resolved once every section is known. */
struct pending_arg {
	struct pending_arg *next;
	struct arg *arg;
	const char *kw;
};
static struct pending_arg *pending_args;

static int is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* Splits the text between parentheses at top-level commas, removing one
 * level of quotes and of the backslashes that escape a backslash, a quote
 * or a space (the second parsing level of HAProxy's configuration; other
 * backslashes stay). <out> receives NUL-terminated words in the arena. */
static int split_args(const char *p, const char **endp, char **out, int max, int *nb,
                      char *err, size_t errlen)
{
	char buf[4096];
	size_t bl = 0;
	char quote = 0;
	int n = 0;

	/* p points just after '(' */
	for (;; p++) {
		char c = *p;
		if (!c) {
			snprintf(err, errlen, "missing closing ')'");
			return -1;
		}
		if (quote == '\'') {
			if (c == quote) {
				quote = 0;
				continue;
			}
		} else if (c == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == '\'' || p[1] == ' ')) {
			/* only these are escaped, as HAProxy does: any other
			 * backslash is kept for the argument ("\.", "\1" and
			 * "\w" in a regsub() must reach PCRE2 intact) */
			c = *++p;
		} else if (quote) {
			if (c == quote) {
				quote = 0;
				continue;
			}
		} else if (c == '"' || c == '\'') {
			quote = c;
			continue;
		} else if (c == ',' || c == ')') {
			if (n >= max) {
				snprintf(err, errlen, "too many arguments (at most %d)", max);
				return -1;
			}
			/* "fetch()" has no argument at all, not one empty one */
			if (!(c == ')' && n == 0 && bl == 0))
				out[n++] = cfg_strndup(buf, bl);
			bl = 0;
			if (c == ')') {
				*endp = p + 1;
				*nb = n;
				return 0;
			}
			continue;
		}
		if (bl + 1 >= sizeof(buf)) {
			snprintf(err, errlen, "argument too long");
			return -1;
		}
		buf[bl++] = c;
	}
}

int sample_parse_args(const char **str, uint64_t mask, struct arg *args, const char *kw,
                      char *err, size_t errlen)
{
	char *words[ARG_NB_MAX + 1];
	int nb = 0;
	int min = (int)(mask & ((1 << ARGM_BITS) - 1));
	const char *p = *str;

	memset(args, 0, sizeof(*args) * (ARG_NB_MAX + 1));
	if (*p == '(') {
		if (split_args(p + 1, &p, words, ARG_NB_MAX + 1, &nb, err, errlen) < 0)
			return -1;
	}
	int maxargs = 0;
	for (int i = 0; i < ARG_NB_MAX; i++)
		if ((mask >> (ARGM_BITS + i * ARGT_BITS)) & ((1 << ARGT_BITS) - 1))
			maxargs = i + 1;
	if (nb < min) {
		snprintf(err, errlen, "'%s' expects at least %d argument%s, got %d", kw, min, min > 1 ? "s" : "", nb);
		return -1;
	}
	if (nb > maxargs) {
		snprintf(err, errlen, "'%s' expects at most %d argument%s, got %d", kw, maxargs,
		         maxargs > 1 ? "s" : "", nb);
		return -1;
	}
	for (int i = 0; i < nb; i++) {
		enum arg_type t = (enum arg_type)((mask >> (ARGM_BITS + i * ARGT_BITS)) & ((1 << ARGT_BITS) - 1));
		struct arg *a = &args[i];
		a->type = t;
		switch (t) {
		case ARGT_SINT: {
			char *end;
			errno = 0;
			a->data.sint = strtoll(words[i], &end, 10);
			if (!*words[i] || *end || errno) {
				snprintf(err, errlen, "'%s': argument %d must be an integer (got '%s')", kw, i + 1, words[i]);
				return -1;
			}
			break;
		}
		case ARGT_STR:
			a->data.str.ptr = words[i];
			a->data.str.len = strlen(words[i]);
			break;
		case ARGT_REG:
			a->unresolved = words[i];   /* the pattern, for converters that recompile it */
			a->data.reg = regex_compile(words[i], 0, err, errlen);
			if (!a->data.reg)
				return -1;
			break;
		case ARGT_BE:
		case ARGT_USR: {
			struct pending_arg *pa = cfg_alloc(sizeof(*pa));
			a->unresolved = words[i];
			pa->arg = a;
			pa->kw = kw;
			pa->next = pending_args;
			pending_args = pa;
			break;
		}
		case ARGT_VAR:
			a->unresolved = words[i];
			a->data.str.ptr = words[i];
			a->data.str.len = strlen(words[i]);
			break;
		default:
			a->data.str.ptr = words[i];
			a->data.str.len = strlen(words[i]);
			break;
		}
	}
	args[nb].type = ARGT_STOP;
	*str = p;
	return 0;
}

struct userlist *userlist_find(const char *name);

int sample_resolve_args(void)
{
	int err = 0;

	for (struct pending_arg *pa = pending_args; pa; pa = pa->next) {
		struct arg *a = pa->arg;
		if (a->type == ARGT_BE) {
			a->data.be = proxy_find(a->unresolved, PR_CAP_BE);
			if (!a->data.be) {
				ha_alert("config : unable to find backend '%s' referenced in '%s'.", a->unresolved, pa->kw);
				err |= ERR_ALERT | ERR_FATAL;
			}
		} else if (a->type == ARGT_USR) {
			a->data.usr = userlist_find(a->unresolved);
			if (!a->data.usr) {
				ha_alert("config : unable to find userlist '%s' referenced in '%s'.", a->unresolved, pa->kw);
				err |= ERR_ALERT | ERR_FATAL;
			}
		}
	}
	pending_args = NULL;
	return err;
}

/*------------------------------------------------------------------------
 * Expressions
 */
struct sample_expr *sample_parse_expr(const char **str, char *err, size_t errlen)
{
	const char *p = *str, *name = p;
	struct sample_expr *expr;
	char kw[128];

	while (is_name_char(*p))
		p++;
	if (p == name) {
		snprintf(err, errlen, "missing fetch method");
		return NULL;
	}
	snprintf(kw, sizeof(kw), "%.*s", (int)(p - name), name);
	const struct sample_fetch *f = smp_find_fetch(name, (size_t)(p - name));
	if (!f) {
		snprintf(err, errlen, "unknown fetch method '%s'", kw);
		return NULL;
	}
	expr = cfg_alloc(sizeof(*expr));
	expr->fetch = f;
	if (sample_parse_args(&p, f->arg_mask, expr->args, f->kw, err, errlen) < 0)
		return NULL;
	if (f->val_args && f->val_args(expr->args, err, errlen) < 0)
		return NULL;

	enum smp_type cur = f->out;
	while (*p == ',') {
		const char *cname = ++p;
		while (is_name_char(*p))
			p++;
		if (p == cname) {
			snprintf(err, errlen, "missing converter name after ',' in '%s'", *str);
			return NULL;
		}
		const struct sample_conv *c = smp_find_conv(cname, (size_t)(p - cname));
		if (!c) {
			snprintf(err, errlen, "unknown converter '%.*s'", (int)(p - cname), cname);
			return NULL;
		}
		if (expr->nb_convs >= SMP_MAX_CONVS) {
			snprintf(err, errlen, "too many converters (at most %d)", SMP_MAX_CONVS);
			return NULL;
		}
		if (!sample_can_cast(cur, c->in)) {
			snprintf(err, errlen, "converter '%s' cannot be applied: it takes %s input and gets %s",
			         c->kw, smp_type_name(c->in), smp_type_name(cur));
			return NULL;
		}
		struct sample_conv_expr *ce = &expr->convs[expr->nb_convs++];
		ce->conv = c;
		if (sample_parse_args(&p, c->arg_mask, ce->args, c->kw, err, errlen) < 0)
			return NULL;
		if (c->val_args && c->val_args(ce->args, err, errlen) < 0)
			return NULL;
		if (c->out != SMP_T_ANY)
			cur = c->out;
	}
	*str = p;
	return expr;
}

struct sample_expr *sample_parse_word(const char *word, char *err, size_t errlen)
{
	const char *p = word;
	struct sample_expr *e = sample_parse_expr(&p, err, errlen);

	if (e && *p) {
		snprintf(err, errlen, "unexpected '%s' after the sample expression", p);
		return NULL;
	}
	return e;
}

int sample_process(const struct sample_expr *expr, struct stream *s, struct sample *smp)
{
	/* fetches set the type and the data they produce: only the flags
	 * and the iteration state need a defined value */
	if (!(smp->flags & SMP_F_NOT_LAST)) {
		smp->flags &= SMP_OPT_ITERATE;
		smp->ctx = 0;
	} else {
		smp->flags &= ~SMP_F_NOT_LAST;
	}
	smp->type = SMP_T_ANY;
	if (!expr->fetch->fn(expr->args, smp, s, expr->fetch))
		return 0;
	for (int i = 0; i < expr->nb_convs; i++) {
		const struct sample_conv_expr *ce = &expr->convs[i];
		if (!sample_cast(smp, ce->conv->in))
			return 0;
		unsigned keep = smp->flags & SMP_F_NOT_LAST;
		if (!ce->conv->fn(ce->args, smp, ce->conv->priv))
			return 0;
		smp->flags |= keep;
	}
	return 1;
}

/*------------------------------------------------------------------------
 * Casts
 */
enum smp_type sample_expr_type(const struct sample_expr *expr)
{
	enum smp_type t = expr->fetch->out;

	for (int i = 0; i < expr->nb_convs; i++)
		if (expr->convs[i].conv->out != SMP_T_ANY)
			t = expr->convs[i].conv->out;
	return t;
}

int sample_can_cast(enum smp_type from, enum smp_type to)
{
	if (to == SMP_T_ANY || from == to || from == SMP_T_ANY)
		return 1;
	if (from == SMP_T_ADDR)
		from = SMP_T_IPV4;   /* judged as an address */
	switch (to) {
	case SMP_T_BOOL:
	case SMP_T_SINT:
		return from == SMP_T_BOOL || from == SMP_T_SINT || from == SMP_T_STR || from == SMP_T_IPV4;
	case SMP_T_STR:
	case SMP_T_BIN:
		return 1;
	case SMP_T_IPV4:
	case SMP_T_IPV6:
	case SMP_T_ADDR:
		return from == SMP_T_IPV4 || from == SMP_T_IPV6 || from == SMP_T_STR || from == SMP_T_SINT;
	case SMP_T_METH:
		return from == SMP_T_STR;
	default:
		return 0;
	}
}

static int to_str(struct sample *smp)
{
	struct trash *t;
	char tmp[64];
	int n;

	switch (smp->type) {
	case SMP_T_STR:
		return 1;
	case SMP_T_BIN:
		smp->type = SMP_T_STR;
		return 1;
	case SMP_T_BOOL:
	case SMP_T_SINT:
		n = snprintf(tmp, sizeof(tmp), "%lld", smp->data.sint);
		break;
	case SMP_T_IPV4:
		if (!inet_ntop(AF_INET, &smp->data.ipv4, tmp, sizeof(tmp)))
			return 0;
		n = (int)strlen(tmp);
		break;
	case SMP_T_IPV6:
		if (!inet_ntop(AF_INET6, &smp->data.ipv6, tmp, sizeof(tmp)))
			return 0;
		n = (int)strlen(tmp);
		break;
	case SMP_T_METH:
		smp->data.str.ptr = smp->data.meth.ptr;
		smp->data.str.len = smp->data.meth.len;
		smp->type = SMP_T_STR;
		smp->flags |= SMP_F_CONST;
		return 1;
	default:
		return 0;
	}
	t = smp_trash();
	if ((size_t)n >= t->size)
		return 0;
	memcpy(t->area, tmp, (size_t)n);
	t->len = (size_t)n;
	smp->data.str.ptr = t->area;
	smp->data.str.len = t->len;
	smp->type = SMP_T_STR;
	smp->flags &= ~SMP_F_CONST;
	return 1;
}

static int str_to_sint(struct sample *smp)
{
	const char *p = smp->data.str.ptr, *end = p + smp->data.str.len;
	long long v = 0;
	int neg = 0;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (p >= end || !isdigit((unsigned char)*p))
		return 0;
	while (p < end && isdigit((unsigned char)*p)) {
		if (v > (LLONG_MAX - 9) / 10)
			return 0;
		v = v * 10 + (*p++ - '0');
	}
	smp->data.sint = neg ? -v : v;
	smp->type = SMP_T_SINT;
	return 1;
}

static int str_to_ip(struct sample *smp, enum smp_type want)
{
	char tmp[64];
	size_t l = smp->data.str.len;

	if (l >= sizeof(tmp))
		return 0;
	memcpy(tmp, smp->data.str.ptr, l);
	tmp[l] = 0;
	if (want != SMP_T_IPV6 && inet_pton(AF_INET, tmp, &smp->data.ipv4) == 1) {
		smp->type = SMP_T_IPV4;
		return 1;
	}
	if (want != SMP_T_IPV4 && inet_pton(AF_INET6, tmp, &smp->data.ipv6) == 1) {
		smp->type = SMP_T_IPV6;
		return 1;
	}
	return 0;
}

int sample_cast_slow(struct sample *smp, enum smp_type type)
{
	if (type == SMP_T_ANY || smp->type == type)
		return 1;
	switch (type) {
	case SMP_T_STR:
	case SMP_T_BIN:
		if (!to_str(smp))
			return 0;
		smp->type = type;
		return 1;
	case SMP_T_BOOL:
	case SMP_T_SINT:
		if (smp->type == SMP_T_STR || smp->type == SMP_T_BIN) {
			if (!str_to_sint(smp))
				return 0;
		} else if (smp->type == SMP_T_IPV4) {
			smp->data.sint = ntohl(smp->data.ipv4.s_addr);
		} else if (smp->type != SMP_T_BOOL && smp->type != SMP_T_SINT) {
			return 0;
		}
		if (type == SMP_T_BOOL)
			smp->data.sint = smp->data.sint != 0;
		smp->type = type;
		return 1;
	case SMP_T_ADDR:
		if (smp->type == SMP_T_IPV4 || smp->type == SMP_T_IPV6)
			return 1;
		/* fall through */
	case SMP_T_IPV4:
	case SMP_T_IPV6:
		if (smp->type == SMP_T_STR)
			return str_to_ip(smp, type);
		if (smp->type == SMP_T_SINT && type != SMP_T_IPV6) {
			smp->data.ipv4.s_addr = htonl((uint32_t)smp->data.sint);
			smp->type = SMP_T_IPV4;
			return 1;
		}
		if (smp->type == SMP_T_IPV4 && type == SMP_T_IPV6) {
			struct in_addr a = smp->data.ipv4;
			memset(&smp->data.ipv6, 0, sizeof(smp->data.ipv6));
			smp->data.ipv6.s6_addr[10] = smp->data.ipv6.s6_addr[11] = 0xff;
			memcpy(&smp->data.ipv6.s6_addr[12], &a, 4);
			smp->type = SMP_T_IPV6;
			return 1;
		}
		if (smp->type == SMP_T_IPV6 && type == SMP_T_IPV4 && IN6_IS_ADDR_V4MAPPED(&smp->data.ipv6)) {
			struct in_addr a;
			memcpy(&a, &smp->data.ipv6.s6_addr[12], 4);
			smp->data.ipv4 = a;
			smp->type = SMP_T_IPV4;
			return 1;
		}
		return 0;
	case SMP_T_METH:
		if (smp->type == SMP_T_STR) {
			/* str and meth overlap in the union: read before writing */
			const char *ptr = smp->data.str.ptr;
			size_t len = smp->data.str.len;
			smp->data.meth.meth = HTTP_METH_OTHER;
			smp->data.meth.ptr = ptr;
			smp->data.meth.len = len;
			smp->type = SMP_T_METH;
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

int sample_make_rw(struct sample *smp)
{
	if (!(smp->flags & SMP_F_CONST) || (smp->type != SMP_T_STR && smp->type != SMP_T_BIN))
		return 1;
	struct trash *t = smp_trash();
	if (smp->data.str.len > t->size)
		return 0;
	memcpy(t->area, smp->data.str.ptr, smp->data.str.len);
	t->len = smp->data.str.len;
	smp->data.str.ptr = t->area;
	smp->flags &= ~SMP_F_CONST;
	return 1;
}
