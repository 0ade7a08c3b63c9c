/*
 * The JSON and text forms of an edge diff (edge_diff.h). Directions,
 * protocols, processes and times are shown by the builders of edge_json
 * (jsonfmt, timefmt) so a diff and `baseline show` agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nseg/edge_diff.h"
#include "nseg/jsonfmt.h"
#include "nseg/log.h"
#include "nseg/timefmt.h"

static int edge_diff_times(const struct store_edge *e, char *first, char *last)
{
	if (timefmt_rfc3339(e->first_seen, first, TIMEFMT_RFC3339_LEN) == 0 &&
	    timefmt_rfc3339(e->last_seen, last, TIMEFMT_RFC3339_LEN) == 0)
		return 0;
	log_warnx("edge %lld: first/last seen %lld/%lld out of range",
		  (long long)e->id, (long long)e->first_seen,
		  (long long)e->last_seen);
	return -1;
}

static json_t *edge_diff_edge_json(const struct store_edge *e)
{
	const struct nseg_edge_key *k = &e->key;
	char first[TIMEFMT_RFC3339_LEN], last[TIMEFMT_RFC3339_LEN];
	char proto[JSONFMT_PROTO_LEN];

	if (edge_diff_times(e, first, last) == -1)
		return NULL;
	/* o: a builder's NULL fails the whole pack and frees what was built. */
	return json_pack(
	    "{s:s, s:o, s:s, s:i, s:o, s:I, s:s, s:s}", "direction",
	    jsonfmt_dir(k->dir), "peer", JSONFMT_STR(k->peer), "protocol",
	    jsonfmt_proto(k->proto, proto), "port", (int)k->port, "process",
	    jsonfmt_proc(&k->proc), "count",
	    (json_int_t)(e->count > INT64_MAX ? INT64_MAX : e->count),
	    "first_seen", first, "last_seen", last);
}

static json_t *edge_diff_item_json(const struct edge_diff_item *it)
{
	switch (it->kind) {
	case EDGE_DIFF_ADDED:
		return edge_diff_edge_json(&it->b);
	case EDGE_DIFF_REMOVED:
		return edge_diff_edge_json(&it->a);
	default:
		return json_pack("{s:s, s:o, s:o}", "what",
				 edge_diff_what_name(it->what), "from",
				 edge_diff_edge_json(&it->a), "to",
				 edge_diff_edge_json(&it->b));
	}
}

/* Appends each item to the list of its kind. */
static int edge_diff_fill(json_t *lists[3], const struct edge_diff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct edge_diff_item *it = &d->items[i];

		if (json_array_append_new(lists[it->kind],
					  edge_diff_item_json(it)) == -1)
			return -1;
	}
	return 0;
}

json_t *edge_diff_json(const struct edge_diff *d, const char *a_label,
		       const char *b_label)
{
	json_t *lists[3] = {json_array(), json_array(), json_array()};
	json_t *j;

	if (lists[0] == NULL || lists[1] == NULL || lists[2] == NULL ||
	    edge_diff_fill(lists, d) == -1) {
		for (int i = 0; i < 3; i++)
			json_decref(lists[i]);
		log_warnx("%s: cannot build the diff", __func__);
		return NULL;
	}
	j = json_pack(
	    "{s:s?, s:s?, s:o, s:o, s:o, s:{s:I, s:I, s:I}}", "a", a_label, "b",
	    b_label, "added", lists[EDGE_DIFF_ADDED], "removed",
	    lists[EDGE_DIFF_REMOVED], "changed", lists[EDGE_DIFF_CHANGED],
	    "counts", "added", (json_int_t)d->n_added, "removed",
	    (json_int_t)d->n_removed, "changed", (json_int_t)d->n_changed);
	if (j == NULL)
		log_warnx("%s: cannot build the diff", __func__);
	return j;
}

/* s (a field of max bytes) with control characters as '?'. */
static void edge_diff_put(FILE *f, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i] != '\0'; i++)
		fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i],
		      f);
}

#define EDGE_DIFF_PUT(f, field) edge_diff_put(f, field, sizeof(field))

static void edge_diff_put_ports(FILE *f, const struct store_edge *e)
{
	char proto[JSONFMT_PROTO_LEN];

	fprintf(f, "%s/%u", jsonfmt_proto(e->key.proto, proto), e->key.port);
	if (e->port_hi > e->key.port)
		fprintf(f, "-%u", e->port_hi);
}

static void edge_diff_put_proc(FILE *f, const struct nseg_proc_id *p)
{
	if (strcmp(p->exe, "*") == 0) {
		fputs("any process", f);
		return;
	}
	EDGE_DIFF_PUT(f, p->exe);
	fputs(" (", f);
	EDGE_DIFF_PUT(f, p->comm);
	fputc(')', f);
}

/* "  count 12, first seen 2026-11-22T10:00:00Z" */
static void edge_diff_put_seen(FILE *f, const struct store_edge *e)
{
	char first[TIMEFMT_RFC3339_LEN];

	if (timefmt_rfc3339(e->first_seen, first, sizeof(first)) == -1)
		snprintf(first, sizeof(first), "?");
	fprintf(f, "  count %llu, first seen %s\n",
		(unsigned long long)e->count, first);
}

/*
 * "DIR PROTO/PORT PEER  EXE (COMM)", the changed attribute written as
 * "A -> B" in its place when from is not NULL.
 */
static void edge_diff_put_edge(FILE *f, const struct store_edge *from,
			       const struct store_edge *e,
			       enum edge_diff_what what)
{
	const struct nseg_edge_key *k = &e->key;

	if (from != NULL && what == EDGE_DIFF_WHAT_DIRECTION)
		fprintf(f, "%s -> ", jsonfmt_dir(from->key.dir));
	fprintf(f, "%s ", jsonfmt_dir(k->dir));
	if (from != NULL && what == EDGE_DIFF_WHAT_PORT) {
		edge_diff_put_ports(f, from);
		fputs(" -> ", f);
	}
	edge_diff_put_ports(f, e);
	fputc(' ', f);
	if (from != NULL && what == EDGE_DIFF_WHAT_PEER) {
		EDGE_DIFF_PUT(f, from->key.peer);
		fputs(" -> ", f);
	}
	EDGE_DIFF_PUT(f, k->peer);
	fputs("  ", f);
	if (from != NULL && what == EDGE_DIFF_WHAT_PROCESS) {
		edge_diff_put_proc(f, &from->key.proc);
		fputs(" -> ", f);
	}
	edge_diff_put_proc(f, &k->proc);
	edge_diff_put_seen(f, e);
}

static void edge_diff_put_item(FILE *f, const struct edge_diff_item *it)
{
	switch (it->kind) {
	case EDGE_DIFF_ADDED:
		fputs("+ ", f);
		edge_diff_put_edge(f, NULL, &it->b, it->what);
		break;
	case EDGE_DIFF_REMOVED:
		fputs("- ", f);
		edge_diff_put_edge(f, NULL, &it->a, it->what);
		break;
	default:
		fprintf(f, "~ %s: ", edge_diff_what_name(it->what));
		edge_diff_put_edge(f, &it->a, &it->b, it->what);
		break;
	}
}

int edge_diff_write_text(FILE *f, const struct edge_diff *d,
			 const char *a_label, const char *b_label)
{
	if (a_label != NULL && b_label != NULL) {
		fputs("--- ", f);
		edge_diff_put(f, a_label, SIZE_MAX);
		fputs("\n+++ ", f);
		edge_diff_put(f, b_label, SIZE_MAX);
		fputc('\n', f);
	}
	for (size_t i = 0; i < d->n; i++)
		edge_diff_put_item(f, &d->items[i]);
	fprintf(f, "%zu added, %zu removed, %zu changed\n", d->n_added,
		d->n_removed, d->n_changed);
	if (fflush(f) == EOF || ferror(f)) {
		log_warn("%s: write", __func__);
		return -1;
	}
	return 0;
}
