#include <errno.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nseg/edge.h"
#include "nseg/log.h"
#include "nseg/nft_enforce.h"
#include "nseg/nft_batch.h"
#include "nseg/nft_table.h"
#include "nseg/nft_table_objs.h"

#define NFT_TABLE_TIMEOUT_MS 5000

static const struct {
	const char *name;
	uint32_t hook;
	uint8_t dir;
} nft_table_chains[] = {
	{ "input", NF_INET_LOCAL_IN, NSEG_INGRESS },
	{ "output", NF_INET_LOCAL_OUT, NSEG_EGRESS },
};

static int nft_table_add_table(struct nft_batch *b, uint16_t type,
			       const char *what)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	uint32_t seq;
	void *buf;

	if (!t)
		return -1;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	buf = nft_batch_cur(b, &seq);
	if (!buf) {
		nftnl_table_free(t);
		return -1;
	}
	nlh = nftnl_table_nlmsg_build_hdr(buf, type, NFPROTO_INET,
					  NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return nft_batch_next(b, what);
}

static int nft_table_add_chain(struct nft_batch *b, const char *name,
			       uint32_t hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char what[64];
	uint32_t seq;
	void *buf;

	if (!c)
		return -1;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	buf = nft_batch_cur(b, &seq);
	if (!buf) {
		nftnl_chain_free(c);
		return -1;
	}
	nlh = nftnl_chain_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN, NFPROTO_INET,
					  NLM_F_CREATE | NLM_F_ACK, seq);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	snprintf(what, sizeof(what), "add chain %s", name);
	return nft_batch_next(b, what);
}

/* Appends "ct state & mask != 0" to r. */
static int nft_table_match_ct_state(struct nftnl_rule *r, uint32_t mask)
{
	struct nftnl_expr *ct = nftnl_expr_alloc("ct");
	uint32_t zero = 0;

	if (!ct)
		return -1;
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, ct);
	if (nft_table_mask(r, &mask, sizeof(mask)) ||
	    nft_table_cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero)))
		return -1;
	return 0;
}

static int nft_table_add_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int nft_table_add_counter(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("counter");

	if (!e)
		return -1;
	nftnl_rule_add_expr(r, e);
	return 0;
}

int nft_table_add_queue(struct nftnl_rule *r,
			       const struct nft_table_opts *o)
{
	struct nftnl_expr *e;

	if (o->native_queue) {
		e = nftnl_expr_alloc("queue");
		if (!e)
			return -1;
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, o->queue_num);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
				   o->fail_open ? NFT_QUEUE_FLAG_BYPASS : 0);
	} else {
		/* What iptables-nft emits for -j NFQUEUE: the xtables target
		 * run by nft_compat, with its revision-3 info blob. */
		struct xt_NFQ_info_v3 *info = calloc(1, sizeof(*info));

		e = nftnl_expr_alloc("target");
		if (!e || !info) {
			nftnl_expr_free(e);
			free(info);
			return -1;
		}
		info->queuenum = o->queue_num;
		info->queues_total = 1;
		info->flags = o->fail_open ? NFQ_FLAG_BYPASS : 0;
		nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
		nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
		/* libnftnl takes ownership of the info blob. */
		nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof(*info));
	}
	nftnl_rule_add_expr(r, e);
	return 0;
}

int nft_table_tag(struct nftnl_rule *r, const char *tag)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	int rc = -1;

	if (!u)
		return -1;
	/* The comment nft shows; nsegd finds its rules' counters by it. */
	if (nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, tag)) {
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA,
				    nftnl_udata_buf_data(u),
				    nftnl_udata_buf_len(u));
		rc = 0;
	}
	nftnl_udata_buf_free(u);
	return rc;
}

static struct nftnl_rule *nft_table_rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

static struct nftnl_rule *nft_table_established_rule(const char *chain)
{
	struct nftnl_rule *r = nft_table_rule_new(chain);
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
			NF_CT_STATE_BIT(IP_CT_RELATED);

	if (!r)
		return NULL;
	if (nft_table_match_ct_state(r, mask) == -1 ||
	    nft_table_add_verdict(r, NF_ACCEPT) == -1) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

int nft_table_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	return 0;
}

int nft_table_cmp(struct nftnl_rule *r, uint32_t op, const void *data,
		  uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
	return 0;
}

int nft_table_range(struct nftnl_rule *r, const void *lo, const void *hi,
		    uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("range");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, lo, len);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, hi, len);
	nftnl_rule_add_expr(r, e);
	return 0;
}

int nft_table_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset,
		      uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	return 0;
}

/* register 1 = (register 1 & mask) ^ xor */
static int nft_table_bitwise(struct nftnl_rule *r, const void *mask,
			     const void *xor, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	nftnl_rule_add_expr(r, e);
	return 0;
}

int nft_table_mask(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];

	if (len > sizeof(zero))
		return -1;
	return nft_table_bitwise(r, mask, zero, len);
}

/*
 * "meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type LO-HI ip6 hoplimit
 * H accept": neighbour discovery (133-137, hop limit 255) and multicast
 * listener messages (130-132, 143, hop limit 1), which conntrack leaves
 * untracked by design and IPv6 needs whatever the baseline says. Their
 * hop limits keep them on the link as sent by a stack; a raw socket can
 * still address one to a remote host (README, limits).
 */
static struct nftnl_rule *nft_table_nd_rule(const char *chain, uint8_t lo,
					    uint8_t hi, uint8_t hoplimit)
{
	struct nftnl_rule *r = nft_table_rule_new(chain);
	uint8_t ipv6 = NFPROTO_IPV6, icmpv6 = IPPROTO_ICMPV6;

	if (!r)
		return NULL;
	if (nft_table_meta(r, NFT_META_NFPROTO) ||
	    nft_table_cmp(r, NFT_CMP_EQ, &ipv6, 1) ||
	    nft_table_meta(r, NFT_META_L4PROTO) ||
	    nft_table_cmp(r, NFT_CMP_EQ, &icmpv6, 1) ||
	    nft_table_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1) ||
	    (lo == hi ? nft_table_cmp(r, NFT_CMP_EQ, &lo, 1)
		      : nft_table_range(r, &lo, &hi, 1)) ||
	    nft_table_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 7, 1) ||
	    nft_table_cmp(r, NFT_CMP_EQ, &hoplimit, 1) ||
	    nft_table_add_verdict(r, NF_ACCEPT)) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

/* "meta l4proto tcp tcp flags & (fin|syn|rst|ack) != syn accept": a TCP
 * packet conntrack calls new without being an opening SYN is a flow it
 * picked up mid-stream (its entry expired or was flushed). A learning
 * table accepts it in the kernel: it opens nothing to learn, and its
 * ports would read backwards. */
static struct nftnl_rule *nft_table_midstream_rule(const char *chain)
{
	struct nftnl_rule *r = nft_table_rule_new(chain);
	uint8_t tcp = IPPROTO_TCP, mask = 0x17, syn = 0x02;

	if (!r)
		return NULL;
	if (nft_table_meta(r, NFT_META_L4PROTO) ||
	    nft_table_cmp(r, NFT_CMP_EQ, &tcp, 1) ||
	    nft_table_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1) ||
	    nft_table_mask(r, &mask, 1) ||
	    nft_table_cmp(r, NFT_CMP_NEQ, &syn, 1) ||
	    nft_table_add_verdict(r, NF_ACCEPT)) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

/* "meta mark M [meta l4proto tcp] reject with tcp reset | icmpx
 * admin-prohibited": the second pass of a packet nsegd rejected. */
static struct nftnl_rule *nft_table_reject_rule(const char *chain,
						uint32_t mark, int tcp)
{
	struct nftnl_rule *r = nft_table_rule_new(chain);
	struct nftnl_expr *rej = nftnl_expr_alloc("reject");
	uint8_t proto = IPPROTO_TCP;

	if (!r || !rej ||
	    nft_table_meta(r, NFT_META_MARK) ||
	    nft_table_cmp(r, NFT_CMP_EQ, &mark, sizeof(mark)) ||
	    (tcp && (nft_table_meta(r, NFT_META_L4PROTO) ||
		     nft_table_cmp(r, NFT_CMP_EQ, &proto, 1)))) {
		nftnl_rule_free(r);
		nftnl_expr_free(rej);
		return NULL;
	}
	if (tcp) {
		nftnl_expr_set_u32(rej, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
		nftnl_expr_set_u8(rej, NFTNL_EXPR_REJECT_CODE, 0);
	} else {
		nftnl_expr_set_u32(rej, NFTNL_EXPR_REJECT_TYPE,
				   NFT_REJECT_ICMPX_UNREACH);
		nftnl_expr_set_u8(rej, NFTNL_EXPR_REJECT_CODE,
				  NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	}
	nftnl_rule_add_expr(r, rej);
	return r;
}

/* Loads the ct mark into register 1. */
static int nft_table_ct_mark(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	return 0;
}

/* "ct mark set ct mark | NFT_CAPTURE_CT_BIT": load, or the bit in (mask
 * without it, xor with it), store. The other bits stay as they were. */
static int nft_table_ct_mark_set_bit(struct nftnl_rule *r)
{
	uint32_t mask = ~NFT_CAPTURE_CT_BIT, bit = NFT_CAPTURE_CT_BIT;
	struct nftnl_expr *e;

	if (nft_table_ct_mark(r) ||
	    nft_table_bitwise(r, &mask, &bit, sizeof(bit)))
		return -1;
	e = nftnl_expr_alloc("ct");
	if (!e)
		return -1;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	return 0;
}

/* "meta mark set 0": the packet goes on unmarked, so its later passes
 * (input after output on loopback) are judged like any other packet. */
static int nft_table_meta_mark_clear(struct nftnl_rule *r)
{
	struct nftnl_expr *imm = nftnl_expr_alloc("immediate");
	struct nftnl_expr *set = nftnl_expr_alloc("meta");
	uint32_t zero = 0;

	if (!imm || !set) {
		nftnl_expr_free(imm);
		nftnl_expr_free(set);
		return -1;
	}
	nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, &zero, sizeof(zero));
	nftnl_rule_add_expr(r, imm);
	nftnl_expr_set_u32(set, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(set, NFTNL_EXPR_META_SREG, NFT_REG_1);
	nftnl_rule_add_expr(r, set);
	return 0;
}

/* "log group G [snaplen S]": a copy to NFLOG, the packet itself goes on. */
static int nft_table_add_log(struct nftnl_rule *r,
			     const struct nft_table_opts *o)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	if (!e)
		return -1;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, o->capture_group);
	if (o->capture_snaplen)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN,
				   o->capture_snaplen);
	nftnl_rule_add_expr(r, e);
	return 0;
}

/* "meta mark NFT_CAPTURE_MARK ct mark set ct mark | bit meta mark set 0
 * counter accept": the second pass of the first packet of a connection
 * nsegd wants captured. The kernel here has no nfnetlink glue, so the
 * verdict cannot set the ct mark itself; this rule does. No copy to
 * NFLOG: nsegd wrote this packet from the queue (twice, it would read as
 * a retransmission). */
struct nftnl_rule *nft_table_capture_start_rule(const char *chain,
						const struct nft_table_opts *o)
{
	struct nftnl_rule *r = nft_table_rule_new(chain);
	uint32_t mark = NFT_CAPTURE_MARK;

	if (!r)
		return NULL;
	if (nft_table_meta(r, NFT_META_MARK) ||
	    nft_table_cmp(r, NFT_CMP_EQ, &mark, sizeof(mark)) ||
	    nft_table_ct_mark_set_bit(r) || nft_table_meta_mark_clear(r) ||
	    nft_table_add_counter(r) || nft_table_add_verdict(r, NF_ACCEPT) ||
	    nft_table_tag(r, NFT_TAG_CAPTURE_START)) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

/* "ct mark & bit == bit counter log group G": every later packet of a
 * captured connection, both directions; no verdict, so it goes on to the
 * rules below as if this one were not there. */
struct nftnl_rule *nft_table_capture_rule(const char *chain,
					  const struct nft_table_opts *o)
{
	struct nftnl_rule *r = nft_table_rule_new(chain);
	uint32_t bit = NFT_CAPTURE_CT_BIT;

	if (!r)
		return NULL;
	if (nft_table_ct_mark(r) || nft_table_mask(r, &bit, sizeof(bit)) ||
	    nft_table_cmp(r, NFT_CMP_EQ, &bit, sizeof(bit)) ||
	    nft_table_add_counter(r) || nft_table_add_log(r, o) ||
	    nft_table_tag(r, NFT_TAG_CAPTURE)) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

/*
 * What reaches the rate limit and the queue: new flows, and the packets
 * conntrack cannot place in one, which the chain's accepting policy would
 * otherwise let past every rule: untracked (a notrack rule in any table of
 * the namespace, which its root may write) and invalid (TCP flags no
 * stack sends, which a raw socket can: a remote reader takes the payload
 * all the same).
 */
#define NFT_TABLE_UNJUDGED                                        \
	(NF_CT_STATE_BIT(IP_CT_NEW) | NF_CT_STATE_INVALID_BIT | \
	 NF_CT_STATE_UNTRACKED_BIT)

/* "ct state new limit rate over R/second burst B packets counter
 * accept|drop": what the queue would get beyond the rate stays in the
 * kernel, so one namespace's flood cannot starve nsegd (or the others). */
static struct nftnl_rule *nft_table_ratelimit_rule(const char *chain,
						   const struct nft_table_opts *o)
{
	struct nftnl_rule *r = nft_table_rule_new(chain);
	struct nftnl_expr *l = nftnl_expr_alloc("limit");

	if (!r || !l) {
		nftnl_rule_free(r);
		nftnl_expr_free(l);
		return NULL;
	}
	if (nft_table_match_ct_state(r, NFT_TABLE_UNJUDGED) == -1) {
		nftnl_expr_free(l);
		nftnl_rule_free(r);
		return NULL;
	}
	nftnl_expr_set_u64(l, NFTNL_EXPR_LIMIT_RATE, o->queue_rate);
	nftnl_expr_set_u64(l, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(l, NFTNL_EXPR_LIMIT_BURST,
			   o->queue_burst ? o->queue_burst : o->queue_rate);
	nftnl_expr_set_u32(l, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(l, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	nftnl_rule_add_expr(r, l);
	if (nft_table_add_counter(r) == -1 ||
	    nft_table_add_verdict(r, o->over_rate_drop ? NF_DROP : NF_ACCEPT) ==
		    -1 ||
	    nft_table_tag(r, NFT_TAG_RATELIMIT) == -1) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

struct nftnl_rule *nft_table_queue_rule(const char *chain,
					const struct nft_table_opts *o)
{
	struct nftnl_rule *r = nft_table_rule_new(chain);

	if (!r)
		return NULL;
	if (nft_table_match_ct_state(r, NFT_TABLE_UNJUDGED) == -1 ||
	    nft_table_add_counter(r) == -1 || nft_table_add_queue(r, o) == -1 ||
	    nft_table_tag(r, NFT_TAG_QUEUE) == -1) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

/* Appends r to the batch and frees it. */
static int nft_table_add_rule(struct nft_batch *b, struct nftnl_rule *r,
			      const char *what)
{
	struct nlmsghdr *nlh;
	uint32_t seq;
	void *buf;

	if (!r)
		return -1;
	buf = nft_batch_cur(b, &seq);
	if (!buf) {
		nftnl_rule_free(r);
		return -1;
	}
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET,
					 NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK,
					 seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return nft_batch_next(b, what);
}

/* The capture rules of chain, in their place: before established (they
 * follow established flows; a rejected packet is never ct-marked). */
static int nft_table_add_capture_rules(struct nft_batch *b, const char *chain,
				       const struct nft_table_opts *o)
{
	char what[64];

	snprintf(what, sizeof(what), "add rule %s capture start", chain);
	if (nft_table_add_rule(b, nft_table_capture_start_rule(chain, o),
			       what) == -1)
		return -1;
	snprintf(what, sizeof(what), "add rule %s capture", chain);
	return nft_table_add_rule(b, nft_table_capture_rule(chain, o), what);
}

int nft_table_build_delete(struct nft_batch *b)
{
	if (nft_table_add_table(b, NFT_MSG_NEWTABLE, "add table") == -1)
		return -1;
	return nft_table_add_table(b, NFT_MSG_DELTABLE, "delete table");
}

/* The sets, the two hooked chains (created, or kept as they are) and all
 * the rules, into a table that exists and holds none of them. */
static int nft_table_build_body(struct nft_batch *b,
				const struct nft_table_opts *o)
{
	char what[64];

	if (o->enforce && nft_enforce_add_sets(b, o->enforce) == -1)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		const char *chain = nft_table_chains[i].name;

		if (nft_table_add_chain(b, chain, nft_table_chains[i].hook))
			return -1;
		if (o->capture &&
		    nft_table_add_capture_rules(b, chain, o) == -1)
			return -1;
		snprintf(what, sizeof(what), "add rule %s established", chain);
		if (nft_table_add_rule(b, nft_table_established_rule(chain),
				       what) == -1)
			return -1;
		snprintf(what, sizeof(what), "add rule %s ipv6 nd", chain);
		if (nft_table_add_rule(b, nft_table_nd_rule(chain, 133, 137, 255),
				       what) == -1 ||
		    nft_table_add_rule(b, nft_table_nd_rule(chain, 130, 132, 1),
				       what) == -1 ||
		    nft_table_add_rule(b, nft_table_nd_rule(chain, 143, 143, 1),
				       what) == -1)
			return -1;
		/* Learning, a flow conntrack picked up mid-stream passes:
		 * there is nothing to enforce yet. Otherwise it goes the way of
		 * a new one, and nsegd checks that a socket of the namespace
		 * is behind it: a segment crafted on a raw socket has none. */
		snprintf(what, sizeof(what), "add rule %s tcp midstream", chain);
		if (!o->enforce &&
		    nft_table_add_rule(b, nft_table_midstream_rule(chain),
				       what) == -1)
			return -1;
		/* After established: a packet nsegd rejects is never part of
		 * an established flow, and established packets need not test
		 * their mark. */
		for (int tcp = 1; o->reject_mark && tcp >= 0; tcp--) {
			snprintf(what, sizeof(what), "add rule %s reject %s",
				 chain, tcp ? "tcp" : "other");
			if (nft_table_add_rule(b,
					       nft_table_reject_rule(
						       chain, o->reject_mark, tcp),
					       what) == -1)
				return -1;
		}
		if (o->enforce &&
		    nft_enforce_add_rules(b, chain, nft_table_chains[i].dir,
					  o->enforce) == -1)
			return -1;
		snprintf(what, sizeof(what), "add rule %s rate limit", chain);
		if (o->queue_rate &&
		    nft_table_add_rule(b, nft_table_ratelimit_rule(chain, o),
				       what) == -1)
			return -1;
		snprintf(what, sizeof(what), "add rule %s queue", chain);
		if (nft_table_add_rule(b, nft_table_queue_rule(chain, o),
				       what) == -1)
			return -1;
	}
	return 0;
}

int nft_table_build(struct nft_batch *b, const struct nft_table_opts *o)
{
	if (nft_table_build_delete(b) == -1 ||
	    nft_table_add_table(b, NFT_MSG_NEWTABLE, "add table") == -1)
		return -1;
	return nft_table_build_body(b, o);
}

int nft_table_build_in_place(struct nft_batch *b,
			     const struct nft_table_opts *o,
			     const struct nft_table_objs *old)
{
	if (nft_table_add_table(b, NFT_MSG_NEWTABLE, "add table") == -1 ||
	    nft_table_objs_build_empty(b, old) == -1)
		return -1;
	return nft_table_build_body(b, o);
}

/* One transaction: o's table replacing the whole table (old NULL), or
 * built in the table emptied of old, or (o NULL) the table deleted. */
static int nft_table_run(struct mnl_socket *nl, const struct nft_table_opts *o,
			 const struct nft_table_objs *old, int check_only,
			 char *err, size_t errlen)
{
	struct nft_batch *b = nft_batch_new((uint32_t)time(NULL), check_only);
	int rc = -1, built;

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	built = !o ? nft_table_build_delete(b)
	      : old ? nft_table_build_in_place(b, o, old)
		    : nft_table_build(b, o);
	if (built == -1) {
		snprintf(err, errlen, "building the nftables batch failed");
		goto out;
	}
	rc = nft_batch_send(b, nl, NFT_TABLE_TIMEOUT_MS, err, errlen);
out:
	nft_batch_free(b);
	return rc;
}

int nft_table_apply(struct mnl_socket *nl, const struct nft_table_opts *o,
		    char *err, size_t errlen)
{
	struct nft_table_objs old;
	int rc;

	if (o->replace_whole || nft_table_objs_read(nl, &old) == -1)
		return nft_table_run(nl, o, NULL, 0, err, errlen);
	rc = nft_table_run(nl, o, &old, 0, err, errlen);
	nft_table_objs_release(&old);
	/* Hooked chains someone changed (priority, type) cannot be kept:
	 * then the whole table goes, and what waits in the queue with it. */
	if (rc == -1) {
		log_warnx("nft: in place: %s; replacing the table", err);
		rc = nft_table_run(nl, o, NULL, 0, err, errlen);
	}
	return rc;
}

int nft_table_remove(struct mnl_socket *nl, char *err, size_t errlen)
{
	return nft_table_run(nl, NULL, NULL, 0, err, errlen);
}

/* Child side of the probe: exit 0 = native queue works, 1 = it does not,
 * 2 = the probe could not run. */
static int nft_table_probe_child(void)
{
	struct nft_table_opts o = { .queue_num = 0, .fail_open = 1,
				    .native_queue = 1 };
	struct mnl_socket *nl;
	char err[256];
	int rc;

	if (unshare(CLONE_NEWNET) == -1)
		return 2;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return 2;
	/* A dry run is enough: the kernel resolves the expression type while
	 * validating the rule, then aborts the transaction. */
	rc = nft_table_run(nl, &o, NULL, 1, err, sizeof(err));
	mnl_socket_close(nl);
	if (rc == 0)
		return 0;
	return errno == ENOENT || errno == EOPNOTSUPP ? 1 : 2;
}

int nft_table_probe_native_queue(void)
{
	int status;
	pid_t pid = fork();

	if (pid == -1) {
		log_warn("%s: fork", __func__);
		return -1;
	}
	if (pid == 0)
		_exit(nft_table_probe_child());
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 2)
		return -1;
	return WEXITSTATUS(status) == 0;
}
