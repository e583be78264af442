/* Intrusive circular doubly-linked lists (the head is an element too). */
#ifndef PROXYD_LIST_H
#define PROXYD_LIST_H

#include <proxyd/compiler.h>

struct list {
	struct list *next, *prev;
};

#define LIST_HEAD_INIT(l)  { &(l), &(l) }

static inline void list_init(struct list *l) { l->next = l->prev = l; }
static inline int list_empty(const struct list *l) { return l->next == l; }
/* An element that was list_init()ed or list_del_init()ed is "not in a list". */
static inline int list_inlist(const struct list *l) { return l->next != l; }

static inline void list_append(struct list *head, struct list *el)
{
	el->prev = head->prev;
	el->next = head;
	head->prev->next = el;
	head->prev = el;
}

static inline void list_insert(struct list *head, struct list *el)
{
	el->next = head->next;
	el->prev = head;
	head->next->prev = el;
	head->next = el;
}

static inline void list_del_init(struct list *el)
{
	el->prev->next = el->next;
	el->next->prev = el->prev;
	el->next = el->prev = el;
}

#define list_elem(ptr, type, member)  container_of(ptr, type, member)
#define list_first(head, type, member) container_of((head)->next, type, member)
#define list_last(head, type, member)  container_of((head)->prev, type, member)

#define list_for_each(it, head, member)                                   \
	for (it = container_of((head)->next, __typeof__(*it), member);        \
	     &it->member != (head);                                           \
	     it = container_of(it->member.next, __typeof__(*it), member))

/* Safe against removal of the current element. */
#define list_for_each_safe(it, tmp, head, member)                         \
	for (it = container_of((head)->next, __typeof__(*it), member),        \
	     tmp = container_of(it->member.next, __typeof__(*it), member);    \
	     &it->member != (head);                                           \
	     it = tmp, tmp = container_of(tmp->member.next, __typeof__(*it), member))

#endif
