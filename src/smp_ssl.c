/* TLS sample fetches of the client connection: ssl_fc* (the connection),
 * ssl_c_* (the client certificate). Values that live in the SSL object are
 * returned in place (constant while the connection lives); built ones go
 * to the scratch buffers. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <proxyd/acl.h>
#include <proxyd/sample.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/stream.h>

/* The client connection's SSL object, once the handshake is over. */
static SSL *cli_ssl(struct stream *s)
{
	if (!conn_is_ssl(&s->cli) || (s->cli.flags & CO_FL_HANDSHAKE))
		return NULL;
	return s->cli.xprt_ctx;
}

static int set_const(struct sample *smp, const char *p, size_t len)
{
	smp->type = SMP_T_STR;
	smp->flags |= SMP_F_CONST;
	smp->data.str.ptr = p;
	smp->data.str.len = len;
	return 1;
}

static int set_bool(struct sample *smp, int v)
{
	smp->type = SMP_T_BOOL;
	smp->data.sint = v;
	return 1;
}

static int smp_fetch_ssl_fc(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw)
{
	return set_bool(smp, conn_is_ssl(&s->cli));
}

static int smp_fetch_has_sni(const struct arg *args, struct sample *smp, struct stream *s,
                             const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);
	return set_bool(smp, ssl && SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
}

static int smp_fetch_is_resumed(const struct arg *args, struct sample *smp, struct stream *s,
                                const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);
	return ssl && set_bool(smp, SSL_session_reused(ssl));
}

enum { FC_SNI, FC_PROTO, FC_CIPHER, FC_ALPN };

static int smp_fetch_fc_str(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);
	const char *v = NULL;
	unsigned int len = 0;
	const unsigned char *alpn;

	if (!ssl)
		return 0;
	switch (kw->priv) {
	case FC_SNI:
		v = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		break;
	case FC_PROTO:
		v = SSL_get_version(ssl);
		break;
	case FC_CIPHER:
		v = SSL_get_cipher_name(ssl);
		break;
	case FC_ALPN:
		SSL_get0_alpn_selected(ssl, &alpn, &len);
		return len ? set_const(smp, (const char *)alpn, len) : 0;
	}
	return v ? set_const(smp, v, strlen(v)) : 0;
}

static int smp_fetch_c_used(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);
	return ssl && set_bool(smp, SSL_get0_peer_certificate(ssl) != NULL);
}

static int smp_fetch_c_verify(const struct arg *args, struct sample *smp, struct stream *s,
                              const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);

	if (!ssl)
		return 0;
	smp->type = SMP_T_SINT;
	/* X509_V_OK (0) when no certificate was presented, as HAProxy */
	smp->data.sint = SSL_get0_peer_certificate(ssl) ? SSL_get_verify_result(ssl) : 0;
	return 1;
}

static int smp_fetch_c_serial(const struct arg *args, struct sample *smp, struct stream *s,
                              const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);
	X509 *crt = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	const ASN1_INTEGER *sn = crt ? X509_get0_serialNumber(crt) : NULL;

	if (!sn)
		return 0;
	smp->type = SMP_T_BIN;
	smp->flags |= SMP_F_CONST;
	smp->data.str.ptr = (const char *)ASN1_STRING_get0_data(sn);
	smp->data.str.len = (size_t)ASN1_STRING_length(sn);
	return 1;
}

static int smp_fetch_ssl_bc(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw)
{
	return set_bool(smp, s->sc && conn_is_ssl(s->sc));
}

enum { FC_USE_KEYSIZE, FC_ALG_KEYSIZE };

static int smp_fetch_keysize(const struct arg *args, struct sample *smp, struct stream *s,
                             const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);
	int alg = 0, use;

	if (!ssl)
		return 0;
	use = SSL_get_cipher_bits(ssl, &alg);
	smp->type = SMP_T_SINT;
	smp->data.sint = kw->priv == FC_ALG_KEYSIZE ? alg : use;
	return 1;
}

static int smp_fetch_session_id(const struct arg *args, struct sample *smp, struct stream *s,
                                const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);
	SSL_SESSION *sess = ssl ? SSL_get_session(ssl) : NULL;
	unsigned int len = 0;
	const unsigned char *id = sess ? SSL_SESSION_get_id(sess, &len) : NULL;

	if (!id || !len)
		return 0;
	smp->type = SMP_T_BIN;
	smp->flags |= SMP_F_CONST;
	smp->data.str.ptr = (const char *)id;
	smp->data.str.len = len;
	return 1;
}

static X509 *cli_cert(struct stream *s)
{
	SSL *ssl = cli_ssl(s);
	return ssl ? SSL_get0_peer_certificate(ssl) : NULL;
}

static int smp_fetch_c_sha1(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw)
{
	X509 *crt = cli_cert(s);
	struct trash *t;
	unsigned int n = 0;

	if (!crt)
		return 0;
	t = smp_trash();
	if (t->size < EVP_MAX_MD_SIZE || !X509_digest(crt, EVP_sha1(), (unsigned char *)t->area, &n))
		return 0;
	smp->type = SMP_T_BIN;
	smp->data.str.ptr = t->area;
	smp->data.str.len = n;
	return 1;
}

/* ssl_c_notbefore / ssl_c_notafter: the dates as the certificate writes
 * them, "YYMMDDhhmmssZ" (UTCTime). */
static int smp_fetch_c_date(const struct arg *args, struct sample *smp, struct stream *s,
                            const struct sample_fetch *kw)
{
	X509 *crt = cli_cert(s);
	const ASN1_TIME *tm;

	if (!crt)
		return 0;
	tm = kw->priv ? X509_get0_notAfter(crt) : X509_get0_notBefore(crt);
	return tm && set_const(smp, (const char *)ASN1_STRING_get0_data(tm), (size_t)ASN1_STRING_length(tm));
}

static int smp_fetch_c_version(const struct arg *args, struct sample *smp, struct stream *s,
                               const struct sample_fetch *kw)
{
	X509 *crt = cli_cert(s);

	if (!crt)
		return 0;
	smp->type = SMP_T_SINT;
	smp->data.sint = X509_get_version(crt) + 1;
	return 1;
}

/* "/C=FR/O=Example/CN=www.example.com", as HAProxy prints a DN. */
static int dn_oneline(const X509_NAME *name, struct trash *t)
{
	size_t n = 0;

	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_STRING *d = X509_NAME_ENTRY_get_data(e);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		char oid[80];
		const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
		if (!sn) {
			OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(e), 1);
			sn = oid;
		}
		size_t sl = strlen(sn), dl = (size_t)ASN1_STRING_length(d);
		if (n + sl + dl + 2 > t->size)
			return 0;
		t->area[n++] = '/';
		memcpy(t->area + n, sn, sl);
		n += sl;
		t->area[n++] = '=';
		memcpy(t->area + n, ASN1_STRING_get0_data(d), dl);
		n += dl;
	}
	t->len = n;
	return 1;
}

static int dn_rfc2253(const X509_NAME *name, struct trash *t)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long l;

	if (!b)
		return 0;
	X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
	l = BIO_get_mem_data(b, &p);
	if (l < 0 || (size_t)l > t->size) {
		BIO_free(b);
		return 0;
	}
	memcpy(t->area, p, (size_t)l);
	t->len = (size_t)l;
	BIO_free(b);
	return 1;
}

/* ssl_c_s_dn / ssl_c_i_dn([<entry>[,<occ>[,<format>]]]): the whole DN, or
 * the <occ>th value of <entry> (1 = first, -1 = last). */
static int smp_fetch_c_dn(const struct arg *args, struct sample *smp, struct stream *s,
                          const struct sample_fetch *kw)
{
	SSL *ssl = cli_ssl(s);
	X509 *crt = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	struct trash *t;

	if (!crt)
		return 0;
	const X509_NAME *name = kw->priv ? X509_get_issuer_name(crt) : X509_get_subject_name(crt);
	t = smp_trash();
	if (args[0].type == ARGT_STR && args[0].data.str.len) {
		int nid = OBJ_txt2nid(args[0].data.str.ptr);
		long long occ = args[1].type == ARGT_SINT ? args[1].data.sint : 1;
		int idx[64], nb = 0;
		if (nid == NID_undef)
			return 0;
		for (int i = -1; nb < 64 && (i = X509_NAME_get_index_by_NID((X509_NAME *)name, nid, i)) >= 0;)
			idx[nb++] = i;
		long long k = occ > 0 ? occ - 1 : nb + occ;
		if (!nb || occ == 0 || k < 0 || k >= nb)
			return 0;
		const ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx[k]));
		size_t dl = (size_t)ASN1_STRING_length(d);
		if (dl > t->size)
			return 0;
		memcpy(t->area, ASN1_STRING_get0_data(d), dl);
		t->len = dl;
	} else if (args[2].type == ARGT_STR && strcmp(args[2].data.str.ptr, "rfc2253") == 0) {
		if (!dn_rfc2253(name, t))
			return 0;
	} else if (!dn_oneline(name, t)) {
		return 0;
	}
	smp->type = SMP_T_STR;
	smp->data.str.ptr = t->area;
	smp->data.str.len = t->len;
	return 1;
}

static int check_dn_args(struct arg *args, char *err, size_t errlen)
{
	if (args[0].type == ARGT_STR && args[0].data.str.len && OBJ_txt2nid(args[0].data.str.ptr) == NID_undef) {
		snprintf(err, errlen, "unknown DN entry '%s' (e.g. CN, O, OU, C, emailAddress)", args[0].data.str.ptr);
		return -1;
	}
	if (args[2].type == ARGT_STR && strcmp(args[2].data.str.ptr, "rfc2253") != 0) {
		snprintf(err, errlen, "unknown DN format '%s' (only 'rfc2253')", args[2].data.str.ptr);
		return -1;
	}
	return 0;
}

static const struct sample_fetch ssl_fetches[] = {
	{ "ssl_fc",            smp_fetch_ssl_fc,     ARG0, NULL, SMP_T_BOOL, SMP_USE_L4 },
	{ "ssl_fc_has_sni",    smp_fetch_has_sni,    ARG0, NULL, SMP_T_BOOL, SMP_USE_L4 },
	{ "ssl_fc_is_resumed", smp_fetch_is_resumed, ARG0, NULL, SMP_T_BOOL, SMP_USE_L4 },
	{ "ssl_fc_sni",        smp_fetch_fc_str,     ARG0, NULL, SMP_T_STR,  SMP_USE_L4, FC_SNI },
	{ "ssl_fc_protocol",   smp_fetch_fc_str,     ARG0, NULL, SMP_T_STR,  SMP_USE_L4, FC_PROTO },
	{ "ssl_fc_cipher",     smp_fetch_fc_str,     ARG0, NULL, SMP_T_STR,  SMP_USE_L4, FC_CIPHER },
	{ "ssl_fc_alpn",       smp_fetch_fc_str,     ARG0, NULL, SMP_T_STR,  SMP_USE_L4, FC_ALPN },
	{ "ssl_c_used",        smp_fetch_c_used,     ARG0, NULL, SMP_T_BOOL, SMP_USE_L4 },
	{ "ssl_c_verify",      smp_fetch_c_verify,   ARG0, NULL, SMP_T_SINT, SMP_USE_L4 },
	{ "ssl_c_serial",      smp_fetch_c_serial,   ARG0, NULL, SMP_T_BIN,  SMP_USE_L4 },
	{ "ssl_fc_use_keysize", smp_fetch_keysize, ARG0, NULL, SMP_T_SINT, SMP_USE_L4, FC_USE_KEYSIZE },
	{ "ssl_fc_alg_keysize", smp_fetch_keysize, ARG0, NULL, SMP_T_SINT, SMP_USE_L4, FC_ALG_KEYSIZE },
	{ "ssl_fc_session_id", smp_fetch_session_id, ARG0, NULL, SMP_T_BIN, SMP_USE_L4 },
	{ "ssl_bc",            smp_fetch_ssl_bc,     ARG0, NULL, SMP_T_BOOL, SMP_USE_L4 },
	{ "ssl_c_sha1",        smp_fetch_c_sha1,     ARG0, NULL, SMP_T_BIN,  SMP_USE_L4 },
	{ "ssl_c_notbefore",   smp_fetch_c_date,     ARG0, NULL, SMP_T_STR,  SMP_USE_L4, 0 },
	{ "ssl_c_notafter",    smp_fetch_c_date,     ARG0, NULL, SMP_T_STR,  SMP_USE_L4, 1 },
	{ "ssl_c_version",     smp_fetch_c_version,  ARG0, NULL, SMP_T_SINT, SMP_USE_L4 },
	{ "ssl_c_s_dn",        smp_fetch_c_dn,       ARG3(0, STR, SINT, STR), check_dn_args, SMP_T_STR, SMP_USE_L4, 0 },
	{ "ssl_c_i_dn",        smp_fetch_c_dn,       ARG3(0, STR, SINT, STR), check_dn_args, SMP_T_STR, SMP_USE_L4, 1 },
	{ NULL }
};

SMP_FETCH_REGISTER(ssl_fetches);

/* ACL keywords: the SNI with the matching methods HAProxy predefines. */
static const struct acl_kw ssl_acl_kws[] = {
	{ "ssl_fc_sni_end", "ssl_fc_sni", PAT_MATCH_END },
	{ "ssl_fc_sni_reg", "ssl_fc_sni", PAT_MATCH_REG },
	{ NULL }
};

ACL_KW_REGISTER(ssl_acl_kws);
