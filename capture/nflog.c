#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/log.h"
#include "nseg/netns.h"
#include "nseg/nflog.h"

/* Datagrams read per dispatch call before yielding to the loop. */
#define NFLOG_BATCH 64
/* The kernel fills a datagram up to NFLOG_NLBUFSIZ, or sends one packet
 * message alone when it is bigger: at most copy_range plus headers. */
#define NFLOG_NLBUFSIZ NSEG_NL_BUFSZ
#define NFLOG_BUF (0xffff + NSEG_NL_BUFSZ)

#define NFLOG_DEF_QTHRESH 16
#define NFLOG_DEF_TIMEOUT_CS 1
#define NFLOG_DEF_RCVBUF (4u << 20)

/* One receive buffer for every receiver, as in nfqueue.c: the daemon is
 * single-threaded and a datagram is parsed before the next read. */
static char nflog_buf[NFLOG_BUF] __attribute__((aligned(8)));

struct nflog {
	struct mnl_socket *nl;
	uint32_t portid;
	struct nflog_parser ps;
};

static struct nlmsghdr *nflog_cfg_msg(char *buf, uint16_t group)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	return nlh;
}

/* Sends a config message and reads its ack. */
static int nflog_cfg_send(struct nflog *l, struct nlmsghdr *nlh)
{
	char buf[NSEG_NL_BUFSZ];
	ssize_t n;

	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(l->nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, 0, l->portid, NULL, NULL) < 0 ? -1
									: 0;
}

static int nflog_configure(struct nflog *l, const struct nflog_opts *o)
{
	char buf[256];
	struct nfulnl_msg_config_cmd cmd = {NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {0};
	struct nlmsghdr *nlh;

	nlh = nflog_cfg_msg(buf, l->ps.group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (nflog_cfg_send(l, nlh) == -1)
		return -1;

	mode.copy_mode = NFULNL_COPY_PACKET;
	mode.copy_range = htonl(
	    o->copy_range && o->copy_range < 0xffff ? o->copy_range : 0xffff);
	nlh = nflog_cfg_msg(buf, l->ps.group);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(NFLOG_NLBUFSIZ));
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH,
			 htonl(o->qthresh ? o->qthresh : NFLOG_DEF_QTHRESH));
	mnl_attr_put_u32(
	    nlh, NFULA_CFG_TIMEOUT,
	    htonl(o->timeout_cs ? o->timeout_cs : NFLOG_DEF_TIMEOUT_CS));
	/* Sequence numbers, so that what the kernel could not deliver shows
	 * as a gap (nflog_stats.lost). */
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	return nflog_cfg_send(l, nlh);
}

/* Unlike the queue (nfqueue.c), no NETLINK_NO_ENOBUFS: an overrun is
 * reported, and counted, rather than silently lost. */
static void nflog_tune_socket(struct nflog *l, const struct nflog_opts *o)
{
	int fd = mnl_socket_get_fd(l->nl);
	int rcvbuf =
	    (int)(o->rcvbuf && o->rcvbuf < 0x40000000u ? o->rcvbuf
						       : NFLOG_DEF_RCVBUF);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) == -1)
		log_warn("%s: SO_RCVBUFFORCE %d", __func__, rcvbuf);
}

struct nflog *nflog_open(int nsfd, const struct nflog_opts *o,
			 nflog_packet_cb cb, void *arg, char *err,
			 size_t errlen)
{
	struct nflog *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->ps.group = o->group;
	l->ps.cb = cb;
	l->ps.arg = arg;
	l->nl = netns_mnl_open(nsfd, NETLINK_NETFILTER);
	if (!l->nl) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		goto fail;
	}
	l->portid = mnl_socket_get_portid(l->nl);
	if (nflog_configure(l, o) == -1) {
		/* The kernel says EPERM when another socket holds the
		 * group, as well as to a caller without CAP_NET_ADMIN. */
		snprintf(err, errlen, "binding log group %u: %s", o->group,
			 errno == EPERM || errno == EBUSY
			     ? "group in use by another program, or "
			       "not permitted"
			     : strerror(errno));
		goto fail;
	}
	nflog_tune_socket(l, o);
	if (fcntl(mnl_socket_get_fd(l->nl), F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errlen, "O_NONBLOCK: %s", strerror(errno));
		goto fail;
	}
	return l;
fail:
	nflog_close(l);
	return NULL;
}

void nflog_close(struct nflog *l)
{
	if (!l)
		return;
	if (l->nl)
		mnl_socket_close(l->nl);
	free(l);
}

int nflog_fd(const struct nflog *l)
{
	return mnl_socket_get_fd(l->nl);
}

int nflog_dispatch(struct nflog *l)
{
	uint64_t before = l->ps.stats.packets;
	int rc = 0;

	for (int i = 0; i < NFLOG_BATCH && rc == 0; i++) {
		ssize_t n = mnl_socket_recvfrom(l->nl, nflog_buf, NFLOG_BUF);

		if (n >= 0) {
			nflog_parse(&l->ps, nflog_buf, (size_t)n);
			continue;
		}
		if (errno == EAGAIN || errno == EINTR)
			break;
		if (errno == ENOBUFS) {
			l->ps.stats.overruns++;
			continue;
		}
		l->ps.stats.recv_errors++;
		/* ENOSPC: a datagram bigger than the buffer, dropped by
		 * libmnl; the next one is fine. */
		if (errno != ENOSPC)
			rc = -1;
	}
	if (rc == -1)
		log_warn("%s: log group %u", __func__, l->ps.group);
	return rc == -1 ? -1 : (int)(l->ps.stats.packets - before);
}

void nflog_get_stats(const struct nflog *l, struct nflog_stats *out)
{
	*out = l->ps.stats;
}
