/* Changes an operator makes to servers at run time (admin socket, stats
 * page), with HAProxy's rules and messages. Each returns 0, or -1 with
 * HAProxy's error text in <err> (ending with a newline, ready to print). */
#ifndef PROXYD_SRV_ADMIN_H
#define PROXYD_SRV_ADMIN_H

#include <stddef.h>

struct server;

enum srv_adm_state { SRV_ADM_READY, SRV_ADM_DRAIN, SRV_ADM_MAINT };

/* ready: out of maintenance and drain; drain: no new balanced traffic,
 * persistence and checks go on; maint: no traffic, checks paused. */
void srv_adm_set_state(struct server *srv, enum srv_adm_state st);
/* "<n>" (0..256) or "<n>%" of the configured weight. */
int srv_adm_set_weight(struct server *srv, const char *arg, char *err, size_t errlen);
/* Forces the health as a check would: "up", "stopping" or "down". */
int srv_adm_set_health(struct server *srv, const char *arg, char *err, size_t errlen);
/* disable health: checks stop and the server counts as UP; enable: they
 * run again from where they were. */
void srv_adm_pause_checks(struct server *srv, int paused);
int srv_adm_set_maxconn(struct server *srv, const char *arg, char *err, size_t errlen);
/* 1 with HAProxy's report ("IP changed from ... by 'stats socket command'")
 * in <err>, or -1 with the error. */
int srv_adm_set_addr(struct server *srv, const char *ip, const char *port, char *err, size_t errlen);
/* The same, the change logged as made by <by> ("stats socket command");
 * NULL logs nothing (a state file restores an address silently, as
 * HAProxy does). */
int srv_adm_set_addr_by(struct server *srv, const char *ip, const char *port, const char *by, char *err,
                        size_t errlen);
/* Ends the streams of the server (shutdown sessions server); how many. */
int srv_adm_shutdown_sessions(struct server *srv);

#endif
