/* crt-list files: one certificate per line, with its own TLS options in
 * brackets and the server names it serves (filters), e.g.
 *     certs/site.pem [alpn http/1.1 ssl-min-ver TLSv1.3] www.site.com *.site.com !old.site.com
 * Each line becomes one instance of the bind line. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/listener.h>
#include <proxyd/ssl_cfg.h>
#include <proxyd/ssl_crt.h>
#include <proxyd/ssl_sock.h>

int crtlist_parse_line(char *line, struct crtlist_line *out, char *err, size_t errlen)
{
	char *words[1 + CRTLIST_MAX_OPTS + CRTLIST_MAX_FILTERS + 2];
	int nb = 0;
	char *p = line;

	memset(out, 0, sizeof(*out));
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			*p++ = 0;
		if (!*p || *p == '#')
			break;
		if (nb == (int)ARRAY_SIZE(words)) {
			snprintf(err, errlen, "too many words on the line (at most %d options and %d filters)",
			         CRTLIST_MAX_OPTS, CRTLIST_MAX_FILTERS);
			return -1;
		}
		words[nb++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
	}
	*p = 0;
	if (!nb)
		return 0;
	out->crt = words[0];
	if (out->crt[0] == '[') {
		snprintf(err, errlen, "the line must start with the certificate file, before '[options]'");
		return -1;
	}
	int i = 1;
	if (i < nb && words[i][0] == '[') {
		int closed = 0;
		words[i]++;   /* "[alpn" or "[" alone */
		for (; i < nb && !closed; i++) {
			char *w = words[i];
			size_t l = strlen(w);
			if (l && w[l - 1] == ']') {
				w[--l] = 0;
				closed = 1;
			}
			if (strchr(w, '[') || strchr(w, ']')) {
				snprintf(err, errlen, "unexpected bracket in '%s' (one '[...]' block of options only)", w);
				return -1;
			}
			if (!l)
				continue;
			if (out->nb_opts == CRTLIST_MAX_OPTS) {
				snprintf(err, errlen, "too many options (at most %d words)", CRTLIST_MAX_OPTS);
				return -1;
			}
			out->opts[out->nb_opts++] = w;
		}
		if (!closed) {
			snprintf(err, errlen, "missing ']' after the options");
			return -1;
		}
	}
	for (; i < nb; i++) {
		char *w = words[i];
		if (strchr(w, '[') || strchr(w, ']')) {
			snprintf(err, errlen, "unexpected bracket in '%s' (options go right after the certificate)", w);
			return -1;
		}
		if (out->nb_filters == CRTLIST_MAX_FILTERS) {
			snprintf(err, errlen, "too many SNI filters (at most %d)", CRTLIST_MAX_FILTERS);
			return -1;
		}
		out->filters[out->nb_filters++] = w;
	}
	return 1;
}

struct ssl_inst *ssl_inst_add(struct bind_ssl *bs, struct ckch *c, const struct ssl_opts *opts,
                              char **filters, int nb_filters, const char *file, int line);

int ssl_crtlist_load(struct cfg_ctx *ctx, struct bind_ssl *bs, const char *path)
{
	FILE *f = fopen(path, "r");
	struct cfg_ctx lctx = *ctx;
	struct crtlist_line cl;
	char line[8192], err[1024];
	int ret = 0, entries = 0;

	if (!f) {
		cfg_alert(ctx, "'bind %s' : 'crt-list %s' : cannot open the file: %s", bs->bc->arg, path,
		          strerror(errno));
		return -1;
	}
	/* errors point into the crt-list itself */
	lctx.file = cfg_strdup(path);
	lctx.line = 0;
	while (fgets(line, sizeof(line), f)) {
		lctx.line++;
		if (!strchr(line, '\n') && !feof(f)) {
			cfg_alert(&lctx, "line too long (at most %d characters)", (int)sizeof(line) - 2);
			ret = -1;
			break;
		}
		int r = crtlist_parse_line(line, &cl, err, sizeof(err));
		if (r < 0) {
			cfg_alert(&lctx, "%s", err);
			ret = -1;
			continue;
		}
		if (!r)
			continue;
		struct ssl_opts o;
		memset(&o, 0, sizeof(o));
		int bad = 0;
		for (int i = 0; i < cl.nb_opts && !bad;) {
			int used = ssl_opt_parse(&lctx, SSLKW_CRTLIST, "crt-list", &o, cl.opts + i, cl.nb_opts - i);
			if (used < 0)
				bad = 1;
			else
				i += used;
		}
		const char *crt = ssl_path(ssl_global.crt_base, cl.crt);
		struct ckch *c = bad ? NULL : ckch_load(crt, err, sizeof(err));
		if (!bad && !c) {
			cfg_alert(&lctx, "%s", err);
			bad = 1;
		}
		char **filters = NULL;
		if (!bad && cl.nb_filters) {
			filters = cfg_alloc((size_t)cl.nb_filters * sizeof(*filters));
			for (int i = 0; i < cl.nb_filters; i++) {
				const char *n = cl.filters[i] + (cl.filters[i][0] == '!');
				if (!*n || (strchr(n, '*') && (n[0] != '*' || n[1] != '.' || !n[2] || strchr(n + 1, '*')))) {
					cfg_alert(&lctx, "invalid SNI filter '%s' (a name, '*.domain' or '!name' is expected)",
					          cl.filters[i]);
					bad = 1;
					break;
				}
				filters[i] = cfg_strdup(cl.filters[i]);
			}
		}
		if (bad) {
			ret = -1;
			continue;
		}
		if (!ssl_inst_add(bs, c, &o, filters, filters ? cl.nb_filters : 0, lctx.file, lctx.line)) {
			cfg_alert(&lctx, "out of memory");
			ret = -1;
			continue;
		}
		entries++;
	}
	fclose(f);
	ctx->err |= lctx.err;
	if (!ret && !entries) {
		cfg_alert(ctx, "'bind %s' : 'crt-list %s' : the list has no certificate", bs->bc->arg, path);
		ret = -1;
	}
	return ret;
}
