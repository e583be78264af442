/* SIGUSR1 (soft stop), SIGHUP (server states to the logs), SIGTTOU and
 * SIGTTIN (pause and resume the listeners), and the soft stop itself. */
#ifndef PROXYD_SIGNALS_H
#define PROXYD_SIGNALS_H

#include <ev.h>

/* Watches the signals on <loop> (the first thread's). */
/* From start-up until signals_start(): SIGUSR1, SIGHUP, SIGTTOU and SIGTTIN
 * stay pending rather than kill or stop the process. */
void signals_defer(void);
void signals_start(struct ev_loop *loop);
void signals_stop(void);
/* Stops listening, lets the streams in progress finish, then leaves the
 * loop (at "hard-stop-after" at the latest). */
void soft_stop(void);

#endif
