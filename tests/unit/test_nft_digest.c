/*
 * The table digest: which differences count (built messages, no kernel),
 * then against the real kernel in a throwaway network namespace of a
 * forked child: stable across reads, changed by another socket's rule,
 * back to the same value when nsegd's table is applied again.
 */
#include <arpa/inet.h>
#include <check.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nseg/edge.h"
#include "nseg/nft_batch.h"
#include "nseg/nft_digest.h"
#include "nseg/nft_enforce.h"
#include "nseg/nft_table.h"

#include "fixture_netns.h"

struct rule_spec {
	const char *chain;
	uint64_t handle;
	uint64_t packets; /* counter value */
	uint16_t port;
	const char *comment;
	int swap; /* counter before the compare */
};

static const struct rule_spec base = { "output", 7, 0, 8080, "nseg:edge:0",
				       0 };

static void add_counter(struct nftnl_rule *r, uint64_t packets)
{
	struct nftnl_expr *c = nftnl_expr_alloc("counter");

	nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS, packets);
	nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES, packets * 60);
	nftnl_rule_add_expr(r, c);
}

static uint64_t rule_digest(const struct rule_spec *s)
{
	char buf[8192];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	uint16_t port = htons(s->port);
	uint64_t h;

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, s->chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, s->handle);
	if (s->swap)
		add_counter(r, s->packets);
	nft_table_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	nft_table_cmp(r, NFT_CMP_EQ, &port, 2);
	if (!s->swap)
		add_counter(r, s->packets);
	nft_table_tag(r, s->comment);
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET, 0,
					 1);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	h = nft_digest_msg(nlh);
	ck_assert_uint_ne(h, 0);
	return h;
}

static const struct {
	const char *what;
	struct rule_spec s;
	int same; /* as base */
} rule_cases[] = {
	{ "the same rule", { "output", 7, 0, 8080, "nseg:edge:0", 0 }, 1 },
	{ "another handle", { "output", 99, 0, 8080, "nseg:edge:0", 0 }, 1 },
	{ "counted packets", { "output", 7, 12345, 8080, "nseg:edge:0", 0 }, 1 },
	{ "another port", { "output", 7, 0, 8081, "nseg:edge:0", 0 }, 0 },
	{ "another chain", { "input", 7, 0, 8080, "nseg:edge:0", 0 }, 0 },
	{ "another comment", { "output", 7, 0, 8080, "nseg:edge:1", 0 }, 0 },
	{ "expressions reordered", { "output", 7, 0, 8080, "nseg:edge:0", 1 }, 0 },
};

START_TEST(test_rule_digest)
{
	uint64_t a = rule_digest(&base), b = rule_digest(&rule_cases[_i].s);

	if (rule_cases[_i].same)
		ck_assert_msg(a == b, "%s: digest changed", rule_cases[_i].what);
	else
		ck_assert_msg(a != b, "%s: digest unchanged",
			      rule_cases[_i].what);
}
END_TEST

/* A NEWSETELEM message of set with keys (4 bytes each), each element
 * expiring at expiry when not 0. */
static uint64_t elems_digest(const char *set, const uint32_t *keys, size_t n,
			     uint64_t expiry)
{
	char buf[8192];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	uint64_t h;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();

		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &keys[i], 4);
		if (expiry)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION,
					       expiry);
		nftnl_set_elem_add(s, e);
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, NFPROTO_INET, 0,
				    1);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	h = nft_digest_msg(nlh);
	return h;
}

START_TEST(test_elems_digest)
{
	static const uint32_t ab[] = { 0x0a000001, 0x0a000002 };
	static const uint32_t ba[] = { 0x0a000002, 0x0a000001 };
	static const uint32_t ac[] = { 0x0a000001, 0x0a000003 };
	uint64_t h = elems_digest("p0_4", ab, 2, 0);

	ck_assert_uint_ne(h, 0);
	ck_assert_uint_eq(h, elems_digest("p0_4", ba, 2, 0));
	/* Elements of one set dumped in two messages add up the same. */
	ck_assert_uint_eq(h, elems_digest("p0_4", ab, 1, 0) +
				     elems_digest("p0_4", ab + 1, 1, 0));
	ck_assert_uint_eq(h, elems_digest("p0_4", ab, 2, 5000));
	ck_assert_uint_ne(h, elems_digest("p0_4", ac, 2, 0));
	ck_assert_uint_ne(h, elems_digest("p0_4", ab, 1, 0));
	ck_assert_uint_ne(h, elems_digest("p1_4", ab, 2, 0));
}
END_TEST

START_TEST(test_other_messages)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	/* Not nftables: no contribution. */
	nlh->nlmsg_type = NLMSG_DONE;
	ck_assert_uint_eq(nft_digest_msg(nlh), 0);
	/* A request type, and a message too short for its header. */
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, 0, 1);
	ck_assert_uint_eq(nft_digest_msg(nlh), 0);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
	nlh->nlmsg_len = sizeof(*nlh);
	ck_assert_uint_eq(nft_digest_msg(nlh), 0);
}
END_TEST

/* nsegd's enforce table: one peer set, one approved edge. */
static int apply_table(struct mnl_socket *nl)
{
	static const struct nseg_addr addrs[] = {
		{ .family = AF_INET, .a = { 10, 66, 0, 2 } },
	};
	struct nft_table_opts o = { .queue_num = 3, .fail_open = 1,
				    .queue_rate = 100 };
	struct nft_peer_set set = { .name = "p0", .addrs = addrs,
				    .n_addrs = 1 };
	struct nft_accept_rule rule = { .dir = NSEG_EGRESS, .proto = 6,
					.port = 8080, .set = 0 };
	struct nft_enforce e = { .opts = &o, .sets = &set, .n_sets = 1,
				 .rules = &rule, .n_rules = 1 };
	char err[256];

	o.enforce = &e;
	return nft_table_apply(nl, &o, err, sizeof(err));
}

/* Another socket appends a queue rule to chain input. */
static int add_rogue_rule(void)
{
	struct nft_table_opts o = { .queue_num = 9 };
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nft_batch *b = nft_batch_new(1, 0);
	struct nftnl_rule *r = nft_table_queue_rule("input", &o);
	struct nlmsghdr *nlh;
	char err[256];
	uint32_t seq;
	void *buf;
	int rc;

	if (!nl || !b || !r || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	buf = nft_batch_cur(b, &seq);
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET,
					 NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK,
					 seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nft_batch_next(b, "rogue rule");
	rc = nft_batch_send(b, nl, 5000, err, sizeof(err));
	nft_batch_free(b);
	mnl_socket_close(nl);
	return rc;
}

static int kernel_child(void)
{
	struct mnl_socket *nl;
	uint64_t none, d1, d2, d3, d4;
	char err[256];
	int rc;

	if ((rc = fixture_netns_nft(&nl)))
		return rc;
	if (nft_digest_read(nl, &none, err, sizeof(err)) || none != NFT_DIGEST_NONE)
		return 1;
	if (apply_table(nl) || nft_digest_read(nl, &d1, err, sizeof(err)) ||
	    d1 == NFT_DIGEST_NONE)
		return 2;
	if (nft_digest_read(nl, &d2, err, sizeof(err)) || d2 != d1)
		return 3;
	if (add_rogue_rule() || nft_digest_read(nl, &d3, err, sizeof(err)) ||
	    d3 == d1)
		return 4;
	/* New handles, same rules: the same digest. */
	if (apply_table(nl) || nft_digest_read(nl, &d4, err, sizeof(err)) ||
	    d4 != d1)
		return 5;
	if (nft_table_remove(nl, err, sizeof(err)) ||
	    nft_digest_read(nl, &d4, err, sizeof(err)) || d4 != NFT_DIGEST_NONE)
		return 6;
	mnl_socket_close(nl);
	return 0;
}

START_TEST(test_kernel_digest)
{
	fixture_netns_run(kernel_child);
}
END_TEST

static Suite *nft_digest_suite(void)
{
	Suite *s = suite_create("nft_digest");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_rule_digest, 0,
			    sizeof(rule_cases) / sizeof(rule_cases[0]));
	tcase_add_test(tc, test_elems_digest);
	tcase_add_test(tc, test_other_messages);
	tcase_add_test(tc, test_kernel_digest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nft_digest_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
