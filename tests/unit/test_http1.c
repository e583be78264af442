/* Unit tests for the HTTP/1 message glue (src/http1.c): start line and
 * header table as offsets, pauses at the end of the head and of the
 * message, pipelining, body framing, and the refusals a strict proxy adds
 * on top of llhttp. Every message is also fed in pieces, down to one byte
 * per call, since that is how the network delivers it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <proxyd/http.h>

#define MAXH 32

struct msg {
	struct http_msg m;
	struct http_hdr h[MAXH];
	char *area;      /* exactly the message's bytes, heap-allocated so that
	                  * the sanitizers see any read past the end */
	uint32_t len;
};

static void msg_start(struct msg *t, llhttp_type_t type, const char *text, size_t len, uint16_t max_hdrs)
{
	t->area = malloc(len ? len : 1);
	assert_non_null(t->area);
	memcpy(t->area, text, len);
	t->len = (uint32_t)len;
	http_msg_init(&t->m, type, t->h, max_hdrs);
	http_msg_begin(&t->m, t->area, 0);
}

static void msg_free(struct msg *t)
{
	free(t->area);
	t->area = NULL;
}

#define REQ(t, s)  msg_start((t), HTTP_REQUEST, (s), sizeof(s) - 1, MAXH)
#define RES(t, s)  msg_start((t), HTTP_RESPONSE, (s), sizeof(s) - 1, MAXH)

static void assert_span(const char *area, uint32_t off, uint32_t len, const char *exp)
{
	if (len != strlen(exp) || memcmp(area + off, exp, len) != 0)
		fail_msg("span at %u is '%.*s', expected '%s'", off, (int)len, area + off, exp);
}

static void assert_sl(const struct msg *t, const char *a, const char *b, const char *c)
{
	assert_span(t->area, t->m.sl[0], t->m.sl_len[0], a);
	assert_span(t->area, t->m.sl[1], t->m.sl_len[1], b);
	assert_span(t->area, t->m.sl[2], t->m.sl_len[2], c);
}

static void assert_hdr(const struct msg *t, int i, const char *name, const char *value)
{
	assert_true(i < t->m.nb_hdrs);
	assert_span(t->area, t->m.hdrs[i].n, t->m.hdrs[i].nlen, name);
	assert_span(t->area, t->m.hdrs[i].v, t->m.hdrs[i].vlen, value);
}

/* Length of the head of <text>, up to the first empty line. */
static uint32_t head_end(const char *text)
{
	const char *e = strstr(text, "\r\n\r\n");

	assert_non_null(e);
	return (uint32_t)(e + 4 - text);
}

/* Feeds the message from msg->next up to <end> in pieces of <step> bytes
 * (0: everything at once) until the parser returns something else than
 * MORE or the bytes run out. */
static enum http_parse_res feed(struct msg *t, uint32_t end, uint32_t step, enum http_meth meth)
{
	enum http_parse_res r = HTTP_PARSE_MORE;
	uint32_t upto = t->m.next;

	do {
		upto = step && end - upto > step ? upto + step : end;
		r = http_msg_parse(&t->m, upto, meth);
	} while (r == HTTP_PARSE_MORE && upto < end);
	return r;
}

/* ------------------------------------------------------------ start lines */

static const char simple_req[] =
	"GET /path?q=1&r=%20 HTTP/1.1\r\n"
	"Host: example.com\r\n"
	"User-Agent: unit/1.0\r\n"
	"X-Empty:\r\n"
	"X-Blank:   \r\n"
	"X-Trail: v a l \t \r\n"
	"x-lower:value\r\n"
	"\r\n";

static void check_simple_req(const struct msg *t)
{
	assert_sl(t, "GET", "/path?q=1&r=%20", "1.1");
	assert_int_equal(t->m.nb_hdrs, 6);
	assert_hdr(t, 0, "Host", "example.com");
	assert_hdr(t, 1, "User-Agent", "unit/1.0");
	assert_hdr(t, 2, "X-Empty", "");
	assert_hdr(t, 3, "X-Blank", "");
	/* trailing blanks are not part of the value, inner ones are */
	assert_hdr(t, 4, "X-Trail", "v a l");
	assert_hdr(t, 5, "x-lower", "value");
	assert_int_equal(t->m.head_len, sizeof(simple_req) - 1);
	assert_int_equal(t->m.flags & (HMF_VER_11 | HMF_HAS_HOST | HMF_CLEN | HMF_CHUNKED | HMF_TE),
	                 HMF_VER_11 | HMF_HAS_HOST);
	assert_int_equal(http_msg_method(&t->m), HTTP_METH_GET);
}

static void test_request_head(void **state)
{
	struct msg t;

	REQ(&t, simple_req);
	assert_int_equal(t.m.state, HTTP_MSG_HDRS);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(t.m.state, HTTP_MSG_HDRS_DONE);
	assert_int_equal(t.m.next, t.len);
	assert_int_equal(t.m.body_len, 0);
	check_simple_req(&t);
	/* no body: the message is complete without another byte */
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_DONE);
	assert_int_equal(t.m.state, HTTP_MSG_DONE);
	assert_int_equal(t.m.next, t.len);
	assert_int_equal(t.m.err_status, 0);
	assert_null(t.m.err_reason);
	/* the connection closing now changes nothing */
	assert_int_equal(http_msg_finish(&t.m), HTTP_PARSE_DONE);
	msg_free(&t);
}

static void test_response_head(void **state)
{
	struct msg t;

	RES(&t, "HTTP/1.1 404 Not Found Here\r\nContent-Length: 0\r\nServer: x\r\n\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_HEAD);
	/* the version without "HTTP/"; the status is only known as a number
	 * (the middle slot stays empty for responses) */
	assert_span(t.area, t.m.sl[0], t.m.sl_len[0], "1.1");
	assert_span(t.area, t.m.sl[2], t.m.sl_len[2], "Not Found Here");
	assert_int_equal(http_msg_status(&t.m), 404);
	assert_int_equal(t.m.nb_hdrs, 2);
	assert_hdr(&t, 0, "Content-Length", "0");
	assert_hdr(&t, 1, "Server", "x");
	assert_int_equal(t.m.flags & (HMF_CLEN | HMF_VER_11 | HMF_NO_BODY | HMF_EOF_BODY), HMF_CLEN | HMF_VER_11);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_DONE);
	assert_int_equal(t.m.next, t.len);
	msg_free(&t);

	/* an empty reason phrase */
	RES(&t, "HTTP/1.0 200 \r\n\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_HEAD);
	assert_span(t.area, t.m.sl[0], t.m.sl_len[0], "1.0");
	assert_int_equal(http_msg_status(&t.m), 200);
	assert_int_equal(t.m.sl_len[2], 0);
	assert_int_equal(t.m.flags & HMF_VER_11, 0);
	/* HTTP/1.0 without a length: the body ends with the connection */
	assert_true(t.m.flags & HMF_EOF_BODY);
	msg_free(&t);
}

static void test_methods(void **state)
{
	static const struct { const char *text; enum http_meth meth; } cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", HTTP_METH_GET },
		{ "HEAD / HTTP/1.1\r\n\r\n", HTTP_METH_HEAD },
		{ "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", HTTP_METH_POST },
		{ "PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", HTTP_METH_PUT },
		{ "DELETE / HTTP/1.1\r\n\r\n", HTTP_METH_DELETE },
		{ "OPTIONS * HTTP/1.1\r\n\r\n", HTTP_METH_OPTIONS },
		{ "CONNECT h:443 HTTP/1.1\r\n\r\n", HTTP_METH_CONNECT },
		{ "TRACE / HTTP/1.1\r\n\r\n", HTTP_METH_TRACE },
		{ "PATCH / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", HTTP_METH_PATCH },
		{ "PROPFIND / HTTP/1.1\r\n\r\n", HTTP_METH_OTHER },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msg t;
		msg_start(&t, HTTP_REQUEST, cases[i].text, strlen(cases[i].text), MAXH);
		assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
		if (http_msg_method(&t.m) != cases[i].meth)
			fail_msg("'%s': method %d, expected %d", cases[i].text, http_msg_method(&t.m), cases[i].meth);
		msg_free(&t);
	}
}

/* The same head fed one byte per call: every call before the last byte
 * wants more, and the table is the same as when it comes at once. */
static void test_request_byte_by_byte(void **state)
{
	struct msg t;

	REQ(&t, simple_req);
	for (uint32_t end = 1; end < t.len; end++) {
		assert_int_equal(http_msg_parse(&t.m, end, HTTP_METH_OTHER), HTTP_PARSE_MORE);
		assert_int_equal(t.m.next, end);
		assert_int_equal(t.m.state, HTTP_MSG_HDRS);
	}
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	check_simple_req(&t);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_DONE);
	msg_free(&t);
}

/* Cut in two at every possible place, then in three. */
static void test_request_every_split(void **state)
{
	const uint32_t len = sizeof(simple_req) - 1;

	for (uint32_t i = 0; i <= len; i++) {
		struct msg t;
		REQ(&t, simple_req);
		enum http_parse_res r = http_msg_parse(&t.m, i, HTTP_METH_OTHER);
		assert_int_equal(r, i == len ? HTTP_PARSE_HEAD : HTTP_PARSE_MORE);
		if (r == HTTP_PARSE_MORE)
			assert_int_equal(http_msg_parse(&t.m, len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
		check_simple_req(&t);
		msg_free(&t);
	}
	for (uint32_t i = 1; i < len; i += 3) {
		for (uint32_t j = i; j < len; j += 5) {
			struct msg t;
			REQ(&t, simple_req);
			assert_int_equal(http_msg_parse(&t.m, i, HTTP_METH_OTHER), HTTP_PARSE_MORE);
			assert_int_equal(http_msg_parse(&t.m, j, HTTP_METH_OTHER), HTTP_PARSE_MORE);
			assert_int_equal(http_msg_parse(&t.m, len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
			check_simple_req(&t);
			msg_free(&t);
		}
	}
}

static void test_response_byte_by_byte(void **state)
{
	static const char text[] = "HTTP/1.1 301 Moved Permanently\r\nLocation: /new\r\nContent-Length: 3\r\n\r\nabc";
	struct msg t;

	RES(&t, text);
	assert_int_equal(feed(&t, t.len, 1, HTTP_METH_GET), HTTP_PARSE_HEAD);
	assert_int_equal(t.m.head_len, t.len - 3);
	assert_span(t.area, t.m.sl[0], t.m.sl_len[0], "1.1");
	assert_span(t.area, t.m.sl[2], t.m.sl_len[2], "Moved Permanently");
	assert_int_equal(http_msg_status(&t.m), 301);
	assert_hdr(&t, 0, "Location", "/new");
	assert_hdr(&t, 1, "Content-Length", "3");
	assert_int_equal(feed(&t, t.len, 1, HTTP_METH_GET), HTTP_PARSE_DONE);
	assert_int_equal(t.m.next, t.len);
	assert_int_equal(t.m.body_len, 3);
	msg_free(&t);
}

/* ------------------------------------------------------------ bodies */

static void test_content_length_pieces(void **state)
{
	static const char text[] = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789";
	const uint32_t head = sizeof(text) - 1 - 10;
	struct msg t;

	REQ(&t, text);
	/* head and the first body bytes arrive together: pause at the head */
	assert_int_equal(http_msg_parse(&t.m, head + 3, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(t.m.head_len, head);
	assert_int_equal(t.m.next, head);
	assert_int_equal(t.m.body_len, 0);
	assert_true(t.m.flags & HMF_CLEN);
	assert_int_equal(t.m.flags & (HMF_CHUNKED | HMF_TE | HMF_EOF_BODY | HMF_NO_BODY), 0);
	/* the caller forwards the body: the state is its business */
	t.m.state = HTTP_MSG_BODY;
	assert_int_equal(http_msg_parse(&t.m, head + 3, HTTP_METH_OTHER), HTTP_PARSE_MORE);
	assert_int_equal(t.m.next, head + 3);
	assert_int_equal(t.m.body_len, 3);
	assert_int_equal(http_msg_parse(&t.m, head + 4, HTTP_METH_OTHER), HTTP_PARSE_MORE);
	assert_int_equal(t.m.body_len, 4);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_DONE);
	assert_int_equal(t.m.next, t.len);
	assert_int_equal(t.m.body_len, 10);
	assert_int_equal(t.m.state, HTTP_MSG_DONE);
	msg_free(&t);
}

static void test_content_length_zero(void **state)
{
	struct msg t;

	REQ(&t, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_DONE);
	/* the next request's bytes are left alone */
	assert_int_equal(t.m.next, t.len - 3);
	assert_int_equal(t.m.body_len, 0);
	msg_free(&t);
}

static void test_pipelined(void **state)
{
	static const char text[] =
		"GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
		"POST /two HTTP/1.1\r\nHost: b\r\nContent-Length: 4\r\n\r\nbody"
		"PUT /three HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
		"GET /four HTTP/1.0\r\n\r\n";
	static const char *const uris[] = { "/one", "/two", "/three", "/four" };
	static const char *const meths[] = { "GET", "POST", "PUT", "GET" };
	static const uint64_t bodies[] = { 0, 4, 12, 0 };

	for (uint32_t step = 0; step <= 7; step += 7) {
		struct msg t;
		uint32_t sol = 0;

		REQ(&t, text);
		for (int i = 0; i < 4; i++) {
			if (i)
				http_msg_begin(&t.m, t.area, sol);
			assert_int_equal(feed(&t, t.len, step, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
			assert_int_equal(t.m.sol, sol);
			/* offsets are into the whole area, not relative to sol */
			assert_sl(&t, meths[i], uris[i], i == 3 ? "1.0" : "1.1");
			assert_true(t.m.sl[0] == sol);
			assert_int_equal(t.m.nb_hdrs, i == 3 ? 0 : i == 0 ? 1 : 2);
			assert_int_equal(feed(&t, t.len, step, HTTP_METH_OTHER), HTTP_PARSE_DONE);
			assert_int_equal(t.m.body_len, bodies[i]);
			assert_int_equal(t.m.next, sol + t.m.head_len + bodies[i]);
			sol = t.m.next;
		}
		assert_int_equal(sol, t.len);
		msg_free(&t);
	}
}

static const char chunked_req[] =
	"POST /c HTTP/1.1\r\n"
	"Host: h\r\n"
	"Transfer-Encoding: chunked\r\n"
	"\r\n"
	"5;name=value\r\n"
	"hello\r\n"
	"3;flag\r\n"
	"xyz\r\n"
	"1A;q=\"quoted string\"\r\n"
	"abcdefghijklmnopqrstuvwxyz\r\n"
	"0\r\n"
	"Trailer-A: 1\r\n"
	"trailer-b: two\r\n"
	"\r\n";

static void test_chunked(void **state)
{
	const uint32_t head = head_end(chunked_req);

	assert_int_equal(head, 18 + 9 + 28 + 2);

	for (uint32_t step = 0; step <= 3; step++) {
		struct msg t;
		REQ(&t, chunked_req);
		assert_int_equal(feed(&t, t.len, step, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
		assert_int_equal(t.m.head_len, head);
		assert_int_equal(t.m.flags & (HMF_CHUNKED | HMF_TE | HMF_CLEN), HMF_CHUNKED | HMF_TE);
		assert_int_equal(t.m.nb_hdrs, 2);
		enum http_parse_res rr = feed(&t, t.len, step, HTTP_METH_OTHER);
		if (rr != HTTP_PARSE_DONE)
			fail_msg("step %u: result %d at %u: %s", step, rr, t.m.next, t.m.err_reason ? t.m.err_reason : "");
		assert_int_equal(t.m.next, t.len);
		/* body_len counts the framing too: everything after the head */
		assert_int_equal(t.m.body_len, t.len - head);
		/* trailers are appended to the header table after the head */
		assert_int_equal(t.m.nb_hdrs, 4);
		assert_hdr(&t, 1, "Transfer-Encoding", "chunked");
		assert_hdr(&t, 2, "Trailer-A", "1");
		assert_hdr(&t, 3, "trailer-b", "two");
		msg_free(&t);
	}
}

static void test_transfer_encoding_list(void **state)
{
	struct msg t;

	/* a coding before the final chunked is fine */
	REQ(&t, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(t.m.flags & (HMF_CHUNKED | HMF_TE), HMF_CHUNKED | HMF_TE);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_DONE);
	assert_int_equal(t.m.next, t.len);
	msg_free(&t);
}

static void test_head_response_has_no_body(void **state)
{
	static const char text[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";

	for (uint32_t step = 0; step <= 1; step++) {
		struct msg t;
		RES(&t, text);
		assert_int_equal(feed(&t, t.len, step, HTTP_METH_HEAD), HTTP_PARSE_HEAD);
		assert_true(t.m.flags & HMF_NO_BODY);
		assert_true(t.m.flags & HMF_CLEN);
		assert_int_equal(t.m.head_len, t.len);
		assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_HEAD), HTTP_PARSE_DONE);
		assert_int_equal(t.m.state, HTTP_MSG_DONE);
		assert_int_equal(t.m.next, t.len);
		assert_int_equal(t.m.body_len, 0);
		msg_free(&t);
	}
}

/* Statuses without a body, whatever framing they announce: a 304 may
 * carry the Content-Length of the resource it validates. */
static void test_no_body_statuses_ignore_framing(void **state)
{
	static const char *const texts[] = {
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		for (uint32_t step = 0; step <= 1; step++) {
			/* the next response follows at once on a kept-alive connection */
			char text[256];
			struct msg t;
			int n = snprintf(text, sizeof(text), "%sHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", texts[i]);
			msg_start(&t, HTTP_RESPONSE, text, (size_t)n, MAXH);
			uint32_t head = head_end(text);
			if (feed(&t, t.len, step, HTTP_METH_GET) != HTTP_PARSE_HEAD)
				fail_msg("'%s': no head (%s)", texts[i], t.m.err_reason ? t.m.err_reason : "");
			assert_int_equal(t.m.head_len, head);
			assert_true(t.m.flags & HMF_NO_BODY);
			if (http_msg_parse(&t.m, t.len, HTTP_METH_GET) != HTTP_PARSE_DONE)
				fail_msg("'%s': not complete after its head", texts[i]);
			assert_int_equal(t.m.state, HTTP_MSG_DONE);
			assert_int_equal(t.m.next, head);
			assert_int_equal(t.m.body_len, 0);
			/* and the following response parses from there */
			http_msg_begin(&t.m, t.area, t.m.next);
			assert_int_equal(feed(&t, t.len, step, HTTP_METH_GET), HTTP_PARSE_HEAD);
			assert_int_equal(http_msg_status(&t.m), 200);
			msg_free(&t);
		}
	}
}

static void test_1xx_then_final(void **state)
{
	static const char text[] =
		"HTTP/1.1 100 Continue\r\n\r\n"
		"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	static const int codes[] = { 100, 103, 200 };

	for (uint32_t step = 0; step <= 1; step++) {
		struct msg t;
		uint32_t sol = 0;
		RES(&t, text);
		for (int i = 0; i < 3; i++) {
			if (i)
				http_msg_begin(&t.m, t.area, sol);
			assert_int_equal(feed(&t, t.len, step, HTTP_METH_POST), HTTP_PARSE_HEAD);
			assert_int_equal(http_msg_status(&t.m), codes[i]);
			assert_int_equal((t.m.flags & HMF_NO_BODY) != 0, i < 2);
			assert_int_equal(feed(&t, t.len, step, HTTP_METH_POST), HTTP_PARSE_DONE);
			sol = t.m.next;
		}
		assert_int_equal(sol, t.len);
		assert_int_equal(t.m.body_len, 2);
		msg_free(&t);
	}
}

static void test_204_304(void **state)
{
	struct msg t;

	/* what follows a 204 is the next response, not a body */
	RES(&t, "HTTP/1.1 204 No Content\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_HEAD);
	assert_true(t.m.flags & HMF_NO_BODY);
	assert_int_equal(t.m.flags & HMF_EOF_BODY, 0);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_DONE);
	assert_int_equal(t.m.next, head_end(t.area));
	assert_int_equal(t.m.next, t.len - 17);
	msg_free(&t);

	RES(&t, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_HEAD);
	assert_true(t.m.flags & HMF_NO_BODY);
	assert_int_equal(t.m.flags & HMF_EOF_BODY, 0);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_DONE);
	assert_int_equal(t.m.next, t.len);
	msg_free(&t);
}

static void test_close_delimited(void **state)
{
	static const char text[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome bytes";

	for (uint32_t step = 0; step <= 1; step++) {
		struct msg t;
		RES(&t, text);
		assert_int_equal(feed(&t, head_end(text), step, HTTP_METH_GET), HTTP_PARSE_HEAD);
		assert_int_equal(t.m.head_len, head_end(text));
		assert_true(t.m.flags & HMF_EOF_BODY);
		t.m.state = HTTP_MSG_BODY;
		assert_int_equal(feed(&t, t.len, step, HTTP_METH_GET), HTTP_PARSE_MORE);
		assert_int_equal(t.m.next, t.len);
		assert_int_equal(t.m.body_len, 10);
		/* only the close ends it */
		assert_int_equal(http_msg_finish(&t.m), HTTP_PARSE_DONE);
		assert_int_equal(t.m.state, HTTP_MSG_DONE);
		assert_int_equal(t.m.err_status, 0);
		msg_free(&t);
	}
}

static void test_truncated(void **state)
{
	struct msg t;

	/* response body shorter than announced */
	RES(&t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_HEAD);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_MORE);
	assert_int_equal(t.m.body_len, 3);
	assert_int_equal(http_msg_finish(&t.m), HTTP_PARSE_ERROR);
	assert_int_equal(t.m.state, HTTP_MSG_ERROR);
	assert_int_equal(t.m.err_status, 502);
	assert_string_equal(t.m.err_reason, "truncated message");
	msg_free(&t);

	/* request body, chunked, cut in a chunk */
	REQ(&t, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_MORE);
	assert_int_equal(http_msg_finish(&t.m), HTTP_PARSE_ERROR);
	assert_int_equal(t.m.err_status, 400);
	assert_string_equal(t.m.err_reason, "truncated message");
	msg_free(&t);

	/* head cut short */
	REQ(&t, "GET / HTTP/1.1\r\nHost: a\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_MORE);
	assert_int_equal(http_msg_finish(&t.m), HTTP_PARSE_ERROR);
	assert_int_equal(t.m.err_status, 400);
	assert_string_equal(t.m.err_reason, "truncated message");
	msg_free(&t);

	/* nothing at all */
	RES(&t, "");
	assert_int_equal(http_msg_finish(&t.m), HTTP_PARSE_ERROR);
	assert_int_equal(t.m.err_status, 502);
	msg_free(&t);
}

static void test_connection_flags(void **state)
{
	struct msg t;

	REQ(&t, "GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, close ,X-Foo\r\n"
	        "Expect: 100-Continue\r\nUpgrade: websocket\r\n\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(t.m.flags & (HMF_CONN_CLOSE | HMF_CONN_KAL | HMF_CONN_UPG | HMF_CONN_OTHER |
	                              HMF_UPGRADE | HMF_EXPECT_100),
	                 HMF_CONN_CLOSE | HMF_CONN_KAL | HMF_CONN_OTHER | HMF_UPGRADE | HMF_EXPECT_100);
	msg_free(&t);

	REQ(&t, "GET / HTTP/1.0\r\nConnection: upgrade\r\nExpect: 100-continue-not\r\n\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(t.m.flags & (HMF_CONN_CLOSE | HMF_CONN_KAL | HMF_CONN_UPG | HMF_CONN_OTHER |
	                              HMF_UPGRADE | HMF_EXPECT_100 | HMF_VER_11 | HMF_HAS_HOST),
	                 HMF_CONN_UPG);
	msg_free(&t);
}

static void test_upgrade_leaves_tunnel_bytes(void **state)
{
	struct msg t;

	REQ(&t, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(t.m.flags & (HMF_UPGRADE | HMF_CONN_UPG), HMF_UPGRADE | HMF_CONN_UPG);
	enum http_parse_res r = http_msg_parse(&t.m, t.len, HTTP_METH_OTHER);
	assert_true(r == HTTP_PARSE_DONE || r == HTTP_PARSE_UPGRADE);
	/* the frames after the head are not HTTP: they are not consumed */
	assert_int_equal(t.m.next, t.m.head_len);
	assert_int_equal(t.m.next, t.len - 7);
	msg_free(&t);
}

/* ------------------------------------------------------------ refusals */

struct refusal {
	llhttp_type_t type;
	const char *text;
	size_t len;                 /* 0: strlen(text) */
	int status;
	const char *reason;
};

#define RQ(s, st, why) { HTTP_REQUEST, s, sizeof(s) - 1, st, why }
#define RS(s, st, why) { HTTP_RESPONSE, s, sizeof(s) - 1, st, why }

static const struct refusal refusals[] = {
	/* framing: two ways of reading the length */
	RQ("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	   400, "Content-Length can't be present with Transfer-Encoding"),
	RQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
	   400, "Content-Length can't be present with Transfer-Encoding"),
	RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
	   502, "Content-Length can't be present with Transfer-Encoding"),
	RQ("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400, "Duplicate Content-Length"),
	RS("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 502, "Duplicate Content-Length"),
	RQ("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", 400, "Invalid character in Content-Length"),
	RQ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Invalid character in Content-Length"),
	RQ("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, "Content-Length overflow"),
	RQ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "Transfer-Encoding without a final chunked"),
	RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 502, "Transfer-Encoding without a final chunked"),
	RQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, "Invalid `Transfer-Encoding` header value"),
	RQ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "Transfer-Encoding in an HTTP/1.0 message"),
	RS("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 502, "Transfer-Encoding in an HTTP/1.0 message"),
	/* header syntax */
	RQ("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400, "obsolete line folding in header value"),
	RQ("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 400, "obsolete line folding in header value"),
	RS("HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", 502, "obsolete line folding in header value"),
	RQ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "Missing expected LF after header value"),
	RQ("GET / HTTP/1.1\rX: a\r\n\r\n", 400, "Expected CRLF after version"),
	RQ("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 400, "Invalid header value char"),
	RQ("GET / HTTP/1.1\r\nX\0Y: a\r\n\r\n", 400, "Invalid header token"),
	RQ("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400, "Invalid header value char"),
	RQ("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", 400, "Invalid header value char"),
	RQ("GET / HTTP/1.1\r\nX\x01: a\r\n\r\n", 400, "Invalid header token"),
	RQ("GET / HTTP/1.1\r\nX\tY: a\r\n\r\n", 400, "Invalid header token"),
	RQ("GET / HTTP/1.1\r\nX : a\r\n\r\n", 400, "whitespace in header name"),
	RS("HTTP/1.1 200 OK\r\nX-Len : 5\r\n\r\nhello", 502, "whitespace in header name"),
	/* llhttp itself refuses it where the name is one it interprets */
	RS("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", 502, "Invalid header field char"),
	RQ("GET / HTTP/1.1\r\nX\t: a\r\n\r\n", 400, "Invalid header token"),
	RQ("GET / HTTP/1.1\r\n: a\r\n\r\n", 400, "empty header name"),
	RQ("GET / HTTP/1.1\r\n X: a\r\n\r\n", 400, "Unexpected space after start line"),
	RQ("GET / HTTP/1.1\nHost: a\n\n", 400, "Invalid header value char"),
	/* chunk sizes */
	RQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "Invalid character in chunk size"),
	RQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400, "Invalid character in chunk size"),
	RQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400, "Chunk size overflow"),
	RS("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 502, "Invalid character in chunk size"),
	/* versions and start lines */
	RQ("GET / HTTP/2.0\r\n\r\n", 505, "unsupported HTTP version"),
	RQ("GET / HTTP/0.9\r\n\r\n", 505, "unsupported HTTP version"),
	RQ("GET / HTTP/1.2\r\n\r\n", 400, "Invalid HTTP version"),
	RS("HTTP/2.0 200 OK\r\n\r\n", 502, "unsupported HTTP version"),
	RS("HTTP/1.2 200 OK\r\n\r\n", 502, "Invalid HTTP version"),
	RS("HTTP/1.1 2000 OK\r\n\r\n", 502, "Response overflow"),
	RQ("G@T / HTTP/1.1\r\n\r\n", 400, "Invalid method encountered"),
	RQ("GET /a b HTTP/1.1\r\n\r\n", 400, "Expected HTTP/"),
	/* a CR that is not followed by an LF where the head or the trailers
	 * end: llhttp 8 takes it, with the next byte, for the empty line */
	RQ("GET / HTTP/1.1\r\nHost: a\r\n\rX", 400, "CR without LF ending the head or the trailers"),
	RQ("GET / HTTP/1.1\r\n\rGET / HTTP/1.1\r\n\r\n", 400, "CR without LF ending the head or the trailers"),
	RS("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r!", 502, "CR without LF ending the head or the trailers"),
	RS("HTTP/1.1 304 Not Modified\r\n\r!", 502, "CR without LF ending the head or the trailers"),
	RQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX",
	   400, "CR without LF ending the head or the trailers"),
	RQ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nT: v\r\n\rX",
	   400, "CR without LF ending the head or the trailers"),
	/* Host */
	RQ("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, "several Host headers"),
	RQ("GET / HTTP/1.1\r\nHOST: a\r\nX: y\r\nHost: a\r\n\r\n", 400, "several Host headers"),
	/* a Host trailer counts as a second Host */
	RQ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nHost: b\r\n\r\n",
	   400, "several Host headers"),
};

/* Fed at once and one byte at a time: the same refusal either way. */
static void test_refusals(void **state)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *c = &refusals[i];
		for (uint32_t step = 0; step <= 1; step++) {
			struct msg t;
			enum http_parse_res r;
			msg_start(&t, c->type, c->text, c->len, MAXH);
			do {
				r = feed(&t, t.len, step, HTTP_METH_GET);
				if (r == HTTP_PARSE_HEAD)
					t.m.state = HTTP_MSG_BODY;
			} while (r == HTTP_PARSE_HEAD);
			if (r != HTTP_PARSE_ERROR)
				fail_msg("case %zu step %u: '%s' accepted (result %d)", i, step, c->text, r);
			if (t.m.err_status != c->status || !t.m.err_reason || strcmp(t.m.err_reason, c->reason) != 0)
				fail_msg("case %zu step %u: '%s': %d '%s', expected %d '%s'", i, step, c->text,
				         t.m.err_status, t.m.err_reason ? t.m.err_reason : "(null)", c->status, c->reason);
			assert_int_equal(t.m.state, HTTP_MSG_ERROR);
			msg_free(&t);
		}
	}
}

/* llhttp 8 also takes a CR followed by any byte for the CRLF after a chunk
 * size and after chunk data, and does not look at the two bytes after
 * chunk data at all; the glue checks the chunked framing itself, so every
 * one of these bodies is refused. */
static void test_chunk_framing_crlf(void **state)
{
	static const char *const bodies[] = {
		"5\rXhello\r\n0\r\n\r\n",
		"5;e=v\rXhello\r\n0\r\n\r\n",
		"5\r\nhello\rX0\r\n\r\n",
		"5\r\nhelloXY0\r\n\r\n",
		"0\rX\r\n",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char text[256];
		struct msg t;
		int n = snprintf(text, sizeof(text), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%s", bodies[i]);
		msg_start(&t, HTTP_REQUEST, text, (size_t)n, MAXH);
		assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
		assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_ERROR);
		assert_int_equal(t.m.err_status, 400);
		assert_string_equal(t.m.err_reason, "invalid chunked framing (CRLF expected)");
		msg_free(&t);
	}
}

static void test_too_many_headers(void **state)
{
	static const char two[] = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
	static const char three[] = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	struct msg t;

	msg_start(&t, HTTP_REQUEST, two, sizeof(two) - 1, 2);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(t.m.nb_hdrs, 2);
	msg_free(&t);

	for (uint32_t step = 0; step <= 1; step++) {
		msg_start(&t, HTTP_REQUEST, three, sizeof(three) - 1, 2);
		assert_int_equal(feed(&t, t.len, step, HTTP_METH_OTHER), HTTP_PARSE_ERROR);
		assert_int_equal(t.m.err_status, 400);
		assert_string_equal(t.m.err_reason, "too many headers");
		/* the table was not written past its end */
		assert_int_equal(t.m.nb_hdrs, 2);
		msg_free(&t);
	}

	/* responses are refused with a 400 too: the status is the one set by
	 * the check, not the 502 of other response errors */
	msg_start(&t, HTTP_RESPONSE, "HTTP/1.1 200 OK\r\nA: 1\r\n\r\n", 25, 0);
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_GET), HTTP_PARSE_ERROR);
	assert_int_equal(t.m.err_status, 400);
	assert_string_equal(t.m.err_reason, "too many headers");
	msg_free(&t);
}

/* ------------------------------------------------------------ helpers */

static void test_find_hdr(void **state)
{
	struct msg t;

	REQ(&t, "GET / HTTP/1.1\r\nHost: a\r\nX-Dup: 1\r\nX-Dup-Not: 2\r\nx-dup: 3\r\nX-Du: 4\r\n\r\n");
	assert_int_equal(http_msg_parse(&t.m, t.len, HTTP_METH_OTHER), HTTP_PARSE_HEAD);
	assert_int_equal(http_find_hdr(&t.m, "host", 4, -1), 0);
	assert_int_equal(http_find_hdr(&t.m, "HOST", 4, -1), 0);
	assert_int_equal(http_find_hdr(&t.m, "host", 4, 0), -1);
	assert_int_equal(http_find_hdr(&t.m, "X-Dup", 5, -1), 1);
	assert_int_equal(http_find_hdr(&t.m, "X-Dup", 5, 1), 3);
	assert_int_equal(http_find_hdr(&t.m, "X-Dup", 5, 3), -1);
	assert_int_equal(http_find_hdr(&t.m, "x-du", 4, -1), 4);
	assert_int_equal(http_find_hdr(&t.m, "X-Dup-Not", 9, -1), 2);
	assert_int_equal(http_find_hdr(&t.m, "Missing", 7, -1), -1);
	assert_int_equal(http_find_hdr(&t.m, "", 0, -1), -1);
	/* <nlen> is what counts, not a terminating NUL */
	assert_int_equal(http_find_hdr(&t.m, "X-Dup-Not", 5, -1), 1);
	assert_memory_equal(http_hdr_name(&t.m, &t.m.hdrs[3]), "x-dup", 5);
	assert_memory_equal(http_hdr_value(&t.m, &t.m.hdrs[3]), "3", 1);
	msg_free(&t);
}

static void test_value_has_token(void **state)
{
#define TOK(v, tok) http_value_has_token(v, strlen(v), tok, strlen(tok))
	assert_true(TOK("close", "close"));
	assert_true(TOK("Close", "close"));
	assert_true(TOK("keep-alive, close", "close"));
	assert_true(TOK(" keep-alive ,\tCLOSE\t", "close"));
	assert_true(TOK("a,,b", "b"));
	assert_true(TOK("upgrade,close", "upgrade"));
	assert_false(TOK("closed", "close"));
	assert_false(TOK("clos", "close"));
	assert_false(TOK("x-close", "close"));
	assert_false(TOK("", "close"));
	assert_false(TOK(" , ,", "close"));
	/* only <vlen> bytes are looked at */
	assert_false(http_value_has_token("keep-alive, close", 11, "close", 5));
	assert_true(http_value_has_token("close, keep-alive", 5, "close", 5));
#undef TOK
}

static void test_status_reason(void **state)
{
	assert_string_equal(http_status_reason(100), "Continue");
	assert_string_equal(http_status_reason(101), "Switching Protocols");
	assert_string_equal(http_status_reason(200), "OK");
	assert_string_equal(http_status_reason(204), "No Content");
	assert_string_equal(http_status_reason(304), "Not Modified");
	assert_string_equal(http_status_reason(400), "Bad Request");
	assert_string_equal(http_status_reason(404), "Not Found");
	assert_string_equal(http_status_reason(413), "Payload Too Large");
	assert_string_equal(http_status_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_status_reason(502), "Bad Gateway");
	assert_string_equal(http_status_reason(503), "Service Unavailable");
	assert_string_equal(http_status_reason(504), "Gateway Timeout");
	assert_string_equal(http_status_reason(505), "HTTP Version Not Supported");
	/* unlisted codes get their class */
	assert_string_equal(http_status_reason(199), "Informational");
	assert_string_equal(http_status_reason(299), "Success");
	assert_string_equal(http_status_reason(399), "Redirection");
	assert_string_equal(http_status_reason(418), "Client Error");
	assert_string_equal(http_status_reason(599), "Server Error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_head),
		cmocka_unit_test(test_response_head),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_request_byte_by_byte),
		cmocka_unit_test(test_request_every_split),
		cmocka_unit_test(test_response_byte_by_byte),
		cmocka_unit_test(test_content_length_pieces),
		cmocka_unit_test(test_content_length_zero),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_transfer_encoding_list),
		cmocka_unit_test(test_head_response_has_no_body),
		cmocka_unit_test(test_no_body_statuses_ignore_framing),
		cmocka_unit_test(test_1xx_then_final),
		cmocka_unit_test(test_204_304),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_connection_flags),
		cmocka_unit_test(test_upgrade_leaves_tunnel_bytes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_chunk_framing_crlf),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_find_hdr),
		cmocka_unit_test(test_value_has_token),
		cmocka_unit_test(test_status_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
