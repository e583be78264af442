/* "add server" and "del server" on the admin socket (srv_dyn.c does the
 * work). HAProxy 2.6 ends some of their answers without the empty line
 * (the lookups, the balancer refusal, everything "del server" says) and
 * others with it (the other "add server" answers); the same here, so that
 * scripts reading its answers read ours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/cli.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/srv_dyn.h>

/* "<backend>/<server>": the backend, and the server name in <sname>, or
 * NULL after HAProxy's error. */
static struct proxy *split_target(struct cli_ctx *c, const char *arg, const char **sname)
{
	char be_name[256];
	const char *slash = arg ? strchr(arg, '/') : NULL;

	if (!slash || (size_t)(slash - arg) >= sizeof(be_name)) {
		cli_err_noeol(c, "Require 'backend/server'.\n");
		return NULL;
	}
	memcpy(be_name, arg, (size_t)(slash - arg));
	be_name[slash - arg] = 0;
	struct proxy *be = cli_find_proxy(be_name, PR_CAP_BE);
	if (!be) {
		cli_err_noeol(c, "No such backend.\n");
		return NULL;
	}
	*sname = slash + 1;
	return be;
}

/* add server <backend>/<server> <addr>[:<port>] [options...] */
static enum cli_ret cmd_add_server(struct cli_ctx *c)
{
	const char *sname;
	char err[1024];
	struct proxy *be = split_target(c, c->nargs > 2 ? c->args[2] : NULL, &sname);

	if (!be)
		return CLI_DONE;
	const char *refusal = srv_dyn_refusal(be);
	if (refusal)
		return cli_err_noeol(c, refusal);
	err[0] = 0;
	if (!srv_dyn_add(be, sname, c->nargs > 3 ? c->args[3] : NULL, c->args + 4, c->nargs > 4 ? c->nargs - 4 : 0,
	                 err, sizeof(err)))
		return cli_err(c, err);
	return cli_msg(c, "New server registered.\n");
}

/* del server <backend>/<server> */
static enum cli_ret cmd_del_server(struct cli_ctx *c)
{
	const char *sname;
	char err[256];
	struct server *srv;
	struct proxy *be = split_target(c, c->nargs > 2 ? c->args[2] : NULL, &sname);

	if (!be)
		return CLI_DONE;
	list_for_each(srv, &be->servers, list)
		if (sname[0] == '#' ? srv->puid == atoi(sname + 1) : !strcmp(srv->id, sname))
			break;
	if (&srv->list == &be->servers)
		return cli_err_noeol(c, "No such server.\n");
	if (srv_dyn_del(srv, err, sizeof(err)) < 0)
		return cli_err_noeol(c, err);
	return cli_err_noeol(c, "Server deleted.\n");
}

static const struct cli_cmd dynsrv_cmds[] = {
	{ { "add", "server" }, "add server <bk>/<srv> <addr>:<port>", "create a new server (in maintenance; "
	  "options of a server line)", CLI_LVL_ADMIN, cmd_add_server },
	{ { "del", "server" }, "del server <bk>/<srv>", "remove a server in maintenance with no connection",
	  CLI_LVL_ADMIN, cmd_del_server },
	{ { NULL } }
};

CLI_REGISTER(dynsrv_cmds);
