/* A server of a backend: address, weights, admin and operational state,
 * and a per-thread pool of idle keep-alive connections. */
#ifndef PROXYD_SERVER_H
#define PROXYD_SERVER_H

#include <stdint.h>
#include <sys/socket.h>

#include <proxyd/check.h>
#include <proxyd/counters.h>
#include <proxyd/list.h>

struct proxy;
struct conn;
struct srv_ssl;
struct srv_ssl_conf;
struct thread_ctx;
struct srv_live;

/* Server flags set by configuration. */
enum {
	SRV_F_BACKUP   = 1 << 0,
	SRV_F_DISABLED = 1 << 1,    /* "disabled": starts in maintenance */
	SRV_F_CHECK    = 1 << 2,    /* health checks enabled (later) */
};

/* Admin state bits, as HAProxy's srv_admin_state (show servers state). */
enum {
	SRV_ADMF_FMAINT = 0x01,     /* forced maintenance (CLI, stats page) */
	SRV_ADMF_IMAINT = 0x02,     /* inherited maintenance (track) */
	SRV_ADMF_CMAINT = 0x04,     /* "disabled" in the configuration: a mark that
	                             * stays; the maintenance itself is FMAINT, set
	                             * with it, which "enable server" clears */
	SRV_ADMF_FDRAIN = 0x08,
	SRV_ADMF_IDRAIN = 0x10,
};
#define SRV_ADMF_MAINT (SRV_ADMF_FMAINT | SRV_ADMF_IMAINT)
#define SRV_ADMF_DRAIN (SRV_ADMF_FDRAIN | SRV_ADMF_IDRAIN)

/* Operational state, as HAProxy's srv_op_state. */
enum srv_state {
	SRV_ST_STOPPED = 0,
	SRV_ST_STARTING,
	SRV_ST_RUNNING,
	SRV_ST_STOPPING,
};

/* Settings a "default-server" line can carry: copied into each server. */
struct srv_conf {
	int weight;          /* user weight at start, 0..256 */
	int maxconn;         /* concurrent streams, 0 = unlimited */
	int maxqueue;        /* 0 = unlimited */
	unsigned flags;      /* SRV_F_* */
	struct chk_conf ck;  /* health check settings */
	struct srv_ssl_conf *ssl; /* TLS options, NULL without any (copy-on-write) */
};

struct srv_per_thread {
	struct list idle;    /* idle connections, oldest first */
	int nb_idle;
};

struct server {
	struct list list;             /* in the backend, declaration order */
	struct proxy *be;
	char *id;
	int puid;                     /* numeric id (stats "sid") */
	const char *conf_file;
	int conf_line;
	int dynamic;                  /* added at run time ("add server") */
	int deleted;                  /* "del server": out of its backend, kept for readers (srv_dyn.c) */
	struct srv_conf c;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *addr_text;              /* as configured */
	const char *cookie;           /* persistence cookie value, or NULL */
	size_t cookie_len;

	_Atomic unsigned admin;              /* SRV_ADMF_* */
	_Atomic enum srv_state state;
	int uweight;                  /* current user weight (set weight) */
	_Atomic int eweight;                 /* effective weight used by the balancer */
	_Atomic int served;                 /* streams currently assigned */
	_Atomic int cur_sess;               /* streams connecting or connected to it (the log's %sc) */
	_Atomic int cur_conns;              /* open connections, idle included */
	_Atomic int max_served;
	uint64_t last_change_ms;
	uint64_t down_since_ms;       /* 0 while up */
	uint64_t downtime_ms;         /* accumulated, excluding the current period */
	unsigned chk_fail;            /* failed checks while up */
	unsigned chk_down;            /* UP -> DOWN transitions */
	struct check check;

	struct {                      /* balancer-private state */
		int heap_idx;             /* position in the algorithm's heap, -1 when out */
		uint64_t key;             /* heap order: deadline, load... */
		uint64_t seq;             /* tie-break: older first */
		uint64_t step;            /* roundrobin: tag increment (1/weight) */
		int weight;               /* roundrobin: weight it is scheduled with, 0 when out */
	} lb;
	struct list queue;            /* streams waiting for this very server (hash, persistence) */
	_Atomic int nb_queued;
	_Atomic int max_queued;              /* peak of nb_queued (stats qmax) */
	unsigned queue_idx;              /* streams served from its queue so far (the log's %sq) */

	struct srv_ssl *ssl;          /* TLS contexts and sessions, NULL without TLS */
	struct srv_per_thread *pt;    /* global.nbthread entries */
	struct px_counters *counters; /* global.nbthread entries */
	struct srv_live *live;        /* global.nbthread entries: rates, timers (live.h) */
};

/* Can the balancer send new traffic to it? */
static inline int srv_usable(const struct server *s)
{
	/* a drained server keeps its weight (shown in the stats) but takes
	 * no new balanced traffic; persistence still reaches it */
	return !(s->admin & (SRV_ADMF_MAINT | SRV_ADMF_DRAIN)) && s->state == SRV_ST_RUNNING && s->eweight > 0;
}
/* Is it at its maxconn? */
static inline int srv_full(const struct server *s)
{
	return s->c.maxconn && s->served >= s->c.maxconn;
}

/* Which idle connections a request may take (see http-reuse). */
enum idle_pick {
	IDLE_PICK_OWN = 0,    /* only the one this client connection parked */
	IDLE_PICK_PROVEN,     /* also one that already served several requests */
	IDLE_PICK_ANY,
};

/* Takes an idle connection to <srv>: <prefer> when it is still parked,
 * else one allowed by <pick>, opened with the same SNI (<sni_hash>, 0 for
 * none). NULL when none. */
struct conn *srv_take_idle(struct server *srv, struct thread_ctx *th, struct conn *prefer,
                           enum idle_pick pick, uint32_t sni_hash);
/* Parks a connection after a transaction; a <private> one stays reserved
 * to the client connection that used it (http-reuse never). */
void srv_add_idle(struct server *srv, struct thread_ctx *th, struct conn *c, int private);
void srv_purge_idle(struct server *srv, struct thread_ctx *th, uint64_t now_ms, int all);
/* Frees a server-side connection object (closed or not). */
void srv_conn_free(struct thread_ctx *th, struct conn *c);

#endif
