/*
 * nftables change notifications of one network namespace, narrowed to
 * what matters for tamper detection: a transaction committed by another
 * socket than nsegd's own that touched table inet nseg.
 *
 * Every notification the kernel sends for a committed transaction carries
 * the port id of the socket that sent it (nlmsg_pid), and the transaction
 * ends with NFT_MSG_NEWGEN naming the committing process. Messages with
 * nsegd's own port id are its own batches and are ignored; a foreign
 * transaction's changes to the table are reported once, at its NEWGEN.
 */
#ifndef NSEG_NFT_WATCH_H
#define NSEG_NFT_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct nft_watch;
struct nlmsghdr;

#define NFT_WATCH_NOTE_MAX 200

/* note: what changed and who did it ("rule deleted from chain input by
 * nft (pid 4242)"). */
typedef void (*nft_watch_cb)(const char *note, void *arg);

/* Subscribes to nftables notifications in nsfd's namespace (the fd stays
 * the caller's). own_portid: the port id of nsegd's nftables socket
 * there, whose commits are not reported. Caller owns the result
 * (nft_watch_close); NULL on error with errno set. */
struct nft_watch *nft_watch_open(int nsfd, uint32_t own_portid,
				 nft_watch_cb cb, void *arg);
void nft_watch_close(struct nft_watch *nw);
/* The socket to wait on (readable: call nft_watch_dispatch). */
int nft_watch_fd(const struct nft_watch *nw);
/* Reads every pending notification and calls cb once per foreign
 * transaction that changed the table. Returns 0, or -1 with errno ENOBUFS
 * when notifications were lost (the table must be compared in full). */
int nft_watch_dispatch(struct nft_watch *nw);

enum nft_watch_kind {
	NFT_WATCH_OTHER,  /* ours, another table's, or not a change */
	NFT_WATCH_CHANGE, /* a foreign change to table inet nseg */
	NFT_WATCH_COMMIT, /* the end of a foreign transaction */
};

/* What one notification is; for a change, a description of it in what
 * ("rule deleted from chain input"), for a commit the committing process
 * ("nft (pid 4242)"). Exposed for tests. */
enum nft_watch_kind nft_watch_classify(const struct nlmsghdr *nlh,
				       uint32_t own_portid, char *what,
				       size_t len);

#endif
