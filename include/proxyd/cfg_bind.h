/* Options of "bind" lines: modules that add one (TLS, PROXY protocol...)
 * register a table of these. */
#ifndef PROXYD_CFG_BIND_H
#define PROXYD_CFG_BIND_H

#include <proxyd/registry.h>

struct cfg_ctx;
struct bind_conf;

struct bind_kw {
	const char *name;
	int nargs;
	int (*parse)(struct cfg_ctx *ctx, struct bind_conf *bc, char **args);
};

extern struct registry bind_kws;
#define BIND_KW_REGISTER(tbl)  REGISTER_TABLE(bind_kws, tbl)

#endif
