/*
 * Approved baselines into kernel state, and the verdict on queued packets
 * in notify and enforce mode (enforcer/enforce.c).
 */
#ifndef NSEG_ENFORCE_H
#define NSEG_ENFORCE_H

#include <stddef.h>
#include <sys/types.h>

#include "nseg/edge.h"
#include "nseg/pkt.h"

struct daemon;
struct nsw;

/* What an alert needs besides the edge: who, exactly, and where to. */
struct enforce_ctx {
	pid_t pid; /* 0 if unknown */
	char container[65];
	char peer_address[PKT_ADDR_STRLEN];
	/* The queued packet, for captures (NULL in tests without one). */
	const uint8_t *pkt;
	size_t len;
	const struct nseg_pkt *p;
};

/* Installs w's table for its workload's mode and approved rules (atomic
 * replace). Returns 0, or -1 with a message in err. */
int enforce_compile(struct nsw *w, char *err, size_t errlen);
/* Frees w's record of its table's sets. */
void enforce_free_sets(struct nsw *w);
/* Recompiles every namespace of workload (NULL: all). */
void enforce_workload_changed(struct daemon *d, const char *workload);
/* Recompiles w if its workload identity changed since its table was
 * built (a container joined or left it). */
void enforce_check_identity(struct nsw *w);
/* Some identity's addresses changed: refill the sets (batched, soon). */
void enforce_addresses_changed(struct daemon *d);
/* Reads the tables' counters (notify/enforce namespaces): hits of the
 * kernel-decided edges go to the usage counters, connections the rate
 * limit kept from the queue become flood alerts. */
void enforce_poll_counters(struct daemon *d);
/* The verdict for a queued packet already attributed as edge k: accept
 * what the mode or an approved rule allows; otherwise raise the deviation
 * and drop it in enforce mode. */
int enforce_verdict(struct nsw *w, const struct nseg_edge_key *k,
		    const struct enforce_ctx *x);

#endif
