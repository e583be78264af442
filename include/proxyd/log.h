/* Request logging. For now one line per transaction on stderr in debug
 * mode (-d), in HAProxy's httplog layout; syslog targets and log-format
 * come with the logging work. */
#ifndef PROXYD_LOG_H
#define PROXYD_LOG_H

struct stream;

/* Logs the stream's current transaction (once). */
void log_txn(struct stream *s);

#endif
