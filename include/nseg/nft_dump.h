/*
 * One netlink dump of nftables objects on a namespace's socket, bounded
 * in time: the event loop never waits for a dump that stalls.
 */
#ifndef NSEG_NFT_DUMP_H
#define NSEG_NFT_DUMP_H

#include <libmnl/libmnl.h>

/* Waits at most this long for each part of a dump's reply. */
#define NFT_DUMP_POLL_MS 1000

/* Sends req (a NLM_F_DUMP request whose nlmsg_seq is set) on nl and
 * calls cb(nlh, data) for each object of the reply, after reading away
 * any reply an earlier dump that timed out left behind. Returns 0, or -1
 * with errno (ETIMEDOUT: no reply within NFT_DUMP_POLL_MS). */
int nft_dump(struct mnl_socket *nl, const struct nlmsghdr *req, mnl_cb_t cb,
	     void *data);

#endif
