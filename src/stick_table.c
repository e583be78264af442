/* Stick table storage: a chained hash of entries plus a list in order of
 * last use. Because every entry of a table gets the same lifetime when it
 * is used, the least recently used entry is also the first to expire: both
 * eviction and expiry take from the head of that one list, so neither needs
 * a scan or a timer (expired entries are dropped when met or when room is
 * needed).
 *
 * Entries are allocated when a new key is stored, which happens once per
 * new client, not per request; a table never holds more than its size. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/lb.h>
#include <proxyd/proxy.h>
#include <proxyd/sample.h>
#include <proxyd/server.h>
#include <proxyd/stick_table.h>

const char *stktable_type_name(enum stk_type type)
{
	switch (type) {
	case STK_T_IP: return "ip";
	case STK_T_IPV6: return "ipv6";
	case STK_T_INTEGER: return "integer";
	case STK_T_STRING: return "string";
	case STK_T_BINARY: return "binary";
	}
	return "?";
}

int stktable_make_key(const struct stktable *t, struct sample *smp, struct stk_key *key)
{
	switch (t->type) {
	case STK_T_IP:
		if (!sample_cast(smp, SMP_T_IPV4))
			return -1;
		memcpy(key->data, &smp->data.ipv4, 4);
		key->len = 4;
		return 0;
	case STK_T_IPV6:
		if (!sample_cast(smp, SMP_T_IPV6))
			return -1;
		memcpy(key->data, &smp->data.ipv6, 16);
		key->len = 16;
		return 0;
	case STK_T_INTEGER: {
		if (!sample_cast(smp, SMP_T_SINT))
			return -1;
		/* HAProxy keeps the low 32 bits, unsigned: 42 and 2^32 + 42 are
		 * one key, and -1 is 4294967295 */
		uint32_t v = (uint32_t)smp->data.sint;
		memcpy(key->data, &v, 4);
		key->len = 4;
		return 0;
	}
	case STK_T_STRING:
	case STK_T_BINARY: {
		if (!sample_cast(smp, t->type == STK_T_STRING ? SMP_T_STR : SMP_T_BIN))
			return -1;
		size_t n = smp->data.str.len < t->key_size ? smp->data.str.len : t->key_size;
		memcpy(key->data, smp->data.str.ptr, n);
		if (t->type == STK_T_BINARY) {
			/* fixed width: "ab" and "ab\0" are the same key, as HAProxy */
			memset(key->data + n, 0, t->key_size - n);
			n = t->key_size;
		}
		key->len = (uint16_t)n;
		return 0;
	}
	}
	return -1;
}

static int table_init(struct stktable *t)
{
	if (t->buckets)
		return 0;
	unsigned n = 16;
	while (n < t->size && n < (1u << 20))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -1;
	t->nbuckets = n;
	list_init(&t->lru);
	return 0;
}

static struct stksess **bucket_of(struct stktable *t, uint32_t hash)
{
	return &t->buckets[hash & (t->nbuckets - 1)];
}

void stktable_remove(struct stktable *t, struct stksess *ts)
{
	for (struct stksess **pp = bucket_of(t, ts->hash); *pp; pp = &(*pp)->hnext) {
		if (*pp == ts) {
			*pp = ts->hnext;
			break;
		}
	}
	list_del_init(&ts->lru);
	t->used--;
	free(ts);
}

static int expired(const struct stksess *ts, uint64_t now)
{
	return ts->exp && ts->exp <= now;
}

unsigned stktable_purge(struct stktable *t, uint64_t now)
{
	unsigned n = 0;

	if (!t->buckets)
		return 0;
	while (!list_empty(&t->lru)) {
		struct stksess *ts = list_first(&t->lru, struct stksess, lru);
		if (!expired(ts, now))
			break;
		stktable_remove(t, ts);
		n++;
	}
	return n;
}

int stktable_full(struct stktable *t, uint64_t now)
{
	stktable_purge(t, now);
	return t->used >= t->size;
}

struct stksess *stktable_lookup(struct stktable *t, const struct stk_key *key, uint64_t now)
{
	if (!t->buckets)
		return NULL;
	uint32_t h = hash_sdbm(key->data, key->len);
	for (struct stksess *ts = *bucket_of(t, h); ts; ts = ts->hnext) {
		if (ts->hash != h || ts->klen != key->len || memcmp(ts->key, key->data, key->len) != 0)
			continue;
		if (expired(ts, now)) {
			stktable_remove(t, ts);
			return NULL;
		}
		return ts;
	}
	return NULL;
}

void stktable_touch(struct stktable *t, struct stksess *ts, uint64_t now)
{
	ts->exp = t->expire ? now + (uint64_t)t->expire : 0;
	list_del_init(&ts->lru);
	list_append(&t->lru, &ts->lru);
}

struct stksess *stktable_get(struct stktable *t, const struct stk_key *key, uint64_t now)
{
	if (table_init(t) < 0)
		return NULL;
	struct stksess *ts = stktable_lookup(t, key, now);
	if (ts)
		return ts;
	stktable_purge(t, now);
	if (t->used >= t->size) {
		if (t->nopurge || list_empty(&t->lru))
			return NULL;
		stktable_remove(t, list_first(&t->lru, struct stksess, lru));
	}
	ts = calloc(1, sizeof(*ts) + key->len);
	if (!ts)
		return NULL;
	ts->hash = hash_sdbm(key->data, key->len);
	ts->klen = key->len;
	memcpy(ts->key, key->data, key->len);
	list_init(&ts->lru);
	struct stksess **b = bucket_of(t, ts->hash);
	ts->hnext = *b;
	*b = ts;
	t->used++;
	stktable_touch(t, ts, now);
	return ts;
}

void stktable_free_entries(struct stktable *t)
{
	if (!t->buckets)
		return;
	while (!list_empty(&t->lru))
		stktable_remove(t, list_first(&t->lru, struct stksess, lru));
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
}

/*------------------------------------------------------------------------
 * Dump, for "show table"
 */
size_t stktable_dump_header(const struct stktable *t, char *out, size_t size)
{
	int n = snprintf(out, size, "# table: %s, type: %s, size:%u, used:%u", t->px->id,
	                 stktable_type_name(t->type), t->size, t->used);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static size_t key_text(const struct stktable *t, const struct stksess *ts, char *out, size_t size)
{
	uint32_t v;
	size_t n = 0;

	switch (t->type) {
	case STK_T_IP:
		inet_ntop(AF_INET, ts->key, out, (socklen_t)size);
		return strlen(out);
	case STK_T_IPV6:
		inet_ntop(AF_INET6, ts->key, out, (socklen_t)size);
		return strlen(out);
	case STK_T_INTEGER:
		memcpy(&v, ts->key, 4);
		return (size_t)snprintf(out, size, "%u", v);
	case STK_T_STRING:
		/* unprintable bytes would break the line-based output */
		for (size_t i = 0; i < ts->klen && n + 4 < size; i++) {
			unsigned char c = ts->key[i];
			if (c >= 0x20 && c < 0x7f)
				out[n++] = (char)c;
			else
				n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
		}
		out[n] = 0;
		return n;
	case STK_T_BINARY:
		for (size_t i = 0; i < ts->klen && n + 3 < size; i++)
			n += (size_t)snprintf(out + n, size - n, "%02X", ts->key[i]);
		return n;
	}
	return 0;
}

void stktable_dump(const struct stktable *t, uint64_t now,
                   void (*emit)(void *ctx, const char *line, size_t len), void *ctx)
{
	const struct stksess *ts;
	char key[600], line[1024];

	if (!t->buckets)
		return;
	list_for_each(ts, &t->lru, lru) {
		if (expired(ts, now))
			continue;
		key_text(t, ts, key, sizeof(key));
		int n = snprintf(line, sizeof(line), "%p: key=%s use=0 exp=%llu", (const void *)ts, key,
		                 ts->exp ? (unsigned long long)(ts->exp - now) : 0ULL);
		if (ts->srv && n > 0 && (size_t)n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - (size_t)n, " server_id=%d server_key=%s", ts->srv->puid,
			              ts->srv->id);
		if (n > 0)
			emit(ctx, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
}
