#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/pkt_ring.h"

struct pkt_ring_slot {
	struct timeval ts;
	uint32_t caplen, origlen;
};

/*
 * One allocation: the struct, then capacity slots, then capacity * snap
 * bytes of packet data. next is where the next push goes; the oldest
 * packet is at next - len (mod capacity).
 */
struct pkt_ring {
	unsigned int capacity, snap;
	unsigned int next, len;
	uint8_t *data;
	struct pkt_ring_slot slots[];
};

struct pkt_ring *pkt_ring_new(unsigned int capacity, unsigned int snap)
{
	struct pkt_ring *r;
	size_t size;

	if (capacity == 0 || capacity > PKT_RING_MAX_CAPACITY || snap == 0 ||
	    snap > PKT_RING_MAX_SNAP) {
		errno = EINVAL;
		return NULL;
	}
	/* At most 65536 * (16 + 65535) bytes: no overflow in size_t. */
	size = sizeof(*r) + (size_t)capacity * sizeof(r->slots[0]) +
	       (size_t)capacity * snap;
	r = calloc(1, size);
	if (!r)
		return NULL;
	r->capacity = capacity;
	r->snap = snap;
	r->data = (uint8_t *)&r->slots[capacity];
	return r;
}

void pkt_ring_free(struct pkt_ring *r)
{
	free(r);
}

void pkt_ring_push(struct pkt_ring *r, const struct timeval *ts,
		   const void *data, size_t len)
{
	struct pkt_ring_slot *s = &r->slots[r->next];
	size_t caplen = len < r->snap ? len : r->snap;

	s->ts = *ts;
	s->caplen = (uint32_t)caplen;
	s->origlen = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	if (caplen)
		memcpy(r->data + (size_t)r->next * r->snap, data, caplen);
	r->next = (r->next + 1) % r->capacity;
	if (r->len < r->capacity)
		r->len++;
}

unsigned int pkt_ring_len(const struct pkt_ring *r)
{
	return r->len;
}

/* end - window_ms as a timeval, never below the epoch. */
static struct timeval pkt_ring_start(const struct timeval *end,
				     unsigned int window_ms)
{
	int64_t us = (int64_t)end->tv_sec * 1000000 + end->tv_usec -
		     (int64_t)window_ms * 1000;
	struct timeval tv;

	if (us < 0)
		us = 0;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	return tv;
}

int pkt_ring_walk(const struct pkt_ring *r, const struct timeval *end,
		  unsigned int window_ms, pkt_ring_fn fn, void *arg)
{
	struct timeval start = pkt_ring_start(end, window_ms);
	unsigned int i = (r->next + r->capacity - r->len) % r->capacity;
	int n = 0;

	for (unsigned int k = 0; k < r->len; k++, i = (i + 1) % r->capacity) {
		const struct pkt_ring_slot *s = &r->slots[i];

		if (timercmp(&s->ts, &start, <) || !timercmp(&s->ts, end, <))
			continue;
		if (fn(&s->ts, r->data + (size_t)i * r->snap, s->caplen,
		       s->origlen, arg) == -1)
			return -1;
		n++;
	}
	return n;
}
