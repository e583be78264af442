/* Servers added and deleted at run time ("add server", "del server" on the
 * admin socket), with HAProxy 2.6's rules and messages. */
#ifndef PROXYD_SRV_DYN_H
#define PROXYD_SRV_DYN_H

#include <stddef.h>

struct proxy;
struct server;

/* Can <be>'s algorithm take servers at run time? NULL, or HAProxy's
 * refusal. */
const char *srv_dyn_refusal(const struct proxy *be);
/* Creates <name> in <be> at <addr> with the server options args[0..nargs),
 * in maintenance (as HAProxy: "enable server" puts it in service, "enable
 * health" starts its checks). The server, or NULL with the message in
 * <err>. */
struct server *srv_dyn_add(struct proxy *be, const char *name, const char *addr, char **args, int nargs,
                           char *err, size_t errlen);
/* Removes a server in maintenance with nothing attached to it. 0, or -1
 * with the message in <err>. */
int srv_dyn_del(struct server *srv, char *err, size_t errlen);

#endif
