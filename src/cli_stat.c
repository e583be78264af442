/* "show stat" on the admin socket: HAProxy's CSV (or its JSON), all rows
 * or those of one proxy / object type / server, written row by row as the
 * client reads. */
#include <stdlib.h>
#include <string.h>

#include <proxyd/cli.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>
#include <proxyd/stats.h>
#include <proxyd/thread.h>

struct stat_dump {
	struct stats_cursor cur;
	int started;
	int json;
	int typed;
	int in_row;              /* typed: a row is being written... */
	int col;                 /* ...from this column */
	unsigned char obj;
	const struct proxy *px;
	const struct server *srv;
	int iid;                 /* -1: every proxy */
	int types;               /* bits 1 frontend, 2 backend, 4 server */
	int sid;                 /* -1: every server */
};

static int cli_sink(void *arg, const char *data, size_t len)
{
	return cli_write(arg, data, len);
}

/* "show stat [{<iid>|<name>} <type> <sid>] [typed|json|up|no-maint]" */
static int parse_filters(struct cli_ctx *c, struct stat_dump *d, unsigned *flags)
{
	int i = 2;

	d->iid = -1;
	d->types = 7;
	d->sid = -1;
	if (c->nargs >= 5 && strcmp(c->args[2], "typed") && strcmp(c->args[2], "json") && strcmp(c->args[2], "up") &&
	    strcmp(c->args[2], "no-maint")) {
		const struct proxy *px = cli_find_proxy(c->args[2], PR_CAP_FE | PR_CAP_BE);
		char *end;
		long id = strtol(c->args[2], &end, 10);
		if (!*end)
			d->iid = (int)id;
		else if (px)
			d->iid = px->uuid;
		else {
			cli_printf(c, "No such proxy.\n");
			return -1;
		}
		d->types = atoi(c->args[3]);
		d->sid = atoi(c->args[4]);
		i = 5;
	}
	for (; i < c->nargs; i++) {
		if (!strcmp(c->args[i], "json"))
			d->json = 1;
		else if (!strcmp(c->args[i], "up"))
			*flags |= STATS_F_UP;
		else if (!strcmp(c->args[i], "no-maint"))
			*flags |= STATS_F_NO_MAINT;
		else if (!strcmp(c->args[i], "typed"))
			d->typed = 1;
		else if (!strcmp(c->args[i], "desc")) {
			cli_printf(c, "'show stat %s' is not supported yet by proxyd (use the CSV or json).\n", c->args[i]);
			return -1;
		}
	}
	return 0;
}

static int wanted(const struct stat_dump *d, enum stats_obj obj, const struct proxy *px, const struct server *srv)
{
	int bit = obj == STATS_FE ? 1 : obj == STATS_BE ? 2 : 4;

	if (d->iid >= 0 && px->uuid != d->iid)
		return 0;
	if (d->types >= 0 && !(d->types & bit))
		return 0;
	return !(srv && d->sid >= 0 && srv->puid != d->sid);
}

/* The next row the filters of "show stat" want; 0 at the end. */
static int next_wanted(struct stat_dump *d, enum stats_obj *obj, const struct proxy **px, const struct server **srv)
{
	while (stats_next_row(&d->cur, obj, px, srv))
		if (wanted(d, *obj, *px, *srv))
			return 1;
	return 0;
}

/* One line per field: a row is written over several calls when the
 * output fills up (it is filled again from where it stopped). */
static enum cli_ret dump_typed(struct cli_ctx *c, struct stat_dump *d)
{
	uint64_t now = th_now_ms(curr_th ? curr_th : &threads[0]);
	struct stats_row row;
	char line[1024];

	for (;;) {
		if (!d->in_row) {
			enum stats_obj obj;
			const struct proxy *px;
			const struct server *srv;
			if (!next_wanted(d, &obj, &px, &srv))
				return CLI_DONE;
			d->in_row = 1;
			d->col = 0;
			d->obj = (unsigned char)obj;
			d->px = px;
			d->srv = srv;
		}
		stats_fill(&row, (enum stats_obj)d->obj, d->px, d->srv, d->cur.flags, now);
		for (; d->col < ST_F_HAPROXY_END; d->col++) {
			size_t n = stats_typed_line(&row, d->col, line, sizeof(line));
			if (n && cli_write(c, line, n) < 0)
				return CLI_MORE;
		}
		d->in_row = 0;
	}
}

static enum cli_ret cmd_show_stat(struct cli_ctx *c)
{
	struct stat_dump *d = (struct stat_dump *)c->st.raw;
	char line[4096];
	struct stats_row row;

	_Static_assert(sizeof(struct stat_dump) <= sizeof(c->st.raw), "CLI state too small for show stat");
	if (!d->started) {
		/* the legend columns (address, cookie, algorithm) are not for
		 * read-only sessions, as HAProxy */
		unsigned flags = c->level >= CLI_LVL_OPER ? STATS_F_LEGENDS : 0;
		if (parse_filters(c, d, &flags) < 0)
			return CLI_DONE;
		stats_cursor_init(&d->cur, flags, NULL);
		d->started = 1;
	}
	if (d->json)
		return stats_json_dump(&d->cur, cli_sink, c) ? CLI_DONE : CLI_MORE;
	if (d->typed)
		return dump_typed(c, d);
	if (d->started == 1) {
		size_t n = stats_csv_header(d->cur.flags, line, sizeof(line));
		if (cli_write(c, line, n) < 0)
			return CLI_MORE;
		d->started = 2;
	}
	uint64_t now = th_now_ms(curr_th ? curr_th : &threads[0]);
	for (;;) {
		struct stats_cursor save = d->cur;
		enum stats_obj obj;
		const struct proxy *px;
		const struct server *srv;
		if (!next_wanted(d, &obj, &px, &srv))
			return CLI_DONE;
		stats_fill(&row, obj, px, srv, d->cur.flags, now);
		size_t n = stats_csv_line(&row, d->cur.flags, line, sizeof(line));
		if (n && cli_write(c, line, n) < 0) {
			d->cur = save;
			return CLI_MORE;
		}
	}
}

static const struct cli_cmd stat_cmds[] = {
	{ { "show", "stat" }, "show stat [typed|json|up|no-maint]", "report counters for each proxy and server (CSV, "
	  "typed or json)", CLI_LVL_USER, cmd_show_stat },
	{ { NULL } }
};

CLI_REGISTER(stat_cmds);
