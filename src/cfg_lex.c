/* Configuration line splitting, exactly as HAProxy 2.6 reads a line.
 *
 * One pass over the text, copying the words one after the other into a
 * single store, each terminated by a NUL: the store has the same layout as
 * HAProxy's output buffer, which matters because one of its messages ("too
 * many words ... position N") counts positions in it. Errors that make the
 * rest of the line meaningless (bad escape, bad variable) stop at once; an
 * unclosed quote and too many words are only known at the end.
 *
 * Known quirks kept on purpose because HAProxy has them:
 *  - an empty word is kept, except as the last word of the line, so
 *    `a ""` has one word and `"" a` has two;
 *  - the 65th word is counted as soon as its separator is seen, so 64 words
 *    followed by a space or a comment are already "too many";
 *  - a run of separators swallows CR and LF, so `a \r b` has two words while
 *    `a\r b` has one.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/cfg_lex.h>
#include <proxyd/compiler.h>

#include "cfg_lex_int.h"

static const char *const lex_reasons[] = {
	[LEX_OK]      = "no error",
	[LEX_QUOTE]   = "unmatched quote",
	[LEX_BRACE]   = "unmatched brace in environment variable name",
	[LEX_VARNAME] = "forbidden first char in environment variable name",
	[LEX_HEX]     = "truncated or invalid hexadecimal sequence",
	[LEX_EXPAND]  = "truncated or invalid word expansion sequence",
	[LEX_TOOMANY] = "too many words",
};

const char *lex_reason(enum lex_err e)
{
	return lex_reasons[e];
}

/* isspace() in the C locale, spelled out so that the locale never matters. */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_val(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

struct lexer {
	struct cfg_line *out;
	size_t len;                          /* bytes used in out->store */
	size_t starts[CFG_MAX_LINE_ARGS];    /* offset of each word in the store */
	int arg;                             /* index of the word being written */
	int toomany;
};

static void emit(struct lexer *lx, char c)
{
	struct cfg_line *out = lx->out;

	if (lx->len + 1 > out->store_size) {
		size_t nsize = out->store_size ? out->store_size * 2 : 256;
		char *n = realloc(out->store, nsize);

		if (!n)
			abort();   /* configuration time: nothing sensible to do */
		out->store = n;
		out->store_size = nsize;
	}
	out->store[lx->len++] = c;
}

/* Ends the current word and starts the next one. Past the last slot the
 * words are still written, only not recorded, like HAProxy does, so that
 * later errors on the line are found and positions stay comparable. */
static void next_word(struct lexer *lx)
{
	emit(lx, 0);
	lx->arg++;
	if (lx->arg < CFG_MAX_LINE_ARGS)
		lx->starts[lx->arg] = lx->len;
	else
		lx->toomany = 1;
}

/* Returns the value of variable <name> (<len> bytes, not NUL-terminated):
 * the environment, or for a name starting with '.', one of the parser's
 * pseudo-variables, all unset without <src>. NULL when unset. *bad is set
 * for an unknown pseudo-variable. <num> receives the text of .LINE. */
static const char *var_value(const char *name, size_t len, const struct cfg_src *src,
                             char *num, size_t numlen, int *bad)
{
	const char *value = NULL;
	char *copy;

	*bad = 0;
	if (*name == '.') {
		if (len == 5 && memcmp(name, ".LINE", 5) == 0) {
			if (!src)
				return NULL;
			snprintf(num, numlen, "%d", src->line);
			return num;
		}
		if (len == 5 && memcmp(name, ".FILE", 5) == 0)
			return src ? src->file : NULL;
		if (len == 8 && memcmp(name, ".SECTION", 8) == 0)
			return src ? src->section : NULL;
		*bad = 1;
		return NULL;
	}
	copy = strndup(name, len);
	if (!copy)
		abort();
	value = getenv(copy);
	free(copy);
	return value;
}

/* Writes the <vlen> bytes of a variable's value (or default); with
 * <expand>, each run of blanks in it ends a word instead. */
static void emit_value(struct lexer *lx, const char *value, size_t vlen, int expand)
{
	size_t i = 0;

	while (i < vlen) {
		if (expand && is_space(value[i])) {
			next_word(lx);
			while (i < vlen && is_space(value[i]))
				i++;
		} else {
			emit(lx, value[i++]);
		}
	}
}

/* Handles "$NAME", "${NAME}", "${NAME-default}" and "${NAME[*]}" at <*pin>
 * (on the '$'), inside double quotes. Returns LEX_OK with *pin after the
 * reference, or an error with *errp on the offending character. */
static enum lex_err expand_var(struct lexer *lx, const char **pin, const struct cfg_src *src,
                               const char **errp)
{
	const char *in = *pin + 1, *brace = NULL, *name, *value, *def = NULL;
	size_t namelen, deflen = 0;
	char num[24];
	int expand = 0, bad;

	if (*in == '{')
		brace = in++;
	if (!isalpha((unsigned char)*in) && *in != '_' && *in != '.') {
		*errp = in;
		return LEX_VARNAME;
	}
	name = in;
	if (*in == '.')
		in++;
	while (isalnum((unsigned char)*in) || *in == '_')
		in++;
	namelen = (size_t)(in - name);

	value = var_value(name, namelen, src, num, sizeof(num), &bad);
	if (bad) {
		*errp = name;
		return LEX_VARNAME;
	}

	/* "[*]" asks for word splitting, and only makes sense within braces */
	if (brace && *in == '[') {
		if (in[1] != '*' || in[2] != ']') {
			*errp = in;
			return LEX_EXPAND;
		}
		expand = 1;
		in += 3;
	}

	if (brace) {
		if (*in == '-') {
			/* the default is taken verbatim, up to the closing brace */
			def = ++in;
			while (*in && *in != '}')
				in++;
			deflen = (size_t)(in - def);
		}
		if (*in != '}') {
			*errp = brace;
			return LEX_BRACE;
		}
		in++;
	}

	if (value)
		emit_value(lx, value, strlen(value), expand);
	else if (def)
		emit_value(lx, def, deflen, expand);
	*pin = in;
	return LEX_OK;
}

/* Handles a backslash at <*pin> outside single quotes. Returns LEX_OK with
 * *pin after the sequence, or LEX_HEX with *errp on the backslash. */
static enum lex_err escape(struct lexer *lx, const char **pin, int flags, int dquote,
                           const char **errp)
{
	const char *in = *pin;
	char out = '\\';

	switch (in[1]) {
	case ' ':
	case '\\':
	case '\'':
	case '"':
		out = *++in;
		break;
	case 't':
		out = '\t';
		in++;
		break;
	case 'n':
		out = '\n';
		in++;
		break;
	case 'r':
		out = '\r';
		in++;
		break;
	case '#':
		/* only an escape where '#' would start a comment */
		if (flags & LEX_COMMENTS)
			out = *++in;
		break;
	case '$':
		/* only an escape where '$' would start a variable */
		if (dquote)
			out = *++in;
		break;
	case 'x':
		if (!is_hex(in[2]) || !is_hex(in[3])) {
			*errp = in;
			return LEX_HEX;
		}
		out = (char)(hex_val(in[2]) << 4 | hex_val(in[3]));
		in += 3;
		break;
	default:
		/* not an escape sequence: the backslash stays */
		break;
	}
	emit(lx, out);
	*pin = in + 1;
	return LEX_OK;
}

/* Splits <text> into <out>, see cfg_lex_int.h. */
enum lex_err lex_split(struct cfg_line *out, const char *text, int flags,
                       const struct cfg_src *src, size_t *errpos, size_t *used)
{
	struct lexer lx = { .out = out };
	const char *in = text, *quote = NULL, *errp = NULL;
	int squote = 0, dquote = 0, i;
	enum lex_err err = LEX_OK;

	out->argc = 0;
	out->argv[0] = NULL;
	if (!(flags & LEX_KEEP_LEADING))
		while (is_space(*in))
			in++;

	for (;;) {
		char c = *in;

		if (c == '\0' || c == '\n' || c == '\r')
			break;
		if (c == '#' && (flags & LEX_COMMENTS) && !squote && !dquote)
			break;

		if (c == '"' && !squote) {
			dquote = !dquote;
			quote = dquote ? in : NULL;
			in++;
		} else if (c == '\'' && !dquote) {
			squote = !squote;
			quote = squote ? in : NULL;
			in++;
		} else if (c == '\\' && !squote) {
			err = escape(&lx, &in, flags, dquote, &errp);
			if (err)
				goto fail;
		} else if (is_space(c) && !squote && !dquote) {
			while (is_space(*in))
				in++;
			next_word(&lx);
		} else if (c == '$' && dquote) {
			err = expand_var(&lx, &in, src, &errp);
			if (err)
				goto fail;
		} else {
			emit(&lx, c);
			in++;
		}
	}
	emit(&lx, 0);

	/* the last word only counts if it is not empty */
	if (lx.arg < CFG_MAX_LINE_ARGS && out->store[lx.starts[lx.arg]])
		lx.arg++;

	if (quote) {
		errp = quote;
		err = LEX_QUOTE;
		goto fail;
	}
	if (lx.toomany) {
		/* report the last word kept, by its place in the store */
		if (errpos)
			*errpos = lx.starts[CFG_MAX_LINE_ARGS - 1];
		return LEX_TOOMANY;
	}

	out->argc = lx.arg;
	for (i = 0; i < lx.arg; i++)
		out->argv[i] = out->store + lx.starts[i];
	out->argv[lx.arg] = NULL;
	if (used)
		*used = lx.len;
	return LEX_OK;

fail:
	if (errpos)
		*errpos = (size_t)(errp - text);
	return err;
}

/* Splits one configuration line into words with HAProxy's rules (see the
 * top of this file and cfg_lex.h). Leading blanks are ignored; <src> feeds
 * the pseudo-variables .FILE, .LINE and .SECTION and may be NULL (they are
 * then unset). Returns the number of words, 0 for a blank or comment-only
 * line, or -1 with the reason in <err> (positions count from 1 at the first
 * character of <text>). <out> must be zeroed before its first use.
 */
int cfg_split_line(struct cfg_line *out, const char *text, const struct cfg_src *src,
                   char *err, size_t errlen)
{
	enum lex_err e;
	size_t pos = 0;

	e = lex_split(out, text, LEX_COMMENTS, src, &pos, NULL);
	if (e == LEX_OK)
		return out->argc;

	if (err && errlen) {
		if (e == LEX_TOOMANY)
			snprintf(err, errlen, "too many words, truncating after word %d, position %zu: <%s>",
			         CFG_MAX_LINE_ARGS, pos + 1, out->store + pos);
		else
			snprintf(err, errlen, "%s at position %zu", lex_reason(e), pos + 1);
	}
	return -1;
}

/* See cfg_lex_int.h. */
char *lex_join_from(const struct cfg_line *l, size_t used, int first)
{
	size_t end = used ? used - 1 : 0;   /* the NUL ending the last word */
	size_t start, i;
	char *s;

	if (first == 0)
		start = 0;
	else if (first < l->argc)
		start = (size_t)(l->argv[first] - l->store);
	else if (first == l->argc)
		/* where an uncounted empty last word would begin */
		start = (size_t)(l->argv[first - 1] - l->store) + strlen(l->argv[first - 1]) + 1;
	else
		start = end;
	if (start > end)
		start = end;

	s = malloc(end - start + 1);
	if (!s)
		abort();
	for (i = start; i < end; i++)
		s[i - start] = l->store[i] ? l->store[i] : ' ';
	s[end - start] = 0;
	return s;
}

/* Releases the storage of <l> and leaves it empty and reusable. */
void cfg_line_free(struct cfg_line *l)
{
	free(l->store);
	memset(l, 0, sizeof(*l));
}

/* Evaluates the argument of "proxyd -cc" as HAProxy's -cc does: the text is
 * split like a configuration line except that '#' is an ordinary character
 * and leading blanks make an empty first word, then the words are joined
 * with spaces and evaluated. Returns 1, 0, or -1 with the whole message in
 * <err>, meant for ha_alert("config : %s", err).
 *
 * HAProxy 2.6 answers "Unhandled error in condition, please report this to
 * the developers." for a bad variable reference; the reason is given here
 * instead, in the shape of its other syntax errors.
 */
int cfg_eval_cond_text(const char *text, char *err, size_t errlen)
{
	static const struct cfg_src none = { NULL, 0, NULL };
	struct cfg_line l = { 0 };
	enum lex_err e;
	size_t pos = 0, used = 0;
	int ret = -1;

	e = lex_split(&l, text, LEX_KEEP_LEADING, &none, &pos, &used);
	switch (e) {
	case LEX_OK: {
		char *expr = lex_join_from(&l, used, 0);
		size_t len = strlen(expr) * 2 + 256;
		char *msg = malloc(len);

		if (!msg)
			abort();
		ret = cfg_eval_cond_expr(expr, msg, len, NULL);
		if (ret < 0)
			snprintf(err, errlen, "Failed to evaluate condition: %s", msg);
		free(msg);
		free(expr);
		break;
	}
	case LEX_QUOTE:
		snprintf(err, errlen, "Syntax Error in condition: Unmatched quote.");
		break;
	case LEX_HEX:
		snprintf(err, errlen, "Syntax Error in condition: Truncated or invalid hexadecimal sequence.");
		break;
	case LEX_TOOMANY:
		snprintf(err, errlen, "Error in condition: Too many words.");
		break;
	default:
		snprintf(err, errlen, "Syntax Error in condition: %s at position %zu.",
		         lex_reason(e), pos + 1);
		break;
	}
	cfg_line_free(&l);
	return ret;
}
