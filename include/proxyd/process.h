/* The process around the proxy: file descriptor limit, running in the
 * background, pid file, privileges, old processes (see process.c). */
#ifndef PROXYD_PROCESS_H
#define PROXYD_PROCESS_H

/* File descriptors kept on top of the connections' own. */
#define ULIMIT_MARGIN 20

/* The RLIMIT_NOFILE a process with <maxconn> connections needs when no
 * "ulimit-n" is given: two per connection, one per listener and per
 * health check, plus ULIMIT_MARGIN. */
int ulimit_needed(int maxconn, int nb_listeners, int nb_checks);
/* Raises the soft RLIMIT_NOFILE to "ulimit-n" (or the computed need);
 * -1 after an alert when the hard limit is lower. */
int process_set_limits(const char *progname);
/* Forks: the parent waits until the child calls process_ready() and exits
 * 0, or exits with the child's failure status. The child leads a new
 * session. Returns 0 in the child, -1 after an alert. */
int daemon_start(void);
/* Writes getpid() into the "pidfile" / -p file in daemon mode (0 without
 * one, or in the foreground, where HAProxy writes none either). */
int pidfile_write(void);
/* chroot, then group, then user; -1 after an alert. */
int process_drop_privileges(const char *progname);
/* Sends <sig> to each old process (-sf: SIGUSR1, -st: SIGTERM). */
void process_signal_old(const int *pids, int nb, int sig);
/* The daemon runs: stdin/out/err go to /dev/null and the parent exits 0. */
void process_ready(void);

#endif
