/* ACLs and conditions. An ACL is a named list of (criterion, patterns)
 * tests OR-ed together ("acl" lines with the same name add up); a condition
 * ("if"/"unless" on a rule) is a disjunction of conjunctions of possibly
 * negated ACLs, named or anonymous ({ criterion patterns }). */
#ifndef PROXYD_ACL_H
#define PROXYD_ACL_H

#include <stdio.h>

#include <proxyd/list.h>
#include <proxyd/pattern.h>
#include <proxyd/sample.h>

struct cfg_ctx;
struct proxy;
struct stream;

struct acl_expr {
	struct list list;
	struct sample_expr *smp;
	struct pattern_head pat;
	const char *kw;            /* criterion as written, for messages */
};

struct acl {
	struct list list;          /* in the proxy, or the predefined list */
	const char *name;          /* NULL for an anonymous ACL */
	struct list exprs;         /* OR-ed */
	unsigned use;              /* SMP_USE_* of all its fetches */
};

struct acl_term {
	struct acl *acl;
	int neg;
};

struct acl_suite {             /* AND-ed terms */
	int nb;
	struct acl_term *terms;
};

enum cond_pol { COND_IF = 0, COND_UNLESS };

struct cond {
	enum cond_pol pol;
	int nb;                    /* OR-ed suites */
	struct acl_suite *suites;
	unsigned use;
	const char *file;
	int line;
};

/* An ACL keyword that is a fetch plus a matching method ("path_beg" is
 * "path" matched with "beg"). Modules register tables of these. */
struct acl_kw {
	const char *kw;
	const char *fetch;         /* sample fetch keyword */
	enum pat_match match;
};
extern struct registry acl_kws;
#define ACL_KW_REGISTER(tbl)  REGISTER_TABLE(acl_kws, tbl)

/* Parses a condition from args[cur] ("if" or "unless") to the end.
 * <where> is SMP_VAL_REQ or SMP_VAL_RES: the rule's context, checked
 * against what the ACLs use. Returns NULL after cfg_alert(). */
struct cond *cond_parse(struct cfg_ctx *ctx, char **args, int nargs, int cur, unsigned where,
                        const char *where_name);
/* 1 when the condition holds for stream <s>. */
int cond_eval(const struct cond *cond, struct stream *s);

/* Parses "<criterion> [flags] [operator] <patterns...>" (an "acl" line's
 * arguments after the name, or an anonymous ACL's content). */
struct acl_expr *acl_expr_parse(struct cfg_ctx *ctx, char **args, int nargs, char *err, size_t errlen);
/* Prints "predefined-acl NAME" for each predefined ACL (--list-keywords). */
void acl_list_predefined(FILE *out);

/* Evaluates one ACL: 1 matched, 0 not. */
int acl_exec(const struct acl *acl, struct stream *s);

#endif
