/* Readiness and status notifications to the service manager (systemd's
 * Type=notify protocol), without libsystemd: one datagram to the unix
 * socket named by $NOTIFY_SOCKET. */
#ifndef PROXYD_SD_NOTIFY_H
#define PROXYD_SD_NOTIFY_H

#include <proxyd/compiler.h>

/* Formats one message ("READY=1", "RELOADING=1", "STATUS=...",
 * "MAINPID=<pid>", several separated by '\n') and sends it. Returns 1 when
 * it was sent, 0 when $NOTIFY_SOCKET is not set (not started by a service
 * manager: nothing to do), or -errno (the socket name is invalid or too
 * long, the message too long, the manager is not listening...). Never
 * blocks: a manager that cannot take the datagram right now loses it. */
int sd_notifyf(const char *fmt, ...) PRINTF(1, 2);

#endif
