/* unique-id-format / unique-id-header: an identifier built once per
 * request from a log-format string (for instance the client, the date and
 * a counter), added to the request for the servers, printed by %ID in the
 * logs and fetched by unique-id. */
#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/http.h>
#include <proxyd/log.h>
#include <proxyd/logformat.h>
#include <proxyd/pool.h>
#include <proxyd/proxy.h>
#include <proxyd/sample.h>
#include <proxyd/stream.h>

/* HAProxy's limit: longer identifiers are cut */
#define UNIQUE_ID_LEN 128

static struct pool uid_pool;

static int parse_uid_format(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	struct logformat *lf = cfg_alloc(sizeof(*lf));
	char err[512];

	if (nargs > 1) {
		cfg_alert(ctx, "'unique-id-format' expects one argument: put the format in double quotes");
		return -1;
	}
	if (logformat_parse(args[0], lf, err, sizeof(err)) < 0) {
		cfg_alert(ctx, "'unique-id-format': %s", err);
		return -1;
	}
	ctx->px->c.uid_fmt = lf;
	if (!uid_pool.name)
		pool_init(&uid_pool, "unique ids", UNIQUE_ID_LEN + 1, 256);
	uid_pool.shared = 1;
	return 0;
}

static int parse_uid_header(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	ctx->px->c.uid_hdr = cfg_strdup(args[0]);
	return 0;
}

static const struct cfg_kw uid_kws[] = {
	{ "unique-id-format", CFG_SEC_FE, 1, -1, parse_uid_format, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0, "<format>" },
	{ "unique-id-header", CFG_SEC_FE, 1, 1, parse_uid_header, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0, "<name>" },
	{ NULL }
};

CFG_REGISTER(uid_kws);

/* Builds the identifier of the request, if the frontend has a format. */
const char *unique_id_get(struct stream *s)
{
	struct http_txn *txn = s->txn;

	if (!txn || !s->fe->c.uid_fmt)
		return NULL;
	if (!txn->unique_id) {
		char *id = pool_alloc(&uid_pool);
		if (!id)
			return NULL;
		size_t n = logformat_build(s->fe->c.uid_fmt, s, id, UNIQUE_ID_LEN, LF_EMPTY_MISSING);
		id[n] = 0;
		txn->unique_id = id;
	}
	return txn->unique_id;
}

void unique_id_request(struct stream *s)
{
	const char *id = unique_id_get(s);
	const char *h = s->fe->c.uid_hdr;

	if (id && h)
		http_hdr_add(&s->txn->req, h, strlen(h), id, strlen(id));
}

void unique_id_free(struct http_txn *txn)
{
	if (txn->unique_id) {
		pool_free(&uid_pool, txn->unique_id);
		txn->unique_id = NULL;
	}
}

static int smp_fetch_unique_id(const struct arg *args, struct sample *smp, struct stream *s,
                               const struct sample_fetch *kw)
{
	const char *id = unique_id_get(s);

	if (!id)
		return 0;
	smp->type = SMP_T_STR;
	smp->flags |= SMP_F_CONST;
	smp->data.str.ptr = id;
	smp->data.str.len = strlen(id);
	return 1;
}

static const struct sample_fetch uid_fetches[] = {
	/* built with the request, kept for the response rules and the log */
	{ "unique-id", smp_fetch_unique_id, ARG0, NULL, SMP_T_STR, SMP_USE_INT },
	{ NULL }
};

REGISTER_TABLE(smp_fetches, uid_fetches);
