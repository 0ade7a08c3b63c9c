#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>
#include <time.h>

#include "nseg/nft_counters.h"
#include "nseg/nft_dump.h"
#include "nseg/nft_table.h"

struct nft_counters_ctx {
	nft_counters_cb cb;
	void *arg;
};

static int nft_counters_comment(const struct nftnl_udata *attr, void *data)
{
	const char **out = data;

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT &&
	    nftnl_udata_len(attr) > 0 &&
	    ((const char *)nftnl_udata_get(attr))[nftnl_udata_len(attr) - 1] ==
		    '\0')
		*out = nftnl_udata_get(attr);
	return 0;
}

static int nft_counters_expr(struct nftnl_expr *e, void *data)
{
	uint64_t *pb = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
		pb[0] = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		pb[1] = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
		pb[2] = 1;
	}
	return 0;
}

static int nft_counters_rule(const struct nlmsghdr *nlh, void *data)
{
	struct nft_counters_ctx *x = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *tag = NULL;
	uint64_t pb[3] = { 0 };
	const void *ud;
	uint32_t len;

	if (!r)
		return MNL_CB_OK;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
		goto out;
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud)
		nftnl_udata_parse(ud, len, nft_counters_comment, &tag);
	if (!tag)
		goto out;
	nftnl_expr_foreach(r, nft_counters_expr, pb);
	if (pb[2])
		x->cb(tag, pb[0], pb[1], x->arg);
out:
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int nft_counters_read(struct mnl_socket *nl, nft_counters_cb cb, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nft_counters_ctx x = { cb, arg };
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r)
		return -1;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, (uint32_t)time(NULL) ^ 0x5a5a);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return nft_dump(nl, nlh, nft_counters_rule, &x);
}
