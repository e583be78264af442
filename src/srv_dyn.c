/* Dynamic servers (see srv_dyn.h).
 *
 * Adding: the options go through the same registered keyword parsers as a
 * "server" line (cfg_server.c), without the backend's default-server (as
 * HAProxy 2.6), then the server gets what the end of the configuration
 * gives every server (per-thread pools and counters, statistics, TLS
 * contexts, check state) and the backend's balancer is rebuilt with it.
 * It starts in forced maintenance, as HAProxy's.
 *
 * Deleting: only a server in maintenance with no stream, queued stream or
 * connection in use; its idle connections are closed first. Readers that
 * may still hold a pointer to it — a statistics dump stopped in the middle
 * (its cursor points at the next server), a stream's "previous server"
 * after a redispatch, an error snapshot — must never read freed memory, so
 * the server object and its counters stay allocated until exit, marked
 * deleted and unlinked from its backend (its own "next" link kept, so that
 * a cursor standing on it resumes at the server that followed it). What
 * only live traffic uses (TLS contexts, the check's connection) is
 * released at once; stick-table entries pointing to it are cleared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/cfg_server.h>
#include <proxyd/check.h>
#include <proxyd/conn.h>
#include <proxyd/global.h>
#include <proxyd/lb.h>
#include <proxyd/live.h>
#include <proxyd/log.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/srv_dyn.h>
#include <proxyd/ssl_cfg.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/stick_table.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

/* Deleted servers, kept for the readers described above; freed at exit. */
struct graveyard_entry {
	struct graveyard_entry *next;
	struct server *srv;
};
static struct graveyard_entry *graveyard;

/* Options a dynamic server does not take, as HAProxy 2.6 ("cookie",
 * "redir"), plus "sni", whose expression the backend evaluates once for
 * all its servers from the configuration. */
/* How long the other threads get to reach a point where they wait. */
#define ISOLATE_MS 2000
static const char busy_msg[] = "The other threads did not pause in time (busy or stopping); try again.";

static const char *const refused_opts[] = { "cookie", "redir", "sni", "track", NULL };

const char *srv_dyn_refusal(const struct proxy *be)
{
	const struct lb_algo *a = be->c.lb;

	/* map-based hashing and static-rr size their tables once; HAProxy
	 * refuses them with this message (a consistent hash takes them) */
	if (!a || (a->hashed ? be->c.lbc.method != LB_HASH_CONSISTENT : !a->dynamic))
		return "Backend must use a dynamic load balancing to support dynamic servers.\n";
	return NULL;
}

/* The algorithms size their state on the servers (heaps, puid-indexed
 * arrays): a new or removed server means building it again. Streams keep
 * their server; leastconn recounts from srv->served, roundrobin starts a
 * new rotation. */
static int rebuild_lb(struct proxy *be)
{
	struct server *s;
	int max = 0;

	list_for_each(s, &be->servers, list)
		if (s->puid > max)
			max = s->puid;
	be->nb_srv = max;
	if (be->c.lb->deinit)
		be->c.lb->deinit(be);
	if (be->c.lb->init && be->c.lb->init(be) < 0)
		return -1;
	list_for_each(s, &be->servers, list)
		lb_server_changed(s);
	return 0;
}

/* The lowest numeric id no server of <be> uses (HAProxy's choice). */
static int free_puid(const struct proxy *be)
{
	for (int id = 1;; id++) {
		const struct server *s;
		int used = 0;
		list_for_each(s, &be->servers, list)
			if (s->puid == id) {
				used = 1;
				break;
			}
		if (!used)
			return id;
	}
}

static void release_runtime(struct server *srv)
{
	free(srv->pt);
	free(srv->counters);
	free(srv->live);
	srv->pt = NULL;
	srv->counters = NULL;
	srv->live = NULL;
}

struct server *srv_dyn_add(struct proxy *be, const char *name, const char *addr, char **args, int nargs,
                           char *err, size_t errlen)
{
	struct cfg_ctx ctx = { .file = "stats socket", .sec = CFG_SEC_BACKEND, .sec_name = "backend", .px = be,
	                       .errbuf = err, .errlen = errlen };
	struct addr_spec as;
	const char *why = srv_dyn_refusal(be);
	char aerr[1024];

	if (why) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	if (!*name) {
		snprintf(err, errlen, "Require 'backend/server'.\n");
		return NULL;
	}
	if (proxy_find_server(be, name)) {
		snprintf(err, errlen, "Already exists a server with the same name in backend.\n");
		return NULL;
	}
	if (!addr) {
		snprintf(err, errlen, "'server' expects <name> and <addr>[:<port>] as arguments.\n");
		return NULL;
	}
	for (int i = 0; i < nargs; i++)
		for (const char *const *r = refused_opts; *r; r++)
			if (strcmp(args[i], *r) == 0) {
				snprintf(err, errlen, "'%s' option is not accepted for dynamic server\n", *r);
				return NULL;
			}
	if (addr_parse(addr, ADDR_F_NO_PORT, &as, aerr, sizeof(aerr)) < 0) {
		snprintf(err, errlen, "%s\n", aerr);
		return NULL;
	}
	if (as.port_missing) {
		snprintf(err, errlen, "a port is required in '%s' (proxyd does not reuse the client's port)\n", addr);
		return NULL;
	}

	/* the configuration arena: it lives until exit, like the server
	 * object itself (see the top of the file) */
	struct server *srv = cfg_alloc(sizeof(*srv));
	srv->be = be;
	srv->id = cfg_strdup(name);
	srv->conf_file = "stats socket";
	srv->dynamic = 1;
	/* not the backend's default-server, as HAProxy 2.6 */
	srv->c.weight = 1;
	srv->c.ck.inter = 2000;
	srv->c.ck.rise = 2;
	srv->c.ck.fall = 3;
	srv->addr = as.ss;
	srv->addrlen = as.len;
	srv->addr_text = cfg_strdup(addr);
	if (srv_parse_options(&ctx, "", &srv->c, srv, args, nargs) < 0) {
		size_t l = strlen(err);
		if (l + 1 < errlen && (!l || err[l - 1] != '\n'))
			memcpy(err + l, "\n", 2);
		return NULL;
	}

	srv->uweight = srv->eweight = srv->c.weight;
	srv->state = SRV_ST_STOPPED;
	srv->admin = SRV_ADMF_FMAINT | ((srv->c.flags & SRV_F_DISABLED) ? SRV_ADMF_CMAINT : 0);
	srv->pt = calloc((size_t)global.nbthread, sizeof(*srv->pt));
	srv->counters = calloc((size_t)global.nbthread, sizeof(*srv->counters));
	srv->live = calloc((size_t)global.nbthread, sizeof(*srv->live));
	if (!srv->pt || !srv->counters || !srv->live) {
		why = "Out of memory.";
		goto fail;
	}
	if (srv->c.ssl && ssl_srv_build(srv, srv->c.ssl, aerr, sizeof(aerr)) < 0) {
		why = aerr;
		goto fail;
	}
	for (int t = 0; t < global.nbthread; t++)
		list_init(&srv->pt[t].idle);
	list_init(&srv->queue);
	srv->lb.heap_idx = -1;
	srv->last_change_ms = threads ? th_now_ms(&threads[0]) : 0;
	srv->down_since_ms = srv->last_change_ms;
	check_init_server(srv);
	/* as HAProxy: its checks wait for "enable health" */
	srv->check.paused = 1;

	if (thread_isolate(ISOLATE_MS) < 0) {
		why = busy_msg;
		goto fail;
	}
	srv->puid = free_puid(be);
	list_append(&be->servers, &srv->list);
	if (rebuild_lb(be) < 0) {
		list_del_init(&srv->list);
		rebuild_lb(be);
		thread_release();
		why = "Out of memory.";
		goto fail;
	}
	thread_release();
	check_start_server(srv);
	log_event(be, LOGL_NOTICE, DIAG_NOTICE, "New server %s/%s registered.", be->id, srv->id);
	return srv;
fail:
	ssl_srv_free(srv);   /* what a build left (at start-up, the exit frees it) */
	release_runtime(srv);
	snprintf(err, errlen, "%s\n", why);
	return NULL;
}

/* Is a stream still using <srv> (assigned, queued for it, or connected)? */
static int srv_in_use(const struct server *srv)
{
	if (srv->served || srv->nb_queued || srv->cur_sess)
		return 1;
	for (int t = 0; threads && t < global.nbthread; t++) {
		const struct stream *s;
		list_for_each(s, &threads[t].streams, list)
			if (s->srv == srv || s->queue_srv == srv || (s->sc && s->sc->srv == srv))
				return 1;
	}
	return 0;
}

static void unstick(struct server *srv)
{
	struct proxy *px;

	list_for_each(px, &proxies, list) {
		struct stksess *ts;
		if (!px->table || !px->table->buckets)
			continue;
		list_for_each(ts, &px->table->lru, lru)
			if (ts->srv == srv)
				ts->srv = NULL;
	}
}

int srv_dyn_del(struct server *srv, char *err, size_t errlen)
{
	struct proxy *be = srv->be;

	if (!(srv->admin & SRV_ADMF_MAINT)) {
		snprintf(err, errlen, "Only servers in maintenance mode can be deleted.\n");
		return -1;
	}
	struct graveyard_entry *g = malloc(sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "Out of memory.\n");
		return -1;
	}
	/* from here the other threads' streams and idle pools hold still */
	if (thread_isolate(ISOLATE_MS) < 0) {
		free(g);
		snprintf(err, errlen, "%s\n", busy_msg);
		return -1;
	}
	if (srv_in_use(srv)) {
		thread_release();
		free(g);
		snprintf(err, errlen, "Server still has connections attached to it, cannot remove it.\n");
		return -1;
	}
	/* idle keep-alive connections are the server's own: closed now, each
	 * in its (waiting) thread's pools */
	for (int t = 0; threads && t < global.nbthread; t++)
		srv_purge_idle(srv, &threads[t], 0, 1);
	if (srv->cur_conns > 0) {
		thread_release();
		free(g);
		snprintf(err, errlen, "Server still has connections attached to it, cannot remove it.\n");
		return -1;
	}

	check_stop_server(srv);
	unstick(srv);
	/* unlinked, but its own links kept: a stats cursor standing on it
	 * goes on with the server that followed it */
	srv->list.prev->next = srv->list.next;
	srv->list.next->prev = srv->list.prev;
	srv->deleted = 1;
	if (srv->lb.heap_idx >= 0 || be->lb_state)
		rebuild_lb(be);
	thread_release();
	ssl_srv_free(srv);
	log_event(be, LOGL_NOTICE, DIAG_NOTICE, "Server %s/%s deleted.", be->id, srv->id);

	g->srv = srv;
	g->next = graveyard;
	graveyard = g;
	return 0;
}

static int srv_dyn_init(void)
{
	return 0;
}

/* At exit: what a deleted server still held (its object is in the
 * configuration arena, freed with it). */
static void srv_dyn_deinit(void)
{
	while (graveyard) {
		struct graveyard_entry *g = graveyard;
		graveyard = g->next;
		release_runtime(g->srv);
		free(g);
	}
}

static const struct cfg_postparser srv_dyn_pp = { "dynamic servers", srv_dyn_init, srv_dyn_deinit };
CFG_POSTPARSER_REGISTER(srv_dyn_pp);
