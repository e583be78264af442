/* After every file is read: resolve names, finish servers and backends,
 * warn about what is legal but unwise, and refuse what cannot work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <proxyd/cfg.h>
#include <proxyd/check.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/lb.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/regex.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/vars.h>

struct global global = {
	.poison = -1,
};

static const char *mode_name(enum pr_mode m)
{
	return m == PR_MODE_HTTP ? "http" : "tcp";
}

/* HTTP frontends need HTTP backends; a TCP frontend may hand its
 * connections to an HTTP backend (the stream becomes HTTP). */
static int check_backend_use(struct proxy *fe, struct proxy *be, const char *how)
{
	if (fe->c.mode == PR_MODE_HTTP && be->c.mode != PR_MODE_HTTP) {
		ha_alert("config : %s frontend '%s' (%s:%d) tries to use incompatible %s backend '%s' (%s:%d) %s "
		         "(see 'mode').", mode_name(fe->c.mode), fe->id, fe->conf_file, fe->conf_line,
		         mode_name(be->c.mode), be->id, be->conf_file, be->conf_line, how);
		return ERR_ALERT | ERR_FATAL;
	}
	return 0;
}

static void compute_global_defaults(void)
{
	struct rlimit rl;

	if (!global.nbthread)
		global.nbthread = 1;
	if (!global.bufsize)
		global.bufsize = 16384;
	if (!global.maxrewrite)
		global.maxrewrite = 1024;
	/* keep at least half of the buffer for the head itself, as HAProxy */
	if (global.maxrewrite > global.bufsize / 2)
		global.maxrewrite = global.bufsize / 2;
	if (!global.max_http_hdr)
		global.max_http_hdr = 101;
	if (!global.maxaccept)
		global.maxaccept = 64;
	else if (global.maxaccept < 0)
		global.maxaccept = 1 << 30;   /* -1: as many as the backlog holds */
	if (!global.pool_max_idle)
		global.pool_max_idle = 1000;
	if (!global.idle_purge_ms)
		global.idle_purge_ms = 5000;
	if (!global.maxconn) {
		/* two sockets per proxied connection, plus a reserve for
		 * listeners, logs and checks */
		long fds = 1024;
		if (global.ulimit_n)
			fds = global.ulimit_n;
		else if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
			fds = (long)rl.rlim_cur;
		global.maxconn_auto = 1;
		long mc = (fds - 100) / 2;
		global.maxconn = mc < 100 ? 100 : mc > 100000 ? 100000 : (int)mc;
	}
}

static int finish_servers(struct proxy *be)
{
	struct server *srv;
	int err = 0;

	/* hashing a URI, a query parameter or a header needs HTTP: HAProxy
	 * warns and balances in round robin */
	const char *lb = be->c.lb ? be->c.lb->name : "";
	if (be->c.mode != PR_MODE_HTTP &&
	    (strcmp(lb, "uri") == 0 || strcmp(lb, "url_param") == 0 || strcmp(lb, "hdr") == 0)) {
		ha_warning("config : Layer 7 hash not possible for %s '%s' (needs 'mode http'). "
		           "Falling back to round robin.", (be->cap & PR_CAP_FE) ? "proxy" : "backend", be->id);
		be->c.lb = lb_find("roundrobin");
		err |= ERR_WARN;
	}

	list_for_each(srv, &be->servers, list) {
		srv->uweight = srv->eweight = srv->c.weight;
		srv->state = SRV_ST_RUNNING;
		if (srv->c.flags & SRV_F_DISABLED) {
			/* as HAProxy: down, in forced maintenance, marked as
			 * configured so (admin state 5) */
			srv->admin |= SRV_ADMF_CMAINT | SRV_ADMF_FMAINT;
			srv->state = SRV_ST_STOPPED;
		}
		srv->pt = calloc(global.nbthread, sizeof(*srv->pt));
		srv->counters = calloc(global.nbthread, sizeof(*srv->counters));
		if (!srv->pt || !srv->counters) {
			ha_alert("config : out of memory for server '%s/%s'", be->id, srv->id);
			return ERR_ALERT | ERR_FATAL;
		}
		for (int t = 0; t < global.nbthread; t++)
			list_init(&srv->pt[t].idle);
		list_init(&srv->queue);
		srv->lb.heap_idx = -1;
		check_init_server(srv);
	}
	list_for_each(srv, &be->servers, list)
		lb_server_changed(srv);
	if (be->c.lb->init && be->c.lb->init(be) < 0)
		err |= ERR_ALERT | ERR_FATAL;
	return err;
}

struct registry cfg_postparsers = REGISTRY_INIT("post-parse steps");

int userlist_post_parse(void);
void userlist_deinit(void);
void acl_deinit(void);

int cfg_post_parse(void)
{
	struct proxy *px;
	int err = 0, uuid = 0, listeners = 0;

	compute_global_defaults();
	err |= userlist_post_parse();
	err |= sample_resolve_args();

	list_for_each(px, &proxies, list) {
		px->uuid = ++uuid;
		pthread_mutexattr_t ma;
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&px->lock, &ma);
		pthread_mutexattr_destroy(&ma);
		px->fe_counters = calloc(global.nbthread, sizeof(*px->fe_counters));
		px->be_counters = calloc(global.nbthread, sizeof(*px->be_counters));
		if (!px->fe_counters || !px->be_counters) {
			ha_alert("config : out of memory");
			return ERR_ALERT | ERR_FATAL;
		}

		if (px->cap & PR_CAP_FE) {
			if (list_empty(&px->listeners)) {
				if (px->cap & PR_CAP_BE) {
					ha_warning("config : proxy '%s' has no 'bind' directive. Please declare it as a "
					           "backend if this was intended.", px->id);
				} else {
					ha_warning("config : frontend '%s' has no 'bind' directive. Please declare it as a "
					           "backend if this was intended.", px->id);
				}
				err |= ERR_WARN;
			}
			listeners += !list_empty(&px->listeners);

			if (px->c.defbe_name) {
				struct proxy *be = proxy_find(px->c.defbe_name, PR_CAP_BE);
				if (!be) {
					ha_alert("config : Proxy '%s': unable to find required default_backend: '%s'.",
					         px->id, px->c.defbe_name);
					err |= ERR_ALERT | ERR_FATAL;
				} else if (be == px && !(px->cap & PR_CAP_BE)) {
					err |= ERR_ALERT | ERR_FATAL;
				} else {
					px->defbe = be;
					err |= check_backend_use(px, be, "as its default backend");
				}
			}
			else if (px->cap & PR_CAP_BE) {
				/* a listen section is its own default backend */
				px->defbe = px;
			}
			struct switching_rule *r;
			list_for_each(r, &px->switching_rules, list) {
				if (r->dyn)
					continue;   /* found by name for each request */
				r->be = proxy_find(r->be_name, PR_CAP_BE);
				if (!r->be) {
					ha_alert("config : Proxy '%s': unable to find required use_backend: '%s'.",
					         px->id, r->be_name);
					err |= ERR_ALERT | ERR_FATAL;
				} else {
					err |= check_backend_use(px, r->be, "in a 'use_backend' rule");
				}
			}
			if (px->c.mode != PR_MODE_HTTP && !list_empty(&px->http_req_rules)) {
				ha_warning("config : 'http-request' rules ignored for %s '%s' as they require HTTP mode.",
				           (px->cap & PR_CAP_BE) ? "proxy" : "frontend", px->id);
				list_init(&px->http_req_rules);
				err |= ERR_WARN;
			}
		}
		if ((px->cap & PR_CAP_BE) && px->c.mode != PR_MODE_HTTP && !list_empty(&px->http_res_rules)) {
			ha_warning("config : 'http-response' rules ignored for %s '%s' as they require HTTP mode.",
			           (px->cap & PR_CAP_FE) ? "proxy" : "backend", px->id);
			list_init(&px->http_res_rules);
			err |= ERR_WARN;
		}

		/* The three timeouts every proxy needs, as HAProxy warns. */
		int missing = 0;
		if ((px->cap & PR_CAP_FE) && !px->c.to[TO_CLIENT])
			missing = 1;
		if ((px->cap & PR_CAP_BE) && (!px->c.to[TO_CONNECT] || !px->c.to[TO_SERVER]))
			missing = 1;
		if (missing && !((px->cap & PR_CAP_FE) && list_empty(&px->listeners) && !(px->cap & PR_CAP_BE))) {
			const char *kind = (px->cap & PR_CAP_FE) && (px->cap & PR_CAP_BE) ? "proxy" :
			                   (px->cap & PR_CAP_FE) ? "frontend" : "backend";
			ha_warning("config : missing timeouts for %s '%s'.\n"
			           "   | While not properly invalid, you will certainly encounter various problems\n"
			           "   | with such a configuration. To fix this, please ensure that all following\n"
			           "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
			           kind, px->id);
			err |= ERR_WARN;
		}

		if (px->cap & PR_CAP_BE)
			err |= finish_servers(px);
	}

	struct reg_node *n;
	registry_for_each(n, cfg_postparsers)
		err |= ((const struct cfg_postparser *)n->table)->fn();

	if (!(err & ERR_FATAL) && !listeners)
		err |= ERR_ABORT;  /* valid but nothing to listen on: the caller says so */
	return err;
}

void proxies_forget(void);
void cfg_parse_reset(void);

void cfg_deinit(void)
{
	struct proxy *px;

	list_for_each(px, &proxies, list) {
		struct server *srv;
		list_for_each(srv, &px->servers, list) {
			free(srv->pt);
			free(srv->counters);
		}
		if (px->c.lb && px->c.lb->deinit && (px->cap & PR_CAP_BE))
			px->c.lb->deinit(px);
		free(px->fe_counters);
		free(px->be_counters);
		free(px->err_req);
		free(px->err_res);
	}
	struct reg_node *n;
	registry_for_each(n, cfg_postparsers)
		if (((const struct cfg_postparser *)n->table)->deinit)
			((const struct cfg_postparser *)n->table)->deinit();
	acl_deinit();
	userlist_deinit();
	vars_deinit();
	regex_free_all();
	smp_trash_deinit();
	proxies_forget();
	cfg_arena_free();
	/* the parser's state points into the arena (last defaults section) */
	cfg_parse_reset();
}
