/*
 * One NFLOG receiver, bound to a log group inside one network namespace
 * (log instances are per netns), spoken to with libmnl alone. The table's
 * capture rules (nft_table.h) copy every packet of a captured connection
 * to the group; the packets themselves are never held, so a slow reader
 * loses copies, never traffic. Losses are counted: receive buffer
 * overruns (ENOBUFS) and gaps in the instance's sequence numbers.
 *
 * Nothing is bound to the address families (NFULNL_CFG_CMD_PF_BIND): that
 * makes nfnetlink_log the namespace's default logger for `log` rules
 * without a group, which is not ours to change; `log group G` reaches the
 * instance without it.
 */
#ifndef NSEG_NFLOG_H
#define NSEG_NFLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct nflog;

struct nflog_packet {
	/* The kernel's (input side only); else that of the previous, or
	 * next, packet of the same datagram, so a capture stays in order;
	 * else now. */
	struct timespec ts;
	uint8_t hook;		/* NF_INET_LOCAL_IN / NF_INET_LOCAL_OUT */
	uint16_t hw_protocol;	/* ETH_P_IP / ETH_P_IPV6 (host order) */
	const uint8_t *payload; /* the L3 packet, maybe cut at the snaplen */
	size_t caplen;		/* bytes at payload */
	size_t len;		/* the packet's length (from its IP header) */
	const char *prefix;	/* the rule's log prefix, NULL if none */
	uint32_t indev, outdev; /* ifindex, 0 if none */
};

struct nflog_stats {
	uint64_t packets;      /* handed to the callback */
	uint64_t overruns;     /* ENOBUFS: the receive buffer overflowed */
	uint64_t lost;	       /* packets missing from the sequence */
	uint64_t bad_messages; /* malformed or unexpected, skipped */
	uint64_t bad_attrs;    /* malformed attributes, skipped */
	uint64_t recv_errors;  /* other receive errors */
};

/* Called once per logged packet, on the loop; p and what it points to
 * live until the callback returns. */
typedef void (*nflog_packet_cb)(const struct nflog_packet *p, void *arg);

struct nflog_opts {
	uint16_t group;
	uint32_t copy_range; /* bytes of each packet; 0 = 0xffff */
	uint32_t qthresh;    /* packets the kernel batches; 0 = 16 */
	uint32_t timeout_cs; /* longest it holds a batch, 1/100 s; 0 = 1 */
	uint32_t rcvbuf;     /* socket receive buffer; 0 = 4 MiB */
};

/* Binds group o->group in nsfd's namespace. Returns the receiver (caller
 * owns, nflog_close) with a non-blocking fd, or NULL with a message in
 * err ("in use" when another socket holds the group). */
struct nflog *nflog_open(int nsfd, const struct nflog_opts *o,
			 nflog_packet_cb cb, void *arg, char *err,
			 size_t errlen);
/* Closing the socket unbinds the group. nflog_close(NULL) is a no-op. */
void nflog_close(struct nflog *l);
/* The fd to poll for input. */
int nflog_fd(const struct nflog *l);
/* Reads what is pending, without blocking and at most a bounded batch of
 * datagrams, and calls the callback per packet. Returns the number of
 * packets handed over, or -1 on a socket error other than an overrun. */
int nflog_dispatch(struct nflog *l);
void nflog_get_stats(const struct nflog *l, struct nflog_stats *out);

/* The parser's state: what it hands packets to, and what it counted.
 * Set group, cb and arg; zero the rest. */
struct nflog_parser {
	uint16_t group; /* messages of other groups are skipped */
	nflog_packet_cb cb;
	void *arg;
	struct nflog_stats stats;
	uint32_t next_seq; /* the instance's next sequence number... */
	int have_seq;	   /* ...once one was seen */
};

/* Parses one datagram read from an NFLOG socket (4-byte aligned, as
 * netlink is): calls ps->cb per well-formed packet message, skips and
 * counts in ps->stats whatever is malformed. Returns the packets handed
 * over. The receiver's own parser; exposed for tests and the fuzzer. */
int nflog_parse(struct nflog_parser *ps, const void *buf, size_t len);

#endif
