/*
 * Who opened each recent connection, keyed by the first packet's 5-tuple.
 *
 * When both ends of a connection are watched, the client's namespace
 * queues the first packet (egress, attributed there) and a moment later
 * the server's namespace queues the same packet (ingress), whose peer is
 * that client. Remembering the egress attribution for a few seconds makes
 * the ingress side's peer process a table lookup instead of a second
 * sock_diag query and fd scan. A fixed table: memory never grows; a
 * collision just overwrites (the caller falls back to a lookup).
 */
#ifndef NSEG_FLOW_MEMO_H
#define NSEG_FLOW_MEMO_H

#include <stdint.h>
#include <sys/types.h>

#include "nseg/pkt.h"

struct flow_memo;

/* Caller owns the result (flow_memo_free). */
struct flow_memo *flow_memo_new(void);
void flow_memo_free(struct flow_memo *m);

/* Records that pid, in netns netns_ino, sent the first packet p. */
void flow_memo_put(struct flow_memo *m, const struct nseg_pkt *p,
		   uint64_t netns_ino, pid_t pid, uint64_t now_ms);
/* The pid recorded for p's 5-tuple by netns netns_ino within the last
 * ttl_ms, or 0 (an address held by two namespaces never mixes them). */
pid_t flow_memo_get(const struct flow_memo *m, const struct nseg_pkt *p,
		    uint64_t netns_ino, uint64_t now_ms, uint64_t ttl_ms);

#endif
