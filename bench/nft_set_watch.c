/*
 * nft_set_watch: how long a namespace's new address takes to reach the
 * nftables sets that name it in other namespaces. It listens, without
 * polling, to address notifications in SRC_NETNS and to nftables
 * notifications in each NETNS, and times from the kernel's notice that
 * ADDR was added in SRC_NETNS to the first set element notice carrying
 * ADDR in each NETNS (the commit of the transaction that put it there).
 *
 *   nft_set_watch [-t TIMEOUT_MS] SRC_NETNS ADDR NETNS...
 *
 * Prints "ready" once every socket listens (the harness adds the address
 * after that), then one line per namespace that got the address and a
 * summary:
 *
 *   set NETNS US
 *   watched=N seen=K p50_us=X max_us=Y lost=L
 *
 * lost counts sockets that overflowed (notifications lost, ENOBUFS). It
 * exits when every namespace has the address or TIMEOUT_MS (default 5000)
 * after "ready".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define SW_BUFSZ (1 << 20)
#define SW_RCVBUF (16 << 20)

struct sw_ns {
	const char *name;
	struct mnl_socket *nl;
	uint64_t seen_ns; /* 0 until ADDR showed up in one of its sets */
};

struct sw {
	int family;
	uint8_t addr[16];
	size_t alen;
	uint64_t added_ns;
	struct sw_ns *ns;
	int n;
	int seen;
	int lost;
};

static uint64_t sw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A netlink socket of protocol proto in /run/netns/name subscribed to
 * groups (a mask of RTMGRP_* or 1 << (NFNLGRP_* - 1)). */
static struct mnl_socket *sw_open(const char *name, int proto, unsigned groups,
				  int self)
{
	struct mnl_socket *nl = NULL;
	int nsfd, sz = SW_RCVBUF;
	char path[512];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd == -1 || setns(nsfd, CLONE_NEWNET) == -1) {
		fprintf(stderr, "nft_set_watch: netns %s: %s\n", name,
			strerror(errno));
		goto out;
	}
	nl = mnl_socket_open2(proto, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl || mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "nft_set_watch: netlink in %s: %s\n", name,
			strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		nl = NULL;
		goto out;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &sz,
		   sizeof(sz));
out:
	if (nsfd != -1)
		close(nsfd);
	if (setns(self, CLONE_NEWNET) == -1) {
		fprintf(stderr, "nft_set_watch: back to own netns: %s\n",
			strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		nl = NULL;
	}
	return nl;
}

static int sw_addr_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFA_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int sw_on_addr(const struct nlmsghdr *nlh, void *data)
{
	struct sw *s = data;
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *at;

	if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != s->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), sw_addr_attr, tb);
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (at && mnl_attr_get_payload_len(at) == s->alen &&
	    memcmp(mnl_attr_get_payload(at), s->addr, s->alen) == 0 &&
	    !s->added_ns)
		s->added_ns = sw_now_ns();
	return MNL_CB_OK;
}

static int sw_elems_have(const struct nlmsghdr *nlh, const struct sw *s)
{
	struct nftnl_set *set = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it = NULL;
	struct nftnl_set_elem *e;
	int found = 0;

	if (!set || nftnl_set_elems_nlmsg_parse(nlh, set) < 0)
		goto out;
	it = nftnl_set_elems_iter_create(set);
	for (e = it ? nftnl_set_elems_iter_cur(it) : NULL; e && !found;
	     e = nftnl_set_elems_iter_next(it)) {
		uint32_t len = 0;
		const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

		found = k && len == s->alen && memcmp(k, s->addr, len) == 0;
	}
out:
	if (it)
		nftnl_set_elems_iter_destroy(it);
	if (set)
		nftnl_set_free(set);
	return found;
}

struct sw_cb {
	struct sw *s;
	struct sw_ns *ns;
};

static int sw_on_nft(const struct nlmsghdr *nlh, void *data)
{
	struct sw_cb *c = data;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM ||
	    c->ns->seen_ns || !sw_elems_have(nlh, c->s))
		return MNL_CB_OK;
	c->ns->seen_ns = sw_now_ns();
	c->s->seen++;
	return MNL_CB_OK;
}

/* Reads what is pending on nl; ns is NULL for the address socket. */
static void sw_drain(struct sw *s, struct mnl_socket *nl, struct sw_ns *ns,
		     char *buf)
{
	struct sw_cb c = { s, ns };

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, SW_BUFSZ);

		if (n < 0) {
			if (errno == ENOBUFS) {
				s->lost++;
				continue;
			}
			return;
		}
		if (ns)
			mnl_cb_run(buf, (size_t)n, 0, 0, sw_on_nft, &c);
		else
			mnl_cb_run(buf, (size_t)n, 0, 0, sw_on_addr, s);
	}
}

static int sw_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void sw_report(const struct sw *s)
{
	uint64_t *v = calloc((size_t)s->n + 1, sizeof(*v));
	int k = 0;

	for (int i = 0; v && i < s->n; i++) {
		uint64_t t = s->ns[i].seen_ns;

		if (!t)
			continue;
		t = t > s->added_ns && s->added_ns ? t - s->added_ns : 0;
		printf("set %s %llu\n", s->ns[i].name,
		       (unsigned long long)(t / 1000));
		v[k++] = t / 1000;
	}
	if (v)
		qsort(v, (size_t)k, sizeof(*v), sw_cmp_u64);
	printf("watched=%d seen=%d p50_us=%llu max_us=%llu lost=%d\n", s->n, k,
	       (unsigned long long)(k ? v[(k - 1) / 2] : 0),
	       (unsigned long long)(k ? v[k - 1] : 0), s->lost);
	free(v);
}

static int sw_loop(struct sw *s, struct mnl_socket *rt, int timeout_ms)
{
	struct epoll_event ev[64];
	int ep = epoll_create1(EPOLL_CLOEXEC), rc = -1;
	char *buf = malloc(SW_BUFSZ);
	uint64_t end;

	if (ep == -1 || !buf)
		goto out;
	for (int i = -1; i < s->n; i++) {
		struct mnl_socket *nl = i < 0 ? rt : s->ns[i].nl;
		struct epoll_event e = { .events = EPOLLIN,
					  .data.u32 = (uint32_t)(i + 1) };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, mnl_socket_get_fd(nl), &e) == -1)
			goto out;
	}
	printf("ready\n");
	fflush(stdout);
	end = sw_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	while (s->seen < s->n && sw_now_ns() < end) {
		int n = epoll_wait(ep, ev, 64, 50);

		for (int i = 0; i < n; i++) {
			uint32_t k = ev[i].data.u32;

			if (k == 0)
				sw_drain(s, rt, NULL, buf);
			else
				sw_drain(s, s->ns[k - 1].nl, &s->ns[k - 1], buf);
		}
	}
	rc = 0;
out:
	if (rc == -1)
		fprintf(stderr, "nft_set_watch: event loop: %s\n",
			strerror(errno));
	if (ep != -1)
		close(ep);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	struct sw s = { 0 };
	struct mnl_socket *rt = NULL;
	int timeout_ms = 5000, self, c, rc = 1;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c != 't' || (timeout_ms = atoi(optarg)) <= 0) {
			fprintf(stderr, "nft_set_watch: bad timeout\n");
			return 2;
		}
	}
	if (argc - optind < 3) {
		fprintf(stderr, "usage: nft_set_watch [-t TIMEOUT_MS] SRC_NETNS "
				"ADDR NETNS...\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[optind + 1], s.addr) == 1) {
		s.family = AF_INET;
		s.alen = 4;
	} else if (inet_pton(AF_INET6, argv[optind + 1], s.addr) == 1) {
		s.family = AF_INET6;
		s.alen = 16;
	} else {
		fprintf(stderr, "nft_set_watch: bad address '%s'\n",
			argv[optind + 1]);
		return 2;
	}
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	s.n = argc - optind - 2;
	s.ns = calloc((size_t)s.n, sizeof(*s.ns));
	if (self == -1 || !s.ns) {
		perror("nft_set_watch");
		goto out;
	}
	rt = sw_open(argv[optind], NETLINK_ROUTE,
		     RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, self);
	if (!rt)
		goto out;
	for (int i = 0; i < s.n; i++) {
		s.ns[i].name = argv[optind + 2 + i];
		s.ns[i].nl = sw_open(s.ns[i].name, NETLINK_NETFILTER,
				     1u << (NFNLGRP_NFTABLES - 1), self);
		if (!s.ns[i].nl)
			goto out;
	}
	if (sw_loop(&s, rt, timeout_ms) == 0) {
		sw_report(&s);
		rc = 0;
	}
out:
	for (int i = 0; s.ns && i < s.n; i++)
		if (s.ns[i].nl)
			mnl_socket_close(s.ns[i].nl);
	if (rt)
		mnl_socket_close(rt);
	free(s.ns);
	if (self != -1)
		close(self);
	return rc;
}
