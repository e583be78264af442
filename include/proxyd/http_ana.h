/* The HTTP steps of a stream, in the order a transaction goes through them:
 * parse the request head, run the frontend then backend rules, pick the
 * backend and server, rewrite the head towards the server, forward the
 * body, parse the response head, rewrite it towards the client, forward
 * the body, end the transaction. */
#ifndef PROXYD_HTTP_ANA_H
#define PROXYD_HTTP_ANA_H

#include <proxyd/http_reply.h>

struct stream;

/* Sends a locally produced response <r> to the client, ending the
 * transaction's server side. The client connection is kept when the
 * request was complete and the reply allows it. */
void http_reply_send(struct stream *s, const struct http_reply *r, int force_close);
/* Sends the error page for <err> (the proxy's errorfile when set) and
 * records <why> for the debug log. */
void http_error(struct stream *s, enum http_err err, const char *why);

/* The steps stream_process() runs for HTTP streams, in this order. */
void http_req_step(struct stream *s);
void http_res_step(struct stream *s);
void http_end_step(struct stream *s);
/* Deadlines of an HTTP stream passed. */
void http_cli_timeout(struct stream *s);
void http_srv_timeout(struct stream *s);
/* Size of a transaction object for the configured limits. */
size_t http_txn_size(void);
/* A new transaction for <s> (from its thread's pool), its messages ready
 * to begin; NULL without memory. */
struct http_txn *http_txn_new(struct stream *s);
/* Frees the current transaction, if any. */
void http_txn_free(struct stream *s);

#endif
