/*
 * Diff of two edge sets (edge_diff.h): fold each side by key, merge the
 * two sorted sides, pair what is left into CHANGED items, sort the items.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/edge_diff.h"
#include "nseg/log.h"

#define EDGE_DIFF_STRCMP(x, y, field)                                          \
	strncmp(x->field, y->field, sizeof(x->field))

/* The key order: direction, peer, protocol, port, exe, comm. */
static int edge_diff_key_cmp(const struct store_edge *x,
			     const struct store_edge *y)
{
	const struct nseg_edge_key *a = &x->key, *b = &y->key;
	int c;

	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	if ((c = EDGE_DIFF_STRCMP(a, b, peer)) != 0)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if ((c = EDGE_DIFF_STRCMP(a, b, proc.exe)) != 0)
		return c;
	return EDGE_DIFF_STRCMP(a, b, proc.comm);
}

/* Equal keys keep their input order, so the fold is deterministic. */
static int edge_diff_ptr_cmp(const void *x, const void *y)
{
	const struct store_edge *a = *(const struct store_edge *const *)x;
	const struct store_edge *b = *(const struct store_edge *const *)y;
	int c = edge_diff_key_cmp(a, b);

	if (c != 0)
		return c;
	return a < b ? -1 : a > b;
}

static void edge_diff_fold_into(struct store_edge *into,
				const struct store_edge *e)
{
	into->count = e->count > UINT64_MAX - into->count
			  ? UINT64_MAX
			  : into->count + e->count;
	if (e->first_seen < into->first_seen)
		into->first_seen = e->first_seen;
	if (e->last_seen > into->last_seen)
		into->last_seen = e->last_seen;
}

/*
 * Side e[0..n) sorted by key with equal keys folded into one edge: a new
 * array (*out, *nout) the caller frees. Returns 0 or -1 (out of memory).
 */
static int edge_diff_fold(const struct store_edge *e, size_t n,
			  struct store_edge **out, size_t *nout)
{
	const struct store_edge **v = calloc(n + 1, sizeof(*v));
	struct store_edge *f = calloc(n + 1, sizeof(*f));
	size_t m = 0;

	if (v == NULL || f == NULL) {
		free(v);
		free(f);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &e[i];
	qsort(v, n, sizeof(*v), edge_diff_ptr_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && edge_diff_key_cmp(&f[m - 1], v[i]) == 0)
			edge_diff_fold_into(&f[m - 1], v[i]);
		else
			f[m++] = *v[i];
	}
	free(v);
	*out = f;
	*nout = m;
	return 0;
}

/* What single attribute tells r from a, or NONE when it is not just one. */
static enum edge_diff_what edge_diff_pair_what(const struct store_edge *r,
					       const struct store_edge *a)
{
	const struct nseg_edge_key *x = &r->key, *y = &a->key;
	enum edge_diff_what what = EDGE_DIFF_WHAT_NONE;
	int n = 0;

	if (x->proto != y->proto)
		return EDGE_DIFF_WHAT_NONE;
	if (EDGE_DIFF_STRCMP(x, y, peer) != 0)
		n++, what = EDGE_DIFF_WHAT_PEER;
	if (x->port != y->port)
		n++, what = EDGE_DIFF_WHAT_PORT;
	if (EDGE_DIFF_STRCMP(x, y, proc.exe) != 0 ||
	    EDGE_DIFF_STRCMP(x, y, proc.comm) != 0)
		n++, what = EDGE_DIFF_WHAT_PROCESS;
	if (x->dir != y->dir)
		n++, what = EDGE_DIFF_WHAT_DIRECTION;
	return n == 1 ? what : EDGE_DIFF_WHAT_NONE;
}

static const struct store_edge *
edge_diff_item_edge(const struct edge_diff_item *it)
{
	return it->kind == EDGE_DIFF_REMOVED ? &it->a : &it->b;
}

static int edge_diff_item_cmp(const void *x, const void *y)
{
	const struct edge_diff_item *a = x, *b = y;
	int c =
	    edge_diff_key_cmp(edge_diff_item_edge(a), edge_diff_item_edge(b));

	if (c != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	/* Two CHANGED items with the same B edge cannot exist; same A either.
	 */
	return a->kind == EDGE_DIFF_CHANGED ? edge_diff_key_cmp(&a->a, &b->a)
					    : 0;
}

static void edge_diff_push(struct edge_diff *d, enum edge_diff_kind kind,
			   enum edge_diff_what what, const struct store_edge *a,
			   const struct store_edge *b)
{
	struct edge_diff_item *it = &d->items[d->n++];

	it->kind = kind;
	it->what = what;
	if (a != NULL)
		it->a = *a;
	if (b != NULL)
		it->b = *b;
	d->n_added += kind == EDGE_DIFF_ADDED;
	d->n_removed += kind == EDGE_DIFF_REMOVED;
	d->n_changed += kind == EDGE_DIFF_CHANGED;
}

/*
 * Pairs the removed edges rm[0..nrm) with the added ones ad[0..nad) and
 * pushes every item. taken[] marks added edges already paired.
 */
static void edge_diff_pair(struct edge_diff *d, const struct store_edge **rm,
			   size_t nrm, const struct store_edge **ad, size_t nad,
			   char *taken)
{
	for (size_t i = 0; i < nrm; i++) {
		enum edge_diff_what what = EDGE_DIFF_WHAT_NONE;
		size_t j;

		for (j = 0; j < nad && what == EDGE_DIFF_WHAT_NONE; j++)
			if (!taken[j])
				what = edge_diff_pair_what(rm[i], ad[j]);
		if (what == EDGE_DIFF_WHAT_NONE) {
			edge_diff_push(d, EDGE_DIFF_REMOVED, what, rm[i], NULL);
			continue;
		}
		taken[j - 1] = 1;
		edge_diff_push(d, EDGE_DIFF_CHANGED, what, rm[i], ad[j - 1]);
	}
	for (size_t j = 0; j < nad; j++)
		if (!taken[j])
			edge_diff_push(d, EDGE_DIFF_ADDED, EDGE_DIFF_WHAT_NONE,
				       NULL, ad[j]);
}

/*
 * Merges the folded, sorted sides: keys in both are equal, the rest go
 * to rm (A only) and ad (B only), each still in key order.
 */
static void edge_diff_merge(const struct store_edge *fa, size_t na,
			    const struct store_edge *fb, size_t nb,
			    const struct store_edge **rm, size_t *nrm,
			    const struct store_edge **ad, size_t *nad)
{
	size_t i = 0, j = 0;

	*nrm = *nad = 0;
	while (i < na || j < nb) {
		int c = i == na	  ? 1
			: j == nb ? -1
				  : edge_diff_key_cmp(&fa[i], &fb[j]);

		if (c < 0)
			rm[(*nrm)++] = &fa[i++];
		else if (c > 0)
			ad[(*nad)++] = &fb[j++];
		else
			i++, j++;
	}
}

struct edge_diff *edge_diff_compute(const struct store_edge *a, size_t na,
				    const struct store_edge *b, size_t nb)
{
	struct store_edge *fa = NULL, *fb = NULL;
	const struct store_edge **rm = NULL, **ad = NULL;
	struct edge_diff *d = NULL;
	char *taken = NULL;
	size_t nrm, nad;

	if (edge_diff_fold(a, na, &fa, &na) == -1 ||
	    edge_diff_fold(b, nb, &fb, &nb) == -1 ||
	    (rm = calloc(na + 1, sizeof(*rm))) == NULL ||
	    (ad = calloc(nb + 1, sizeof(*ad))) == NULL ||
	    (taken = calloc(nb + 1, 1)) == NULL ||
	    (d = calloc(1, sizeof(*d))) == NULL ||
	    (d->items = calloc(na + nb + 1, sizeof(*d->items))) == NULL) {
		log_warnx("%s: out of memory", __func__);
		edge_diff_free(d);
		d = NULL;
		goto out;
	}
	edge_diff_merge(fa, na, fb, nb, rm, &nrm, ad, &nad);
	edge_diff_pair(d, rm, nrm, ad, nad, taken);
	qsort(d->items, d->n, sizeof(*d->items), edge_diff_item_cmp);
out:
	free(taken);
	free(ad);
	free(rm);
	free(fb);
	free(fa);
	return d;
}

void edge_diff_free(struct edge_diff *d)
{
	if (d == NULL)
		return;
	free(d->items);
	free(d);
}

const char *edge_diff_what_name(enum edge_diff_what what)
{
	switch (what) {
	case EDGE_DIFF_WHAT_PEER:
		return "peer";
	case EDGE_DIFF_WHAT_PORT:
		return "port";
	case EDGE_DIFF_WHAT_PROCESS:
		return "process";
	case EDGE_DIFF_WHAT_DIRECTION:
		return "direction";
	default:
		return "";
	}
}

int edge_diff_fail_on_parse(const char *s)
{
	if (strcmp(s, "added") == 0)
		return EDGE_DIFF_FAIL_ADDED;
	if (strcmp(s, "changed") == 0)
		return EDGE_DIFF_FAIL_CHANGED;
	if (strcmp(s, "any") == 0)
		return EDGE_DIFF_FAIL_ANY;
	return -1;
}

int edge_diff_fails(const struct edge_diff *d, enum edge_diff_fail_on fail_on)
{
	switch (fail_on) {
	case EDGE_DIFF_FAIL_ADDED:
		return d->n_added > 0;
	case EDGE_DIFF_FAIL_CHANGED:
		return d->n_changed > 0;
	case EDGE_DIFF_FAIL_ANY:
		return d->n > 0;
	default:
		return 0;
	}
}
