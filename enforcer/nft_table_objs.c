#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nseg/nft_batch.h"
#include "nseg/nft_dump.h"
#include "nseg/nft_table.h"
#include "nseg/nft_table_objs.h"

/* Appends name to a list of names; -1 when out of memory. */
static int nto_add(char (**list)[256], size_t *n, const char *name)
{
	char (*l)[256] = realloc(*list, (*n + 1) * sizeof(**list));

	if (!l)
		return -1;
	snprintf(l[*n], sizeof(l[*n]), "%s", name);
	*list = l;
	(*n)++;
	return 0;
}

static int nto_set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_table_objs *o = data;
	struct nftnl_set *s = nftnl_set_alloc();
	int rc = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    nftnl_set_is_set(s, NFTNL_SET_NAME) &&
	    !(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) &&
	    nto_add(&o->sets, &o->n_sets,
		    nftnl_set_get_str(s, NFTNL_SET_NAME)) == -1)
		rc = MNL_CB_ERROR;
	nftnl_set_free(s);
	return rc;
}

static int nto_chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_table_objs *o = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *name;
	int rc = MNL_CB_OK;

	if (!c)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    (name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)) &&
	    strcmp(name, "input") != 0 && strcmp(name, "output") != 0 &&
	    nto_add(&o->chains, &o->n_chains, name) == -1)
		rc = MNL_CB_ERROR;
	nftnl_chain_free(c);
	return rc;
}

/* A dump of type for our table; a table that does not exist holds
 * nothing. */
static int nto_dump(struct mnl_socket *nl, uint16_t type, mnl_cb_t cb,
		    struct nft_table_objs *o)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_DUMP,
				    (uint32_t)time(NULL) ^ 0x0b75u ^ type);
	/* NFTA_SET_TABLE and NFTA_CHAIN_TABLE are both attribute 1. */
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, NFT_TABLE_NAME);
	if (nft_dump(nl, nlh, cb, o) == -1)
		return errno == ENOENT ? 0 : -1;
	return 0;
}

int nft_table_objs_read(struct mnl_socket *nl, struct nft_table_objs *o)
{
	memset(o, 0, sizeof(*o));
	if (nto_dump(nl, NFT_MSG_GETSET, nto_set_cb, o) == -1 ||
	    nto_dump(nl, NFT_MSG_GETCHAIN, nto_chain_cb, o) == -1) {
		int e = errno;

		nft_table_objs_release(o);
		errno = e;
		return -1;
	}
	return 0;
}

void nft_table_objs_release(struct nft_table_objs *o)
{
	free(o->sets);
	free(o->chains);
	memset(o, 0, sizeof(*o));
}

/* One DELRULE (every rule of the table), DELCHAIN or DELSET. */
static int nto_del(struct nft_batch *b, uint16_t type, const char *name,
		   const char *what)
{
	struct nlmsghdr *nlh;
	uint32_t seq;
	void *buf = nft_batch_cur(b, &seq);

	if (!buf)
		return -1;
	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_ACK, seq);
	/* NFTA_RULE_TABLE, NFTA_CHAIN_TABLE, NFTA_SET_TABLE: attribute 1;
	 * NFTA_CHAIN_NAME and NFTA_SET_NAME: attribute 3 and 2. */
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, NFT_TABLE_NAME);
	if (type == NFT_MSG_DELCHAIN)
		mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, name);
	else if (type == NFT_MSG_DELSET)
		mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	return nft_batch_next(b, what);
}

int nft_table_objs_build_empty(struct nft_batch *b,
			       const struct nft_table_objs *o)
{
	char what[320];

	if (nto_del(b, NFT_MSG_DELRULE, NULL, "delete the table's rules"))
		return -1;
	for (size_t i = 0; i < o->n_chains; i++) {
		snprintf(what, sizeof(what), "delete chain %s", o->chains[i]);
		if (nto_del(b, NFT_MSG_DELCHAIN, o->chains[i], what))
			return -1;
	}
	for (size_t i = 0; i < o->n_sets; i++) {
		snprintf(what, sizeof(what), "delete set %s", o->sets[i]);
		if (nto_del(b, NFT_MSG_DELSET, o->sets[i], what))
			return -1;
	}
	return 0;
}
