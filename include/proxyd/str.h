/* Small string helpers for the data path: ASCII-only case folding (HTTP
 * names are ASCII; libc's strncasecmp also pays for locales). */
#ifndef PROXYD_STR_H
#define PROXYD_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline unsigned char ascii_lower(unsigned char c)
{
	return (unsigned char)((unsigned)c - 'A' < 26u ? c + 32 : c);
}

/* Lower-cases the ASCII capitals of 8 bytes at once (bytes >= 0x80 are
 * left alone): a byte is a capital when adding 0x3f sets its top bit
 * (>= 'A') and adding 0x25 does not (<= 'Z'). */
static inline uint64_t ascii_lower8(uint64_t x)
{
	const uint64_t hi = 0x8080808080808080ULL;
	uint64_t low7 = x & ~hi;
	uint64_t ge_a = low7 + 0x3f3f3f3f3f3f3f3fULL;
	uint64_t gt_z = low7 + 0x2525252525252525ULL;
	uint64_t upper = ge_a & ~gt_z & ~x & hi;
	return x | (upper >> 2);
}

/* 1 when the <len> bytes at a and b are equal ignoring ASCII case. */
static inline int mem_ieq(const char *a, const char *b, size_t len)
{
	while (len >= 8) {
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y && ascii_lower8(x) != ascii_lower8(y))
			return 0;
		a += 8;
		b += 8;
		len -= 8;
	}
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i] && ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

#endif
