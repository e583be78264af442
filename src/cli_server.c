/* Admin socket commands on servers and limits: states, weights, health,
 * addresses, maxconn, sessions, counters, and "show servers state" (also
 * the format of a server-state file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/addr.h>
#include <proxyd/check.h>
#include <proxyd/cli.h>
#include <proxyd/global.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/srv_admin.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

static enum cli_ret err_or_done(struct cli_ctx *c, int rc, const char *err)
{
	return rc < 0 ? cli_err(c, err) : CLI_DONE;
}

static enum cli_ret cmd_set_server(struct cli_ctx *c)
{
	char err[256] = "";
	static const char usage[] =
		"usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | "
		"check-port | fqdn | health | ssl | state | weight\n";

	if (c->nargs < 3)
		return cli_err(c, "Require 'backend/server'.\n");
	struct server *srv = cli_find_server(c, c->args[2]);
	if (!srv)
		return CLI_DONE;
	if (c->nargs < 5)
		return cli_err(c, usage);
	const char *what = c->args[3], *v = c->args[4];
	if (!strcmp(what, "state")) {
		if (!strcmp(v, "ready"))
			srv_adm_set_state(srv, SRV_ADM_READY);
		else if (!strcmp(v, "drain"))
			srv_adm_set_state(srv, SRV_ADM_DRAIN);
		else if (!strcmp(v, "maint"))
			srv_adm_set_state(srv, SRV_ADM_MAINT);
		else
			return cli_err(c, "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n");
		return CLI_DONE;
	}
	if (!strcmp(what, "weight"))
		return err_or_done(c, srv_adm_set_weight(srv, v, err, sizeof(err)), err);
	if (!strcmp(what, "health"))
		return err_or_done(c, srv_adm_set_health(srv, v, err, sizeof(err)), err);
	if (!strcmp(what, "addr")) {
		const char *port = NULL;
		if (c->nargs >= 7 && !strcmp(c->args[5], "port"))
			port = c->args[6];
		int rc = srv_adm_set_addr(srv, v, port, err, sizeof(err));
		return rc != 0 ? cli_msg(c, err) : CLI_DONE;
	}
	if (!strcmp(what, "maxconn"))
		return err_or_done(c, srv_adm_set_maxconn(srv, v, err, sizeof(err)), err);
	if (!strcmp(what, "check-port")) {
		char *end;
		long p = strtol(v, &end, 10);
		if (*end || p < 1 || p > 65535)
			return cli_err(c, "'set server <srv> check-port' expects an integer as argument.\n");
		srv->c.ck.port = (int)p;
		return CLI_DONE;
	}
	if (!strcmp(what, "agent") || !strcmp(what, "agent-addr") || !strcmp(what, "agent-port") ||
	    !strcmp(what, "agent-send") || !strcmp(what, "fqdn") || !strcmp(what, "ssl") ||
	    !strcmp(what, "check-addr"))
		return cli_err(c, "This setting is not supported yet by proxyd.\n");
	return cli_err(c, usage);
}

static enum cli_ret cmd_enable_disable_server(struct cli_ctx *c)
{
	if (c->nargs < 3)
		return cli_err(c, "Require 'backend/server'.\n");
	struct server *srv = cli_find_server(c, c->args[2]);
	if (srv)
		srv_adm_set_state(srv, c->args[0][0] == 'e' ? SRV_ADM_READY : SRV_ADM_MAINT);
	return CLI_DONE;
}

static enum cli_ret cmd_health(struct cli_ctx *c)
{
	if (c->nargs < 3)
		return cli_err(c, "Require 'backend/server'.\n");
	struct server *srv = cli_find_server(c, c->args[2]);
	if (!srv)
		return CLI_DONE;
	if (!srv->c.ck.enabled)
		return cli_err(c, "Health checks are not enabled on this server.\n");
	srv_adm_pause_checks(srv, c->args[0][0] == 'd');
	return CLI_DONE;
}

static enum cli_ret cmd_get_weight(struct cli_ctx *c)
{
	if (c->nargs < 3)
		return cli_err(c, "Require 'backend/server'.\n");
	struct server *srv = cli_find_server(c, c->args[2]);
	if (srv)
		cli_printf(c, "%d (initial %d)\n", srv->uweight, srv->c.weight);
	return CLI_DONE;
}

static enum cli_ret cmd_set_weight(struct cli_ctx *c)
{
	char err[256] = "";

	if (c->nargs < 4)
		return cli_err(c, "Require 'backend/server' and 'weight' or 'weight%'.\n");
	struct server *srv = cli_find_server(c, c->args[2]);
	if (!srv)
		return CLI_DONE;
	return err_or_done(c, srv_adm_set_weight(srv, c->args[3], err, sizeof(err)), err);
}

static enum cli_ret cmd_set_maxconn(struct cli_ctx *c)
{
	char err[256] = "";

	if (c->nargs < 3)
		return cli_err(c, "Required arguments: 'frontend', 'server' or 'global'.\n");
	const char *what = c->args[2];
	if (!strcmp(what, "server")) {
		if (c->nargs < 5)
			return cli_err(c, "Require 'backend/server' and a value.\n");
		struct server *srv = cli_find_server(c, c->args[3]);
		if (!srv)
			return CLI_DONE;
		return err_or_done(c, srv_adm_set_maxconn(srv, c->args[4], err, sizeof(err)), err);
	}
	if (!strcmp(what, "frontend")) {
		if (c->nargs < 5)
			return cli_err(c, "A frontend name and a value are expected.\n");
		struct proxy *fe = cli_find_proxy(c->args[3], PR_CAP_FE);
		if (!fe)
			return cli_err(c, "No such frontend.\n");
		long v = strtol(c->args[4], NULL, 10);
		if (v < 0)
			return cli_err(c, "Value out of range.\n");
		fe->c.maxconn = (int)v;
		return CLI_DONE;
	}
	if (!strcmp(what, "global")) {
		if (c->nargs < 4)
			return cli_err(c, "Expects an integer value.\n");
		char *end;
		long v = strtol(c->args[3], &end, 10);
		if (*end || v <= 0)
			return cli_err(c, "Value out of range.\n");
		global.maxconn = (int)v;
		return CLI_DONE;
	}
	return cli_err(c, "'set maxconn' only supports 'frontend', 'server', and 'global'.\n");
}

static enum cli_ret cmd_shutdown_sessions(struct cli_ctx *c)
{
	if (c->nargs < 4 || strcmp(c->args[2], "server"))
		return cli_err(c, "Require 'server' and 'backend/server'.\n");
	struct server *srv = cli_find_server(c, c->args[3]);
	if (srv)
		srv_adm_shutdown_sessions(srv);
	return CLI_DONE;
}

static enum cli_ret cmd_shutdown_session(struct cli_ctx *c)
{
	if (c->nargs < 3)
		return cli_err(c, "Session pointer expected (use 'show sess').\n");
	unsigned long want = strtoul(c->args[2], NULL, 16);
	for (int t = 0; t < global.nbthread; t++) {
		struct stream *s;
		int found = 0;
		/* its thread's lock keeps it alive until it has the message */
		if (threads_multi())
			pthread_mutex_lock(&threads[t].streams_lock);
		list_for_each(s, &threads[t].streams, list) {
			if ((unsigned long)(uintptr_t)s != want)
				continue;
			stream_kill(s, TERM_KILLED, PHASE_DATA);
			found = 1;
			break;
		}
		if (threads_multi())
			pthread_mutex_unlock(&threads[t].streams_lock);
		if (found)
			return CLI_DONE;
	}
	return cli_err(c, "No such session (use 'show sess').\n");
}

static enum cli_ret cmd_clear_counters(struct cli_ctx *c)
{
	int all = c->nargs >= 3 && !strcmp(c->args[2], "all");
	struct proxy *px;
	struct server *srv;

	if (all && c->level < CLI_LVL_ADMIN)
		return cli_err(c, "Permission denied\n");
	list_for_each(px, &proxies, list) {
		px->fe_max = px->feconn;
		px->be_max = px->beconn;
		px->max_queued = px->nb_queued;
		if (all) {
			memset(px->fe_counters, 0, (size_t)global.nbthread * sizeof(*px->fe_counters));
			memset(px->be_counters, 0, (size_t)global.nbthread * sizeof(*px->be_counters));
		}
		if (!(px->cap & PR_CAP_BE))
			continue;
		list_for_each(srv, &px->servers, list) {
			srv->max_served = srv->served;
			if (all) {
				memset(srv->counters, 0, (size_t)global.nbthread * sizeof(*srv->counters));
				srv->chk_fail = srv->chk_down = 0;
			}
		}
	}
	if (all)
		global.cum_conns = global.cum_req = 0;
	return CLI_DONE;
}

/* "show servers state [<backend>]": version 1 of HAProxy's format. */
static enum cli_ret cmd_show_servers_state(struct cli_ctx *c)
{
	struct proxy *only = NULL, *px;
	long *done = &c->pos[0];   /* server lines already written */
	long n = 0;

	if (c->nargs >= 4) {
		only = cli_find_proxy(c->args[3], PR_CAP_BE);
		if (!only)
			return cli_err(c, "Can't find backend.\n");
	}
	if (*done == 0) {
		if (cli_printf(c, "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
		               "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
		               "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
		               "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
		               "srv_agent_port\n") < 0)
			return CLI_MORE;
		*done = 1;
	}
	uint64_t now = threads ? th_now_ms(&threads[0]) : 0;
	list_for_each(px, &proxies, list) {
		struct server *srv;
		if (!(px->cap & PR_CAP_BE) || (only && px != only))
			continue;
		list_for_each(srv, &px->servers, list) {
			if (++n < *done)
				continue;
			char host[64];
			const struct check *ck = &srv->check;
			int res = !srv->c.ck.enabled ? 0 : ck->status == CHK_ST_INI ? 0 :
			          chk_status_result(ck->status) == 2 ? 4 : chk_status_result(ck->status) ? 3 : 2;
			int chk_state = srv->c.ck.enabled ? 0x02 | (ck->paused ? 0x08 : 0x04) | (ck->running ? 0x01 : 0) : 0;
			if (cli_printf(c, "%d %s %d %s %s %d %u %d %d %lu %d %d %d %d 0 0 0 - %d - 0 %d - - 0\n", px->uuid, px->id,
			               srv->puid, srv->id, addr_host_str((struct sockaddr *)&srv->addr, host, sizeof(host)),
			               (int)srv->state, srv->admin, srv->uweight, srv->c.weight,
			               (unsigned long)(now > srv->last_change_ms && srv->last_change_ms ?
			                               (now - srv->last_change_ms) / 1000 : 0),
			               (int)ck->status, res, ck->health, chk_state,
			               addr_port((struct sockaddr *)&srv->addr), srv->c.ck.port) < 0)
				return CLI_MORE;
			*done = n + 1;
		}
	}
	return CLI_DONE;
}

static const struct cli_cmd server_cmds[] = {
	{ { "set", "server" }, "set server <bk>/<srv> [opts]", "change a server's state, weight, address or health",
	  CLI_LVL_ADMIN, cmd_set_server },
	{ { "disable", "server" }, "disable server (DEPRECATED)", "disable a server for maintenance (use 'set server' "
	  "instead)", CLI_LVL_ADMIN, cmd_enable_disable_server },
	{ { "enable", "server" }, "enable server (DEPRECATED)", "enable a disabled server (use 'set server' instead)",
	  CLI_LVL_ADMIN, cmd_enable_disable_server },
	{ { "disable", "health" }, "disable health", "disable health checking", CLI_LVL_ADMIN, cmd_health },
	{ { "enable", "health" }, "enable health", "enable health checking", CLI_LVL_ADMIN, cmd_health },
	{ { "get", "weight" }, "get weight <bk>/<srv>", "report a server's current weight", CLI_LVL_USER,
	  cmd_get_weight },
	{ { "set", "weight" }, "set weight <bk>/<srv> (DEPRECATED)", "change a server's weight (use 'set server' "
	  "instead)", CLI_LVL_ADMIN, cmd_set_weight },
	{ { "set", "maxconn" }, "set maxconn [frontend|server|global]", "change a maxconn setting", CLI_LVL_ADMIN,
	  cmd_set_maxconn },
	{ { "shutdown", "sessions" }, "shutdown sessions server <bk>/<srv>", "kill sessions on a server",
	  CLI_LVL_ADMIN, cmd_shutdown_sessions },
	{ { "shutdown", "session" }, "shutdown session [id]", "kill a specific session", CLI_LVL_ADMIN,
	  cmd_shutdown_session },
	{ { "clear", "counters" }, "clear counters [all]", "clear max statistics counters (or all counters)",
	  CLI_LVL_OPER, cmd_clear_counters },
	{ { "show", "servers", "state" }, "show servers state [<backend>]", "dump volatile server information "
	  "(all or for a single backend)", CLI_LVL_USER, cmd_show_servers_state },
	{ { NULL } }
};

CLI_REGISTER(server_cmds);
