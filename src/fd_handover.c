/* Pool of listening sockets received from another process. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <proxyd/fd_handover.h>

struct pooled_fd {
	int fd;
	socklen_t len;
	struct sockaddr_storage addr;
};

static struct pooled_fd *pool;
static int pool_len, pool_size;

int handover_add(int fd)
{
	int acc = 0;
	socklen_t l = sizeof(acc);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0 || !acc)
		return -1;
	if (pool_len == pool_size) {
		int n = pool_size ? pool_size * 2 : 16;
		struct pooled_fd *p = realloc(pool, (size_t)n * sizeof(*p));
		if (!p)
			return -1;
		pool = p;
		pool_size = n;
	}
	struct pooled_fd *e = &pool[pool_len];
	e->len = sizeof(e->addr);
	memset(&e->addr, 0, sizeof(e->addr));
	if (getsockname(fd, (struct sockaddr *)&e->addr, &e->len) < 0)
		return -1;
	e->fd = fd;
	pool_len++;
	return 0;
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	switch (a->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	case AF_UNIX: {
		const struct sockaddr_un *x = (const void *)a, *y = (const void *)b;
		return !strncmp(x->sun_path, y->sun_path, sizeof(x->sun_path));
	}
	default:
		return 0;
	}
}

int handover_take(const struct sockaddr_storage *addr)
{
	for (int i = 0; i < pool_len; i++) {
		if (!same_addr(&pool[i].addr, addr))
			continue;
		int fd = pool[i].fd;
		pool[i] = pool[--pool_len];
		return fd;
	}
	return -1;
}

void handover_close_unused(void)
{
	for (int i = 0; i < pool_len; i++)
		close(pool[i].fd);
	free(pool);
	pool = NULL;
	pool_len = pool_size = 0;
}

int handover_count(void)
{
	return pool_len;
}
