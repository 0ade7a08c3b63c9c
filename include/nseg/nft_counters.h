/*
 * Reads the counters of nsegd's tagged rules (rule comments, see
 * nft_table.h) from one namespace's table: queued packets, packets over
 * the rate limit, hits of each approved edge decided in the kernel.
 */
#ifndef NSEG_NFT_COUNTERS_H
#define NSEG_NFT_COUNTERS_H

#include <stdint.h>

struct mnl_socket;

typedef void (*nft_counters_cb)(const char *tag, uint64_t packets,
				uint64_t bytes, void *arg);

/* Dumps the rules of table inet nseg on nl and calls cb for each rule with
 * a comment and a counter (input and output rules of one tag are reported
 * separately). Returns 0 or -1. */
int nft_counters_read(struct mnl_socket *nl, nft_counters_cb cb, void *arg);

#endif
