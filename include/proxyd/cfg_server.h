/* "server" and "default-server" options: each module that gives servers a
 * new option registers a table of these. */
#ifndef PROXYD_CFG_SERVER_H
#define PROXYD_CFG_SERVER_H

#include <proxyd/registry.h>

struct cfg_ctx;
struct server;
struct srv_conf;

enum {
	SRV_KW_DEFAULT_OK = 1 << 0,   /* allowed on default-server lines */
};

struct srv_kw {
	const char *name;
	int nargs;                    /* argument words after the option name */
	/* <srv> is NULL on a default-server line. 0 or -1 after cfg_alert(). */
	int (*parse)(struct cfg_ctx *ctx, struct srv_conf *sc, struct server *srv, char **args);
	unsigned flags;
};

extern struct registry srv_kws;
#define SRV_KW_REGISTER(tbl)  REGISTER_TABLE(srv_kws, tbl)

/* Server options known from HAProxy but not implemented yet. */
extern struct registry srv_unsupported_kws;   /* tables of const char * (NULL-terminated) */

/* Applies the options args[0..nargs) to <sc> (and <srv>, NULL for
 * default-server) with the registered keywords; <what> prefixes messages
 * ("'server be/s1'"), "" for none. 0, or -1 after cfg_alert(). */
int srv_parse_options(struct cfg_ctx *ctx, const char *what, struct srv_conf *sc, struct server *srv,
                      char **args, int nargs);

#endif
