/* Locally produced responses: error pages and "return" replies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <proxyd/cfg.h>
#include <proxyd/compiler.h>
#include <proxyd/http.h>
#include <proxyd/http_reply.h>

static const int err_codes[HTTP_ERR_COUNT] = {
	[HTTP_ERR_200] = 200, [HTTP_ERR_400] = 400, [HTTP_ERR_401] = 401, [HTTP_ERR_403] = 403,
	[HTTP_ERR_404] = 404, [HTTP_ERR_405] = 405, [HTTP_ERR_407] = 407, [HTTP_ERR_408] = 408,
	[HTTP_ERR_410] = 410, [HTTP_ERR_413] = 413, [HTTP_ERR_414] = 414, [HTTP_ERR_421] = 421,
	[HTTP_ERR_425] = 425, [HTTP_ERR_429] = 429, [HTTP_ERR_431] = 431, [HTTP_ERR_500] = 500,
	[HTTP_ERR_501] = 501, [HTTP_ERR_502] = 502, [HTTP_ERR_503] = 503, [HTTP_ERR_504] = 504,
	[HTTP_ERR_505] = 505,
};

/* One sentence per status, in the spirit of HAProxy's pages: the status in
 * a heading and a short explanation, small enough to fit any buffer. */
static const char *const err_texts[HTTP_ERR_COUNT] = {
	[HTTP_ERR_200] = "Service ready.",
	[HTTP_ERR_400] = "The request could not be understood by the proxy.",
	[HTTP_ERR_401] = "Authentication is required to access this resource.",
	[HTTP_ERR_403] = "The request was denied by the proxy's rules.",
	[HTTP_ERR_404] = "The requested URL was not found.",
	[HTTP_ERR_405] = "The method is not allowed for this resource.",
	[HTTP_ERR_407] = "Authentication with the proxy is required.",
	[HTTP_ERR_408] = "The request was not received completely in time.",
	[HTTP_ERR_410] = "The requested resource is no longer available.",
	[HTTP_ERR_413] = "The request is larger than the proxy accepts.",
	[HTTP_ERR_414] = "The request URI is longer than the proxy accepts.",
	[HTTP_ERR_421] = "The request was sent to a server that cannot answer it.",
	[HTTP_ERR_425] = "The server is not ready to process a request that might be replayed.",
	[HTTP_ERR_429] = "Too many requests were sent in a given amount of time.",
	[HTTP_ERR_431] = "The request header fields are larger than the proxy accepts.",
	[HTTP_ERR_500] = "The proxy hit an internal error while processing the request.",
	[HTTP_ERR_501] = "The proxy does not support the functionality this request needs.",
	[HTTP_ERR_502] = "The server sent an invalid or incomplete response.",
	[HTTP_ERR_503] = "No server is available to handle the request right now.",
	[HTTP_ERR_504] = "The server did not respond in time.",
	[HTTP_ERR_505] = "The HTTP version of the request is not supported.",
};

/* Status lines of the built-in pages: HAProxy's reason phrases, which
 * monitoring scripts sometimes match ("400 Bad request", "504 Gateway
 * Time-out"); the page text itself is ours. */
static const char *const err_reasons[HTTP_ERR_COUNT] = {
	[HTTP_ERR_200] = "OK", [HTTP_ERR_400] = "Bad request", [HTTP_ERR_401] = "Unauthorized",
	[HTTP_ERR_403] = "Forbidden", [HTTP_ERR_404] = "Not Found", [HTTP_ERR_405] = "Method Not Allowed",
	[HTTP_ERR_407] = "Unauthorized", [HTTP_ERR_408] = "Request Time-out", [HTTP_ERR_410] = "Gone",
	[HTTP_ERR_413] = "Payload Too Large", [HTTP_ERR_414] = "URI Too Long",
	[HTTP_ERR_421] = "Misdirected Request", [HTTP_ERR_425] = "Too Early",
	[HTTP_ERR_429] = "Too Many Requests", [HTTP_ERR_431] = "Request Header Fields Too Large",
	[HTTP_ERR_500] = "Internal Server Error", [HTTP_ERR_501] = "Not Implemented",
	[HTTP_ERR_502] = "Bad Gateway", [HTTP_ERR_503] = "Service Unavailable",
	[HTTP_ERR_504] = "Gateway Time-out", [HTTP_ERR_505] = "HTTP Version Not Supported",
};

static struct http_reply default_replies[HTTP_ERR_COUNT];
static char default_bodies[HTTP_ERR_COUNT][256];

int http_err_index(int status)
{
	/* errorfile may replace what HAProxy lets it replace; the other
	 * entries are used internally only */
	switch (status) {
	case 414: case 421: case 431: case 505:
		return -1;
	}
	for (int i = 0; i < HTTP_ERR_COUNT; i++)
		if (err_codes[i] == status)
			return i;
	return -1;
}

int http_err_status(enum http_err e)
{
	return err_codes[e];
}

const struct http_reply *http_err_default(enum http_err e)
{
	struct http_reply *r = &default_replies[e];

	if (!r->status) {
		int n = snprintf(default_bodies[e], sizeof(default_bodies[e]),
		                 "<html><body><h1>%d %s</h1>\n%s\n</body></html>\n",
		                 err_codes[e], err_reasons[e], err_texts[e]);
		r->status = err_codes[e];
		r->reason = err_reasons[e];
		r->ctype = "text/html";
		r->body = default_bodies[e];
		r->body_len = (size_t)n;
		r->hdrs = "cache-control: no-cache\r\n";
	}
	return r;
}

size_t http_reply_build(const struct http_reply *r, int close, char *dst, size_t room)
{
	int n;

	if (r->raw) {
		if (r->raw_len > room)
			return 0;
		memcpy(dst, r->raw, r->raw_len);
		return r->raw_len;
	}
	n = snprintf(dst, room, "HTTP/1.1 %d %s\r\ncontent-length: %zu\r\n%s%s%s%s%s\r\n",
	             r->status, r->reason ? r->reason : http_status_reason(r->status),
	             r->ctype ? r->body_len : 0,
	             r->hdrs ? r->hdrs : "", r->ctype ? "content-type: " : "", r->ctype ? r->ctype : "",
	             r->ctype ? "\r\n" : "", close ? "connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= room || room - n < (r->ctype ? r->body_len : 0))
		return 0;
	if (r->ctype && r->body_len) {
		memcpy(dst + n, r->body, r->body_len);
		n += (int)r->body_len;
	}
	return (size_t)n;
}

/* Reads a whole file into the config arena. */
static char *load_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (!f) {
		snprintf(err, errlen, "cannot open file '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "'%s' is not a regular file", path);
		fclose(f);
		return NULL;
	}
	char *data = cfg_alloc((size_t)st.st_size + 1);
	size_t got = fread(data, 1, (size_t)st.st_size, f);
	fclose(f);
	if (got != (size_t)st.st_size) {
		snprintf(err, errlen, "short read on '%s'", path);
		return NULL;
	}
	*len = got;
	return data;
}

struct http_reply *http_reply_load_errorfile(const char *path, int status, char *err, size_t errlen)
{
	size_t len;
	char *data = load_file(path, &len, err, errlen);
	int code;

	if (!data)
		return NULL;
	if (len > 8192) {
		snprintf(err, errlen, "file '%s' is too large (%zu bytes) for an error response (max 8192)", path, len);
		return NULL;
	}
	if (len < 12 || strncmp(data, "HTTP/1.", 7) != 0 || sscanf(data + 9, "%3d", &code) != 1) {
		snprintf(err, errlen, "file '%s' does not start with an HTTP status line (e.g. 'HTTP/1.1 %d ...')",
		         path, status);
		return NULL;
	}
	if (!strstr(data, "\r\n\r\n") && !strstr(data, "\n\n")) {
		snprintf(err, errlen, "file '%s' has no empty line ending the response head", path);
		return NULL;
	}
	struct http_reply *r = cfg_alloc(sizeof(*r));
	r->status = code;
	r->raw = data;
	r->raw_len = len;
	return r;
}

/* Used by "http-request return ... file <f>": the body only. */
int http_reply_load_body(const char *path, struct http_reply *r, char *err, size_t errlen);
int http_reply_load_body(const char *path, struct http_reply *r, char *err, size_t errlen)
{
	size_t len;
	char *data = load_file(path, &len, err, errlen);

	if (!data)
		return -1;
	r->body = data;
	r->body_len = len;
	return 0;
}
