/* Editing a parsed message head: what http-request / http-response rules
 * do to headers and to the start line. The parsed head stays where it is
 * in the buffer; changed values go to the transaction's arena, deleted
 * headers are marked, and the head is rebuilt once when it is forwarded. */
#include <string.h>
#include <strings.h>

#include <proxyd/http.h>

void http_msg_set_arena(struct http_msg *msg, char *arena, uint32_t *used, uint32_t size, uint16_t cap)
{
	msg->arena = arena;
	msg->arena_used = used;
	msg->arena_size = size;
	msg->cap_hdrs = cap;
}

/* Copies <len> bytes into the arena; returns their HTTP_OFF_ARENA offset,
 * or 0 when the arena is full (offset 0 with the flag is never returned
 * since the flag itself is set). */
static uint32_t arena_put(struct http_msg *m, const char *s, size_t len)
{
	if (!m->arena || *m->arena_used + len > m->arena_size)
		return 0;
	uint32_t off = *m->arena_used;
	memcpy(m->arena + off, s, len);
	*m->arena_used += (uint32_t)len;
	return off | HTTP_OFF_ARENA;
}

int http_hdr_add(struct http_msg *m, const char *name, size_t nlen, const char *val, size_t vlen)
{
	if (m->nb_hdrs >= m->cap_hdrs || !nlen)
		return -1;
	uint32_t n = arena_put(m, name, nlen);
	uint32_t v = vlen ? arena_put(m, val, vlen) : HTTP_OFF_ARENA;
	if (!n || !v)
		return -1;
	struct http_hdr *h = &m->hdrs[m->nb_hdrs++];
	h->n = n;
	h->nlen = (uint32_t)nlen;
	h->v = v;
	h->vlen = (uint32_t)vlen;
	return 0;
}

int http_hdr_set_value(struct http_msg *m, int idx, const char *val, size_t vlen)
{
	uint32_t v = vlen ? arena_put(m, val, vlen) : HTTP_OFF_ARENA;

	if (!v)
		return -1;
	m->hdrs[idx].v = v;
	m->hdrs[idx].vlen = (uint32_t)vlen;
	return 0;
}

void http_hdr_del(struct http_msg *m, int idx)
{
	m->hdrs[idx].nlen = 0;
}

int http_hdr_set(struct http_msg *m, const char *name, size_t nlen, const char *val, size_t vlen)
{
	for (int i = -1; (i = http_find_hdr(m, name, nlen, i)) >= 0;)
		http_hdr_del(m, i);
	return http_hdr_add(m, name, nlen, val, vlen);
}

int http_sl_set(struct http_msg *m, int part, const char *val, size_t len)
{
	uint32_t off = len ? arena_put(m, val, len) : HTTP_OFF_ARENA;

	if (!off)
		return -1;
	m->sl[part] = off;
	m->sl_len[part] = (uint32_t)len;
	return 0;
}
