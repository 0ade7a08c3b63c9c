/*
 * The table nsegd installs: both queue code paths built without a kernel
 * (expressions checked one by one), then sent to the real kernel as a dry
 * run in a throwaway network namespace of a forked child.
 */
#include <check.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture_child.h"
#include "fixture_netns.h"
#include "nseg/nft_table.h"

struct expr_list {
	char names[16][16];
	const struct nftnl_expr *e[16];
	int n;
	const struct nftnl_expr *last;
};

static int collect(struct nftnl_expr *e, void *data)
{
	struct expr_list *l = data;

	if (l->n == 16)
		return -1;
	l->e[l->n] = e;
	snprintf(l->names[l->n++], 16, "%s",
		 nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
	l->last = e;
	return 0;
}

static void expr_names(struct nftnl_rule *r, struct expr_list *l)
{
	memset(l, 0, sizeof(*l));
	nftnl_expr_foreach(r, collect, l);
}

START_TEST(test_native_queue_rule)
{
	struct nft_table_opts o = { .queue_num = 4200, .fail_open = 1,
				    .native_queue = 1 };
	struct nftnl_rule *r = nft_table_queue_rule("output", &o);
	struct expr_list l;

	ck_assert_ptr_nonnull(r);
	expr_names(r, &l);
	ck_assert_int_eq(l.n, 5);
	ck_assert_str_eq(l.names[0], "ct");
	ck_assert_str_eq(l.names[1], "bitwise");
	ck_assert_str_eq(l.names[2], "cmp");
	ck_assert_str_eq(l.names[3], "counter");
	ck_assert_str_eq(l.names[4], "queue");
	ck_assert_uint_eq(nftnl_expr_get_u16(l.last, NFTNL_EXPR_QUEUE_NUM), 4200);
	ck_assert_uint_eq(nftnl_expr_get_u16(l.last, NFTNL_EXPR_QUEUE_FLAGS),
			  NFT_QUEUE_FLAG_BYPASS);
	nftnl_rule_free(r);
}
END_TEST

START_TEST(test_compat_queue_rule)
{
	struct nft_table_opts o = { .queue_num = 7, .fail_open = 0,
				    .native_queue = 0 };
	struct nftnl_rule *r = nft_table_queue_rule("input", &o);
	const struct xt_NFQ_info_v3 *info;
	struct expr_list l;
	uint32_t len;

	ck_assert_ptr_nonnull(r);
	expr_names(r, &l);
	ck_assert_int_eq(l.n, 5);
	ck_assert_str_eq(l.names[4], "target");
	ck_assert_str_eq(nftnl_expr_get_str(l.last, NFTNL_EXPR_TG_NAME),
			 "NFQUEUE");
	ck_assert_uint_eq(nftnl_expr_get_u32(l.last, NFTNL_EXPR_TG_REV), 3);
	info = nftnl_expr_get(l.last, NFTNL_EXPR_TG_INFO, &len);
	ck_assert_uint_eq(len, sizeof(*info));
	ck_assert_uint_eq(info->queuenum, 7);
	ck_assert_uint_eq(info->queues_total, 1);
	/* fail closed: no bypass */
	ck_assert_uint_eq(info->flags, 0);
	nftnl_rule_free(r);
}
END_TEST

static void expect_names(const struct expr_list *l, const char *const *want,
			 int n)
{
	ck_assert_int_eq(l->n, n);
	for (int i = 0; i < n; i++)
		ck_assert_str_eq(l->names[i], want[i]);
}

static uint32_t expr_u32_data(const struct nftnl_expr *e, uint16_t type)
{
	uint32_t len, v;
	const void *d = nftnl_expr_get(e, type, &len);

	ck_assert_uint_eq(len, sizeof(v));
	memcpy(&v, d, sizeof(v));
	return v;
}

/* meta mark == NFT_CAPTURE_MARK; ct mark = (ct mark & ~bit) ^ bit; meta
 * mark = 0; counter; accept. No log: nsegd wrote this packet already. */
START_TEST(test_capture_start_rule)
{
	static const char *const want[] = { "meta",    "cmp",       "ct",
					    "bitwise", "ct",        "immediate",
					    "meta",    "counter",   "immediate" };
	struct nft_table_opts o = { .queue_num = 3, .capture = 1,
				    .capture_group = 3,
				    .capture_snaplen = 200 };
	struct nftnl_rule *r = nft_table_capture_start_rule("input", &o);
	struct expr_list l;

	ck_assert_ptr_nonnull(r);
	expr_names(r, &l);
	expect_names(&l, want, 9);
	ck_assert_uint_eq(nftnl_expr_get_u32(l.e[0], NFTNL_EXPR_META_KEY),
			  NFT_META_MARK);
	ck_assert_uint_eq(expr_u32_data(l.e[1], NFTNL_EXPR_CMP_DATA),
			  NFT_CAPTURE_MARK);
	ck_assert_uint_eq(nftnl_expr_get_u32(l.e[2], NFTNL_EXPR_CT_KEY),
			  NFT_CT_MARK);
	ck_assert_uint_eq(expr_u32_data(l.e[3], NFTNL_EXPR_BITWISE_MASK),
			  ~NFT_CAPTURE_CT_BIT);
	ck_assert_uint_eq(expr_u32_data(l.e[3], NFTNL_EXPR_BITWISE_XOR),
			  NFT_CAPTURE_CT_BIT);
	ck_assert(nftnl_expr_is_set(l.e[4], NFTNL_EXPR_CT_SREG));
	ck_assert_uint_eq(expr_u32_data(l.e[5], NFTNL_EXPR_IMM_DATA), 0);
	ck_assert(nftnl_expr_is_set(l.e[6], NFTNL_EXPR_META_SREG));
	ck_assert_int_eq(nftnl_expr_get_u32(l.e[8], NFTNL_EXPR_IMM_VERDICT),
			 NF_ACCEPT);
	nftnl_rule_free(r);
}
END_TEST

/* ct mark & bit == bit; counter; log: no verdict, and no snaplen when
 * none was asked for. */
START_TEST(test_capture_rule)
{
	static const char *const want[] = { "ct", "bitwise", "cmp", "counter",
					    "log" };
	struct nft_table_opts o = { .capture = 1, .capture_group = 0 };
	struct nftnl_rule *r = nft_table_capture_rule("output", &o);
	struct expr_list l;

	ck_assert_ptr_nonnull(r);
	expr_names(r, &l);
	expect_names(&l, want, 5);
	ck_assert_uint_eq(expr_u32_data(l.e[1], NFTNL_EXPR_BITWISE_MASK),
			  NFT_CAPTURE_CT_BIT);
	ck_assert_uint_eq(expr_u32_data(l.e[2], NFTNL_EXPR_CMP_DATA),
			  NFT_CAPTURE_CT_BIT);
	ck_assert_uint_eq(nftnl_expr_get_u16(l.e[4], NFTNL_EXPR_LOG_GROUP), 0);
	ck_assert(!nftnl_expr_is_set(l.e[4], NFTNL_EXPR_LOG_SNAPLEN));
	nftnl_rule_free(r);
}
END_TEST

/* In a child: a private netns, then apply (compat) and remove for real. */
static int kernel_child(int native, int capture)
{
	struct nft_table_opts o = { .queue_num = 4200, .fail_open = 1,
				    .native_queue = native,
				    .reject_mark = capture ? NFT_REJECT_MARK : 0,
				    .capture = capture,
				    .capture_group = 4200,
				    .capture_snaplen = 128 };
	struct mnl_socket *nl;
	char err[256];
	int rc;

	if ((rc = fixture_netns_nft(&nl)))
		return rc;
	if (nft_table_apply(nl, &o, err, sizeof(err)) == -1)
		return 1;
	/* Applying again replaces the table in one transaction. */
	if (nft_table_apply(nl, &o, err, sizeof(err)) == -1)
		return 2;
	if (nft_table_remove(nl, err, sizeof(err)) == -1)
		return 3;
	/* Removing a missing table is not an error. */
	if (nft_table_remove(nl, err, sizeof(err)) == -1)
		return 4;
	return 0;
}

static int child_native, child_capture; /* kernel_child's arguments */

static int kernel_child_args(void)
{
	return kernel_child(child_native, child_capture);
}

static int run_child(int native, int capture)
{
	child_native = native;
	child_capture = capture;
	return fixture_child(kernel_child_args);
}

START_TEST(test_kernel_paths)
{
	int native;

	if (geteuid() != 0)
		return; /* needs CAP_SYS_ADMIN for unshare(CLONE_NEWNET) */
	native = nft_table_probe_native_queue();
	ck_assert_int_ne(native, -1);
	/* The path the probe chose must work on this kernel... */
	ck_assert_int_eq(run_child(native, 0), 0);
	/* ...also with the reject and capture rules... */
	ck_assert_int_eq(run_child(native, 1), 0);
	/* ...and the compat target works everywhere nft_compat exists. */
	ck_assert_int_eq(run_child(0, 0), 0);
	/* Where the probe says no native queue, applying it must fail. */
	if (!native)
		ck_assert_int_eq(run_child(1, 0), 1);
}
END_TEST

static Suite *nft_table_suite(void)
{
	Suite *s = suite_create("nft_table");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_native_queue_rule);
	tcase_add_test(tc, test_compat_queue_rule);
	tcase_add_test(tc, test_capture_start_rule);
	tcase_add_test(tc, test_capture_rule);
	tcase_add_test(tc, test_kernel_paths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nft_table_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
