#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nseg/edge.h"
#include "nseg/nft_batch.h"
#include "nseg/nft_enforce.h"
#include "nseg/nft_table.h"

/* nftables' data types for the set keys (nft's datatype numbers). */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
/* Set ids only need to be unique within one batch. */
#define NFT_ENFORCE_SET_ID_BASE 0x6e730000u

static int nft_enforce_set_name(const struct nft_peer_set *s, int v6,
				char *out, size_t len)
{
	return snprintf(out, len, "%s_%d", s->name, v6 ? 6 : 4) >= (int)len
		       ? -1
		       : 0;
}

static struct nftnl_set *nft_enforce_set_obj(const struct nft_peer_set *s,
					     int v6, uint32_t id)
{
	struct nftnl_set *set = nftnl_set_alloc();
	char name[NFT_ENFORCE_SET_NAME_MAX + 4];

	if (!set || nft_enforce_set_name(s, v6, name, sizeof(name)) == -1) {
		nftnl_set_free(set);
		return NULL;
	}
	nftnl_set_set_str(set, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(set, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE,
			  v6 ? NFT_TYPE_IP6ADDR : NFT_TYPE_IPADDR);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, v6 ? 16 : 4);
	nftnl_set_set_u32(set, NFTNL_SET_ID, id);
	return set;
}

/* Adds the addresses of one family to set; returns how many. */
static size_t nft_enforce_fill(struct nftnl_set *set,
			       const struct nft_peer_set *s, int v6)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_addrs; i++) {
		struct nftnl_set_elem *e;

		if ((s->addrs[i].family == AF_INET6) != v6)
			continue;
		e = nftnl_set_elem_alloc();
		if (!e)
			continue;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, s->addrs[i].a,
				   v6 ? 16 : 4);
		nftnl_set_elem_add(set, e);
		n++;
	}
	return n;
}

static int nft_enforce_msg(struct nft_batch *b, uint16_t type,
			   struct nftnl_set *set, const char *what)
{
	struct nlmsghdr *nlh;
	uint32_t seq;
	void *buf = nft_batch_cur(b, &seq);

	if (!buf)
		return -1;
	nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET,
				    (type == NFT_MSG_DELSETELEM ? 0
								: NLM_F_CREATE) |
					    NLM_F_ACK,
				    seq);
	if (type == NFT_MSG_NEWSET)
		nftnl_set_nlmsg_build_payload(nlh, set);
	else
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
	return nft_batch_next(b, what);
}

int nft_enforce_add_sets(struct nft_batch *b, const struct nft_enforce *e)
{
	char what[64];

	for (size_t i = 0; i < e->n_sets; i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			uint32_t id = NFT_ENFORCE_SET_ID_BASE + (uint32_t)i * 2 +
				      (uint32_t)v6;
			struct nftnl_set *set =
				nft_enforce_set_obj(&e->sets[i], v6, id);
			int rc;

			if (!set)
				return -1;
			snprintf(what, sizeof(what), "add set %s_%d",
				 e->sets[i].name, v6 ? 6 : 4);
			rc = nft_enforce_msg(b, NFT_MSG_NEWSET, set, what);
			if (rc == 0 && nft_enforce_fill(set, &e->sets[i], v6))
				rc = nft_enforce_msg(b, NFT_MSG_NEWSETELEM, set,
						     what);
			nftnl_set_free(set);
			if (rc == -1)
				return -1;
		}
	}
	return 0;
}

/* reg1 (an address) must be in the set, or inside the prefix. */
static void nft_enforce_peer(struct nftnl_rule *r, const struct nft_enforce *e,
			     const struct nft_accept_rule *ar, int v6)
{
	size_t alen = v6 ? 16 : 4;
	uint8_t mask[16] = { 0 };
	char name[NFT_ENFORCE_SET_NAME_MAX + 4];
	struct nftnl_expr *x;

	if (ar->set >= 0) {
		nft_enforce_set_name(&e->sets[ar->set], v6, name, sizeof(name));
		x = nftnl_expr_alloc("lookup");
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, name);
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SET_ID,
				   NFT_ENFORCE_SET_ID_BASE +
					   (uint32_t)ar->set * 2 + (uint32_t)v6);
		nftnl_rule_add_expr(r, x);
		return;
	}
	for (unsigned i = 0; i < ar->cidr.prefixlen && i < alen * 8; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	nft_table_mask(r, mask, (uint32_t)alen);
	nft_table_cmp(r, NFT_CMP_EQ, ar->cidr.addr.a, (uint32_t)alen);
}

/* th dport PORT, or th dport LO-HI (a range a learned edge never has). */
static void nft_enforce_ports(struct nftnl_rule *r,
			      const struct nft_accept_rule *ar)
{
	uint16_t lo = htons(ar->port), hi = htons(ar->port_hi);

	nft_table_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	if (ar->port_hi <= ar->port) {
		nft_table_cmp(r, NFT_CMP_EQ, &lo, 2);
		return;
	}
	nft_table_range(r, &lo, &hi, 2);
}

static struct nftnl_rule *nft_enforce_rule(const char *chain,
					   const struct nft_enforce *e,
					   const struct nft_accept_rule *ar,
					   int v6)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	uint32_t addr_off = ar->dir == NSEG_EGRESS ? (v6 ? 24 : 16)
						   : (v6 ? 8 : 12);
	int icmp = ar->proto == IPPROTO_ICMP || ar->proto == IPPROTO_ICMPV6;
	uint8_t nfproto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;

	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nft_table_meta(r, NFT_META_NFPROTO);
	nft_table_cmp(r, NFT_CMP_EQ, &nfproto, 1);
	nft_table_meta(r, NFT_META_L4PROTO);
	nft_table_cmp(r, NFT_CMP_EQ, &ar->proto, 1);
	nft_table_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_off,
			  v6 ? 16 : 4);
	nft_enforce_peer(r, e, ar, v6);
	if (icmp) {
		uint8_t type = (uint8_t)ar->port;

		nft_table_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		nft_table_cmp(r, NFT_CMP_EQ, &type, 1);
	} else {
		nft_enforce_ports(r, ar);
	}
	nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
	if (ar->queue) {
		if (nft_table_add_queue(r, e->opts) == -1) {
			nftnl_rule_free(r);
			return NULL;
		}
	} else {
		struct nftnl_expr *v = nftnl_expr_alloc("immediate");

		nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
		nftnl_rule_add_expr(r, v);
	}
	{
		char tag[32];

		snprintf(tag, sizeof(tag), "%s%d", NFT_TAG_EDGE, ar->id);
		nft_table_tag(r, tag);
	}
	return r;
}

/* Which families a rule exists in. */
static int nft_enforce_family_ok(const struct nft_accept_rule *ar, int v6)
{
	if (ar->proto == IPPROTO_ICMP)
		return !v6;
	if (ar->proto == IPPROTO_ICMPV6)
		return v6;
	if (ar->set < 0)
		return (ar->cidr.addr.family == AF_INET6) == v6;
	return 1;
}

int nft_enforce_add_rules(struct nft_batch *b, const char *chain, uint8_t dir,
			  const struct nft_enforce *e)
{
	char what[64];

	for (size_t i = 0; i < e->n_rules; i++) {
		const struct nft_accept_rule *ar = &e->rules[i];

		if (ar->dir != dir)
			continue;
		for (int v6 = 0; v6 < 2; v6++) {
			struct nftnl_rule *r;
			struct nlmsghdr *nlh;
			uint32_t seq;
			void *buf;

			if (!nft_enforce_family_ok(ar, v6))
				continue;
			r = nft_enforce_rule(chain, e, ar, v6);
			buf = r ? nft_batch_cur(b, &seq) : NULL;
			if (!buf) {
				nftnl_rule_free(r);
				return -1;
			}
			nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE,
						    NFPROTO_INET,
						    NLM_F_CREATE | NLM_F_APPEND |
							    NLM_F_ACK,
						    seq);
			nftnl_rule_nlmsg_build_payload(nlh, r);
			nftnl_rule_free(r);
			snprintf(what, sizeof(what), "add rule %s approved #%zu",
				 chain, i);
			if (nft_batch_next(b, what) == -1)
				return -1;
		}
	}
	return 0;
}

int nft_enforce_set_update(struct mnl_socket *nl, const struct nft_peer_set *s,
			   char *err, size_t errlen)
{
	struct nft_batch *b = nft_batch_new((uint32_t)time(NULL), 0);
	char what[64];
	int rc = -1;

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int v6 = 0; v6 < 2; v6++) {
		struct nftnl_set *set = nft_enforce_set_obj(s, v6, 0);

		if (!set)
			goto out;
		nftnl_set_unset(set, NFTNL_SET_ID);
		/* No elements in a delete: the kernel flushes the set. The
		 * flush and the refill commit together. */
		snprintf(what, sizeof(what), "flush set %s_%d", s->name,
			 v6 ? 6 : 4);
		rc = nft_enforce_msg(b, NFT_MSG_DELSETELEM, set, what);
		if (rc == 0 && nft_enforce_fill(set, s, v6)) {
			snprintf(what, sizeof(what), "fill set %s_%d", s->name,
				 v6 ? 6 : 4);
			rc = nft_enforce_msg(b, NFT_MSG_NEWSETELEM, set, what);
		}
		nftnl_set_free(set);
		if (rc == -1)
			goto out;
	}
	rc = nft_batch_send(b, nl, 5000, err, errlen);
out:
	nft_batch_free(b);
	return rc;
}
