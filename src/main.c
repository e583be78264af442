/* proxyd: command line, start-up order, exit codes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <proxyd/cli.h>
#include <proxyd/acl.h>
#include <proxyd/cfg.h>
#include <proxyd/check.h>
#include <proxyd/cfg_bind.h>
#include <proxyd/cfg_lex.h>
#include <proxyd/cfg_server.h>
#include <proxyd/lb.h>
#include <proxyd/rules.h>
#include <proxyd/sample.h>
#include <proxyd/server_state.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/getsocks.h>
#include <proxyd/listener.h>
#include <proxyd/master.h>
#include <proxyd/process.h>
#include <proxyd/signals.h>
#include <proxyd/thread.h>
#include <proxyd/version.h>

static void usage(FILE *out)
{
	fprintf(out,
	        "proxyd version %s - an HTTP/TCP reverse proxy and load balancer\n"
	        "Usage: proxyd -f <cfgfile|cfgdir>* [options]\n"
	        "  -f <path>      configuration file or directory (repeatable); '--' ends options,\n"
	        "                 the remaining arguments being configuration files\n"
	        "  -c             check the configuration and exit (0: valid, 1: invalid,\n"
	        "                 2: valid but nothing to listen on)\n"
	        "  -cc <cond>     evaluate a condition as in .if blocks (0: true, 1: false, 2: error)\n"
	        "  -d             debug: foreground, verbose, one line per request on stderr\n"
	        "  -dM[<byte>]    poison memory from pools (default byte 0x50)\n"
	        "  -D             daemon: run in the background (as the 'daemon' keyword)\n"
	        "  -db            stay in the foreground, even with 'daemon'\n"
	        "  -p <file>      write the process id into <file> (as 'pidfile')\n"
	        "  -x <socket>    take the listening sockets of the old process behind this admin\n"
	        "                 socket ('stats socket ... expose-fd listeners')\n"
	        "  -sf <pid>*     once ready, ask these processes to finish (SIGUSR1: soft stop)\n"
	        "  -st <pid>*     once ready, stop these processes (SIGTERM)\n"
	        "  -q             quiet: no notices nor warnings\n"
	        "  -W             master-worker mode: a master process keeps the listening sockets,\n"
	        "                 runs a worker and reloads it on SIGUSR2\n"
	        "  -Ws            master-worker mode with systemd notifications (Type=notify)\n"
	        "  -S <bind>[,mode,<octal>]  master CLI socket (show proc, reload, @<n> <command>)\n"
	        "  -L <name>      local peer name (accepted, unused)\n"
	        "  -v, -vv        version; -vv adds build options and library versions\n"
	        "  --list-keywords  every configuration keyword this build knows\n"
	        "  -h             this help\n",
	        proxyd_version);
}

/* Every keyword the registered tables know, one per line, prefixed by its
 * kind: the documentation test checks each one is in proxyd.cfg.5. */
static void list_keywords(void)
{
	struct reg_node *n;

	registry_for_each(n, cfg_keywords)
		for (const struct cfg_kw *kw = n->table; kw->name; kw++)
			printf("keyword %s\n", kw->name);
	registry_for_each(n, cfg_options)
		for (const struct cfg_opt *o = n->table; o->name; o++)
			printf("option %s\n", o->name);
	registry_for_each(n, srv_kws)
		for (const struct srv_kw *k = n->table; k->name; k++)
			printf("server %s\n", k->name);
	registry_for_each(n, bind_kws)
		for (const struct bind_kw *k = n->table; k->name; k++)
			printf("bind %s\n", k->name);
	registry_for_each(n, act_kws)
		for (const struct act_kw *k = n->table; k->name; k++)
			printf("action %s\n", k->name);
	registry_for_each(n, lb_algos)
		printf("balance %s\n", ((const struct lb_algo *)n->table)->name);
	registry_for_each(n, smp_fetches)
		for (const struct sample_fetch *f = n->table; f->kw; f++)
			printf("fetch %s\n", f->kw);
	registry_for_each(n, smp_convs)
		for (const struct sample_conv *c = n->table; c->kw; c++)
			printf("converter %s\n", c->kw);
	registry_for_each(n, acl_kws)
		for (const struct acl_kw *k = n->table; k->kw; k++)
			printf("acl %s\n", k->kw);
	acl_list_predefined(stdout);
}

static int check_condition(const char *expr)
{
	char err[512];
	int rc = cfg_eval_cond_text(expr, err, sizeof(err));

	if (rc < 0) {
		ha_alert("config : %s", err);
		return 2;
	}
	return rc ? 0 : 1;
}

#define MAX_OLD_PIDS 64

/* What the command line asks beyond the configuration. */
struct run_opts {
	int daemon;             /* -D */
	const char *pidfile;    /* -p */
	const char *old_sock;   /* -x */
	int old_sig;            /* -sf: SIGUSR1, -st: SIGTERM */
	int *old_pids;
	int nb_old;
};

/* Everything between a valid configuration and the event loop, in the
 * order that keeps errors visible and old processes serving until the new
 * one is ready (see process.c). Returns 0, or 1 after an alert. */
static int start(const char *progname, const struct run_opts *opt)
{
	signals_defer();
	if (opt->daemon)
		global.daemon = 1;
	if (opt->pidfile)
		global.pidfile = opt->pidfile;
	if (process_set_limits(progname) < 0)
		return 1;
	/* a reloaded master already holds the sockets (-x served its first start) */
	if (opt->old_sock && !master_reexeced() && getsocks_fetch(opt->old_sock) < 0) {
		ha_alert("Failed to get the sockets from the old process!");
		return 1;
	}
	if (listeners_bind_all() < 0) {
		ha_alert("[%s.main()] Some protocols failed to start their listeners! Exiting.", progname);
		return 1;
	}
	if (master_enabled()) {
		/* the master goes to the background and writes its pid once,
		 * at its first start, and keeps its privileges (a reload may
		 * bind new addresses); master_start() returns in the worker */
		if (!master_reexeced()) {
			if (global.daemon && !(global.mode & MODE_FOREGROUND) && daemon_start() < 0)
				return 1;
			if (pidfile_write() < 0)
				return 1;
		}
		master_start();
		if (cli_bind_all() < 0 || process_drop_privileges(progname) < 0)
			return 1;
	} else {
		if (cli_bind_all() < 0)
			return 1;
		if (global.daemon && !(global.mode & MODE_FOREGROUND) && daemon_start() < 0)
			return 1;
		if (pidfile_write() < 0 || process_drop_privileges(progname) < 0)
			return 1;
	}
	if (threads_init() < 0) {
		ha_alert("cannot initialise the event loop");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char **files = calloc((size_t)argc + 1, sizeof(char *));
	static int old_pids[MAX_OLD_PIDS];
	struct run_opts opt = { 0, NULL, NULL, 0, old_pids, 0 };
	int nfiles = 0, check = 0;

	if (!files)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (++i < argc)
				files[nfiles++] = argv[i];
			break;
		} else if (strcmp(a, "-f") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "proxyd: option -f needs a file or directory\n");
				return 1;
			}
			files[nfiles++] = argv[i];
		} else if (strcmp(a, "-c") == 0) {
			check = 1;
		} else if (strcmp(a, "-cc") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "proxyd: option -cc needs a condition\n");
				return 2;
			}
			int rc = check_condition(argv[i]);
			free(files);
			return rc;
		} else if (strcmp(a, "-d") == 0) {
			global.mode |= MODE_DEBUG | MODE_FOREGROUND;
			diag_verbose = 1;
		} else if (strncmp(a, "-dM", 3) == 0) {
			global.poison = a[3] ? (int)strtol(a + 3, NULL, 0) & 0xff : 0x50;
		} else if (strcmp(a, "-db") == 0) {
			global.mode |= MODE_FOREGROUND;
		} else if (strcmp(a, "-q") == 0) {
			global.mode |= MODE_QUIET;
			diag_quiet = 1;
		} else if (strcmp(a, "-L") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "proxyd: option -L needs a name\n");
				return 1;
			}
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "-vv") == 0) {
			version_print(a[2] == 'v');
			free(files);
			return 0;
		} else if (strcmp(a, "--list-keywords") == 0) {
			list_keywords();
			free(files);
			return 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			free(files);
			return 0;
		} else if (strcmp(a, "-D") == 0) {
			opt.daemon = 1;
		} else if (strcmp(a, "-p") == 0 || strcmp(a, "-x") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "proxyd: option %s needs a %s\n", a, a[1] == 'p' ? "file" : "socket path");
				return 1;
			}
			*(a[1] == 'p' ? &opt.pidfile : &opt.old_sock) = argv[i];
		} else if (strcmp(a, "-sf") == 0 || strcmp(a, "-st") == 0) {
			/* the process ids that follow, up to the next option */
			opt.old_sig = a[2] == 'f' ? SIGUSR1 : SIGTERM;
			while (i + 1 < argc && argv[i + 1][0] != '-') {
				char *end;
				long pid = strtol(argv[++i], &end, 10);
				if (*end || pid <= 0 || pid > 0x7fffffff) {
					fprintf(stderr, "proxyd: option %s: '%s' is not a process id\n", a, argv[i]);
					return 1;
				}
				if (opt.nb_old == MAX_OLD_PIDS) {
					fprintf(stderr, "proxyd: option %s: more than %d process ids\n", a, MAX_OLD_PIDS);
					return 1;
				}
				opt.old_pids[opt.nb_old++] = (int)pid;
			}
		} else if (strcmp(a, "-W") == 0 || strcmp(a, "-Ws") == 0) {
			master_opt_W(a[2] == 's');
		} else if (strcmp(a, "-S") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "proxyd: option -S needs a socket address (e.g. /run/proxyd-master.sock)\n");
				return 1;
			}
			if (master_opt_S(argv[i]) < 0)
				return 1;
		} else {
			fprintf(stderr, "proxyd: unknown option '%s'\n", a);
			usage(stderr);
			return 1;
		}
	}
	if (!nfiles) {
		fprintf(stderr, "proxyd: no configuration file given (use -f <file>)\n");
		usage(stderr);
		return 1;
	}

	if (!check)
		master_env_init(argc, argv);
	int err = cfg_parse_files(files, nfiles);
	if (!(err & ERR_FATAL))
		err |= cfg_post_parse();
	free(files);

	if (err & ERR_FATAL) {
		ha_alert("config : Fatal errors found in configuration.");
		if (master_reexeced())
			master_wait_mode("configuration errors");
		cfg_deinit();
		return 1;
	}
	if (check) {
		int quiet = global.mode & MODE_QUIET;
		if (diag_warnings && !quiet)
			printf("Warnings were found.\n");
		if (err & ERR_ABORT) {
			if (!quiet)
				printf("Configuration file has no error but will not start (no listener) => exit(2).\n");
			cfg_deinit();
			return 2;
		}
		if (!quiet)
			printf("Configuration file is valid\n");
		cfg_deinit();
		return 0;
	}
	if (err & ERR_ABORT) {
		ha_alert("config : no listener: nothing to do, exiting (declare a 'bind' line).");
		if (master_reexeced())
			master_wait_mode("no listener");
		cfg_deinit();
		return 1;
	}

	if (start(argv[0], &opt)) {
		/* a reloading master keeps its old workers serving */
		if (master_reexeced())
			master_wait_mode("startup failed");
		listeners_close_all();
		cli_stop();
		threads_deinit();
		cfg_deinit();
		return 1;
	}
	checks_start(threads[0].loop);
	/* before any traffic, once the checks and the clock exist */
	server_state_load();
	cli_start(threads[0].loop);
	signals_start(threads[0].loop);
	global.start_ms = th_now_ms(&threads[0]);
	ha_diag("proxyd %s started, maxconn %d", proxyd_version, global.maxconn);
	/* a reloaded worker has no old process of its own to stop: the
	 * master does it */
	if (!master_enabled() || !master_reexeced_worker())
		process_signal_old(opt.old_pids, opt.nb_old, opt.old_sig);
	process_ready();
	master_worker_ready(threads[0].loop);
	threads_run();
	master_worker_deinit();
	signals_stop();
	cli_stop();
	checks_stop();
	threads_deinit();
	cfg_deinit();
	return 0;
}
