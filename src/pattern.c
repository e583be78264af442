/* ACL patterns and the matching methods. Each method knows how to parse
 * one pattern and how to compare a sample with it; pattern_exec() casts
 * the sample to the type the method works on first. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/pattern.h>
#include <proxyd/regex.h>
#include <proxyd/str.h>

static const char *const match_names[PAT_MATCH_NUM] = {
	[PAT_MATCH_FOUND] = "found", [PAT_MATCH_BOOL] = "bool", [PAT_MATCH_INT] = "int",
	[PAT_MATCH_IP] = "ip", [PAT_MATCH_BIN] = "bin", [PAT_MATCH_LEN] = "len",
	[PAT_MATCH_STR] = "str", [PAT_MATCH_BEG] = "beg", [PAT_MATCH_SUB] = "sub",
	[PAT_MATCH_DIR] = "dir", [PAT_MATCH_DOM] = "dom", [PAT_MATCH_END] = "end",
	[PAT_MATCH_REG] = "reg",
};

const char *pat_match_name(enum pat_match m)
{
	return m < PAT_MATCH_NUM ? match_names[m] : "?";
}

int pat_match_lookup(const char *name)
{
	for (int i = 0; i < PAT_MATCH_NUM; i++)
		if (strcmp(match_names[i], name) == 0)
			return i;
	return -1;
}

enum pat_match pat_default_match(enum smp_type out)
{
	switch (out) {
	case SMP_T_BOOL: return PAT_MATCH_BOOL;
	case SMP_T_SINT: return PAT_MATCH_INT;
	case SMP_T_IPV4:
	case SMP_T_IPV6:
	case SMP_T_ADDR: return PAT_MATCH_IP;
	case SMP_T_BIN: return PAT_MATCH_BIN;
	default: return PAT_MATCH_STR;
	}
}

static struct pattern *new_pattern(struct pattern_head *head)
{
	if (head->nb == head->cap) {
		int cap = head->cap ? head->cap * 2 : 4;
		struct pattern *p = cfg_alloc(sizeof(*p) * (size_t)cap);
		if (head->nb)
			memcpy(p, head->pats, sizeof(*p) * (size_t)head->nb);
		head->pats = p;
		head->cap = cap;
	}
	struct pattern *p = &head->pats[head->nb];
	memset(p, 0, sizeof(*p));
	return p;
}

static int parse_llong(const char *s, size_t len, long long *out)
{
	char tmp[32];
	char *end;

	if (!len || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	return (*end || errno) ? -1 : 0;
}

/* "12", "10:20", ":20", "10:" */
static int parse_range(const char *text, struct pattern *p, char *err, size_t errlen)
{
	const char *colon = strchr(text, ':');

	if (!colon) {
		if (parse_llong(text, strlen(text), &p->v.range.min) < 0)
			goto bad;
		p->v.range.max = p->v.range.min;
		p->v.range.has_min = p->v.range.has_max = 1;
		return 0;
	}
	if (colon > text) {
		if (parse_llong(text, (size_t)(colon - text), &p->v.range.min) < 0)
			goto bad;
		p->v.range.has_min = 1;
	}
	if (colon[1]) {
		if (parse_llong(colon + 1, strlen(colon + 1), &p->v.range.max) < 0)
			goto bad;
		p->v.range.has_max = 1;
	}
	if (!p->v.range.has_min && !p->v.range.has_max)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not a number or a range (e.g. 10, 10:20, :20, 10:)", text);
	return -1;
}

static int parse_ip(const char *text, struct pattern *p, char *err, size_t errlen)
{
	struct netmask nm;

	if (netmask_parse(text, &nm, err, errlen) < 0)
		return -1;
	p->v.ip.family = nm.family;
	memcpy(p->v.ip.addr, nm.addr, sizeof(nm.addr));
	memcpy(p->v.ip.mask, nm.mask, sizeof(nm.mask));
	return 0;
}

int pattern_add(struct pattern_head *head, const char *text, unsigned flags, char *err, size_t errlen)
{
	struct pattern *p = new_pattern(head);

	p->flags = flags;
	p->text = cfg_strdup(text);
	switch (head->match) {
	case PAT_MATCH_FOUND:
	case PAT_MATCH_BOOL:
		snprintf(err, errlen, "'-m %s' takes no pattern (got '%s')", match_names[head->match], text);
		return -1;
	case PAT_MATCH_INT:
	case PAT_MATCH_LEN:
		if (parse_range(text, p, err, errlen) < 0)
			return -1;
		break;
	case PAT_MATCH_IP:
		if (parse_ip(text, p, err, errlen) < 0)
			return -1;
		break;
	case PAT_MATCH_REG:
		p->v.reg = regex_compile(text, flags & PAT_F_ICASE, err, errlen);
		if (!p->v.reg)
			return -1;
		break;
	case PAT_MATCH_BIN: {
		size_t l = strlen(text);
		if (l % 2) {
			snprintf(err, errlen, "'%s' is not an even number of hexadecimal digits", text);
			return -1;
		}
		char *bin = cfg_alloc(l / 2 + 1);
		for (size_t i = 0; i < l; i += 2) {
			unsigned v;
			if (!isxdigit((unsigned char)text[i]) || !isxdigit((unsigned char)text[i + 1]) ||
			    sscanf(text + i, "%2x", &v) != 1) {
				snprintf(err, errlen, "'%s' is not hexadecimal", text);
				return -1;
			}
			bin[i / 2] = (char)v;
		}
		p->v.str.ptr = bin;
		p->v.str.len = l / 2;
		break;
	}
	default:
		p->v.str.ptr = p->text;
		p->v.str.len = strlen(text);
		break;
	}
	head->nb++;
	return 0;
}

int pattern_add_int_op(struct pattern_head *head, const char *op, const char *value,
                       char *err, size_t errlen)
{
	struct pattern *p = new_pattern(head);
	long long v;

	if (parse_llong(value, strlen(value), &v) < 0) {
		snprintf(err, errlen, "'%s %s': '%s' is not a number", op, value, value);
		return -1;
	}
	p->text = cfg_strdup(value);
	if (strcmp(op, "eq") == 0) {
		p->v.range.min = p->v.range.max = v;
		p->v.range.has_min = p->v.range.has_max = 1;
	} else if (strcmp(op, "ge") == 0) {
		p->v.range.min = v;
		p->v.range.has_min = 1;
	} else if (strcmp(op, "gt") == 0) {
		p->v.range.min = v + 1;
		p->v.range.has_min = 1;
	} else if (strcmp(op, "le") == 0) {
		p->v.range.max = v;
		p->v.range.has_max = 1;
	} else if (strcmp(op, "lt") == 0) {
		p->v.range.max = v - 1;
		p->v.range.has_max = 1;
	} else {
		snprintf(err, errlen, "unknown operator '%s' (expected eq, ge, gt, le or lt)", op);
		return -1;
	}
	head->nb++;
	return 0;
}

int pattern_load_file(struct pattern_head *head, const char *path, unsigned flags, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[4096], perr[512];
	int ln = 0;

	if (!f) {
		snprintf(err, errlen, "failed to open pattern file '%s': %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		ln++;
		char *p = line;
		size_t l = strlen(p);
		while (l && (p[l - 1] == '\n' || p[l - 1] == '\r'))
			p[--l] = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (pattern_add(head, p, flags, perr, sizeof(perr)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, ln, perr);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/*------------------------------------------------------------------------
 * Matching
 */
static inline int mem_eq(const char *a, size_t al, const char *b, size_t bl, int icase)
{
	if (al != bl)
		return 0;
	return icase ? mem_ieq(a, b, al) : memcmp(a, b, al) == 0;
}

static inline int mem_find(const char *hay, size_t hl, const char *needle, size_t nl, int icase)
{
	if (nl > hl)
		return 0;
	for (size_t i = 0; i + nl <= hl; i++)
		if (mem_eq(hay + i, nl, needle, nl, icase))
			return 1;
	return 0;
}

/* dir: <pat> is one '/'-delimited component; dom: one '.'-delimited one
 * (HAProxy's delimiters: '/', '?' for dir; '/', '?', '.', ':' for dom). */
static int match_delim(const char *s, size_t sl, const char *pat, size_t pl, int icase, int dom)
{
	/* skip delimiters the pattern itself starts/ends with */
	while (pl && (pat[0] == '/' || (dom && pat[0] == '.')))
		pat++, pl--;
	while (pl && (pat[pl - 1] == '/' || (dom && pat[pl - 1] == '.')))
		pl--;
	if (!pl)
		return 0;
	for (size_t i = 0; i + pl <= sl; i++) {
		int before_ok = i == 0 || s[i - 1] == '/' || s[i - 1] == '?' ||
		                (dom && (s[i - 1] == '.' || s[i - 1] == ':'));
		if (!before_ok || !mem_eq(s + i, pl, pat, pl, icase))
			continue;
		size_t e = i + pl;
		if (e == sl || s[e] == '/' || s[e] == '?' || (dom && (s[e] == '.' || s[e] == ':')))
			return 1;
	}
	return 0;
}

static inline int match_one(enum pat_match m, const struct pattern *p, const struct sample *smp)
{
	int icase = p->flags & PAT_F_ICASE;
	const char *s = smp->data.str.ptr;
	size_t sl = smp->data.str.len;

	switch (m) {
	case PAT_MATCH_INT: {
		long long v = smp->data.sint;
		return (!p->v.range.has_min || v >= p->v.range.min) && (!p->v.range.has_max || v <= p->v.range.max);
	}
	case PAT_MATCH_LEN: {
		long long v = (long long)sl;
		return (!p->v.range.has_min || v >= p->v.range.min) && (!p->v.range.has_max || v <= p->v.range.max);
	}
	case PAT_MATCH_STR:
	case PAT_MATCH_BIN:
		return mem_eq(s, sl, p->v.str.ptr, p->v.str.len, icase);
	case PAT_MATCH_BEG:
		return sl >= p->v.str.len && mem_eq(s, p->v.str.len, p->v.str.ptr, p->v.str.len, icase);
	case PAT_MATCH_END:
		return sl >= p->v.str.len && mem_eq(s + sl - p->v.str.len, p->v.str.len, p->v.str.ptr,
		                                   p->v.str.len, icase);
	case PAT_MATCH_SUB:
		return mem_find(s, sl, p->v.str.ptr, p->v.str.len, icase);
	case PAT_MATCH_DIR:
		return match_delim(s, sl, p->v.str.ptr, p->v.str.len, icase, 0);
	case PAT_MATCH_DOM:
		return match_delim(s, sl, p->v.str.ptr, p->v.str.len, icase, 1);
	case PAT_MATCH_REG:
		return regex_exec(p->v.reg, s, sl);
	case PAT_MATCH_IP: {
		const unsigned char *a;
		int n;
		unsigned char mapped[16];
		if (smp->type == SMP_T_IPV4) {
			a = (const unsigned char *)&smp->data.ipv4;
			n = 4;
			if (p->v.ip.family == AF_INET6) {
				memset(mapped, 0, 10);
				mapped[10] = mapped[11] = 0xff;
				memcpy(mapped + 12, a, 4);
				a = mapped;
				n = 16;
			}
		} else {
			a = (const unsigned char *)&smp->data.ipv6;
			n = 16;
			if (p->v.ip.family == AF_INET) {
				if (!IN6_IS_ADDR_V4MAPPED(&smp->data.ipv6))
					return 0;
				a += 12;
				n = 4;
			}
		}
		for (int i = 0; i < n; i++)
			if ((a[i] & p->v.ip.mask[i]) != p->v.ip.addr[i])
				return 0;
		return 1;
	}
	default:
		return 0;
	}
}

int pattern_exec(const struct pattern_head *head, struct sample *smp)
{
	const struct pattern *p = head->pats, *end = head->pats + head->nb;

	switch (head->match) {
	case PAT_MATCH_FOUND:
		return 1;
	case PAT_MATCH_BOOL:
		return sample_cast(smp, SMP_T_BOOL) && smp->data.sint != 0;
	case PAT_MATCH_INT:
		if (!sample_cast(smp, SMP_T_SINT))
			return 0;
		break;
	case PAT_MATCH_IP:
		if (!sample_cast(smp, SMP_T_ADDR))
			return 0;
		break;
	case PAT_MATCH_BIN:
		if (!sample_cast(smp, SMP_T_BIN))
			return 0;
		break;
	default:
		if (!sample_cast(smp, SMP_T_STR))
			return 0;
		break;
	}

	/* one loop per method: the common string methods inline */
	const char *s = smp->data.str.ptr;
	size_t sl = smp->data.str.len;
	switch (head->match) {
	case PAT_MATCH_STR:
		for (; p < end; p++)
			if (mem_eq(s, sl, p->v.str.ptr, p->v.str.len, p->flags & PAT_F_ICASE))
				return 1;
		return 0;
	case PAT_MATCH_BEG:
		for (; p < end; p++)
			if (sl >= p->v.str.len && mem_eq(s, p->v.str.len, p->v.str.ptr, p->v.str.len, p->flags & PAT_F_ICASE))
				return 1;
		return 0;
	case PAT_MATCH_END:
		for (; p < end; p++)
			if (sl >= p->v.str.len && mem_eq(s + sl - p->v.str.len, p->v.str.len, p->v.str.ptr, p->v.str.len,
			                                 p->flags & PAT_F_ICASE))
				return 1;
		return 0;
	default:
		for (; p < end; p++)
			if (match_one(head->match, p, smp))
				return 1;
		return 0;
	}
}
