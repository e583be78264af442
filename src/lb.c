/* What every balance algorithm shares: the registry, which servers may take
 * new traffic (active or backup group), the hooks called when a server
 * changes, and a min-heap of servers. */
#include <stdlib.h>
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

int lb_use_backup(const struct proxy *be)
{
	return be->srv_act == 0;
}

/* be->fbck, the first usable backup by declaration order, is the only
 * backup that takes traffic unless "option allbackups". It is found when
 * the servers are counted (lb_server_changed()), not at each call: this
 * is asked on every take and drop. */
int lb_eligible(const struct proxy *be, const struct server *srv)
{
	if (!srv_usable(srv))
		return 0;
	if (!(srv->c.flags & SRV_F_BACKUP))
		return be->srv_act > 0;
	if (be->srv_act > 0)
		return 0;
	return (be->c.options & PR_O_ALLBACKUPS) || be->fbck == srv;
}

/* Recounts the usable servers of <srv>'s backend and tells its algorithm.
 * When the active group empties or fills again every server's eligibility
 * changes, so the algorithm hears about all of them. */
void lb_server_changed(struct server *srv)
{
	struct proxy *be = srv->be;
	struct server *s;
	const struct server *fbck = NULL;
	int act = 0, bck = 0;

	list_for_each(s, &be->servers, list) {
		if (!srv_usable(s))
			continue;
		if (s->c.flags & SRV_F_BACKUP) {
			if (!bck++)
				fbck = s;
		} else {
			act++;
		}
	}
	int group_changed = (act == 0) != (be->srv_act == 0) || (srv->c.flags & SRV_F_BACKUP);
	be->srv_act = act;
	be->srv_bck = bck;
	be->fbck = fbck;
	if (!be->c.lb->update || !be->lb_state)
		return;
	if (group_changed) {
		list_for_each(s, &be->servers, list)
			be->c.lb->update(be, s);
	} else {
		be->c.lb->update(be, srv);
	}
}

void lb_take(struct server *srv)
{
	struct proxy *be = srv->be;

	if (be->c.lb->take && be->lb_state)
		be->c.lb->take(be, srv);
}

void lb_drop(struct server *srv)
{
	struct proxy *be = srv->be;

	if (be->c.lb->drop && be->lb_state)
		be->c.lb->drop(be, srv);
}

/*------------------------------------------------------------------------
 * Heap ordered by (lb.key, lb.seq)
 */
static int less(const struct server *a, const struct server *b)
{
	return a->lb.key < b->lb.key || (a->lb.key == b->lb.key && a->lb.seq < b->lb.seq);
}

static void place(struct lb_heap *hp, int i, struct server *s)
{
	hp->h[i] = s;
	s->lb.heap_idx = i;
}

static void sift_up(struct lb_heap *hp, int i)
{
	struct server *s = hp->h[i];

	while (i > 0) {
		int parent = (i - 1) / 2;
		if (!less(s, hp->h[parent]))
			break;
		place(hp, i, hp->h[parent]);
		i = parent;
	}
	place(hp, i, s);
}

static void sift_down(struct lb_heap *hp, int i)
{
	struct server *s = hp->h[i];

	for (;;) {
		int c = 2 * i + 1;
		if (c >= hp->n)
			break;
		if (c + 1 < hp->n && less(hp->h[c + 1], hp->h[c]))
			c++;
		if (!less(hp->h[c], s))
			break;
		place(hp, i, hp->h[c]);
		i = c;
	}
	place(hp, i, s);
}

int lb_heap_init(struct lb_heap *hp, int cap)
{
	hp->n = 0;
	hp->cap = cap > 0 ? cap : 1;
	hp->h = calloc((size_t)hp->cap, sizeof(*hp->h));
	return hp->h ? 0 : -1;
}

void lb_heap_free(struct lb_heap *hp)
{
	free(hp->h);
	hp->h = NULL;
	hp->n = hp->cap = 0;
}

void lb_heap_push(struct lb_heap *hp, struct server *srv)
{
	if (srv->lb.heap_idx >= 0 || hp->n >= hp->cap)
		return;
	place(hp, hp->n++, srv);
	sift_up(hp, hp->n - 1);
}

void lb_heap_remove(struct lb_heap *hp, struct server *srv)
{
	int i = srv->lb.heap_idx;

	if (i < 0 || i >= hp->n || hp->h[i] != srv)
		return;
	srv->lb.heap_idx = -1;
	if (--hp->n == i)
		return;
	place(hp, i, hp->h[hp->n]);
	sift_down(hp, i);
	sift_up(hp, hp->h[i]->lb.heap_idx);
}

void lb_heap_fix(struct lb_heap *hp, struct server *srv)
{
	int i = srv->lb.heap_idx;

	if (i < 0)
		return;
	sift_down(hp, i);
	sift_up(hp, srv->lb.heap_idx);
}

struct server *lb_heap_top(const struct lb_heap *hp, const struct server *avoid)
{
	if (!hp->n)
		return NULL;
	if (hp->h[0] != avoid || hp->n == 1)
		return hp->h[0];
	/* the next smallest is one of the root's children */
	if (hp->n == 2 || less(hp->h[1], hp->h[2]))
		return hp->h[1];
	return hp->h[2];
}
