/* Fixed-size object pools with a per-thread free list: the data path takes
 * streams, transactions and buffers from here, so a steady load allocates
 * nothing. With -dM the objects are poisoned when handed out and when given
 * back, so that a use after free reads garbage instead of stale data. */
#ifndef PROXYD_POOL_H
#define PROXYD_POOL_H

#include <pthread.h>
#include <stddef.h>

struct pool {
	const char *name;
	size_t size;
	void *free_list;
	unsigned nb_free;     /* objects waiting in free_list */
	unsigned nb_used;     /* objects handed out */
	unsigned max_free;    /* beyond this many, freed objects go back to malloc */
	int shared;           /* used by every thread: the free list is locked with nbthread > 1 */
	pthread_mutex_t lock;
};

void pool_init(struct pool *p, const char *name, size_t size, unsigned max_free);
/* Returns an object of p->size bytes, or NULL when memory is exhausted. */
void *pool_alloc(struct pool *p);
void *pool_zalloc(struct pool *p);
void pool_free(struct pool *p, void *obj);
/* Releases every cached free object (at exit, or under memory pressure). */
void pool_flush(struct pool *p);

#endif
