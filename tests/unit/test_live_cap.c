/*
 * Live capture against the real kernel: two throwaway network namespaces,
 * each held by a child process (killed with us, so nothing outlives a
 * failed test), with only their loopback up. A filtered capture in one
 * sees exactly the matching traffic sent there and nothing of the other's;
 * bad filters get libpcap's own message, bad namespace fds a clear error.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_netns.h"
#include "nseg/live_cap.h"
#include "nseg/nsthread.h"

#define SLL_HDR 16
#define PAYLOAD "nseg-live-"
#define NSEND 3

struct holder {
	pid_t pid;
	int nsfd;
};

/* A child in a new netns with lo up, alive until we kill it or die. */
static void holder_start(struct holder *h)
{
	char path[64], ok = 0;
	int pfd[2];

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	h->pid = fork();
	ck_assert_int_ne(h->pid, -1);
	if (h->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fixture_netns_enter() == 0)
			ok = 1;
		if (write(pfd[1], &ok, 1) != 1 || !ok)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &ok, 1), 1);
	close(pfd[0]);
	ck_assert_msg(ok, "child could not create a netns with lo up");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)h->pid);
	h->nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(h->nsfd, 0);
}

static void holder_stop(struct holder *h)
{
	close(h->nsfd);
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
}

struct ns_sock {
	int type;
	int fd;
};

static int ns_sock_cb(void *arg)
{
	struct ns_sock *s = arg;

	s->fd = socket(AF_INET, s->type | SOCK_CLOEXEC, 0);
	return s->fd == -1 ? -1 : 0;
}

/* A socket of nsfd's namespace, optionally bound to 127.0.0.1:port. */
static int ns_socket(int nsfd, int type, int port)
{
	struct ns_sock s = {type, -1};
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;

	ck_assert_int_eq(nsthread_run(nsfd, ns_sock_cb, &s), 0);
	if (port) {
		setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ck_assert_int_eq(bind(s.fd, (struct sockaddr *)&a, sizeof(a)),
				 0);
	}
	return s.fd;
}

static void udp_send(int fd, int port, const char *msg)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	ck_assert_int_eq(
	    sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof(a)),
	    (ssize_t)strlen(msg));
}

/* One TCP connection on port 5555 with a few bytes of data. */
static void tcp_exchange(int nsfd)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(5555),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int l = ns_socket(nsfd, SOCK_STREAM, 5555);
	int c = ns_socket(nsfd, SOCK_STREAM, 0);

	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(write(c, "tcp", 3), 3);
	close(c);
	close(l);
}

/* What the capture saw, decoded from the SLL + IPv4 + UDP headers. */
struct seen {
	int match[NSEND]; /* UDP to 5555 with payload PAYLOAD<i> */
	int other;	  /* anything else */
	struct timeval first, last;
	int n;
};

static int udp_to_5555(const uint8_t *b, uint32_t len, int *seq)
{
	const uint8_t *ip = b + SLL_HDR, *udp;
	size_t plen = strlen(PAYLOAD);

	if (len < SLL_HDR + 20 || ((b[14] << 8) | b[15]) != 0x0800)
		return 0;
	udp = ip + (ip[0] & 0x0f) * 4;
	if (ip[9] != IPPROTO_UDP || udp + 8 + plen + 1 > b + len)
		return 0;
	if (((udp[2] << 8) | udp[3]) != 5555 ||
	    memcmp(udp + 8, PAYLOAD, plen) != 0)
		return 0;
	*seq = udp[8 + plen] - '0';
	return *seq >= 0 && *seq < NSEND;
}

static void collect(void *arg, const struct pcap_pkthdr *h,
		    const uint8_t *bytes)
{
	struct seen *s = arg;
	int seq;

	ck_assert_uint_le(h->caplen, h->len);
	if (s->n++ == 0)
		s->first = h->ts;
	s->last = h->ts;
	if (udp_to_5555(bytes, h->caplen, &seq))
		s->match[seq]++;
	else
		s->other++;
}

static int all_matched(const struct seen *s)
{
	for (int i = 0; i < NSEND; i++)
		if (!s->match[i])
			return 0;
	return 1;
}

/* Polls and dispatches until every datagram arrived (want) or, for a
 * capture that must stay silent, until the quiet period is over. */
static void drain(struct live_cap *cap, struct seen *s, int want, int ms)
{
	struct pollfd p = {live_cap_fd(cap), POLLIN, 0};

	while (!(want && all_matched(s)) && poll(&p, 1, ms) > 0)
		ck_assert_int_ge(live_cap_dispatch(cap, 0, collect, s), 0);
	ck_assert_int_ge(live_cap_dispatch(cap, 0, collect, s), 0);
}

static struct live_cap *open_ok(int nsfd, const char *filter)
{
	struct live_cap_opts o = {.filter = filter};
	struct live_cap *cap;
	char err[512];

	cap = live_cap_open(nsfd, &o, err, sizeof(err));
	ck_assert_msg(cap, "live_cap_open: %s", err);
	ck_assert_int_eq(live_cap_datalink(cap), DLT_LINUX_SLL);
	ck_assert_int_eq(live_cap_snaplen(cap), LIVE_CAP_SNAPLEN_DEFAULT);
	ck_assert_int_ne(fcntl(live_cap_fd(cap), F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(live_cap_fd(cap), F_GETFD) & FD_CLOEXEC, 0);
	return cap;
}

static long tv_ms(struct timeval t)
{
	return (long)t.tv_sec * 1000 + t.tv_usec / 1000;
}

static void send_mixed(int nsfd)
{
	int r5 = ns_socket(nsfd, SOCK_DGRAM, 5555);
	int r6 = ns_socket(nsfd, SOCK_DGRAM, 5556);
	int tx = ns_socket(nsfd, SOCK_DGRAM, 0);
	char msg[32];

	for (int i = 0; i < NSEND; i++) {
		snprintf(msg, sizeof(msg), PAYLOAD "%d", i);
		udp_send(tx, 5555, msg);
		udp_send(tx, 5556, msg);
	}
	tcp_exchange(nsfd);
	close(tx);
	close(r6);
	close(r5);
}

START_TEST(test_capture_in_netns)
{
	struct holder a, b;
	struct live_cap *ca, *cb;
	struct live_cap_stats st;
	struct seen sa = {0}, sb = {0};
	struct timeval t0, t1;

	if (geteuid() != 0)
		return; /* netns and packet sockets need root */
	holder_start(&a);
	holder_start(&b);
	ca = open_ok(a.nsfd, "udp port 5555");
	cb = open_ok(b.nsfd, NULL);

	gettimeofday(&t0, NULL);
	send_mixed(a.nsfd);
	drain(ca, &sa, 1, 2000);
	gettimeofday(&t1, NULL);
	drain(cb, &sb, 0, 200);

	ck_assert_msg(all_matched(&sa), "missing datagrams: %d %d %d",
		      sa.match[0], sa.match[1], sa.match[2]);
	ck_assert_int_eq(sa.other, 0);
	ck_assert_int_eq(sb.n, 0);
	/* Kernel receive times fall between sending and reading. */
	ck_assert_int_ge(tv_ms(sa.first), tv_ms(t0) - 10);
	ck_assert_int_le(tv_ms(sa.last), tv_ms(t1) + 10);
	ck_assert_int_le(tv_ms(sa.first), tv_ms(sa.last));
	ck_assert_int_eq(live_cap_stats(ca, &st), 0);
	ck_assert_uint_ge(st.received, NSEND);
	ck_assert_uint_eq(st.dropped, 0);

	/* B's capture is live (it sees its own traffic); A's sees none. */
	memset(&sa, 0, sizeof(sa));
	send_mixed(b.nsfd);
	drain(cb, &sb, 1, 2000);
	drain(ca, &sa, 0, 200);
	ck_assert(all_matched(&sb));
	ck_assert_int_gt(sb.other, 0);
	ck_assert_int_eq(sa.n, 0);

	live_cap_close(ca);
	live_cap_close(cb);
	holder_stop(&a);
	holder_stop(&b);
}
END_TEST

static void count(void *arg, const struct pcap_pkthdr *h, const uint8_t *bytes)
{
	(*(int *)arg)++;
}

/* A burst fits the default ring: 1000 datagrams of 1400 bytes on lo, where
 * the kernel queues each twice (out and in), all delivered, none dropped. */
START_TEST(test_burst_fits)
{
	char msg[1400] = PAYLOAD "0";
	struct live_cap_stats st;
	struct live_cap *cap;
	struct holder a;
	struct pollfd p;
	int rx, tx, n = 0;

	if (geteuid() != 0)
		return;
	holder_start(&a);
	cap = open_ok(a.nsfd, "udp port 5555");
	rx = ns_socket(a.nsfd, SOCK_DGRAM, 5555);
	tx = ns_socket(a.nsfd, SOCK_DGRAM, 0);
	memset(msg + sizeof(PAYLOAD), 'x', sizeof(msg) - sizeof(PAYLOAD) - 1);
	msg[sizeof(msg) - 1] = '\0';
	for (int i = 0; i < 1000; i++)
		udp_send(tx, 5555, msg);
	p = (struct pollfd){live_cap_fd(cap), POLLIN, 0};
	while (n < 1000 && poll(&p, 1, 2000) > 0)
		ck_assert_int_ge(live_cap_dispatch(cap, 64, count, &n), 0);
	ck_assert_int_eq(n, 1000);
	ck_assert_int_eq(live_cap_stats(cap, &st), 0);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_ge(st.received, 1000);
	close(tx);
	close(rx);
	live_cap_close(cap);
	holder_stop(&a);
}
END_TEST

/* The message libpcap itself gives for filter, prefixed the way we do. */
static void pcap_message(const char *filter, char *buf, size_t len)
{
	pcap_t *p = pcap_open_dead(DLT_LINUX_SLL, LIVE_CAP_SNAPLEN_DEFAULT);
	struct bpf_program prog;

	ck_assert_int_eq(
	    pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), -1);
	snprintf(buf, len, "'%s': %s", filter, pcap_geterr(p));
	pcap_close(p);
}

static const struct {
	const char *filter;
	int ok;
} filters[] = {
    {NULL, 1},
    {"", 1},
    {"udp port 5555", 1},
    {"tcp and (port 80 or port 443) and not host 10.0.0.1", 1},
    {"ip6 and udp", 1},
    {"udp prot 5", 0},
    {"port 99999", 0},
    {"host 300.1.2.3", 0},
    {"tcp and", 0},
};

START_TEST(test_check_filter)
{
	char err[512], want[512];
	int rc;

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		err[0] = '\0';
		rc = live_cap_check_filter(filters[i].filter, err, sizeof(err));
		if (filters[i].ok) {
			ck_assert_msg(rc == 0, "%s: %s", filters[i].filter,
				      err);
			continue;
		}
		ck_assert_int_eq(rc, -1);
		pcap_message(filters[i].filter, want, sizeof(want));
		ck_assert_str_eq(err, want);
	}
}
END_TEST

START_TEST(test_check_filter_limits)
{
	char *big = malloc(LIVE_CAP_FILTER_MAX + 2);
	char err[128];

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', LIVE_CAP_FILTER_MAX + 1);
	big[LIVE_CAP_FILTER_MAX + 1] = '\0';
	ck_assert_int_eq(live_cap_check_filter(big, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "filter too long"));
	big[LIVE_CAP_FILTER_MAX] = '\0';
	ck_assert_int_eq(live_cap_check_filter(big, err, sizeof(err)), 0);
	free(big);
	/* A short or absent error buffer is not overrun. */
	ck_assert_int_eq(live_cap_check_filter("udp prot 5", err, 4), -1);
	ck_assert_str_eq(err, "'ud");
	ck_assert_int_eq(live_cap_check_filter("udp prot 5", NULL, 0), -1);
}
END_TEST

/* Bad filters are refused in a real namespace with the same message. */
START_TEST(test_open_bad_filter)
{
	struct live_cap_opts o = {.filter = "udp prot 5"};
	char err[512], want[512];
	struct holder a;

	if (geteuid() != 0)
		return;
	holder_start(&a);
	ck_assert_ptr_null(live_cap_open(a.nsfd, &o, err, sizeof(err)));
	pcap_message(o.filter, want, sizeof(want));
	ck_assert_str_eq(err, want);
	holder_stop(&a);
}
END_TEST

START_TEST(test_open_bad_nsfd)
{
	int closed = open("/proc/self/ns/net", O_RDONLY);
	int devnull = open("/dev/null", O_RDONLY);
	int uts = open("/proc/self/ns/uts", O_RDONLY);
	const struct {
		int fd;
		const char *want;
	} cases[] = {
	    {-1, "network namespace fd -1: not an open file descriptor"},
	    {closed, "not an open file descriptor"},
	    {devnull, ": not a namespace"},
	    {uts, "a namespace, but not a network namespace"},
	};
	char err[256];

	ck_assert_int_ge(closed, 0);
	ck_assert_int_ge(devnull, 0);
	ck_assert_int_ge(uts, 0);
	close(closed);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_ptr_null(
		    live_cap_open(cases[i].fd, NULL, err, sizeof(err)));
		ck_assert_msg(strstr(err, cases[i].want), "fd %d: '%s'",
			      cases[i].fd, err);
		errno = 0;
		ck_assert_int_eq(nsthread_run(cases[i].fd, NULL, NULL), -1);
		ck_assert_int_eq(errno, i < 2 ? EBADF : EINVAL);
	}
	close(devnull);
	close(uts);
}
END_TEST

START_TEST(test_open_bad_opts)
{
	static const struct {
		struct live_cap_opts o;
		const char *want;
	} cases[] = {
	    {{NULL, -1, 0}, "snaplen -1 out of range"},
	    {{NULL, LIVE_CAP_SNAPLEN_DEFAULT + 1, 0}, "snaplen 262145"},
	    {{NULL, 0, -5}, "buffer size -5 out of range"},
	    {{NULL, 0, LIVE_CAP_BUFSZ_MAX + 1}, "buffer size 268435457"},
	};
	int nsfd = open("/proc/self/ns/net", O_RDONLY);
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_ptr_null(
		    live_cap_open(nsfd, &cases[i].o, err, sizeof(err)));
		ck_assert_msg(strstr(err, cases[i].want), "'%s'", err);
	}
	close(nsfd);
	live_cap_close(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("live_cap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_check_filter);
	tcase_add_test(tc, test_check_filter_limits);
	tcase_add_test(tc, test_open_bad_nsfd);
	tcase_add_test(tc, test_open_bad_opts);
	tcase_add_test(tc, test_open_bad_filter);
	tcase_add_test(tc, test_capture_in_netns);
	tcase_add_test(tc, test_burst_fits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
