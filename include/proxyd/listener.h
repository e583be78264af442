/* Listening sockets: one "bind" line is a bind_conf with one listener per
 * address. */
#ifndef PROXYD_LISTENER_H
#define PROXYD_LISTENER_H

#include <sys/socket.h>
#include <sys/types.h>
#include <ev.h>

#include <proxyd/list.h>

struct proxy;
struct thread_ctx;
struct bind_ssl;

struct bind_conf {
	struct list list;            /* in the frontend */
	struct proxy *fe;
	const char *file;
	int line;
	const char *arg;             /* the addresses as written */
	int maxconn;                 /* 0 = frontend's */
	int backlog;                 /* 0 = maxconn-derived */
	const char *name;
	struct list listeners;
	struct bind_ssl *ssl;        /* TLS settings, NULL without any TLS keyword */
};

enum li_state {
	LI_INIT = 0,
	LI_READY,                    /* accepting */
	LI_PAUSED,                   /* maxconn reached, resumed when a connection ends */
	LI_CLOSED,
};

/* A listener as one thread sees it: with SO_REUSEPORT each thread has its
 * own socket on the address and the kernel spreads the connections; unix
 * sockets and inherited ones are shared (every thread polls the fd). A
 * reload from a process with more threads may also leave extra sockets on
 * the address, each given to one thread. */
struct li_thr {
	int fd;
	int own_fd;                  /* this entry opened or took fd (else it is listener.fd) */
	int tid;                     /* the thread whose loop watches it */
	enum li_state state;
	ev_io io;
	struct listener *li;
};

struct listener {
	struct list fe_el;           /* in the frontend */
	struct list bind_el;         /* in the bind_conf */
	struct bind_conf *bind;
	struct proxy *fe;
	int fd;                      /* thread 0's socket (the one handed over by -x) */
	int inherited;               /* fd@: do not close/unlink on exit */
	enum li_state state;         /* of thread 0 (kept for readers of this struct) */
	_Atomic int nbconn;
	struct li_thr *thr;          /* global.nbthread entries (index = thread), then nx extra ones */
	int nx;
	int luid;                    /* number in its frontend (1, 2...), shown in logs */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	dev_t ux_dev;                /* unix socket: the file bound, to unlink only our own */
	ino_t ux_ino;
};

/* Opens every listener of every frontend. Returns 0 or -1 after an alert. */
int listeners_bind_all(void);
/* <li>'s distinct listening sockets (its own, then each thread's own one):
 * up to <max> written to <fds>, their number returned. */
#define MAX_LI_SOCKS 65   /* a listener's own socket + one per thread (64 at most) */
int listener_sockets(const struct listener *li, int *fds, int max);
/* Starts accepting on the thread's loop. */
void listeners_start(struct thread_ctx *th);
void listeners_close_all(void);
/* Soft stop: closes the listeners of <px> (without shutdown(), which would
 * also stop a process that received the same sockets through -x). */
void listeners_close_proxy(struct proxy *px);
/* SIGTTOU / SIGTTIN: every frontend stops or starts accepting again. */
void listeners_pause_all(void);
void listeners_resume_all(void);
/* A client connection of <li> ended: may resume paused listeners. */
void listener_release(struct listener *li, struct thread_ctx *th);
/* Resumes <th>'s paused listeners that may accept again. */
void listeners_resume(struct thread_ctx *th);

#endif
