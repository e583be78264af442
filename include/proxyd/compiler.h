/* Small compiler helpers shared by every module. */
#ifndef PROXYD_COMPILER_H
#define PROXYD_COMPILER_H

#include <stddef.h>

#define likely(x)        __builtin_expect(!!(x), 1)
#define unlikely(x)      __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define MIN(a, b)        ((a) < (b) ? (a) : (b))
#define MAX(a, b)        ((a) > (b) ? (a) : (b))
#define PRINTF(f, a)     __attribute__((format(printf, f, a)))
#define NORETURN         __attribute__((noreturn))

#endif
