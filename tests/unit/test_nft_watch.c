/*
 * nftables notifications narrowed to tampering: which messages are
 * foreign changes of table inet nseg (built messages, no kernel), then
 * the real kernel in a throwaway network namespace of a forked child:
 * nsegd's own transactions and other tables' are not reported, another
 * socket's change of the table is, once per transaction, with who did it.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nseg/netns.h"
#include "nseg/nft_batch.h"
#include "nseg/nft_table.h"
#include "nseg/nft_watch.h"

#include "fixture_netns.h"

#define OWN 1234
#define OTHER 999

static const struct {
	uint16_t type;
	const char *table;
	uint8_t family;
	uint32_t portid;
	enum nft_watch_kind want;
	const char *what;
} cases[] = {
	{ NFT_MSG_DELRULE, "nseg", NFPROTO_INET, OTHER, NFT_WATCH_CHANGE,
	  "rule deleted from chain output" },
	{ NFT_MSG_NEWRULE, "nseg", NFPROTO_INET, OTHER, NFT_WATCH_CHANGE,
	  "rule added to chain output" },
	/* nsegd's own batch. */
	{ NFT_MSG_DELRULE, "nseg", NFPROTO_INET, OWN, NFT_WATCH_OTHER, "" },
	/* Someone else's table, or another family's table of that name. */
	{ NFT_MSG_DELRULE, "fw", NFPROTO_INET, OTHER, NFT_WATCH_OTHER, "" },
	{ NFT_MSG_DELRULE, "nseg", NFPROTO_IPV4, OTHER, NFT_WATCH_OTHER, "" },
};

START_TEST(test_classify_rule)
{
	char buf[4096], what[NFT_WATCH_NOTE_MAX] = "";
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, cases[_i].table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "output");
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, 4);
	nlh = nftnl_rule_nlmsg_build_hdr(buf, cases[_i].type, cases[_i].family,
					 0, 1);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nlh->nlmsg_pid = cases[_i].portid;
	ck_assert_int_eq(nft_watch_classify(nlh, OWN, what, sizeof(what)),
			 cases[_i].want);
	if (cases[_i].want == NFT_WATCH_CHANGE)
		ck_assert_str_eq(what, cases[_i].what);
}
END_TEST

START_TEST(test_classify_gen)
{
	char buf[512], what[NFT_WATCH_NOTE_MAX];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, 0, 0);
	mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(77));
	mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(4242));
	mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, "nft");
	nlh->nlmsg_pid = OTHER;
	ck_assert_int_eq(nft_watch_classify(nlh, OWN, what, sizeof(what)),
			 NFT_WATCH_COMMIT);
	ck_assert_str_eq(what, "nft (pid 4242)");
	nlh->nlmsg_pid = OWN;
	ck_assert_int_eq(nft_watch_classify(nlh, OWN, what, sizeof(what)),
			 NFT_WATCH_OTHER);
	/* Truncated: not an nftables message the watch can read. */
	nlh->nlmsg_pid = OTHER;
	nlh->nlmsg_len = sizeof(*nlh);
	ck_assert_int_eq(nft_watch_classify(nlh, OWN, what, sizeof(what)),
			 NFT_WATCH_OTHER);
}
END_TEST

struct notes {
	int n;
	char last[512];
};

static void on_change(const char *note, void *arg)
{
	struct notes *x = arg;

	x->n++;
	snprintf(x->last, sizeof(x->last), "%s", note);
}

/* A transaction from a socket of its own: table nseg deleted (all) or a
 * table "fw" added. */
static int foreign(int delete_nseg)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nft_batch *b = nft_batch_new(1, 0);
	char err[256];
	int rc = -1;

	if (!nl || !b || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	if (delete_nseg) {
		if (nft_table_build_delete(b) == -1)
			goto out;
	} else {
		struct nftnl_table *t = nftnl_table_alloc();
		uint32_t seq;
		void *buf = nft_batch_cur(b, &seq);
		struct nlmsghdr *nlh = nftnl_table_nlmsg_build_hdr(
			buf, NFT_MSG_NEWTABLE, NFPROTO_INET,
			NLM_F_CREATE | NLM_F_ACK, seq);

		nftnl_table_set_str(t, NFTNL_TABLE_NAME, "fw");
		nftnl_table_nlmsg_build_payload(nlh, t);
		nftnl_table_free(t);
		nft_batch_next(b, "add table fw");
	}
	rc = nft_batch_send(b, nl, 5000, err, sizeof(err));
out:
	nft_batch_free(b);
	if (nl)
		mnl_socket_close(nl);
	return rc;
}

static int kernel_child(void)
{
	struct nft_table_opts o = { .queue_num = 3, .fail_open = 1 };
	struct notes x = { 0 };
	struct mnl_socket *nl;
	struct nft_watch *nw;
	char err[256];
	int nsfd, rc;

	if ((rc = fixture_netns_enter()))
		return rc;
	if (netns_init() == -1)
		return 1;
	nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	nl = netns_mnl_open(nsfd, NETLINK_NETFILTER);
	if (!nl)
		return FIXTURE_SKIP;
	nw = nft_watch_open(nsfd, mnl_socket_get_portid(nl), on_change, &x);
	if (!nw)
		return 1;
	/* Our own transactions, twice: nothing to report. */
	if (nft_table_apply(nl, &o, err, sizeof(err)) ||
	    nft_table_apply(nl, &o, err, sizeof(err)) ||
	    nft_watch_dispatch(nw) || x.n != 0)
		return 2;
	/* Someone else's table. */
	if (foreign(0) || nft_watch_dispatch(nw) || x.n != 0)
		return 3;
	/* Ours deleted by someone else: one report for the transaction. */
	if (foreign(1) || nft_watch_dispatch(nw) || x.n != 1)
		return 4;
	if (strncmp(x.last, "table deleted and ", 18) != 0 ||
	    !strstr(x.last, "more changes by test_nft_watch (pid "))
		return 5;
	nft_watch_close(nw);
	mnl_socket_close(nl);
	return 0;
}

START_TEST(test_kernel_watch)
{
	fixture_netns_run(kernel_child);
}
END_TEST

static Suite *nft_watch_suite(void)
{
	Suite *s = suite_create("nft_watch");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_classify_rule, 0,
			    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_classify_gen);
	tcase_add_test(tc, test_kernel_watch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nft_watch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
