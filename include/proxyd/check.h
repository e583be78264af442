/* Health checks. Every check type is a small program of steps — connect,
 * send, expect — run on the check's own connection and timer: a plain TCP
 * check is just "connect"; option httpchk, tcp-check rules, ssl-hello-chk,
 * smtpchk and redis-check are programs built from the configuration. The
 * result feeds HAProxy's health counter (rise/fall), which moves the
 * server between UP and DOWN. */
#ifndef PROXYD_CHECK_H
#define PROXYD_CHECK_H

#include <stdint.h>
#include <sys/socket.h>
#include <ev.h>

#include <proxyd/buf.h>

struct server;
struct proxy;
struct my_regex;
struct cfg_ctx;

/* Check results, numbered as HAProxy's (the value appears in
 * "show servers state"); 2, 3 and 14 are never shown. */
enum chk_status {
	CHK_ST_UNKNOWN = 0,
	CHK_ST_INI     = 1,
	CHK_ST_HANA    = 4,
	CHK_ST_SOCKERR = 5,
	CHK_ST_L4OK    = 6,
	CHK_ST_L4TOUT  = 7,
	CHK_ST_L4CON   = 8,
	CHK_ST_L6OK    = 9,
	CHK_ST_L6TOUT  = 10,
	CHK_ST_L6RSP   = 11,
	CHK_ST_L7TOUT  = 12,
	CHK_ST_L7RSP   = 13,
	CHK_ST_L7OK    = 15,
	CHK_ST_L7OKC   = 16,
	CHK_ST_L7STS   = 17,
	CHK_ST_COUNT
};

/* Short code ("L4CON") and description ("Layer4 connection problem"). */
const char *chk_status_code(enum chk_status st);
const char *chk_status_desc(enum chk_status st);
/* 1 success, 0 failure, 2 conditional success (NOLB). */
int chk_status_result(enum chk_status st);

enum chk_step_type {
	CHK_CONNECT = 0,
	CHK_SEND,
	CHK_EXPECT,
	CHK_HTTP_SEND,
	CHK_HTTP_EXPECT,
};

enum chk_expect {
	CHK_EXP_STRING = 0,    /* payload contains the bytes */
	CHK_EXP_RSTRING,       /* payload matches the regex */
	CHK_EXP_BINARY,        /* payload contains the bytes (given in hex) */
	CHK_EXP_STATUS,        /* HTTP status in the list / ranges */
	CHK_EXP_RSTATUS,       /* HTTP status matches the regex */
	CHK_EXP_HTTP_STRING,   /* HTTP body contains */
	CHK_EXP_HTTP_RSTRING,  /* HTTP body matches */
	CHK_EXP_SSL_HELLO,     /* a TLS record came back (ssl-hello-chk) */
};

struct chk_step {
	enum chk_step_type type;
	/* connect */
	int port;                     /* 0: the check port or the server's */
	/* send / http send */
	const char *data;
	size_t len;
	/* expect */
	enum chk_expect exp;
	int negate;
	struct my_regex *re;
	const char *pattern;          /* as written, for messages */
	size_t plen;
	int ranges[16][2];            /* status ranges */
	int nb_ranges;
	int min_recv;                 /* bytes to wait for before matching, -1: all */
};

struct chk_prog {
	struct chk_step *steps;
	int nb, cap;
	int http;                     /* option httpchk (HTTP request built once) */
	int disable_on_404;
	const char *meth, *uri, *ver; /* option httpchk / http-check send */
	const char *hdrs;             /* extra "Name: value\r\n" lines */
	const char *body;
	const char *owner;            /* proxy that created it (copy on write) */
	int kind;                     /* CHK_KIND_*, for messages */
};

enum { CHK_KIND_TCP = 0, CHK_KIND_HTTP, CHK_KIND_TCPCHECK, CHK_KIND_SSL_HELLO, CHK_KIND_SMTP,
       CHK_KIND_REDIS, CHK_KIND_MYSQL };

/* Per-server check settings (server and default-server options). */
struct chk_conf {
	int enabled;                  /* "check" */
	int inter, fastinter, downinter;  /* ms; 0: inter */
	int rise, fall;
	int port;
	struct sockaddr_storage addr; /* "addr": 0 family = the server's */
	socklen_t addrlen;
	int send_proxy;               /* check-send-proxy */
	int on_down_shutdown;         /* on-marked-down shutdown-sessions */
	int on_up_shutdown_backup;    /* on-marked-up shutdown-backup-sessions */
};

/* Run-time state of one server's check. */
struct check {
	struct server *srv;
	int health;                   /* 0 .. rise+fall-1 */
	enum chk_status status;
	enum chk_status prev_status;  /* for log-health-checks: log changes only */
	int code;                     /* HTTP status, 0 if none */
	int duration;                 /* ms, -1 if none */
	char info[128];               /* detail ("Connection refused", reason phrase...) */
	int running;
	int fd;
	ev_io io;
	ev_timer timer;
	uint64_t start_ms;
	uint64_t deadline_ms;
	int step;                     /* index in the program */
	struct buf rx;
	size_t tx_off;                /* bytes of the current send step already sent */
	int connected;
	int paused;                   /* "disable health": no checks, the server counts as UP */
	void *ssl;                    /* SSL * of a check over TLS (check-ssl) */
	int handshake;                /* its handshake is in progress */
};

/* Builds every server's check state and schedules the first runs. */
int checks_start(struct ev_loop *loop);
void checks_stop(void);
/* One server's checks, for servers added and deleted at run time (the
 * first run one interval after the start). */
void check_start_server(struct server *srv);
void check_stop_server(struct server *srv);
/* State changes with HAProxy's messages (checks, admin socket, stats
 * page): DOWN, NOLB ("stopping"), UP (or NOLB with <nolb>). */
void srv_set_down(struct server *srv);
void srv_set_stopping(struct server *srv);
/* The same with <reason> ("changed from server-state after a reload") in
 * the message instead of the last check's result; NULL: the check's. */
void srv_set_down_why(struct server *srv, const char *reason);
void srv_set_stopping_why(struct server *srv, const char *reason);
void srv_set_up(struct server *srv, int nolb);
/* Moves the server's own queue to its backend's; how many moved. */
int srv_requeue(struct server *srv);
/* "UP", "UP 1/3", "DOWN 1/2", "no check", "MAINT"... as HAProxy's stats. */
const char *srv_status_text(const struct server *srv, char *buf, size_t len);

#endif

/* Shared by the check files (check.c, check_http.c, check_tcp.c). */
struct cfg_ctx;
/* Initial state of a server's check (before the first run). */
void check_init_server(struct server *srv);
/* The program the current section may change: its own, copied from its
 * defaults or new. */
struct chk_prog *chk_prog_own(struct cfg_ctx *ctx, int kind);
struct chk_step *chk_prog_add(struct chk_prog *p, enum chk_step_type type);
/* Applies the result of a finished check (c->status, code, info,
 * duration) to the health counter and the server's state, with the
 * messages it prints. Called at the end of every check; also by the unit
 * tests, once checks_start() gave it a loop (for the clock). */
void chk_apply_result(struct check *c);
/* The request an HTTP check sends. */
const char *chk_http_request(const struct chk_prog *p, size_t *len);
/* Judge the bytes received for an expect step: 1 passed, 0 wait for
 * more, -1 failed with <status> (and <code>, <info>). */
int chk_http_eval(struct check *c, const struct chk_step *st, int eof, enum chk_status *status, int *code,
                  char *info, size_t ilen);
int chk_tcp_eval(struct check *c, const struct chk_step *st, int eof, enum chk_status *status,
                 char *info, size_t ilen);
