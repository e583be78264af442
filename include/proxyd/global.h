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
	MODE_MWORKER    = 1 << 8,   /* -W / master-worker: the master owns the listening sockets */
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
	int hard_stop_after;  /* ms, 0: a soft stop waits for the last stream */
	/* process management (process.c) */
	int daemon;           /* "daemon" or -D */
	const char *pidfile;  /* "pidfile" or -p */
	const char *chroot;
	int uid, gid;         /* 0: unchanged */
	int ulimit_n;         /* 0: computed from maxconn */
	int maxconn_auto;     /* maxconn was computed from the fd limit */
	int maxsock;          /* file descriptors the process needs (show info Maxsock) */

	/* runtime, all threads */
	_Atomic int actconn;  /* current client connections, all frontends */
	_Atomic uint64_t cum_conns;
	_Atomic uint64_t cum_req;
	_Atomic int listeners_paused; /* global maxconn reached */
	_Atomic int stopping; /* soft stop: serving the last requests, then exit (read by every thread) */
	int sig_paused;       /* listeners paused by SIGTTOU until SIGTTIN */
	int fds_handed_over;  /* _getsocks gave the listening sockets to another process */
	uint64_t start_ms;     /* when the process started serving */
};

extern struct global global;

#endif
