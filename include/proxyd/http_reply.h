/* Responses the proxy produces itself: the canned error pages (replaceable
 * with "errorfile"), and "http-request return" replies. */
#ifndef PROXYD_HTTP_REPLY_H
#define PROXYD_HTTP_REPLY_H

#include <stddef.h>

enum http_err {
	HTTP_ERR_200 = 0, HTTP_ERR_400, HTTP_ERR_401, HTTP_ERR_403, HTTP_ERR_404,
	HTTP_ERR_405, HTTP_ERR_407, HTTP_ERR_408, HTTP_ERR_410, HTTP_ERR_413,
	HTTP_ERR_414, HTTP_ERR_421, HTTP_ERR_425, HTTP_ERR_429, HTTP_ERR_431,
	HTTP_ERR_500, HTTP_ERR_501, HTTP_ERR_502, HTTP_ERR_503, HTTP_ERR_504,
	HTTP_ERR_505,
	HTTP_ERR_COUNT
};

struct http_reply {
	int status;
	const char *reason;          /* NULL: the standard reason phrase */
	/* Either a complete raw response (errorfile)... */
	const char *raw;
	size_t raw_len;
	/* ...or parts assembled with the right framing at send time. */
	const char *ctype;           /* NULL: no body */
	const char *body;
	size_t body_len;
	const char *hdrs;            /* extra "Name: value\r\n" lines, or NULL */
	const struct logformat *lf_body;  /* lf-string / lf-file: built per request */
};

struct logformat;

/* Index of <status> in the error table, or -1 if errorfile cannot replace it. */
int http_err_index(int status);
int http_err_status(enum http_err e);
/* The built-in reply for an error index. */
const struct http_reply *http_err_default(enum http_err e);

/* Writes the head and body of <r> into dst (at most <room> bytes). When
 * <close> is set the head says "Connection: close". Returns the length, or
 * 0 when it does not fit. Raw replies are copied as they are. */
size_t http_reply_build(const struct http_reply *r, int close, char *dst, size_t room);

/* Loads an errorfile: a whole HTTP response. Returns NULL with a reason in
 * <err> (missing file, not an HTTP response, status mismatch...). */
struct http_reply *http_reply_load_errorfile(const char *path, int status, char *err, size_t errlen);

#endif
