/* Frontends, backends, listen and defaults sections after parsing. A proxy
 * is read-only once the loops run, except its counters and queue. */
#ifndef PROXYD_PROXY_H
#define PROXYD_PROXY_H

#include <pthread.h>
#include <stdint.h>

#include <proxyd/addr.h>
#include <proxyd/counters.h>
#include <proxyd/global.h>
#include <proxyd/http_reply.h>
#include <proxyd/lb.h>
#include <proxyd/list.h>
#include <proxyd/server.h>

struct lb_algo;

/* Capabilities. */
enum {
	PR_CAP_FE  = 1 << 0,
	PR_CAP_BE  = 1 << 1,
	PR_CAP_DEF = 1 << 2,
};

enum pr_mode {
	PR_MODE_TCP = 0,
	PR_MODE_HTTP,
};

/* Option bits (struct proxy_conf.options). */
enum {
	PR_O_HTTP_KAL    = 0,         /* option http-keep-alive (the default) */
	PR_O_HTTP_CLO    = 1 << 0,    /* option httpclose */
	PR_O_HTTP_SCL    = 1 << 1,    /* option http-server-close */
	PR_O_HTTP_MODE   = PR_O_HTTP_CLO | PR_O_HTTP_SCL,
	PR_O_FWDFOR      = 1 << 2,    /* option forwardfor */
	PR_O_FWDFOR_IFNONE = 1 << 3,
	PR_O_REDISP      = 1 << 4,    /* option redispatch */
	PR_O_ABRT_CLOSE  = 1 << 5,    /* option abortonclose */
	PR_O_HTTP_IGN_PROBES = 1 << 6,/* option http-ignore-probes */
	PR_O_ALLBACKUPS  = 1 << 7,    /* option allbackups */
	PR_O_PERSIST     = 1 << 8,    /* option persist */
	PR_O_LOG_HEALTH  = 1 << 9,    /* option log-health-checks */
	PR_O_DONTLOGNULL = 1 << 10,   /* option dontlognull */
	PR_O_DONTLOG_NORMAL = 1 << 11,/* option dontlog-normal */
	PR_O_LOG_SEP_ERRS = 1 << 12,  /* option log-separate-errors */
	PR_O_LOGASAP     = 1 << 13,   /* option logasap */
};

enum px_timeout {
	TO_CLIENT = 0, TO_SERVER, TO_CONNECT, TO_HTTP_REQ, TO_HTTP_KA, TO_QUEUE,
	TO_TUNNEL, TO_CLIENT_FIN, TO_SERVER_FIN, TO_CHECK, TO_TARPIT,
	TO_COUNT
};

enum http_reuse {
	HTTP_REUSE_NEVER = 0,
	HTTP_REUSE_SAFE,
	HTTP_REUSE_AGGRESSIVE,
	HTTP_REUSE_ALWAYS,
};

/* What a proxy inherits from its defaults section: copied as a whole. */
struct cookie_conf;
struct log_list;
struct logformat;
struct stktable;
struct error_snapshot;
struct stats_conf;
struct fe_live;
struct be_live;

struct proxy_conf {
	enum pr_mode mode;
	unsigned options;               /* PR_O_* */
	int to[TO_COUNT];               /* ms, 0 = not set */
	int maxconn;                    /* frontend, 0 = the global one */
	int retries;
	enum http_reuse reuse;
	const char *fwdfor_hdr;
	struct netmask fwdfor_except;
	const char *defbe_name;
	const struct http_reply *errmsg[HTTP_ERR_COUNT];  /* errorfile overrides */
	const struct lb_algo *lb;
	struct lb_conf lbc;             /* balance arguments and hash-type */
	int redispatch_interval;        /* option redispatch [<interval>]; 0 = off */
	const struct chk_prog *chk;     /* health check program (NULL: TCP connect) */
	struct srv_conf defsrv;         /* default-server */
	const struct cookie_conf *cookie; /* cookie persistence, or NULL */
	const struct log_list *logs;    /* "log" lines (shared with the sections inheriting them) */
	const char *log_tag;            /* log-tag, or NULL for the global one */
	int log_kind;                   /* enum log_kind */
	const struct logformat *log_fmt;   /* log-format (LOGK_CUSTOM) */
	const struct logformat *log_sd;    /* log-format-sd, or NULL */
	const struct logformat *uid_fmt;   /* unique-id-format, or NULL */
	const char *uid_hdr;            /* unique-id-header, or NULL */
	const struct stats_conf *stats; /* "stats" page settings, or NULL */
	int srv_state_load;             /* load-server-state-from-file (enum srv_state_load) */
	const char *srv_state_name;     /* server-state-file-name, NULL: the backend's name */
};

struct proxy {
	struct list list;               /* all proxies in configuration order */
	char *id;
	int uuid;                       /* numeric id ("iid") */
	unsigned cap;                   /* PR_CAP_* */
	const char *conf_file;
	int conf_line;
	struct proxy_conf c;

	/* frontend side */
	struct list binds;              /* struct bind_conf */
	struct list listeners;          /* struct listener */
	struct proxy *defbe;
	struct list switching_rules;    /* use_backend */
	struct list http_req_rules;
	struct list http_res_rules;
	struct list redirect_rules;     /* "redirect" lines, after http-request rules */
	struct list persist_rules;      /* force-persist / ignore-persist */
	struct stktable *table;         /* its "stick-table", or NULL */
	struct list sticking_rules;     /* stick on / match / store-request */
	struct list storersp_rules;     /* stick store-response */
	void *captures;                 /* "capture" lines (capture.c), or NULL */
	struct error_snapshot *err_req, *err_res;  /* last invalid messages ("show errors") */
	_Atomic int feconn;                   /* current client connections */
	_Atomic unsigned long log_count;       /* traffic lines logged (the log's %lc) */
	_Atomic int fe_max;                   /* peak */
	_Atomic int listeners_paused;

	/* backend side */
	struct list servers;            /* struct server */
	int nb_srv;
	_Atomic int srv_act, srv_bck;       /* usable active / backup servers */
	const struct server *fbck;      /* first usable backup, by declaration order */
	_Atomic int beconn;                   /* streams assigned to this backend */
	_Atomic int be_max;
	void *lb_state;                 /* algorithm private */
	/* With several threads, taken around everything the threads share in
	 * a backend: the balancer's state, the queues, the servers' stream
	 * counts and state changes (recursive: a state change serves the
	 * queues). Only taken when nbthread > 1 (be_lock()). */
	pthread_mutex_t lock;
	struct list queue;              /* streams waiting for a server slot */
	_Atomic int nb_queued;
	unsigned queue_idx;              /* streams served from the queue so far (the log's %bq) */
	_Atomic int max_queued;
	uint64_t last_change_ms;
	uint64_t down_since_ms;         /* backend without any usable server since */
	uint64_t downtime_ms;
	unsigned chk_down;              /* times it lost its last server */
	const struct sample_expr *sni_expr; /* TLS servers' "sni", evaluated on the request head */
	const char *sni_text;           /* as written: servers with the same text use that value */

	struct px_counters *fe_counters; /* per thread */
	struct px_counters *be_counters; /* per thread */
	struct fe_live *fe_live;        /* per thread: rates (live.h) */
	struct be_live *be_live;        /* per thread: rates, timers */
};

extern struct list proxies;         /* every proxy, config order */

struct proxy *proxy_find(const char *name, unsigned cap);
struct server *proxy_find_server(const struct proxy *be, const char *name);
/* The effective timeout <to> (0 when unset). */
static inline int px_to(const struct proxy *px, enum px_timeout to) { return px->c.to[to]; }
/* A frontend's connection limit: its maxconn, else the global one. */
static inline int fe_maxconn(const struct proxy *fe)
{
	return fe->c.maxconn ? fe->c.maxconn : global.maxconn;
}

/* The backend lock (see proxy.lock): nothing to take with one thread. */
static inline void be_lock(struct proxy *be)
{
	if (global.nbthread > 1)
		pthread_mutex_lock(&be->lock);
}

static inline void be_unlock(struct proxy *be)
{
	if (global.nbthread > 1)
		pthread_mutex_unlock(&be->lock);
}

#endif
