/* ACLs ("acl NAME criterion [flags] [operator] patterns"), anonymous ACLs,
 * predefined ACLs, and conditions ("if|unless acl1 !acl2 or { ... }"). */
#include <stdio.h>
#include <string.h>

#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/stream.h>

struct registry acl_kws = REGISTRY_INIT("ACL keywords");

/* Named ACLs of the proxy being parsed; a new proxy section starts a new
 * list (ACLs are local to their section, as in HAProxy). */
static struct list *cur_acls;
static struct proxy *cur_acls_px;
static struct list predefined = LIST_HEAD_INIT(predefined);

static struct list *proxy_acls(struct proxy *px)
{
	if (cur_acls_px != px) {
		cur_acls = cfg_alloc(sizeof(*cur_acls));
		list_init(cur_acls);
		cur_acls_px = px;
	}
	return cur_acls;
}

static struct acl *acl_find(struct list *l, const char *name)
{
	struct acl *a;

	list_for_each(a, l, list)
		if (a->name && strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static const struct acl_kw *acl_kw_find(const char *name, size_t len)
{
	struct reg_node *n;

	registry_for_each(n, acl_kws)
		for (const struct acl_kw *k = n->table; k->kw; k++)
			if (strlen(k->kw) == len && strncmp(k->kw, name, len) == 0)
				return k;
	return NULL;
}

static unsigned expr_use(const struct sample_expr *e)
{
	return e->fetch->use;
}

/*------------------------------------------------------------------------
 * ACL expressions
 */
struct acl_expr *acl_expr_parse(struct cfg_ctx *ctx, char **args, int nargs, char *err, size_t errlen)
{
	struct acl_expr *expr;
	const char *crit;
	char rewritten[512];
	int match = -1, i = 1;
	unsigned flags = 0;

	if (nargs < 1) {
		snprintf(err, errlen, "missing criterion (e.g. 'path_beg /api')");
		return NULL;
	}
	crit = args[0];
	/* An ACL keyword such as "path_beg(x)" is its fetch ("path(x)")
	 * matched with its method. */
	size_t nl = strcspn(crit, "(,");
	const struct acl_kw *ak = acl_kw_find(crit, nl);
	if (ak) {
		snprintf(rewritten, sizeof(rewritten), "%s%s", ak->fetch, crit + nl);
		match = (int)ak->match;
	} else {
		snprintf(rewritten, sizeof(rewritten), "%s", crit);
	}
	expr = cfg_alloc(sizeof(*expr));
	expr->kw = cfg_strdup(crit);
	expr->smp = sample_parse_word(rewritten, err, errlen);
	if (!expr->smp) {
		if (strncmp(err, "unknown fetch method", 20) == 0)
			snprintf(err, errlen, "unknown fetch method '%.*s' in ACL expression '%s'", (int)nl, crit, crit);
		return NULL;
	}

	/* flags */
	const char *files[16];
	unsigned file_flags[16];
	int nfiles = 0;
	for (; i < nargs && args[i][0] == '-' && args[i][1]; i++) {
		const char *a = args[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-i") == 0) {
			flags |= PAT_F_ICASE;
		} else if (strcmp(a, "-n") == 0) {
			/* no DNS resolution: proxyd never resolves patterns anyway */
		} else if (strcmp(a, "-m") == 0) {
			if (i + 1 >= nargs) {
				snprintf(err, errlen, "'-m' expects a matching method (str, beg, end, sub, dir, dom, "
				         "reg, len, int, ip, bool, found, bin)");
				return NULL;
			}
			if (nfiles) {
				snprintf(err, errlen, "'-m' must come before '-f'");
				return NULL;
			}
			match = pat_match_lookup(args[++i]);
			if (match < 0) {
				snprintf(err, errlen, "unknown matching method '%s' (expected str, beg, end, sub, dir, "
				         "dom, reg, len, int, ip, bool, found or bin)", args[i]);
				return NULL;
			}
		} else if (strcmp(a, "-f") == 0) {
			if (i + 1 >= nargs) {
				snprintf(err, errlen, "'-f' expects a file name");
				return NULL;
			}
			if (nfiles >= 16) {
				snprintf(err, errlen, "too many '-f' files");
				return NULL;
			}
			file_flags[nfiles] = flags;
			files[nfiles++] = args[++i];
		} else if (strcmp(a, "-u") == 0 || strcmp(a, "-M") == 0) {
			if (a[1] == 'u')
				i++;
		} else {
			/* a negative integer pattern, not a flag */
			if (a[1] >= '0' && a[1] <= '9')
				break;
			snprintf(err, errlen, "unknown flag '%s' (expected -i, -f, -m, -n, -u, -M or --)", a);
			return NULL;
		}
	}

	if (match < 0)
		match = (int)pat_default_match(expr->smp->nb_convs ?
		                               expr->smp->convs[expr->smp->nb_convs - 1].conv->out :
		                               expr->smp->fetch->out);
	expr->pat.match = (enum pat_match)match;
	if (match == PAT_MATCH_BIN && !ak && nfiles == 0 && i >= nargs) {
		snprintf(err, errlen, "binary samples need an explicit matching method ('-m')");
		return NULL;
	}

	for (int f = 0; f < nfiles; f++) {
		char ferr[512];
		if (pattern_load_file(&expr->pat, files[f], file_flags[f], ferr, sizeof(ferr)) < 0) {
			snprintf(err, errlen, "%s", ferr);
			return NULL;
		}
	}

	/* patterns; for integers an operator (eq ge gt le lt) applies to every
	 * value after it, until another operator */
	const char *op = NULL;
	for (; i < nargs; i++) {
		char perr[512];
		const char *a = args[i];
		if ((match == PAT_MATCH_INT || match == PAT_MATCH_LEN) &&
		    (!strcmp(a, "eq") || !strcmp(a, "ge") || !strcmp(a, "gt") || !strcmp(a, "le") || !strcmp(a, "lt"))) {
			op = a;
			continue;
		}
		int rc = op ? pattern_add_int_op(&expr->pat, op, a, perr, sizeof(perr))
		            : pattern_add(&expr->pat, a, flags, perr, sizeof(perr));
		if (rc < 0) {
			snprintf(err, errlen, "%s", perr);
			return NULL;
		}
	}
	if (op && !expr->pat.nb) {
		snprintf(err, errlen, "operator '%s' without a value after it", op);
		return NULL;
	}
	if (!expr->pat.nb && !nfiles && match != PAT_MATCH_FOUND && match != PAT_MATCH_BOOL &&
	    strcmp(args[nargs - 1], "--") != 0) {
		cfg_warn(ctx, "no pattern to match against were provided, so this ACL will never match. "
		         "If this is what you intended, please add '--' to get rid of this warning. If you "
		         "intended to match only for existence, please use '-m found'. If you wanted to force "
		         "an int to match as a bool, please use '-m bool'.");
	}
	list_init(&expr->list);
	return expr;
}

int acl_exec(const struct acl *acl, struct stream *s)
{
	struct acl_expr *e;

	list_for_each(e, &acl->exprs, list) {
		struct sample smp;
		smp.flags = SMP_OPT_ITERATE;
		smp.ctx = 0;
		/* every value of a multi-valued fetch is tried (all the
		 * occurrences of a header, for instance) */
		do {
			if (!sample_process(e->smp, s, &smp))
				break;
			unsigned more = smp.flags & SMP_F_NOT_LAST;
			if (pattern_exec(&e->pat, &smp))
				return 1;
			smp.flags = more | SMP_OPT_ITERATE;
		} while (smp.flags & SMP_F_NOT_LAST);
	}
	return 0;
}

static int valid_acl_name(const char *n)
{
	if (!*n)
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
		      *n == '-' || *n == '_' || *n == '.' || *n == ':'))
			return 0;
	return 1;
}

static int parse_acl(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	char err[1024];
	struct list *l = proxy_acls(ctx->px);

	if (!valid_acl_name(args[0])) {
		cfg_alert(ctx, "invalid character in ACL name '%s' (allowed: letters, digits, '-', '_', '.', ':')",
		          args[0]);
		return -1;
	}
	struct acl_expr *e = acl_expr_parse(ctx, args + 1, nargs - 1, err, sizeof(err));
	if (!e) {
		cfg_alert(ctx, "error detected while parsing ACL '%s' : %s.", args[0], err);
		return -1;
	}
	struct acl *acl = acl_find(l, args[0]);
	if (!acl) {
		acl = cfg_alloc(sizeof(*acl));
		acl->name = cfg_strdup(args[0]);
		list_init(&acl->exprs);
		list_append(l, &acl->list);
	}
	list_append(&acl->exprs, &e->list);
	acl->use |= expr_use(e->smp);
	return 0;
}

static const struct cfg_kw acl_cfg_kws[] = {
	{ "acl", CFG_SEC_FRONTEND | CFG_SEC_BACKEND | CFG_SEC_LISTEN, 2, -1, parse_acl, SLOT_NONE, TGT_PROXY,
	  0, 0, 0, KW_F_STRICT, "<name> <criterion> [flags] [operator] <value>..." },
	{ NULL }
};

CFG_REGISTER(acl_cfg_kws);

/*------------------------------------------------------------------------
 * Predefined ACLs
 */
static const struct {
	const char *name;
	const char *def;
} predefined_defs[] = {
	{ "TRUE", "always_true" },
	{ "FALSE", "always_false" },
	{ "LOCALHOST", "src 127.0.0.1/8 ::1" },
	{ "HTTP", "req.proto_http" },
	{ "HTTP_1.0", "req.ver 1.0" },
	{ "HTTP_1.1", "req.ver 1.1" },
	{ "HTTP_2.0", "req.ver 2.0" },
	{ "HTTP_CONTENT", "req.hdr_val(content-length) gt 0" },
	{ "HTTP_URL_ABS", "url_reg ^[^/:]*://" },
	{ "HTTP_URL_SLASH", "url_beg /" },
	{ "HTTP_URL_STAR", "url *" },
	{ "METH_CONNECT", "method CONNECT" },
	{ "METH_DELETE", "method DELETE" },
	{ "METH_GET", "method GET HEAD" },
	{ "METH_HEAD", "method HEAD" },
	{ "METH_OPTIONS", "method OPTIONS" },
	{ "METH_POST", "method POST" },
	{ "METH_PUT", "method PUT" },
	{ "METH_TRACE", "method TRACE" },
	{ "REQ_CONTENT", "req.len gt 0" },
	{ "WAIT_END", "always_true" },
};

/* Builds the predefined ACLs once, from their definitions. */
static void predefined_init(void)
{
	static int done;
	struct cfg_ctx ctx = { .file = "predefined ACLs", .line = 0 };
	char err[512];

	if (done)
		return;
	done = 1;
	for (size_t i = 0; i < ARRAY_SIZE(predefined_defs); i++) {
		char buf[256], *words[8];
		int n = 0;
		snprintf(buf, sizeof(buf), "%s", predefined_defs[i].def);
		for (char *t = strtok(buf, " "); t && n < 8; t = strtok(NULL, " "))
			words[n++] = t;
		struct acl_expr *e = acl_expr_parse(&ctx, words, n, err, sizeof(err));
		if (!e)
			continue;   /* its fetch is not built in: the ACL does not exist */
		struct acl *acl = cfg_alloc(sizeof(*acl));
		acl->name = predefined_defs[i].name;
		list_init(&acl->exprs);
		list_append(&acl->exprs, &e->list);
		acl->use = expr_use(e->smp);
		list_append(&predefined, &acl->list);
	}
}

void acl_list_predefined(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(predefined_defs); i++)
		fprintf(out, "predefined-acl %s\n", predefined_defs[i].name);
}

/* Forgets every ACL (they live in the config arena). */
void acl_deinit(void);
void acl_deinit(void)
{
	list_init(&predefined);
	cur_acls = NULL;
	cur_acls_px = NULL;
}

/*------------------------------------------------------------------------
 * Conditions
 */
static const char *use_names(unsigned use)
{
	if (use & SMP_USE_HRS)
		return "response";
	if (use & SMP_USE_HRQ)
		return "request";
	return "connection";
}

struct cond *cond_parse(struct cfg_ctx *ctx, char **args, int nargs, int cur, unsigned where,
                        const char *where_name)
{
	struct cond *cond = cfg_alloc(sizeof(*cond));
	struct acl_term terms[64];
	struct acl_suite suites[32];
	int nterms = 0, nsuites = 0;
	char err[1024];

	predefined_init();
	if (strcmp(args[cur], "if") == 0)
		cond->pol = COND_IF;
	else if (strcmp(args[cur], "unless") == 0)
		cond->pol = COND_UNLESS;
	else {
		cfg_alert(ctx, "expected 'if' or 'unless' (got '%s')", args[cur]);
		return NULL;
	}
	cond->file = ctx->file;
	cond->line = ctx->line;
	if (++cur >= nargs) {
		cfg_alert(ctx, "missing condition after '%s'", args[cur - 1]);
		return NULL;
	}

	int neg = 0;
	for (; cur <= nargs; cur++) {
		const char *w = cur < nargs ? args[cur] : NULL;
		if (!w || strcmp(w, "||") == 0 || strcmp(w, "or") == 0) {
			if (!nterms) {
				cfg_alert(ctx, "missing ACL before '%s' in condition", w ? w : "end of line");
				return NULL;
			}
			if (nsuites >= (int)ARRAY_SIZE(suites)) {
				cfg_alert(ctx, "too many 'or' in condition");
				return NULL;
			}
			struct acl_suite *su = &suites[nsuites++];
			su->nb = nterms;
			su->terms = cfg_alloc(sizeof(*su->terms) * (size_t)nterms);
			memcpy(su->terms, terms, sizeof(*terms) * (size_t)nterms);
			nterms = 0;
			if (!w)
				break;
			continue;
		}
		if (strcmp(w, "!") == 0) {
			neg = !neg;
			continue;
		}
		if (*w == '!') {
			neg = !neg;
			w++;
		}
		struct acl *acl;
		if (strcmp(w, "{") == 0) {
			int end = cur + 1;
			while (end < nargs && strcmp(args[end], "}") != 0)
				end++;
			if (end >= nargs) {
				cfg_alert(ctx, "missing '}' closing an anonymous ACL");
				return NULL;
			}
			struct acl_expr *e = acl_expr_parse(ctx, args + cur + 1, end - cur - 1, err, sizeof(err));
			if (!e) {
				cfg_alert(ctx, "error detected while parsing anonymous ACL : %s.", err);
				return NULL;
			}
			acl = cfg_alloc(sizeof(*acl));
			list_init(&acl->exprs);
			list_append(&acl->exprs, &e->list);
			acl->use = expr_use(e->smp);
			cur = end;
		} else {
			acl = ctx->px ? acl_find(proxy_acls(ctx->px), w) : NULL;
			if (!acl)
				acl = acl_find(&predefined, w);
			if (!acl) {
				cfg_alert(ctx, "no such ACL : '%s'%s", w,
				          strcmp(w, "}") == 0 ? " (a '}' without its '{')" : "");
				return NULL;
			}
		}
		if (nterms >= (int)ARRAY_SIZE(terms)) {
			cfg_alert(ctx, "too many ACLs in one condition");
			return NULL;
		}
		if ((acl->use & ~where) && !(acl->use & where & ~SMP_USE_INT)) {
			cfg_warn(ctx, "acl '%s' will never match because it only involves keywords that are "
			         "incompatible with '%s' (it needs %s data)", acl->name ? acl->name : "anonymous",
			         where_name, use_names(acl->use & ~where));
		}
		terms[nterms].acl = acl;
		terms[nterms].neg = neg;
		nterms++;
		neg = 0;
		cond->use |= acl->use;
	}
	cond->nb = nsuites;
	cond->suites = cfg_alloc(sizeof(*cond->suites) * (size_t)nsuites);
	memcpy(cond->suites, suites, sizeof(*suites) * (size_t)nsuites);
	return cond;
}

int cond_eval(const struct cond *cond, struct stream *s)
{
	int res = 0;

	for (int i = 0; i < cond->nb && !res; i++) {
		const struct acl_suite *su = &cond->suites[i];
		res = 1;
		for (int t = 0; t < su->nb; t++) {
			int m = acl_exec(su->terms[t].acl, s);
			if (m == su->terms[t].neg) {
				res = 0;
				break;
			}
		}
	}
	return cond->pol == COND_UNLESS ? !res : res;
}
