/* Certificate stores: loading PEM files (and directories of them), the
 * names a certificate serves, and run-time replacement with commit. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <proxyd/ssl_crt.h>
#include <proxyd/ssl_sock.h>

static struct list stores = LIST_HEAD_INIT(stores);

void ckch_data_free(struct ckch_data *d)
{
	X509_free(d->cert);
	sk_X509_pop_free(d->chain, X509_free);
	EVP_PKEY_free(d->key);
	for (int i = 0; i < d->nb_names; i++)
		free(d->names[i]);
	free(d->names);
	memset(d, 0, sizeof(*d));
}

int ckch_slot(const struct ckch_data *d)
{
	return d->key && EVP_PKEY_get_base_id(d->key) == EVP_PKEY_EC;
}

static int add_name(struct ckch_data *d, const char *name, size_t len)
{
	if (!len || len > SNI_NAME_MAX || memchr(name, 0, len))
		return 0;   /* not a usable host name: ignored, as HAProxy */
	for (int i = 0; i < d->nb_names; i++)
		if (strlen(d->names[i]) == len && strncasecmp(d->names[i], name, len) == 0)
			return 0;
	char **n = realloc(d->names, (size_t)(d->nb_names + 1) * sizeof(*n));
	if (!n)
		return -1;
	d->names = n;
	if (!(n[d->nb_names] = strndup(name, len)))
		return -1;
	d->nb_names++;
	return 0;
}

/* SNI names of a certificate: its subjectAltName DNS entries and the
 * common name(s) of its subject, as HAProxy takes both. */
static int collect_names(struct ckch_data *d)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(d->cert, NID_subject_alt_name, NULL, NULL);
	int rc = 0;

	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type == GEN_DNS)
			rc |= add_name(d, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
			               (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(sans);
	X509_NAME *subj = X509_get_subject_name(d->cert);
	for (int i = -1; (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0;) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, s);
		if (n > 0)
			rc |= add_name(d, (const char *)utf8, (size_t)n);
		OPENSSL_free(utf8);
	}
	return rc;
}

static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 16384;
			if (cap > 16 * 1024 * 1024) {
				snprintf(err, errlen, "'%s' is too large for a certificate file", path);
				goto fail;
			}
			char *b = realloc(buf, cap);
			if (!b) {
				snprintf(err, errlen, "out of memory reading '%s'", path);
				goto fail;
			}
			buf = b;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(buf);
	return -1;
}

int ckch_parse(const char *pem, size_t len, const char *keypath, struct ckch_data *out, char *err,
               size_t errlen)
{
	char why[256];
	BIO *bio;

	memset(out, 0, sizeof(*out));
	ERR_clear_error();
	/* the key may be anywhere in the file: PEM readers skip other blocks;
	 * whether there is one at all is told by its armour (OpenSSL 3's
	 * decoders report a missing key as "unsupported") */
	if (memmem(pem, len, "PRIVATE KEY-----", 16)) {
		bio = BIO_new_mem_buf(pem, (int)len);
		if (!bio)
			goto oom;
		out->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (!out->key) {
			snprintf(err, errlen, "unable to load the private key: %s",
			         ssl_last_error("invalid key", why, sizeof(why)));
			goto fail;
		}
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		goto oom;
	out->cert = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	if (!out->cert) {
		BIO_free(bio);
		unsigned long e = ERR_peek_last_error();
		if (!e || ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
			snprintf(err, errlen, "no certificate found (a PEM block 'BEGIN CERTIFICATE' is expected)");
		else
			snprintf(err, errlen, "unable to load the certificate: %s",
			         ssl_last_error("invalid certificate", why, sizeof(why)));
		ERR_clear_error();
		goto fail;
	}
	out->chain = sk_X509_new_null();
	if (!out->chain) {
		BIO_free(bio);
		goto oom;
	}
	X509 *ca;
	while ((ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		if (!sk_X509_push(out->chain, ca)) {
			X509_free(ca);
			BIO_free(bio);
			goto oom;
		}
	unsigned long e = ERR_peek_last_error();
	BIO_free(bio);
	if (e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		snprintf(err, errlen, "unable to load the certificate chain: %s",
		         ssl_last_error("invalid certificate", why, sizeof(why)));
		goto fail;
	}
	ERR_clear_error();

	if (!out->key && keypath) {
		/* HAProxy's convention: the key may be in "<crt>.key" */
		char *kbuf;
		size_t klen;
		char kerr[512];
		if (read_file(keypath, &kbuf, &klen, kerr, sizeof(kerr)) == 0) {
			bio = BIO_new_mem_buf(kbuf, (int)klen);
			out->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
			BIO_free(bio);
			free(kbuf);
			if (!out->key) {
				snprintf(err, errlen, "unable to load the private key from '%s': %s", keypath,
				         ssl_last_error("invalid key", why, sizeof(why)));
				goto fail;
			}
		}
	}
	if (!out->key) {
		snprintf(err, errlen, "no private key found (put it in the same PEM file%s%s)",
		         keypath ? " or in " : "", keypath ? keypath : "");
		goto fail;
	}
	if (!X509_check_private_key(out->cert, out->key)) {
		snprintf(err, errlen, "the private key does not match the certificate (%s)",
		         ssl_last_error("key values mismatch", why, sizeof(why)));
		goto fail;
	}
	if (collect_names(out) < 0)
		goto oom;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	ERR_clear_error();
	ckch_data_free(out);
	return -1;
}

static struct ckch *ckch_find(const char *path)
{
	struct ckch *c;

	list_for_each(c, &stores, list)
		if (strcmp(c->path, path) == 0)
			return c;
	return NULL;
}

struct ckch *ckch_load(const char *path, char *err, size_t errlen)
{
	struct ckch *c = ckch_find(path);
	char *pem, *keypath = NULL, e2[512];
	size_t len;

	if (c)
		return c;
	if (read_file(path, &pem, &len, err, errlen) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c || asprintf(&keypath, "%s.key", path) < 0 || !(c->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ckch_parse(pem, len, keypath, &c->d, e2, sizeof(e2)) < 0) {
		snprintf(err, errlen, "unable to load SSL certificate from PEM file '%s': %s", path, e2);
		goto fail;
	}
	free(keypath);
	OPENSSL_cleanse(pem, len);
	free(pem);
	list_append(&stores, &c->list);
	return c;
fail:
	OPENSSL_cleanse(pem, len);
	free(pem);
	free(keypath);
	if (c)
		free(c->path);
	free(c);
	return NULL;
}

int ckch_add_inst(struct ckch *c, struct ssl_inst *in)
{
	if (c->nb_insts == c->cap_insts) {
		int cap = c->cap_insts ? c->cap_insts * 2 : 4;
		struct ssl_inst **n = realloc(c->insts, (size_t)cap * sizeof(*n));
		if (!n)
			return -1;
		c->insts = n;
		c->cap_insts = cap;
	}
	c->insts[c->nb_insts++] = in;
	return 0;
}

static int skip_entry(const char *name)
{
	static const char *const companions[] = { ".key", ".ocsp", ".issuer", ".sctl", NULL };
	size_t n = strlen(name);

	if (name[0] == '.')
		return 1;
	for (const char *const *s = companions; *s; s++) {
		size_t l = strlen(*s);
		if (n > l && strcmp(name + n - l, *s) == 0)
			return 1;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ckch_load_dir(const char *dir, int (*fn)(struct ckch *c, void *arg), void *arg, char *err,
                  size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	int nb = 0, rc = 0;

	if (!d) {
		snprintf(err, errlen, "cannot open directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (skip_entry(de->d_name))
			continue;
		char **n = realloc(names, (size_t)(nb + 1) * sizeof(*n));
		if (!n || !(n[nb] = strdup(de->d_name))) {
			names = n ? n : names;
			rc = -1;
			snprintf(err, errlen, "out of memory");
			break;
		}
		names = n;
		nb++;
	}
	closedir(d);
	if (names)
		qsort(names, (size_t)nb, sizeof(*names), name_cmp);
	for (int i = 0; i < nb && rc == 0; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		struct ckch *c = ckch_load(path, err, errlen);
		if (!c || fn(c, arg) < 0)
			rc = -1;
	}
	for (int i = 0; i < nb; i++)
		free(names[i]);
	free(names);
	if (rc == 0 && nb == 0) {
		snprintf(err, errlen, "directory '%s' holds no certificate file", dir);
		rc = -1;
	}
	return rc;
}

void ckch_free_all(void)
{
	struct ckch *c, *tmp;

	list_for_each_safe(c, tmp, &stores, list) {
		list_del_init(&c->list);
		ckch_data_free(&c->d);
		if (c->pending) {
			ckch_data_free(c->pending);
			free(c->pending);
		}
		free(c->insts);
		free(c->path);
		free(c);
	}
}

/*------------------------------------------------------------------------
 * Run-time replacement
 */
int ssl_crt_replace(const char *path, const char *pem, size_t len, char *err, size_t errlen)
{
	struct ckch *c = ckch_find(path);
	struct ckch_data *d;
	char why[512];

	if (!c) {
		snprintf(err, errlen, "'%s' is not a certificate loaded by the configuration "
		         "(only those can be replaced)", path);
		return -1;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* no ".key" fallback: the new content must be complete */
	if (ckch_parse(pem, len, NULL, d, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "'%s': %s", path, why);
		free(d);
		return -1;
	}
	/* an instance holds one RSA and one ECDSA certificate: a new key
	 * type must not collide with the other certificate it sits next to */
	int slot = ckch_slot(d), old = ckch_slot(&c->d);
	for (int i = 0; slot != old && i < c->nb_insts; i++) {
		if (c->insts[i]->crt[slot]) {
			snprintf(err, errlen, "'%s': the new key type would replace '%s', which serves the same "
			         "names; keep the key type", path, c->insts[i]->crt[slot]->path);
			ckch_data_free(d);
			free(d);
			return -1;
		}
	}
	if (c->pending) {
		ckch_data_free(c->pending);
		free(c->pending);
	}
	c->pending = d;
	return 0;
}

int ssl_crt_abort(const char *path)
{
	struct ckch *c = ckch_find(path);

	if (!c || !c->pending)
		return -1;
	ckch_data_free(c->pending);
	free(c->pending);
	c->pending = NULL;
	return 0;
}

int ssl_crt_commit(const char *path, char *err, size_t errlen)
{
	struct ckch *c = ckch_find(path);
	SSL_CTX **fresh;
	int n;

	if (!c || !c->pending) {
		snprintf(err, errlen, "no pending replacement for '%s' (use ssl_crt_replace first)", path);
		return -1;
	}
	n = c->nb_insts;
	fresh = calloc((size_t)(n ? n : 1), sizeof(*fresh));
	if (!fresh) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* all new contexts first: either every instance switches, or none */
	for (int i = 0; i < n; i++) {
		fresh[i] = ssl_inst_new_ctx(c->insts[i], c, c->pending, err, errlen);
		if (!fresh[i]) {
			for (int j = 0; j < i; j++)
				SSL_CTX_free(fresh[j]);
			free(fresh);
			ssl_crt_abort(path);
			return -1;
		}
	}
	int old_slot = ckch_slot(&c->d), new_slot = ckch_slot(c->pending);
	ckch_data_free(&c->d);
	c->d = *c->pending;
	free(c->pending);
	c->pending = NULL;
	for (int i = 0; i < n; i++) {
		struct ssl_inst *in = c->insts[i];
		if (old_slot != new_slot) {
			in->crt[old_slot] = NULL;
			in->crt[new_slot] = c;
		}
		/* connections in progress hold a reference to the old one */
		SSL_CTX_free(in->ctx);
		in->ctx = fresh[i];
		ssl_inst_index_names(in);
	}
	free(fresh);
	return 0;
}
