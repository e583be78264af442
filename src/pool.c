/* Per-thread object pools (see pool.h). */
#include <stdlib.h>
#include <string.h>

#include <proxyd/global.h>
#include <proxyd/pool.h>

void pool_init(struct pool *p, const char *name, size_t size, unsigned max_free)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	/* Room for the free-list link in every object. */
	p->size = size < sizeof(void *) ? sizeof(void *) : size;
	p->max_free = max_free;
	pthread_mutex_init(&p->lock, NULL);
}

static int pool_lock(struct pool *p)
{
	if (!p->shared || global.nbthread < 2)
		return 0;
	pthread_mutex_lock(&p->lock);
	return 1;
}

static void pool_unlock(struct pool *p, int locked)
{
	if (locked)
		pthread_mutex_unlock(&p->lock);
}

void *pool_alloc(struct pool *p)
{
	int locked = pool_lock(p);
	void *obj = p->free_list;

	if (obj) {
		p->free_list = *(void **)obj;
		p->nb_free--;
	} else {
		obj = malloc(p->size);
	}
	if (obj)
		p->nb_used++;
	pool_unlock(p, locked);
	if (obj && global.poison >= 0)
		memset(obj, global.poison, p->size);
	return obj;
}

void *pool_zalloc(struct pool *p)
{
	void *obj = pool_alloc(p);
	if (obj)
		memset(obj, 0, p->size);
	return obj;
}

void pool_free(struct pool *p, void *obj)
{
	if (!obj)
		return;
	if (global.poison >= 0)
		memset(obj, global.poison, p->size);
	int locked = pool_lock(p);
	p->nb_used--;
	if (p->nb_free >= p->max_free) {
		pool_unlock(p, locked);
		free(obj);
		return;
	}
	*(void **)obj = p->free_list;
	p->free_list = obj;
	p->nb_free++;
	pool_unlock(p, locked);
}

void pool_flush(struct pool *p)
{
	while (p->free_list) {
		void *obj = p->free_list;
		p->free_list = *(void **)obj;
		free(obj);
	}
	p->nb_free = 0;
}
