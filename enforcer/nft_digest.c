#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nseg/netns.h"
#include "nseg/nft_digest.h"
#include "nseg/nft_dump.h"
#include "nseg/nft_table.h"

#define NFT_DIGEST_TRIES 3
/* The table's own attribute in every message this reads: NFTA_TABLE_NAME,
 * NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE and
 * NFTA_SET_ELEM_LIST_TABLE are all attribute 1. */
#define NFT_DIGEST_TABLE_ATTR 1

static uint64_t nft_digest_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* splitmix64's finaliser: element hashes are summed, so each must look
 * random on its own. */
static uint64_t nft_digest_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t nft_digest_attr(uint64_t h, const struct nlattr *a)
{
	uint16_t type = mnl_attr_get_type(a);
	uint32_t len = (uint32_t)mnl_attr_get_payload_len(a);

	h = nft_digest_fnv(h, &type, sizeof(type));
	h = nft_digest_fnv(h, &len, sizeof(len));
	return nft_digest_fnv(h, mnl_attr_get_payload(a), len);
}

static int nft_digest_skipped(uint16_t type, const uint16_t *skip)
{
	for (; *skip; skip++)
		if (*skip == type)
			return 1;
	return 0;
}

/* One expression: its name and data, except a counter's (its values). */
static uint64_t nft_digest_expr(uint64_t h, const struct nlattr *elem)
{
	const struct nlattr *a;
	int counter = 0;

	mnl_attr_for_each_nested(a, elem)
		if (mnl_attr_get_type(a) == NFTA_EXPR_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			counter = strcmp(mnl_attr_get_str(a), "counter") == 0;
	mnl_attr_for_each_nested(a, elem)
		if (!(counter && mnl_attr_get_type(a) == NFTA_EXPR_DATA))
			h = nft_digest_attr(h, a);
	return h;
}

static uint64_t nft_digest_rule_exprs(uint64_t h, const struct nlattr *list)
{
	const struct nlattr *elem;

	mnl_attr_for_each_nested(elem, list)
		h = nft_digest_expr(h, elem);
	return h;
}

/* The sum of the elements' hashes, each salted with the set's name. */
static uint64_t nft_digest_elems(const struct nlmsghdr *nlh)
{
	static const uint16_t skip[] = { NFTA_SET_ELEM_EXPIRATION,
					 NFTA_SET_ELEM_EXPR,
					 NFTA_SET_ELEM_EXPRESSIONS, 0 };
	const struct nlattr *a, *elem, *ea;
	uint64_t salt = 0xcbf29ce484222325ULL, sum = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			salt = nft_digest_attr(salt, a);
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(elem, a) {
			uint64_t h = salt;

			mnl_attr_for_each_nested(ea, elem)
				if (!nft_digest_skipped(mnl_attr_get_type(ea),
							skip))
					h = nft_digest_attr(h, ea);
			sum += nft_digest_mix(h);
		}
	}
	return sum;
}

/* Attributes that change by themselves, per message type. */
static const uint16_t *nft_digest_skip(uint16_t type)
{
	static const uint16_t table[] = { NFTA_TABLE_USE, NFTA_TABLE_HANDLE, 0 };
	static const uint16_t chain[] = { NFTA_CHAIN_HANDLE, NFTA_CHAIN_USE,
					  NFTA_CHAIN_COUNTERS, 0 };
	static const uint16_t rule[] = { NFTA_RULE_HANDLE, NFTA_RULE_POSITION,
					 0 };
	static const uint16_t set[] = { NFTA_SET_HANDLE, 0 };

	switch (type) {
	case NFT_MSG_NEWTABLE:
		return table;
	case NFT_MSG_NEWCHAIN:
		return chain;
	case NFT_MSG_NEWRULE:
		return rule;
	case NFT_MSG_NEWSET:
		return set;
	default:
		return NULL;
	}
}

uint64_t nft_digest_msg(const struct nlmsghdr *nlh)
{
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const struct nfgenmsg *g;
	const uint16_t *skip;
	const struct nlattr *a;
	uint64_t h = 0xcbf29ce484222325ULL;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
		return 0;
	if (type == NFT_MSG_NEWSETELEM)
		return nft_digest_elems(nlh);
	skip = nft_digest_skip(type);
	if (!skip)
		return 0;
	g = mnl_nlmsg_get_payload(nlh);
	h = nft_digest_fnv(h, &type, sizeof(type));
	h = nft_digest_fnv(h, &g->nfgen_family, sizeof(g->nfgen_family));
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		uint16_t at = mnl_attr_get_type(a);

		if (nft_digest_skipped(at, skip))
			continue;
		if (type == NFT_MSG_NEWRULE && at == NFTA_RULE_EXPRESSIONS)
			h = nft_digest_rule_exprs(h, a);
		else
			h = nft_digest_attr(h, a);
	}
	return h;
}

struct nft_digest_run {
	uint64_t h;	 /* ordered objects, chained */
	uint64_t elems;	 /* the current set's elements, summed */
	int have_table;
	int unstable;	 /* a transaction committed during the dumps */
	int gen_set;
	uint16_t gen;
	char (*sets)[NFT_SET_MAXNAMELEN];
	size_t n_sets;
};

static int nft_digest_ours(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFT_DIGEST_TABLE_ATTR)
			return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
			       strcmp(mnl_attr_get_str(a), NFT_TABLE_NAME) == 0;
	return 0;
}

static int nft_digest_add_set(struct nft_digest_run *r,
			      const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		char (*v)[NFT_SET_MAXNAMELEN];

		if (mnl_attr_get_type(a) != NFTA_SET_NAME ||
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			continue;
		v = realloc(r->sets, (r->n_sets + 1) * sizeof(*v));
		if (!v)
			return MNL_CB_ERROR;
		r->sets = v;
		snprintf(v[r->n_sets++], NFT_SET_MAXNAMELEN, "%s",
			 mnl_attr_get_str(a));
	}
	return MNL_CB_OK;
}

static int nft_digest_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_digest_run *r = data;
	const struct nfgenmsg *g;
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	uint64_t h;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
		return MNL_CB_OK;
	g = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		r->unstable = 1;
	if (r->gen_set && ntohs(g->res_id) != r->gen)
		r->unstable = 1;
	r->gen = ntohs(g->res_id);
	r->gen_set = 1;
	if (g->nfgen_family != NFPROTO_INET || !nft_digest_ours(nlh))
		return MNL_CB_OK;
	h = nft_digest_msg(nlh);
	if (type == NFT_MSG_NEWSETELEM) {
		r->elems += h;
		return MNL_CB_OK;
	}
	if (type == NFT_MSG_NEWTABLE)
		r->have_table = 1;
	r->h = nft_digest_fnv(r->h, &h, sizeof(h));
	if (type == NFT_MSG_NEWSET)
		return nft_digest_add_set(r, nlh);
	return MNL_CB_OK;
}

/* One dump of type for the table (and set, for elements). */
static int nft_digest_dump(struct mnl_socket *nl, uint16_t type,
			   const char *set, struct nft_digest_run *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, NLM_F_DUMP,
				    (uint32_t)time(NULL) ^
					    ((uint32_t)type << 16));
	mnl_attr_put_strz(nlh, NFT_DIGEST_TABLE_ATTR, NFT_TABLE_NAME);
	if (set)
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	return nft_dump(nl, nlh, nft_digest_cb, r);
}

static int nft_digest_once(struct mnl_socket *nl, struct nft_digest_run *r)
{
	static const uint16_t types[] = { NFT_MSG_GETCHAIN, NFT_MSG_GETRULE,
					  NFT_MSG_GETSET };

	if (nft_digest_dump(nl, NFT_MSG_GETTABLE, NULL, r) == -1)
		return -1;
	if (!r->have_table)
		return 0;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (nft_digest_dump(nl, types[i], NULL, r) == -1)
			return -1;
	for (size_t i = 0; i < r->n_sets; i++) {
		r->elems = 0;
		if (nft_digest_dump(nl, NFT_MSG_GETSETELEM, r->sets[i], r) == -1)
			return -1;
		r->h = nft_digest_fnv(r->h, &r->elems, sizeof(r->elems));
	}
	return 0;
}

int nft_digest_read(struct mnl_socket *nl, uint64_t *out, char *err,
		    size_t errlen)
{
	for (int i = 0; i < NFT_DIGEST_TRIES; i++) {
		struct nft_digest_run r = { .h = 0xcbf29ce484222325ULL };
		int rc = nft_digest_once(nl, &r);

		free(r.sets);
		/* The table or a set went between two dumps: a commit. */
		if (rc == -1 && errno != ENOENT) {
			snprintf(err, errlen, "reading table inet %s: %s",
				 NFT_TABLE_NAME, strerror(errno));
			return -1;
		}
		if (rc == -1 || r.unstable)
			continue;
		/* Never NFT_DIGEST_NONE for a table that exists. */
		*out = r.have_table ? (r.h ? r.h : 1) : NFT_DIGEST_NONE;
		return 0;
	}
	snprintf(err, errlen, "table inet %s kept changing while read",
		 NFT_TABLE_NAME);
	return -1;
}
