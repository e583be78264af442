/* Traffic counters. Each thread updates its own copy; readers (stats, CLI)
 * add the copies up, so counting never needs a lock or an atomic. */
#ifndef PROXYD_COUNTERS_H
#define PROXYD_COUNTERS_H

#include <stdint.h>

struct px_counters {
	uint64_t cum_conn;        /* accepted connections (frontend) */
	uint64_t cum_sess;        /* sessions (fe: accepted, be: assigned) */
	uint64_t cum_req;         /* HTTP requests */
	uint64_t bytes_in;        /* from clients */
	uint64_t bytes_out;       /* to clients */
	uint64_t denied_req;
	uint64_t denied_resp;
	uint64_t failed_req;      /* bad requests, client errors before the request completed */
	uint64_t failed_conns;    /* econ */
	uint64_t failed_resp;     /* eresp */
	uint64_t retries;
	uint64_t redispatches;
	uint64_t cli_aborts;
	uint64_t srv_aborts;
	uint64_t intercepted;     /* answered locally */
	uint64_t connect;         /* connection attempts to servers */
	uint64_t reuse;           /* reused server connections */
	uint64_t lbtot;           /* times chosen by the balancer */
	uint64_t rsp[6];          /* 1xx..5xx, other */
	uint64_t internal_errors;
	uint64_t ssl_sess;        /* TLS handshakes completed (frontend: by clients) */
	uint64_t ssl_reused;      /* of which resumed a session */
	uint64_t ssl_failed_hs;   /* TLS handshakes that failed */
};

#define COUNTERS_NB_FIELDS (sizeof(struct px_counters) / sizeof(uint64_t))

/* Adds every thread's copy of <per_thread> into <sum>. */
void counters_sum(struct px_counters *sum, const struct px_counters *per_thread, int nbthread);

#endif
