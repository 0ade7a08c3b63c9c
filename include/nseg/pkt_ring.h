/*
 * A bounded ring of the recent packets of one workload: the packets that
 * already reach nsegd (queued first packets of new connections, DNS when
 * queued). When an alert fires, the last few seconds of the ring are
 * written at the head of the alert's pcap, to show what led up to it.
 *
 * Memory is allocated once by pkt_ring_new (capacity * snap bytes plus a
 * small header per slot) and never grows: a push into a full ring
 * overwrites the oldest packet, and a packet longer than snap keeps only
 * its first snap bytes (its original length is remembered).
 */
#ifndef NSEG_PKT_RING_H
#define NSEG_PKT_RING_H

#include <stddef.h>
#include <sys/time.h>

/* Bounds of pkt_ring_new's arguments. */
#define PKT_RING_MAX_CAPACITY 65536
#define PKT_RING_MAX_SNAP 65535

struct pkt_ring;

/*
 * A ring of capacity packets of at most snap bytes each. Returns NULL
 * (errno EINVAL) when either is 0 or above its PKT_RING_MAX_*, or
 * (ENOMEM) when out of memory. The caller owns the ring (pkt_ring_free).
 */
struct pkt_ring *pkt_ring_new(unsigned int capacity, unsigned int snap);
/* Frees r; pkt_ring_free(NULL) is a no-op. */
void pkt_ring_free(struct pkt_ring *r);

/* Copies the packet data[len] seen at *ts into r (data is not kept). */
void pkt_ring_push(struct pkt_ring *r, const struct timeval *ts,
		   const void *data, size_t len);

/* The number of packets held (at most the capacity). */
unsigned int pkt_ring_len(const struct pkt_ring *r);

/*
 * Called by pkt_ring_walk for each packet: caplen bytes of data (valid
 * only during the call), origlen its length when pushed. Returns 0 to go
 * on, -1 to stop the walk.
 */
typedef int (*pkt_ring_fn)(const struct timeval *ts, const void *data,
			   size_t caplen, size_t origlen, void *arg);

/*
 * Calls fn for each held packet whose timestamp lies in the window_ms
 * milliseconds before *end: end - window_ms <= ts < end. The end is
 * excluded so that a packet pushed just before an alert on it is not
 * written twice. Packets come in push order, oldest first. Returns the
 * number of packets passed to fn, or -1 if fn stopped the walk.
 */
int pkt_ring_walk(const struct pkt_ring *r, const struct timeval *end,
		  unsigned int window_ms, pkt_ring_fn fn, void *arg);

#endif
