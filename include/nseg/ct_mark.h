/*
 * Conntrack marks through ctnetlink, inside a network namespace: how a
 * capture that reached its limits clears NFT_CAPTURE_CT_BIT (nft_table.h)
 * in its connection's entry, so the table stops logging it.
 */
#ifndef NSEG_CT_MARK_H
#define NSEG_CT_MARK_H

#include <stdint.h>

#include "nseg/pkt.h"

/* A conntrack entry by its original-direction tuple (as its first packet
 * went). */
struct ct_mark_tuple {
	struct nseg_addr src, dst; /* same family, AF_INET or AF_INET6 */
	uint8_t proto;		   /* IPPROTO_* */
	uint16_t sport, dport; /* host order; TCP, UDP, SCTP, DCCP, UDP-Lite */
	uint8_t icmp_type, icmp_code; /* ICMP / ICMPv6 */
	uint16_t icmp_id;	      /* host order */
};

/* Sets the bits of mask in the entry's mark to those of value, leaving
 * the others, in nsfd's namespace. Returns 0; 1 when there is no such
 * entry (the connection ended: nothing to clear); -1 with errno on any
 * other failure (EINVAL for a tuple that names no entry, like mixed
 * families), logged. */
int ct_mark_update(int nsfd, const struct ct_mark_tuple *t, uint32_t value,
		   uint32_t mask);

/* Clears NFT_CAPTURE_CT_BIT: ct_mark_update(nsfd, t, 0, bit). */
int ct_mark_clear_capture(int nsfd, const struct ct_mark_tuple *t);

#endif
