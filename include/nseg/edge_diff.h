/*
 * The difference between two sets of baseline edges: version 1.0 against
 * version 1.1 of a workload, or the approved policy against what was
 * learned. `nsegctl diff` prints it and gates CI on it (--fail-on).
 *
 * Edges compare by their key: direction, peer, protocol, port, local exe
 * and local comm. Version, peer process, state and counts are not part of
 * it; edges of one side with the same key fold into one (counts summed,
 * first seen the earliest, last seen the latest, the other fields from
 * the edge that came first in the input).
 *
 * An edge only in B is ADDED, only in A REMOVED. An added and a removed
 * edge with the same protocol that differ in exactly one of peer, port,
 * process (exe and comm) or direction are shown as one CHANGED item
 * naming what changed: "python3 now talks to postgres on 5433" reads
 * better than one edge gone and one new. Pairing is greedy: each removed
 * edge, in the sort order below, takes the first added edge, in the same
 * order, that it pairs with and that no other took.
 */
#ifndef NSEG_EDGE_DIFF_H
#define NSEG_EDGE_DIFF_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "nseg/store.h"

enum edge_diff_kind {
	EDGE_DIFF_ADDED = 0,
	EDGE_DIFF_REMOVED = 1,
	EDGE_DIFF_CHANGED = 2,
};

/* What a CHANGED item changed. */
enum edge_diff_what {
	EDGE_DIFF_WHAT_NONE = 0, /* ADDED, REMOVED */
	EDGE_DIFF_WHAT_PEER,
	EDGE_DIFF_WHAT_PORT,
	EDGE_DIFF_WHAT_PROCESS,
	EDGE_DIFF_WHAT_DIRECTION,
};

struct edge_diff_item {
	enum edge_diff_kind kind;
	enum edge_diff_what what;
	struct store_edge a; /* the folded edge of side A: REMOVED, CHANGED */
	struct store_edge b; /* the folded edge of side B: ADDED, CHANGED */
};

/*
 * Items are sorted by direction, peer, protocol, port, exe, comm of their
 * edge (b for ADDED and CHANGED, a for REMOVED), then by kind (added,
 * removed, changed), then by the other edge: the same two inputs in any
 * order give the same diff.
 */
struct edge_diff {
	struct edge_diff_item *items;
	size_t n;
	size_t n_added, n_removed, n_changed;
};

/*
 * Compares a[0..na) against b[0..nb) (either may be NULL when its count
 * is 0). Returns a new diff the caller frees with edge_diff_free(), or
 * NULL when out of memory (logged).
 */
struct edge_diff *edge_diff_compute(const struct store_edge *a, size_t na,
				    const struct store_edge *b, size_t nb);

/* Frees d and its items; NULL is a no-op. */
void edge_diff_free(struct edge_diff *d);

/* "peer", "port", "process", "direction"; "" for EDGE_DIFF_WHAT_NONE. */
const char *edge_diff_what_name(enum edge_diff_what what);

/*
 * The JSON form (a contract with scripts: add keys, never rename or drop
 * one):
 *
 * {"a":"web@1.0", "b":"web@1.1",
 *  "added":[EDGE...], "removed":[EDGE...],
 *  "changed":[{"what":"port", "from":EDGE, "to":EDGE}],
 *  "counts":{"added":1, "removed":0, "changed":1}}
 *
 * EDGE = {"direction":"egress", "peer":"library/postgres",
 *         "protocol":"tcp", "port":5432,
 *         "process":{"exe":"/usr/bin/python3","comm":"python3"},
 *         "count":12, "first_seen":"2026-11-22T10:00:00Z",
 *         "last_seen":"2026-11-22T11:00:00Z"}
 *
 * peer is the identity only (peer processes are not compared); protocol
 * and times are shown as in edge_json.h. Each list is in the order of the
 * items. a_label and b_label name the two sides ("a" and "b" are null
 * when they are NULL). Returns a new reference the caller owns, or NULL on
 * allocation failure or a time outside the RFC 3339 range (logged).
 */
json_t *edge_diff_json(const struct edge_diff *d, const char *a_label,
		       const char *b_label);

/*
 * The text form, one line per item in item order, then a count line
 * (long lines cut here with "\"):
 *
 *   --- web@1.0
 *   +++ web@1.1
 *   + egress tcp/5432 library/postgres  /usr/bin/python3 (python3) \
 *     count 12, first seen 2026-11-22T10:00:00Z
 *   - ingress tcp/80 host  /usr/sbin/nginx (nginx)  count 3, first seen ...
 *   ~ port: egress tcp/5432 -> tcp/5433 library/postgres \
 *     /usr/bin/python3 (python3)  count 4, first seen ...
 *   1 added, 1 removed, 1 changed
 *
 * The --- and +++ lines are left out when a label is NULL. Added and
 * changed lines show B's count and first seen, removed lines A's. Control
 * characters in names and labels are written as '?' so that each item
 * stays one line. Returns 0, or -1 on a write error (logged).
 */
int edge_diff_write_text(FILE *f, const struct edge_diff *d,
			 const char *a_label, const char *b_label);

/* --fail-on: which differences make `nsegctl diff` fail (exit 3). */
enum edge_diff_fail_on {
	EDGE_DIFF_FAIL_NEVER = 0, /* no --fail-on */
	EDGE_DIFF_FAIL_ADDED,	  /* any ADDED item */
	EDGE_DIFF_FAIL_CHANGED,	  /* any CHANGED item */
	EDGE_DIFF_FAIL_ANY,	  /* any item at all */
};

/* "added", "changed", "any" -> the mode; -1 for anything else. */
int edge_diff_fail_on_parse(const char *s);

/* 1 when d has differences of the kind fail_on names, else 0. */
int edge_diff_fails(const struct edge_diff *d, enum edge_diff_fail_on fail_on);

#endif
