/* Request logging. For now one line per transaction on stderr in debug
 * mode (-d), in HAProxy's httplog layout; syslog targets and log-format
 * come with the logging work. */
#ifndef PROXYD_LOG_H
#define PROXYD_LOG_H

struct stream;
struct conn;

#include <proxyd/diag.h>

/* Logs the stream's current transaction (once). */
void log_txn(struct stream *s);
/* Logs a client connection that failed before becoming a stream (TLS
 * handshake), as HAProxy: "<ip>:<port> [<date>] <frontend>/<listener>: <why>". */
void log_conn_error(struct stream *s, struct conn *c);
/* Logs a proxy event (server state changes, health checks): on stderr in
 * HAProxy's shape for now, to the log targets once they exist. */
void log_event(enum diag_level lvl, const char *fmt, ...) PRINTF(2, 3);

#endif
