/* Cookie persistence ("cookie" in a backend, "cookie" on its servers) */
#ifndef PROXYD_COOKIE_H
#define PROXYD_COOKIE_H

#include <stddef.h>

#include <proxyd/list.h>

struct stream;

enum ck_mode {
	CK_PASSIVE,      /* no mode given: the application sets the cookie itself */
	CK_INSERT,
	CK_REWRITE,
	CK_PREFIX,
};

enum {
	CK_F_INDIRECT = 1 << 0,
	CK_F_NOCACHE  = 1 << 1,
	CK_F_POSTONLY = 1 << 2,
	CK_F_PRESERVE = 1 << 3,
	CK_F_HTTPONLY = 1 << 4,
	CK_F_SECURE   = 1 << 5,
};

struct cookie_conf {
	const char *name;
	size_t nlen;
	enum ck_mode mode;
	unsigned flags;          /* CK_F_* */
	const char *domains;     /* "; domain=a; domain=b", or NULL */
	const char *attrs;       /* "; attr1; attr2", or NULL */
	int maxidle, maxlife;    /* seconds, 0 = none */
};

/* Request head, once the backend is known: may pick the server (SF_DIRECT)
 * and strips what the server must not see. */
void cookie_request(struct stream *s);
/* Response head, after the http-response rules. */
void cookie_response(struct stream *s);

/* A persisted request was redispatched to another server. */
void cookie_server_changed(struct stream *s);
/* The two cookie letters of the log (%tsc, 3rd and 4th characters). */
void cookie_log_letters(const struct stream *s, char out[2]);

/* Dates in insert-mode values ("SRV|<last seen>|<first seen>"): 30 bits
 * in 5 base64 characters, the date in units of 4 seconds, as HAProxy.
 * Decoding returns -1 unless <in> starts with 5 base64 characters. */
int cookie_date_decode(const char *in);
void cookie_date_encode(unsigned v, char out[5]);

#endif
