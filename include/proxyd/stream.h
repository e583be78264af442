/* A stream is one client connection's life through the proxy: the client
 * connection, the server connection when there is one, the two buffers,
 * the current HTTP transaction, the chosen backend and server, the timers
 * and everything the log needs. */
#ifndef PROXYD_STREAM_H
#define PROXYD_STREAM_H

#include <stdint.h>
#include <ev.h>

#include <proxyd/addr.h>
#include <proxyd/buf.h>
#include <proxyd/conn.h>
#include <proxyd/http.h>
#include <proxyd/list.h>

struct listener;
struct proxy;
struct server;
struct thread_ctx;
struct http_reply;
struct var_value;
struct http_svc;

/* What the stream is doing about the server side. */
enum srv_step {
	SS_NONE = 0,          /* no server needed yet */
	SS_QUEUED,            /* waiting for a slot */
	SS_TURNAROUND,        /* waiting before a connection retry */
	SS_CONNECTING,
	SS_ESTABLISHED,
	SS_CLOSED,
};

/* Stream flags. */
enum {
	SF_HTTP          = 1 << 0,   /* mode http */
	SF_NOT_FIRST     = 1 << 1,   /* a request already completed on this client connection */
	SF_CLI_CLOSE     = 1 << 2,   /* close the client connection after this response */
	SF_SRV_CLOSE     = 1 << 3,   /* do not keep the server connection */
	SF_REQ_KEPT      = 1 << 4,   /* the whole request is still in the buffer (retryable) */
	SF_RES_STARTED   = 1 << 5,   /* some response byte came from the server */
	SF_LOCAL_RES     = 1 << 6,   /* the response is produced by the proxy */
	SF_TUNNEL        = 1 << 7,   /* raw forwarding both ways */
	SF_ASSIGNED      = 1 << 8,   /* counted in srv->served */
	SF_CLI_SHUTR     = 1 << 9,   /* client sent EOF */
	SF_SRV_SHUTR     = 1 << 10,  /* server sent EOF */
	SF_CLI_SHUTW     = 1 << 11,
	SF_SRV_SHUTW     = 1 << 12,
	SF_IN_QUEUE      = 1 << 13,  /* entered a queue, not yet left it (as its own thread sees it) */
	SF_CLOSING       = 1 << 14,  /* flush the response then close the client */
	SF_BE_ASSIGNED   = 1 << 15,  /* counted in be->beconn */
	SF_ERR_LOGGED    = 1 << 16,
	SF_UPGRADE_REQ   = 1 << 17,  /* the request asked for a protocol switch */
	SF_REQ_SENT_ALL  = 1 << 18,  /* the whole request went to the server */
	SF_KILL          = 1 << 19,  /* free the stream at the end of this processing */
	SF_LINGER        = 1 << 20,  /* response sent and write side shut: draining before close */
	SF_SRV_ERR       = 1 << 21,  /* server connection failed or was reset */
	SF_CLI_ERR       = 1 << 22,  /* client connection failed or was reset */
	SF_NO_RETRY      = 1 << 23,  /* the request cannot be sent again */
	SF_SRV_WANTED    = 1 << 24,  /* a server connection is needed (assign, queue, connect) */
	SF_DST_SET       = 1 << 25,  /* s->dst was read */
	SF_LB_KEY        = 1 << 26,  /* s->lb_key holds the balancing hash of this request */
	SF_DIRECT        = 1 << 27,  /* persistence chose s->srv: no balancing */
	SF_IGNORE_PERSIST = 1 << 28, /* ignore-persist matched */
	SF_FORCE_PERSIST = 1 << 29,  /* force-persist matched: down servers too, no redispatch */
	SF_HANDSHAKE     = 1 << 30,  /* client TLS handshake in progress: nothing else runs */
};

/* stream->log_flags */
enum {
	SLOG_ASAP     = 1 << 0,   /* logged early (option logasap): running times get '+' */
	SLOG_ACCEPTED = 1 << 1,   /* the "Connect from" line was sent */
	SLOG_DONE     = 1 << 2,   /* a TCP stream's line was sent */
	SLOG_STATS    = 1 << 3,   /* answered by the stats page: "<STATS>" in logs */
	SLOG_CUR_SESS = 1 << 4,   /* counted in srv->cur_sess */
};

/* One request/response exchange. Taken from a pool while active only. */
struct http_txn {
	struct http_msg req;
	struct http_msg rsp;
	enum http_meth meth;
	int status;                   /* final status sent to the client */
	uint64_t t_start;             /* first byte of the request, ms */
	uint64_t t_hdrs;              /* request head complete */
	uint64_t t_queue;             /* left the queue */
	uint64_t t_connect;           /* server connection established */
	uint64_t t_rsp_hdrs;          /* response head received */
	uint64_t bytes_out;           /* response bytes sent to the client */
	uint64_t bytes_in;            /* request bytes received */
	uint16_t rline_len;           /* 0: no request line was parsed */
	unsigned char logged;
	char ck_req, ck_res;          /* cookie persistence letters of the log (%tsc) */
	unsigned ck_first_date;       /* dates of the client's cookie (maxlife, maxidle), s */
	unsigned ck_last_date;
	uint32_t arena_used;          /* bytes of the arena used by rules */
	struct var_value *vars;       /* txn/req/res variables */
	char *cap;                    /* captured headers and cookies (capture.c), or NULL */
	char *unique_id;              /* unique-id-format, or NULL */
	const struct http_svc *svc;   /* service producing the response (stats page...), or NULL */
	union {
		char raw[128];            /* the service's state (HTTP_SVC_CTX_SIZE) */
		uint64_t align;
	} svc_ctx;
	char rline[1024];             /* request line for the log, cut as HAProxy's (tune.http.logurilen) */
	struct http_hdr hdrs[];       /* req then rsp header tables */
};

struct stream {
	struct list list;             /* in the thread's stream list */
	struct thread_ctx *th;
	struct listener *li;
	struct proxy *fe;
	struct proxy *be;
	struct server *srv;
	struct server *prev_srv;      /* redispatch: the server that failed */
	struct server *queue_srv;     /* the server whose queue holds the stream, if any */
	uint32_t lb_key;
	struct conn cli;              /* client side, embedded */
	struct conn *sc;              /* server side, or NULL */
	struct conn *last_conn;       /* server connection parked by this stream */
	struct buf req;               /* client -> server */
	struct buf res;               /* server -> client */
	uint32_t req_out;             /* next request byte to send (absolute offset) */
	uint32_t req_fwd;             /* request bytes up to here may be sent */
	uint32_t res_fwd;             /* response bytes up to here may be sent */
	struct http_txn *txn;
	unsigned flags;               /* SF_* */
	enum srv_step step;
	int conn_retries;             /* left */
	char term[2];                 /* termination state for the log, e.g. "sH" */
	ev_timer timer;
	uint64_t timer_at;            /* when the timer is armed for, ms (0: not armed) */
	uint64_t t_accept;
	uint64_t t_cli_act;           /* last client activity, ms */
	uint64_t t_srv_act;           /* last server activity */
	uint64_t t_step;              /* start of the current server step (queue, connect, turnaround) */
	struct list queue_el;         /* in be->queue */
	/* Queue state shared with the other threads, under the backend lock:
	 * another thread that frees a slot takes the stream out of its queue,
	 * reserves the slot for it (granted) and posts it to its thread. */
	int in_queue;                 /* in a queue (queue_el linked) */
	int q_direct;                 /* waits for its server (persistence), not the balancer */
	int q_requeued;               /* its server went down: balanced again */
	uint64_t t_enq;               /* when it entered the queue (oldest served first) */
	struct server *granted;       /* slot reserved by another thread, not yet taken */
	struct list mb_el;            /* in its thread's mailbox (thread_ctx.mb_streams) */
	_Atomic int rkill;            /* killed from another thread: term | phase << 8, 0: no */
	struct var_value *sess_vars;  /* "sess." variables, allocated when first set */
	struct stk_pending *stk;      /* stick table keys waiting for the server */
	union sockaddr_any src, dst;
	uint32_t uniq_id;             /* the log's %rt: per request in HTTP, per connection in TCP */
	union sockaddr_any bsrc;      /* local address of the last server connection (%bi, %bp) */
	uint64_t t_idle_from;         /* accept, or end of the previous transaction: the log's Ti */
	uint32_t t_handshake;         /* ms spent in the TLS handshake: the log's Th */
	int srv_queue_pos, be_queue_pos; /* the log's %sq/%bq (see backend_dequeue()) */
	unsigned queue_idx;           /* its queue's queue_idx when it entered it */
	uint64_t bytes_in, bytes_out; /* client side, whole stream (TCP logs) */
	uint64_t t_queue_end;         /* left the queue (TCP logs; HTTP: in the txn) */
	uint64_t t_connect;           /* server connection established (idem) */
	unsigned char log_flags;      /* SLOG_* */
	unsigned nb_req;              /* requests on this client connection */
	unsigned progress;            /* bumped by every step that changes something */
	uint64_t exp_cli;             /* client-side deadline, ms (0: none) */
	uint64_t exp_srv;             /* server-side deadline */
	uint64_t exp_step;            /* queue / connect / turnaround / linger deadline */
	const char *why;              /* reason of an error, for the debug log */
	uint64_t acc_in, acc_out;     /* client bytes received / sent over the stream's life */
	uint64_t acc_in_done, acc_out_done; /* the part of them already counted for the backend and server */
	/* the backend's server SNI, evaluated while the request head can be
	 * read (in the transaction's arena); used for the servers that have
	 * this very expression */
	const struct sample_expr *sni_expr;
	const char *sni;
	uint32_t sni_len;
};

/* Termination codes for the log: who ended the stream and when. */
enum {
	TERM_CLI_ABORT = 'C', TERM_SRV_ABORT = 'S', TERM_PROXY = 'P', TERM_RESOURCE = 'R',
	TERM_INTERNAL = 'I', TERM_CLI_TO = 'c', TERM_SRV_TO = 's', TERM_LOCAL = 'L',
	TERM_SRV_DOWN = 'D',      /* its server went DOWN (on-marked-down shutdown-sessions) */
	TERM_SRV_UP = 'U',        /* a backup's stream, an active server came UP (on-marked-up) */
	TERM_KILLED = 'K',        /* killed by an administrator (shutdown session) */
};
enum {
	PHASE_REQ = 'R', PHASE_QUEUE = 'Q', PHASE_CONN = 'C', PHASE_HDRS = 'H', PHASE_DATA = 'D',
	PHASE_LAST = 'L',
};

/* Records the first termination cause only. */
static inline void stream_set_term(struct stream *s, char cause, char phase)
{
	if (s->term[0] == '-') {
		s->term[0] = cause;
		s->term[1] = phase;
	}
}

/* Shared by the stream modules (stream.c, http_ana.c, backend.c). */
int stream_buf_alloc(struct stream *s, struct buf *b);
void stream_buf_release(struct stream *s, struct buf *b);
/* Moves request / response data back to the start of their buffer,
 * adjusting every offset that points into it. */
void stream_req_compact(struct stream *s);
void stream_res_compact(struct stream *s);
/* Closes the server side: parks the connection when <reusable>, else
 * closes it; releases the server slot. */
void stream_srv_close(struct stream *s, int reusable);
/* Marks the stream for closing once the pending response bytes are sent. */
void stream_close_after_send(struct stream *s);

/* Creates a stream for an accepted connection <fd>. Returns NULL (and
 * closes fd) when memory is short. */
struct stream *stream_new(struct thread_ctx *th, struct listener *li, int fd,
                          const struct sockaddr *from, socklen_t fromlen);
/* Runs the stream's steps until nothing more can progress. */
void stream_process(struct stream *s);
/* Wakes a stream from elsewhere (queue slot freed): processed soon, from
 * the loop, not from the caller's stack. From another thread, the caller
 * must keep the stream alive meanwhile: hold the backend lock while it is
 * queued, or its thread's streams_lock. */
void stream_wake(struct stream *s);
/* Kills <s> (owned by any thread; same conditions as stream_wake()). */
void stream_kill(struct stream *s, int term, int phase);
/* hard-stop-after: a request still waiting for its response is answered
 * with a 502 at once (sent as far as the socket takes it); on its thread. */
void stream_hard_stop(struct stream *s);
/* Its own thread handles what other threads posted for <s> (mailbox). */
void stream_remote_wake(struct stream *s);
/* The next request number (the log's %rt), shared by all streams. */
uint32_t stream_new_id(void);
/* Closes everything and frees the stream. */
void stream_free(struct stream *s);
/* The address the client connected to, read once when first needed. */
const union sockaddr_any *stream_dst(struct stream *s);
/* Counts the client bytes moved since the last call for the current
 * backend and server (the frontend counts them as they move). */
void stream_flush_counters(struct stream *s);
/* Soft-stop: close idle client connections. */
void streams_close_idle(struct thread_ctx *th);

#endif
