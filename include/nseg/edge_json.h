/*
 * The public JSON form of one baseline edge: what `nsegctl baseline show
 * --json` prints, one object per edge. This is a contract with scripts:
 * add keys, never rename or drop one.
 *
 * {"id":1, "workload":"web", "version":"1.0", "direction":"egress",
 *  "process":{"exe":"/bin/busybox","comm":"wget"},
 *  "peer":{"identity":"api","process":{"exe":"/usr/bin/socat","comm":"socat"}},
 *  "protocol":"tcp", "port":8080, "state":"approved", "count":3,
 *  "first_seen":"2026-11-22T14:28:27Z", "last_seen":"2026-11-22T14:30:00Z",
 *  "any_process":false, "decided_by":"uid 0 (root)",
 *  "decided_at":"2026-11-23T09:00:00Z", "hits":12,
 *  "last_used":"2026-11-24T08:15:00Z", "origin":"learned"}
 *
 * peer.process is present only when the peer's process is known (its exe
 * is non-empty). protocol is the name for tcp/udp/icmp/icmpv6, the decimal
 * number as a string otherwise. Times are RFC 3339 UTC. any_process is
 * always present; decided_by only when the edge has a decider (non-empty)
 * and decided_at only when it has a decision time (non-zero).
 *
 * hits and last_used are the usage of the enforcement rule the edge folds
 * into (store.h), so edges of one rule show the same usage; they are
 * present only on approved edges (state "approved"): hits always, 0 when
 * the rule was never used, last_used only once it was (non-zero). hits
 * counts new connections, not packets: only a connection's first packet
 * reaches the edge rules, established traffic is accepted in the kernel
 * before any of them. An old or missing last_used marks an approved edge
 * that nothing needs any more: a candidate for pruning.
 *
 * origin is "learned" for an edge nsegd saw, "policy:FILE" for a rule a
 * policy file brought (policies/README.md); such a rule may cover the
 * ports port..port_hi, and port_hi is present only then. A policy's rule
 * for any version has version "*".
 */
#ifndef NSEG_EDGE_JSON_H
#define NSEG_EDGE_JSON_H

#include <jansson.h>

#include "nseg/store.h"

/*
 * Builds the JSON object of e. Returns a new reference the caller owns
 * (json_decref), or NULL on allocation failure or a time outside the
 * RFC 3339 range (logged).
 */
json_t *edge_json(const struct store_edge *e);

#endif
