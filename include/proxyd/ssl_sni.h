/* Server names of TLS certificates: the table a TLS bind line looks the
 * client's SNI up in, and the name matching rules (exact names and
 * "*.example.com" wildcards covering exactly one label). Pure code with no
 * OpenSSL dependency, so that it can be unit-tested alone. */
#ifndef PROXYD_SSL_SNI_H
#define PROXYD_SSL_SNI_H

#include <stddef.h>

/* Longest server name kept (RFC 1035 limit). */
#define SNI_NAME_MAX 255

struct sni_entry {
	char *key;        /* lower case; for "*.example.com" the key is ".example.com" */
	int wildcard;
	int neg;          /* "!name" in a crt-list: excludes the name for <val> */
	unsigned order;   /* declaration order: the first declared wins */
	void *val;
};

struct sni_table {
	struct sni_entry *e;
	int nb, cap;
	int sorted;
	unsigned next_order;
};

/* Does certificate name <pattern> ("www.example.com", "*.example.com")
 * cover server name <name>? Case-insensitive; a wildcard stands for one
 * whole, non-empty label, in first position only. */
int sni_name_match(const char *pattern, const char *name);

/* Adds <pattern> (with a leading '!' when <neg>) for <val>. Returns 0, or
 * -1 when the pattern is empty, too long or its wildcard is misplaced
 * (only "*." followed by a name is accepted), or memory is short. */
int sni_table_add(struct sni_table *t, const char *pattern, int neg, void *val);
/* The value serving <name>: an exact name first, then a wildcard, the
 * first declared among equals, skipping values that exclude the name with
 * a negative filter. NULL when nothing matches. */
void *sni_table_lookup(struct sni_table *t, const char *name);
/* Removes every entry of <val>. */
void sni_table_remove(struct sni_table *t, const void *val);
void sni_table_free(struct sni_table *t);

#endif
