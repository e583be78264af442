/* The stats page's state, shared by its HTTP service (stats_http.c) and
 * its HTML renderer (stats_html.c). It lives in the transaction's service
 * area, so it must stay small (HTTP_SVC_CTX_SIZE). */
#ifndef PROXYD_STATS_PAGE_H
#define PROXYD_STATS_PAGE_H

#include <proxyd/stats.h>

enum stats_fmt { STATS_FMT_HTML = 0, STATS_FMT_CSV, STATS_FMT_JSON };

struct stats_page {
	struct stats_cursor cur;
	const struct stats_conf *sc;
	const struct proxy *px;          /* the proxy serving the page */
	const struct proxy *table_px;    /* HTML: proxy whose table is open */
	unsigned char fmt;               /* STATS_FMT_* */
	unsigned char html_phase;
	char st[6];                      /* ";st=" result code of an admin action */
};

/* Writes as much of the HTML page as <write> accepts: 1 when complete. */
int stats_html_dump(struct stats_page *pg, stats_write_fn write, void *arg);

#endif
