/* Proxy objects: creation from a defaults section, lookup by name. */
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/global.h>
#include <proxyd/lb.h>
#include <proxyd/proxy.h>

struct list proxies = LIST_HEAD_INIT(proxies);
static struct list defaults_list = LIST_HEAD_INIT(defaults_list);

/* Built-in values, what a section gets without any defaults section
 * (HAProxy's: mode tcp, 3 retries, http-reuse safe, roundrobin). */
static void proxy_conf_builtin(struct proxy_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = PR_MODE_TCP;
	c->retries = 3;
	c->reuse = HTTP_REUSE_SAFE;
	c->fwdfor_hdr = "X-Forwarded-For";
	c->lb = lb_find("roundrobin");
	c->defsrv.weight = 1;
	c->defsrv.ck.inter = 2000;
	c->defsrv.ck.rise = 2;
	c->defsrv.ck.fall = 3;
}

struct proxy *proxy_alloc(const char *name, unsigned cap, const char *file, int line,
                          const struct proxy *defpx);
struct proxy *proxy_alloc(const char *name, unsigned cap, const char *file, int line,
                          const struct proxy *defpx)
{
	struct proxy *px = cfg_alloc(sizeof(*px));

	px->id = cfg_strdup(name ? name : "");
	px->cap = cap;
	px->conf_file = file;
	px->conf_line = line;
	if (defpx)
		px->c = defpx->c;
	else
		proxy_conf_builtin(&px->c);
	list_init(&px->binds);
	list_init(&px->listeners);
	list_init(&px->switching_rules);
	list_init(&px->http_req_rules);
	list_init(&px->http_res_rules);
	list_init(&px->redirect_rules);
	list_init(&px->persist_rules);
	list_init(&px->sticking_rules);
	list_init(&px->storersp_rules);
	list_init(&px->servers);
	list_init(&px->queue);
	if (cap & PR_CAP_DEF)
		list_append(&defaults_list, &px->list);
	else
		list_append(&proxies, &px->list);
	return px;
}

struct proxy *defaults_find(const char *name);
struct proxy *defaults_find(const char *name)
{
	struct proxy *px, *found = NULL;

	/* the last one of that name wins, as sections are read in order */
	list_for_each(px, &defaults_list, list)
		if (strcmp(px->id, name) == 0)
			found = px;
	return found;
}

struct proxy *proxy_find(const char *name, unsigned cap)
{
	struct proxy *px;

	list_for_each(px, &proxies, list)
		if ((!cap || (px->cap & cap)) && strcmp(px->id, name) == 0)
			return px;
	return NULL;
}

struct server *proxy_find_server(const struct proxy *be, const char *name)
{
	struct server *srv;

	list_for_each(srv, &be->servers, list)
		if (strcmp(srv->id, name) == 0)
			return srv;
	return NULL;
}

/* Drops every proxy (the memory itself belongs to the config arena). */
void proxies_forget(void);
void proxies_forget(void)
{
	list_init(&proxies);
	list_init(&defaults_list);
}
