#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/netns.h"
#include "nseg/nft_batch.h"

#define NFT_BATCH_BUF (256 * 1024)
#define NFT_BATCH_MAX_MSGS 4096

struct nft_batch_step {
	uint32_t seq;
	char what[64];
};

struct nft_batch {
	struct mnl_nlmsg_batch *mb;
	char *buf;
	uint32_t seq;
	int check_only;
	size_t n_steps;
	struct nft_batch_step steps[NFT_BATCH_MAX_MSGS];
};

struct nft_batch *nft_batch_new(uint32_t seq_start, int check_only)
{
	struct nft_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	/* Twice the page-sized margin mnl needs to tell "full" early. */
	b->buf = malloc(NFT_BATCH_BUF + 2 * NSEG_NL_BUFSZ);
	if (!b->buf)
		goto fail;
	b->mb = mnl_nlmsg_batch_start(b->buf, NFT_BATCH_BUF);
	if (!b->mb)
		goto fail;
	b->seq = seq_start;
	b->check_only = check_only;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b->mb), b->seq++);
	mnl_nlmsg_batch_next(b->mb);
	return b;
fail:
	free(b->buf);
	free(b);
	return NULL;
}

void nft_batch_free(struct nft_batch *b)
{
	if (!b)
		return;
	mnl_nlmsg_batch_stop(b->mb);
	free(b->buf);
	free(b);
}

void *nft_batch_cur(struct nft_batch *b, uint32_t *seq)
{
	if (b->n_steps >= NFT_BATCH_MAX_MSGS)
		return NULL;
	*seq = b->seq;
	return mnl_nlmsg_batch_current(b->mb);
}

int nft_batch_next(struct nft_batch *b, const char *what)
{
	struct nft_batch_step *st = &b->steps[b->n_steps++];

	st->seq = b->seq++;
	snprintf(st->what, sizeof(st->what), "%s", what);
	/* false: the message did not fit; it stays out of the batch. */
	if (!mnl_nlmsg_batch_next(b->mb)) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

static const char *nft_batch_step_name(const struct nft_batch *b,
				       uint32_t seq)
{
	for (size_t i = 0; i < b->n_steps; i++)
		if (b->steps[i].seq == seq)
			return b->steps[i].what;
	return "batch";
}

/* The kernel queues every reply to a batch before sendmsg returns: what
 * is left of a failed one must not be read as the answer to the next
 * request on this socket. */
static void nft_batch_drain(struct mnl_socket *nl, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

	while (poll(&pfd, 1, 0) == 1 && mnl_socket_recvfrom(nl, buf, len) > 0)
		;
}

/* Reads replies until the last step is acknowledged or one failed. Only
 * the last message asks for an ACK (nft_batch_send): errors are reported
 * whatever the flag, and an ACK per message would overflow the socket's
 * receive buffer on a big batch. */
static int nft_batch_wait(struct nft_batch *b, struct mnl_socket *nl,
			  int timeout_ms, char *err, size_t errlen)
{
	char buf[NSEG_NL_BUFSZ];
	uint32_t last = b->steps[b->n_steps - 1].seq;
	int first_err = 0, done = 0;

	while (!done && !first_err) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl),
				      .events = POLLIN };
		ssize_t n;
		int len;

		if (poll(&pfd, 1, timeout_ms) <= 0) {
			snprintf(err, errlen, "no answer from nftables");
			errno = ETIMEDOUT;
			return -1;
		}
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			snprintf(err, errlen, "nftables: %s", strerror(errno));
			return -1;
		}
		len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		     mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			const struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(h);
			if (e->error != 0 && !first_err) {
				first_err = -e->error;
				snprintf(err, errlen, "%s: %s",
					 nft_batch_step_name(b, h->nlmsg_seq),
					 strerror(first_err));
			} else if (e->error == 0 && h->nlmsg_seq == last) {
				done = 1;
			}
		}
	}
	if (first_err) {
		/* The kernel aborts; replies it still sends are stale. */
		nft_batch_drain(nl, buf, sizeof(buf));
		errno = first_err;
		return -1;
	}
	return 0;
}

/* Clears NLM_F_ACK on every message but the last step. */
static void nft_batch_ack_last(struct nft_batch *b)
{
	uint32_t last = b->steps[b->n_steps - 1].seq;
	int len = (int)mnl_nlmsg_batch_size(b->mb);

	for (struct nlmsghdr *h = mnl_nlmsg_batch_head(b->mb);
	     mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len))
		if (h->nlmsg_seq != last)
			h->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
}

int nft_batch_send(struct nft_batch *b, struct mnl_socket *nl, int timeout_ms,
		   char *err, size_t errlen)
{
	int one = 1;

	if (b->n_steps == 0)
		return 0;
	nft_batch_ack_last(b);
	/* Errors need not echo the (possibly large) failing message. */
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	if (!b->check_only) {
		nftnl_batch_end(mnl_nlmsg_batch_current(b->mb), b->seq++);
		mnl_nlmsg_batch_next(b->mb);
	}
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b->mb),
			      mnl_nlmsg_batch_size(b->mb)) < 0) {
		snprintf(err, errlen, "nftables: send: %s", strerror(errno));
		return -1;
	}
	return nft_batch_wait(b, nl, timeout_ms, err, errlen);
}
