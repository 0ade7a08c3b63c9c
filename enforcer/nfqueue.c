#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/log.h"
#include "nseg/netns.h"
#include "nseg/nfqueue.h"
#include "nseg/nft_table.h"

/* Messages handled per dispatch call before yielding to the loop. */
#define NFQ_BATCH 64
#define NFQ_BUF (0xffff + NSEG_NL_BUFSZ)

/* One receive buffer for every queue: the daemon is single-threaded and a
 * message is handled before the next read, so a buffer per namespace
 * (96 KiB each) would only cost memory. */
static char nfqueue_buf[NFQ_BUF];

struct nfqueue {
	struct mnl_socket *nl;
	uint32_t accept_upto; /* accepted packets not yet verdicted: ids <= */
	int accept_pending;
	uint32_t portid;
	uint16_t num;
	nfqueue_packet_cb cb;
	void *arg;
	struct nfqueue_stats stats;
};

static int nfqueue_config_send(struct nfqueue *q, struct nlmsghdr *nlh)
{
	char buf[NSEG_NL_BUFSZ];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, 0, q->portid, NULL, NULL) < 0 ? -1
									  : 0;
}

static int nfqueue_configure(struct nfqueue *q, const struct nfqueue_opts *o)
{
	char buf[NSEG_NL_BUFSZ];
	/* No NFQA_CFG_F_UID_GID: sock_diag gives the socket's uid anyway. */
	uint32_t flags = NFQA_CFG_F_GSO;
	struct nlmsghdr *nlh;

	if (o->fail_open)
		flags |= NFQA_CFG_F_FAIL_OPEN;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (nfqueue_config_send(q, nlh) == -1)
		return -1;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)o->copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, o->maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	return nfqueue_config_send(q, nlh);
}

/* The receive buffer must hold a full queue, or the kernel drops (or,
 * fail-open, accepts) packets we never saw. */
static void nfqueue_tune_socket(struct nfqueue *q, const struct nfqueue_opts *o)
{
	int fd = mnl_socket_get_fd(q->nl);
	int one = 1;
	uint64_t want = (uint64_t)o->maxlen * (o->copy_range + 256);
	int rcvbuf = want > INT_MAX ? INT_MAX : (int)want;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) == -1)
		log_warn("%s: SO_RCVBUFFORCE %d", __func__, rcvbuf);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one,
		       sizeof(one)) == -1)
		log_warn("%s: NETLINK_NO_ENOBUFS", __func__);
}

struct nfqueue *nfqueue_open(int nsfd, const struct nfqueue_opts *o, nfqueue_packet_cb cb,
		     void *arg, char *err, size_t errlen)
{
	struct nfqueue *q = calloc(1, sizeof(*q));

	if (!q) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	q->num = o->queue_num;
	q->cb = cb;
	q->arg = arg;
	q->nl = netns_mnl_open(nsfd, NETLINK_NETFILTER);
	if (!q->nl) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	if (nfqueue_configure(q, o) == -1) {
		snprintf(err, errlen, "binding queue %u: %s", q->num,
			 errno == EBUSY ? "queue already in use by another program"
					: strerror(errno));
		goto fail;
	}
	nfqueue_tune_socket(q, o);
	if (fcntl(mnl_socket_get_fd(q->nl), F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errlen, "O_NONBLOCK: %s", strerror(errno));
		goto fail;
	}
	return q;
fail:
	nfqueue_close(q);
	return NULL;
}

void nfqueue_close(struct nfqueue *q)
{
	if (!q)
		return;
	/* Closing the socket unbinds the queue; with the bypass flag the
	 * kernel then accepts what would have been queued. */
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q);
}

int nfqueue_fd(const struct nfqueue *q)
{
	return mnl_socket_get_fd(q->nl);
}

static void nfqueue_send_verdict(struct nfqueue *q, int type, uint32_t id,
				 int verdict)
{
	/* header + verdict attribute: a few dozen bytes */
	char buf[256];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, type, q->num);

	/* The marked verdicts repeat the hook, where the table's rule for
	 * the mark acts on the packet. Like every verdict but accept, they
	 * go out on their own, after the accepts before them. */
	if (verdict == NFQUEUE_REJECT || verdict == NFQUEUE_CAPTURE) {
		nfq_nlmsg_verdict_put(nlh, (int)id, NF_REPEAT);
		nfq_nlmsg_verdict_put_mark(nlh, verdict == NFQUEUE_REJECT
							? NFT_REJECT_MARK
							: NFT_CAPTURE_MARK);
	} else {
		nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	}
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		q->stats.verdict_errors++;
		log_warn("%s: queue %u packet %u", __func__, q->num, id);
	}
}

/* Accepts every packet up to the last accepted one in one message. */
static void nfqueue_flush_accepts(struct nfqueue *q)
{
	if (!q->accept_pending)
		return;
	nfqueue_send_verdict(q, NFQNL_MSG_VERDICT_BATCH, q->accept_upto,
			     NF_ACCEPT);
	q->accept_pending = 0;
}

/* Accepts are batched until the end of the dispatch round (one syscall
 * for all of them); any other verdict goes out at once, after the accepts
 * before it, since a batch verdict covers every lower id. */
static void nfqueue_verdict(struct nfqueue *q, uint32_t id, int verdict)
{
	if (verdict == NF_ACCEPT) {
		q->accept_upto = id;
		q->accept_pending = 1;
		return;
	}
	nfqueue_flush_accepts(q);
	nfqueue_send_verdict(q, NFQNL_MSG_VERDICT, id, verdict);
}

static int nfqueue_handle_msg(const struct nlmsghdr *nlh, void *data)
{
	struct nfqueue *q = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	struct nfqueue_packet p = { 0 };

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph)) {
		q->stats.bad_messages++;
		return MNL_CB_OK;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p.id = ntohl(ph->packet_id);
	p.hook = ph->hook;
	if (attr[NFQA_PAYLOAD]) {
		p.payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	if (attr[NFQA_IFINDEX_INDEV])
		p.indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_IFINDEX_OUTDEV])
		p.outdev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
	q->stats.packets++;
	nfqueue_verdict(q, p.id, q->cb(&p, q->arg));
	return MNL_CB_OK;
}

int nfqueue_dispatch(struct nfqueue *q)
{
	uint64_t before = q->stats.packets;
	int rc = 0;

	for (int i = 0; i < NFQ_BATCH && rc == 0; i++) {
		ssize_t n = mnl_socket_recvfrom(q->nl, nfqueue_buf, NFQ_BUF);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			q->stats.recv_errors++;
			if (errno != ENOBUFS)
				rc = -1;
			continue;
		}
		if (mnl_cb_run(nfqueue_buf, (size_t)n, 0, q->portid, nfqueue_handle_msg,
			       q) < 0)
			q->stats.bad_messages++;
	}
	/* Even after a socket error: what was read is verdicted. */
	nfqueue_flush_accepts(q);
	return rc == -1 ? -1 : (int)(q->stats.packets - before);
}

void nfqueue_get_stats(const struct nfqueue *q, struct nfqueue_stats *out)
{
	*out = q->stats;
}
