/* Statement reader: lines in, applicable statements out.
 *
 * Everything a configuration file contains besides statements for the
 * section parser is handled here the way HAProxy 2.6's file reader does:
 * "[scope]" lines, the .if/.elif/.else/.endif blocks, the .diag, .notice,
 * .warning and .alert directives, and the reporting of lexical errors with
 * the offending line and a caret under the faulty character.
 *
 * Every line is split before its block is known to apply, so lexical errors
 * are reported in skipped blocks too, as HAProxy does; the directives and
 * conditions of a skipped block are not evaluated.
 *
 * Where HAProxy stops reading the file after an error (a lone .endif, a
 * bad condition, an unknown directive...), the reader reports it and goes
 * on, so that one run shows every mistake; it only stops after .alert,
 * whose purpose is to stop. A bad .if is then treated as a block whose
 * branches are all false.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/cfg_lex.h>
#include <proxyd/compiler.h>
#include <proxyd/diag.h>

#include "cfg_lex_int.h"

/* State bits of one .if level in r->cond[] */
#define COND_ACTIVE  0x01   /* the lines of the current branch apply */
#define COND_TAKEN   0x02   /* no later .elif/.else branch may apply */
#define COND_ELSE    0x04   /* the .else of this level was met */

/* Width HAProxy gives to a line quoted under an error message. */
#define SHOW_WIDTH   80

/* Prints an error about the current line, in HAProxy's shape, and counts
 * it. Always returns -1, the value cfg_reader_next() passes on. */
static int PRINTF(2, 3) rd_error(struct cfg_reader *r, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	ha_alert("config : parsing [%s:%d]: %s", r->src.file, r->src.line, msg ? msg : fmt);
	free(msg);
	r->errors++;
	return -1;
}

/* Copies into <out> (at least width + 1 bytes) what fits of <line> around
 * offset <pos> in <width> columns, blanks shown as spaces and other
 * unprintable bytes as '?'. When <pos> would not show, the text is shifted
 * to put it in the middle, with "..." at both ends, as HAProxy does.
 * Returns the column of <pos> in <out>.
 */
static size_t sanitize(char *out, const char *line, size_t pos, size_t width)
{
	const char *in = line;
	size_t n = 0, limit = width, shift = 0;

	if (pos >= width) {
		shift = pos - width / 2;
		in = line + shift + 3;
		memcpy(out, "...", 3);
		n = 3;
		limit = width - 3;
	}
	for (; n < limit && *in; in++) {
		unsigned char c = (unsigned char)*in;

		out[n++] = isspace(c) ? ' ' : isprint(c) ? (char)c : '?';
	}
	if (shift) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = 0;
	return pos - shift;
}

/* Reads the next line into r->buf without its LF. Returns 0, or -1 at the
 * end of the input. */
static int read_line(struct cfg_reader *r)
{
	ssize_t len;

	if (r->f) {
		len = getline(&r->buf, &r->bufsize, r->f);
		if (len < 0)
			return -1;
	} else if (r->mem_pos && *r->mem_pos) {
		const char *nl = strchr(r->mem_pos, '\n');

		len = nl ? nl + 1 - r->mem_pos : (ssize_t)strlen(r->mem_pos);
		if ((size_t)len + 1 > r->bufsize) {
			char *n = realloc(r->buf, (size_t)len + 1);

			if (!n)
				abort();
			r->buf = n;
			r->bufsize = (size_t)len + 1;
		}
		memcpy(r->buf, r->mem_pos, (size_t)len);
		r->buf[len] = 0;
		r->mem_pos += len;
	} else {
		return -1;
	}
	if (len > 0 && r->buf[len - 1] == '\n')
		r->buf[len - 1] = 0;
	return 0;
}

/* Stops reading: nothing more is returned after this. */
static void stop(struct cfg_reader *r)
{
	if (r->f)
		fclose(r->f);
	r->f = NULL;
	r->mem = r->mem_pos = NULL;
}

/* Only letters, digits, '.', '_', '-' and ':' may make a scope name. */
static int scope_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == ':';
}

/* Checks a "[name]" scope line (<line> is on the '['). HAProxy 2.6 records
 * the name for its own messages; nothing here depends on it, so a valid
 * scope is simply accepted. These messages have a space before the colon,
 * like HAProxy's. Returns 0 or -1. */
static int check_scope(struct cfg_reader *r, const char *line)
{
	const char *beg = line + 1, *end = strchr(beg, ']'), *p;
	const char *fmt = NULL;
	char bad = 0, msg[128];

	if (!end || end == beg) {
		fmt = "empty scope name is forbidden.";
	} else {
		for (p = beg; p < end && scope_char_ok(*p); p++)
			;
		if (p < end) {
			bad = *p;
			fmt = "character '%c' is not permitted in a scope name.";
		} else {
			for (p = end + 1; isspace((unsigned char)*p); p++)
				;
			if (*p && *p != '#') {
				bad = *p;
				fmt = "character '%c' is not permitted after scope declaration.";
			}
		}
	}
	if (!fmt)
		return 0;

	snprintf(msg, sizeof(msg), fmt, bad);
	ha_alert("config : parsing [%s:%d] : %s", r->src.file, r->src.line, msg);
	r->errors++;
	return -1;
}

/* Reports lexical error <e> on <raw> (the whole line), <lead> being the
 * number of leading blanks that the displayed line leaves out. */
static int report_lex_error(struct cfg_reader *r, enum lex_err e, const char *raw, size_t lead,
                            size_t errpos)
{
	char shown[SHOW_WIDTH + 1];
	size_t col;

	if (e == LEX_TOOMANY)
		return rd_error(r, "too many words, truncating after word %d, position %zu: <%s>.",
		                CFG_MAX_LINE_ARGS, errpos + 1, r->words.store + errpos);

	col = sanitize(shown, raw + lead, errpos - lead, SHOW_WIDTH);
	return rd_error(r, "%s at position %zu:\n  %s\n  %*s", lex_reason(e), errpos + 1,
	                shown, (int)col + 1, "^");
}

/* Lines apply when every enclosing level is in an active branch. Levels
 * deeper than the table (after a nesting error) never apply. */
static int is_live(const struct cfg_reader *r)
{
	if (!r->depth)
		return 1;
	if (r->depth > CFG_MAX_NESTING)
		return 0;
	return r->cond[r->depth - 1] & COND_ACTIVE;
}

/* Evaluates the condition of the current .if/.elif line (<dir>), written
 * from its second word to the end of the line. Returns 1, 0, or -1 after
 * reporting the error the way HAProxy shows it. */
static int eval_line_cond(struct cfg_reader *r, const char *dir, size_t used)
{
	char *expr = lex_join_from(&r->words, used, 1);
	size_t dlen = strlen(dir) + 1, len = strlen(expr) * 2 + 256, errpos = 0, col;
	char *msg = malloc(len), shown[SHOW_WIDTH + 1];
	int ret;

	if (!msg)
		abort();
	ret = cfg_eval_cond_expr(expr, msg, len, &errpos);
	if (ret < 0) {
		col = sanitize(shown, expr, errpos, SHOW_WIDTH - dlen);
		rd_error(r, "%s in '%s' at position %zu:\n  %s %s\n  %*s", msg, dir, errpos + 1,
		         dir, shown, (int)(col + 1 + dlen), "^");
	}
	free(msg);
	free(expr);
	return ret;
}

static int do_if(struct cfg_reader *r, size_t used)
{
	int live = is_live(r), lvl, v;

	if (r->depth >= CFG_MAX_NESTING) {
		/* the level exists, beyond the table, so that its .endif
		 * still matches; it never applies */
		r->depth++;
		return rd_error(r, "too many nested '.if', max is %d.", CFG_MAX_NESTING);
	}
	lvl = r->depth++;
	r->cond_line[lvl] = r->src.line;
	r->cond[lvl] = COND_TAKEN;
	if (!live)
		return 0;
	v = eval_line_cond(r, ".if", used);
	if (v < 0)
		return -1;
	if (v)
		r->cond[lvl] = COND_ACTIVE | COND_TAKEN;
	else
		r->cond[lvl] = 0;
	return 0;
}

static int do_elif(struct cfg_reader *r, size_t used)
{
	unsigned char *c;
	int v;

	if (!r->depth)
		return rd_error(r, "lone '.elif' with no matching '.if'.");
	if (r->depth > CFG_MAX_NESTING)
		return 0;
	c = &r->cond[r->depth - 1];
	if (*c & COND_ELSE)
		return rd_error(r, "'.elif' after '.else' is not permitted.");
	if (*c & COND_TAKEN) {
		*c &= ~COND_ACTIVE;
		return 0;
	}
	v = eval_line_cond(r, ".elif", used);
	if (v < 0) {
		*c |= COND_TAKEN;
		return -1;
	}
	if (v)
		*c |= COND_ACTIVE | COND_TAKEN;
	return 0;
}

/* .else and .endif take no argument. HAProxy stops at such a line; here the
 * directive still applies after the error so that the blocks stay paired. */
static int check_no_arg(struct cfg_reader *r)
{
	if (r->words.argc > 1 && r->words.argv[1][0])
		return rd_error(r, "Unexpected argument '%s' for '%s'.", r->words.argv[1], r->words.argv[0]);
	return 0;
}

static int do_else(struct cfg_reader *r)
{
	int ret = check_no_arg(r);
	unsigned char *c;

	if (!r->depth)
		return ret ? ret : rd_error(r, "lone '.else' with no matching '.if'.");
	if (r->depth > CFG_MAX_NESTING)
		return ret;
	c = &r->cond[r->depth - 1];
	if (*c & COND_ELSE)
		return ret ? ret : rd_error(r, "'.else' after '.else' is not permitted.");
	*c |= COND_ELSE;
	if (*c & COND_TAKEN)
		*c &= ~COND_ACTIVE;
	else
		*c |= COND_ACTIVE | COND_TAKEN;
	return ret;
}

static int do_endif(struct cfg_reader *r)
{
	int ret = check_no_arg(r);

	if (!r->depth)
		return ret ? ret : rd_error(r, "lone '.endif' with no matching '.if'.");
	r->depth--;
	return ret;
}

/* .diag, .notice, .warning and .alert print their single argument. After
 * .alert the configuration is invalid and nothing more is read. Returns 0,
 * -1, or 1 when the directive is not one of these. */
static int do_message(struct cfg_reader *r)
{
	static const struct {
		const char *name;
		enum diag_level lvl;
	} dirs[] = {
		{ ".diag", DIAG_DIAG },
		{ ".notice", DIAG_NOTICE },
		{ ".warning", DIAG_WARNING },
		{ ".alert", DIAG_ALERT },
	};
	struct cfg_line *w = &r->words;
	const char *text;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		if (strcmp(w->argv[0], dirs[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(dirs))
		return 1;

	/* HAProxy only looks at the third word, and only if it is not empty */
	if (w->argc > 2 && w->argv[2][0])
		return rd_error(r, "Unexpected argument '%s' for '%s'. Use quotes if the message "
		                "should contain spaces.", w->argv[2], w->argv[0]);

	text = w->argc > 1 ? w->argv[1] : "";
	diag_msg(dirs[i].lvl, "config : parsing [%s:%d]: '%s'.", r->src.file, r->src.line, text);
	if (dirs[i].lvl == DIAG_ALERT) {
		r->fatal = 1;
		r->errors++;
		stop(r);
		return -1;
	}
	return 0;
}

/* Handles a line whose first word starts with a '.': block directives
 * always, the others only where lines apply. Returns 0, or -1 after an
 * error (an unknown directive is one). */
static int do_directive(struct cfg_reader *r, size_t used)
{
	const char *d = r->words.argv[0];
	int ret;

	if (strcmp(d, ".if") == 0)
		return do_if(r, used);
	if (strcmp(d, ".elif") == 0)
		return do_elif(r, used);
	if (strcmp(d, ".else") == 0)
		return do_else(r);
	if (strcmp(d, ".endif") == 0)
		return do_endif(r);
	if (!is_live(r))
		return 0;
	ret = do_message(r);
	if (ret <= 0)
		return ret;
	return rd_error(r, "unknown directive '%s'.", d);
}

/* Opens configuration file <path> for reading; <path> must outlive the
 * reader (messages and .FILE point to it). Returns 0, or -1 after reporting
 * the error with HAProxy's message. */
int cfg_reader_open(struct cfg_reader *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->src.file = path;
	r->f = fopen(path, "r");
	if (!r->f) {
		ha_alert("config : Cannot open configuration file/directory %s : %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads the statements of the NUL-terminated <text>, called <name> in
 * messages; both must outlive the reader. */
void cfg_reader_open_mem(struct cfg_reader *r, const char *name, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->src.file = name;
	r->mem = r->mem_pos = text;
}

/* See cfg_lex.h. Blank lines, comments, lines whose first word is empty
 * (HAProxy ignores them), scope lines, directives and statements of
 * skipped blocks are consumed here; messages name r->src.file and the
 * current r->src.line. r->src.section is left to the caller, which sets it
 * to what .SECTION must expand to.
 */
int cfg_reader_next(struct cfg_reader *r)
{
	for (;;) {
		const char *line;
		size_t lead = 0, errpos = 0, used = 0;
		enum lex_err e;
		int ret;

		if (!r->f && !r->mem_pos)
			return 0;
		if (read_line(r) < 0) {
			stop(r);
			if (r->depth) {
				int lvl = MIN(r->depth, CFG_MAX_NESTING) - 1;

				/* named by the line of the innermost unclosed
				 * .if, where HAProxy names the last line */
				r->depth = 0;
				r->errors++;
				ha_alert("config : parsing [%s:%d]: non-terminated '.if' block.",
				         r->src.file, r->cond_line[lvl]);
				return -1;
			}
			return 0;
		}
		r->src.line++;

		line = r->buf;
		while (isspace((unsigned char)line[lead]))
			lead++;
		if (line[lead] == '[') {
			if (check_scope(r, line + lead) < 0)
				return -1;
			continue;
		}

		e = lex_split(&r->words, line, LEX_COMMENTS, &r->src, &errpos, &used);
		if (e != LEX_OK)
			return report_lex_error(r, e, line, lead, errpos);
		if (!r->words.argc || !r->words.argv[0][0])
			continue;

		if (r->words.argv[0][0] == '.') {
			ret = do_directive(r, used);
			if (ret < 0)
				return -1;
			continue;
		}
		if (is_live(r))
			return 1;
	}
}

/* Releases what the reader holds. The counters stay readable. */
void cfg_reader_close(struct cfg_reader *r)
{
	stop(r);
	free(r->buf);
	r->buf = NULL;
	r->bufsize = 0;
	cfg_line_free(&r->words);
}
