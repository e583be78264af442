/* Stick tables: bounded key -> server maps with expiry and LRU eviction,
 * declared by "stick-table" in a proxy and filled and read by its backend's
 * "stick on|match|store-request|store-response" rules. */
#ifndef PROXYD_STICK_TABLE_H
#define PROXYD_STICK_TABLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <proxyd/list.h>

struct proxy;
struct server;
struct stream;
struct sample;
struct sample_expr;
struct cond;

enum stk_type {
	STK_T_IP,        /* IPv4 address, 4 bytes */
	STK_T_IPV6,      /* 16 bytes; IPv4 keys are stored mapped */
	STK_T_INTEGER,   /* 32 bits, unsigned (what HAProxy keeps of an integer) */
	STK_T_STRING,    /* up to <len> bytes */
	STK_T_BINARY,    /* exactly <len> bytes, zero-padded */
};

struct stksess {
	struct stksess *hnext;        /* hash chain */
	struct list lru;              /* oldest first: eviction and expiry order */
	uint64_t exp;                 /* ms; 0 = never */
	struct server *srv;           /* the server the key sticks to, or NULL */
	uint32_t hash;
	int ref;                      /* streams holding it: not evicted meanwhile */
	uint16_t klen;
	unsigned char key[];
};

struct stktable {
	struct proxy *px;             /* the proxy that declares it (its name) */
	enum stk_type type;
	unsigned key_size;            /* bytes of a key */
	unsigned size;                /* entries at most */
	unsigned used;
	int expire;                   /* ms, 0 = never */
	int nopurge;                  /* full: refuse new keys instead of evicting */
	unsigned nbuckets;            /* power of two */
	struct stksess **buckets;
	struct list lru;
	pthread_mutex_t lock;         /* nbthread > 1: around every use (stick_rules.c, CLI) */
};

/* Key of a table, built from a sample. */
struct stk_key {
	uint16_t len;
	unsigned char data[256];
};

/* Sample -> key for <t>'s type; 0, or -1 when the sample cannot be one. */
int stktable_make_key(const struct stktable *t, struct sample *smp, struct stk_key *key);
/* The live entry of <key>, or NULL. Expired entries are dropped on the way. */
struct stksess *stktable_lookup(struct stktable *t, const struct stk_key *key, uint64_t now);
/* The entry of <key>, created when missing (evicting the least recently
 * used one when the table is full, unless nopurge); NULL when it cannot. */
struct stksess *stktable_get(struct stktable *t, const struct stk_key *key, uint64_t now);
/* Marks <ts> as just used: its expiry restarts, it is evicted last. */
void stktable_touch(struct stktable *t, struct stksess *ts, uint64_t now);
void stktable_remove(struct stktable *t, struct stksess *ts);
/* After dropping the expired entries: is the table at its size? */
int stktable_full(struct stktable *t, uint64_t now);
/* Drops every entry that expired by <now>; returns how many. */
unsigned stktable_purge(struct stktable *t, uint64_t now);
void stktable_free_entries(struct stktable *t);

/* One line per live entry, as "show table" prints it; <emit> gets each line
 * without its newline. */
void stktable_dump(const struct stktable *t, uint64_t now,
                   void (*emit)(void *ctx, const char *line, size_t len), void *ctx);
/* "# table: NAME, type: ip, size:N, used:M" */
size_t stktable_dump_header(const struct stktable *t, char *out, size_t size);
const char *stktable_type_name(enum stk_type type);

/* Request side: "stick match" / "stick on" rules pick a server (SF_DIRECT)
 * when none is chosen yet, and store rules remember their keys. */
void stick_request(struct stream *s);
/* Writes what the store rules collected, and the "stick store-response"
 * keys, with the server that was used. HTTP: response head; TCP: connected. */
void stick_store(struct stream *s);
/* Drops what a stream still holds (at its end or the transaction's). */
void stick_release(struct stream *s);

#endif
