/*
 * The nftables table nsegd keeps in every watched network namespace
 * (family inet, so one table covers IPv4 and IPv6):
 *
 *   table inet nseg {
 *     chain input  { type filter hook input  priority filter; policy accept;
 *       [meta mark NFT_CAPTURE_MARK ct mark set ct mark | NFT_CAPTURE_CT_BIT
 *        meta mark set 0 counter log group G accept]        (capture)
 *       [ct mark & NFT_CAPTURE_CT_BIT == NFT_CAPTURE_CT_BIT
 *        counter log group G]                               (capture)
 *       ct state established,related accept
 *       meta nfproto ipv6 icmpv6 type ND/MLD ip6 hoplimit 255|1 accept
 *       [meta l4proto tcp tcp flags & (fin|syn|rst|ack) != syn accept]
 *                                                          (learning only)
 *       [meta mark NFT_REJECT_MARK ... reject]             (reject_mark)
 *       [approved edges: nft_enforce.h]
 *       ct state new,invalid,untracked limit rate over R/second
 *         counter accept|drop
 *       ct state new,invalid,untracked counter queue num Q bypass }
 *     chain output { ... the same on hook output ... }
 *   }
 *
 * Only the first packet of a connection leaves the kernel. `bypass` is
 * fail-open: with no reader on the queue the packet is accepted.
 *
 * The queue verdict is the native `queue` expression where the kernel has
 * it (CONFIG_NFT_QUEUE), the xtables NFQUEUE target through nft_compat
 * otherwise; nft_table_probe_native_queue() tells which.
 */
#ifndef NSEG_NFT_TABLE_H
#define NSEG_NFT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define NFT_TABLE_NAME "nseg"

struct mnl_socket;
struct nft_batch;
struct nftnl_rule;

struct nft_enforce;

struct nft_table_opts {
	uint16_t queue_num;
	int fail_open;    /* queue bypass flag */
	int native_queue; /* 1: nft queue expression, 0: xt NFQUEUE target */
	/* notify/enforce: approved edges decided in the kernel, and the
	 * peer sets they name (nft_enforce.h); NULL in learn mode. */
	const struct nft_enforce *enforce;
	/* New connections per second (and burst) the queue may get from
	 * this namespace; 0 = no limit. Beyond it: dropped when
	 * over_rate_drop (enforce), accepted unlearned otherwise. */
	uint32_t queue_rate, queue_burst;
	int over_rate_drop;
	/* Non-zero: packets nsegd sends back (NF_REPEAT) with this mark are
	 * rejected, TCP with a reset, the rest with ICMP admin-prohibited
	 * (every enforcing table: block: reject, and TCP segments without a
	 * socket coming in). */
	uint32_t reject_mark;
	/* Non-zero: notify-mode captures. A packet nsegd sends back with
	 * NFT_CAPTURE_MARK sets NFT_CAPTURE_CT_BIT in its conntrack entry,
	 * and every packet of an entry with that bit, both directions, is
	 * copied to NFLOG group capture_group (snaplen bytes; 0 = as much as
	 * the NFLOG instance copies). The packets are never held. */
	int capture;
	uint16_t capture_group;
	uint32_t capture_snaplen;
	/* nft_table_apply: delete the whole table and build it anew (a
	 * repair after someone else changed it), rather than empty it in
	 * place, which keeps the packets waiting in the queue. */
	int replace_whole;
};

/* The mark nsegd gives a packet it wants rejected ("nseg"). */
#define NFT_REJECT_MARK 0x6e736567u

/* The mark nsegd gives the first packet of a connection it wants captured
 * ("nseh"), and the conntrack mark bit the table sets for it. The bit is
 * the only one of the ct mark nseg uses: setting and clearing it leaves
 * the other 31 to whoever else marks connections (ctnetlink updates are
 * masked, ct_mark.h). Cleared when the capture reaches its limits. */
#define NFT_CAPTURE_MARK 0x6e736568u
#define NFT_CAPTURE_CT_BIT 0x40000000u

/* Rule comments nsegd reads counters by (nft_counters.h). */
#define NFT_TAG_QUEUE "nseg:queue"
#define NFT_TAG_RATELIMIT "nseg:rate-limit"
#define NFT_TAG_EDGE "nseg:edge:" /* + policy rule index */
#define NFT_TAG_CAPTURE_START "nseg:capture-start" /* marked, bit set */
#define NFT_TAG_CAPTURE "nseg:capture"             /* logged, bit seen */

/* Expression builders shared by the table and the enforce rules; each
 * works on register 1 and returns 0, or -1 when out of memory. */
int nft_table_meta(struct nftnl_rule *r, uint32_t key);      /* load meta */
int nft_table_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset,
		      uint32_t len);                        /* load bytes */
int nft_table_mask(struct nftnl_rule *r, const void *mask, uint32_t len);
int nft_table_cmp(struct nftnl_rule *r, uint32_t op, const void *data,
		  uint32_t len);                            /* compare */
/* lo <= register <= hi, both big-endian (network order) of len bytes. */
int nft_table_range(struct nftnl_rule *r, const void *lo, const void *hi,
		    uint32_t len);

/* Appends the queue verdict of o (native expression or xt target). */
int nft_table_add_queue(struct nftnl_rule *r, const struct nft_table_opts *o);
/* Sets r's comment (userdata) to tag. */
int nft_table_tag(struct nftnl_rule *r, const char *tag);

/* Appends to b the messages that replace the whole table atomically:
 * create it if missing, delete it, then build it anew, so no packet ever
 * sees a half-built table and an existing one is replaced in place. */
int nft_table_build(struct nft_batch *b, const struct nft_table_opts *o);

/* Appends the messages that build o's table in the existing table (or a
 * new one) after emptying it of old's chains and sets and of every rule:
 * its hooked chains stay, and so do the packets waiting in the queue. */
struct nft_table_objs;
int nft_table_build_in_place(struct nft_batch *b,
			     const struct nft_table_opts *o,
			     const struct nft_table_objs *old);

/* Appends the messages that delete the table (create first, so deleting a
 * missing table is not an error). */
int nft_table_build_delete(struct nft_batch *b);

/* The "ct state new,invalid,untracked → queue" rule of chain (caller owns, nftnl_rule_free).
 * Exposed for tests. */
struct nftnl_rule *nft_table_queue_rule(const char *chain,
					const struct nft_table_opts *o);

/* The two capture rules of chain (caller owns, nftnl_rule_free), NULL
 * when out of memory. Exposed for tests. */
struct nftnl_rule *nft_table_capture_start_rule(const char *chain,
						const struct nft_table_opts *o);
struct nftnl_rule *nft_table_capture_rule(const char *chain,
					  const struct nft_table_opts *o);

/* Installs the table in the netns the netlink socket nl was opened in,
 * or rebuilds it: in place, keeping the hooked chains (and the packets
 * queued through them), unless o->replace_whole or the in-place
 * transaction fails; then the whole table is replaced. Returns 0, or -1
 * with a message in err. */
int nft_table_apply(struct mnl_socket *nl, const struct nft_table_opts *o,
		    char *err, size_t errlen);

/* Removes the table from nl's netns. */
int nft_table_remove(struct mnl_socket *nl, char *err, size_t errlen);

/* Probes, in a throwaway network namespace of a forked child (no real
 * namespace is touched), whether the kernel has the native queue
 * expression. Returns 1 yes, 0 no, -1 if the probe itself failed. */
int nft_table_probe_native_queue(void);

#endif
