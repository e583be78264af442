/* The process around the proxy: its "global" keywords daemon, pidfile,
 * chroot, user/uid, group/gid and ulimit-n; the file descriptor limit;
 * running in the background; the pid file; dropping privileges once every
 * socket is open; and telling old processes to leave (-sf / -st).
 *
 * Start-up order (main.c): limits, sockets (listeners, admin socket, logs
 * are open since the configuration was read), daemon_start() (fork), pid
 * file, chroot and privileges, event loop, then process_ready(): only then
 * does the parent of a daemon exit 0 and the old processes get their
 * signal, so that a failure at any step still reaches the terminal and
 * leaves the old process serving. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <proxyd/cfg.h>
#include <proxyd/check.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/listener.h>
#include <proxyd/process.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

static struct {
	int ready_fd;      /* daemon: the pipe the parent waits on */
	int devnull;       /* opened before chroot, for stdin/out/err */
	const char *pidfile_cli;
} proc = { -1, -1, NULL };

/*------------------------------------------------------------------------
 * Keywords
 */
static int parse_daemon(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	global.daemon = 1;
	return 0;
}

static int parse_user(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct passwd *pw = getpwnam(args[0]);

	if (!pw) {
		cfg_alert(ctx, "'user': unknown user '%s' (use a name from the passwd database, or 'uid <number>')",
		          args[0]);
		return -1;
	}
	global.uid = (int)pw->pw_uid;
	return 0;
}

static int parse_group(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct group *gr = getgrnam(args[0]);

	if (!gr) {
		cfg_alert(ctx, "'group': unknown group '%s' (use a name from the group database, or 'gid <number>')",
		          args[0]);
		return -1;
	}
	global.gid = (int)gr->gr_gid;
	return 0;
}

#define G(field) TGT_GLOBAL, offsetof(struct global, field)

static const struct cfg_kw process_kws[] = {
	{ "daemon", CFG_SEC_GLOBAL, 0, 0, parse_daemon, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, NULL },
	{ "pidfile", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_STR, G(pidfile), 0, 0, 0, "<file>" },
	{ "chroot", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_STR, G(chroot), 0, 0, 0, "<directory>" },
	{ "user", CFG_SEC_GLOBAL, 1, 1, parse_user, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<user name>" },
	{ "group", CFG_SEC_GLOBAL, 1, 1, parse_group, SLOT_NONE, TGT_GLOBAL, 0, 0, 0, 0, "<group name>" },
	{ "uid", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_INT, G(uid), 0, 2147483647, 0, "<number>" },
	{ "gid", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_INT, G(gid), 0, 2147483647, 0, "<number>" },
	{ "ulimit-n", CFG_SEC_GLOBAL, 1, 1, NULL, SLOT_INT, G(ulimit_n), 1, 1 << 30, 0, "<number>" },
	{ NULL }
};
CFG_REGISTER(process_kws);

/*------------------------------------------------------------------------
 * File descriptor limit
 */
int ulimit_needed(int maxconn, int nb_listeners, int nb_checks)
{
	/* each proxied connection holds two sockets (client and server);
	 * then one per listener and per running check, and a margin for the
	 * standard streams, the event loop, the admin and log sockets */
	long n = 2L * maxconn + nb_listeners + nb_checks + ULIMIT_MARGIN;
	return n > (1 << 30) ? 1 << 30 : (int)n;
}

int process_set_limits(const char *progname)
{
	struct rlimit rl;
	struct proxy *px;
	struct listener *li;
	struct server *srv;
	int listeners = 0, checks = 0;

	list_for_each(px, &proxies, list) {
		list_for_each(li, &px->listeners, fe_el)
			listeners++;
		if (px->cap & PR_CAP_BE)
			list_for_each(srv, &px->servers, list)
				checks += srv->c.ck.enabled;
	}
	int want = global.ulimit_n ? global.ulimit_n : ulimit_needed(global.maxconn, listeners, checks);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (!global.ulimit_n && global.maxconn_auto && rl.rlim_cur != RLIM_INFINITY && (rlim_t)want > rl.rlim_cur)
		want = (int)rl.rlim_cur;   /* maxconn was sized from this very limit */
	global.ulimit_n = want;
	global.maxsock = ulimit_needed(global.maxconn, listeners, checks);
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)want)
		return 0;   /* only ever raised */
	struct rlimit nl = rl;
	nl.rlim_cur = (rlim_t)want;
	if (setrlimit(RLIMIT_NOFILE, &nl) < 0) {
		/* as HAProxy with its default strict-limits: not starting is
		 * better than failing to accept under load */
		ha_alert("[%s.main()] Cannot raise FD limit to %d, limit is %lld.", progname, want,
		         rl.rlim_max == RLIM_INFINITY ? -1LL : (long long)rl.rlim_max);
		return -1;
	}
	return 0;
}

/*------------------------------------------------------------------------
 * Background, pid file, privileges
 */
int daemon_start(void)
{
	int p[2];

	proc.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (pipe2(p, O_CLOEXEC) < 0) {
		ha_alert("[daemon] cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		ha_alert("[daemon] cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		/* the parent stays on the terminal until the daemon says it
		 * runs: its errors are printed there, its failure is ours */
		char c = 0;
		ssize_t r;
		close(p[1]);
		do
			r = read(p[0], &c, 1);
		while (r < 0 && errno == EINTR);
		if (r == 1 && c == 'R')
			_exit(0);
		int st = 0;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) && WEXITSTATUS(st) ? WEXITSTATUS(st) : 1);
	}
	close(p[0]);
	proc.ready_fd = p[1];
	setsid();
	return 0;
}

int pidfile_write(void)
{
	const char *path = global.pidfile;
	char buf[32];

	/* as HAProxy: a process in the foreground writes none */
	if (!path || proc.ready_fd < 0)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ha_alert("[main()] Cannot create pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		ha_alert("[main()] Cannot write pidfile %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int process_drop_privileges(const char *progname)
{
	if (global.chroot) {
		if (chroot(global.chroot) < 0 || chdir("/") < 0) {
			ha_alert("[%s.main()] Cannot chroot(%s): %s.", progname, global.chroot, strerror(errno));
			return -1;
		}
	}
	if (global.gid && (gid_t)global.gid != getegid()) {
		gid_t g = (gid_t)global.gid;
		/* the supplementary groups of root would stay otherwise (none
		 * are kept, as HAProxy) */
		if (geteuid() == 0 && setgroups(0, NULL) < 0) {
			ha_alert("[%s.main()] Cannot drop supplementary groups: %s.", progname, strerror(errno));
			return -1;
		}
		if (setgid(g) < 0) {
			ha_alert("[%s.main()] Cannot set gid %d: %s.", progname, global.gid, strerror(errno));
			return -1;
		}
	}
	if (global.uid && (uid_t)global.uid != geteuid()) {
		if (!global.gid && geteuid() == 0)
			setgroups(0, NULL);
		if (setuid((uid_t)global.uid) < 0) {
			ha_alert("[%s.main()] Cannot set uid %d: %s.", progname, global.uid, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*------------------------------------------------------------------------
 * Ready
 */
void process_signal_old(const int *pids, int nb, int sig)
{
	for (int i = 0; i < nb; i++)
		if (pids[i] > 0 && pids[i] != (int)getpid())
			kill((pid_t)pids[i], sig);
}

void process_ready(void)
{
	if (proc.ready_fd < 0)
		return;
	if (proc.devnull >= 0) {
		dup2(proc.devnull, 0);
		dup2(proc.devnull, 1);
		dup2(proc.devnull, 2);
		close(proc.devnull);
		proc.devnull = -1;
	}
	ssize_t r = write(proc.ready_fd, "R", 1);
	(void)r;
	close(proc.ready_fd);
	proc.ready_fd = -1;
}
