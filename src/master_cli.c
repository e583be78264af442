/* The master CLI (-S <bind>): HAProxy's master socket. It is the master's
 * own small command set (show proc, reload, ...), and "@<n> <command>" /
 * "@!<pid> <command>" hand a command to a worker's CLI. Like the admin
 * socket: commands separated by ';', one line per connection unless
 * "prompt" was asked for. */
#include <errno.h>
#include <fcntl.h>
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
#include <proxyd/diag.h>
#include <proxyd/master.h>
#include <proxyd/version.h>

#define MCLI_MAX   8
#define MCLI_IN    16384

struct mcli_listener {
	char *text;
	struct addr_spec addr;
	int mode;                 /* file mode of a unix socket, -1: default */
	int fd;
	ev_io io;
};

struct mcli_conn {
	struct mcli_conn *next;
	int fd;
	int prompt, closing;
	char in[MCLI_IN];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	ev_io io;
	ev_timer timer;
};

static struct mcli_listener lis[MCLI_MAX];
static int nlis;
static struct mcli_conn *conns;
static struct ev_loop *mloop;

int mcli_add(const char *spec)
{
	char err[256];
	char *copy = strdup(spec), *save = NULL;

	if (!copy)
		return -1;
	if (nlis == MCLI_MAX) {
		fprintf(stderr, "proxyd: -S: at most %d master CLI sockets\n", MCLI_MAX);
		free(copy);
		return -1;
	}
	struct mcli_listener *l = &lis[nlis];
	char *addr = strtok_r(copy, ",", &save);
	l->mode = -1;
	l->fd = -1;
	if (!addr || addr_parse(addr, ADDR_F_BIND, &l->addr, err, sizeof(err)) < 0) {
		fprintf(stderr, "proxyd: -S '%s': %s (expected a unix socket path or ipv4@<addr>:<port>)\n", spec,
		        addr ? err : "empty address");
		free(copy);
		return -1;
	}
	for (char *o; (o = strtok_r(NULL, ",", &save));) {
		char *v = strtok_r(NULL, ",", &save);
		if (!strcmp(o, "mode") && v) {
			char *end;
			long m = strtol(v, &end, 8);
			if (*end || m < 0 || m > 07777) {
				fprintf(stderr, "proxyd: -S '%s': mode '%s' is not an octal file mode\n", spec, v);
				free(copy);
				return -1;
			}
			l->mode = (int)m;
		} else {
			fprintf(stderr, "proxyd: -S '%s': unsupported option '%s' (only 'mode,<octal>' is)\n", spec, o);
			free(copy);
			return -1;
		}
	}
	free(copy);
	l->text = strdup(addr ? spec : "");
	nlis++;
	return 0;
}

void mcli_adopt_fds(const char *list)
{
	int i = 0;

	for (const char *p = list; *p && i < nlis;) {
		char *end;
		long fd = strtol(p, &end, 10);
		if (end == p)
			break;
		if (fd >= 0 && fcntl((int)fd, F_GETFD) >= 0) {
			fcntl((int)fd, F_SETFD, FD_CLOEXEC);
			lis[i].fd = (int)fd;
		}
		i++;
		p = *end == ',' ? end + 1 : end;
	}
}

int mcli_bind(void)
{
	for (int i = 0; i < nlis; i++) {
		struct mcli_listener *l = &lis[i];
		struct sockaddr *sa = (struct sockaddr *)&l->addr.ss;
		if (l->fd >= 0)
			continue;
		if (l->addr.fd >= 0) {
			l->fd = l->addr.fd;
			continue;
		}
		int one = 1, fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		if (sa->sa_family == AF_UNIX) {
			struct stat st;
			const char *path = ((struct sockaddr_un *)sa)->sun_path;
			if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
				unlink(path);
		} else {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		}
		if (bind(fd, sa, l->addr.len) < 0 || listen(fd, 16) < 0) {
			close(fd);
			goto fail;
		}
		if (sa->sa_family == AF_UNIX && l->mode >= 0)
			chmod(((struct sockaddr_un *)sa)->sun_path, (mode_t)l->mode);
		l->fd = fd;
		continue;
fail:
		ha_alert("Starting the master CLI: cannot bind '%s' (%s)", l->text, strerror(errno));
		return -1;
	}
	return 0;
}

int mcli_fds(int *out, int max)
{
	int n = 0;

	for (int i = 0; i < nlis && n < max; i++)
		out[n++] = lis[i].fd;
	return n;
}

/*------------------------------------------------------------------------
 * Sessions
 */
static void conn_close(struct mcli_conn *c)
{
	struct mcli_conn **pp = &conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	if (mloop) {
		ev_io_stop(mloop, &c->io);
		ev_timer_stop(mloop, &c->timer);
	}
	close(c->fd);
	free(c->out);
	free(c);
}

static void out_add(struct mcli_conn *c, const char *s, size_t len)
{
	char *p = realloc(c->out, c->outlen + len + 1);
	if (!p)
		return;
	c->out = p;
	memcpy(p + c->outlen, s, len);
	c->outlen += len;
}

static void out_str(struct mcli_conn *c, const char *s)
{
	out_add(c, s, strlen(s));
}

static void help(struct mcli_conn *c)
{
	out_str(c, "The following commands are valid at this level:\n"
	           "  @!<pid>                                 : send a command to the <pid> process\n"
	           "  @<relative pid>                         : send a command to the <relative pid> process\n"
	           "  @master                                 : send a command to the master process\n"
	           "  reload                                  : reload proxyd\n"
	           "  show proc                               : show processes status\n"
	           "  show version                            : show version of the current process\n"
	           "  help [<command>]                        : list matching or all commands\n"
	           "  prompt                                  : toggle interactive mode with prompt\n"
	           "  quit                                    : disconnect\n");
}

/* Runs one command (words separated by blanks, leading ones skipped). */
static void run_cmd(struct mcli_conn *c, char *cmd)
{
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	size_t l = strlen(cmd);
	while (l && (cmd[l - 1] == ' ' || cmd[l - 1] == '\t'))
		cmd[--l] = 0;
	if (!*cmd)
		return;
	if (cmd[0] == '@') {
		char *target = cmd + 1, *rest = target + strcspn(target, " \t");
		if (*rest)
			*rest++ = 0;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (!strcmp(target, "master")) {
			run_cmd(c, rest);
			return;
		}
		if (!*rest) {
			out_str(c, "proxyd: '@<process>' needs a command after it (no interactive switch)\n\n");
			return;
		}
		char err[256];
		char *ans = master_forward(target, rest, err, sizeof(err));
		if (!ans) {
			out_str(c, err);
			out_str(c, "\n");
			return;
		}
		/* the worker's answer already ends with its empty line */
		out_str(c, ans);
		free(ans);
		return;
	}
	if (!strcmp(cmd, "help") || !strncmp(cmd, "help ", 5)) {
		help(c);
	} else if (!strcmp(cmd, "prompt")) {
		c->prompt = !c->prompt;
	} else if (!strcmp(cmd, "quit")) {
		c->closing = 1;
		return;
	} else if (!strcmp(cmd, "show proc")) {
		char *s = NULL;
		size_t sl = 0;
		master_show_proc(&s, &sl);
		if (s)
			out_add(c, s, sl);
		free(s);
	} else if (!strcmp(cmd, "show version")) {
		out_str(c, proxyd_version);
		out_str(c, "\n");
	} else if (!strcmp(cmd, "reload")) {
		/* the exec closes this session, as HAProxy's */
		master_reload();
		out_str(c, "Reload failed: the master could not re-execute itself.\n");
	} else {
		out_str(c, "Unknown command. Please enter one of the following commands only:\n");
		help(c);
	}
	out_str(c, "\n");
}

static void flush(struct mcli_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				c->closing = 1;
				c->outoff = c->outlen;
			}
			break;
		}
		c->outoff += (size_t)w;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
}

static void process(struct mcli_conn *c, int eof)
{
	char *nl;

	while (!c->closing && ((nl = memchr(c->in, '\n', c->inlen)) || (eof && c->inlen))) {
		size_t l = nl ? (size_t)(nl - c->in) : c->inlen;
		char line[MCLI_IN + 1];
		memcpy(line, c->in, l);
		line[l] = 0;
		if (l && line[l - 1] == '\r')
			line[l - 1] = 0;
		size_t used = nl ? l + 1 : l;
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		if (!line[0] && !c->prompt) {
			c->closing = 1;
			break;
		}
		char *save = NULL;
		for (char *cmd = strtok_r(line, ";", &save); cmd && !c->closing; cmd = strtok_r(NULL, ";", &save))
			run_cmd(c, cmd);
		if (c->prompt && !c->closing)
			out_str(c, master_reload_failed_state() ? "master[ReloadFailed]> " : "master> ");
		else
			c->closing = 1;
	}
}

static void conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mcli_conn *c = w->data;
	int eof = 0;

	ev_timer_again(loop, &c->timer);
	if (revents & EV_READ) {
		while (c->inlen < sizeof(c->in)) {
			ssize_t r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
			if (r > 0) {
				c->inlen += (size_t)r;
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1;
			break;
		}
		if (c->inlen == sizeof(c->in) && !memchr(c->in, '\n', c->inlen))
			c->closing = 1;
	}
	process(c, eof);
	flush(c);
	if ((c->closing || eof) && c->outlen == 0) {
		conn_close(c);
		return;
	}
	int ev = c->outlen ? EV_WRITE : EV_READ;
	if (ev != (w->events & (EV_READ | EV_WRITE))) {
		ev_io_stop(loop, w);
		ev_io_set(w, c->fd, ev);
		ev_io_start(loop, w);
	}
}

static void timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	conn_close(t->data);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mcli_listener *l = w->data;

	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct mcli_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		ev_io_init(&c->io, conn_cb, fd, EV_READ);
		c->io.data = c;
		ev_init(&c->timer, timeout_cb);
		c->timer.repeat = 60.;
		c->timer.data = c;
		ev_timer_again(loop, &c->timer);
		ev_io_start(loop, &c->io);
		c->next = conns;
		conns = c;
	}
}

void mcli_start(struct ev_loop *loop)
{
	mloop = loop;
	for (int i = 0; i < nlis; i++) {
		if (lis[i].fd < 0)
			continue;
		fcntl(lis[i].fd, F_SETFL, fcntl(lis[i].fd, F_GETFL) | O_NONBLOCK);
		ev_io_init(&lis[i].io, accept_cb, lis[i].fd, EV_READ);
		lis[i].io.data = &lis[i];
		ev_io_start(loop, &lis[i].io);
	}
}

void mcli_close(int unlink_paths)
{
	while (conns)
		conn_close(conns);
	for (int i = 0; i < nlis; i++) {
		struct mcli_listener *l = &lis[i];
		if (l->fd >= 0) {
			if (mloop)
				ev_io_stop(mloop, &l->io);
			close(l->fd);
			if (unlink_paths && l->addr.ss.ss_family == AF_UNIX)
				unlink(((struct sockaddr_un *)&l->addr.ss)->sun_path);
		}
		l->fd = -1;
		free(l->text);
		l->text = NULL;
	}
	nlis = 0;
	mloop = NULL;
}

/* -S only means something to a master. */
static int mcli_post_parse(void)
{
	if (nlis && !master_enabled())
		ha_warning("-S %s: ignored without master-worker mode (-W, -Ws or 'master-worker')", lis[0].text);
	return 0;
}

static const struct cfg_postparser mcli_postparser = { "master CLI", mcli_post_parse, NULL };
CFG_POSTPARSER_REGISTER(mcli_postparser);
