/*
 * Duplicate and overlapping rules of one policy document.
 *
 * Rules are sorted by what they are about (direction, protocol, peer,
 * process) and then by first port, so each group is one run in which an
 * overlap is a rule starting at or before the highest port the rules
 * before it reach: O(n log n) for the 10000 rules a document may hold.
 */
#include <stdlib.h>
#include <string.h>

#include "nseg/policy_doc_rule.h"

/* Same direction, protocol, peer and process: rules that may clash. */
int policy_doc_rule_subject_cmp(const struct policy_doc_rule *a,
				const struct policy_doc_rule *b)
{
	int c;

	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if ((c = strcmp(a->peer, b->peer)) != 0)
		return c;
	if (a->any_process != b->any_process)
		return a->any_process < b->any_process ? -1 : 1;
	if ((c = strcmp(a->proc.exe, b->proc.exe)) != 0)
		return c;
	return strcmp(a->proc.comm, b->proc.comm);
}

static int rule_index_cmp(const void *x, const void *y, void *arg)
{
	const struct policy_doc_rule *rules = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	const struct policy_doc_rule *a = &rules[i], *b = &rules[j];
	int c = policy_doc_rule_subject_cmp(a, b);

	if (c != 0)
		return c;
	if (a->port_lo != b->port_lo)
		return a->port_lo < b->port_lo ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Reports the later (in file order) of two clashing rules i and j. */
static void report(const struct policy_doc_rules *rs, size_t i, size_t j,
		   const char *file, struct policy_doc_diags *diags)
{
	const struct policy_doc_rule *first = &rs->rules[i < j ? i : j];
	const struct policy_doc_rule *later = &rs->rules[i < j ? j : i];
	const struct policy_doc_pos *at = &rs->pos[i < j ? j : i];
	int same = first->port_lo == later->port_lo &&
		   first->port_hi == later->port_hi;

	policy_doc_diag_add(diags, 0, "%s:%d:%d: %s the rule at %d:%d", file,
			    at->line, at->col,
			    same ? "duplicate rule: same as" : "rule overlaps",
			    first->line, first->col);
}

void policy_doc_rules_check(const struct policy_doc_rules *rs, const char *file,
			    struct policy_doc_diags *diags)
{
	size_t *idx, reach = 0;

	if (rs->n < 2)
		return;
	idx = calloc(rs->n, sizeof(*idx));
	if (idx == NULL) {
		policy_doc_diag_add(diags, 0, "%s: out of memory", file);
		return;
	}
	for (size_t i = 0; i < rs->n; i++)
		idx[i] = i;
	qsort_r(idx, rs->n, sizeof(*idx), rule_index_cmp, rs->rules);
	/* reach: the rule of the current group reaching the highest port */
	for (size_t k = 1; k < rs->n; k++) {
		const struct policy_doc_rule *r = &rs->rules[idx[k]];

		if (policy_doc_rule_subject_cmp(&rs->rules[idx[reach]], r) !=
		    0) {
			reach = k;
			continue;
		}
		if (r->port_lo <= rs->rules[idx[reach]].port_hi)
			report(rs, idx[reach], idx[k], file, diags);
		if (r->port_hi > rs->rules[idx[reach]].port_hi)
			reach = k;
	}
	free(idx);
}
