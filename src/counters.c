/* Summing per-thread counters for readers. */
#include <proxyd/counters.h>

void counters_sum(struct px_counters *sum, const struct px_counters *per_thread, int nbthread)
{
	uint64_t *dst = (uint64_t *)sum;

	for (unsigned f = 0; f < COUNTERS_NB_FIELDS; f++)
		dst[f] = 0;
	for (int t = 0; t < nbthread; t++) {
		const uint64_t *src = (const uint64_t *)&per_thread[t];
		for (unsigned f = 0; f < COUNTERS_NB_FIELDS; f++)
			dst[f] += src[f];
	}
}
