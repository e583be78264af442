/* Listening sockets handed over by another process (reload with -x, or a
 * master re-executing itself): kept in a pool until a listener with the
 * same address takes one instead of binding a new socket, so that no
 * connection attempt is refused while processes change. */
#ifndef PROXYD_FD_HANDOVER_H
#define PROXYD_FD_HANDOVER_H

#include <sys/socket.h>

/* Adds a listening socket to the pool; the pool owns it from now on.
 * Returns 0, or -1 when <fd> is not a listening socket (left untouched). */
int handover_add(int fd);
/* The pooled socket bound to exactly <addr> (family, address, port or
 * path), removed from the pool; -1 when there is none. */
int handover_take(const struct sockaddr_storage *addr);
/* Closes what no listener took: those addresses left the configuration. */
void handover_close_unused(void);
int handover_count(void);

#endif
