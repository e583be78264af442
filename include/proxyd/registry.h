/* Module registration without a central switch.
 *
 * Each module owns its vocabulary (config keywords, server and bind options,
 * http actions, balance algorithms, ...) as a static, NULL-terminated table and
 * registers it from its own file with REGISTER_TABLE(). Registration runs
 * from a constructor before main(), so linking a file is all it takes to
 * add its keywords; lookups walk the registered tables at configuration time
 * only, never on the data path.
 */
#ifndef PROXYD_REGISTRY_H
#define PROXYD_REGISTRY_H

struct reg_node {
	const void *table;
	struct reg_node *next;
};

struct registry {
	struct reg_node *head;
	struct reg_node **tail;
	const char *what;  /* "config keywords", for diagnostics */
};

#define REGISTRY_INIT(name) { 0, 0, name }

void registry_append(struct registry *reg, struct reg_node *node);

#define REG_CAT2(a, b) a##b
#define REG_CAT(a, b) REG_CAT2(a, b)

/* Registers <table> (any pointer) into registry <reg> at start-up. */
#define REGISTER_TABLE(reg, tbl)                                              \
	static struct reg_node REG_CAT(reg_node_, __LINE__) = { (tbl), 0 };       \
	__attribute__((constructor)) static void REG_CAT(reg_ctor_, __LINE__)(void) \
	{ registry_append(&(reg), &REG_CAT(reg_node_, __LINE__)); }

#define registry_for_each(node, reg) \
	for (node = (reg).head; node; node = node->next)

#endif
