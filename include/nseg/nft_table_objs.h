/*
 * What table inet nseg holds besides its two hooked chains, read back
 * from the kernel: so that a recompile can empty the table in place
 * (its rules, other chains and sets deleted, the hooked chains kept)
 * instead of deleting it. Deleting a hooked chain unregisters its hook,
 * and the kernel then drops every packet waiting in the namespace's
 * queue for a verdict: a connection attempt lost at each recompile.
 */
#ifndef NSEG_NFT_TABLE_OBJS_H
#define NSEG_NFT_TABLE_OBJS_H

#include <stddef.h>

struct mnl_socket;
struct nft_batch;

struct nft_table_objs {
	char (*sets)[256];   /* named sets (anonymous ones go with rules) */
	size_t n_sets;
	char (*chains)[256]; /* chains other than input and output */
	size_t n_chains;
};

/* Reads the table's sets and other chains on nl into *o (empty when the
 * table does not exist). Returns 0, or -1 (errno) with *o empty. */
int nft_table_objs_read(struct mnl_socket *nl, struct nft_table_objs *o);
void nft_table_objs_release(struct nft_table_objs *o);

/* Appends to b what empties the table in place: every rule, then the
 * chains and sets of o. The table and its hooked chains stay. */
int nft_table_objs_build_empty(struct nft_batch *b,
			       const struct nft_table_objs *o);

#endif
