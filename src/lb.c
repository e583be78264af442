/* Balance algorithm registry and what all algorithms share. */
#include <string.h>

#include <proxyd/lb.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

struct registry lb_algos = REGISTRY_INIT("balance algorithms");

const struct lb_algo *lb_find(const char *name)
{
	struct reg_node *n;

	registry_for_each(n, lb_algos) {
		const struct lb_algo *a = n->table;
		if (strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

/* Recounts the usable servers of <srv>'s backend and tells its algorithm. */
void lb_server_changed(struct server *srv)
{
	struct proxy *be = srv->be;
	struct server *s;
	int act = 0, bck = 0;

	list_for_each(s, &be->servers, list) {
		if (!srv_usable(s))
			continue;
		if (s->c.flags & SRV_F_BACKUP)
			bck++;
		else
			act++;
	}
	be->srv_act = act;
	be->srv_bck = bck;
	if (srv_usable(srv)) {
		if (be->c.lb->srv_up)
			be->c.lb->srv_up(be, srv);
	} else if (be->c.lb->srv_down) {
		be->c.lb->srv_down(be, srv);
	}
}
