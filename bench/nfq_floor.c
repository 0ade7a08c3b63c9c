/*
 * nfq_floor: the cheapest possible NFQUEUE reader, the floor any per-packet
 * userspace decision is measured against. It binds one queue number in
 * each network namespace it is given (or in its own), verdicts NF_ACCEPT
 * for every packet and does nothing else. It installs no rules: the bench
 * harness installs the same table nsegd uses (bench/nft_queue_table).
 *
 *   nfq_floor QUEUE [NETNS...]
 *
 * One thread serves every namespace from one epoll loop, as nsegd does, so
 * the two are compared on the same footing. The queue is configured like
 * nsegd's (copy 256 bytes, GSO, fail-open, 4096 deep, NO_ENOBUFS) except
 * that it does not ask the kernel for the socket's uid/gid.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOR_MAXNS 16
#define FLOOR_COPY_RANGE 256
#define FLOOR_MAXLEN 4096
#define FLOOR_BUFSZ (0xffff + 32768)

struct floor_q {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
	uint64_t packets;
	uint64_t verdict_errors;
};

static volatile sig_atomic_t floor_stop;

static void floor_on_signal(int sig)
{
	floor_stop = sig;
}

static int floor_config_send(struct floor_q *q, struct nlmsghdr *nlh)
{
	char buf[8192];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, 0, q->portid, NULL, NULL) < 0 ? -1 : 0;
}

static int floor_configure(struct floor_q *q)
{
	uint32_t flags = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
	int fd = mnl_socket_get_fd(q->nl);
	int one = 1, rcvbuf = FLOOR_MAXLEN * (FLOOR_COPY_RANGE + 256);
	char buf[8192];
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (floor_config_send(q, nlh) == -1)
		return -1;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, FLOOR_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, FLOOR_MAXLEN);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	if (floor_config_send(q, nlh) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	return fcntl(fd, F_SETFL, O_NONBLOCK);
}

/* Opens and binds the queue in netns name (NULL: the current one), then
 * returns to the namespace we started in (self). */
static int floor_open(struct floor_q *q, uint16_t num, const char *name,
		      int self)
{
	char path[512];
	int nsfd = -1, rc = -1;

	q->num = num;
	if (name) {
		snprintf(path, sizeof(path), "/run/netns/%s", name);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd == -1 || setns(nsfd, CLONE_NEWNET) == -1) {
			fprintf(stderr, "nfq_floor: netns %s: %s\n", name,
				strerror(errno));
			goto out;
		}
	}
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl || mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "nfq_floor: netlink socket: %s\n",
			strerror(errno));
		goto out;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	if (floor_configure(q) == -1) {
		fprintf(stderr, "nfq_floor: binding queue %u in %s: %s\n", num,
			name ? name : "own netns", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (nsfd != -1) {
		close(nsfd);
		if (setns(self, CLONE_NEWNET) == -1) {
			fprintf(stderr, "nfq_floor: returning to own netns: %s\n",
				strerror(errno));
			rc = -1;
		}
	}
	return rc;
}

static void floor_verdict(struct floor_q *q, uint32_t id)
{
	char buf[256];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, q->num);

	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		q->verdict_errors++;
}

static int floor_on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct floor_q *q = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	q->packets++;
	floor_verdict(q, ntohl(ph->packet_id));
	return MNL_CB_OK;
}

/* Drains what is pending on q without blocking. */
static void floor_drain(struct floor_q *q, char *buf)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, buf, FLOOR_BUFSZ);

		if (n < 0) {
			if (errno == ENOBUFS)
				continue;
			return;
		}
		mnl_cb_run(buf, (size_t)n, 0, q->portid, floor_on_msg, q);
	}
}

static int floor_loop(struct floor_q *qs, int nq)
{
	struct epoll_event ev[FLOOR_MAXNS];
	char *buf = malloc(FLOOR_BUFSZ);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int rc = -1;

	if (!buf || ep == -1)
		goto out;
	for (int i = 0; i < nq; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &qs[i] };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, mnl_socket_get_fd(qs[i].nl),
			      &e) == -1)
			goto out;
	}
	while (!floor_stop) {
		int n = epoll_wait(ep, ev, FLOOR_MAXNS, -1);

		if (n == -1 && errno != EINTR)
			goto out;
		for (int i = 0; i < n; i++)
			floor_drain(ev[i].data.ptr, buf);
	}
	rc = 0;
out:
	if (rc == -1)
		fprintf(stderr, "nfq_floor: event loop: %s\n", strerror(errno));
	if (ep != -1)
		close(ep);
	free(buf);
	return rc;
}

static int floor_parse_queue(const char *s, uint16_t *num)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 65535) {
		fprintf(stderr, "nfq_floor: bad queue number '%s' (0-65535)\n",
			s);
		return -1;
	}
	*num = (uint16_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct floor_q qs[FLOOR_MAXNS] = { 0 };
	struct sigaction sa = { .sa_handler = floor_on_signal };
	int nq = argc > 2 ? argc - 2 : 1;
	int self, rc = 1;
	uint16_t num;

	if (argc < 2 || nq > FLOOR_MAXNS) {
		fprintf(stderr, "usage: nfq_floor QUEUE [NETNS...] (at most %d)\n",
			FLOOR_MAXNS);
		return 2;
	}
	if (floor_parse_queue(argv[1], &num) == -1)
		return 2;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self == -1) {
		perror("nfq_floor: /proc/self/ns/net");
		return 1;
	}
	for (int i = 0; i < nq; i++)
		if (floor_open(&qs[i], num, argc > 2 ? argv[i + 2] : NULL,
			       self) == -1)
			goto out;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (floor_loop(qs, nq) == 0)
		rc = 0;
	for (int i = 0; i < nq; i++)
		fprintf(stderr, "nfq_floor: %s: %llu packets, %llu verdict errors\n",
			argc > 2 ? argv[i + 2] : "own netns",
			(unsigned long long)qs[i].packets,
			(unsigned long long)qs[i].verdict_errors);
out:
	for (int i = 0; i < nq; i++)
		if (qs[i].nl)
			mnl_socket_close(qs[i].nl);
	close(self);
	return rc;
}
