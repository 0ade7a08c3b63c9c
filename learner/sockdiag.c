#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/sockdiag.h"

struct sockdiag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

static uint32_t sockdiag_seq;

static void sockdiag_put_addr(__be32 *dst, const struct nseg_addr *a)
{
	memcpy(dst, a->a, a->family == AF_INET ? 4 : 16);
}

static int sockdiag_query(int fd, uint8_t proto, const struct nseg_addr *src,
			  uint16_t sport, const struct nseg_addr *dst,
			  uint16_t dport, uint32_t ifindex,
			  struct sockdiag_sock *out)
{
	struct sockdiag_req req = { 0 };
	char buf[1024];
	ssize_t n;
	uint32_t seq = ++sockdiag_seq;

	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_seq = seq;
	req.r.sdiag_family = src->family;
	req.r.sdiag_protocol = proto;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_sport = htons(sport);
	req.r.id.idiag_dport = htons(dport);
	req.r.id.idiag_if = ifindex;
	sockdiag_put_addr(req.r.id.idiag_src, src);
	sockdiag_put_addr(req.r.id.idiag_dst, dst);
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

	if (send(fd, &req, sizeof(req), 0) == -1)
		return -1;
	/* The kernel answers within send(); a reply of an earlier request
	 * that timed out (there are none today) would carry another seq. */
	for (;;) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1)
			return -1;
		if (n < (ssize_t)sizeof(*h) || h->nlmsg_len > (size_t)n)
			continue;
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
				errno = EPROTO;
				return -1;
			}
			errno = e->error ? -e->error : ENOENT;
			return -1;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			errno = EPROTO;
			return -1;
		}
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		out->inode = m->idiag_inode;
		out->uid = m->idiag_uid;
		out->state = m->idiag_state;
		return 0;
	}
}

int sockdiag_lookup(int fd, uint8_t proto, const struct nseg_addr *local,
		    uint16_t lport, const struct nseg_addr *remote,
		    uint16_t rport, uint32_t ifindex, struct sockdiag_sock *out)
{
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (local->family != remote->family) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	/* The kernel's UDP lookup reads idiag_src as the remote end ("src
	 * and dst are swapped for historical reasons", udp_diag.c); TCP
	 * reads it as the local end. */
	if (proto == IPPROTO_UDP)
		return sockdiag_query(fd, proto, remote, rport, local, lport,
				      ifindex, out);
	return sockdiag_query(fd, proto, local, lport, remote, rport, ifindex,
			      out);
}

int sockdiag_lookup_server(int fd, uint8_t proto, const struct nseg_addr *local,
			   uint16_t lport, const struct nseg_addr *remote,
			   uint16_t rport, uint32_t ifindex,
			   struct sockdiag_sock *out)
{
	struct nseg_addr any = { .family = remote->family };

	if (sockdiag_lookup(fd, proto, local, lport, remote, rport, ifindex,
			    out) == -1)
		return -1;
	if (proto != IPPROTO_TCP || (out->state != SOCKDIAG_TCP_TIME_WAIT &&
				     out->state != SOCKDIAG_TCP_NEW_SYN_RECV))
		return 0;
	/* A server that closes first (HTTP with "Connection: close") keeps
	 * thousands of TIME_WAIT entries, and clients reuse their ports: the
	 * kernel looks those up before listeners. Remote port 0 matches no
	 * connection, so the kernel's lookup falls through to the listener. */
	return sockdiag_lookup(fd, proto, local, lport, &any, 0, ifindex, out);
}
