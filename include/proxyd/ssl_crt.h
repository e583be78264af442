/* Certificate files: each file is loaded once ("store"), whatever the
 * number of bind lines or crt-lists naming it, and knows the SSL_CTX
 * instances built from it, so that replacing it at run time rebuilds
 * exactly those.
 *
 * Run-time replacement (for the admin socket's "set ssl cert" and
 * "commit ssl cert"): ssl_crt_replace() parses and checks new PEM content
 * into a pending slot without touching traffic; ssl_crt_commit() builds a
 * new context for every instance and swaps them all, or none; connections
 * in progress keep the context they started with. Both must run on the
 * thread owning the event loop (they are not locked). */
#ifndef PROXYD_SSL_CRT_H
#define PROXYD_SSL_CRT_H

#include <stddef.h>
#include <openssl/ssl.h>

#include <proxyd/list.h>

struct ssl_inst;

struct ckch_data {
	X509 *cert;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
	char **names;                 /* DNS names of the SAN, then the CN(s) */
	int nb_names;
};

struct ckch {
	struct list list;             /* all stores */
	char *path;
	struct ckch_data d;
	struct ckch_data *pending;    /* ssl_crt_replace() waiting for commit */
	struct ssl_inst **insts;      /* contexts built from it */
	int nb_insts, cap_insts;
};

/* Loads <path> (certificate, chain and key in one PEM file, or the key in
 * "<path>.key"), or returns the store already loaded. NULL with a message
 * naming the file and OpenSSL's reason in <err>. */
struct ckch *ckch_load(const char *path, char *err, size_t errlen);
/* Parses PEM text: the first certificate, the chain after it, the first
 * private key (else "<keypath>" when given). 0 or -1 with <err>. */
int ckch_parse(const char *pem, size_t len, const char *keypath, struct ckch_data *out, char *err,
               size_t errlen);
void ckch_data_free(struct ckch_data *d);
/* 1 for an ECDSA key (slot 1 of an instance), 0 for the others. */
int ckch_slot(const struct ckch_data *d);
int ckch_add_inst(struct ckch *c, struct ssl_inst *in);
/* Loads every certificate file of a directory in name order (hidden
 * files and .key/.ocsp/.issuer/.sctl companions skipped): calls <fn> for
 * each. Returns 0 or -1 with <err>. */
int ckch_load_dir(const char *dir, int (*fn)(struct ckch *c, void *arg), void *arg, char *err,
                  size_t errlen);
void ckch_free_all(void);

/* Run-time replacement; 0 or -1 with <err>. */
int ssl_crt_replace(const char *path, const char *pem, size_t len, char *err, size_t errlen);
int ssl_crt_commit(const char *path, char *err, size_t errlen);
/* Drops a pending replacement; 0, or -1 when there is none. */
int ssl_crt_abort(const char *path);

/* Built by ssl_ctx.c: a new context for <in> with, in place of the
 * store <swap_from>'s content, <swap_to> (both NULL: as loaded). */
SSL_CTX *ssl_inst_new_ctx(struct ssl_inst *in, const struct ckch *swap_from, const struct ckch_data *swap_to,
                          char *err, size_t errlen);
/* Re-registers the SNI names of <in> in its bind's table. */
int ssl_inst_index_names(struct ssl_inst *in);

#endif
