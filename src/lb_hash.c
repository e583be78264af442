/* Hash-based balancing: balance source, uri, url_param, hdr(), with
 * "hash-type map-based" (the default) or "consistent", and balance random.
 *
 * map-based: an array where each usable server appears as many times as
 * its weight; the key picks entry key % size. O(1), but most keys move
 * when the set of servers changes.
 * consistent: a ring of points, 16 per unit of weight, placed by hashing
 * the server's id; the key picks the first point at or after it. O(log n),
 * and a server going away moves only the keys that were its own.
 * Both are rebuilt lazily, at the first pick after a server changed; the
 * ring's points are hashed and sorted once (again only when a weight
 * changes), a state change only filters them.
 *
 * A request without a key (no such parameter or header, not HTTP) is
 * balanced in turn over the map, which is a weighted round robin.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proxyd/cfg.h>
#include <proxyd/http.h>
#include <proxyd/lb.h>
#include <proxyd/proxy.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/stream.h>

#define CHASH_POINTS 16   /* ring points per unit of weight */

struct ring_point {
	uint32_t hash;
	struct server *srv;
};

struct hash_state {
	struct server **map;
	int map_size;
	struct ring_point *ring;
	int ring_size;
	/* consistent: the points of every server at its weight, sorted once;
	 * the ring is this array without the servers not in use, so a state
	 * change costs a copy, not the hashing and sorting of every point */
	struct ring_point *all;
	int all_size;
	int *all_weight;         /* by puid: the weight a server has in all[] */
	int dirty;
	unsigned rr;             /* rotation for requests without a key */
	uint64_t rnd;            /* balance random: xorshift state */
};

static int point_cmp(const void *a, const void *b)
{
	const struct ring_point *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->srv->puid - y->srv->puid;
}

/* Makes st->all hold the points of every server at its current weight
 * (a server at weight 0 keeps the points of its last weight: it is left
 * out of the ring anyway). Rebuilt only when a weight changed. */
static int build_all_points(struct proxy *be, struct hash_state *st)
{
	struct server *srv;
	int n = 0, same = st->all != NULL;

	if (same)
		list_for_each(srv, &be->servers, list)
			if (srv->eweight > 0 && srv->eweight != st->all_weight[srv->puid])
				same = 0;
	if (same)
		return 0;
	if (!st->all_weight) {
		st->all_weight = calloc((size_t)be->nb_srv + 1, sizeof(int));
		if (!st->all_weight)
			return -1;
	}
	list_for_each(srv, &be->servers, list) {
		if (srv->eweight > 0)
			st->all_weight[srv->puid] = srv->eweight;
		n += st->all_weight[srv->puid] * CHASH_POINTS;
	}
	free(st->all);
	st->all_size = 0;
	st->all = malloc(sizeof(*st->all) * (size_t)(n ? n : 1));
	if (!st->all)
		return -1;
	list_for_each(srv, &be->servers, list) {
		/* points depend only on the server's id and their rank: the same
		 * server lands on the same points whatever the others do */
		for (int i = 0; i < st->all_weight[srv->puid] * CHASH_POINTS; i++) {
			uint32_t seed[2] = { (uint32_t)srv->puid, (uint32_t)i };
			st->all[st->all_size].hash = hash_avalanche(hash_crc32(seed, sizeof(seed)));
			st->all[st->all_size].srv = srv;
			st->all_size++;
		}
	}
	qsort(st->all, (size_t)st->all_size, sizeof(*st->all), point_cmp);
	return 0;
}

static void rebuild(struct proxy *be, struct hash_state *st)
{
	struct server *srv;
	int total = 0;

	free(st->map);
	free(st->ring);
	st->map = NULL;
	st->ring = NULL;
	st->map_size = st->ring_size = 0;
	st->dirty = 0;

	list_for_each(srv, &be->servers, list)
		if (lb_eligible(be, srv) && srv->eweight > 0)
			total += srv->eweight;
	if (!total)
		return;
	st->map = malloc(sizeof(*st->map) * (size_t)total);
	if (!st->map)
		return;
	/* interleaved, not grouped: a smooth rotation for keyless requests */
	int *left = calloc((size_t)be->nb_srv + 1, sizeof(int));
	if (!left)
		return;
	list_for_each(srv, &be->servers, list)
		if (lb_eligible(be, srv) && srv->eweight > 0)
			left[srv->puid] = srv->eweight;
	for (int round = 0; st->map_size < total; round++) {
		list_for_each(srv, &be->servers, list) {
			if (left[srv->puid] > 0) {
				st->map[st->map_size++] = srv;
				left[srv->puid]--;
			}
		}
	}
	free(left);

	if (be->c.lbc.method != LB_HASH_CONSISTENT)
		return;
	if (build_all_points(be, st) < 0)
		return;
	st->ring = malloc(sizeof(*st->ring) * (size_t)total * CHASH_POINTS);
	if (!st->ring)
		return;
	char *used = calloc((size_t)be->nb_srv + 1, 1);
	if (!used) {
		free(st->ring);
		st->ring = NULL;
		return;
	}
	list_for_each(srv, &be->servers, list)
		used[srv->puid] = lb_eligible(be, srv) && srv->eweight > 0;
	for (int i = 0; i < st->all_size; i++)
		if (used[st->all[i].srv->puid])
			st->ring[st->ring_size++] = st->all[i];
	free(used);
}

static int hash_init(struct proxy *be)
{
	struct hash_state *st = calloc(1, sizeof(*st));
	struct server *srv;

	if (!st)
		return -1;
	st->dirty = 1;
	st->rnd = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)be;
	be->lb_state = st;
	list_for_each(srv, &be->servers, list)
		srv->lb.heap_idx = -1;
	return 0;
}

static void hash_update(struct proxy *be, struct server *srv)
{
	struct hash_state *st = be->lb_state;
	st->dirty = 1;
}

static void hash_deinit(struct proxy *be)
{
	struct hash_state *st = be->lb_state;

	if (st) {
		free(st->map);
		free(st->ring);
		free(st->all);
		free(st->all_weight);
		free(st);
		be->lb_state = NULL;
	}
}

static enum lb_result no_server(struct proxy *be)
{
	return LB_NOSRV;
}

/* Weighted rotation over the map, skipping full servers and <avoid>. */
static enum lb_result pick_rotate(struct proxy *be, struct hash_state *st, const struct server *avoid,
                                  struct server **out)
{
	struct server *fallback = NULL;

	for (int i = 0; i < st->map_size; i++) {
		struct server *srv = st->map[st->rr++ % (unsigned)st->map_size];
		if (srv_full(srv))
			continue;
		if (srv == avoid && !fallback) {
			fallback = srv;
			continue;
		}
		if (srv != avoid) {
			*out = srv;
			return LB_OK;
		}
	}
	if (fallback) {
		*out = fallback;
		return LB_OK;
	}
	return LB_FULL;
}

static struct server *ring_lookup(const struct hash_state *st, uint32_t key, const struct server *avoid)
{
	int lo = 0, hi = st->ring_size;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (st->ring[mid].hash < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = 0; i < st->ring_size; i++) {
		struct server *srv = st->ring[(lo + i) % st->ring_size].srv;
		if (srv != avoid)
			return srv;
	}
	return st->ring[lo % st->ring_size].srv;
}

static enum lb_result hash_pick(struct proxy *be, struct stream *s, const struct server *avoid,
                                struct server **out)
{
	struct hash_state *st = be->lb_state;

	if (st->dirty)
		rebuild(be, st);
	if (!st->map_size)
		return no_server(be);
	if (!(s->flags & SF_LB_KEY))
		return pick_rotate(be, st, avoid, out);

	uint32_t key = s->lb_key;
	struct server *srv;
	if (be->c.lbc.method == LB_HASH_CONSISTENT && st->ring_size) {
		srv = ring_lookup(st, key, avoid);
	} else {
		srv = st->map[key % (uint32_t)st->map_size];
		for (int i = 1; srv == avoid && i < st->map_size; i++)
			srv = st->map[(key + (uint32_t)i) % (uint32_t)st->map_size];
	}
	/* a full server keeps its keys: the stream waits in its queue */
	*out = srv;
	return LB_OK;
}

/* hash_pick() without moving the rotation of keyless requests (the map
 * is rebuilt if a server changed, as the next pick would). */
static enum lb_result hash_peek(struct proxy *be, struct stream *s, struct server **out)
{
	struct hash_state *st = be->lb_state;

	if (st->dirty)
		rebuild(be, st);
	if (!st->map_size)
		return no_server(be);
	if (s->flags & SF_LB_KEY)
		return hash_pick(be, s, NULL, out);
	for (int i = 0; i < st->map_size; i++) {
		struct server *srv = st->map[(st->rr + (unsigned)i) % (unsigned)st->map_size];
		if (!srv_full(srv)) {
			*out = srv;
			return LB_OK;
		}
	}
	return LB_FULL;
}

/*------------------------------------------------------------------------
 * Keys
 */
static void set_key(struct stream *s, const struct lb_conf *c, const char *p, size_t len)
{
	s->lb_key = lb_hash(c, p, len);
	s->flags |= SF_LB_KEY;
}

/* source: the client address folded to 32 bits (IPv6: its four words
 * XOR-ed), the avalanche modifier applied when asked. */
static void source_prepare(struct proxy *be, struct stream *s)
{
	uint32_t h = 0;

	if (s->src.sa.sa_family == AF_INET) {
		h = ntohl(s->src.in.sin_addr.s_addr);
	} else if (s->src.sa.sa_family == AF_INET6) {
		const unsigned char *a = s->src.in6.sin6_addr.s6_addr;
		for (int i = 0; i < 16; i += 4)
			h ^= (uint32_t)a[i] << 24 | (uint32_t)a[i + 1] << 16 | (uint32_t)a[i + 2] << 8 | a[i + 3];
	} else {
		return;
	}
	s->lb_key = be->c.lbc.avalanche ? hash_avalanche(h) : h;
	s->flags |= SF_LB_KEY;
}

static struct http_msg *req_head(struct stream *s)
{
	return s->txn && s->txn->req.state == HTTP_MSG_HDRS_DONE ? &s->txn->req : NULL;
}

/* uri: the path (up to '?') or the whole URI, cut after <len> characters
 * or <depth> directories. */
static void uri_prepare(struct proxy *be, struct stream *s)
{
	const struct lb_conf *c = &be->c.lbc;
	struct http_msg *m = req_head(s);

	if (!m)
		return;
	const char *u = http_sl(m, 1);
	size_t len = m->sl_len[1];
	if (!c->uri_whole) {
		const char *q = memchr(u, '?', len);
		if (q)
			len = (size_t)(q - u);
	}
	if (c->uri_path_only && len && u[0] != '/') {
		/* absolute URI: from the path on */
		const char *sch = memchr(u, ':', len);
		if (sch && (size_t)(sch - u) + 3 <= len && sch[1] == '/' && sch[2] == '/') {
			const char *slash = memchr(sch + 3, '/', len - (size_t)(sch + 3 - u));
			size_t off = slash ? (size_t)(slash - u) : len;
			u += off;
			len -= off;
		}
	}
	if (c->uri_depth) {
		int slashes = 0;
		for (size_t i = 0; i < len; i++)
			if (u[i] == '/' && ++slashes > c->uri_depth) {
				len = i;
				break;
			}
	}
	if (c->uri_len && (size_t)c->uri_len < len)
		len = (size_t)c->uri_len;
	set_key(s, c, u, len);
}

static void param_prepare(struct proxy *be, struct stream *s)
{
	const struct lb_conf *c = &be->c.lbc;
	struct http_msg *m = req_head(s);
	size_t nl = strlen(c->name);

	if (!m)
		return;
	const char *u = http_sl(m, 1), *end = u + m->sl_len[1];
	const char *q = memchr(u, '?', m->sl_len[1]);
	if (!q)
		return;
	for (const char *p = q + 1; p < end;) {
		const char *e = memchr(p, '&', (size_t)(end - p));
		if (!e)
			e = end;
		if ((size_t)(e - p) > nl && memcmp(p, c->name, nl) == 0 && p[nl] == '=') {
			set_key(s, c, p + nl + 1, (size_t)(e - p - (long)nl - 1));
			return;
		}
		p = e + 1;
	}
}

static void hdr_prepare(struct proxy *be, struct stream *s)
{
	const struct lb_conf *c = &be->c.lbc;
	struct http_msg *m = req_head(s);

	if (!m)
		return;
	int i = http_find_hdr(m, c->name, strlen(c->name), -1);
	if (i < 0)
		return;
	const char *v = http_hdr_value(m, &m->hdrs[i]);
	size_t vl = m->hdrs[i].vlen;
	/* only the first value of a comma-separated list, as HAProxy:
	 * "a, b" hashes as "a" */
	const char *comma = memchr(v, ',', vl);
	if (comma) {
		vl = (size_t)(comma - v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
	}
	if (c->hdr_domain_only) {
		/* "www.example.com:8080" hashes as "example": the label before the
		 * top-level one, so every host of a domain goes to one server. A
		 * value without a dot is hashed whole, port included, as HAProxy
		 * does ("localhost:8080" and "localhost:8081" differ). */
		const char *last = NULL, *prev = NULL;
		for (size_t k = 0; k < vl; k++)
			if (v[k] == '.') {
				prev = last;
				last = v + k;
			}
		if (last) {
			const char *start = prev ? prev + 1 : v;
			vl = (size_t)(last - start);
			v = start;
		}
	}
	if (vl)
		set_key(s, c, v, vl);
}

/*------------------------------------------------------------------------
 * balance arguments
 */
static int parse_uri(struct cfg_ctx *ctx, struct proxy *be, char **args, int nargs)
{
	struct lb_conf *c = &be->c.lbc;

	c->uri_len = c->uri_depth = c->uri_whole = c->uri_path_only = 0;
	for (int i = 1; i < nargs; i++) {
		if ((strcmp(args[i], "len") == 0 || strcmp(args[i], "depth") == 0) && i + 1 < nargs) {
			int v;
			if (cfg_int_arg(ctx, args[i + 1], 1, 1 << 20, &v) < 0)
				return -1;
			if (args[i][0] == 'l')
				c->uri_len = v;
			else
				c->uri_depth = v;
			i++;
		} else if (strcmp(args[i], "whole") == 0) {
			c->uri_whole = 1;
		} else if (strcmp(args[i], "path-only") == 0) {
			c->uri_path_only = 1;
		} else {
			cfg_alert(ctx, "'balance uri' only accepts 'len <n>', 'depth <n>', 'whole' and 'path-only' "
			          "(got '%s')", args[i]);
			return -1;
		}
	}
	be->c.lb = lb_find("uri");
	return 0;
}

static int parse_url_param(struct cfg_ctx *ctx, struct proxy *be, char **args, int nargs)
{
	if (nargs < 2) {
		cfg_alert(ctx, "'balance url_param' expects a parameter name");
		return -1;
	}
	be->c.lbc.name = cfg_strdup(args[1]);
	be->c.lbc.param_check_post = 0;
	for (int i = 2; i < nargs; i++) {
		if (strcmp(args[i], "check_post") == 0) {
			be->c.lbc.param_check_post = 1;
			cfg_warn(ctx, "'balance url_param ... check_post': proxyd does not look into request bodies; "
			         "only the query string is used");
			if (i + 1 < nargs && args[i + 1][0] >= '0' && args[i + 1][0] <= '9')
				i++;
		} else {
			cfg_alert(ctx, "'balance url_param' only accepts 'check_post' after the name (got '%s')", args[i]);
			return -1;
		}
	}
	be->c.lb = lb_find("url_param");
	return 0;
}

static int parse_hdr(struct cfg_ctx *ctx, struct proxy *be, char **args, int nargs)
{
	const char *open = strchr(args[0], '('), *close = open ? strchr(open, ')') : NULL;

	if (!open || !close || close == open + 1 || close[1]) {
		cfg_alert(ctx, "'balance hdr' expects a header name in parentheses, e.g. 'balance hdr(host)'");
		return -1;
	}
	be->c.lbc.name = cfg_strndup(open + 1, (size_t)(close - open - 1));
	be->c.lbc.hdr_domain_only = 0;
	for (int i = 1; i < nargs; i++) {
		if (strcmp(args[i], "use_domain_only") == 0) {
			be->c.lbc.hdr_domain_only = 1;
		} else {
			cfg_alert(ctx, "'balance hdr()' only accepts 'use_domain_only' (got '%s')", args[i]);
			return -1;
		}
	}
	be->c.lb = lb_find("hdr");
	return 0;
}

static int parse_source(struct cfg_ctx *ctx, struct proxy *be, char **args, int nargs)
{
	if (nargs > 1) {
		cfg_alert(ctx, "'balance source' takes no argument (got '%s')", args[1]);
		return -1;
	}
	be->c.lb = lb_find("source");
	return 0;
}

/*------------------------------------------------------------------------
 * balance random [(<draws>)]: power of <draws> choices (2 by default):
 * draw servers at random, weighted, and keep the least loaded.
 */
static uint64_t next_rand(struct hash_state *st)
{
	st->rnd ^= st->rnd << 13;
	st->rnd ^= st->rnd >> 7;
	st->rnd ^= st->rnd << 17;
	return st->rnd;
}

static enum lb_result random_pick(struct proxy *be, struct stream *s, const struct server *avoid,
                                  struct server **out)
{
	struct hash_state *st = be->lb_state;
	struct server *best = NULL;
	uint64_t best_load = 0;
	int draws = be->c.lbc.draws > 0 ? be->c.lbc.draws : 2;

	if (st->dirty)
		rebuild(be, st);
	if (!st->map_size)
		return LB_NOSRV;
	for (int i = 0; i < draws * 4 && (i < draws || !best); i++) {
		struct server *srv = st->map[next_rand(st) % (uint64_t)st->map_size];
		if (srv_full(srv) || (srv == avoid && st->map_size > 1))
			continue;
		/* streams per unit of weight, without "+ 1": idle servers tie
		 * whatever their weight, and a tie keeps the first draw, which
		 * is already weighted (with "+ 1" the heavier of two idle
		 * servers always won: weights 3:1 gave 15:1) */
		uint64_t load = (uint64_t)(srv->served + srv->nb_queued) * 65536 / (uint64_t)srv->eweight;
		if (!best || load < best_load) {
			best = srv;
			best_load = load;
		}
	}
	if (!best)
		return pick_rotate(be, st, avoid, out);
	*out = best;
	return LB_OK;
}

static int parse_random(struct cfg_ctx *ctx, struct proxy *be, char **args, int nargs)
{
	const char *open = strchr(args[0], '(');

	be->c.lbc.draws = 2;
	if (open) {
		char *end;
		long v = strtol(open + 1, &end, 10);
		if (end == open + 1 || *end != ')' || end[1] || v < 1 || v > 100) {
			cfg_alert(ctx, "'balance %s': expects a number of draws between 1 and 100, e.g. 'random(2)'",
			          args[0]);
			return -1;
		}
		be->c.lbc.draws = (int)v;
	}
	if (nargs > 1) {
		cfg_alert(ctx, "'balance random' takes no argument after it (got '%s')", args[1]);
		return -1;
	}
	be->c.lb = lb_find("random");
	return 0;
}

#define HASH_ALGO(n, prep, parser) {                                              \
	.name = n, .parse = parser, .init = hash_init, .prepare = prep, .pick = hash_pick, \
	.update = hash_update, .deinit = hash_deinit, .peek = hash_peek, .hashed = 1,      \
}

static const struct lb_algo lb_source = HASH_ALGO("source", source_prepare, parse_source);
static const struct lb_algo lb_uri = HASH_ALGO("uri", uri_prepare, parse_uri);
static const struct lb_algo lb_url_param = HASH_ALGO("url_param", param_prepare, parse_url_param);
static const struct lb_algo lb_hdr = HASH_ALGO("hdr", hdr_prepare, parse_hdr);
static const struct lb_algo lb_random = {
	.name = "random", .parse = parse_random, .init = hash_init, .pick = random_pick,
	.update = hash_update, .deinit = hash_deinit, .dynamic = 1,
};

LB_REGISTER(lb_source);
LB_REGISTER(lb_uri);
LB_REGISTER(lb_url_param);
LB_REGISTER(lb_hdr);
LB_REGISTER(lb_random);

/*------------------------------------------------------------------------
 * hash-type map-based|consistent [sdbm|djb2|crc32] [avalanche]
 */
static int parse_hash_type(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct lb_conf *c = &ctx->px->c.lbc;

	if (strcmp(args[0], "map-based") == 0)
		c->method = LB_HASH_MAP;
	else if (strcmp(args[0], "consistent") == 0)
		c->method = LB_HASH_CONSISTENT;
	else {
		cfg_alert(ctx, "'hash-type' expects 'map-based' or 'consistent' (got '%s')", args[0]);
		return -1;
	}
	c->fn = LB_HASH_SDBM;
	/* consistent hashing without a function mixes the bits (HAProxy's default) */
	c->avalanche = c->method == LB_HASH_CONSISTENT && nargs == 1;
	for (int i = 1; i < nargs; i++) {
		if (strcmp(args[i], "sdbm") == 0)
			c->fn = LB_HASH_SDBM;
		else if (strcmp(args[i], "djb2") == 0)
			c->fn = LB_HASH_DJB2;
		else if (strcmp(args[i], "crc32") == 0)
			c->fn = LB_HASH_CRC32;
		else if (strcmp(args[i], "avalanche") == 0)
			c->avalanche = 1;
		else if (strcmp(args[i], "wt6") == 0) {
			cfg_alert(ctx, "'hash-type ... wt6' is not supported yet by proxyd; use sdbm, djb2 or crc32");
			return -1;
		} else {
			cfg_alert(ctx, "'hash-type': unknown '%s' (expected a function sdbm, djb2 or crc32, or 'avalanche')",
			          args[i]);
			return -1;
		}
	}
	return 0;
}

static const struct cfg_kw hash_cfg_kws[] = {
	{ "hash-type", CFG_SEC_BE, 1, 3, parse_hash_type, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0,
	  "map-based|consistent [sdbm|djb2|crc32] [avalanche]" },
	{ NULL }
};

CFG_REGISTER(hash_cfg_kws);
