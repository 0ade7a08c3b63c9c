/*
 * One nftables transaction: messages collected into a batch and sent to the
 * kernel at once, so a table is replaced atomically or not at all.
 *
 * Every message asks for an ACK; the sequence number of each message is
 * remembered with a description ("add rule output #2"), so a kernel error
 * names the message that caused it (the nftables way).
 */
#ifndef NSEG_NFT_BATCH_H
#define NSEG_NFT_BATCH_H

#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;
struct nft_batch;

/* A new empty batch (caller owns, nft_batch_free). check_only: send it
 * without the END message, so the kernel validates every message and then
 * aborts the transaction (a dry run). */
struct nft_batch *nft_batch_new(uint32_t seq_start, int check_only);
void nft_batch_free(struct nft_batch *b);

/* Room for the next message: returns the buffer position to build into
 * (nftnl_*_nlmsg_build_hdr), and the sequence number to use in *seq. The
 * caller must then call nft_batch_next(b, what). NULL if the batch is full. */
void *nft_batch_cur(struct nft_batch *b, uint32_t *seq);
int nft_batch_next(struct nft_batch *b, const char *what);

/* Sends the batch on nl and waits for every ACK (bounded by timeout_ms).
 * Returns 0 when the kernel accepted every message, -1 otherwise with
 * errno set to the first kernel error and a message in err naming the
 * failing step ("add rule output #2: No such file or directory"). */
int nft_batch_send(struct nft_batch *b, struct mnl_socket *nl, int timeout_ms,
		   char *err, size_t errlen);

#endif
