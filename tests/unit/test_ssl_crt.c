/* Unit tests for certificate loading and run-time replacement
 * (src/ssl_crt.c, src/ssl_ctx.c): a configuration with a TLS bind line is
 * read, then ssl_crt_replace() / ssl_crt_commit() swap the certificate;
 * the names served change, a connection started before keeps its context,
 * and bad input leaves everything as it was. Certificates are made with
 * the OpenSSL API (no files but the one the configuration names). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>
#include <proxyd/ssl_crt.h>
#include <proxyd/ssl_sock.h>

static char captured[8192];
static char path[256];

/* A self-signed certificate for <cn> (also its SAN), key included, as PEM. */
static char *make_pem(const char *cn, int rsa, size_t *len)
{
	EVP_PKEY *key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	X509 *x = X509_new();
	char san[300];

	assert_non_null(key);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	snprintf(san, sizeof(san), "DNS:%s", cn);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	char *p;
	long l = BIO_get_mem_data(b, &p);
	char *out = malloc((size_t)l + 1);
	memcpy(out, p, (size_t)l);
	out[l] = 0;
	*len = (size_t)l;
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(key);
	return out;
}

static struct bind_ssl *load(const char *first_cn)
{
	char cfg[1024];
	size_t len;
	char *pem = make_pem(first_cn, 0, &len);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fwrite(pem, 1, len, f);
	fclose(f);
	free(pem);
	snprintf(cfg, sizeof(cfg),
	         "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n"
	         "frontend fe\n  bind 127.0.0.1:0 ssl crt %s alpn h2,http/1.1\n", path);
	assert_int_equal(cfg_parse_string("t", cfg) & ERR_FATAL, 0);
	assert_int_equal(cfg_post_parse() & ERR_FATAL, 0);
	struct proxy *fe = proxy_find("fe", PR_CAP_FE);
	assert_non_null(fe);
	struct bind_conf *bc = list_first(&fe->binds, struct bind_conf, list);
	assert_non_null(bc->ssl);
	assert_non_null(bc->ssl->def);
	return bc->ssl;
}

static int setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/proxyd-unit-crt-%d.pem", (int)getpid());
	diag_capture(captured, sizeof(captured));
	return 0;
}

static int teardown(void **state)
{
	cfg_deinit();
	diag_capture(NULL, 0);
	unlink(path);
	return 0;
}

static void test_replace_and_commit(void **state)
{
	struct bind_ssl *bs = load("old.test");
	struct ssl_inst *in = bs->def;
	SSL_CTX *before = in->ctx;
	char err[512];
	size_t len;

	assert_ptr_equal(sni_table_lookup(&bs->sni, "old.test"), in);
	assert_null(sni_table_lookup(&bs->sni, "new.test"));
	/* a connection in progress holds the old context */
	SSL *ssl = SSL_new(before);
	assert_non_null(ssl);

	char *pem = make_pem("new.test", 0, &len);
	assert_int_equal(ssl_crt_replace(path, pem, len, err, sizeof(err)), 0);
	/* nothing changes before the commit */
	assert_ptr_equal(in->ctx, before);
	assert_ptr_equal(sni_table_lookup(&bs->sni, "old.test"), in);
	assert_int_equal(ssl_crt_commit(path, err, sizeof(err)), 0);
	assert_ptr_not_equal(in->ctx, before);
	assert_ptr_equal(sni_table_lookup(&bs->sni, "new.test"), in);
	assert_null(sni_table_lookup(&bs->sni, "old.test"));

	X509 *now = SSL_CTX_get0_certificate(in->ctx);
	char cn[64];
	X509_NAME_get_text_by_NID(X509_get_subject_name(now), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "new.test");
	/* the old context stays valid for the connection that uses it */
	X509 *old = SSL_get_certificate(ssl);
	X509_NAME_get_text_by_NID(X509_get_subject_name(old), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "old.test");
	SSL_free(ssl);

	/* committing again needs a new replacement */
	assert_int_equal(ssl_crt_commit(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no pending replacement"));
	free(pem);
}

static void test_key_type_change(void **state)
{
	struct bind_ssl *bs = load("ec.test");
	char err[512];
	size_t len;
	char *pem = make_pem("rsa.test", 1, &len);

	assert_int_equal(ssl_crt_replace(path, pem, len, err, sizeof(err)), 0);
	assert_int_equal(ssl_crt_commit(path, err, sizeof(err)), 0);
	assert_null(bs->def->crt[1]);
	assert_non_null(bs->def->crt[0]);
	assert_ptr_equal(sni_table_lookup(&bs->sni, "rsa.test"), bs->def);
	free(pem);
}

static void test_refused(void **state)
{
	struct bind_ssl *bs = load("keep.test");
	SSL_CTX *before = bs->def->ctx;
	char err[512];
	size_t len;
	char *pem = make_pem("x.test", 0, &len);

	assert_int_equal(ssl_crt_replace("/not/loaded.pem", pem, len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a certificate loaded"));
	const char *garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	assert_int_equal(ssl_crt_replace(path, garbage, strlen(garbage), err, sizeof(err)), -1);
	/* a certificate without its key */
	char *cut = strstr(pem, "-----BEGIN PRIVATE KEY-----");
	assert_non_null(cut);
	assert_int_equal(ssl_crt_replace(path, pem, (size_t)(cut - pem), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no private key"));
	/* the certificate of one key with another key */
	size_t len2;
	char *other = make_pem("y.test", 0, &len2);
	char mixed[16384];
	size_t certlen = (size_t)(cut - pem);
	char *okey = strstr(other, "-----BEGIN PRIVATE KEY-----");
	memcpy(mixed, pem, certlen);
	memcpy(mixed + certlen, okey, strlen(okey));
	assert_int_equal(ssl_crt_replace(path, mixed, certlen + strlen(okey), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));
	assert_ptr_equal(bs->def->ctx, before);
	assert_ptr_equal(sni_table_lookup(&bs->sni, "keep.test"), bs->def);
	/* abort drops a pending one */
	assert_int_equal(ssl_crt_replace(path, pem, len, err, sizeof(err)), 0);
	assert_int_equal(ssl_crt_abort(path), 0);
	assert_int_equal(ssl_crt_abort(path), -1);
	assert_int_equal(ssl_crt_commit(path, err, sizeof(err)), -1);
	free(pem);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replace_and_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_type_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
