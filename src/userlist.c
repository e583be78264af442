/* "userlist" sections, HTTP basic authentication (http_auth() and
 * http_auth_group() fetches) and the "http-request auth" action.
 *
 * Passwords are either crypt(3) hashes ("password") or clear text
 * ("insecure-password"). A hash check costs milliseconds (SHA-512 crypt
 * runs 5000 rounds), far too much to pay on every request of a logged-in
 * client, so each user remembers the SHA-256 digest of the last password
 * that matched: the same password again is recognised without crypt(). */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <proxyd/thread.h>
#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/http.h>
#include <proxyd/http_ana.h>
#include <proxyd/proxy.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/stream.h>

#define UL_MAX_GROUPS 32

struct ul_user {
	struct ul_user *next;
	const char *name;
	const char *pass;           /* hash, or clear text when <insecure> */
	int insecure;
	const char *group_names;    /* "g1,g2" as written, resolved after parsing */
	unsigned groups;            /* bit i: member of group i */
	unsigned char ok_digest[SHA256_DIGEST_LENGTH];
	int has_ok_digest;
};

struct ul_group {
	const char *name;
	const char *user_names;     /* "u1,u2" as written */
};

struct userlist {
	struct userlist *next;
	const char *name;
	const char *file;
	int line;
	struct ul_user *users;
	struct ul_group groups[UL_MAX_GROUPS];
	int nb_groups;
};

static struct userlist *userlists;
static struct userlist *cur_ul;

struct userlist *userlist_find(const char *name);
struct userlist *userlist_find(const char *name)
{
	for (struct userlist *ul = userlists; ul; ul = ul->next)
		if (strcmp(ul->name, name) == 0)
			return ul;
	return NULL;
}

static int ul_start(struct cfg_ctx *ctx, char **args, int nargs)
{
	if (nargs != 1) {
		cfg_alert(ctx, "'userlist' expects exactly one name (e.g. 'userlist admins')");
		return -1;
	}
	if (userlist_find(args[0])) {
		cfg_alert(ctx, "userlist '%s' already exists", args[0]);
		return -1;
	}
	struct userlist *ul = cfg_alloc(sizeof(*ul));
	ul->name = cfg_strdup(args[0]);
	ul->file = ctx->file;
	ul->line = ctx->line;
	ul->next = userlists;
	userlists = ul;
	cur_ul = ul;
	return 0;
}

static const struct cfg_section userlist_section = { "userlist", CFG_SEC_USERLIST, ul_start };
CFG_SECTION_REGISTER(userlist_section);

static int parse_group(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct userlist *ul = cur_ul;

	for (int i = 0; i < ul->nb_groups; i++)
		if (strcmp(ul->groups[i].name, args[0]) == 0) {
			cfg_alert(ctx, "group '%s' already exists in userlist '%s'", args[0], ul->name);
			return -1;
		}
	if (ul->nb_groups >= UL_MAX_GROUPS) {
		cfg_alert(ctx, "too many groups in userlist '%s' (at most %d)", ul->name, UL_MAX_GROUPS);
		return -1;
	}
	struct ul_group *g = &ul->groups[ul->nb_groups++];
	g->name = cfg_strdup(args[0]);
	for (int i = 1; i < nargs; i++) {
		if (strcmp(args[i], "users") == 0 && i + 1 < nargs) {
			g->user_names = cfg_strdup(args[++i]);
		} else {
			cfg_alert(ctx, "'group %s': unexpected '%s' (expected 'users <user>[,<user>...]')", args[0], args[i]);
			return -1;
		}
	}
	return 0;
}

static int parse_user(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct userlist *ul = cur_ul;

	for (struct ul_user *u = ul->users; u; u = u->next)
		if (strcmp(u->name, args[0]) == 0) {
			cfg_alert(ctx, "user '%s' already exists in userlist '%s'", args[0], ul->name);
			return -1;
		}
	struct ul_user *u = cfg_alloc(sizeof(*u));
	u->name = cfg_strdup(args[0]);
	for (int i = 1; i < nargs; i++) {
		if (strcmp(args[i], "password") == 0 && i + 1 < nargs) {
			u->pass = cfg_strdup(args[++i]);
			/* an unknown hash scheme would never match: say it now */
			struct crypt_data *cd = calloc(1, sizeof(*cd));
			const char *r = cd ? crypt_r("probe", u->pass, cd) : NULL;
			int bad = !r || r[0] == '*';
			free(cd);
			if (bad) {
				cfg_alert(ctx, "'user %s': the password hash '%s' is not in a format crypt(3) knows "
				          "(e.g. '$6$salt$...' from 'mkpasswd -m sha-512')", args[0], u->pass);
				return -1;
			}
		} else if (strcmp(args[i], "insecure-password") == 0 && i + 1 < nargs) {
			u->pass = cfg_strdup(args[++i]);
			u->insecure = 1;
		} else if (strcmp(args[i], "groups") == 0 && i + 1 < nargs) {
			u->group_names = cfg_strdup(args[++i]);
		} else {
			cfg_alert(ctx, "'user %s': unexpected '%s' (expected 'password <hash>', "
			          "'insecure-password <password>' or 'groups <group>[,<group>...]')", args[0], args[i]);
			return -1;
		}
	}
	if (!u->pass) {
		cfg_alert(ctx, "'user %s' needs a 'password <hash>' or an 'insecure-password <password>'", args[0]);
		return -1;
	}
	u->next = ul->users;
	ul->users = u;
	return 0;
}

static const struct cfg_kw userlist_kws[] = {
	{ "group", CFG_SEC_USERLIST, 1, 3, parse_group, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<name> [users <user>[,<user>...]]" },
	{ "user", CFG_SEC_USERLIST, 1, 5, parse_user, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<name> [password <hash> | insecure-password <password>] [groups <group>[,<group>...]]" },
	{ NULL }
};

CFG_REGISTER(userlist_kws);

static int group_index(const struct userlist *ul, const char *name, size_t len)
{
	for (int i = 0; i < ul->nb_groups; i++)
		if (strlen(ul->groups[i].name) == len && strncmp(ul->groups[i].name, name, len) == 0)
			return i;
	return -1;
}

/* Resolves the group memberships written on either side. */
int userlist_post_parse(void);
int userlist_post_parse(void)
{
	int err = 0;

	for (struct userlist *ul = userlists; ul; ul = ul->next) {
		for (struct ul_user *u = ul->users; u; u = u->next) {
			for (const char *p = u->group_names; p && *p;) {
				size_t l = strcspn(p, ",");
				int g = group_index(ul, p, l);
				if (g < 0) {
					ha_alert("config : userlist '%s': user '%s' is in group '%.*s', which is not declared.",
					         ul->name, u->name, (int)l, p);
					err |= ERR_ALERT | ERR_FATAL;
				} else {
					u->groups |= 1u << g;
				}
				p += l + (p[l] == ',');
			}
		}
		for (int g = 0; g < ul->nb_groups; g++) {
			for (const char *p = ul->groups[g].user_names; p && *p;) {
				size_t l = strcspn(p, ",");
				struct ul_user *u = ul->users;
				while (u && !(strlen(u->name) == l && strncmp(u->name, p, l) == 0))
					u = u->next;
				if (!u) {
					ha_alert("config : userlist '%s': group '%s' lists user '%.*s', which is not declared.",
					         ul->name, ul->groups[g].name, (int)l, p);
					err |= ERR_ALERT | ERR_FATAL;
				} else {
					u->groups |= 1u << g;
				}
				p += l + (p[l] == ',');
			}
		}
	}
	return err;
}

void userlist_deinit(void);
void userlist_deinit(void)
{
	userlists = NULL;
	cur_ul = NULL;
}

/*------------------------------------------------------------------------
 * Checking credentials
 */
static __thread struct crypt_data *crypt_buf;

void userlist_thread_deinit(void)
{
	free(crypt_buf);
	crypt_buf = NULL;
}

static int password_ok(struct ul_user *u, const char *pass, size_t plen)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char clear[256];

	if (u->insecure)
		return strlen(u->pass) == plen && CRYPTO_memcmp(u->pass, pass, plen) == 0;
	SHA256((const unsigned char *)pass, plen, digest);
	if (u->has_ok_digest && CRYPTO_memcmp(digest, u->ok_digest, sizeof(digest)) == 0)
		return 1;
	if (plen >= sizeof(clear))
		return 0;
	if (!crypt_buf && !(crypt_buf = calloc(1, sizeof(*crypt_buf))))
		return 0;
	memcpy(clear, pass, plen);
	clear[plen] = 0;
	const char *h = crypt_r(clear, u->pass, crypt_buf);
	OPENSSL_cleanse(clear, sizeof(clear));
	if (!h || strcmp(h, u->pass) != 0)
		return 0;
	memcpy(u->ok_digest, digest, sizeof(digest));
	u->has_ok_digest = 1;
	return 1;
}

/* The user the request's "Authorization: Basic" credentials identify in
 * <ul>, or NULL. Only while the request head is being analysed. */
static struct ul_user *request_user(struct userlist *ul, struct stream *s)
{
	struct http_msg *m = s->txn ? &s->txn->req : NULL;
	char decoded[512];

	if (!m || m->state != HTTP_MSG_HDRS_DONE)
		return NULL;
	int i = http_find_hdr(m, "authorization", 13, -1);
	if (i < 0)
		return NULL;
	const char *v = http_hdr_value(m, &m->hdrs[i]);
	size_t vl = m->hdrs[i].vlen;
	if (vl < 6 || strncasecmp(v, "Basic ", 6) != 0)
		return NULL;
	v += 6;
	vl -= 6;
	while (vl && *v == ' ')
		v++, vl--;
	long n = base64_decode(v, vl, decoded, sizeof(decoded));
	if (n <= 0)
		return NULL;
	char *colon = memchr(decoded, ':', (size_t)n);
	if (!colon)
		return NULL;
	size_t ulen = (size_t)(colon - decoded);
	for (struct ul_user *u = ul->users; u; u = u->next)
		if (strlen(u->name) == ulen && memcmp(u->name, decoded, ulen) == 0)
			return password_ok(u, colon + 1, (size_t)(n - (long)ulen - 1)) ? u : NULL;
	return NULL;
}

static int smp_fetch_http_auth(const struct arg *args, struct sample *smp, struct stream *s,
                               const struct sample_fetch *kw)
{
	smp->type = SMP_T_BOOL;
	smp->data.sint = request_user(args[0].data.usr, s) != NULL;
	return 1;
}

/* In an ACL, the authenticated user's groups, one value each (the
 * patterns are group names); as a sample, the user's name, as HAProxy
 * gives it. No value when the credentials are wrong. */
static int smp_fetch_http_auth_group(const struct arg *args, struct sample *smp, struct stream *s,
                                     const struct sample_fetch *kw)
{
	struct userlist *ul = args[0].data.usr;
	struct ul_user *u = request_user(ul, s);
	long g = smp->ctx;

	if (!u)
		return 0;
	if (!(smp->flags & SMP_OPT_ITERATE)) {
		smp->type = SMP_T_STR;
		smp->flags |= SMP_F_CONST;
		smp->data.str.ptr = u->name;
		smp->data.str.len = strlen(u->name);
		return 1;
	}
	while (g < ul->nb_groups && !(u->groups & (1u << g)))
		g++;
	if (g >= ul->nb_groups)
		return 0;
	smp->type = SMP_T_STR;
	smp->flags |= SMP_F_CONST;
	smp->data.str.ptr = ul->groups[g].name;
	smp->data.str.len = strlen(ul->groups[g].name);
	smp->ctx = g + 1;
	/* more groups may follow */
	for (long n = g + 1; n < ul->nb_groups; n++)
		if (u->groups & (1u << n))
			smp->flags |= SMP_F_NOT_LAST;
	return 1;
}

static const struct sample_fetch auth_fetches[] = {
	{ "http_auth",       smp_fetch_http_auth,       ARG1(1, USR), NULL, SMP_T_BOOL, SMP_USE_HRQ },
	{ "http_auth_group", smp_fetch_http_auth_group, ARG1(1, USR), NULL, SMP_T_STR,  SMP_USE_HRQ },
	{ NULL }
};

SMP_FETCH_REGISTER(auth_fetches);

/*------------------------------------------------------------------------
 * http-request auth [realm <realm>]
 */
static enum act_ret act_auth(struct act_rule *rule, struct proxy *px, struct stream *s)
{
	stream_set_term(s, TERM_PROXY, PHASE_REQ);
	http_reply_send(s, &rule->arg.reply, 0);
	return ACT_RET_DONE;
}

static int parse_auth(struct cfg_ctx *ctx, struct act_rule *rule, char **args, int nargs, int *cur)
{
	const char *realm = ctx->px->id;
	char hdrs[512];
	int i = *cur;

	if (i < nargs && strcmp(args[i], "realm") == 0) {
		if (i + 1 >= nargs) {
			cfg_alert(ctx, "'http-request auth realm' expects a realm name");
			return -1;
		}
		realm = args[i + 1];
		i += 2;
	}
	if (strchr(realm, '"') || strchr(realm, '\\')) {
		cfg_alert(ctx, "'http-request auth': the realm must not contain quotes or backslashes");
		return -1;
	}
	/* the built-in 401 page, plus the challenge */
	rule->arg.reply = *http_err_default(HTTP_ERR_401);
	snprintf(hdrs, sizeof(hdrs), "cache-control: no-cache\r\nwww-authenticate: Basic realm=\"%s\"\r\n", realm);
	rule->arg.reply.hdrs = cfg_strdup(hdrs);
	rule->exec = act_auth;
	*cur = i;
	return 0;
}

static const struct act_kw auth_act_kws[] = {
	{ "auth", ACT_HTTP_REQ, parse_auth },
	{ NULL }
};

ACT_REGISTER(auth_act_kws);
