/*
 * Packet and address parsing at the NFQUEUE trust boundary.
 *
 * pkt_parse() reads a raw L3 packet exactly as NFQUEUE hands it over: it
 * starts at the IPv4 or IPv6 header and may be cut short by the queue's
 * copy range. Every length is checked against the bytes actually present;
 * nothing here allocates, logs or keeps state, so it is safe to call on any
 * input from any thread.
 */
#ifndef NSEG_PKT_H
#define NSEG_PKT_H

#include <stddef.h>
#include <stdint.h>

/* Longest text pkt_addr_to_str() / pkt_cidr_to_str() write, with the NUL. */
#define PKT_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define PKT_CIDR_STRLEN (PKT_ADDR_STRLEN + 4)

/* Bound on IPv6 extension headers walked before giving up. */
#define PKT_MAX_EXT_HDRS 8

struct nseg_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t a[16];  /* IPv4 in the first 4 bytes, the rest zero */
};

struct nseg_pkt {
	struct nseg_addr src, dst;
	uint8_t proto;         /* IPPROTO_TCP/UDP/ICMP/ICMPV6 or other */
	uint16_t sport, dport; /* host order; 0 for non-TCP/UDP */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id; /* bytes 4-5 of the ICMP header when present */
	uint8_t tcp_flags;
	uint8_t is_fragment; /* non-first fragment: no L4 header */
};

struct nseg_cidr {
	struct nseg_addr addr; /* network address: host bits are zero */
	uint8_t prefixlen;
};

/*
 * Parses buf[0..len) into *out (always fully written; zeroed on error).
 * Returns 0, or -1 with *why set to a static string naming the problem
 * ("truncated IPv4 header", "bad IHL", "unsupported IP version 7", ...).
 *
 * The IP total/payload length bounds the packet when it is shorter than
 * len; a zero length field (GSO "big" packets) means "use len". The L4
 * fields are filled for TCP, UDP, ICMP (IPv4) and ICMPv6 (IPv6) and their
 * fixed header (TCP 20, UDP 8, ICMP 4 bytes) must be present, otherwise
 * -1. Non-first fragments set is_fragment and carry no L4 fields. IPv6
 * extension headers (hop-by-hop, routing, fragment, destination options,
 * AH) are walked up to PKT_MAX_EXT_HDRS; ESP and "no next header" end the
 * walk with proto set and no ports.
 */
int pkt_parse(const uint8_t *buf, size_t len, struct nseg_pkt *out,
	      const char **why);

/* inet_ntop() into buf. Returns 0, or -1 if the family is unknown or buf
 * is too small (PKT_ADDR_STRLEN always suffices). */
int pkt_addr_to_str(const struct nseg_addr *a, char *buf, size_t len);

/* Parses a dotted-quad IPv4 or an IPv6 address (no prefix, no spaces).
 * Returns 0, or -1 if s is neither; *out is zeroed first. */
int pkt_addr_parse(const char *s, struct nseg_addr *out);

/* 1 if both are the same family and address, 0 otherwise. */
int pkt_addr_eq(const struct nseg_addr *x, const struct nseg_addr *y);

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104, 0 otherwise. */
int pkt_addr_is_loopback(const struct nseg_addr *a);

/*
 * Parses "ADDR/LEN" or a bare address (which means /32 or /128) into *out.
 * Returns 0, or -1 with *why set to a message quoting the bad value, e.g.
 * "host bits set in '10.1.2.3/8' (network is 10.0.0.0/8)". The message
 * lives in thread-local storage and stays valid until the next call of
 * pkt_cidr_parse() in the same thread.
 */
int pkt_cidr_parse(const char *s, struct nseg_cidr *out, const char **why);

/* 1 if a is inside c (same family, first prefixlen bits equal), else 0. */
int pkt_cidr_contains(const struct nseg_cidr *c, const struct nseg_addr *a);

/* Writes "ADDR/LEN" into buf (PKT_CIDR_STRLEN suffices). Returns 0, or -1
 * if the family is unknown or buf is too small. */
int pkt_cidr_to_str(const struct nseg_cidr *c, char *buf, size_t len);

#endif
