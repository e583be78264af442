/* The admin socket: its "stats socket", "stats timeout" and "stats maxconn"
 * keywords, its connections, the command line protocol (see cli.h) and the
 * commands about the session itself (help, prompt, quit, levels, timeout).
 *
 * Sessions run on the first thread's loop, where the proxies' state lives,
 * so commands read and change it without locks. Each session has a fixed
 * input line buffer and a fixed output buffer: a long answer is produced
 * piece by piece as the client reads it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <ev.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/cli.h>
#include <proxyd/global.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

struct registry cli_cmds = REGISTRY_INIT("CLI commands");

#define CLI_IN_SIZE   16384
#define CLI_OUT_SIZE  65536
#define CLI_PAYLOAD_MAX (1 << 20)

struct cli_listener {
	struct cli_listener *next;
	const char *text;
	struct addr_spec addr;
	int fd;
	int mode;                 /* -1: default */
	int uid, gid;             /* -1: unchanged */
	int level;
	int expose_fd;            /* expose-fd listeners */
	ev_io io;
};

struct cli_conn {
	struct cli_conn *next;
	struct cli_listener *li;
	int fd;
	ev_io io;
	ev_timer timer;
	int prompt;               /* interactive mode */
	int closing;              /* close once the output is sent */
	int busy;                 /* a command is waiting for room to go on */
	char in[CLI_IN_SIZE];
	size_t inlen;
	char out[CLI_OUT_SIZE];
	size_t outlen, outoff;
	/* the line being executed: its commands and where we are */
	char line[CLI_IN_SIZE];
	char *cmds[CLI_MAX_ARGS];
	int nb_cmds, cur_cmd;
	char *words[CLI_MAX_ARGS + 1];
	const struct cli_cmd *cmd;
	/* a command waiting for its payload ("<<" then lines up to an empty one) */
	char *payload;
	size_t payload_len;
	int in_payload;
	char *pending_cmd;        /* the command line waiting for its payload */
	int eof;                  /* the client has closed its side */
	struct cli_ctx ctx;
};

static struct {
	struct cli_listener *listeners;
	struct cli_conn *conns;
	int nbconn;
	int timeout_ms;
	int maxconn;
	struct ev_loop *loop;
} cli = { NULL, NULL, 0, 10000, 10, NULL };

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents);

/*------------------------------------------------------------------------
 * Configuration
 */
static int parse_stats_socket(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct cli_listener *l = cfg_alloc(sizeof(*l));
	char err[256];

	l->fd = -1;
	l->mode = -1;
	l->uid = l->gid = -1;
	l->level = CLI_LVL_OPER;
	l->text = cfg_strdup(args[0]);
	if (addr_parse(args[0], ADDR_F_BIND, &l->addr, err, sizeof(err)) < 0) {
		cfg_alert(ctx, "'stats socket %s': %s (expected a unix socket path, ipv4@<addr>:<port> or fd@<n>)",
		          args[0], err);
		return -1;
	}
	for (int i = 1; i < nargs; i++) {
		const char *o = args[i], *v = i + 1 < nargs ? args[i + 1] : NULL;
		if (!strcmp(o, "expose-fd")) {
			if (!v || strcmp(v, "listeners")) {
				cfg_alert(ctx, "'stats socket': 'expose-fd' expects 'listeners'");
				return -1;
			}
			l->expose_fd = 1;
			i++;
			continue;
		}
		if (!v) {
			cfg_alert(ctx, "'stats socket %s': '%s' expects a value", args[0], o);
			return -1;
		}
		i++;
		if (!strcmp(o, "level")) {
			l->level = !strcmp(v, "user") ? CLI_LVL_USER : !strcmp(v, "operator") ? CLI_LVL_OPER :
			           !strcmp(v, "admin") ? CLI_LVL_ADMIN : -1;
			if (l->level < 0) {
				cfg_alert(ctx, "'stats socket %s': level '%s' is not one of user, operator or admin", args[0], v);
				return -1;
			}
		} else if (!strcmp(o, "mode")) {
			char *end;
			long m = strtol(v, &end, 8);
			if (*end || m < 0 || m > 07777) {
				cfg_alert(ctx, "'stats socket %s': mode '%s' is not an octal file mode such as 600", args[0], v);
				return -1;
			}
			l->mode = (int)m;
		} else if (!strcmp(o, "uid") || !strcmp(o, "gid")) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 0) {
				cfg_alert(ctx, "'stats socket %s': %s '%s' is not a number", args[0], o, v);
				return -1;
			}
			*(o[0] == 'u' ? &l->uid : &l->gid) = (int)n;
		} else if (!strcmp(o, "user")) {
			struct passwd *pw = getpwnam(v);
			if (!pw) {
				cfg_alert(ctx, "'stats socket %s': unknown user '%s'", args[0], v);
				return -1;
			}
			l->uid = (int)pw->pw_uid;
		} else if (!strcmp(o, "group")) {
			struct group *gr = getgrnam(v);
			if (!gr) {
				cfg_alert(ctx, "'stats socket %s': unknown group '%s'", args[0], v);
				return -1;
			}
			l->gid = (int)gr->gr_gid;
		} else if (!strcmp(o, "name") || !strcmp(o, "process") || !strcmp(o, "thread")) {
			/* accepted for compatibility: one process, sessions on the first thread */
		} else {
			cfg_alert(ctx, "'stats socket %s': unknown option '%s' (expected level, mode, uid, gid, user, group "
			          "or expose-fd listeners)", args[0], o);
			return -1;
		}
	}
	/* declaration order, for the messages */
	struct cli_listener **pp = &cli.listeners;
	while (*pp)
		pp = &(*pp)->next;
	*pp = l;
	return 0;
}

static int parse_stats_timeout(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	return cfg_time_arg(ctx, args[0], 1, &cli.timeout_ms);
}

static int parse_stats_maxconn(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	return cfg_int_arg(ctx, args[0], 1, 100000, &cli.maxconn);
}

static const struct cfg_kw cli_cfg_kws[] = {
	{ "stats socket", CFG_SEC_GLOBAL, 1, -1, parse_stats_socket, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<path|ipv4@addr:port|fd@n> [level user|operator|admin] [mode <octal>] [uid|user <u>] [gid|group <g>] "
	  "[expose-fd listeners]" },
	{ "stats timeout", CFG_SEC_GLOBAL, 1, 1, parse_stats_timeout, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<time>" },
	{ "stats maxconn", CFG_SEC_GLOBAL, 1, 1, parse_stats_maxconn, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<number>" },
	{ NULL }
};

CFG_REGISTER(cli_cfg_kws);

static void cli_deinit(void)
{
	cli_stop();
	cli.listeners = NULL;   /* they lived in the configuration's memory */
	cli.timeout_ms = 10000;
	cli.maxconn = 10;
}

static int cli_post_parse(void)
{
	return 0;
}

static const struct cfg_postparser cli_postparser = { "admin socket", cli_post_parse, cli_deinit };
CFG_POSTPARSER_REGISTER(cli_postparser);

/*------------------------------------------------------------------------
 * Listening
 */
static int bind_one(struct cli_listener *l)
{
	struct sockaddr *sa = (struct sockaddr *)&l->addr.ss;

	if (l->addr.fd >= 0) {
		l->fd = l->addr.fd;
		fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK);
		return 0;
	}
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (sa->sa_family == AF_UNIX) {
		const char *path = ((struct sockaddr_un *)sa)->sun_path;
		struct stat st;
		/* a socket left by a previous run would make bind() fail */
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
		if (bind(fd, sa, l->addr.len) < 0)
			goto fail;
		if (l->mode >= 0 && chmod(path, (mode_t)l->mode) < 0)
			goto fail;
		if ((l->uid >= 0 || l->gid >= 0) && chown(path, (uid_t)l->uid, (gid_t)l->gid) < 0)
			goto fail;
	} else {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* in master-worker mode the next worker binds while the old one
		 * still listens, until it stops */
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (bind(fd, sa, l->addr.len) < 0)
			goto fail;
	}
	if (listen(fd, 16) < 0)
		goto fail;
	l->fd = fd;
	return 0;
fail:
	ha_alert("Starting the admin socket: cannot bind '%s' (%s)", l->text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int cli_bind_all(void)
{
	int err = 0;

	for (struct cli_listener *l = cli.listeners; l; l = l->next)
		if (l->fd < 0 && bind_one(l) < 0)
			err = -1;
	return err;
}

static void update_accepting(void)
{
	for (struct cli_listener *l = cli.listeners; l; l = l->next) {
		if (l->fd < 0 || !cli.loop)
			continue;
		if (cli.nbconn < cli.maxconn)
			ev_io_start(cli.loop, &l->io);
		else
			ev_io_stop(cli.loop, &l->io);
	}
}

static void conn_close(struct cli_conn *c)
{
	struct cli_conn **pp = &cli.conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	ev_io_stop(cli.loop, &c->io);
	ev_timer_stop(cli.loop, &c->timer);
	close(c->fd);
	free(c->payload);
	free(c->pending_cmd);
	free(c);
	cli.nbconn--;
	update_accepting();
}

static void conn_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_close(w->data);
}

static void touch(struct cli_conn *c)
{
	c->timer.repeat = cli.timeout_ms / 1000.0;
	ev_timer_again(cli.loop, &c->timer);
}

static struct cli_conn *conn_new(struct ev_loop *loop, int fd, struct cli_listener *l, int level)
{
	struct cli_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->li = l;
	c->ctx.level = level;
	c->ctx.conn = c;
	ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
	c->io.data = c;
	ev_init(&c->timer, conn_timeout_cb);
	c->timer.data = c;
	ev_io_start(loop, &c->io);
	touch(c);
	c->next = cli.conns;
	cli.conns = c;
	cli.nbconn++;
	return c;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct cli_listener *l = w->data;

	while (cli.nbconn < cli.maxconn) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!conn_new(loop, fd, l, l->level)) {
			close(fd);
			return;
		}
	}
	update_accepting();
}

int cli_attach_fd(int fd, int level)
{
	if (!cli.loop)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* not counted against maxconn's accept pause: the master must always
	 * be able to ask (it asks one thing at a time) */
	struct cli_conn *c = conn_new(cli.loop, fd, NULL, level);
	if (!c)
		return -1;
	update_accepting();
	return 0;
}

void cli_start(struct ev_loop *loop)
{
	cli.loop = loop;
	for (struct cli_listener *l = cli.listeners; l; l = l->next) {
		if (l->fd < 0)
			continue;
		ev_io_init(&l->io, accept_cb, l->fd, EV_READ);
		l->io.data = l;
	}
	update_accepting();
}

void cli_stop(void)
{
	while (cli.conns)
		conn_close(cli.conns);
	for (struct cli_listener *l = cli.listeners; l; l = l->next) {
		if (l->fd < 0)
			continue;
		if (cli.loop)
			ev_io_stop(cli.loop, &l->io);
		if (l->addr.fd < 0)
			close(l->fd);
		l->fd = -1;
	}
	cli.loop = NULL;
}

void cli_unbind(void)
{
	for (struct cli_listener *l = cli.listeners; l; l = l->next) {
		if (l->fd < 0)
			continue;
		if (cli.loop)
			ev_io_stop(cli.loop, &l->io);
		/* the file is left in place: a new process may have bound its
		 * own admin socket there already (and unlinks stale ones) */
		if (l->addr.fd < 0)
			close(l->fd);
		l->fd = -1;
	}
}

int cli_conn_fd(const struct cli_ctx *c)
{
	return c->conn->fd;
}

int cli_conn_exposes_fds(const struct cli_ctx *c)
{
	/* sessions attached by the master (no listener) do not */
	return c->conn->li && c->conn->li->expose_fd;
}

void cli_conn_close_after(struct cli_ctx *c)
{
	c->conn->closing = 1;
}

int cli_is_listener_fd(int fd)
{
	for (struct cli_listener *l = cli.listeners; l; l = l->next)
		if (l->fd == fd)
			return 1;
	return 0;
}

/*------------------------------------------------------------------------
 * Output
 */
int cli_write(struct cli_ctx *ctx, const char *s, size_t len)
{
	struct cli_conn *c = ctx->conn;

	if (c->outoff && c->outlen + len > sizeof(c->out)) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outlen + len > sizeof(c->out))
		return -1;
	memcpy(c->out + c->outlen, s, len);
	c->outlen += len;
	return 0;
}

int cli_printf(struct cli_ctx *ctx, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return cli_write(ctx, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

enum cli_ret cli_msg(struct cli_ctx *c, const char *msg)
{
	cli_printf(c, "%s", msg);
	return CLI_DONE;
}

enum cli_ret cli_err(struct cli_ctx *c, const char *msg)
{
	return cli_msg(c, msg);
}

enum cli_ret cli_err_noeol(struct cli_ctx *c, const char *msg)
{
	c->no_eol = 1;
	return cli_msg(c, msg);
}

/*------------------------------------------------------------------------
 * Lookups shared by the commands
 */
struct proxy *cli_find_proxy(const char *name, unsigned cap)
{
	struct proxy *px;

	if (name[0] == '#') {
		int id = atoi(name + 1);
		list_for_each(px, &proxies, list)
			if ((px->cap & cap) && px->uuid == id)
				return px;
		return NULL;
	}
	return proxy_find(name, cap);
}

struct proxy *cli_find_backend_of(struct cli_ctx *c, const char *arg, const char **sname)
{
	char be_name[256];
	const char *slash = arg ? strchr(arg, '/') : NULL;

	if (!slash || (size_t)(slash - arg) >= sizeof(be_name)) {
		cli_printf(c, "Require 'backend/server'.\n");
		return NULL;
	}
	memcpy(be_name, arg, (size_t)(slash - arg));
	be_name[slash - arg] = 0;
	struct proxy *be = cli_find_proxy(be_name, PR_CAP_BE);
	if (!be) {
		cli_printf(c, "No such backend.\n");
		return NULL;
	}
	*sname = slash + 1;
	return be;
}

struct server *cli_find_server(struct cli_ctx *c, const char *arg)
{
	const char *sname;
	struct server *srv;
	struct proxy *be = cli_find_backend_of(c, arg, &sname);

	if (!be)
		return NULL;
	list_for_each(srv, &be->servers, list) {
		if (sname[0] == '#' ? srv->puid == atoi(sname + 1) : !strcmp(srv->id, sname))
			return srv;
	}
	cli_printf(c, "No such server.\n");
	return NULL;
}

/*------------------------------------------------------------------------
 * Commands about the session
 */
static const char *const level_names[] = { "user", "operator", "admin" };

static int cmd_matches(const struct cli_cmd *cmd, char **w, int n)
{
	int k = 0;

	for (; k < 5 && cmd->words[k]; k++)
		if (k >= n || strcmp(cmd->words[k], w[k]))
			return 0;
	return k;
}

static const struct cli_cmd *find_cmd(char **w, int n)
{
	const struct cli_cmd *best = NULL;
	int best_k = 0;
	struct reg_node *node;

	registry_for_each(node, cli_cmds)
		for (const struct cli_cmd *cmd = node->table; cmd->words[0]; cmd++) {
			int k = cmd_matches(cmd, w, n);
			if (k > best_k) {
				best = cmd;
				best_k = k;
			}
		}
	return best;
}

/* The commands in alphabetical order of their usage, as HAProxy lists them. */
static int usage_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct cli_cmd *const *)a)->usage, (*(const struct cli_cmd *const *)b)->usage);
}

static int sorted_cmds(const struct cli_cmd **out, int max)
{
	struct reg_node *node;
	int n = 0;

	registry_for_each(node, cli_cmds)
		for (const struct cli_cmd *cmd = node->table; cmd->words[0] && n < max; cmd++)
			if (cmd->help)
				out[n++] = cmd;
	qsort(out, (size_t)n, sizeof(*out), usage_cmp);
	return n;
}

static void print_usage(struct cli_ctx *c, const struct cli_cmd *cmd)
{
	cli_printf(c, "  %-39s : %s\n", cmd->usage, cmd->help);
}

static enum cli_ret cmd_help(struct cli_ctx *c)
{
	const struct cli_cmd *list[256];
	int n = sorted_cmds(list, 256);

	cli_printf(c, "The following commands are valid at this level:\n");
	for (int i = 0; i < n; i++)
		if (c->nargs < 2 || !strcmp(list[i]->words[0], c->args[1]))
			print_usage(c, list[i]);
	return CLI_DONE;
}

static enum cli_ret cmd_prompt(struct cli_ctx *c)
{
	c->conn->prompt = !c->conn->prompt;
	return CLI_DONE;
}

static enum cli_ret cmd_quit(struct cli_ctx *c)
{
	c->conn->closing = 1;
	c->conn->prompt = 0;
	return CLI_DONE;
}

static enum cli_ret cmd_level(struct cli_ctx *c)
{
	int want = !strcmp(c->args[0], "user") ? CLI_LVL_USER : !strcmp(c->args[0], "operator") ? CLI_LVL_OPER :
	           CLI_LVL_ADMIN;

	/* a session can only lower its level */
	if (want > c->level)
		return cli_err(c, "Permission denied\n");
	c->level = want;
	return CLI_DONE;
}

static enum cli_ret cmd_show_level(struct cli_ctx *c)
{
	cli_printf(c, "%s\n", level_names[c->level]);
	return CLI_DONE;
}

static enum cli_ret cmd_set_timeout(struct cli_ctx *c)
{
	if (c->nargs != 4 || strcmp(c->args[2], "cli"))
		return cli_err(c, "'set timeout' only supports 'cli'.\n");
	char *end;
	long s = strtol(c->args[3], &end, 10);
	if (*end || s <= 0 || s > 86400 * 24)
		return cli_err(c, "Expects an integer value.\n");
	cli.timeout_ms = (int)s * 1000;
	touch(c->conn);
	return CLI_DONE;
}

static const struct cli_cmd session_cmds[] = {
	{ { "help" }, "help [<command>]", "list matching or all commands", CLI_LVL_USER, cmd_help },
	{ { "prompt" }, "prompt", "toggle interactive mode with prompt", CLI_LVL_USER, cmd_prompt },
	{ { "quit" }, "quit", "disconnect", CLI_LVL_USER, cmd_quit },
	{ { "user" }, "user", "lower the level of the current CLI session to user", CLI_LVL_USER, cmd_level },
	{ { "operator" }, "operator", "lower the level of the current CLI session to operator", CLI_LVL_USER,
	  cmd_level },
	{ { "show", "cli", "level" }, "show cli level", "display the level of the current CLI session",
	  CLI_LVL_USER, cmd_show_level },
	{ { "set", "timeout" }, "set timeout cli <delay>", "change this session's idle timeout (seconds)",
	  CLI_LVL_USER, cmd_set_timeout },
	{ { NULL } }
};

CLI_REGISTER(session_cmds);

/*------------------------------------------------------------------------
 * Command lines
 */
/* Splits a line into commands at unescaped ';'. */
static int split_commands(char *line, char **cmds, int max)
{
	int n = 0;
	char *start = line, *w = line;

	for (char *p = line;; p++) {
		if (*p == '\\' && p[1]) {
			*w++ = *p++;   /* keep the escape for the word splitter */
			*w++ = *p;
			continue;
		}
		if (*p == ';' || !*p) {
			int end = !*p;
			*w = 0;
			if (n < max)
				cmds[n++] = start;
			if (end)
				break;
			start = w = p + 1;
			continue;
		}
		*w++ = *p;
	}
	return n;
}

/* Splits a command into words at blanks; backslash escapes a character. */
static int split_words(char *cmd, char **words, int max)
{
	int n = 0;
	char *p = cmd;

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n >= max)
			return -1;
		char *w = p, *o = p;
		words[n++] = w;
		while (*p && *p != ' ' && *p != '\t') {
			if (*p == '\\' && p[1])
				p++;
			*o++ = *p++;
		}
		if (*p)
			p++;
		*o = 0;
	}
	words[n] = NULL;
	return n;
}

static void unknown_command(struct cli_conn *c, char **w, int n)
{
	const struct cli_cmd *list[256];
	int nb = sorted_cmds(list, 256), shown = 0;

	if (c->prompt) {
		cli_printf(&c->ctx, "Unknown command. Please enter one of the following commands only:\n");
		for (int i = 0; i < nb; i++)
			print_usage(&c->ctx, list[i]);
		return;
	}
	cli_printf(&c->ctx, "Unknown command, but maybe one of the following ones is a better match:\n");
	for (int i = 0; i < nb; i++)
		if (n && (!strcmp(list[i]->words[0], w[0]) || cfg_distance(list[i]->words[0], w[0]) <= 2)) {
			print_usage(&c->ctx, list[i]);
			shown++;
		}
	for (int i = 0; i < nb && shown < 3; i++)
		if (!strcmp(list[i]->words[0], "help") || !strcmp(list[i]->words[0], "prompt") ||
		    !strcmp(list[i]->words[0], "quit")) {
			print_usage(&c->ctx, list[i]);
		}
}

/* Runs the commands of the current line from c->cur_cmd; returns 0 when
 * the line is done, 1 when a command waits for room in the output. */
static int run_line(struct cli_conn *c)
{
	while (c->cur_cmd < c->nb_cmds) {
		if (!c->busy) {
			int n = split_words(c->cmds[c->cur_cmd], c->words, CLI_MAX_ARGS);
			c->ctx.args = c->words;
			c->ctx.nargs = n < 0 ? 0 : n;
			memset(c->ctx.pos, 0, sizeof(c->ctx.pos));
			memset(&c->ctx.st, 0, sizeof(c->ctx.st));
			c->ctx.priv = NULL;
			c->ctx.no_eol = 0;
			if (n == 0) {
				c->cur_cmd++;
				continue;   /* an empty command prints nothing */
			}
			if (n < 0) {
				cli_printf(&c->ctx, "Too many words.\n\n");
				c->cur_cmd++;
				continue;
			}
			c->cmd = find_cmd(c->words, n);
			if (!c->cmd) {
				unknown_command(c, c->words, n);
				cli_write(&c->ctx, "\n", 1);
				c->cur_cmd++;
				continue;
			}
			if ((int)c->cmd->level > c->ctx.level) {
				cli_printf(&c->ctx, "Permission denied\n\n");
				c->cur_cmd++;
				continue;
			}
		}
		c->ctx.payload = c->payload;
		c->ctx.payload_len = c->payload_len;
		if (c->cmd->fn(&c->ctx) == CLI_MORE) {
			c->busy = 1;
			return 1;
		}
		c->busy = 0;
		if (c->closing)
			break;   /* quit: no answer at all */
		if (!c->ctx.no_eol)
			cli_write(&c->ctx, "\n", 1);
		c->cur_cmd++;
	}
	free(c->payload);
	c->payload = NULL;
	c->payload_len = 0;
	return 0;
}

static void after_line(struct cli_conn *c)
{
	if (c->prompt && !c->closing)
		cli_write(&c->ctx, "> ", 2);
	else
		c->closing = 1;   /* non-interactive: one line per connection */
}

/* Takes the next complete line of the input, if any, into c->line. */
static int next_line(struct cli_conn *c)
{
	char *nl = memchr(c->in, '\n', c->inlen);
	if (!nl)
		return 0;
	size_t l = (size_t)(nl - c->in);
	size_t k = l && c->in[l - 1] == '\r' ? l - 1 : l;
	memcpy(c->line, c->in, k);
	c->line[k] = 0;
	memmove(c->in, nl + 1, c->inlen - l - 1);
	c->inlen -= l + 1;
	return 1;
}

static void start_line(struct cli_conn *c)
{
	c->nb_cmds = split_commands(c->line, c->cmds, CLI_MAX_ARGS);
	c->cur_cmd = 0;
	c->busy = 0;
}

static void process(struct cli_conn *c)
{
	while (!c->closing) {
		if (c->busy) {
			if (run_line(c))
				return;
			after_line(c);
			continue;
		}
		if (!next_line(c))
			return;
		if (c->in_payload) {
			/* payload lines up to an empty one */
			if (c->line[0]) {
				size_t l = strlen(c->line);
				if (c->payload_len + l + 1 > CLI_PAYLOAD_MAX) {
					cli_printf(&c->ctx, "Payload too large.\n\n");
					c->closing = 1;
					return;
				}
				char *p = realloc(c->payload, c->payload_len + l + 2);
				if (!p) {
					c->closing = 1;
					return;
				}
				c->payload = p;
				memcpy(p + c->payload_len, c->line, l);
				p[c->payload_len + l] = '\n';
				c->payload_len += l + 1;
				p[c->payload_len] = 0;
				if (c->prompt)
					cli_write(&c->ctx, "+ ", 2);
				continue;
			}
			c->in_payload = 0;
			snprintf(c->line, sizeof(c->line), "%s", c->pending_cmd);
			free(c->pending_cmd);
			c->pending_cmd = NULL;
			start_line(c);
		} else {
			size_t l = strlen(c->line);
			if (l >= 2 && !strcmp(c->line + l - 2, "<<")) {
				/* the command runs once its payload is complete */
				c->line[l - 2] = 0;
				c->pending_cmd = strdup(c->line);
				if (!c->pending_cmd) {
					c->closing = 1;
					return;
				}
				c->in_payload = 1;
				if (c->prompt)
					cli_write(&c->ctx, "+ ", 2);
				continue;
			}
			if (!c->line[0]) {
				/* nothing to run: interactive sessions just go on */
				if (!c->prompt) {
					c->closing = 1;
					return;
				}
				continue;
			}
			start_line(c);
		}
		if (run_line(c))
			return;
		after_line(c);
	}
}

static void flush(struct cli_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			c->closing = 1;
			c->outoff = c->outlen = 0;
			break;
		}
		c->outoff += (size_t)w;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
}

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct cli_conn *c = w->data;

	touch(c);
	if (revents & EV_READ) {
		while (c->inlen < sizeof(c->in)) {
			ssize_t r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
			if (r > 0) {
				c->inlen += (size_t)r;
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				c->eof = 1;
			break;
		}
		if (c->inlen == sizeof(c->in) && !memchr(c->in, '\n', c->inlen)) {
			cli_printf(&c->ctx, "Line too long.\n\n");
			c->closing = 1;
		}
	}
	/* a client may half-close right after its command: the line still
	 * runs (and a payload ends there) */
	if (c->eof && c->inlen && !memchr(c->in, '\n', c->inlen) && c->inlen < sizeof(c->in))
		c->in[c->inlen++] = '\n';
	if (c->eof && c->in_payload && c->inlen + 1 < sizeof(c->in))
		c->in[c->inlen++] = '\n';
	process(c);
	flush(c);
	if (c->busy && c->outlen == 0) {
		process(c);
		flush(c);
	}
	int pending = c->outlen > c->outoff;
	if ((c->closing || (c->eof && !c->busy)) && !pending) {
		conn_close(c);
		return;
	}
	int ev = (pending ? EV_WRITE : 0) | (c->busy || c->closing || c->eof ? 0 : EV_READ);
	if (!ev)
		ev = EV_WRITE;
	if (ev != (w->events & (EV_READ | EV_WRITE))) {
		ev_io_stop(loop, w);
		ev_io_set(w, c->fd, ev);
		ev_io_start(loop, w);
	}
}
