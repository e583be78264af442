/* Counters handed from a worker to the next one at a master-worker reload,
 * so that the statistics do not start again from zero. The old worker
 * writes them with the internal CLI command "_show counters" (hidden from
 * help); the new worker adds them to its own, matching proxies and servers
 * by name. Format, one object a line, values in struct px_counters order:
 *   # proxyd counters 1 <number of values>
 *   fe <proxy> <v1> <v2> ...
 *   be <proxy> <v1> ...
 *   srv <backend>/<server> <v1> ...
 * A line whose count of values differs from the header's is ignored (a
 * binary with other counters may be reloaded over this one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/cli.h>
#include <proxyd/counters.h>
#include <proxyd/global.h>
#include <proxyd/master.h>
#include <proxyd/proxy.h>
#include <proxyd/server.h>

static int print_line(struct cli_ctx *c, const char *kind, const char *name, const char *name2,
                      const struct px_counters *per_thread)
{
	struct px_counters sum;
	char line[8192];
	const uint64_t *v = (const uint64_t *)&sum;

	counters_sum(&sum, per_thread, global.nbthread);
	int n = snprintf(line, sizeof(line), "%s %s%s%s", kind, name, name2 ? "/" : "", name2 ? name2 : "");
	for (size_t i = 0; i < COUNTERS_NB_FIELDS && n > 0 && (size_t)n < sizeof(line) - 24; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %llu", (unsigned long long)v[i]);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return 0;
	line[n++] = '\n';
	return cli_write(c, line, (size_t)n);
}

static enum cli_ret cmd_show_counters(struct cli_ctx *c)
{
	long *done = &c->pos[0];   /* objects already written, +1 for the header */
	long n = 0;
	struct proxy *px;
	struct server *srv;

	if (*done == 0) {
		if (cli_printf(c, "# proxyd counters 1 %zu\n", (size_t)COUNTERS_NB_FIELDS) < 0)
			return CLI_MORE;
		*done = 1;
	}
	list_for_each(px, &proxies, list) {
		if ((px->cap & PR_CAP_FE) && px->fe_counters && ++n >= *done) {
			if (print_line(c, "fe", px->id, NULL, px->fe_counters) < 0)
				return CLI_MORE;
			*done = n + 1;
		}
		if ((px->cap & PR_CAP_BE) && px->be_counters && ++n >= *done) {
			if (print_line(c, "be", px->id, NULL, px->be_counters) < 0)
				return CLI_MORE;
			*done = n + 1;
		}
		if (!(px->cap & PR_CAP_BE))
			continue;
		list_for_each(srv, &px->servers, list) {
			if (!srv->counters || ++n < *done)
				continue;
			if (print_line(c, "srv", px->id, srv->id, srv->counters) < 0)
				return CLI_MORE;
			*done = n + 1;
		}
	}
	return CLI_DONE;
}

static const struct cli_cmd counters_cmds[] = {
	/* no help text: internal, for the master */
	{ { "_show", "counters" }, "_show counters", NULL, CLI_LVL_ADMIN, cmd_show_counters },
	{ { NULL } },
};
CLI_REGISTER(counters_cmds);

static struct px_counters *target_of(const char *kind, char *name)
{
	if (!strcmp(kind, "fe")) {
		struct proxy *px = proxy_find(name, PR_CAP_FE);
		return px ? px->fe_counters : NULL;
	}
	if (!strcmp(kind, "be")) {
		struct proxy *px = proxy_find(name, PR_CAP_BE);
		return px ? px->be_counters : NULL;
	}
	if (!strcmp(kind, "srv")) {
		char *slash = strchr(name, '/');
		if (!slash)
			return NULL;
		*slash = 0;
		struct proxy *px = proxy_find(name, PR_CAP_BE);
		struct server *srv = px ? proxy_find_server(px, slash + 1) : NULL;
		*slash = '/';
		return srv ? srv->counters : NULL;
	}
	return NULL;
}

int counters_apply_text(const char *buf, size_t len)
{
	char *text = malloc(len + 1), *save = NULL;
	size_t nfields = 0;
	int applied = 0;

	if (!text)
		return 0;
	memcpy(text, buf, len);
	text[len] = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# proxyd counters 1 ", 20)) {
			nfields = (size_t)strtoul(line + 20, NULL, 10);
			continue;
		}
		if (nfields != COUNTERS_NB_FIELDS)
			continue;   /* no header yet, or another layout */
		char *s2 = NULL;
		char *kind = strtok_r(line, " ", &s2), *name = strtok_r(NULL, " ", &s2);
		if (!kind || !name)
			continue;
		uint64_t v[COUNTERS_NB_FIELDS];
		size_t i = 0;
		for (char *w; i < COUNTERS_NB_FIELDS && (w = strtok_r(NULL, " ", &s2)); i++)
			v[i] = strtoull(w, NULL, 10);
		if (i != COUNTERS_NB_FIELDS)
			continue;
		struct px_counters *t = target_of(kind, name);
		if (!t)
			continue;   /* gone from the new configuration */
		/* added to the first thread's copy: readers sum all copies */
		uint64_t *dst = (uint64_t *)&t[0];
		for (i = 0; i < COUNTERS_NB_FIELDS; i++)
			dst[i] += v[i];
		applied++;
	}
	free(text);
	return applied;
}
