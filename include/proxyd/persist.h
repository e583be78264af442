/* Persistence as a whole: the backend's force-persist / ignore-persist
 * rules, then the cookie and the stick tables, which may send a request to
 * a server directly instead of balancing it. */
#ifndef PROXYD_PERSIST_H
#define PROXYD_PERSIST_H

#include <proxyd/list.h>

struct stream;
struct cond;

struct persist_rule {
	struct list list;
	struct cond *cond;
	int force;               /* force-persist, else ignore-persist */
};

/* As soon as the backend is known: its force-persist / ignore-persist. */
void persist_rules_apply(struct stream *s);
/* After the backend's http-request rules, before the server is chosen:
 * the cookie, then the stick tables. */
void persist_request(struct stream *s);

#endif
