/*
 * The enforcing part of a namespace's table: one named set per peer
 * identity holding that identity's current addresses, and one accept rule
 * per approved edge that any process of the workload may use. Those are
 * decided in the kernel; everything else falls through to the queue,
 * where nsegd checks the process (process-scoped edges) or raises the
 * deviation.
 *
 *   set p0_4 { type ipv4_addr; elements = { 10.66.0.2 } }     # "api"
 *   set p0_6 { type ipv6_addr; elements = { fd66::2 } }
 *   chain output { ...
 *     meta nfproto ipv4 meta l4proto tcp ip daddr @p0_4 th dport 8080 counter accept
 *     ... }
 *
 * Containers coming and going change set elements (nft_enforce_set_update),
 * never rules.
 */
#ifndef NSEG_NFT_ENFORCE_H
#define NSEG_NFT_ENFORCE_H

#include <stddef.h>
#include <stdint.h>

#include "nseg/pkt.h"

struct nft_batch;
struct mnl_socket;

#define NFT_ENFORCE_SET_NAME_MAX 16

/* The addresses of one peer identity (sets "<name>_4" and "<name>_6"). */
struct nft_peer_set {
	char name[NFT_ENFORCE_SET_NAME_MAX];
	const struct nseg_addr *addrs;
	size_t n_addrs;
};

/* An approved edge decided in the kernel. The peer is a set (set >= 0)
 * or, for an external network, a prefix (set == -1). */
struct nft_accept_rule {
	uint8_t dir; /* NSEG_EGRESS: match the destination; else the source */
	uint8_t proto;
	/* TCP/UDP destination ports, inclusive; ICMP: the type (port) */
	uint16_t port, port_hi;
	int set;
	struct nseg_cidr cidr;
	int id; /* the rule's comment is NFT_TAG_EDGE "<id>" (counters) */
	/* Process-scoped: the peer and port match, the process needs
	 * userspace: queue it (ahead of the rate limit, which is for
	 * traffic no approved edge names) instead of accepting. */
	int queue;
};

struct nft_table_opts;

struct nft_enforce {
	const struct nft_table_opts *opts; /* queue settings */
	const struct nft_peer_set *sets;
	size_t n_sets;
	const struct nft_accept_rule *rules;
	size_t n_rules;
};

/* Appends the sets with their elements (called by nft_table_build). */
int nft_enforce_add_sets(struct nft_batch *b, const struct nft_enforce *e);
/* Appends chain's accept rules for direction dir. */
int nft_enforce_add_rules(struct nft_batch *b, const char *chain, uint8_t dir,
			  const struct nft_enforce *e);
/* Replaces the elements of set s (both families) in one transaction. */
int nft_enforce_set_update(struct mnl_socket *nl, const struct nft_peer_set *s,
			   char *err, size_t errlen);

#endif
