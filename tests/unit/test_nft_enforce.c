/*
 * The enforcing table against the real kernel, in a private network
 * namespace of a forked child: peer sets, any-process accept rules, a
 * process-scoped queue rule, CIDR rules and the rate limit apply, and
 * untracked packets meet the queue too; set updates replace elements; the
 * tagged rules' counters read back and move when a packet crosses
 * loopback. Skipped unless root.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "nseg/edge.h"
#include "nseg/netns.h"
#include "nseg/nfqueue.h"
#include "nseg/nft_counters.h"
#include "nseg/nft_enforce.h"
#include "nseg/nft_table.h"
#include "nseg/pkt.h"

#include "fixture_child.h"
#include "fixture_netns.h"

#define SKIP FIXTURE_SKIP

static int native_queue = -1;

/* Counters by tag, summed over input and output, and how many rules. */
struct ctr {
	char tag[32];
	uint64_t packets, bytes;
	int rules;
};

struct ctrs {
	struct ctr c[32];
	int n;
};

static void ctr_cb(const char *tag, uint64_t packets, uint64_t bytes, void *arg)
{
	struct ctrs *x = arg;
	int i;

	for (i = 0; i < x->n; i++)
		if (strcmp(x->c[i].tag, tag) == 0)
			break;
	if (i == x->n) {
		if (x->n == 32)
			return;
		snprintf(x->c[x->n++].tag, sizeof(x->c[0].tag), "%s", tag);
	}
	x->c[i].packets += packets;
	x->c[i].bytes += bytes;
	x->c[i].rules++;
}

static const struct ctr *ctr_get(const struct ctrs *x, const char *tag)
{
	static const struct ctr none;

	for (int i = 0; i < x->n; i++)
		if (strcmp(x->c[i].tag, tag) == 0)
			return &x->c[i];
	return &none;
}

static int read_ctrs(struct mnl_socket *nl, struct ctrs *x)
{
	memset(x, 0, sizeof(*x));
	return nft_counters_read(nl, ctr_cb, x);
}

/* One UDP datagram from a fresh socket (a new conntrack entry). */
static int udp_send(const char *dst, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (fd == -1 || inet_pton(AF_INET, dst, &sin.sin_addr) != 1)
		return -1;
	n = sendto(fd, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return n == 1 ? 0 : -1;
}

static int udp_bind(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1 || inet_pton(AF_INET, ip, &sin.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* 1 if a datagram is waiting on fd (consumed), 0 if none came. */
static int delivered(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char b[16];

	if (poll(&pfd, 1, 200) != 1)
		return 0;
	return recv(fd, b, sizeof(b), 0) > 0;
}

static struct nseg_addr addr(const char *s)
{
	struct nseg_addr a;

	if (pkt_addr_parse(s, &a) == -1)
		abort();
	return a;
}

static struct nseg_cidr cidr(const char *s)
{
	struct nseg_cidr c;
	const char *why;

	if (pkt_cidr_parse(s, &c, &why) == -1)
		abort();
	return c;
}

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "line %d: ", __LINE__);                        \
		fprintf(stderr, __VA_ARGS__);                                  \
		fprintf(stderr, "\n");                                         \
		return __LINE__ % 70 + 1;                                      \
	} while (0)

static int expect_rules(const struct ctrs *x, const char *tag, int rules)
{
	if (ctr_get(x, tag)->rules != rules) {
		fprintf(stderr, "%s: %d rules, want %d\n", tag,
			ctr_get(x, tag)->rules, rules);
		return -1;
	}
	return 0;
}

static int kernel_child(void)
{
	struct nseg_addr p0[2] = {addr("127.0.0.1"), addr("::1")};
	struct nseg_addr p1[2] = {addr("10.9.9.9"), addr("127.0.0.3")};
	struct nseg_addr p0_new[1] = {addr("127.0.0.2")};
	struct nft_peer_set sets[2] = {{"p0", p0, 2}, {"p1", p1, 2}};
	struct nft_peer_set upd = {"p0", p0_new, 1};
	struct nft_peer_set missing = {"p9", p0_new, 1};
	/* Fail closed: nobody reads the queue, so a queued packet is
	 * dropped and one accepted in the kernel is delivered. */
	struct nft_table_opts o = {.queue_num = 4200,
				   .fail_open = 0,
				   .native_queue = native_queue,
				   .queue_rate = 50,
				   .queue_burst = 5};
	struct nft_accept_rule rules[] = {
	    /* any process -> p0 udp/5555, both families */
	    {.dir = NSEG_EGRESS,
	     .proto = IPPROTO_UDP,
	     .port = 5555,
	     .set = 0,
	     .id = 0},
	    /* process-scoped -> p1 udp/8080: queued */
	    {.dir = NSEG_EGRESS,
	     .proto = IPPROTO_UDP,
	     .port = 8080,
	     .set = 1,
	     .id = 1,
	     .queue = 1},
	    /* -> 192.0.2.0/24 tcp/443: IPv4 only */
	    {.dir = NSEG_EGRESS,
	     .proto = IPPROTO_TCP,
	     .port = 443,
	     .set = -1,
	     .cidr = cidr("192.0.2.0/24"),
	     .id = 2},
	    /* p0 -> us udp/5555 */
	    {.dir = NSEG_INGRESS,
	     .proto = IPPROTO_UDP,
	     .port = 5555,
	     .set = 0,
	     .id = 3},
	    /* ICMP echo request to p0: IPv4 only */
	    {.dir = NSEG_EGRESS,
	     .proto = IPPROTO_ICMP,
	     .port = 8,
	     .set = 0,
	     .id = 4},
	    /* fd00::/8 tcp/22: IPv6 only */
	    {.dir = NSEG_EGRESS,
	     .proto = IPPROTO_TCP,
	     .port = 22,
	     .set = -1,
	     .cidr = cidr("fd00::/8"),
	     .id = 5},
	    /* a port range (policies), both ways with p0 */
	    {.dir = NSEG_EGRESS,
	     .proto = IPPROTO_UDP,
	     .port = 7000,
	     .port_hi = 7010,
	     .set = 0,
	     .id = 6},
	    {.dir = NSEG_INGRESS,
	     .proto = IPPROTO_UDP,
	     .port = 7000,
	     .port_hi = 7010,
	     .set = 0,
	     .id = 7},
	};
	struct nft_enforce e = {.opts = &o,
				.sets = sets,
				.n_sets = 2,
				.rules = rules,
				.n_rules = sizeof(rules) / sizeof(rules[0])};
	struct mnl_socket *nl;
	int rx5555, rx8080, rx7010, rx7011, rx5557;
	struct ctrs x;
	uint64_t q0, e0;
	int rc;
	char err[256];

	o.enforce = &e;
	if ((rc = fixture_netns_nft(&nl)))
		return rc;
	rx5555 = udp_bind("127.0.0.1", 5555);
	rx8080 = udp_bind("127.0.0.3", 8080);
	rx7010 = udp_bind("127.0.0.1", 7010);
	rx7011 = udp_bind("127.0.0.1", 7011);
	rx5557 = udp_bind("127.0.0.1", 5557);
	if (rx5555 == -1 || rx8080 == -1 || rx7010 == -1 || rx7011 == -1 ||
	    rx5557 == -1)
		FAIL("bind: %s", strerror(errno));
	if (nft_table_apply(nl, &o, err, sizeof(err)) == -1)
		FAIL("apply: %s", err);
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	/* One rule per chain, or per family where it applies. */
	if (expect_rules(&x, NFT_TAG_QUEUE, 2) ||
	    expect_rules(&x, NFT_TAG_RATELIMIT, 2) ||
	    expect_rules(&x, NFT_TAG_EDGE "0", 2) ||
	    expect_rules(&x, NFT_TAG_EDGE "1", 2) ||
	    expect_rules(&x, NFT_TAG_EDGE "2", 1) ||
	    expect_rules(&x, NFT_TAG_EDGE "3", 2) ||
	    expect_rules(&x, NFT_TAG_EDGE "4", 1) ||
	    expect_rules(&x, NFT_TAG_EDGE "5", 1) ||
	    expect_rules(&x, NFT_TAG_EDGE "6", 2) ||
	    expect_rules(&x, NFT_TAG_EDGE "7", 2) || x.n != 10)
		FAIL("tagged rules (%d tags)", x.n);
	for (int i = 0; i < x.n; i++)
		if (x.c[i].packets)
			FAIL("%s: %llu packets before any traffic", x.c[i].tag,
			     (unsigned long long)x.c[i].packets);

	/* An approved datagram: the edge's counters move, out and in, and
	 * nothing is queued. */
	if (udp_send("127.0.0.1", 5555) == -1)
		FAIL("send: %s", strerror(errno));
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	if (ctr_get(&x, NFT_TAG_EDGE "0")->packets != 1 ||
	    ctr_get(&x, NFT_TAG_EDGE "0")->bytes < 29)
		FAIL(
		    "edge 0: %llu packets",
		    (unsigned long long)ctr_get(&x, NFT_TAG_EDGE "0")->packets);
	if (ctr_get(&x, NFT_TAG_EDGE "3")->packets != 1)
		FAIL(
		    "edge 3: %llu packets",
		    (unsigned long long)ctr_get(&x, NFT_TAG_EDGE "3")->packets);
	if (ctr_get(&x, NFT_TAG_QUEUE)->packets != 0 ||
	    ctr_get(&x, NFT_TAG_EDGE "1")->packets != 0)
		FAIL("queued an approved datagram");
	if (!delivered(rx5555))
		FAIL("approved datagram not delivered");
	e0 = ctr_get(&x, NFT_TAG_EDGE "0")->packets;

	/* Process-scoped: its rule counts it, then queues it (here: to
	 * nobody, so it never arrives), ahead of the generic queue rule. */
	if (udp_send("127.0.0.3", 8080) == -1)
		FAIL("send 8080: %s", strerror(errno));
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	if (ctr_get(&x, NFT_TAG_EDGE "1")->packets != 1 ||
	    ctr_get(&x, NFT_TAG_QUEUE)->packets != 0)
		FAIL(
		    "edge 1: %llu packets",
		    (unsigned long long)ctr_get(&x, NFT_TAG_EDGE "1")->packets);
	if (delivered(rx8080))
		FAIL("process-scoped datagram accepted in the kernel");

	/* The range's last port passes in the kernel; the next one is
	 * queued (to nobody: fail closed) and never arrives. */
	if (udp_send("127.0.0.1", 7010) == -1 ||
	    udp_send("127.0.0.1", 7011) == -1)
		FAIL("send 7010/7011: %s", strerror(errno));
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	if (ctr_get(&x, NFT_TAG_EDGE "6")->packets != 1 ||
	    ctr_get(&x, NFT_TAG_EDGE "7")->packets != 1)
		FAIL("range edges: %llu out, %llu in",
		     (unsigned long long)ctr_get(&x, NFT_TAG_EDGE "6")->packets,
		     (unsigned long long)ctr_get(&x, NFT_TAG_EDGE "7")->packets);
	if (!delivered(rx7010) || delivered(rx7011))
		FAIL("port range: 7010 must arrive, 7011 must not");

	/* Another port: no edge, so the queue (bypass: accepted). */
	if (udp_send("127.0.0.1", 5556) == -1)
		FAIL("send 5556");
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	q0 = ctr_get(&x, NFT_TAG_QUEUE)->packets;
	if (q0 < 1 || ctr_get(&x, NFT_TAG_EDGE "0")->packets != e0)
		FAIL("5556: queue %llu", (unsigned long long)q0);

	/* Untracked (a notrack rule in a table of its own, which the
	 * namespace's root may write): the queue still, never the chain's
	 * accepting policy. */
	if (system("nft 'add table ip t_notrack; add chain ip t_notrack out "
		   "{ type filter hook output priority raw; }; add rule ip "
		   "t_notrack out udp dport 5557 notrack'") != 0)
		FAIL("nft: notrack rule");
	if (udp_send("127.0.0.1", 5557) == -1)
		FAIL("send 5557");
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	if (ctr_get(&x, NFT_TAG_QUEUE)->packets != q0 + 1 || delivered(rx5557))
		FAIL("untracked: queue %llu, want %llu, and not delivered",
		     (unsigned long long)ctr_get(&x, NFT_TAG_QUEUE)->packets,
		     (unsigned long long)(q0 + 1));
	q0++;

	/* The set now holds 127.0.0.2 only. */
	if (nft_enforce_set_update(nl, &upd, err, sizeof(err)) == -1)
		FAIL("set update: %s", err);
	if (udp_send("127.0.0.1", 5555) == -1 ||
	    udp_send("127.0.0.2", 5555) == -1)
		FAIL("send after update");
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	if (ctr_get(&x, NFT_TAG_EDGE "0")->packets != e0 + 1)
		FAIL("edge 0 after update: %llu, want %llu",
		     (unsigned long long)ctr_get(&x, NFT_TAG_EDGE "0")->packets,
		     (unsigned long long)(e0 + 1));
	if (ctr_get(&x, NFT_TAG_QUEUE)->packets <= q0)
		FAIL("127.0.0.1 no longer in the set, yet not queued");
	if (delivered(rx5555))
		FAIL("127.0.0.1 no longer in the set, yet delivered");
	/* Updating a set the table does not have fails, with a reason, and
	 * leaves the socket in step: the next request reads its own replies
	 * (the counters read below). */
	err[0] = '\0';
	if (nft_enforce_set_update(nl, &missing, err, sizeof(err)) != -1 ||
	    !err[0])
		FAIL("update of a missing set succeeded");

	/* A burst of new flows: past the limit they count there. */
	for (int i = 0; i < 40; i++)
		if (udp_send("127.0.0.1", (uint16_t)(6000 + i)) == -1)
			FAIL("burst send");
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	if (ctr_get(&x, NFT_TAG_RATELIMIT)->packets == 0)
		FAIL("rate limit never hit");

	/* Applying again replaces the table: counters start over. */
	if (nft_table_apply(nl, &o, err, sizeof(err)) == -1)
		FAIL("re-apply: %s", err);
	if (read_ctrs(nl, &x) == -1)
		FAIL("counters: %s", strerror(errno));
	if (x.n != 10 || ctr_get(&x, NFT_TAG_EDGE "0")->packets != 0)
		FAIL("re-applied table");
	if (nft_table_remove(nl, err, sizeof(err)) == -1)
		FAIL("remove: %s", err);
	close(rx5555);
	close(rx8080);
	close(rx7010);
	close(rx7011);
	close(rx5557);
	mnl_socket_close(nl);
	return 0;
}

START_TEST(test_kernel_enforce)
{
	/* The probe makes a namespace of its own: root only. */
	native_queue = geteuid() == 0 ? nft_table_probe_native_queue() : 0;
	ck_assert_int_ne(native_queue, -1);
	fixture_netns_run(kernel_child);
}
END_TEST

/* Where the kernel has both, the other queue path works as well. */
START_TEST(test_kernel_enforce_compat)
{
	native_queue = 0;
	fixture_netns_run(kernel_child);
}
END_TEST

static int requeue_accept(const struct nfqueue_packet *p, void *arg)
{
	(void)p;
	(void)arg;
	return NF_ACCEPT;
}

/* Whether the next rebuild of the requeue test replaces the whole table. */
static int requeue_replace_whole;

/* A datagram waits in the queue for its verdict while the table is
 * rebuilt (rules and sets changed); then it gets its verdict. Returns 0
 * when it was delivered, 1 when the rebuild lost it. */
static int kernel_child_requeue(void)
{
	struct nseg_addr p0[1] = {addr("127.0.0.9")};
	struct nft_peer_set sets[1] = {{"p0", p0, 1}};
	struct nft_accept_rule rule = {.dir = NSEG_EGRESS,
				       .proto = IPPROTO_UDP,
				       .port = 5555,
				       .set = 0,
				       .id = 0};
	struct nft_table_opts o = {.queue_num = 4300,
				   .fail_open = 0,
				   .native_queue = native_queue};
	struct nft_enforce e = {.opts = &o, .sets = sets, .n_sets = 1,
				.rules = &rule, .n_rules = 1};
	struct nfqueue_opts qo = {.queue_num = 4300, .maxlen = 16,
				  .copy_range = 128};
	struct pollfd pfd = {.events = POLLIN};
	struct mnl_socket *nl;
	struct nfqueue *q;
	int rc, nsfd, rx, got;
	char err[256];

	o.enforce = &e;
	if ((rc = fixture_netns_nft(&nl)))
		return rc;
	nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns_init() == -1 || nsfd == -1)
		FAIL("netns: %s", strerror(errno));
	if (nft_table_apply(nl, &o, err, sizeof(err)) == -1)
		FAIL("apply: %s", err);
	q = nfqueue_open(nsfd, &qo, requeue_accept, NULL, err, sizeof(err));
	rx = udp_bind("127.0.0.1", 7020);
	if (!q || rx == -1)
		FAIL("queue or bind: %s", q ? strerror(errno) : err);
	if (udp_send("127.0.0.1", 7020) == -1)
		FAIL("send: %s", strerror(errno));
	pfd.fd = nfqueue_fd(q);
	if (poll(&pfd, 1, 2000) != 1)
		FAIL("nothing queued");
	/* Another workload's table: other sets, other rules. */
	p0[0] = addr("127.0.0.8");
	rule.port = 5556;
	o.replace_whole = requeue_replace_whole;
	if (nft_table_apply(nl, &o, err, sizeof(err)) == -1)
		FAIL("rebuild: %s", err);
	/* Its verdict on the way out; on loopback it is queued once more on
	 * its way in (still a new connection): verdicts for a while. */
	for (int i = 0; i < 10 && !(got = delivered(rx)); i++)
		if (nfqueue_dispatch(q) == -1)
			FAIL("dispatch: %s", strerror(errno));
	nfqueue_close(q);
	close(rx);
	close(nsfd);
	mnl_socket_close(nl);
	netns_shutdown();
	return got ? 0 : 1;
}

/* A recompile keeps the packets waiting for a verdict; replacing the
 * whole table (a repair) loses them, as the kernel drops a queue whose
 * hook goes: which shows the test can tell. */
START_TEST(test_kernel_rebuild_keeps_queue)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root for a network namespace\n");
		return;
	}
	native_queue = nft_table_probe_native_queue();
	ck_assert_int_ne(native_queue, -1);
	requeue_replace_whole = 0;
	fixture_netns_run(kernel_child_requeue);
	requeue_replace_whole = 1;
	ck_assert_int_eq(fixture_child(kernel_child_requeue), 1);
}
END_TEST

static Suite *nft_enforce_suite(void)
{
	Suite *s = suite_create("nft_enforce");
	TCase *tc = tcase_create("kernel");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kernel_enforce);
	tcase_add_test(tc, test_kernel_enforce_compat);
	tcase_add_test(tc, test_kernel_rebuild_keeps_queue);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nft_enforce_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
