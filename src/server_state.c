/* Server state files (see server_state.h): the keywords naming them, the
 * reading of the files once the configuration is parsed (so that "-c"
 * reports unreadable or damaged files, as HAProxy does), and their
 * application to the servers at start-up, with HAProxy 2.6's rules:
 *
 *  - a global file is matched to servers by backend and server name; a
 *    backend's own (local) file must be about that backend: lines naming
 *    another backend are skipped, a line with the right name but another
 *    backend id is reported as a mismatch;
 *  - the operational state comes back (a server that was DOWN stays DOWN
 *    until its checks see it up again), then the admin state: forced
 *    maintenance, unless the configuration changed the server's
 *    "disabled" setting in between, and forced drain, unless the drain
 *    only came from an old weight of 0 the configuration raised since;
 *  - the weight set at run time comes back only if the configured weight
 *    did not change (the file has the old configured weight);
 *  - "disable health" comes back; the last check status is shown again;
 *  - the port always comes back, the address only for a server named by
 *    a host name (HAProxy resolves such servers to their last address;
 *    an address written in the configuration wins over the file).
 *
 * State changes go through the check and admin APIs (check.h,
 * srv_admin.h) so the balancer, queues and logs hear of them. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/check.h>
#include <proxyd/diag.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/server_state.h>
#include <proxyd/srv_admin.h>
#include <proxyd/thread.h>

#define STATE_REASON "changed from server-state after a reload"

/* Highest check status number HAProxy 2.6 writes (PROCOK). */
#define SRV_STATE_MAX_CHK_STATUS 20
/* Every admin bit of the format (0x01 .. 0x40). */
#define SRV_STATE_ADMIN_MASK 0x7f

/*------------------------------------------------------------------------
 * One line
 */
int srv_state_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n < max)
			fields[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (!*p)
			break;
		*p++ = '\0';
	}
	return n;
}

/* A whole integer within [lo, hi]. */
static int get_long(const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void bad_field(char *err, size_t errlen, int *bad, const char *name, const char *val)
{
	size_t n = strlen(err);

	if (n < errlen)
		snprintf(err + n, errlen - n, ", invalid %s value '%s'", name, val);
	*bad = 1;
}

int srv_state_parse_line(char *const *f, int nf, struct srv_state_line *st, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		int idx;
		long lo, hi;
		size_t off;
		int is_unsigned;
	} num[] = {
		{ "srv_op_state", 5, 0, 3, offsetof(struct srv_state_line, op_state), 0 },
		{ "srv_admin_state", 6, 0, SRV_STATE_ADMIN_MASK, offsetof(struct srv_state_line, admin), 1 },
		{ "srv_uweight", 7, 0, 256, offsetof(struct srv_state_line, uweight), 0 },
		{ "srv_iweight", 8, 0, 256, offsetof(struct srv_state_line, iweight), 0 },
		{ "srv_check_status", 10, 0, SRV_STATE_MAX_CHK_STATUS, offsetof(struct srv_state_line, chk_status), 0 },
		{ "srv_check_result", 11, 0, 4, offsetof(struct srv_state_line, chk_result), 0 },
		{ "srv_check_health", 12, INT_MIN, INT_MAX, offsetof(struct srv_state_line, chk_health), 0 },
		{ "srv_check_state", 13, 0, INT_MAX, offsetof(struct srv_state_line, chk_state), 1 },
		{ "srv_agent_state", 14, 0, INT_MAX, offsetof(struct srv_state_line, agent_state), 1 },
		{ "bk_f_forced_id", 15, 0, INT_MAX, offsetof(struct srv_state_line, bk_forced_id), 0 },
		{ "srv_f_forced_id", 16, 0, INT_MAX, offsetof(struct srv_state_line, srv_forced_id), 0 },
		{ "srv_port", 18, 0, 65535, offsetof(struct srv_state_line, port), 0 },
	};
	int bad = 0;
	long v;

	if (errlen)
		err[0] = '\0';
	memset(st, 0, sizeof(*st));
	if (nf < SRV_STATE_MIN_FIELDS) {
		snprintf(err, errlen, ", truncated line (%d fields, at least %d expected)", nf, SRV_STATE_MIN_FIELDS);
		return -1;
	}
	/* ids are only compared, never trusted: leniently read */
	st->be_id = atoi(f[0]);
	st->be_name = f[1];
	st->srv_id = atoi(f[2]);
	st->srv_name = f[3];
	st->addr = f[4];
	st->fqdn = f[17];
	for (size_t i = 0; i < ARRAY_SIZE(num); i++) {
		if (get_long(f[num[i].idx], num[i].lo, num[i].hi, &v) < 0) {
			bad_field(err, errlen, &bad, num[i].name, f[num[i].idx]);
			continue;
		}
		if (num[i].is_unsigned)
			*(unsigned *)((char *)st + num[i].off) = (unsigned)v;
		else
			*(int *)((char *)st + num[i].off) = (int)v;
	}
	if (get_long(f[9], 0, LONG_MAX, &v) < 0)
		bad_field(err, errlen, &bad, "srv_last_time_change", f[9]);
	else
		st->since_change = v;
	if (strcmp(st->addr, "-") != 0) {
		unsigned char tmp[sizeof(struct in6_addr)];
		if (inet_pton(AF_INET, st->addr, tmp) != 1 && inet_pton(AF_INET6, st->addr, tmp) != 1)
			bad_field(err, errlen, &bad, "srv_addr", st->addr);
	}
	return bad ? -1 : 0;
}

/*------------------------------------------------------------------------
 * A whole dump: lines kept split, indexed by "backend server" names
 */
struct st_ent {
	char *f[SRV_STATE_MAX_FIELDS];
	int nf;
	int line;      /* as HAProxy counts them: the version line is line 0 */
	int used;      /* applied, or reported */
	int skip;      /* not for this backend (local file) */
	int next;      /* hash chain, -1 at its end */
	uint32_t hash;
};

struct st_set {
	char *text;    /* private copy, split in place */
	struct st_ent *ents;
	int nb;
	int *buckets;
	uint32_t mask;
};

static uint32_t names_hash(const char *be, const char *srv)
{
	uint32_t h = 2166136261u;

	for (const char *p = be; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u;   /* separator: "a b"+"c" differs from "a"+"b c" */
	for (const char *p = srv; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static void set_free(struct st_set *set)
{
	if (!set)
		return;
	free(set->text);
	free(set->ents);
	free(set->buckets);
	free(set);
}

enum { SET_OK = 0, SET_NOVERSION = -1, SET_CORRUPT = -2, SET_NOMEM = -3 };

/* Reads a dump: SET_OK with *out set, or an error (the line of a
 * truncated one in *bad_line). */
static int set_parse(const char *buf, size_t len, struct st_set **out, int *bad_line)
{
	struct st_set *set = calloc(1, sizeof(*set));
	int cap = 0, lineno = 0, ret = SET_OK;

	*out = NULL;
	if (!set || !(set->text = malloc(len + 1))) {
		free(set);
		return SET_NOMEM;
	}
	memcpy(set->text, buf, len);
	set->text[len] = '\0';

	char *p = set->text, *end = set->text + len;
	int have_version = 0;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *next = eol ? eol + 1 : end;
		if (eol)
			*eol = '\0';
		if (eol > p && eol[-1] == '\r')
			eol[-1] = '\0';
		if (!have_version) {
			long v;
			char *q = p + strlen(p);
			while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
				*--q = '\0';
			if (get_long(p, 1, 1, &v) < 0) {
				ret = SET_NOVERSION;
				goto fail;
			}
			have_version = 1;
			p = next;
			continue;
		}
		lineno++;
		char *s = p;
		p = next;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		if (set->nb == cap) {
			cap = cap ? cap * 2 : 64;
			struct st_ent *n = realloc(set->ents, (size_t)cap * sizeof(*n));
			if (!n) {
				ret = SET_NOMEM;
				goto fail;
			}
			set->ents = n;
		}
		struct st_ent *e = &set->ents[set->nb];
		memset(e, 0, sizeof(*e));
		e->nf = srv_state_split(s, e->f, SRV_STATE_MAX_FIELDS);
		e->line = lineno;
		if (e->nf < SRV_STATE_MIN_FIELDS) {
			*bad_line = lineno;
			ret = SET_CORRUPT;
			goto fail;
		}
		if (e->nf > SRV_STATE_MAX_FIELDS)
			e->nf = SRV_STATE_MAX_FIELDS;   /* later versions' extra fields */
		e->hash = names_hash(e->f[1], e->f[3]);
		set->nb++;
	}
	if (!have_version) {
		ret = SET_NOVERSION;
		goto fail;
	}
	/* index: a power of two at least twice the number of lines */
	uint32_t nbk = 16;
	while (nbk < (uint32_t)set->nb * 2)
		nbk <<= 1;
	set->buckets = malloc(nbk * sizeof(*set->buckets));
	if (!set->buckets) {
		ret = SET_NOMEM;
		goto fail;
	}
	set->mask = nbk - 1;
	for (uint32_t i = 0; i < nbk; i++)
		set->buckets[i] = -1;
	/* inserted from the last line so that a chain lists lines in file
	 * order: the first of duplicated lines wins, as in HAProxy */
	for (int i = set->nb - 1; i >= 0; i--) {
		uint32_t b = set->ents[i].hash & set->mask;
		set->ents[i].next = set->buckets[b];
		set->buckets[b] = i;
	}
	*out = set;
	return SET_OK;
fail:
	set_free(set);
	return ret;
}

/* First line about <be>/<srv> still to consider, or NULL. */
static struct st_ent *set_find(struct st_set *set, const char *be, const char *srv)
{
	uint32_t h = names_hash(be, srv);

	for (int i = set->buckets[h & set->mask]; i >= 0; i = set->ents[i].next) {
		struct st_ent *e = &set->ents[i];
		if (e->hash == h && !e->skip && !strcmp(e->f[1], be) && !strcmp(e->f[3], srv))
			return e;
	}
	return NULL;
}

/* Marks every line about the same server as <e> as done (duplicates are
 * silently ignored). */
static void set_done(struct st_set *set, const struct st_ent *e)
{
	for (int i = set->buckets[e->hash & set->mask]; i >= 0; i = set->ents[i].next) {
		struct st_ent *o = &set->ents[i];
		if (o->hash == e->hash && !strcmp(o->f[1], e->f[1]) && !strcmp(o->f[3], e->f[3]))
			o->used = 1;
	}
}

/*------------------------------------------------------------------------
 * Applying a line to a server
 */

/* Was the server given by a host name (not an address literal)? Only
 * such a server takes its address from the file, as in HAProxy. */
static int srv_named_by_host(const struct server *srv)
{
	char host[256];
	const char *t = srv->addr_text;
	unsigned char tmp[sizeof(struct in6_addr)];

	if (!t)
		return 0;
	if (!strncmp(t, "ipv4@", 5) || !strncmp(t, "ipv6@", 5))
		t += 5;
	if (*t == '[' || strchr(t, '@') || *t == '/')
		return 0;   /* bracketed IPv6 literal, unix socket... */
	if (inet_pton(AF_INET6, t, tmp) == 1)
		return 0;   /* IPv6 literal without port */
	const char *colon = strrchr(t, ':');
	size_t hl = colon ? (size_t)(colon - t) : strlen(t);
	if (!hl || hl >= sizeof(host))
		return 0;
	memcpy(host, t, hl);
	host[hl] = '\0';
	return inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1;
}

/* The admin API's messages end with a newline: warnings do not. */
static void warn_api(const struct server *srv, const char *what, char *msg)
{
	size_t n = strlen(msg);

	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	ha_warning("config : server-state application failed for server '%s/%s', %s: %s", srv->be->id, srv->id,
	           what, msg);
}

static void apply_addr(struct server *srv, const struct srv_state_line *st)
{
	int fam = srv->addr.ss_family;
	char cur[64], port[16], msg[256];

	if (fam != AF_INET && fam != AF_INET6)
		return;
	addr_host_str((struct sockaddr *)&srv->addr, cur, sizeof(cur));
	int cur_port = addr_port((struct sockaddr *)&srv->addr);
	const char *ip = cur;
	if (strcmp(st->addr, "-") != 0 && srv_named_by_host(srv))
		ip = st->addr;
	/* a server without a port (the client's one) keeps none */
	int new_port = st->port && cur_port ? st->port : cur_port;
	if (!strcmp(ip, cur) && new_port == cur_port)
		return;
	snprintf(port, sizeof(port), "%d", new_port);
	if (srv_adm_set_addr_by(srv, ip, new_port ? port : NULL, NULL, msg, sizeof(msg)) < 0)
		warn_api(srv, "address", msg);
}

static void apply_state(struct server *srv, const struct srv_state_line *st)
{
	const struct chk_conf *ck = &srv->c.ck;
	int top = ck->rise + ck->fall - 1;
	char msg[256];

	/* 1. operational state, as the old process saw it: the checks take
	 * over from there (a server without checks stays as it was left) */
	switch (st->op_state) {
	case SRV_ST_STOPPED:
		if (ck->enabled)
			srv->check.health = 0;
		if (srv->state != SRV_ST_STOPPED)
			srv_set_down_why(srv, STATE_REASON);
		break;
	case SRV_ST_STOPPING:
		if (ck->enabled)
			srv->check.health = st->chk_health >= ck->rise && st->chk_health <= top ? st->chk_health : ck->rise;
		if (srv->state != SRV_ST_STOPPING)
			srv_set_stopping_why(srv, STATE_REASON);
		break;
	default:
		/* STARTING too: proxyd has no slow start, the server is up */
		if (ck->enabled)
			srv->check.health = top;
		if (srv->state != SRV_ST_RUNNING)
			srv_set_up(srv, 0);
		break;
	}

	/* 2. admin state. A change of the "disabled" setting in the
	 * configuration wins; otherwise the forced maintenance of the file
	 * comes back, or goes (a "disabled" server enabled at run time). */
	unsigned old_cm = st->admin & SRV_ADMF_CMAINT, new_cm = srv->admin & SRV_ADMF_CMAINT;
	if (old_cm == new_cm && (st->admin & SRV_ADMF_FMAINT))
		srv_adm_set_state(srv, SRV_ADM_MAINT);
	else if (old_cm == new_cm && (srv->admin & SRV_ADMF_FMAINT))
		srv_adm_set_state(srv, SRV_ADM_READY);
	/* A drain is also what a configured weight of 0 looks like in the
	 * file: it is dropped when the configuration raised that weight. */
	if (!(srv->admin & SRV_ADMF_FMAINT) && (st->admin & SRV_ADMF_FDRAIN) &&
	    (st->iweight > 0 || srv->c.weight == 0))
		srv_adm_set_state(srv, SRV_ADM_DRAIN);

	/* 3. how long ago the state last changed */
	uint64_t now = th_now_ms(&threads[0]);
	uint64_t ago = (uint64_t)st->since_change * 1000;
	if (now > ago)
		srv->last_change_ms = now - ago;

	/* 4. checks: the last status is shown again; "disable health" (the
	 * check configured but not enabled) comes back */
	if (ck->enabled) {
		if (st->chk_status < CHK_ST_COUNT && strcmp(chk_status_code((enum chk_status)st->chk_status), "UNK"))
			srv->check.status = srv->check.prev_status = (enum chk_status)st->chk_status;
		if ((st->chk_state & CHK_STATE_CONFIGURED) && !(st->chk_state & CHK_STATE_ENABLED))
			srv_adm_pause_checks(srv, 1);
	}

	/* 5. the weight set at run time, unless the configuration changed
	 * the server's weight since (the configuration wins) */
	if (st->iweight == srv->c.weight && st->uweight != srv->uweight) {
		char w[16];
		snprintf(w, sizeof(w), "%d", st->uweight);
		if (srv_adm_set_weight(srv, w, msg, sizeof(msg)) < 0)
			warn_api(srv, "weight", msg);
	}

	/* 6. address and port */
	apply_addr(srv, st);
}

/* Applies the line of <set> about each server of <px>; how many. */
static int set_apply_backend(struct st_set *set, struct proxy *px)
{
	struct server *srv;
	int n = 0;

	list_for_each(srv, &px->servers, list) {
		struct st_ent *e = set_find(set, px->id, srv->id);
		struct srv_state_line st;
		char msg[512];

		if (!e)
			continue;
		set_done(set, e);
		if (srv_state_parse_line(e->f, e->nf, &st, msg, sizeof(msg)) < 0) {
			ha_warning("config : server-state application failed for server '%s/%s'%s", px->id, srv->id, msg);
			continue;
		}
		apply_state(srv, &st);
		n++;
	}
	return n;
}

/* The lines no server took. <src> names the dump; <only>: the backend a
 * local file is for; else <eligible> tells the backends that wanted it. */
static void set_report_leftovers(struct st_set *set, const char *src, struct proxy *only,
                                 int (*eligible)(const struct proxy *))
{
	for (int i = 0; i < set->nb; i++) {
		struct st_ent *e = &set->ents[i];
		if (e->used || e->skip)
			continue;
		set_done(set, e);
		struct proxy *be = only ? only : proxy_find(e->f[1], PR_CAP_BE);
		if (!be)
			ha_warning("config : %s: can't find backend '%s' for server '%s' (line %d).", src, e->f[1], e->f[3],
			           e->line);
		else if (only || eligible(be))
			ha_warning("config : Proxy '%s': can't find server '%s' in backend '%s'", be->id, e->f[3], be->id);
	}
}

/*------------------------------------------------------------------------
 * Configuration
 */
static const char *state_file;     /* global server-state-file */
static const char *state_base;     /* global server-state-base */
static struct st_set *global_set;  /* the global file, read and waiting to be applied */

struct local_state {
	struct proxy *px;
	struct st_set *set;
	char *path;
	struct local_state *next;
};
static struct local_state *local_states;

/* HAProxy reads the first argument of these keywords and ignores the
 * others: accepted, with a warning. */
static void extra_args(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (nargs > 1)
		cfg_warn(ctx, "'%s' takes one argument; '%s' and what follows are ignored", kw->name, args[1]);
}

static int parse_state_path(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	extra_args(ctx, kw, args, nargs);
	const char **dst = strcmp(kw->name, "server-state-file") == 0 ? &state_file : &state_base;

	if (*dst) {
		/* HAProxy keeps the first one and goes on */
		ha_alert("config : parsing [%s:%d] : '%s' already specified. Continuing.", ctx->file, ctx->line,
		         kw->name);
		ctx->err |= ERR_ALERT;
		return 0;
	}
	*dst = cfg_strdup(args[0]);
	return 0;
}

static int parse_load_state(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	const char *a = nargs ? args[0] : "";

	extra_args(ctx, kw, args, nargs);

	if (!strcmp(a, "global"))
		ctx->px->c.srv_state_load = SRV_STATE_LOAD_GLOBAL;
	else if (!strcmp(a, "local"))
		ctx->px->c.srv_state_load = SRV_STATE_LOAD_LOCAL;
	else if (!strcmp(a, "none"))
		ctx->px->c.srv_state_load = SRV_STATE_LOAD_NONE;
	else {
		cfg_alert(ctx, "'load-server-state-from-file' expects 'global', 'local' or 'none'. Got '%s'", a);
		return -1;
	}
	return 0;
}

static int parse_state_name(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	/* no name, or use-backend-name: the backend's name, found when the
	 * file is read (a defaults section has no name to give) */
	if (!nargs || !strcmp(args[0], "use-backend-name"))
		ctx->px->c.srv_state_name = NULL;
	else
		ctx->px->c.srv_state_name = cfg_strdup(args[0]);
	return 0;
}

#define PXS(field) TGT_PROXY, offsetof(struct proxy_conf, field)

static const struct cfg_kw server_state_kws[] = {
	{ "server-state-file", CFG_SEC_GLOBAL, 1, -1, parse_state_path, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<file>" },
	{ "server-state-base", CFG_SEC_GLOBAL, 1, -1, parse_state_path, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<directory>" },
	{ "load-server-state-from-file", CFG_SEC_BE, 0, -1, parse_load_state, SLOT_NONE, PXS(srv_state_load), 0, 0, 0,
	  "'global', 'local' or 'none'" },
	{ "server-state-file-name", CFG_SEC_BE, 0, 1, parse_state_name, SLOT_NONE, PXS(srv_state_name), 0, 0, 0,
	  "[use-backend-name | <file>]" },
	{ NULL }
};

CFG_REGISTER(server_state_kws);

/* <name> under server-state-base unless absolute (malloc'ed). */
static char *state_path(const char *name)
{
	char *p;

	if (name[0] == '/' || !state_base || !state_base[0])
		return strdup(name);
	size_t bl = strlen(state_base);
	const char *sep = state_base[bl - 1] == '/' ? "" : "/";
	if (asprintf(&p, "%s%s%s", state_base, sep, name) < 0)
		return NULL;
	return p;
}

/* The whole file (NUL added), or NULL with errno set. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 16384;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Reads and indexes a file; NULL after a warning. <who> starts the
 * messages ("config" or "Proxy 'bk'"), <kind> says which file it is
 * ("global server state file" or "server state file"). */
static struct st_set *load_file(const char *path, const char *who, const char *kind)
{
	size_t len;
	char *buf = read_file(path, &len);
	struct st_set *set = NULL;
	int bad_line = 0;

	if (!buf) {
		ha_warning("config : %s: Can't open %s '%s': %s%s", who, kind, path, strerror(errno),
		           strcmp(who, "config") ? "." : "");
		return NULL;
	}
	int rc = set_parse(buf, len, &set, &bad_line);
	free(buf);
	if (rc == SET_NOVERSION)
		ha_warning("config : %s: Can't get version of the %s '%s'.", who, kind, path);
	else if (rc == SET_CORRUPT)
		ha_warning("config : %s: corrupted %s '%s' at line %d.", who, kind, path, bad_line);
	else if (rc == SET_NOMEM)
		ha_warning("config : %s: out of memory while reading %s '%s'.", who, kind, path);
	return set;
}

static int wants_global(const struct proxy *px)
{
	return px->c.srv_state_load == SRV_STATE_LOAD_GLOBAL;
}

static int any_backend(const struct proxy *px)
{
	return 1;
}

/* Once the configuration is read: the files are read now (a "-c" run
 * reports the missing or damaged ones), applied by server_state_load(). */
static int srv_state_postparse(void)
{
	struct proxy *px;
	int err = 0, want_global = 0;

	list_for_each(px, &proxies, list) {
		if (!(px->cap & PR_CAP_BE) || !wants_global(px))
			continue;
		if (!state_file) {
			ha_warning("config : backend '%s' configured to load server state file from global section "
			           "'server-state-file' directive. Unfortunately, 'server-state-file' is not set!", px->id);
			err |= ERR_WARN;
		} else
			want_global = 1;
	}
	if (want_global) {
		char *path = state_path(state_file);
		if (path) {
			global_set = load_file(path, "config", "global server state file");
			free(path);
		}
	}
	struct local_state **tail = &local_states;
	list_for_each(px, &proxies, list) {
		if (!(px->cap & PR_CAP_BE) || px->c.srv_state_load != SRV_STATE_LOAD_LOCAL)
			continue;
		struct local_state *ls = calloc(1, sizeof(*ls));
		char who[300];
		if (!ls || !(ls->path = state_path(px->c.srv_state_name ? px->c.srv_state_name : px->id))) {
			free(ls);
			ha_alert("config : out of memory");
			return err | ERR_ALERT | ERR_FATAL;
		}
		ls->px = px;
		snprintf(who, sizeof(who), "Proxy '%s'", px->id);
		ls->set = load_file(ls->path, who, "server state file");
		*tail = ls;
		tail = &ls->next;
	}
	return err;
}

/* The files once applied (or at exit). */
static void srv_state_free_sets(void)
{
	set_free(global_set);
	global_set = NULL;
	while (local_states) {
		struct local_state *ls = local_states;
		local_states = ls->next;
		set_free(ls->set);
		free(ls->path);
		free(ls);
	}
}

static void srv_state_deinit(void)
{
	srv_state_free_sets();
	/* the strings were in the configuration's arena */
	state_file = state_base = NULL;
}

static const struct cfg_postparser srv_state_pp = { "server state files", srv_state_postparse,
                                                    srv_state_deinit };
CFG_POSTPARSER_REGISTER(srv_state_pp);

/*------------------------------------------------------------------------
 * Applying
 */
int server_state_load(void)
{
	struct proxy *px;
	int n = 0;

	if (global_set) {
		char src[PATH_MAX + 64];
		list_for_each(px, &proxies, list)
			if ((px->cap & PR_CAP_BE) && wants_global(px))
				n += set_apply_backend(global_set, px);
		snprintf(src, sizeof(src), "global server state file '%s'", state_file);
		set_report_leftovers(global_set, src, NULL, wants_global);
	}
	for (struct local_state *ls = local_states; ls; ls = ls->next) {
		if (!ls->set)
			continue;
		px = ls->px;
		/* a local file is about its backend only: other backends' lines
		 * are not for it, a line with its name but not its id is
		 * reported */
		for (int i = 0; i < ls->set->nb; i++) {
			struct st_ent *e = &ls->set->ents[i];
			if (strcmp(e->f[1], px->id) != 0) {
				e->skip = 1;
			} else if (atoi(e->f[0]) != px->uuid) {
				ha_warning("config : Proxy '%s': backend ID mismatch: from server state file: '%s', from "
				           "running config '%d'", px->id, e->f[0], px->uuid);
				e->skip = 1;
			}
		}
		n += set_apply_backend(ls->set, px);
		set_report_leftovers(ls->set, ls->path, px, NULL);
	}
	srv_state_free_sets();
	return n;
}

int server_state_apply_text(const char *buf, size_t len, char *err, size_t errlen)
{
	struct st_set *set;
	struct proxy *px;
	int bad_line = 0, n = 0;

	switch (set_parse(buf, len, &set, &bad_line)) {
	case SET_OK:
		break;
	case SET_NOVERSION:
		snprintf(err, errlen, "not a server state dump: the first line must be the format version '1'");
		return -1;
	case SET_CORRUPT:
		snprintf(err, errlen, "corrupted server state at line %d (fewer than %d fields)", bad_line,
		         SRV_STATE_MIN_FIELDS);
		return -1;
	default:
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	list_for_each(px, &proxies, list)
		if (px->cap & PR_CAP_BE)
			n += set_apply_backend(set, px);
	set_report_leftovers(set, "server state", NULL, any_backend);
	set_free(set);
	return n;
}
