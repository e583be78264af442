/* Process-wide settings from the "global" section and the command line.
 * Written while parsing, read-only once the loops run (except the few
 * runtime counters at the end, atomics shared by all threads). */
#ifndef PROXYD_GLOBAL_H
#define PROXYD_GLOBAL_H

#include <stdint.h>

enum {
	MODE_DEBUG      = 1 << 0,   /* -d: foreground, verbose, logs on stderr */
	MODE_CHECK      = 1 << 1,   /* -c */
	MODE_QUIET      = 1 << 2,   /* -q */
	MODE_FOREGROUND = 1 << 3,
};

struct global {
	int maxconn;          /* 0 until computed from the fd limit */
	int nbthread;
	int bufsize;          /* tune.bufsize */
	int maxrewrite;       /* tune.maxrewrite: room kept for header rewrites */
	int max_http_hdr;     /* tune.http.maxhdr */
	int maxaccept;        /* tune.maxaccept: accepts per listener wake-up */
	int pool_max_idle;    /* idle server connections kept per server and thread */
	int idle_purge_ms;    /* how long an idle server connection is kept */
	int spread_checks;    /* spread-checks: percentage of randomness on check intervals */
	unsigned mode;        /* MODE_* */
	int poison;           /* -dM byte, or -1 */

	/* runtime, all threads */
	_Atomic int actconn;  /* current client connections, all frontends */
	_Atomic uint64_t cum_conns;
	_Atomic uint64_t cum_req;
	_Atomic int listeners_paused; /* global maxconn reached */
	int stopping;
	uint64_t start_ms;     /* when the process started serving */
};

extern struct global global;

#endif
