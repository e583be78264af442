/* TLS option keywords shared by bind lines, crt-list lines, server lines
 * and the global ssl-default-*-options (src/cfg_ssl.c), and the crt-list
 * line splitter (src/ssl_crtlist.c). */
#ifndef PROXYD_SSL_CFG_H
#define PROXYD_SSL_CFG_H

#include <stddef.h>

struct cfg_ctx;
struct ssl_opts;

/* Where an option is allowed. */
enum {
	SSLKW_BIND    = 1 << 0,
	SSLKW_CRTLIST = 1 << 1,
	SSLKW_SRV     = 1 << 2,
	SSLKW_DEFBIND = 1 << 3,   /* ssl-default-bind-options */
	SSLKW_DEFSRV  = 1 << 4,   /* ssl-default-server-options */
};

/* Applies the option at args[0] (with its arguments, args[0..nargs))
 * to <o>. Returns the number of words used, or -1 after cfg_alert(). */
int ssl_opt_parse(struct cfg_ctx *ctx, unsigned where, const char *what, struct ssl_opts *o, char **args,
                  int nargs);

/* A relative path under ca-base / crt-base (config arena). */
const char *ssl_path(const char *base, const char *path);

/* One line of a crt-list file: "<crt> [<option> ...] [[!]<filter> ...]". */
#define CRTLIST_MAX_OPTS    64
#define CRTLIST_MAX_FILTERS 256
struct crtlist_line {
	char *crt;
	char *opts[CRTLIST_MAX_OPTS];
	int nb_opts;
	char *filters[CRTLIST_MAX_FILTERS];
	int nb_filters;
};

/* Splits <line> (modified in place: words are NUL-terminated within it).
 * Returns 1 for an entry, 0 for a blank or comment line, -1 with a message
 * in <err>. */
int crtlist_parse_line(char *line, struct crtlist_line *out, char *err, size_t errlen);

#endif
