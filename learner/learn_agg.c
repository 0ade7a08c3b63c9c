#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/learn_agg.h"
#include "nseg/log.h"

#define LEARN_AGG_EMPTY UINT32_MAX

struct learn_agg_entry {
	uint64_t hash;
	uint64_t count;
	int64_t first, last;
	int learning; /* seen at least once while its workload learned */
	struct nseg_edge_key key; /* zero-filled past each string's NUL */
};

/*
 * Open addressing with linear probing. slots[] maps a hash to an index into
 * entries[], which is dense (flush walks it in insertion order) and grows by
 * doubling up to max: an idle aggregator does not hold max big entries.
 * slots[] has at least twice max slots, so the load stays under 1/2 and no
 * probe sequence is long. Entries are never removed one by one; a flush
 * clears everything at once.
 */
struct learn_agg {
	size_t max, n, cap;
	struct learn_agg_entry *entries;
	uint32_t *slots;
	size_t mask;
	struct learn_agg_stats st;
};

struct learn_agg *learn_agg_new(size_t max_pending)
{
	struct learn_agg *a;
	size_t nslots = 16;

	if (max_pending == 0 || max_pending > LEARN_AGG_MAX_PENDING) {
		errno = EINVAL;
		return NULL;
	}
	while (nslots < 2 * max_pending)
		nslots *= 2;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if ((a->slots = malloc(nslots * sizeof(*a->slots))) == NULL) {
		free(a);
		return NULL;
	}
	memset(a->slots, 0xff, nslots * sizeof(*a->slots));
	a->mask = nslots - 1;
	a->max = max_pending;
	return a;
}

void learn_agg_free(struct learn_agg *a)
{
	if (a == NULL)
		return;
	free(a->entries);
	free(a->slots);
	free(a);
}

/* FNV-1a over the string's bytes and its terminator ("ab","c" != "a","bc"). */
static uint64_t learn_agg_fnv_str(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff;
	return h * 0x100000001b3ULL;
}

#define LEARN_AGG_LEN(f) strnlen((f), sizeof(f))
#define LEARN_AGG_HSTR(h, f) learn_agg_fnv_str((h), (f), LEARN_AGG_LEN(f))

static uint64_t learn_agg_hash(const struct nseg_edge_key *k)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = LEARN_AGG_HSTR(h, k->workload);
	h = LEARN_AGG_HSTR(h, k->version);
	h = LEARN_AGG_HSTR(h, k->proc.exe);
	h = LEARN_AGG_HSTR(h, k->proc.comm);
	h = LEARN_AGG_HSTR(h, k->peer);
	h = LEARN_AGG_HSTR(h, k->peer_proc.exe);
	h = LEARN_AGG_HSTR(h, k->peer_proc.comm);
	h ^= (uint64_t)k->dir << 32 | (uint64_t)k->proto << 16 | k->port;
	/* FNV's low bits mix poorly and the mask keeps only those. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static int learn_agg_str_eq(const char *a, const char *b, size_t size)
{
	size_t n = strnlen(a, size);

	return n == strnlen(b, size) && memcmp(a, b, n) == 0;
}

#define LEARN_AGG_EQ(a, b, f) learn_agg_str_eq((a)->f, (b)->f, sizeof((a)->f))

static int learn_agg_key_eq(const struct nseg_edge_key *a,
			    const struct nseg_edge_key *b)
{
	return a->dir == b->dir && a->proto == b->proto &&
	       a->port == b->port && LEARN_AGG_EQ(a, b, workload) &&
	       LEARN_AGG_EQ(a, b, version) && LEARN_AGG_EQ(a, b, proc.exe) &&
	       LEARN_AGG_EQ(a, b, proc.comm) && LEARN_AGG_EQ(a, b, peer) &&
	       LEARN_AGG_EQ(a, b, peer_proc.exe) &&
	       LEARN_AGG_EQ(a, b, peer_proc.comm);
}

#define LEARN_AGG_CPY(d, s, f) memcpy((d)->f, (s)->f, LEARN_AGG_LEN((s)->f))

/* Copies only the meaningful bytes: no caller garbage lands in the store. */
static void learn_agg_key_copy(struct nseg_edge_key *d,
			       const struct nseg_edge_key *s)
{
	memset(d, 0, sizeof(*d));
	LEARN_AGG_CPY(d, s, workload);
	LEARN_AGG_CPY(d, s, version);
	LEARN_AGG_CPY(d, s, proc.exe);
	LEARN_AGG_CPY(d, s, proc.comm);
	LEARN_AGG_CPY(d, s, peer);
	LEARN_AGG_CPY(d, s, peer_proc.exe);
	LEARN_AGG_CPY(d, s, peer_proc.comm);
	d->dir = s->dir;
	d->proto = s->proto;
	d->port = s->port;
}

static int learn_agg_grow(struct learn_agg *a)
{
	size_t cap = a->cap ? a->cap * 2 : 64;
	struct learn_agg_entry *e;

	if (cap > a->max)
		cap = a->max;
	if ((e = reallocarray(a->entries, cap, sizeof(*e))) == NULL) {
		log_warn("%s: %zu entries", __func__, cap);
		return -1;
	}
	a->entries = e;
	a->cap = cap;
	return 0;
}

static int learn_agg_insert(struct learn_agg *a, size_t slot, uint64_t h,
			    const struct nseg_edge_key *k, int64_t now,
			    int learning)
{
	struct learn_agg_entry *e;

	if (a->n == a->max) {
		errno = ENOSPC;
		return -1;
	}
	if (a->n == a->cap && learn_agg_grow(a) == -1) {
		errno = ENOMEM;
		return -1;
	}
	e = &a->entries[a->n];
	e->hash = h;
	e->count = 1;
	e->first = e->last = now;
	e->learning = learning != 0;
	learn_agg_key_copy(&e->key, k);
	a->slots[slot] = (uint32_t)a->n++;
	return 0;
}

static void learn_agg_bump(struct learn_agg_entry *e, int64_t now)
{
	if (e->count != UINT64_MAX)
		e->count++;
	if (now < e->first)
		e->first = now;
	if (now > e->last)
		e->last = now;
}

int learn_agg_record(struct learn_agg *a, const struct nseg_edge_key *k,
		     int64_t now)
{
	return learn_agg_observe(a, k, now, 1);
}

int learn_agg_observe(struct learn_agg *a, const struct nseg_edge_key *k,
		      int64_t now, int learning)
{
	uint64_t h;
	size_t i;
	uint32_t idx;

	if (store_edge_key_invalid(k)) {
		a->st.rejected++;
		errno = EINVAL;
		return -1;
	}
	h = learn_agg_hash(k);
	for (i = h & a->mask; (idx = a->slots[i]) != LEARN_AGG_EMPTY;
	     i = (i + 1) & a->mask) {
		if (a->entries[idx].hash == h &&
		    learn_agg_key_eq(&a->entries[idx].key, k)) {
			learn_agg_bump(&a->entries[idx], now);
			a->entries[idx].learning |= learning != 0;
			a->st.recorded++;
			return 0;
		}
	}
	if (learn_agg_insert(a, i, h, k, now, learning) == -1) {
		a->st.dropped++;
		return -1;
	}
	a->st.recorded++;
	return 0;
}

/*
 * Empties the slots the entries use, newest first: every slot on the probe
 * path of an entry was taken before it, so its path is intact when it is
 * cleared. Costs O(pending), not O(table) as a memset would.
 */
static void learn_agg_clear(struct learn_agg *a)
{
	size_t i;

	while (a->n > 0) {
		a->n--;
		for (i = a->entries[a->n].hash & a->mask; a->slots[i] != a->n;
		     i = (i + 1) & a->mask)
			;
		a->slots[i] = LEARN_AGG_EMPTY;
	}
}

static int learn_agg_write(struct learn_agg *a, struct store *s)
{
	const struct learn_agg_entry *e;

	if (store_begin(s) == -1)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		e = &a->entries[i];
		if (store_edge_add_seen(s, &e->key, e->count, e->first,
					e->last, e->learning))
			goto fail;
	}
	if (store_commit(s) == 0)
		return 0;
fail:
	store_rollback(s);
	return -1;
}

int learn_agg_flush(struct learn_agg *a, struct store *s)
{
	if (a->n == 0)
		return 0;
	if (learn_agg_write(a, s) == -1) {
		a->st.flush_errors++;
		log_warnx("%s: %zu edges stay pending", __func__, a->n);
		return -1;
	}
	a->st.flushes++;
	a->st.edges_written += a->n;
	learn_agg_clear(a);
	return 0;
}

size_t learn_agg_pending(const struct learn_agg *a)
{
	return a->n;
}

void learn_agg_stats(const struct learn_agg *a, struct learn_agg_stats *out)
{
	*out = a->st;
}
