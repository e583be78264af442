/* Conditions of .if/.elif blocks and "proxyd -cc", as HAProxy 2.6 reads them.
 *
 * Grammar (spaces and tabs allowed between tokens):
 *   expr := and [ "||" expr ]
 *   and  := term [ "&&" and ]
 *   term := "!"* ( number | "(" expr ")" | predicate [ "(" args ")" ] )
 * A number is anything strtol() reads in base 0 (so "0x10" and "-1" are
 * true, "00" false). Predicates take comma-separated string arguments
 * where quotes and a few backslash escapes are understood once more.
 *
 * The whole expression is parsed before its value counts, so a syntax error
 * after a deciding "||" is still an error, as in HAProxy. Since predicates
 * have no side effects, the value is computed while parsing; no tree is
 * built. The recursion budget and the way it is spent, the error messages
 * and the position they designate all follow HAProxy so that both programs
 * reject the same conditions with the same words.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/cfg_lex.h>
#include <proxyd/compiler.h>
#include <proxyd/version.h>

/* HAProxy's recursion budget; every level of parenthesis costs three. */
#define COND_MAX_RECURSION 1024

enum pred_id {
	PRED_DEFINED = 0,
	PRED_FEATURE,
	PRED_STREQ,
	PRED_STRNEQ,
	PRED_VERSION_ATLEAST,
	PRED_VERSION_BEFORE,
};

static const struct {
	const char *name;
	enum pred_id id;
	int nargs;          /* all mandatory, all strings */
} preds[] = {
	{ "defined",         PRED_DEFINED,         1 },
	{ "feature",         PRED_FEATURE,         1 },
	{ "streq",           PRED_STREQ,           2 },
	{ "strneq",          PRED_STRNEQ,          2 },
	{ "version_atleast", PRED_VERSION_ATLEAST, 1 },
	{ "version_before",  PRED_VERSION_BEFORE,  1 },
};

/* Parsing state: the first error wins and carries its position. */
struct cond_ctx {
	char *err;
	size_t errlen;
	const char *errptr;
	int failed;
};

static void PRINTF(3, 4) cond_fail(struct cond_ctx *c, const char *at, const char *fmt, ...)
{
	va_list ap;

	c->failed = 1;
	c->errptr = at;
	if (!c->err || !c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A growable string for predicate arguments. */
struct word {
	char *s;
	size_t len, size;
};

static void word_add(struct word *w, char ch)
{
	if (w->len + 2 > w->size) {
		size_t nsize = w->size ? w->size * 2 : 64;
		char *n = realloc(w->s, nsize);

		if (!n)
			abort();   /* configuration time: nothing sensible to do */
		w->s = n;
		w->size = nsize;
	}
	w->s[w->len++] = ch;
	w->s[w->len] = 0;
}

/* Splits a version string into its seven HAProxy fields: major, minor,
 * patch, sub-patch, tag (dev=1, rc=2, release=4), tag number and commit
 * count. Returns 0 when the string cannot be read, which the predicates
 * then treat exactly as HAProxy does (version_atleast() true,
 * version_before() false).
 */
static int split_version(const char *v, unsigned out[7])
{
	const char *p = v, *dash;
	char *end;
	int i;

	memset(out, 0, 7 * sizeof(*out));
	out[4] = 4;
	if (!*p)
		return 0;

	/* up to four dotted numbers, then an optional '-' suffix */
	for (i = 0; i < 4; i++) {
		out[i] = (unsigned)strtol(p, &end, 10);
		if (!*end)
			return 1;
		p = end + 1;
		if (*end == '-')
			break;
		if (*end != '.' || i == 3)
			return 0;
	}

	/* "-devN" / "-rcN", possibly followed by "-<commits>" */
	if (!(*p >= '0' && *p <= '9')) {
		int tag = 0;

		if (strncmp(p, "dev", 3) == 0) {
			tag = 1;
			p += 3;
		} else if (strncmp(p, "rc", 2) == 0) {
			tag = 2;
			p += 2;
		}
		if (tag) {
			out[4] = (unsigned)tag;
			out[5] = (unsigned)strtol(p, &end, 10);
			if (!*end)
				return 1;
			if (*end != '-')
				return 0;
			p = end + 1;
		}
	}

	/* the commit count is the last dash-separated field; a non-numeric
	 * one counts as zero */
	dash = strrchr(p, '-');
	if (dash) {
		p = dash + 1;
		if (!*p)
			return 0;
	}
	out[6] = (unsigned)strtol(p, &end, 10);
	if (*end)
		out[6] = 0;
	return 1;
}

/* Compares <v> with the HAProxy release we implement: -1 when <v> is older,
 * 0 same, 1 newer, -3 when <v> cannot be read. */
static int compare_version(const char *v)
{
	unsigned cur[7], arg[7];
	int i;

	if (!split_version(HAPROXY_COMPAT_VERSION, cur))
		return -2;
	if (!split_version(v, arg))
		return -3;
	for (i = 0; i < 7; i++) {
		if (arg[i] < cur[i])
			return -1;
		if (arg[i] > cur[i])
			return 1;
	}
	return 0;
}

/* feature_enabled() ignores case, but HAProxy looks the name up as written
 * in its all-capitals feature list: "openssl" is not a feature there. An
 * empty name is false (HAProxy 2.6 reads past its list there; fixed later
 * upstream to be false). */
static int feature_matches(const char *name)
{
	const char *p;

	if (!*name)
		return 0;
	for (p = name; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			return 0;
	return feature_enabled(name);
}

static int eval_pred(enum pred_id id, struct word *args)
{
	switch (id) {
	case PRED_DEFINED:
		return getenv(args[0].s) != NULL;
	case PRED_FEATURE:
		return feature_matches(args[0].s);
	case PRED_STREQ:
		return strcmp(args[0].s, args[1].s) == 0;
	case PRED_STRNEQ:
		return strcmp(args[0].s, args[1].s) != 0;
	case PRED_VERSION_ATLEAST:
		return compare_version(args[0].s) <= 0;
	case PRED_VERSION_BEFORE:
		return compare_version(args[0].s) > 0;
	}
	return 0;
}

/* Reads the argument list of predicate <pi> at <in> into <args> (one word
 * per argument), the way HAProxy reads sample-fetch arguments: an optional
 * "(...)" of comma-separated words where single and double quotes group
 * characters and a backslash escapes \, space, quotes, or makes \r \n \t.
 * Without parentheses the predicate gets one empty argument. Returns 0 with
 * *end after the list, or -1 with the error reported. */
static int parse_args(struct cond_ctx *c, int pi, const char *in, struct word *args,
                      const char **end)
{
	int nbarg = preds[pi].nargs;
	int bounded = *in == '(';   /* without '(' nothing is consumed */
	int pos = 0;

	if (bounded)
		in++;

	while (pos < nbarg) {
		struct word *w = &args[pos];
		int squote = 0, dquote = 0;

		/* an empty argument is still an argument: make it "" */
		word_add(w, 0);
		w->len = 0;
		while (bounded && *in) {
			if (*in == '"' && !squote) {
				dquote = !dquote;
				in++;
			} else if (*in == '\'' && !dquote) {
				squote = !squote;
				in++;
			} else if (*in == '\\' && !squote) {
				if (!in[1]) {
					cond_fail(c, in, "failed to parse '%s' after '%s' as type 'string' at "
					          "position %d in argument %d of predicate '%s' used in "
					          "conditional expression", in, w->s, pos + 1, pos, preds[pi].name);
					return -1;
				}
				if (strchr("\\ \"'", in[1]))
					word_add(w, *++in);
				else if (in[1] == 'r' || in[1] == 'n' || in[1] == 't')
					word_add(w, *++in == 'r' ? '\r' : *in == 'n' ? '\n' : '\t');
				else
					word_add(w, '\\');
				in++;
			} else if (!squote && !dquote && (*in == ',' || *in == ')')) {
				break;
			} else {
				word_add(w, *in++);
			}
		}
		pos++;
		if (!bounded || !*in || *in == ')' || pos >= nbarg)
			break;
		in++;   /* the comma */
	}

	if (pos < nbarg) {
		cond_fail(c, in, "missing arguments (got %d/%d), type 'string' expected in argument %d "
		          "of predicate '%s' used in conditional expression", pos, nbarg, pos,
		          preds[pi].name);
		return -1;
	}
	if (bounded) {
		if (*in != ')') {
			/* the count already includes the argument that ran into
			 * the missing parenthesis */
			int argn = pos > 1 ? pos - 1 : pos;

			if (*in)
				cond_fail(c, in, "expected ')' before '%s' in argument %d of predicate "
				          "'%s' used in conditional expression", in, argn, preds[pi].name);
			else
				cond_fail(c, in, "expected ')' in argument %d of predicate '%s' used in "
				          "conditional expression", argn, preds[pi].name);
			return -1;
		}
		in++;
	}
	*end = in;
	return 0;
}

/* Returns the index of the predicate whose name ends <in> at a space, a
 * parenthesis or the end, or -1. */
static int lookup_pred(const char *in)
{
	size_t len = strcspn(in, " (");

	for (size_t i = 0; i < ARRAY_SIZE(preds); i++)
		if (strlen(preds[i].name) == len && strncmp(in, preds[i].name, len) == 0)
			return (int)i;
	return -1;
}

static int parse_expr(struct cond_ctx *c, const char **text, int depth, int *val);

/* One term. Returns 1 with *val and *text moved past the term, 0 when
 * there is nothing left to read (nothing reported, *text unchanged), -1
 * after reporting an error. */
static int parse_term(struct cond_ctx *c, const char **text, int depth, int *val)
{
	const char *in = skip_blanks(*text);
	char *end;
	int neg = 0, pi, ret;
	long num;

	if (!*in)
		return 0;
	if (depth <= 0)
		goto unparsable;

	while (*in == '!') {
		neg = !neg;
		in = skip_blanks(in + 1);
	}

	num = strtol(in, &end, 0);
	if (end != in) {
		*val = (num != 0) ^ neg;
		*text = end;
		return 1;
	}

	if (*in == '(') {
		in = skip_blanks(in + 1);
		ret = parse_expr(c, &in, depth - 1, val);
		if (ret < 0)
			return -1;
		if (ret == 0)
			goto unparsable;
		in = skip_blanks(in);
		if (*in != ')') {
			cond_fail(c, *text, "expected ')' after conditional expression '%s'", *text);
			return -1;
		}
		*val ^= neg;
		*text = skip_blanks(in + 1);
		return 1;
	}

	pi = lookup_pred(in);
	if (pi >= 0) {
		struct word args[2] = { { 0 } };
		const char *after;

		ret = parse_args(c, pi, in + strlen(preds[pi].name), args, &after);
		if (ret == 0) {
			*val = eval_pred(preds[pi].id, args) ^ neg;
			*text = after;
		}
		free(args[0].s);
		free(args[1].s);
		return ret == 0 ? 1 : -1;
	}

unparsable:
	cond_fail(c, *text, "unparsable conditional expression '%s'", *text);
	return -1;
}

/* Terms joined by "&&", which binds tighter than "||". Same returns as
 * parse_term(). On 0 after an "&&" with nothing behind it, *text is left on
 * that "&&" so that the caller names it in its message. */
static int parse_and(struct cond_ctx *c, const char **text, int depth, int *val)
{
	const char *in = *text;
	int left, right, ret;

	if (!*in)
		return 0;
	if (depth <= 0) {
		cond_fail(c, in, "unparsable conditional sub-expression '%s'", in);
		return -1;
	}
	ret = parse_term(c, &in, depth - 1, &left);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		cond_fail(c, in, "unparsable conditional sub-expression '%s'", in);
		return -1;
	}

	in = skip_blanks(in);
	*text = in;
	*val = left;
	if (in[0] != '&' || in[1] != '&')
		return 1;

	in = skip_blanks(in + 2);
	ret = parse_and(c, &in, depth - 1, &right);
	if (ret > 0) {
		*text = in;
		*val = left && right;
	}
	return ret;
}

/* Sub-expressions joined by "||". Same returns as parse_and(). */
static int parse_expr(struct cond_ctx *c, const char **text, int depth, int *val)
{
	const char *in = *text;
	int left, right, ret;

	if (!*in)
		return 0;
	if (depth <= 0) {
		cond_fail(c, in, "unparsable conditional expression '%s'", in);
		return -1;
	}
	ret = parse_and(c, &in, depth - 1, &left);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		cond_fail(c, in, "unparsable conditional expression '%s'", in);
		return -1;
	}

	in = skip_blanks(in);
	*text = in;
	*val = left;
	if (in[0] != '|' || in[1] != '|')
		return 1;

	in = skip_blanks(in + 2);
	ret = parse_expr(c, &in, depth - 1, &right);
	if (ret > 0) {
		*text = in;
		*val = left || right;
	}
	return ret;
}

/* Evaluates the condition written in <expr> (words already joined). Returns
 * 1 (true), 0 (false, including an empty condition) or -1 with HAProxy's
 * message in <err> and, if <errpos> is not NULL, the offset in <expr> of the
 * character the message is about (for "at position N" and the caret under
 * the line).
 */
int cfg_eval_cond_expr(const char *expr, char *err, size_t errlen, size_t *errpos)
{
	struct cond_ctx c = { .err = err, .errlen = errlen };
	const char *text = expr;
	int val = 0, ret;

	if (err && errlen)
		err[0] = 0;
	if (!*expr)
		return 0;

	ret = parse_expr(&c, &text, COND_MAX_RECURSION, &val);
	if (ret > 0) {
		text = skip_blanks(text);
		if (!*text)
			return val;
		cond_fail(&c, text, "unexpected character '%c' at the end of conditional expression '%s'",
		          *text, expr);
	} else if (ret == 0) {
		cond_fail(&c, text, "unparsable conditional expression '%s'", expr);
	}
	if (errpos)
		*errpos = (size_t)(c.errptr - expr);
	return -1;
}

/* Joins args[0..nargs) with single spaces, as HAProxy rebuilds the text of
 * a .if line from its words, and evaluates it (see cfg_eval_cond_expr()).
 */
int cfg_eval_cond(char *const *args, int nargs, char *err, size_t errlen)
{
	size_t len = 1;
	char *expr, *p;
	int i, ret;

	for (i = 0; i < nargs; i++)
		len += strlen(args[i]) + 1;
	expr = malloc(len);
	if (!expr)
		abort();
	p = expr;
	for (i = 0; i < nargs; i++) {
		size_t l = strlen(args[i]);

		if (i)
			*p++ = ' ';
		memcpy(p, args[i], l);
		p += l;
	}
	*p = 0;
	ret = cfg_eval_cond_expr(expr, err, errlen, NULL);
	free(expr);
	return ret;
}
