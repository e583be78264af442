/* Append-only lists of module tables, filled by constructors. */
#include <stddef.h>

#include <proxyd/registry.h>

void registry_append(struct registry *reg, struct reg_node *node)
{
	if (!reg->tail)
		reg->tail = &reg->head;
	node->next = NULL;
	*reg->tail = node;
	reg->tail = &node->next;
}
