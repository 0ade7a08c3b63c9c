/*
 * One NFQUEUE reader, bound to a queue number inside one network namespace
 * (queue instances are per netns). Suricata's checklist: a bounded queue,
 * a receive buffer sized to match, NETLINK_NO_ENOBUFS, fail-open as an
 * explicit choice, every verdict error counted.
 */
#ifndef NSEG_NFQUEUE_H
#define NSEG_NFQUEUE_H

#include <stddef.h>
#include <stdint.h>

struct nfqueue;

struct nfqueue_packet {
	uint32_t id;
	uint8_t hook;             /* NF_INET_LOCAL_IN / NF_INET_LOCAL_OUT */
	const uint8_t *payload;   /* the L3 packet, copy_range bytes at most */
	size_t len;
	uint32_t indev, outdev;   /* ifindex, 0 if none */
};

struct nfqueue_stats {
	uint64_t packets;
	uint64_t verdict_errors;
	uint64_t recv_errors;
	uint64_t bad_messages;
};

/* Beyond the kernel's verdicts: send the packet through its hook again
 * carrying NFT_REJECT_MARK, where the table rejects it. */
#define NFQUEUE_REJECT 0x100
/* ...or carrying NFT_CAPTURE_MARK, where the table accepts it, marks its
 * conntrack entry and logs it and every later packet of the connection
 * to NFLOG (notify-mode captures, nft_table.h). */
#define NFQUEUE_CAPTURE 0x101

/* Decides one packet: returns NF_ACCEPT, NF_DROP, NFQUEUE_REJECT or
 * NFQUEUE_CAPTURE. Runs on the loop. */
typedef int (*nfqueue_packet_cb)(const struct nfqueue_packet *p, void *arg);

struct nfqueue_opts {
	uint16_t queue_num;
	uint32_t maxlen;
	uint32_t copy_range;
	int fail_open; /* NFQA_CFG_F_FAIL_OPEN: accept when the queue is full */
};

/* Binds queue o->queue_num in nsfd's namespace. Returns the reader
 * (caller owns, nfqueue_close) or NULL with a message in err. */
struct nfqueue *nfqueue_open(int nsfd, const struct nfqueue_opts *o, nfqueue_packet_cb cb,
		     void *arg, char *err, size_t errlen);
void nfqueue_close(struct nfqueue *q);
/* The fd to poll for input. */
int nfqueue_fd(const struct nfqueue *q);
/* Reads what is pending (without blocking, at most a bounded batch, so
 * one busy namespace cannot starve the others) and verdicts each packet.
 * Returns the number of packets handled, or -1 on a socket error. */
int nfqueue_dispatch(struct nfqueue *q);
void nfqueue_get_stats(const struct nfqueue *q, struct nfqueue_stats *out);

#endif
