/* Changing a server at run time: admin state (ready, drain, maint) and
 * weight, from the stats page now and the admin socket later. Every
 * change goes through lb_server_changed() so that the balancer, the
 * backend's server counts and the queues follow. */
#ifndef PROXYD_SRV_ADMIN_H
#define PROXYD_SRV_ADMIN_H

struct server;

/* "ready": leaves forced maintenance and drain. Returns 1 if something changed. */
int srv_admin_ready(struct server *srv);
/* "drain": no new balanced traffic (persistence still works); leaves maint. */
int srv_admin_drain(struct server *srv);
/* "maint": no traffic at all, checks paused. */
int srv_admin_maint(struct server *srv);
/* Sets the user weight: <w> absolute, or percent of the configured weight
 * when <pct>. Returns 0, or -1 with a reason in <err> (as HAProxy's). */
int srv_admin_weight(struct server *srv, int w, int pct, const char **err);
/* Kills the streams the server is serving; returns how many. */
int srv_admin_shutdown(struct server *srv);

#endif
