/* Variables set by rules and read by the var() fetch (see vars.c). */
#ifndef PROXYD_VARS_H
#define PROXYD_VARS_H

#include <stddef.h>

struct sample;
struct stream;

enum var_scope { VAR_PROC = 0, VAR_SESS, VAR_TXN, VAR_REQ, VAR_RES, VAR_SCOPES };

struct var_desc {
	enum var_scope scope;
	int idx;                   /* slot in its scope's storage */
	const char *name;          /* without the scope */
};

struct var_value {
	int type;                  /* enum smp_type; 0 when unset */
	long long sint;
	char *str;
	size_t len;
	unsigned char addr[16];
};

/* Finds or declares "scope.name". NULL with a reason in <err>. */
const struct var_desc *var_desc_get(const char *name, char *err, size_t errlen);
/* Slots a transaction needs (txn, req and res variables together). */
int vars_txn_slots(void);
int var_set(const struct var_desc *d, struct stream *s, const struct sample *smp);
void var_unset(const struct var_desc *d, struct stream *s);
int var_get(const struct var_desc *d, struct stream *s, struct sample *smp);
void vars_sess_free(struct stream *s);
void vars_deinit(void);

#endif
