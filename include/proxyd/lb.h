/* Load-balancing algorithms behind one interface. An algorithm is a file
 * that registers a struct lb_algo; "balance <name>" finds it in the
 * registry, and the rest of the proxy only calls these hooks. */
#ifndef PROXYD_LB_H
#define PROXYD_LB_H

#include <proxyd/registry.h>

struct proxy;
struct server;
struct stream;
struct cfg_ctx;

enum lb_result {
	LB_OK = 0,       /* *srv set */
	LB_FULL,         /* usable servers exist but all are at maxconn: queue */
	LB_NOSRV,        /* no usable server */
};

struct lb_algo {
	const char *name;
	/* Parses the arguments after the name on the "balance" line (may be NULL). */
	int (*parse)(struct cfg_ctx *ctx, struct proxy *be, char **args, int nargs);
	/* Builds the algorithm's state once servers are known. */
	int (*init)(struct proxy *be);
	/* Picks a server for <s>, avoiding <avoid> when another is usable. */
	enum lb_result (*pick)(struct proxy *be, struct stream *s, const struct server *avoid,
	                       struct server **srv);
	/* State and weight changes (may be NULL when the algorithm reads the
	 * server fields directly at pick time). */
	void (*srv_up)(struct proxy *be, struct server *srv);
	void (*srv_down)(struct proxy *be, struct server *srv);
	void (*set_weight)(struct proxy *be, struct server *srv);
	void (*deinit)(struct proxy *be);
};

extern struct registry lb_algos;
#define LB_REGISTER(algo)  REGISTER_TABLE(lb_algos, &(algo))

const struct lb_algo *lb_find(const char *name);
/* Called when a server's usability changes: updates backend counts and
 * tells the algorithm. */
void lb_server_changed(struct server *srv);

#endif
