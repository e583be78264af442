/* "add server" and "del server" on the admin socket (srv_dyn.c does the
 * work). HAProxy 2.6 ends some of their answers without the empty line
 * (the lookups, the balancer refusal, everything "del server" says) and
 * others with it (the other "add server" answers); the same here, so that
 * scripts reading its answers read ours. */
#include <proxyd/cli.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/srv_dyn.h>

/* The backend of "<backend>/<server>" (argument 2) and the server's
 * name; NULL after HAProxy's lookup error, which ends without the empty
 * line. */
static struct proxy *target_backend(struct cli_ctx *c, const char **sname)
{
	c->no_eol = 1;
	struct proxy *be = cli_find_backend_of(c, c->nargs > 2 ? c->args[2] : NULL, sname);
	if (be)
		c->no_eol = 0;
	return be;
}

/* add server <backend>/<server> <addr>[:<port>] [options...] */
static enum cli_ret cmd_add_server(struct cli_ctx *c)
{
	const char *sname;
	char err[1024];
	struct proxy *be = target_backend(c, &sname);

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
	char err[256];

	c->no_eol = 1;   /* every answer of HAProxy 2.6's "del server" */
	struct server *srv = cli_find_server(c, c->nargs > 2 ? c->args[2] : NULL);
	if (!srv)
		return CLI_DONE;
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
