/* Pattern matching for ACLs: the values after an ACL's criterion, and the
 * method comparing them with a sample (exact string, prefix, substring,
 * regex, integer range, IP network...). */
#ifndef PROXYD_PATTERN_H
#define PROXYD_PATTERN_H

#include <stddef.h>

#include <proxyd/sample.h>

enum pat_match {
	PAT_MATCH_FOUND = 0,
	PAT_MATCH_BOOL,
	PAT_MATCH_INT,
	PAT_MATCH_IP,
	PAT_MATCH_BIN,
	PAT_MATCH_LEN,
	PAT_MATCH_STR,
	PAT_MATCH_BEG,
	PAT_MATCH_SUB,
	PAT_MATCH_DIR,
	PAT_MATCH_DOM,
	PAT_MATCH_END,
	PAT_MATCH_REG,
	PAT_MATCH_NUM
};

enum {
	PAT_F_ICASE = 1 << 0,   /* -i */
};

struct my_regex;

struct pattern {
	unsigned flags;
	union {
		struct { long long min, max; int has_min, has_max; } range;      /* INT, LEN */
		struct { int family; unsigned char addr[16], mask[16]; } ip;     /* IP */
		struct { const char *ptr; size_t len; } str;                    /* STR...END, BIN */
		struct my_regex *reg;                                           /* REG */
	} v;
	const char *text;       /* as written, for messages */
};

struct pattern_head {
	enum pat_match match;
	struct pattern *pats;
	int nb, cap;
};

/* Name of a method ("beg") and back. */
const char *pat_match_name(enum pat_match m);
int pat_match_lookup(const char *name);   /* -1 when unknown */
/* The method used when an ACL gives none, from the fetch's output type. */
enum pat_match pat_default_match(enum smp_type out);

/* Parses one pattern <text> for method <head->match> (with <flags>) and
 * adds it. 0, or -1 with the reason in <err>. */
int pattern_add(struct pattern_head *head, const char *text, unsigned flags, char *err, size_t errlen);
/* Adds an integer comparison "<op> <value>" (eq ge gt le lt). */
int pattern_add_int_op(struct pattern_head *head, const char *op, const char *value,
                       char *err, size_t errlen);
/* Loads patterns from a file: one a line, blank and '#' lines skipped,
 * leading blanks stripped. 0, or -1 with "file:line: reason" in <err>. */
int pattern_load_file(struct pattern_head *head, const char *path, unsigned flags, char *err, size_t errlen);

/* Does <smp> match any pattern of <head>? (FOUND and BOOL need no pattern.) */
int pattern_exec(const struct pattern_head *head, struct sample *smp);

#endif
