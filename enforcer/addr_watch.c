#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nseg/addr_watch.h"
#include "nseg/log.h"
#include "nseg/netns.h"

struct addr_watch {
	struct mnl_socket *nl;
	addr_watch_cb cb;
	void *arg;
};

/* Shared by every watch: single-threaded, each read handled at once. */
static char addr_watch_buf[NSEG_NL_BUFSZ];

static int addr_watch_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = a;
	return MNL_CB_OK;
}

static int addr_watch_msg(const struct nlmsghdr *nlh, void *data)
{
	struct addr_watch *w = data;
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa;
	const struct nlattr *at;
	struct nseg_addr a = { 0 };
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_watch_attr, tb);
	/* IFA_LOCAL is the local end of a point-to-point link; IFA_ADDRESS
	 * the address otherwise. */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!at)
		return MNL_CB_OK;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	if (mnl_attr_get_payload_len(at) != alen)
		return MNL_CB_OK;
	a.family = ifa->ifa_family;
	memcpy(a.a, mnl_attr_get_payload(at), alen);
	w->cb(nlh->nlmsg_type == RTM_NEWADDR, &a, w->arg);
	return MNL_CB_OK;
}

static int addr_watch_dump(struct addr_watch *w, int family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(addr_watch_buf);
	struct ifaddrmsg *ifa;
	uint32_t seq = (uint32_t)time(NULL) + (uint32_t)family;
	int rc;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	if (mnl_socket_sendto(w->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(w->nl),
				      .events = POLLIN };
		ssize_t n;

		/* The socket may be non-blocking (resync): wait, bounded. */
		if (poll(&pfd, 1, 2000) != 1)
			return -1;
		n = mnl_socket_recvfrom(w->nl, addr_watch_buf, sizeof(addr_watch_buf));
		if (n < 0)
			return -1;
		/* Notifications (seq 0) may interleave with the dump; both
		 * are handled alike. */
		rc = mnl_cb_run(addr_watch_buf, (size_t)n, 0, 0, addr_watch_msg, w);
		if (rc < 0)
			return -1;
		if (rc == MNL_CB_STOP) {
			const struct nlmsghdr *h = (const struct nlmsghdr *)addr_watch_buf;
			if (h->nlmsg_seq == seq)
				break;
		}
	} while (1);
	return 0;
}

struct addr_watch *addr_watch_open(int nsfd, addr_watch_cb cb, void *arg)
{
	struct addr_watch *w = calloc(1, sizeof(*w));
	unsigned groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;

	if (!w)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	if (nsfd == -1) {
		w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
		if (w->nl && mnl_socket_bind(w->nl, groups, MNL_SOCKET_AUTOPID) < 0) {
			mnl_socket_close(w->nl);
			w->nl = NULL;
		}
	} else {
		w->nl = netns_mnl_open(nsfd, NETLINK_ROUTE);
		/* netns_mnl_open binds without groups: join them now. */
		if (w->nl) {
			int g4 = RTNLGRP_IPV4_IFADDR, g6 = RTNLGRP_IPV6_IFADDR;
			int fd = mnl_socket_get_fd(w->nl);
			setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g4,
				   sizeof(g4));
			setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g6,
				   sizeof(g6));
		}
	}
	if (!w->nl || addr_watch_dump(w, AF_INET) == -1 ||
	    addr_watch_dump(w, AF_INET6) == -1 ||
	    fcntl(mnl_socket_get_fd(w->nl), F_SETFL, O_NONBLOCK) == -1) {
		log_warn("%s: rtnetlink", __func__);
		addr_watch_close(w);
		return NULL;
	}
	return w;
}

void addr_watch_close(struct addr_watch *w)
{
	if (!w)
		return;
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w);
}

int addr_watch_resync(struct addr_watch *w)
{
	if (addr_watch_dump(w, AF_INET) == -1 ||
	    addr_watch_dump(w, AF_INET6) == -1) {
		log_warn("%s: rtnetlink dump", __func__);
		return -1;
	}
	return 0;
}

int addr_watch_fd(const struct addr_watch *w)
{
	return mnl_socket_get_fd(w->nl);
}

int addr_watch_dispatch(struct addr_watch *w)
{
	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(w->nl, addr_watch_buf, sizeof(addr_watch_buf));

		if (n < 0) {
			if (errno == ENOBUFS)
				return -1;
			return 0;
		}
		mnl_cb_run(addr_watch_buf, (size_t)n, 0, 0, addr_watch_msg, w);
	}
	return 0;
}
