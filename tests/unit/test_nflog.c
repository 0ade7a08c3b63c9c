/*
 * Notify-mode captures end to end against the real kernel, in a private
 * network namespace of a forked child: the table with capture on, an
 * NFQUEUE reader giving NFQUEUE_CAPTURE to one connection's SYN, the
 * NFLOG receiver seeing that connection (SYN, SYN-ACK, data both ways,
 * FIN) and nothing of another, and nothing more of a connection whose
 * ct mark bit ct_mark.c cleared. Before that, the NFLOG parser on
 * hand-built messages, well-formed and not.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nseg/ct_mark.h"
#include "nseg/netns.h"
#include "nseg/nflog.h"
#include "nseg/nfqueue.h"
#include "nseg/nft_counters.h"
#include "nseg/nft_table.h"
#include "nseg/pkt.h"

#include "fixture_netns.h"

#define SKIP FIXTURE_SKIP
#define GROUP 4200

/* ---- the parser, on hand-built messages ---- */

struct seen {
	int n;
	struct nflog_packet last;
	char prefix[64];
	uint8_t data[128];
};

static void seen_cb(const struct nflog_packet *p, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->last = *p;
	s->last.payload = NULL;
	s->last.prefix = NULL;
	snprintf(s->prefix, sizeof(s->prefix), "%s",
		 p->prefix ? p->prefix : "");
	memcpy(s->data, p->payload,
	       p->caplen < sizeof(s->data) ? p->caplen : sizeof(s->data));
}

/* An IPv4 header claiming tot_len bytes (only its first caplen sent). */
static const uint8_t ip4[20] = {
    0x45, 0, 0x01, 0x00 /* 256 */, 0, 0, 0, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127,
    0,	  0, 1};
static const uint8_t ip6[40] = {0x60, 0, 0, 0, 0x00, 0x64 /* 100 */, 6, 64};

static struct nlmsghdr *msg_start(char *buf, uint16_t group)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_INET;
	g->res_id = htons(group);
	return nlh;
}

static void put_hdr(struct nlmsghdr *nlh, uint8_t hook)
{
	struct nfulnl_msg_packet_hdr h = {htons(0x0800), hook, 0};

	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(h), &h);
}

static void put_ts(struct nlmsghdr *nlh, uint64_t sec, uint64_t usec)
{
	struct nfulnl_msg_packet_timestamp t = {htobe64(sec), htobe64(usec)};

	mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(t), &t);
}

/* The well-formed message most cases start from. */
static struct nlmsghdr *msg_good(char *buf, uint32_t seq)
{
	struct nlmsghdr *nlh = msg_start(buf, GROUP);

	put_hdr(nlh, NF_INET_LOCAL_OUT);
	mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(seq));
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "nseg");
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip4), ip4);
	return nlh;
}

struct parse_case {
	const char *name;
	/* Builds the datagram into buf; returns its length. */
	size_t (*build)(char *buf);
	int packets, bad_messages, bad_attrs;
	uint64_t lost;
};

static size_t b_good(char *buf)
{
	return msg_good(buf, 1)->nlmsg_len;
}

static size_t b_no_payload(char *buf)
{
	struct nlmsghdr *nlh = msg_start(buf, GROUP);

	put_hdr(nlh, 1);
	return nlh->nlmsg_len;
}

static size_t b_empty_payload(char *buf)
{
	struct nlmsghdr *nlh = msg_start(buf, GROUP);

	put_hdr(nlh, 1);
	mnl_attr_put(nlh, NFULA_PAYLOAD, 0, "");
	return nlh->nlmsg_len;
}

static size_t b_short_hdr(char *buf)
{
	struct nlmsghdr *nlh = msg_start(buf, GROUP);

	mnl_attr_put_u16(nlh, NFULA_PACKET_HDR, 8);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip4), ip4);
	return nlh->nlmsg_len;
}

static size_t b_prefix_no_nul(char *buf)
{
	struct nlmsghdr *nlh = msg_start(buf, GROUP);

	put_hdr(nlh, 1);
	mnl_attr_put(nlh, NFULA_PREFIX, 4, "nseg");
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip4), ip4);
	return nlh->nlmsg_len;
}

static size_t b_short_ts_seq_ifindex(char *buf)
{
	struct nlmsghdr *nlh = msg_start(buf, GROUP);

	put_hdr(nlh, 1);
	mnl_attr_put_u32(nlh, NFULA_TIMESTAMP, 1);
	mnl_attr_put_u16(nlh, NFULA_SEQ, 1);
	mnl_attr_put_u16(nlh, NFULA_IFINDEX_INDEV, 1);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip4), ip4);
	return nlh->nlmsg_len;
}

/* The last attribute claims more bytes than the message has. */
static size_t b_attr_overrun(char *buf)
{
	struct nlmsghdr *nlh = msg_good(buf, 1);
	struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);

	mnl_attr_put_u32(nlh, NFULA_MARK, 7);
	a->nla_len = 200;
	return nlh->nlmsg_len;
}

/* An attribute length below the attribute header's own size. */
static size_t b_attr_tiny(char *buf)
{
	struct nlmsghdr *nlh = msg_start(buf, GROUP);
	struct nlattr *a;

	put_hdr(nlh, 1);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip4), ip4);
	a = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, NFULA_MARK, 7);
	a->nla_len = 2;
	return nlh->nlmsg_len;
}

static size_t b_other_group(char *buf)
{
	struct nlmsghdr *nlh = msg_good(buf, 1);
	struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);

	g->res_id = htons(GROUP + 1);
	return nlh->nlmsg_len;
}

static size_t b_other_type(char *buf)
{
	struct nlmsghdr *nlh = msg_good(buf, 1);

	nlh->nlmsg_type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG;
	return nlh->nlmsg_len;
}

static size_t b_no_nfgenmsg(char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET;
	return nlh->nlmsg_len;
}

/* The datagram ends inside the message its header announces. */
static size_t b_cut(char *buf)
{
	return msg_good(buf, 1)->nlmsg_len - 6;
}

static size_t b_trailing_junk(char *buf)
{
	size_t n = msg_good(buf, 1)->nlmsg_len;

	memcpy(buf + n, "\x01\x02\x03\x04\x05", 5);
	return n + 5;
}

static size_t b_nlmsg_len_tiny(char *buf)
{
	struct nlmsghdr *nlh = msg_good(buf, 1);
	size_t n = nlh->nlmsg_len;

	nlh->nlmsg_len = 4;
	return n;
}

/* Sequence 5 then 8: two packets the kernel could not deliver. */
static size_t b_seq_gap(char *buf)
{
	size_t n = msg_good(buf, 5)->nlmsg_len;

	return n + msg_good(buf + n, 8)->nlmsg_len;
}

static size_t b_done_noop(char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	size_t n;

	nlh->nlmsg_type = NLMSG_NOOP;
	n = nlh->nlmsg_len;
	nlh = mnl_nlmsg_put_header(buf + n);
	nlh->nlmsg_type = NLMSG_DONE;
	return n + nlh->nlmsg_len;
}

static size_t b_nothing(char *buf)
{
	return 0;
}

static size_t b_three_bytes(char *buf)
{
	memset(buf, 0xff, 3);
	return 3;
}

static const struct parse_case parse_cases[] = {
    {"good", b_good, 1, 0, 0, 0},
    {"no payload", b_no_payload, 0, 1, 0, 0},
    {"empty payload", b_empty_payload, 0, 1, 0, 0},
    {"short packet header", b_short_hdr, 0, 1, 1, 0},
    {"prefix without NUL", b_prefix_no_nul, 1, 0, 1, 0},
    {"short ts, seq, ifindex", b_short_ts_seq_ifindex, 1, 0, 3, 0},
    {"attribute past the end", b_attr_overrun, 1, 0, 1, 0},
    {"attribute length 2", b_attr_tiny, 1, 0, 1, 0},
    {"other group", b_other_group, 0, 1, 0, 0},
    {"other message type", b_other_type, 0, 1, 0, 0},
    {"no nfgenmsg", b_no_nfgenmsg, 0, 1, 0, 0},
    {"cut-off message", b_cut, 0, 1, 0, 0},
    {"trailing junk", b_trailing_junk, 1, 1, 0, 0},
    {"nlmsg_len 4", b_nlmsg_len_tiny, 0, 1, 0, 0},
    {"sequence gap", b_seq_gap, 2, 0, 0, 2},
    {"NOOP and DONE", b_done_noop, 0, 0, 0, 0},
    {"empty datagram", b_nothing, 0, 0, 0, 0},
    {"three bytes", b_three_bytes, 0, 1, 0, 0},
};

/* Parses exactly len bytes from a heap copy of that size, so ASan sees
 * any read past the datagram. */
static int parse_exact(struct nflog_parser *ps, const char *buf, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int n;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, buf, len);
	n = nflog_parse(ps, copy, len);
	free(copy);
	return n;
}

START_TEST(test_parse_cases)
{
	const struct parse_case *c = &parse_cases[_i];
	char buf[1024] __attribute__((aligned(8))) = {0};
	struct seen s = {0};
	struct nflog_parser ps = {.group = GROUP, .cb = seen_cb, .arg = &s};
	size_t len = c->build(buf);

	ck_assert_msg(parse_exact(&ps, buf, len) == c->packets,
		      "%s: %d packets", c->name, s.n);
	ck_assert_int_eq(s.n, c->packets);
	ck_assert_msg(ps.stats.bad_messages == (uint64_t)c->bad_messages &&
			  ps.stats.bad_attrs == (uint64_t)c->bad_attrs &&
			  ps.stats.lost == c->lost,
		      "%s: bad messages %llu, bad attrs %llu, lost %llu",
		      c->name, (unsigned long long)ps.stats.bad_messages,
		      (unsigned long long)ps.stats.bad_attrs,
		      (unsigned long long)ps.stats.lost);
	ck_assert_uint_eq(ps.stats.packets, (uint64_t)c->packets);
}
END_TEST

START_TEST(test_parse_fields)
{
	char buf[512] __attribute__((aligned(8))) = {0};
	struct seen s = {0};
	struct nflog_parser ps = {.group = GROUP, .cb = seen_cb, .arg = &s};
	struct nlmsghdr *nlh = msg_start(buf, GROUP);
	struct timespec now;

	put_hdr(nlh, NF_INET_LOCAL_IN);
	put_ts(nlh, 1700000000, 123456);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "pfx");
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_INDEV, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, htonl(3));
	/* IPv4, 20 of 256 bytes copied */
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip4), ip4);
	ck_assert_int_eq(parse_exact(&ps, buf, nlh->nlmsg_len), 1);
	ck_assert_uint_eq(s.last.hook, NF_INET_LOCAL_IN);
	ck_assert_uint_eq(s.last.hw_protocol, 0x0800);
	ck_assert_uint_eq(s.last.caplen, 20);
	ck_assert_uint_eq(s.last.len, 256);
	ck_assert_str_eq(s.prefix, "pfx");
	ck_assert_uint_eq(s.last.indev, 1);
	ck_assert_uint_eq(s.last.outdev, 3);
	ck_assert_int_eq(s.last.ts.tv_sec, 1700000000);
	ck_assert_int_eq(s.last.ts.tv_nsec, 123456000);
	ck_assert_mem_eq(s.data, ip4, sizeof(ip4));

	/* IPv6: 40 + payload length; a nonsense timestamp means "now". */
	nlh = msg_start(buf, GROUP);
	put_hdr(nlh, NF_INET_LOCAL_OUT);
	put_ts(nlh, 5, 1000000);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip6), ip6);
	clock_gettime(CLOCK_REALTIME, &now);
	ck_assert_int_eq(parse_exact(&ps, buf, nlh->nlmsg_len), 1);
	ck_assert_uint_eq(s.last.len, 140);
	ck_assert_uint_eq(s.last.caplen, 40);
	ck_assert_str_eq(s.prefix, "");
	ck_assert_int_ge(s.last.ts.tv_sec, now.tv_sec);

	/* A header claiming less than was copied: the copy's length. */
	nlh = msg_start(buf, GROUP);
	put_hdr(nlh, NF_INET_LOCAL_OUT);
	mnl_attr_put(nlh, NFULA_PAYLOAD, 8, "\x45\0\0\x04zzzz");
	ck_assert_int_eq(parse_exact(&ps, buf, nlh->nlmsg_len), 1);
	ck_assert_uint_eq(s.last.len, 8);
}
END_TEST

struct times {
	int n;
	struct timespec ts[8];
};

static void times_cb(const struct nflog_packet *p, void *arg)
{
	struct times *t = arg;

	if (t->n < 8)
		t->ts[t->n] = p->ts;
	t->n++;
}

/* A message of hook; stamped at sec.000000 unless sec is 0. */
static size_t msg_at(char *buf, uint8_t hook, uint64_t sec)
{
	struct nlmsghdr *nlh = msg_start(buf, GROUP);

	put_hdr(nlh, hook);
	if (sec)
		put_ts(nlh, sec, 0);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip4), ip4);
	return MNL_ALIGN(nlh->nlmsg_len);
}

/* The kernel stamps only input-side packets: an output packet takes the
 * time of the stamped packet before it in the datagram, else of the one
 * after it, so a capture never shows a reply before its request. Each
 * row: the hooks' stamps (0: none) and the times expected. */
static const struct {
	uint64_t in[5];
	uint64_t want[5];
} ts_cases[] = {
	{{0, 100, 0, 0, 200}, {100, 100, 100, 100, 200}},
	{{0, 0, 300, 0, 0}, {300, 300, 300, 300, 300}},
	{{100, 0, 200, 0, 300}, {100, 100, 200, 200, 300}},
};

START_TEST(test_parse_output_times)
{
	char buf[2048] __attribute__((aligned(8))) = {0};
	struct times t = {0};
	struct nflog_parser ps = {.group = GROUP, .cb = times_cb, .arg = &t};
	size_t len = 0;

	for (int i = 0; i < 5; i++) {
		uint64_t sec = ts_cases[_i].in[i];

		len += msg_at(buf + len,
			      sec ? NF_INET_LOCAL_IN : NF_INET_LOCAL_OUT, sec);
	}
	ck_assert_int_eq(parse_exact(&ps, buf, len), 5);
	for (int i = 0; i < 5; i++) {
		ck_assert_msg(t.ts[i].tv_sec == (time_t)ts_cases[_i].want[i],
			      "case %d packet %d: %lld, want %llu", _i, i,
			      (long long)t.ts[i].tv_sec,
			      (unsigned long long)ts_cases[_i].want[i]);
		ck_assert_int_eq(t.ts[i].tv_nsec, 0);
	}
}
END_TEST

/* A datagram with no stamped packet: read now. */
START_TEST(test_parse_output_times_now)
{
	char buf[512] __attribute__((aligned(8))) = {0};
	struct times t = {0};
	struct nflog_parser ps = {.group = GROUP, .cb = times_cb, .arg = &t};
	struct timespec now;
	size_t len = msg_at(buf, NF_INET_LOCAL_OUT, 0);

	len += msg_at(buf + len, NF_INET_LOCAL_OUT, 0);
	clock_gettime(CLOCK_REALTIME, &now);
	ck_assert_int_eq(parse_exact(&ps, buf, len), 2);
	ck_assert_int_ge(t.ts[0].tv_sec, now.tv_sec);
	ck_assert_int_ge(t.ts[1].tv_sec, now.tv_sec);
}
END_TEST

/* Every prefix of two good messages: never a read past the end, and
 * only whole messages become packets. */
START_TEST(test_parse_truncations)
{
	char buf[512] __attribute__((aligned(8))) = {0};
	size_t n = msg_good(buf, 1)->nlmsg_len;
	size_t total = n + msg_good(buf + n, 2)->nlmsg_len;

	for (size_t len = 0; len <= total; len++) {
		struct seen s = {0};
		struct nflog_parser ps = {
		    .group = GROUP, .cb = seen_cb, .arg = &s};
		int want = len == total ? 2 : len >= n ? 1 : 0;

		ck_assert_int_eq(parse_exact(&ps, buf, len), want);
		ck_assert_uint_eq(ps.stats.bad_messages,
				  len == 0 || len == n || len == total ? 0 : 1);
	}
}
END_TEST

/* ---- the kernel: table, queue, log, ct mark ---- */

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "line %d: ", __LINE__);                        \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		return __LINE__ % 70 + 1;                                      \
	} while (0)

static int native_queue = -1;

/* One logged packet, as the test needs it. */
struct logged {
	uint8_t hook;
	struct nseg_pkt pk;
	uint8_t data[256];
	size_t caplen, len;
};

struct world {
	struct logged log[512];
	int n_log;
	int captures; /* NFQUEUE_CAPTURE verdicts given */
	uint16_t capture_port;
	struct nfqueue *q;
	struct nflog *l;
};

static void log_cb(const struct nflog_packet *p, void *arg)
{
	struct world *w = arg;
	struct logged *x;
	const char *why;

	if (w->n_log == 512)
		return;
	x = &w->log[w->n_log++];
	x->hook = p->hook;
	x->caplen = p->caplen;
	x->len = p->len;
	memcpy(x->data, p->payload,
	       p->caplen < sizeof(x->data) ? p->caplen : sizeof(x->data));
	if (pkt_parse(p->payload, p->caplen, &x->pk, &why) == -1)
		fprintf(stderr, "logged packet: %s\n", why);
}

/* The first packet of a connection to capture_port, on its way out, is
 * to be captured; everything else goes on. */
static int queue_cb(const struct nfqueue_packet *p, void *arg)
{
	struct world *w = arg;
	struct nseg_pkt pk;
	const char *why;

	if (pkt_parse(p->payload, p->len, &pk, &why) == 0 &&
	    pk.proto == IPPROTO_TCP && pk.dport == w->capture_port &&
	    pk.tcp_flags == 0x02 && p->hook == NF_INET_LOCAL_OUT) {
		w->captures++;
		return NFQUEUE_CAPTURE;
	}
	return NF_ACCEPT;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Serves queue and log for ms milliseconds, or until fd (if not -1) is
 * ready for events. Returns 1 if fd became ready. */
static int pump(struct world *w, int ms, int fd, short events)
{
	long end = now_ms() + ms;

	while (now_ms() < end) {
		struct pollfd p[3] = {
		    {nfqueue_fd(w->q), POLLIN, 0},
		    {nflog_fd(w->l), POLLIN, 0},
		    {fd, events, 0},
		};

		if (poll(p, fd == -1 ? 2 : 3, 10) < 0 && errno != EINTR)
			return 0;
		if (p[0].revents)
			nfqueue_dispatch(w->q);
		if (p[1].revents)
			nflog_dispatch(w->l);
		if (fd != -1 && p[2].revents)
			return 1;
	}
	return 0;
}

static struct sockaddr_in lo_addr(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	return sin;
}

static int tcp_listen(uint16_t port)
{
	struct sockaddr_in sin = lo_addr(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1)
		return -1;
	return fd;
}

/* A connection to port, its two ends in *c and *s (both blocking once
 * set up); the client's port in *cport. */
static int tcp_pair(struct world *w, int lfd, uint16_t port, int *c, int *s,
		    uint16_t *cport)
{
	struct sockaddr_in sin = lo_addr(port);
	socklen_t sl = sizeof(sin);

	*c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*c == -1 ||
	    (connect(*c, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	     errno != EINPROGRESS))
		return -1;
	if (!pump(w, 2000, lfd, POLLIN))
		return -1;
	*s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*s == -1 || !pump(w, 2000, *c, POLLOUT) ||
	    getsockname(*c, (struct sockaddr *)&sin, &sl) == -1)
		return -1;
	*cport = ntohs(sin.sin_port);
	fcntl(*c, F_SETFL, 0);
	return 0;
}

/* Sends msg from fd and serves the queue until peer has it. */
static int transfer(struct world *w, int fd, int peer, const char *msg)
{
	char buf[64];
	size_t n = strlen(msg);

	if (write(fd, msg, n) != (ssize_t)n || !pump(w, 2000, peer, POLLIN))
		return -1;
	return read(peer, buf, sizeof(buf)) == (ssize_t)n ? 0 : -1;
}

/* How many logged packets of the connection cport <-> port match: dir 1
 * client to server, -1 server to client, 0 either; flags, when not 0, the
 * exact TCP flags; text, when not NULL, a string in the packet. */
static int count_logged(const struct world *w, uint16_t cport, uint16_t port,
			int dir, uint8_t flags, const char *text)
{
	int n = 0;

	for (int i = 0; i < w->n_log; i++) {
		const struct logged *x = &w->log[i];
		int fwd = x->pk.sport == cport && x->pk.dport == port;
		int rev = x->pk.sport == port && x->pk.dport == cport;

		if (x->pk.proto != IPPROTO_TCP || !(fwd || rev) ||
		    (dir == 1 && !fwd) || (dir == -1 && !rev) ||
		    (flags && x->pk.tcp_flags != flags) ||
		    (text && !memmem(x->data, x->caplen, text, strlen(text))))
			continue;
		n++;
	}
	return n;
}

struct ctr_sum {
	uint64_t start, capture;
	int rules;
};

static void ctr_cb(const char *tag, uint64_t packets, uint64_t bytes, void *arg)
{
	struct ctr_sum *c = arg;

	if (strcmp(tag, NFT_TAG_CAPTURE_START) == 0) {
		c->start += packets;
		c->rules++;
	} else if (strcmp(tag, NFT_TAG_CAPTURE) == 0) {
		c->capture += packets;
		c->rules++;
	}
}

static int open_world(struct world *w, int nsfd, struct mnl_socket *nl)
{
	struct nft_table_opts o = {.queue_num = GROUP,
				   .fail_open = 1,
				   .native_queue = native_queue,
				   .reject_mark = NFT_REJECT_MARK,
				   .capture = 1,
				   .capture_group = GROUP};
	struct nfqueue_opts qo = {
	    .queue_num = GROUP, .maxlen = 64, .copy_range = 256};
	struct nflog_opts lo = {.group = GROUP};
	char err[256];

	if (nft_table_apply(nl, &o, err, sizeof(err)) == -1)
		FAIL("apply: %s", err);
	w->q = nfqueue_open(nsfd, &qo, queue_cb, w, err, sizeof(err));
	if (!w->q)
		FAIL("nfqueue: %s", err);
	w->l = nflog_open(nsfd, &lo, log_cb, w, err, sizeof(err));
	if (!w->l)
		FAIL("nflog: %s", err);
	/* The group is ours now: a second receiver is refused. */
	if (nflog_open(nsfd, &lo, log_cb, w, err, sizeof(err)) ||
	    !strstr(err, "in use"))
		FAIL("second receiver on the group: '%s'", err);
	return 0;
}

/* Connection 1 (port 7001) captured from its SYN to its FIN. */
static int check_captured(struct world *w, int lfd)
{
	int c, s, rc;
	uint16_t cp;
	char b[8];

	if (tcp_pair(w, lfd, 7001, &c, &s, &cp) == -1)
		FAIL("connection 1: %s", strerror(errno));
	if (transfer(w, c, s, "hello-capture-1") ||
	    transfer(w, s, c, "reply-capture-2"))
		FAIL("connection 1 data");
	shutdown(c, SHUT_WR);
	if (!pump(w, 2000, s, POLLIN) || read(s, b, sizeof(b)) != 0)
		FAIL("connection 1: no EOF");
	pump(w, 100, -1, 0);
	if (w->captures != 1)
		FAIL("%d capture verdicts", w->captures);
	/* Loopback: each packet is logged on its way out and in again; but
	 * the SYN only coming in (going out, nsegd wrote it from the queue). */
	if ((rc = count_logged(w, cp, 7001, 1, 0x02, NULL)) != 1)
		FAIL("SYN logged %d times", rc);
	if ((rc = count_logged(w, cp, 7001, -1, 0x12, NULL)) != 2)
		FAIL("SYN-ACK logged %d times", rc);
	if (count_logged(w, cp, 7001, 1, 0, "hello-capture-1") != 2 ||
	    count_logged(w, cp, 7001, -1, 0, "reply-capture-2") != 2)
		FAIL("data of connection 1 not logged");
	if (count_logged(w, cp, 7001, 1, 0x11, NULL) < 2)
		FAIL("FIN of connection 1 not logged");
	for (int i = 0; i < w->n_log; i++)
		if (w->log[i].len != w->log[i].caplen)
			FAIL("packet %d cut: %zu of %zu", i, w->log[i].caplen,
			     w->log[i].len);
	close(c);
	close(s);
	/* What the closes send is logged before connection 2 starts. */
	pump(w, 100, -1, 0);
	return 0;
}

/* Connection 2 (port 7002): queued and accepted, never logged. */
static int check_uncaptured(struct world *w, int lfd)
{
	int c, s, before = w->n_log;
	uint16_t cp;

	if (tcp_pair(w, lfd, 7002, &c, &s, &cp) == -1 ||
	    transfer(w, c, s, "not-captured"))
		FAIL("connection 2: %s", strerror(errno));
	close(c);
	close(s);
	pump(w, 100, -1, 0);
	if (count_logged(w, cp, 7002, 0, 0, NULL) != 0)
		FAIL("connection 2 logged");
	if (w->n_log != before)
		FAIL("%d packets logged during connection 2",
		     w->n_log - before);
	return 0;
}

/* Connection 3 (port 7001 again): logged until its ct mark bit is
 * cleared, delivered but not logged after. */
static int check_cleared(struct world *w, int lfd, int nsfd)
{
	struct ct_mark_tuple t = {.proto = IPPROTO_TCP, .dport = 7001};
	int c, s;
	uint16_t cp;

	if (tcp_pair(w, lfd, 7001, &c, &s, &cp) == -1 ||
	    transfer(w, c, s, "before-clear"))
		FAIL("connection 3: %s", strerror(errno));
	pump(w, 100, -1, 0);
	if (count_logged(w, cp, 7001, 1, 0, "before-clear") != 2)
		FAIL("connection 3 not logged before the clear");
	if (pkt_addr_parse("127.0.0.1", &t.src) ||
	    pkt_addr_parse("127.0.0.1", &t.dst))
		FAIL("address");
	t.sport = cp;
	if (ct_mark_clear_capture(nsfd, &t) != 0)
		FAIL("clear: %s", strerror(errno));
	if (transfer(w, c, s, "after-clear") ||
	    transfer(w, s, c, "after-reply"))
		FAIL("connection 3 after the clear");
	pump(w, 100, -1, 0);
	if (count_logged(w, cp, 7001, 0, 0, "after-") != 0)
		FAIL("connection 3 logged after the clear");
	/* Gone or never there: 1, not an error. */
	t.sport = 1;
	if (ct_mark_clear_capture(nsfd, &t) != 1)
		FAIL("clear of a missing entry");
	t.dst.family = AF_INET6;
	if (ct_mark_clear_capture(nsfd, &t) != -1 || errno != EINVAL)
		FAIL("mixed families accepted");
	close(c);
	close(s);
	return 0;
}

static int check_stats(struct world *w, struct mnl_socket *nl)
{
	struct nflog_stats st;
	struct ctr_sum cs = {0};

	nflog_get_stats(w->l, &st);
	if (st.packets != (uint64_t)w->n_log || st.bad_messages ||
	    st.bad_attrs || st.lost || st.overruns || st.recv_errors)
		FAIL("nflog stats: %llu packets, %llu bad, %llu lost",
		     (unsigned long long)st.packets,
		     (unsigned long long)(st.bad_messages + st.bad_attrs),
		     (unsigned long long)st.lost);
	if (nft_counters_read(nl, ctr_cb, &cs) == -1)
		FAIL("counters: %s", strerror(errno));
	/* Two captured SYNs (connections 1 and 3), both through output,
	 * counted by the start rule but not logged by it: every logged
	 * packet went through a capture rule. */
	if (cs.rules != 4 || cs.start != 2 ||
	    cs.capture != (uint64_t)w->n_log)
		FAIL("capture counters: %d rules, start %llu, capture %llu, "
		     "%d logged",
		     cs.rules, (unsigned long long)cs.start,
		     (unsigned long long)cs.capture, w->n_log);
	return 0;
}

static int kernel_child(void)
{
	static struct world w = {.capture_port = 7001};
	struct mnl_socket *nl;
	int nsfd, l1, l2, rc;

	if ((rc = fixture_netns_nft(&nl)))
		return rc;
	if (netns_init() == -1 || (nsfd = netns_open_pid(getpid())) == -1)
		FAIL("netns: %s", strerror(errno));
	l1 = tcp_listen(7001);
	l2 = tcp_listen(7002);
	if (l1 == -1 || l2 == -1)
		FAIL("listen: %s", strerror(errno));
	if ((rc = open_world(&w, nsfd, nl)) || (rc = check_captured(&w, l1)) ||
	    (rc = check_uncaptured(&w, l2)) ||
	    (rc = check_cleared(&w, l1, nsfd)) || (rc = check_stats(&w, nl)))
		return rc;
	nflog_close(w.l);
	nfqueue_close(w.q);
	close(l1);
	close(l2);
	close(nsfd);
	mnl_socket_close(nl);
	netns_shutdown();
	return 0;
}

START_TEST(test_kernel_capture)
{
	/* The probe makes a namespace of its own: root only. */
	native_queue = geteuid() == 0 ? nft_table_probe_native_queue() : 0;
	ck_assert_int_ne(native_queue, -1);
	fixture_netns_run(kernel_child);
}
END_TEST

static Suite *nflog_suite(void)
{
	Suite *s = suite_create("nflog");
	TCase *tc = tcase_create("parse");
	TCase *tk = tcase_create("kernel");

	tcase_add_loop_test(tc, test_parse_cases, 0,
			    sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_test(tc, test_parse_fields);
	tcase_add_loop_test(tc, test_parse_output_times, 0,
			    sizeof(ts_cases) / sizeof(ts_cases[0]));
	tcase_add_test(tc, test_parse_output_times_now);
	tcase_add_test(tc, test_parse_truncations);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tk, 60);
	tcase_add_test(tk, test_kernel_capture);
	suite_add_tcase(s, tk);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nflog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
