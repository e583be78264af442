/* libFuzzer harness for the HTTP/1 glue (src/http1.c).
 *
 * Input: one control byte, then the bytes of the connection.
 *   bit 0     response instead of request
 *   bit 1     the request was HEAD (responses)
 *   bits 2-3  header table size: 32, 4, 1 or 0 entries
 *   bits 4-7  seed of the piece sizes for the second pass
 *
 * The bytes are parsed twice: whole, then in pieces of pseudo-random
 * sizes, following pipelined messages to the end. Both passes must see the
 * same sequence of events (same head lengths, same header tables, a
 * refusal at the same message with the same status), and each event is checked against the invariants callers rely
 * on: offsets inside the head, body length equal to the bytes after the
 * head, an error status and reason on every refusal. Any difference traps.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/http.h>

#define MAX_EVENTS 256

struct event {
	enum http_parse_res res;
	uint32_t sol, next, head_len;
	uint64_t body_len;
	unsigned flags;
	int status;
	const char *reason;
	uint16_t nb_hdrs;
	uint32_t hdr_sum;     /* offsets of the table, folded */
};

struct trace {
	int n;
	struct event ev[MAX_EVENTS];
};

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_http1: check failed at line %d: %s\n", __LINE__, #cond); \
	__builtin_trap(); } } while (0)

static uint32_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 16;
}

static uint32_t table_sum(const struct http_msg *m)
{
	uint32_t s = 0;

	for (int i = 0; i < m->nb_hdrs; i++)
		s = s * 31u + m->hdrs[i].n * 7u + m->hdrs[i].nlen * 5u + m->hdrs[i].v * 3u + m->hdrs[i].vlen;
	return s;
}

static void check_head(const struct http_msg *m, uint32_t len)
{
	uint32_t end = m->sol + m->head_len;

	CHECK(m->head_len > 0);
	CHECK(end <= len);
	CHECK(m->nb_hdrs <= m->max_hdrs);
	for (int i = 0; i < 3; i++)
		if (m->sl_len[i])
			CHECK(m->sl[i] >= m->sol && m->sl[i] + m->sl_len[i] <= end);
	for (int i = 0; i < m->nb_hdrs; i++) {
		const struct http_hdr *h = &m->hdrs[i];
		CHECK(h->nlen > 0);
		CHECK(h->n >= m->sol && h->n + h->nlen <= end);
		CHECK(h->v >= m->sol && h->v + h->vlen <= end);
		/* names never hold blanks, values never end with one nor hold CR/LF/NUL */
		for (uint32_t k = 0; k < h->nlen; k++)
			CHECK(m->area[h->n + k] != ' ' && m->area[h->n + k] != '\t' && m->area[h->n + k] != ':');
		if (h->vlen)
			CHECK(m->area[h->v + h->vlen - 1] != ' ' && m->area[h->v + h->vlen - 1] != '\t');
		for (uint32_t k = 0; k < h->vlen; k++)
			CHECK(m->area[h->v + k] != '\r' && m->area[h->v + k] != '\n' && m->area[h->v + k] != 0);
	}
	/* a head ends with an LF */
	CHECK(m->area[end - 1] == '\n');
	/* one framing at most */
	CHECK(!((m->flags & HMF_CLEN) && (m->flags & HMF_TE)));
	if (m->flags & HMF_TE)
		CHECK(m->flags & HMF_CHUNKED);
}

static void record(struct trace *t, const struct http_msg *m, enum http_parse_res r)
{
	struct event *e;

	CHECK(t->n < MAX_EVENTS);
	e = &t->ev[t->n++];
	e->res = r;
	e->sol = m->sol;
	e->next = m->next;
	e->head_len = m->head_len;
	e->body_len = m->body_len;
	e->flags = m->flags & 0xffff;
	e->status = m->err_status;
	e->reason = m->err_reason;
	e->nb_hdrs = m->nb_hdrs;
	e->hdr_sum = table_sum(m);
}

/* Parses area[0, len) in pieces of at most <piece> bytes (0: random sizes
 * from the seed), following pipelined messages, into <t>. */
static void run(struct trace *t, llhttp_type_t type, enum http_meth meth, uint16_t max_hdrs,
                const char *area, uint32_t len, uint32_t piece)
{
	struct http_hdr hdrs[32];
	struct http_msg m;
	uint32_t end = 0, messages = 0;

	t->n = 0;
	http_msg_init(&m, type, hdrs, max_hdrs);
	http_msg_begin(&m, area, 0);
	for (;;) {
		if (end < len) {
			uint32_t step = piece ? piece : 1 + rnd() % (rnd() % 4 == 0 ? 512 : 16);
			end = len - end > step ? end + step : len;
		}
		uint32_t before = m.next;
		enum http_parse_res r = http_msg_parse(&m, end, meth);

		CHECK(m.next >= before && m.next <= end);
		switch (r) {
		case HTTP_PARSE_MORE:
			CHECK(m.next == end);
			if (end < len)
				continue;
			r = http_msg_finish(&m);
			CHECK(r == HTTP_PARSE_DONE || r == HTTP_PARSE_ERROR);
			if (r == HTTP_PARSE_ERROR)
				CHECK(m.err_reason && (m.err_status == 400 || m.err_status == 502));
			if (r == HTTP_PARSE_DONE)
				CHECK(m.flags & HMF_EOF_BODY);
			record(t, &m, r);
			return;
		case HTTP_PARSE_HEAD:
			CHECK(m.state == HTTP_MSG_HDRS_DONE);
			CHECK(m.next == m.sol + m.head_len);
			check_head(&m, len);
			record(t, &m, r);
			m.state = HTTP_MSG_BODY;
			continue;
		case HTTP_PARSE_DONE:
			CHECK(m.flags & HMF_HDRS_SEEN);
			CHECK(m.state == HTTP_MSG_DONE);
			CHECK(m.body_len == (uint64_t)(m.next - m.sol - m.head_len));
			if (m.flags & HMF_NO_BODY)
				CHECK(m.body_len == 0);
			record(t, &m, r);
			if (m.next >= len || ++messages >= 64)
				return;
			/* tunnels are not HTTP any more */
			if ((m.flags & HMF_UPGRADE) && (m.flags & HMF_CONN_UPG))
				return;
			if (type == HTTP_REQUEST && http_msg_method(&m) == HTTP_METH_CONNECT)
				return;
			if (type == HTTP_RESPONSE && http_msg_status(&m) == 101)
				return;
			http_msg_begin(&m, area, m.next);
			continue;
		case HTTP_PARSE_UPGRADE:
			record(t, &m, r);
			return;
		case HTTP_PARSE_ERROR:
			CHECK(m.state == HTTP_MSG_ERROR);
			CHECK(m.err_reason != NULL);
			if (type == HTTP_REQUEST)
				CHECK(m.err_status == 400 || m.err_status == 505);
			else
				CHECK(m.err_status == 502 || m.err_status == 400);
			record(t, &m, r);
			return;
		}
		CHECK(0);
	}
}

/* Two refusals of the same message may name different faults: when a
 * message has several, which one is seen first depends on where the bytes
 * were cut (the glue counts a header as soon as its first byte arrives,
 * llhttp checks a token once it has all of it). What must not change is
 * that it is refused, and for requests the status the client gets (every
 * response refusal ends in a 502, whatever err_status says). */
static int same(const struct event *a, const struct event *b, llhttp_type_t type)
{
	if (a->res != b->res || a->sol != b->sol)
		return 0;
	if (a->res == HTTP_PARSE_ERROR)
		return type == HTTP_RESPONSE || a->status == b->status;
	return a->status == b->status && a->next == b->next && a->head_len == b->head_len && a->body_len == b->body_len &&
	       a->flags == b->flags && a->nb_hdrs == b->nb_hdrs && a->hdr_sum == b->hdr_sum;
}

static struct trace whole, pieces;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t table_sizes[4] = { 32, 4, 1, 0 };

	if (size < 1 || size > 1u << 20)
		return 0;
	uint8_t ctl = data[0];
	llhttp_type_t type = (ctl & 1) ? HTTP_RESPONSE : HTTP_REQUEST;
	enum http_meth meth = (ctl & 2) ? HTTP_METH_HEAD : HTTP_METH_GET;
	uint16_t max_hdrs = table_sizes[(ctl >> 2) & 3];
	uint32_t len = (uint32_t)(size - 1);
	/* exactly the input's bytes: reading past them is caught */
	char *area = malloc(len ? len : 1);

	if (!area)
		return 0;
	memcpy(area, data + 1, len);

	run(&whole, type, meth, max_hdrs, area, len, len ? len : 1);
	rnd_state = ctl >> 4;
	run(&pieces, type, meth, max_hdrs, area, len, 0);

	if (whole.n != pieces.n) {
		fprintf(stderr, "fuzz_http1: %d events whole, %d in pieces\n", whole.n, pieces.n);
		__builtin_trap();
	}
	for (int i = 0; i < whole.n; i++) {
		if (!same(&whole.ev[i], &pieces.ev[i], type)) {
			const struct event *a = &whole.ev[i], *b = &pieces.ev[i];
			fprintf(stderr, "fuzz_http1: event %d differs: whole res=%d next=%u head=%u status=%d '%s', "
			        "pieces res=%d next=%u head=%u status=%d '%s'\n", i, a->res, a->next, a->head_len,
			        a->status, a->reason ? a->reason : "", b->res, b->next, b->head_len, b->status,
			        b->reason ? b->reason : "");
			__builtin_trap();
		}
	}
	free(area);
	return 0;
}
