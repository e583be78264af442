/* The last invalid request and response of each proxy, kept for the admin
 * socket's "show errors" with the bytes around the error. */
#ifndef PROXYD_ERRSNAP_H
#define PROXYD_ERRSNAP_H

#include <stdint.h>

#include <proxyd/addr.h>

struct stream;

#define ERRSNAP_LEN 2048

struct error_snapshot {
	uint64_t when_ms;
	unsigned event;              /* running number of captured errors */
	union sockaddr_any src;
	const struct proxy *other;   /* backend (request errors) or frontend (responses) */
	const struct server *srv;
	uint32_t len;                /* bytes of the message seen, possibly more than kept */
	uint32_t pos;                /* where the parser stopped */
	uint32_t kept;
	char buf[ERRSNAP_LEN];
};

/* Keeps [sol, end) of <area> (a request if !is_res) as the last error of
 * the proxy that saw it: the frontend for requests, the backend for
 * responses. <at> is where the parser stopped. */
void error_snapshot_take(struct stream *s, int is_res, const char *area, uint32_t sol, uint32_t end, uint32_t at);
extern unsigned error_snapshot_count;
extern uint64_t error_snapshot_last_ms;

#endif
