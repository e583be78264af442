/* Logging: HAProxy's traffic log lines (httplog, tcplog, clf, log-format,
 * JSON) and events, sent to syslog-style targets without ever blocking.
 *
 * A target is one "log" line: a UDP address, a unix datagram socket
 * (/dev/log) or stdout/stderr, with a header format, a facility and a
 * level filter. A line that cannot be sent at once is dropped and counted:
 * logging never slows traffic down nor queues without bound. */
#ifndef PROXYD_LOG_H
#define PROXYD_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
struct conn;

#include <proxyd/diag.h>

struct stream;
struct proxy;
struct cfg_ctx;
struct logformat;

/* syslog severities (RFC 5424) */
enum log_level {
	LOGL_EMERG = 0, LOGL_ALERT, LOGL_CRIT, LOGL_ERR, LOGL_WARNING, LOGL_NOTICE, LOGL_INFO, LOGL_DEBUG,
};

enum log_fmt {
	LOGF_RFC3164 = 0,   /* <PRI>Mmm dd hh:mm:ss [host ]tag[pid]: msg */
	LOGF_RFC5424,       /* <PRI>1 ISO-date host tag pid - SD msg */
	LOGF_SHORT,         /* <level>msg */
	LOGF_PRIORITY,      /* <PRI>msg */
	LOGF_TIMED,         /* <level>ISO-date msg */
	LOGF_ISO,           /* ISO-date msg */
	LOGF_RAW,           /* msg */
	LOGF_LOCAL,         /* no "format": rfc3164 with the host only from log-send-hostname */
};

enum log_dest { LOGD_UDP, LOGD_UNIX, LOGD_FD };

struct log_target {
	enum log_dest dest;
	enum log_fmt fmt;
	int facility;                 /* 0..23 */
	int level;                    /* messages above it (less severe) are not sent */
	int minlevel;                 /* more severe ones are sent at this level */
	int maxlen;                   /* whole line, header included */
	int fd;                       /* -1 until opened */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *text;             /* as configured, for messages */
	_Atomic uint64_t sent, dropped;
};

/* The targets of a section; shared by sections that inherit them. */
#define LOG_TARGETS_MAX 64
struct log_list {
	int use_global;               /* "log global" */
	int nb;
	struct log_target *t[LOG_TARGETS_MAX];
};

enum log_kind {
	LOGK_NONE = 0,    /* no option: "Connect from" lines at accept (when targets exist) */
	LOGK_TCP,         /* option tcplog */
	LOGK_HTTP,        /* option httplog */
	LOGK_CLF,         /* option httplog clf */
	LOGK_JSON,        /* option jsonlog (proxyd) */
	LOGK_CUSTOM,      /* log-format */
};

/* Global logging state, filled by the "global" section. */
struct log_global {
	struct log_list list;
	const char *tag;              /* log-tag, default the program name */
	const char *hostname;         /* log-send-hostname */
	_Atomic uint64_t dropped;            /* lines a target could not take at once */
};
extern struct log_global log_global;

/* Opens every configured target (after parsing, before traffic). */
int log_targets_open(void);
void log_targets_close(void);

/* Sends <msg> (no trailing newline) at <level> to the targets of <px>
 * ("log global" included), or to the global ones when <px> is NULL.
 * <sd> is the RFC 5424 structured data, or NULL. */
void log_send(const struct proxy *px, int level, const char *msg, size_t len, const char *sd, size_t sdlen);
/* Does any target of <px> exist? (formats are not rendered for nothing) */
int log_has_targets(const struct proxy *px);
/* Does one of them write on stderr? (-d does not print the line again) */
int log_writes_stderr(const struct proxy *px);

/* Logs the stream's current HTTP transaction (once). */
void log_txn(struct stream *s);
/* Logs a TCP stream at its end; the "Connect from" line of a frontend
 * without log option (at accept in TCP, at each request head in HTTP). */
void log_tcp_end(struct stream *s);
void log_accept(struct stream *s);

/* A proxy or server event at syslog <level>: sent to <px>'s targets (global
 * ones when NULL) and printed on stderr as a <diag> message. */
void log_event(const struct proxy *px, int level, enum diag_level diag, const char *fmt, ...) PRINTF(4, 5);
/* The same, to the targets only (when stderr words it differently). */
void log_msg(const struct proxy *px, int level, const char *fmt, ...) PRINTF(3, 4);

/* The line of <s> in <px>'s format, into <dst>; its length. */
size_t log_build_line(struct stream *s, char *dst, size_t size);

/* Captures (capture.c) and unique ids (unique_id.c), per transaction. */
struct http_txn;
void capture_request(struct stream *s);
void capture_response(struct stream *s);
void capture_free(struct http_txn *txn);
const char *unique_id_get(struct stream *s);
void unique_id_request(struct stream *s);
void unique_id_free(struct http_txn *txn);

/* Keeps the local address of the server connection about to close, when
 * the frontend's format prints it. */
void log_keep_bsrc(struct stream *s);

/* Termination state spelled out, for the JSON format. */
const char *log_term_words(char cause, char phase);
/* Logs a client connection that failed before becoming a stream (TLS
 * handshake), as HAProxy: "<ip>:<port> [<date>] <frontend>/<listener>: <why>". */
void log_conn_error(struct stream *s, struct conn *c);

#endif
