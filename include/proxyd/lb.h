/* Load-balancing algorithms behind one interface. An algorithm is a file
 * that registers a struct lb_algo; "balance <name>" finds it in the
 * registry, and the rest of the proxy only calls these hooks. */
#ifndef PROXYD_LB_H
#define PROXYD_LB_H

#include <stdint.h>

#include <proxyd/registry.h>

struct proxy;
struct server;
struct stream;
struct cfg_ctx;

enum lb_result {
	LB_OK = 0,       /* *srv set (it may be full: the stream then waits in its queue) */
	LB_FULL,         /* usable servers exist but all are at maxconn: backend queue */
	LB_NOSRV,        /* no usable server */
};

/* hash-type <method> <function> [avalanche] */
enum lb_hash_method { LB_HASH_MAP = 0, LB_HASH_CONSISTENT };
enum lb_hash_fn { LB_HASH_SDBM = 0, LB_HASH_DJB2, LB_HASH_CRC32 };

/* What "balance" and "hash-type" say; inherited from defaults like the
 * rest of proxy_conf. */
struct lb_conf {
	enum lb_hash_method method;
	enum lb_hash_fn fn;
	int avalanche;
	int uri_len, uri_depth;        /* balance uri len N depth N */
	int uri_whole, uri_path_only;
	const char *name;              /* url_param / hdr name */
	int hdr_domain_only;           /* hdr(...) use_domain_only */
	int param_check_post;          /* url_param ... check_post (accepted, not used) */
	int draws;                     /* random(N) */
};

struct lb_algo {
	const char *name;
	/* Parses the arguments after the name on the "balance" line (may be
	 * NULL: then there must be none). args[0] is the name itself. */
	int (*parse)(struct cfg_ctx *ctx, struct proxy *be, char **args, int nargs);
	/* Builds the algorithm's state once servers are known. */
	int (*init)(struct proxy *be);
	/* Reads what it needs from the request while its head can still be
	 * read (hash keys), before the server is picked. May be NULL. */
	void (*prepare)(struct proxy *be, struct stream *s);
	/* Picks a server for <s>, avoiding <avoid> when another is usable. */
	enum lb_result (*pick)(struct proxy *be, struct stream *s, const struct server *avoid,
	                       struct server **srv);
	/* A server's usability or effective weight changed. */
	void (*update)(struct proxy *be, struct server *srv);
	/* A server's count of streams went up / down. May be NULL. */
	void (*take)(struct proxy *be, struct server *srv);
	void (*drop)(struct proxy *be, struct server *srv);
	void (*deinit)(struct proxy *be);
	/* What pick() would choose for <s> now, changing nothing (the admin
	 * socket's "show route"). NULL when it cannot be told (random). */
	enum lb_result (*peek)(struct proxy *be, struct stream *s, struct server **srv);
	int dynamic;     /* weights may change at run time (else only 0 or 100%) */
	int hashed;      /* a key decides the server: a failed one is not left at once (redispatch) */
};

extern struct registry lb_algos;
#define LB_REGISTER(algo)  REGISTER_TABLE(lb_algos, &(algo))

const struct lb_algo *lb_find(const char *name);

/* Called when a server's usability or weight changes: updates backend
 * counts and tells the algorithm. */
void lb_server_changed(struct server *srv);
/* Called when a server gets / loses a stream. */
void lb_take(struct server *srv);
void lb_drop(struct server *srv);

/* Are backup servers the ones to use now (no usable active server)? */
int lb_use_backup(const struct proxy *be);
/* Should <srv> receive new load-balanced traffic now? (usable, weight >
 * 0, in the group in use; only the first backup without allbackups) */
int lb_eligible(const struct proxy *be, const struct server *srv);

/*------------------------------------------------------------------------
 * A binary min-heap of servers, shared by roundrobin, leastconn and first.
 * Each server is in at most one heap (its lb.heap_idx, -1 when out).
 */
struct lb_heap {
	struct server **h;
	int n, cap;
};

int lb_heap_init(struct lb_heap *hp, int cap);
void lb_heap_free(struct lb_heap *hp);
void lb_heap_push(struct lb_heap *hp, struct server *srv);
void lb_heap_remove(struct lb_heap *hp, struct server *srv);
/* After srv->lb.key changed. */
void lb_heap_fix(struct lb_heap *hp, struct server *srv);
/* The smallest element other than <avoid> (when another exists). */
struct server *lb_heap_top(const struct lb_heap *hp, const struct server *avoid);

/*------------------------------------------------------------------------
 * Hashing (hash.c)
 */
uint32_t hash_sdbm(const void *key, size_t len);
uint32_t hash_djb2(const void *key, size_t len);
uint32_t hash_crc32(const void *key, size_t len);
/* Mixes all bits of <h> so that close inputs land far apart. */
uint32_t hash_avalanche(uint32_t h);
uint32_t lb_hash(const struct lb_conf *c, const void *key, size_t len);

#endif
