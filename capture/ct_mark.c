#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "nseg/ct_mark.h"
#include "nseg/log.h"
#include "nseg/netns.h"
#include "nseg/nft_table.h"

static int ct_mark_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_DCCP ||
	       proto == IPPROTO_UDPLITE;
}

static void ct_mark_put_ip(struct nlmsghdr *nlh, const struct ct_mark_tuple *t)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);

	if (t->src.family == AF_INET) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, t->src.a);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, t->dst.a);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, t->src.a);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, t->dst.a);
	}
	mnl_attr_nest_end(nlh, nest);
}

static void ct_mark_put_proto(struct nlmsghdr *nlh,
			      const struct ct_mark_tuple *t)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);

	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	if (ct_mark_has_ports(t->proto)) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	} else if (t->proto == IPPROTO_ICMP) {
		mnl_attr_put_u16(nlh, CTA_PROTO_ICMP_ID, htons(t->icmp_id));
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_TYPE, t->icmp_type);
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_CODE, t->icmp_code);
	} else if (t->proto == IPPROTO_ICMPV6) {
		mnl_attr_put_u16(nlh, CTA_PROTO_ICMPV6_ID, htons(t->icmp_id));
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_TYPE, t->icmp_type);
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_CODE, t->icmp_code);
	}
	mnl_attr_nest_end(nlh, nest);
}

/* IPCTNL_MSG_CT_NEW without NLM_F_CREATE: an update of the entry the
 * original tuple finds, ENOENT when there is none. The kernel computes
 * (mark & ~CTA_MARK_MASK) ^ CTA_MARK, so value is cut to the mask. */
static struct nlmsghdr *ct_mark_build(char *buf, uint32_t seq,
				      const struct ct_mark_tuple *t,
				      uint32_t value, uint32_t mask)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nlattr *orig;

	nlh->nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = t->src.family;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	orig = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ct_mark_put_ip(nlh, t);
	ct_mark_put_proto(nlh, t);
	mnl_attr_nest_end(nlh, orig);
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(value & mask));
	mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
	return nlh;
}

static int ct_mark_valid(const struct ct_mark_tuple *t)
{
	return (t->src.family == AF_INET || t->src.family == AF_INET6) &&
	       t->src.family == t->dst.family;
}

/* Sends the request on a socket of the namespace and reads its ack. The
 * kernel answers before sendto() returns, so the receive cannot block
 * for long; the timeout only guards against the unexpected. */
static int ct_mark_send(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[NSEG_NL_BUFSZ];
	struct timeval tv = {.tv_sec = 1};
	ssize_t n;

	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq,
			  mnl_socket_get_portid(nl), NULL, NULL) < 0
		   ? -1
		   : 0;
}

int ct_mark_update(int nsfd, const struct ct_mark_tuple *t, uint32_t value,
		   uint32_t mask)
{
	char buf[512];
	struct mnl_socket *nl;
	int rc, saved;

	if (!ct_mark_valid(t)) {
		log_warnx("%s: tuple families %u/%u", __func__, t->src.family,
			  t->dst.family);
		errno = EINVAL;
		return -1;
	}
	nl = netns_mnl_open(nsfd, NETLINK_NETFILTER);
	if (!nl) {
		log_warn("%s: netlink socket", __func__);
		return -1;
	}
	rc = ct_mark_send(
	    nl, ct_mark_build(buf, (uint32_t)time(NULL), t, value, mask));
	saved = errno;
	mnl_socket_close(nl);
	if (rc == -1 && saved == ENOENT)
		return 1;
	if (rc == -1)
		log_warnx("%s: ctnetlink update: %s", __func__,
			  strerror(saved));
	errno = saved;
	return rc;
}

int ct_mark_clear_capture(int nsfd, const struct ct_mark_tuple *t)
{
	return ct_mark_update(nsfd, t, 0, NFT_CAPTURE_CT_BIT);
}
