/* The server side of a stream: choosing the backend, assigning a server
 * (or waiting in the queue for one), getting a connection (an idle one or
 * a new one), retrying failed connects. */
#ifndef PROXYD_BACKEND_H
#define PROXYD_BACKEND_H

struct proxy;
struct stream;

/* The backend for the current request or connection: the first matching
 * use_backend rule, else default_backend, else NULL. */
struct proxy *backend_select(struct stream *s);
/* Counts the stream in backend <be>. */
void backend_attach(struct stream *s, struct proxy *be);

/* Advances the server side when the stream wants a server connection
 * (SF_SRV_WANTED): assign, queue, connect, retry after a turn-around. */
void backend_step(struct stream *s);
/* A write event on a connecting server connection. */
void backend_connect_event(struct stream *s);
/* The server connection failed before any response byte; <timeout> when
 * it was a connect timeout. Retries or fails the stream. */
void backend_conn_failed(struct stream *s, int timeout);
/* Gives back the server slot (served count) and serves the queue. */
void backend_release_slot(struct stream *s);
/* Hands free slots to queued streams (after servers came back). */
void backend_serve_queues(struct proxy *be);
/* Removes the stream from its backend queue. */
void backend_dequeue(struct stream *s);
/* On the stream's own thread: takes the slot another thread reserved for
 * it when it left its queue (see stream.granted). */
void backend_adopt_grant(struct stream *s);
/* The queue deadline passed. */
void backend_queue_expired(struct stream *s);

/* Evaluates the backend's server SNI expression while the request head
 * is readable (before it is rewritten and sent). */
void backend_keep_sni(struct stream *s);

#endif
