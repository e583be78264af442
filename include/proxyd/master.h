/* Master-worker mode (-W, -Ws, "master-worker"), as HAProxy's: a master
 * process parses the configuration, binds the listening sockets and keeps
 * them for the life of the service, forks one worker that serves, and
 * watches it. A reload (SIGUSR2 or "reload" on the master CLI) re-executes
 * the master with its arguments; the listening sockets and the workers'
 * control sockets cross the exec (their numbers in the environment), so
 * nothing stops listening. The new image parses the configuration again:
 * broken, it logs why and waits with the old worker still serving; valid,
 * it forks a new worker, gives it the old worker's server states and
 * counters, and once the new worker says it is ready, asks the old ones to
 * stop softly (SIGUSR1).
 *
 * Each worker has a control socketpair with the master (SOCK_SEQPACKET):
 * the worker sends "R" once it serves; the master sends "C" with a socket
 * attached (SCM_RIGHTS), which the worker serves as an admin CLI session:
 * that is how the master asks for a dump or forwards "@<n> <command>". */
#ifndef PROXYD_MASTER_H
#define PROXYD_MASTER_H

#include <stddef.h>

struct ev_loop;

/* Command line: -W, -Ws, -S <bind>[,<option>,<value>...]. 0 or -1. */
void master_opt_W(int systemd);
int master_opt_S(const char *spec);

/* Before parsing: picks up what a reloading master handed over through
 * the environment (listening sockets, workers, counters). */
void master_env_init(int argc, char **argv);
/* True when -W/-Ws or "master-worker" asked for master-worker mode. */
int master_enabled(void);
/* True in a master image started by a reload; the second one in a worker
 * forked by such an image. */
int master_reexeced(void);
int master_reexeced_worker(void);
/* A reload whose configuration is broken: logs why, keeps the old workers
 * and waits for the next reload. Does not return. */
void master_wait_mode(const char *why);
/* Listeners are bound: forks the worker. Returns only in the worker; the
 * master runs until the service stops, then exits. */
void master_start(void);

/* Worker side: once it serves (event loop ready), tells the master and
 * listens to it. master_worker_deinit() before the loop is destroyed. */
void master_worker_ready(struct ev_loop *loop);
void master_worker_deinit(void);

/* For the master CLI: "show proc" (malloc'd text), a reload (returns only
 * when the exec failed), whether the last reload failed (prompt). */
void master_show_proc(char **out, size_t *len);
void master_reload(void);
int master_reload_failed_state(void);
/* Sends <cmd> to the worker named by <target> ("1" relative number, "!PID"),
 * returns its answer (malloc'd) or NULL with a message in <err>. */
char *master_forward(const char *target, const char *cmd, char *err, size_t errlen);

/* The master CLI (src/master_cli.c). */
int mcli_add(const char *spec);
int mcli_bind(void);
void mcli_start(struct ev_loop *loop);
/* The listening fds, for the exec of a reload (in -S order). */
int mcli_fds(int *out, int max);
void mcli_adopt_fds(const char *list);
void mcli_close(int unlink_paths);

/* The counters part of the state handed to the next worker
 * (src/counters_xfer.c): "_show counters" writes it, this applies it by
 * proxy and server names. Returns the number of objects updated. */
int counters_apply_text(const char *buf, size_t len);

#endif
