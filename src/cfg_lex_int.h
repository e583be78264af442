/* Private interface between the line splitter and its users inside the
 * configuration reader (cfg_lex.c, cfg_reader.c). Not for other modules:
 * they use cfg_split_line() and the reader from <proxyd/cfg_lex.h>.
 */
#ifndef PROXYD_CFG_LEX_INT_H
#define PROXYD_CFG_LEX_INT_H

#include <stddef.h>
#include <proxyd/cfg_lex.h>

enum lex_err {
	LEX_OK = 0,
	LEX_QUOTE,      /* a quote is still open at the end of the line */
	LEX_BRACE,      /* "${" without its closing brace */
	LEX_VARNAME,    /* '$' not followed by a valid name, unknown ".NAME" */
	LEX_HEX,        /* "\x" not followed by two hex digits */
	LEX_EXPAND,     /* "${NAME[" not followed by "*]" */
	LEX_TOOMANY,    /* more than CFG_MAX_LINE_ARGS words */
};

#define LEX_COMMENTS      0x01   /* an unprotected '#' starts a comment */
#define LEX_KEEP_LEADING  0x02   /* leading blanks make an empty first word */

/* Splits <text> into <out> (see cfg_split_line()). On success, *used is the
 * number of bytes written to out->store: its words one after the other,
 * each followed by a NUL, including a last empty word that is not counted
 * in argc; the .if family reads its condition from there. On error, *errpos
 * is the offset in <text> of the character at fault, except for
 * LEX_TOOMANY where it is the offset in out->store of the 64th word. Either
 * pointer may be NULL.
 */
enum lex_err lex_split(struct cfg_line *out, const char *text, int flags,
                       const struct cfg_src *src, size_t *errpos, size_t *used);

/* HAProxy's wording of error <e>, without the position. */
const char *lex_reason(enum lex_err e);

/* Returns, in a new string, the words of <l> from word <first> on, up to
 * the end of the <used> bytes of its store, joined by single spaces: the
 * text HAProxy evaluates for ".if" (first = 1) and "-cc" (first = 0).
 * Empty words count, including the uncounted empty last one. */
char *lex_join_from(const struct cfg_line *l, size_t used, int first);

#endif
