/* http-request / http-response rules and the actions they run. Each action
 * module registers its keywords in act_kws; the rule list of a proxy is
 * evaluated in order, first frontend then backend. */
#ifndef PROXYD_RULES_H
#define PROXYD_RULES_H

#include <proxyd/http_reply.h>
#include <proxyd/list.h>
#include <proxyd/registry.h>

struct cfg_ctx;
struct proxy;
struct stream;
struct cond;

enum act_where {
	ACT_HTTP_REQ = 1 << 0,
	ACT_HTTP_RES = 1 << 1,
};

enum act_ret {
	ACT_RET_CONT = 0,    /* go on with the next rule */
	ACT_RET_STOP,        /* stop evaluating this list (allow) */
	ACT_RET_DONE,        /* a response was produced: stop everything */
	ACT_RET_ERR,         /* internal error (500) */
};

struct act_rule;
typedef enum act_ret (*act_fn)(struct act_rule *rule, struct proxy *px, struct stream *s);

struct act_rule {
	struct list list;
	act_fn exec;
	struct cond *cond;           /* NULL: unconditional */
	const char *name;            /* the action's keyword ("deny", "set-header"...) */
	const char *file;
	int line;
	union {
		struct http_reply reply; /* return / deny */
		void *ptr;
	} arg;
};

struct act_kw {
	const char *name;
	unsigned where;              /* ACT_HTTP_* */
	/* Parses args[*cur..nargs) up to a condition keyword, sets rule->exec
	 * and rule->arg, and advances *cur. 0 or -1 after cfg_alert(). */
	int (*parse)(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur);
};

extern struct registry act_kws;
#define ACT_REGISTER(tbl)  REGISTER_TABLE(act_kws, tbl)

/* Parses an optional trailing "if|unless <condition>" of a rule, from
 * args[cur]; <where> is SMP_VAL_REQ or SMP_VAL_RES, the data the rule can
 * see, and <where_name> names the rule in warnings. Returns 0 (cond set or
 * NULL), -1 after an alert. */
int cond_parse_tail(struct cfg_ctx *ctx, char **args, int nargs, int cur, unsigned where,
                    const char *where_name, struct cond **cond);
/* Evaluates a condition for a stream: 1 true, 0 false. NULL is true. */
int cond_exec(const struct cond *cond, struct proxy *px, struct stream *s);

/* A "use_backend" line. */
struct logformat;

struct switching_rule {
	struct list list;
	struct cond *cond;
	const char *be_name;
	struct proxy *be;            /* resolved after parsing */
	struct logformat *dyn;       /* "use_backend %[...]": the name is built per request */
	const char *file;
	int line;
};

/* Runs a proxy's http-request rules; returns the first non-CONT result. */
enum act_ret http_req_rules_run(struct proxy *px, struct stream *s);
enum act_ret http_res_rules_run(struct proxy *px, struct stream *s);

#endif
