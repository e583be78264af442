/* Hash functions for hash-based balancing. sdbm, djb2 and crc32 are the
 * classic published algorithms; avalanche is a 32-bit finaliser mixing
 * every input bit into every output bit. */
#include <stddef.h>
#include <stdint.h>

#include <proxyd/lb.h>

uint32_t hash_sdbm(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint32_t h = 0;

	for (size_t i = 0; i < len; i++)
		h = p[i] + (h << 6) + (h << 16) - h;
	return h;
}

uint32_t hash_djb2(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint32_t h = 5381;

	for (size_t i = 0; i < len; i++)
		h = h * 33 + p[i];
	return h;
}

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* The IEEE 802.3 CRC-32, as zlib's crc32(). */
uint32_t hash_crc32(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint32_t c = 0xffffffffu;

	if (!crc_table[1])
		crc_init();
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

uint32_t hash_avalanche(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

uint32_t lb_hash(const struct lb_conf *c, const void *key, size_t len)
{
	uint32_t h;

	switch (c->fn) {
	case LB_HASH_DJB2:
		h = hash_djb2(key, len);
		break;
	case LB_HASH_CRC32:
		h = hash_crc32(key, len);
		break;
	default:
		h = hash_sdbm(key, len);
		break;
	}
	return c->avalanche ? hash_avalanche(h) : h;
}
