/*
 * In-memory aggregation of learned edges in front of the store. Recording
 * an observation is a hash lookup (the per-packet path must cost almost
 * nothing); learn_agg_flush() writes all pending edges in one transaction,
 * after which memory holds nothing but the empty table: the database holds
 * the totals, so memory stays flat whatever the traffic.
 */
#ifndef NSEG_LEARN_AGG_H
#define NSEG_LEARN_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "nseg/edge.h"
#include "nseg/store.h"

/* Upper bound of max_pending accepted by learn_agg_new(). */
#define LEARN_AGG_MAX_PENDING (1u << 22)

struct learn_agg;

/*
 * New aggregator holding at most max_pending distinct pending edges
 * (1..LEARN_AGG_MAX_PENDING). Returns NULL (errno set) on a bad bound or
 * allocation failure. The caller owns it; learn_agg_free() releases it.
 */
struct learn_agg *learn_agg_new(size_t max_pending);
/* NULL is a no-op. Pending edges are discarded: flush first. */
void learn_agg_free(struct learn_agg *a);

/*
 * One observation of edge k at now: count + 1 and first/last seen widened.
 * Only the meaningful bytes of k's strings count: garbage after the NUL is
 * ignored. Returns 0, or -1 with errno set:
 *   ENOSPC  max_pending distinct edges are pending and k is not one of
 *           them: counted as dropped, the caller should flush;
 *   ENOMEM  the pending table could not grow: counted as dropped;
 *   EINVAL  k is a key the store would refuse (store_edge_key_invalid()):
 *           counted as rejected, never queued, so one bad key cannot
 *           block every later flush.
 * O(1) on average.
 */
int learn_agg_record(struct learn_agg *a, const struct nseg_edge_key *k,
		     int64_t now);
/* As learn_agg_record(), saying whether k's workload is learning now
 * (learning != 0) or k was seen as a deviation of notify or enforce mode
 * (store_edge_add_seen()); learn_agg_record() is learning. */
int learn_agg_observe(struct learn_agg *a, const struct nseg_edge_key *k,
		      int64_t now, int learning);

/*
 * Writes every pending edge to s in one transaction (the caller must not
 * have one open). On success the pending set is emptied; on failure the
 * transaction is rolled back, everything stays pending for the next try
 * and -1 is returned. Nothing pending: returns 0 without touching s.
 */
int learn_agg_flush(struct learn_agg *a, struct store *s);

/* Number of distinct edges waiting for a flush. */
size_t learn_agg_pending(const struct learn_agg *a);

struct learn_agg_stats {
	uint64_t recorded;	/* observations aggregated */
	uint64_t dropped;	/* observations refused: table full */
	uint64_t rejected;	/* observations refused: invalid key */
	uint64_t flushes;	/* successful flushes that wrote edges */
	uint64_t flush_errors;	/* failed flushes */
	uint64_t edges_written; /* edge upserts committed */
};

void learn_agg_stats(const struct learn_agg *a, struct learn_agg_stats *out);

#endif
