/* The admin socket ("stats socket"): HAProxy's runtime API, one command per
 * line (several separated by ';'), an empty line after each answer, the
 * connection closed after the line unless the client asked for the
 * interactive "prompt" mode.
 *
 * Each module registers its commands with CLI_REGISTER. A command writes
 * its answer with cli_printf(); one that can produce a long answer (a dump
 * of every server, session or table entry) writes it in pieces: when
 * cli_printf() finds the output buffer full it returns -1 without writing,
 * the command keeps its place in c->pos and returns CLI_MORE, and it is
 * called again once the client has read what was sent. */
#ifndef PROXYD_CLI_H
#define PROXYD_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <proxyd/diag.h>
#include <proxyd/registry.h>

struct proxy;
struct server;

enum cli_level {
	CLI_LVL_USER = 0,
	CLI_LVL_OPER,
	CLI_LVL_ADMIN,
};

enum cli_ret {
	CLI_DONE = 0,
	CLI_MORE,        /* the output buffer is full: call again */
};

#define CLI_MAX_ARGS 64

struct cli_ctx {
	int level;
	long pos[4];             /* where a long answer stopped, free for the command */
	void *priv;              /* idem */
	union {
		char raw[256];       /* a long answer's own state (zeroed before the command) */
		uint64_t align;
	} st;
	char **args;             /* the command's words (args[0] is the first word) */
	int nargs;
	const char *payload;     /* lines after "<<", or NULL */
	size_t payload_len;
	struct cli_conn *conn;
	int no_eol;              /* no empty line after this answer (cli_err_noeol) */
};

struct cli_cmd {
	const char *words[5];    /* fixed leading words, e.g. { "show", "info" } */
	const char *usage;       /* shown by help, e.g. "show info" */
	const char *help;
	enum cli_level level;    /* least level allowed */
	enum cli_ret (*fn)(struct cli_ctx *c);
};

extern struct registry cli_cmds;
#define CLI_REGISTER(tbl)  REGISTER_TABLE(cli_cmds, tbl)

/* Appends to the answer. 0, or -1 (nothing written) when it does not fit:
 * a dump returns CLI_MORE then. */
int cli_printf(struct cli_ctx *c, const char *fmt, ...) PRINTF(2, 3);
int cli_write(struct cli_ctx *c, const char *s, size_t len);
/* The usual one-line answers. */
enum cli_ret cli_msg(struct cli_ctx *c, const char *msg);
enum cli_ret cli_err(struct cli_ctx *c, const char *msg);
/* An error of the commands HAProxy answers without the empty line (its
 * "add server", "del server"...): <msg> then nothing. */
enum cli_ret cli_err_noeol(struct cli_ctx *c, const char *msg);

/* "<backend>/<server>" (names or #ids) -> the server, or NULL after
 * writing HAProxy's error ("No such backend." / "No such server."). */
struct server *cli_find_server(struct cli_ctx *c, const char *arg);
/* "<backend>/<server>" -> the backend, and the server's part in <sname>;
 * NULL after writing "Require 'backend/server'." or "No such backend.". */
struct proxy *cli_find_backend_of(struct cli_ctx *c, const char *arg, const char **sname);
struct proxy *cli_find_proxy(const char *name, unsigned cap);

/* Opens the "stats socket" listeners (before privileges are dropped),
 * starts them on <loop>, closes them at exit. */
int cli_bind_all(void);
struct ev_loop;
void cli_start(struct ev_loop *loop);
void cli_stop(void);
/* Serves a CLI session on an already connected socket <fd> (the master's
 * side of a socketpair in master-worker mode), at <level>; the connection
 * is closed after its line, as any non-interactive session. The CLI must
 * have been started. 0, or -1 (the caller keeps <fd>). */
int cli_attach_fd(int fd, int level);
/* Soft stop: stops accepting admin connections (those open go on). */
void cli_unbind(void);

/* For commands that talk on the socket itself (_getsocks): the session's
 * socket, whether its listener has "expose-fd listeners", and closing the
 * session after the command without any text answer. */
int cli_conn_fd(const struct cli_ctx *c);
int cli_conn_exposes_fds(const struct cli_ctx *c);
void cli_conn_close_after(struct cli_ctx *c);
/* Whether <fd> is one of the admin socket's listening sockets. */
int cli_is_listener_fd(int fd);

#endif
