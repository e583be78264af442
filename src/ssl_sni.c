/* SNI look-up table of a TLS bind line. Entries are kept in one array
 * sorted by (wildcard, key, declaration order): a look-up is two binary
 * searches, one for the exact name and one for the name without its first
 * label, so a bind with thousands of certificates costs no more per
 * handshake than one with two. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/ssl_sni.h>

static int lower_copy(char *dst, const char *src, size_t max)
{
	size_t n = strlen(src);

	if (n == 0 || n > max)
		return -1;
	for (size_t i = 0; i <= n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	return 0;
}

int sni_name_match(const char *pattern, const char *name)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = strchr(name, '.');
		/* one non-empty label, and something after the wildcard's dot */
		if (!dot || dot == name || !pattern[2])
			return 0;
		return strcasecmp(dot, pattern + 1) == 0;
	}
	return strcasecmp(pattern, name) == 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct sni_entry *x = a, *y = b;
	int r;

	if (x->wildcard != y->wildcard)
		return x->wildcard - y->wildcard;
	r = strcmp(x->key, y->key);
	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

int sni_table_add(struct sni_table *t, const char *pattern, int neg, void *val)
{
	char key[SNI_NAME_MAX + 1];
	int wildcard = 0;

	if (pattern[0] == '*') {
		/* "*.a.b" only: a wildcard elsewhere would not match what
		 * certificate verification accepts either */
		if (pattern[1] != '.' || !pattern[2] || strchr(pattern + 1, '*'))
			return -1;
		wildcard = 1;
		pattern++;
	} else if (strchr(pattern, '*')) {
		return -1;
	}
	if (lower_copy(key, pattern, SNI_NAME_MAX) < 0)
		return -1;
	if (t->nb == t->cap) {
		int cap = t->cap ? t->cap * 2 : 8;
		struct sni_entry *e = realloc(t->e, (size_t)cap * sizeof(*e));
		if (!e)
			return -1;
		t->e = e;
		t->cap = cap;
	}
	char *k = strdup(key);
	if (!k)
		return -1;
	t->e[t->nb++] = (struct sni_entry){ k, wildcard, neg, t->next_order++, val };
	t->sorted = 0;
	return 0;
}

/* Index of the first entry with (wildcard, key), or -1. */
static int find_first(struct sni_table *t, int wildcard, const char *key)
{
	int lo = 0, hi = t->nb;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct sni_entry *e = &t->e[mid];
		int r = e->wildcard != wildcard ? e->wildcard - wildcard : strcmp(e->key, key);
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->nb && t->e[lo].wildcard == wildcard && strcmp(t->e[lo].key, key) == 0)
		return lo;
	return -1;
}

static int excluded(struct sni_table *t, const void *val, const char *name, const char *suffix)
{
	for (int pass = 0; pass < 2; pass++) {
		const char *key = pass ? suffix : name;
		if (!key)
			continue;
		int i = find_first(t, pass, key);
		for (; i >= 0 && i < t->nb && t->e[i].wildcard == pass && strcmp(t->e[i].key, key) == 0; i++)
			if (t->e[i].neg && t->e[i].val == val)
				return 1;
	}
	return 0;
}

void *sni_table_lookup(struct sni_table *t, const char *name)
{
	char key[SNI_NAME_MAX + 1];

	if (!t->nb || !name || lower_copy(key, name, SNI_NAME_MAX) < 0)
		return NULL;
	if (!t->sorted) {
		qsort(t->e, (size_t)t->nb, sizeof(*t->e), entry_cmp);
		t->sorted = 1;
	}
	const char *dot = strchr(key, '.');
	const char *suffix = dot && dot != key && dot[1] ? dot : NULL;

	for (int pass = 0; pass < 2; pass++) {
		const char *k = pass ? suffix : key;
		if (!k)
			continue;
		int i = find_first(t, pass, k);
		for (; i >= 0 && i < t->nb && t->e[i].wildcard == pass && strcmp(t->e[i].key, k) == 0; i++) {
			if (t->e[i].neg || excluded(t, t->e[i].val, key, suffix))
				continue;
			return t->e[i].val;
		}
	}
	return NULL;
}

void sni_table_remove(struct sni_table *t, const void *val)
{
	int j = 0;

	for (int i = 0; i < t->nb; i++) {
		if (t->e[i].val == val)
			free(t->e[i].key);
		else
			t->e[j++] = t->e[i];
	}
	t->nb = j;
}

void sni_table_free(struct sni_table *t)
{
	for (int i = 0; i < t->nb; i++)
		free(t->e[i].key);
	free(t->e);
	memset(t, 0, sizeof(*t));
}
