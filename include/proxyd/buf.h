/* Linear I/O buffers. Data lives in area[start, end); it is moved back to
 * the beginning only when room is needed at the end, so parsers may keep
 * offsets into the area while a message head is being collected. The area
 * comes from the thread's buffer pool and is held only while data is in it. */
#ifndef PROXYD_BUF_H
#define PROXYD_BUF_H

#include <stdint.h>
#include <string.h>

struct buf {
	char *area;       /* NULL when no memory is attached */
	uint32_t size;
	uint32_t start;   /* first byte still held */
	uint32_t end;     /* one past the last byte */
};

static inline uint32_t buf_data(const struct buf *b) { return b->end - b->start; }
static inline uint32_t buf_room(const struct buf *b) { return b->size - b->end; }
static inline int buf_allocated(const struct buf *b) { return b->area != NULL; }

/* Moves the data to the beginning of the area; returns the shift applied
 * to every absolute offset into the buffer (to be subtracted). */
static inline uint32_t buf_compact(struct buf *b)
{
	uint32_t shift = b->start;
	if (shift) {
		memmove(b->area, b->area + b->start, b->end - b->start);
		b->end -= shift;
		b->start = 0;
	}
	return shift;
}

/* Empties the buffer without moving anything. */
static inline void buf_reset(struct buf *b) { b->start = b->end = 0; }

#endif
