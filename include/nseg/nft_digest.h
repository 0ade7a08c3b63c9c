/*
 * A digest of what the kernel holds in one namespace's table inet nseg:
 * the table, its chains, its rules with their expressions, its sets and
 * their elements, as the kernel reports them. Read right after nsegd's
 * own transaction it is "what nsegd compiled"; read again later, any
 * difference is a change nsegd did not make (tamper.h).
 *
 * What changes by itself is left out: handles (a rule deleted and added
 * back identical is the same rule), use counts, and the state of counters
 * (rule counter values, chain counters, element expiry and expressions).
 * Rule order counts; set element order does not (a hash set's dump order
 * may change when the kernel resizes it).
 */
#ifndef NSEG_NFT_DIGEST_H
#define NSEG_NFT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;

/* The digest of a namespace without the table. */
#define NFT_DIGEST_NONE 0

/*
 * Dumps table inet nseg on nl (a NETLINK_NETFILTER socket in the
 * namespace) and puts its digest in *out (NFT_DIGEST_NONE when there is
 * no table). The dumps are retried when a transaction committed between
 * them (their generations differ). Returns 0, or -1 with a message in err.
 * Blocks at most about a second per dump.
 */
int nft_digest_read(struct mnl_socket *nl, uint64_t *out, char *err,
		    size_t errlen);

/*
 * The digest contribution of one NEW{TABLE,CHAIN,RULE,SET,SETELEM}
 * message of nftables as a dump returns it (what nft_digest_read
 * combines), 0 for any other message. Exposed for tests.
 */
uint64_t nft_digest_msg(const struct nlmsghdr *nlh);

#endif
