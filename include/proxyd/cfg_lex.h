/* Configuration tokenizer and statement reader (HAProxy 2.6 rules).
 *
 * cfg_split_line() turns one line into words: '#' comments, single quotes
 * (nothing interpreted), double quotes (escapes and "${VAR}" expansion),
 * backslash escapes (\ , \#, \\, \', \", \n, \r, \t, \xNN), glued quoted
 * pieces forming one word, "${NAME-default}", "${NAME[*]}" splitting into
 * several words, and the pseudo-variables .FILE, .LINE, .SECTION.
 *
 * The reader iterates over the statements of a file (or of a string, for
 * tests), handling .if/.elif/.else/.endif blocks and the .diag, .notice,
 * .warning and .alert directives, so the section parser only ever sees
 * statements that apply.
 */
#ifndef PROXYD_CFG_LEX_H
#define PROXYD_CFG_LEX_H

#include <stddef.h>
#include <stdio.h>

#define CFG_MAX_LINE_ARGS  64   /* words per statement, as HAProxy */
#define CFG_MAX_NESTING    32   /* nested .if blocks */

/* Where a line comes from: used for .FILE/.LINE/.SECTION and messages. */
struct cfg_src {
	const char *file;
	int line;
	const char *section;   /* current section keyword ("global", "frontend", ...) or NULL */
};

/* The words of one statement. argv[argc] is NULL. The words live in
 * storage owned by the structure and stay valid until the next call that
 * fills it, or cfg_line_free(). */
struct cfg_line {
	int argc;
	char *argv[CFG_MAX_LINE_ARGS + 1];
	char *store;           /* private */
	size_t store_size;     /* private */
};

/* Splits <text> into <out>. Returns the number of words (0 for a blank or
 * comment-only line), or -1 with a human-readable reason in <err> (e.g.
 * "unmatched quote at position 12", "too many words, truncating after word
 * 64", "unterminated variable name"...). */
int cfg_split_line(struct cfg_line *out, const char *text, const struct cfg_src *src,
                   char *err, size_t errlen);
void cfg_line_free(struct cfg_line *l);

struct cfg_reader {
	struct cfg_src src;       /* file, current line, section set by the parser */
	struct cfg_line words;    /* the current statement */
	int errors;               /* lexical / conditional errors reported so far */
	int fatal;                /* an .alert was met: the configuration is invalid */
	/* private */
	FILE *f;
	const char *mem, *mem_pos; /* in-memory source (tests) */
	char *buf;
	size_t bufsize;
	int depth;                                 /* current .if nesting */
	unsigned char cond[CFG_MAX_NESTING];       /* per level: state bits */
	int cond_line[CFG_MAX_NESTING];            /* line of the opening .if */
};

/* Opens a file. Returns 0, or -1 after reporting the error with ha_alert().
 * <path> must outlive the reader (messages and .FILE point to it). */
int cfg_reader_open(struct cfg_reader *r, const char *path);
/* Reads statements from a NUL-terminated string, named <name> in messages. */
void cfg_reader_open_mem(struct cfg_reader *r, const char *name, const char *text);

/* Advances to the next statement that applies. Returns 1 with r->words set,
 * 0 at end of input, -1 after reporting an error on the current line with
 * "config : parsing [file:line]: ..." as HAProxy words it (already counted
 * in r->errors; the caller calls again). At end of input an unclosed .if
 * is reported as an error (returns -1 once, then 0). After an .alert,
 * r->fatal is set and the reader returns -1 once, then 0. */
int cfg_reader_next(struct cfg_reader *r);
void cfg_reader_close(struct cfg_reader *r);

/* Evaluates a condition as in .if blocks and "proxyd -cc": words
 * args[0..nargs) are joined with spaces and parsed. Returns 1 (true),
 * 0 (false) or -1 on a syntax error with a reason in <err>. */
int cfg_eval_cond(char *const *args, int nargs, char *err, size_t errlen);

/* Same on a condition already written as one string. On error, *errpos (if
 * not NULL) is the offset in <expr> of the character the message is about,
 * for "at position N" and a caret under the line. */
int cfg_eval_cond_expr(const char *expr, char *err, size_t errlen, size_t *errpos);

/* "proxyd -cc TEXT": splits TEXT as HAProxy's -cc does ('#' is not a
 * comment there), evaluates it and returns 1 (exit 0), 0 (exit 1) or -1
 * (exit 2) with the complete message in <err>, to print with
 * ha_alert("config : %s", err). */
int cfg_eval_cond_text(const char *text, char *err, size_t errlen);

#endif
