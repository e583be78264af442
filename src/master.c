/* Master-worker mode: the master process (fork, watch, reload by
 * re-executing itself) and the worker's side of its control socket. See
 * include/proxyd/master.h for the design. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <ev.h>

#include <proxyd/cfg.h>
#include <proxyd/cli.h>
#include <proxyd/diag.h>
#include <proxyd/fd_handover.h>
#include <proxyd/global.h>
#include <proxyd/listener.h>
#include <proxyd/log.h>
#include <proxyd/master.h>
#include <proxyd/process.h>
#include <proxyd/proxy.h>
#include <proxyd/sd_notify.h>
#include <proxyd/server_state.h>
#include <proxyd/thread.h>
#include <proxyd/version.h>


#define ENV_FDS     "PROXYD_MWORKER_FDS"      /* listening sockets: "fd,fd,..." */
#define ENV_PROCS   "PROXYD_MWORKER_PROCS"    /* workers: "pid:ctrl:reloads:start:flags;..." */
#define ENV_MASTER  "PROXYD_MWORKER_MASTER"   /* "reloads:failed:start" */
#define ENV_MCLI    "PROXYD_MWORKER_CLI"      /* master CLI sockets: "fd,fd,..." */

#define XCHG_TIMEOUT_MS 3000   /* the longest the master waits for a worker's answer */

enum {
	MW_F_CURRENT  = 1,   /* the newest worker (the others are stopping) */
	MW_F_READY    = 2,   /* it said it serves */
	MW_F_STOPPING = 4,   /* it was asked to stop */
};

struct mworker {
	struct mworker *next;
	int pid;
	int ctrl;            /* the master's end of the control socketpair */
	int reloads;         /* reloads since it was forked */
	long start;
	unsigned flags;
	ev_io io;
};

static struct {
	int cmdline, systemd;       /* -W, -Ws */
	int cfg;                    /* "master-worker" */
	int no_exit_on_failure;
	int max_reloads;            /* mworker-max-reloads, 0: no limit */
	int reexec;                 /* this image comes from a reload */
	int loaded;                 /* the configuration of this image is valid */
	int is_worker;
	int ctrl;                   /* worker: its end of the control socket */
	ev_io ctrl_io;
	struct ev_loop *wloop;      /* worker: its loop */
	int reloads, failed;
	long start;
	char exe[PATH_MAX];
	char **argv;
	int *fds, nfds;             /* listening sockets received at the exec */
	struct mworker *workers;
	struct ev_loop *loop;
	int exiting, exit_code;
	char *state;                /* the previous worker's dump */
	size_t state_len;
	char *errors;               /* alerts of this load, for the log targets */
	size_t errors_len;
	ev_child child;
	ev_signal sigs[7];
} mw = { .ctrl = -1 };

static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notify(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!mw.systemd)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf("%s", buf);
}

/*------------------------------------------------------------------------
 * Configuration and command line
 */
void master_opt_W(int systemd)
{
	mw.cmdline = 1;
	if (systemd)
		mw.systemd = 1;
	global.mode |= MODE_MWORKER;
}

int master_opt_S(const char *spec)
{
	return mcli_add(spec);
}

static int parse_master_worker(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (nargs >= 1) {
		if (strcmp(args[0], "no-exit-on-failure") != 0) {
			cfg_alert(ctx, "'master-worker' only accepts 'no-exit-on-failure', not '%s'", args[0]);
			return -1;
		}
		mw.no_exit_on_failure = 1;
	}
	mw.cfg = 1;
	global.mode |= MODE_MWORKER;
	return 0;
}

static int parse_max_reloads(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	return cfg_int_arg(ctx, args[0], 0, 1 << 30, &mw.max_reloads);
}

static const struct cfg_kw master_kws[] = {
	{ "master-worker", CFG_SEC_GLOBAL, 0, 1, parse_master_worker, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "[no-exit-on-failure]" },
	{ "mworker-max-reloads", CFG_SEC_GLOBAL, 1, 1, parse_max_reloads, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0,
	  "<number>" },
	{ NULL }
};
CFG_REGISTER(master_kws);

int master_enabled(void)
{
	/* a reloaded image stays a master whatever the new configuration says */
	return mw.cmdline || mw.cfg || mw.reexec;
}

int master_reexeced(void)
{
	return mw.reexec && !mw.is_worker;
}

int master_reexeced_worker(void)
{
	return mw.reexec && mw.is_worker;
}

int master_reload_failed_state(void)
{
	return !mw.loaded && mw.reexec;
}

/* Alerts while loading, kept for the log targets of a failed reload. */
static void collect_alerts(enum diag_level lvl, const char *msg)
{
	if (lvl < DIAG_ALERT)
		return;
	size_t l = strlen(msg);
	char *p = realloc(mw.errors, mw.errors_len + l + 2);
	if (!p)
		return;
	mw.errors = p;
	memcpy(p + mw.errors_len, msg, l);
	p[mw.errors_len + l] = '\n';
	mw.errors_len += l + 1;
	p[mw.errors_len] = 0;
}

/*------------------------------------------------------------------------
 * The environment of a reload
 */
static void set_cloexec(int fd, int on)
{
	int f = fcntl(fd, F_GETFD);
	if (f >= 0)
		fcntl(fd, F_SETFD, on ? f | FD_CLOEXEC : f & ~FD_CLOEXEC);
}

static int fd_valid(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

void master_env_init(int argc, char **argv)
{
	const char *v;

	mw.argv = argv;
	mw.start = (long)time(NULL);
	/* /proc/self/exe survives a change of the working directory */
	ssize_t n = readlink("/proc/self/exe", mw.exe, sizeof(mw.exe) - 1);
	if (n > 0)
		mw.exe[n] = 0;
	else
		snprintf(mw.exe, sizeof(mw.exe), "%s", argv[0]);

	if (!(v = getenv(ENV_MASTER)))
		return;
	mw.reexec = 1;
	global.mode |= MODE_MWORKER;
	sscanf(v, "%d:%d:%ld", &mw.reloads, &mw.failed, &mw.start);

	if ((v = getenv(ENV_FDS))) {
		for (const char *p = v; *p;) {
			char *end;
			long fd = strtol(p, &end, 10);
			if (end == p)
				break;
			if (fd_valid((int)fd)) {
				set_cloexec((int)fd, 1);
				int *nf = realloc(mw.fds, (size_t)(mw.nfds + 1) * sizeof(int));
				if (nf) {
					mw.fds = nf;
					mw.fds[mw.nfds++] = (int)fd;
					if (handover_add((int)fd) < 0)
						mw.nfds--, close((int)fd);
				}
			}
			p = *end == ',' ? end + 1 : end;
		}
	}
	if ((v = getenv(ENV_PROCS))) {
		struct mworker **tail = &mw.workers;
		for (const char *p = v; *p;) {
			struct mworker w = { .ctrl = -1 };
			int used = 0;
			if (sscanf(p, "%d:%d:%d:%ld:%u%n", &w.pid, &w.ctrl, &w.reloads, &w.start, &w.flags, &used) < 5)
				break;
			p += used;
			if (*p == ';')
				p++;
			if (w.pid <= 0 || kill(w.pid, 0) < 0)
				continue;   /* already gone (and reaped by the old image) */
			struct mworker *nw = calloc(1, sizeof(*nw));
			if (!nw)
				continue;
			*nw = w;
			if (!fd_valid(nw->ctrl))
				nw->ctrl = -1;
			else
				set_cloexec(nw->ctrl, 1);
			*tail = nw;
			tail = &nw->next;
		}
	}
	if ((v = getenv(ENV_MCLI)))
		mcli_adopt_fds(v);
	unsetenv(ENV_MASTER);
	unsetenv(ENV_FDS);
	unsetenv(ENV_PROCS);
	unsetenv(ENV_MCLI);
	/* what goes wrong in this load also goes to the log targets */
	diag_hook = collect_alerts;
}

static void block_signals(int block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTTOU);
	sigaddset(&set, SIGTTIN);
	sigaddset(&set, SIGCHLD);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* Appends "<fd>," for each listening socket this image holds. */
static void append_listener_fds(char *buf, size_t size)
{
	size_t l = strlen(buf);

	if (mw.loaded) {
		struct proxy *px;
		struct listener *li;
		int socks[MAX_LI_SOCKS];
		list_for_each(px, &proxies, list)
			list_for_each(li, &px->listeners, fe_el) {
				int n = listener_sockets(li, socks, MAX_LI_SOCKS);
				for (int i = 0; i < n && l + 16 < size; i++) {
					set_cloexec(socks[i], 0);
					l += (size_t)snprintf(buf + l, size - l, "%s%d", l ? "," : "", socks[i]);
				}
			}
	} else {
		for (int i = 0; i < mw.nfds; i++)
			if (l + 16 < size) {
				set_cloexec(mw.fds[i], 0);
				l += (size_t)snprintf(buf + l, size - l, "%s%d", l ? "," : "", mw.fds[i]);
			}
	}
}

void master_reload(void)
{
	static char fds[65536], procs[65536];
	char master[128], mcli[1024];
	int cfds[64];

	ha_notice("Reloading proxyd");
	notify("RELOADING=1\nSTATUS=Reloading Configuration.");
	fds[0] = procs[0] = mcli[0] = 0;
	append_listener_fds(fds, sizeof(fds));
	size_t l = 0;
	for (struct mworker *w = mw.workers; w; w = w->next) {
		if (w->ctrl >= 0)
			set_cloexec(w->ctrl, 0);
		if (l + 96 < sizeof(procs))
			l += (size_t)snprintf(procs + l, sizeof(procs) - l, "%s%d:%d:%d:%ld:%u", l ? ";" : "", w->pid,
			                      w->ctrl, w->reloads, w->start, w->flags);
	}
	int nc = mcli_fds(cfds, 64);
	l = 0;
	for (int i = 0; i < nc && l + 16 < sizeof(mcli); i++) {
		set_cloexec(cfds[i], 0);
		l += (size_t)snprintf(mcli + l, sizeof(mcli) - l, "%s%d", l ? "," : "", cfds[i]);
	}
	snprintf(master, sizeof(master), "%d:%d:%ld", mw.reloads + 1, mw.failed, mw.start);
	setenv(ENV_FDS, fds, 1);
	setenv(ENV_PROCS, procs, 1);
	setenv(ENV_MASTER, master, 1);
	setenv(ENV_MCLI, mcli, 1);
	/* signals wait (pending) until the new image watches them: with their
	 * default action, a SIGUSR2 would kill it while it loads */
	block_signals(1);
	execv(mw.exe, mw.argv);
	ha_alert("Cannot re-execute %s for the reload: %s", mw.exe, strerror(errno));
	block_signals(0);
	unsetenv(ENV_FDS);
	unsetenv(ENV_PROCS);
	unsetenv(ENV_MASTER);
	unsetenv(ENV_MCLI);
	notify("READY=1\nSTATUS=Reload failed: cannot re-execute %s", mw.exe);
}

/*------------------------------------------------------------------------
 * Talking to a worker
 */
static int send_fd(int ctrl, int fd)
{
	char c = 'C';
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { 0 };

	memset(&u, 0, sizeof(u));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(ctrl, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Runs <cmd> (one line) on <w>'s CLI and returns the whole answer, or NULL.
 * Blocks the master for at most XCHG_TIMEOUT_MS: it only serves the master
 * CLI and waits for children, which can wait that long. */
static char *exchange(struct mworker *w, const char *cmd, size_t *outlen)
{
	int sv[2];
	char *out = NULL;
	size_t len = 0, size = 0;

	if (w->ctrl < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	if (send_fd(w->ctrl, sv[1]) < 0) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	close(sv[1]);
	long deadline = now_ms() + XCHG_TIMEOUT_MS;
	size_t cl = strlen(cmd), off = 0;
	while (off < cl) {
		ssize_t n = send(sv[0], cmd + off, cl - off, MSG_NOSIGNAL);
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	shutdown(sv[0], SHUT_WR);   /* one line: the session ends after it */
	for (;;) {
		long left = deadline - now_ms();
		struct pollfd p = { sv[0], POLLIN, 0 };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			goto fail;
		if (len + 65536 + 1 > size) {
			size_t ns = size ? size * 2 : 131072;
			char *no = realloc(out, ns);
			if (!no)
				goto fail;
			out = no;
			size = ns;
		}
		ssize_t n = recv(sv[0], out + len, size - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(sv[0]);
	if (!out)
		out = calloc(1, 1);
	else
		out[len] = 0;
	if (outlen)
		*outlen = len;
	return out;
fail:
	close(sv[0]);
	free(out);
	return NULL;
}

static struct mworker *current_worker(void)
{
	struct mworker *best = NULL;

	for (struct mworker *w = mw.workers; w; w = w->next)
		if ((w->flags & MW_F_CURRENT) && (!best || (w->flags & MW_F_READY)))
			best = w;
	return best;
}

char *master_forward(const char *target, const char *cmd, char *err, size_t errlen)
{
	struct mworker *w = NULL;

	if (target[0] == '!') {
		int pid = atoi(target + 1);
		for (w = mw.workers; w && w->pid != pid; w = w->next)
			;
	} else {
		/* relative numbers: 1 is the current worker, then the older ones */
		int n = atoi(target), i = 1;
		if (n == 1)
			w = current_worker();
		else
			for (w = mw.workers; w; w = w->next)
				if (!(w->flags & MW_F_CURRENT) && ++i == n)
					break;
	}
	if (!w) {
		snprintf(err, errlen, "Can't find the target PID matching the prefix '@%s'\n", target);
		return NULL;
	}
	size_t cl = strlen(cmd);
	char *line = malloc(cl + 2);
	if (!line)
		return NULL;
	memcpy(line, cmd, cl);
	line[cl] = '\n';
	line[cl + 1] = 0;
	char *out = exchange(w, line, NULL);
	free(line);
	if (!out)
		snprintf(err, errlen, "The worker %d did not answer.\n", w->pid);
	return out;
}

/*------------------------------------------------------------------------
 * The master's processes
 */
static void worker_free(struct mworker *w)
{
	struct mworker **pp = &mw.workers;

	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	if (mw.loop && w->ctrl >= 0)
		ev_io_stop(mw.loop, &w->io);
	if (w->ctrl >= 0)
		close(w->ctrl);
	free(w);
}

static void uptime_str(long since, char *buf, size_t len)
{
	long up = (long)time(NULL) - since;
	if (up < 0)
		up = 0;
	snprintf(buf, len, "%ldd%02ldh%02ldm%02lds", up / 86400, (up / 3600) % 24, (up / 60) % 60, up % 60);
}

void master_show_proc(char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	char up[64], rl[64];

	if (!f)
		return;
	fprintf(f, "%-15s %-15s %-15s %-15s %-15s\n", "#<PID>", "<type>", "<reloads>", "<uptime>", "<version>");
	uptime_str(mw.start, up, sizeof(up));
	snprintf(rl, sizeof(rl), "%d [failed: %d]", mw.reloads, mw.failed);
	fprintf(f, "%-15d %-15s %-15s %-15s %-15s\n", (int)getpid(), "master", rl, up, proxyd_version);
	fprintf(f, "# workers\n");
	for (struct mworker *w = mw.workers; w; w = w->next)
		if (w->flags & MW_F_CURRENT) {
			uptime_str(w->start, up, sizeof(up));
			snprintf(rl, sizeof(rl), "%d", w->reloads);
			fprintf(f, "%-15d %-15s %-15s %-15s %-15s\n", w->pid, "worker", rl, up, proxyd_version);
		}
	int old = 0;
	for (struct mworker *w = mw.workers; w; w = w->next)
		if (!(w->flags & MW_F_CURRENT)) {
			if (!old++)
				fprintf(f, "# old workers\n");
			uptime_str(w->start, up, sizeof(up));
			snprintf(rl, sizeof(rl), "%d", w->reloads);
			fprintf(f, "%-15d %-15s %-15s %-15s %-15s\n", w->pid, "worker", rl, up, proxyd_version);
		}
	fprintf(f, "# programs\n");
	fclose(f);
}

static void master_exit(int code)
{
	notify("STOPPING=1\nSTATUS=Stopping.");
	if (mw.loop) {
		ev_child_stop(mw.loop, &mw.child);
		for (int i = 0; i < 7; i++)
			ev_signal_stop(mw.loop, &mw.sigs[i]);
	}
	while (mw.workers)
		worker_free(mw.workers);
	mcli_close(1);
	if (mw.loaded) {
		listeners_close_all();
		cfg_deinit();
	} else {
		handover_close_unused();
	}
	for (int i = 0; !mw.loaded && i < mw.nfds; i++)
		close(mw.fds[i]);
	free(mw.fds);
	free(mw.errors);
	free(mw.state);
	if (mw.loop)
		ev_loop_destroy(mw.loop);
	exit(code);
}

static void kill_all(int sig)
{
	for (struct mworker *w = mw.workers; w; w = w->next) {
		kill(w->pid, sig);
		if (sig == SIGUSR1)
			w->flags |= MW_F_STOPPING;
	}
}

static void child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
	int st = c->rstatus, code;
	char why[64];
	struct mworker *w;

	if (!WIFEXITED(st) && !WIFSIGNALED(st))
		return;
	if (WIFEXITED(st)) {
		code = WEXITSTATUS(st);
		snprintf(why, sizeof(why), "Exit");
	} else {
		code = 128 + WTERMSIG(st);
		snprintf(why, sizeof(why), "%s", strsignal(WTERMSIG(st)));
	}
	for (w = mw.workers; w && w->pid != c->rpid; w = w->next)
		;
	if (!w)
		return;
	int current = (w->flags & MW_F_CURRENT) && !(w->flags & MW_F_STOPPING);
	int ready = w->flags & MW_F_READY;
	worker_free(w);
	struct mworker *prev = NULL;
	for (struct mworker *o = mw.workers; o; o = o->next)
		if (!(o->flags & MW_F_STOPPING) && !prev)
			prev = o;   /* the newest previous worker still serving */
	if (current && !ready && prev && !mw.exiting) {
		/* a reload's worker died while starting: the previous one has
		 * not been asked to stop yet, it goes on serving */
		log_event(NULL, LOGL_ALERT, DIAG_ALERT, "New worker (%d) exited with code %d (%s) before it was ready: "
		          "the previous worker (%d) keeps serving", c->rpid, code, why, prev->pid);
		prev->flags |= MW_F_CURRENT;
		mw.failed++;
		notify("READY=1\nSTATUS=Reload failed: the new worker exited with code %d", code);
	} else if (current && !mw.exiting) {
		log_event(NULL, LOGL_ALERT, DIAG_ALERT, "Current worker (%d) exited with code %d (%s)", c->rpid, code, why);
		notify("STATUS=Current worker (%d) exited with code %d (%s)", c->rpid, code, why);
		if (!mw.no_exit_on_failure) {
			log_event(NULL, LOGL_ALERT, DIAG_ALERT, "exit-on-failure: killing every processes with SIGTERM");
			mw.exiting = 1;
			mw.exit_code = code;
			kill_all(SIGTERM);
		}
	} else {
		log_event(NULL, LOGL_WARNING, DIAG_WARNING, "%s worker (%d) exited with code %d (%s)",
		          current ? "Current" : "Former", c->rpid, code, why);
	}
	if (mw.exiting && !mw.workers) {
		ha_warning("All workers exited. Exiting... (%d)", mw.exit_code);
		master_exit(mw.exit_code);
	}
}

/* The newest worker serves: the older ones stop (they finish what they
 * were doing; the listening sockets stay open in the master). */
static void worker_is_ready(struct mworker *nw)
{
	nw->flags |= MW_F_READY;
	if (!(nw->flags & MW_F_CURRENT))
		return;
	/* daemon mode: the first worker serves, the master leaves the
	 * terminal (the parent waiting for it already left) */
	process_ready();
	for (struct mworker *w = mw.workers; w; w = w->next)
		if (w != nw && !(w->flags & MW_F_STOPPING)) {
			w->flags &= ~MW_F_CURRENT;
			w->flags |= MW_F_STOPPING;
			kill(w->pid, SIGUSR1);
		}
	notify("READY=1\nMAINPID=%d\nSTATUS=Ready.", (int)getpid());
}

static void ctrl_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct mworker *w = io->data;
	char buf[16];

	ssize_t n = recv(w->ctrl, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* it is exiting: its end is closed; the exit status comes by SIGCHLD */
		ev_io_stop(loop, io);
		return;
	}
	if (buf[0] == 'R')
		worker_is_ready(w);
}

static void signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	switch (s->signum) {
	case SIGUSR2:
		master_reload();
		break;
	case SIGHUP:
	case SIGTTOU:
	case SIGTTIN:
		/* for the workers (server state dump, pause, resume) */
		for (struct mworker *w = mw.workers; w; w = w->next)
			kill(w->pid, s->signum);
		return;
	case SIGUSR1:
		/* soft stop of the whole service */
		ha_notice("Stopping the service softly (SIGUSR1)");
		mw.exiting = 1;
		kill_all(SIGUSR1);
		break;
	default:
		ha_notice("Exiting Master process...");
		mw.exiting = 1;
		kill_all(SIGTERM);
		break;
	}
	if (mw.exiting && !mw.workers) {
		ha_warning("All workers exited. Exiting... (%d)", mw.exit_code);
		master_exit(mw.exit_code);
	}
}

static void master_loop(void)
{
	static const int sigs[7] = { SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGHUP, SIGTTOU, SIGTTIN };

	mw.loop = ev_default_loop(EVFLAG_AUTO);
	if (!mw.loop) {
		ha_alert("master: cannot create the event loop");
		kill_all(SIGTERM);
		exit(1);
	}
	signal(SIGPIPE, SIG_IGN);
	ev_child_init(&mw.child, child_cb, 0, 0);
	ev_child_start(mw.loop, &mw.child);
	for (int i = 0; i < 7; i++) {
		ev_signal_init(&mw.sigs[i], signal_cb, sigs[i]);
		ev_signal_start(mw.loop, &mw.sigs[i]);
	}
	for (struct mworker *w = mw.workers; w; w = w->next) {
		if (w->ctrl < 0)
			continue;
		ev_io_init(&w->io, ctrl_cb, w->ctrl, EV_READ);
		w->io.data = w;
		ev_io_start(mw.loop, &w->io);
	}
	mcli_start(mw.loop);
	/* children that ended while this image loaded are reaped now: their
	 * SIGCHLD is pending, or was taken by the previous image before it
	 * could reap them (then only a look with waitpid() finds them) */
	block_signals(0);
	ev_feed_signal_event(mw.loop, SIGCHLD);
	if (!mw.workers && !mw.no_exit_on_failure && mw.exiting)
		master_exit(mw.exit_code);
	ev_run(mw.loop, 0);
	master_exit(mw.exit_code);
}

static void send_errors_to_logs(void)
{
	if (!mw.errors)
		return;
	log_targets_open();
	for (char *line = mw.errors, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		log_send(NULL, LOGL_ALERT, line, (size_t)(nl - line), NULL, 0);
	}
}

void master_wait_mode(const char *why)
{
	struct proxy *px;
	struct listener *li;
	int bound = 0;

	diag_hook = NULL;
	mw.failed++;
	mw.loaded = 0;
	/* once binding started, the sockets to pass on are the listeners'
	 * (those of removed addresses were closed): they outlive cfg_deinit() */
	int socks[MAX_LI_SOCKS];
	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el)
			bound += listener_sockets(li, socks, MAX_LI_SOCKS);
	if (bound) {
		int *nf = realloc(mw.fds, (size_t)bound * sizeof(int));
		if (nf) {
			mw.fds = nf;
			mw.nfds = 0;
			list_for_each(px, &proxies, list)
				list_for_each(li, &px->listeners, fe_el)
					mw.nfds += listener_sockets(li, mw.fds + mw.nfds, bound - mw.nfds);
		}
	}
	if (mcli_bind() < 0)
		ha_warning("master: the master CLI could not be bound again");
	ha_alert("Loading failure! (%s) The previous workers keep serving; fix the configuration and reload.", why);
	send_errors_to_logs();
	cfg_deinit();
	notify("READY=1\nSTATUS=Reload failed: %s", why);
	for (struct mworker *w = mw.workers; w; w = w->next)
		w->reloads++;
	if (!mw.workers && !mw.no_exit_on_failure) {
		ha_alert("master: no worker left to keep serving, exiting");
		master_exit(1);
	}
	master_loop();
}

/*------------------------------------------------------------------------
 * Start
 */
static void fetch_state(void)
{
	struct mworker *w = current_worker();

	if (!w)
		return;
	mw.state = exchange(w, "show servers state;_show counters\n", &mw.state_len);
	if (!mw.state)
		ha_warning("The previous worker (%d) did not give its state: servers and counters start afresh", w->pid);
}

/* In the new worker, its loop and checks started: the previous worker's
 * server states and counters. */
static void apply_state(void)
{
	char err[256] = "";

	if (!mw.state)
		return;
	char *cnt = strstr(mw.state, "# proxyd counters");
	size_t srv_len = cnt ? (size_t)(cnt - mw.state) : mw.state_len;
	/* the same loader as a server-state-file's */
	if (server_state_apply_text(mw.state, srv_len, err, sizeof(err)) < 0)
		ha_warning("server states of the previous worker: %s", err);
	if (cnt)
		counters_apply_text(cnt, mw.state_len - (size_t)(cnt - mw.state));
	free(mw.state);
	mw.state = NULL;
}

static void become_worker(int ctrl)
{
	mw.is_worker = 1;
	mw.ctrl = ctrl;
	diag_hook = NULL;
	while (mw.workers)
		worker_free(mw.workers);
	mcli_close(0);
	free(mw.fds);
	mw.fds = NULL;
	mw.nfds = 0;
	free(mw.errors);
	mw.errors = NULL;
	/* the state is applied once the loop and the checks run
	 * (master_worker_ready()) */
}

void master_start(void)
{
	int sv[2];

	diag_hook = NULL;
	mw.loaded = 1;
	if (mcli_bind() < 0) {
		if (!mw.reexec)
			exit(1);
		master_wait_mode("cannot bind the master CLI");
	}
	block_signals(1);
	if (mw.reexec)
		fetch_state();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ha_alert("master: cannot create a socketpair: %s", strerror(errno));
		if (!mw.reexec)
			exit(1);
		master_wait_mode("no socketpair for the new worker");
	}
	fflush(NULL);
	int pid = fork();
	if (pid < 0) {
		ha_alert("master: cannot fork the worker: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		if (!mw.reexec)
			exit(1);
		master_wait_mode("fork failed");
	}
	if (pid == 0) {
		close(sv[0]);
		become_worker(sv[1]);
		return;
	}
	close(sv[1]);
	free(mw.state);
	mw.state = NULL;
	free(mw.errors);
	mw.errors = NULL;
	struct mworker *nw = calloc(1, sizeof(*nw));
	if (!nw) {
		kill(pid, SIGTERM);
		exit(1);
	}
	for (struct mworker *w = mw.workers; w; w = w->next) {
		w->reloads++;
		if (mw.max_reloads && w->reloads > mw.max_reloads && (w->flags & MW_F_STOPPING)) {
			/* still there after that many reloads: stopped for good */
			ha_warning("Worker (%d) survived %d reloads (mworker-max-reloads %d): sending SIGTERM", w->pid,
			           w->reloads, mw.max_reloads);
			kill(w->pid, SIGTERM);
		}
	}
	nw->pid = pid;
	nw->ctrl = sv[0];
	nw->start = (long)time(NULL);
	nw->flags = MW_F_CURRENT;
	nw->next = mw.workers;
	mw.workers = nw;
	ha_notice("New worker (%d) forked", pid);
	ha_notice("Loading success.");
	if (mw.reexec) {
		ha_notice("proxyd version is %s", proxyd_version);
		ha_notice("path to executable is %s", mw.exe);
	}
	master_loop();
}

/*------------------------------------------------------------------------
 * Worker side
 */
static void worker_ctrl_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { 0 };

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	ssize_t n = recvmsg(mw.ctrl, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* no master any more: nobody would watch nor reload us */
		ha_alert("The master process is gone: exiting.");
		ev_ref(loop);
		ev_io_stop(loop, io);
		close(mw.ctrl);
		mw.ctrl = -1;
		threads_stop_all();
		return;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int fd;
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		if (c != 'C' || cli_attach_fd(fd, CLI_LVL_ADMIN) < 0)
			close(fd);
	}
}

void master_worker_ready(struct ev_loop *loop)
{
	if (!mw.is_worker)
		return;
	mw.wloop = loop;
	apply_state();
	if (mw.ctrl >= 0) {
		ev_io_init(&mw.ctrl_io, worker_ctrl_cb, mw.ctrl, EV_READ);
		ev_io_start(loop, &mw.ctrl_io);
		/* the control socket alone does not keep the loop running */
		ev_unref(loop);
		if (send(mw.ctrl, "R", 1, MSG_NOSIGNAL) != 1)
			ha_warning("cannot tell the master this worker is ready: %s", strerror(errno));
	}
	block_signals(0);
}

void master_worker_deinit(void)
{
	if (!mw.is_worker || mw.ctrl < 0)
		return;
	if (mw.wloop) {
		ev_ref(mw.wloop);
		ev_io_stop(mw.wloop, &mw.ctrl_io);
	}
	close(mw.ctrl);
	mw.ctrl = -1;
}
