/*
 * libFuzzer target for the policy loader and writer: whatever loads must
 * write, load back to the same documents and rules, and write again to
 * the same bytes; whatever fails must say why.
 *
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE \
 *     -Iinclude tests/fuzz/fuzz_policy_doc.c policies/policy_doc*.c \
 *     policies/yaml_tree*.c lib/edge.c learner/pkt.c -lyaml \
 *     -o /tmp/fuzz_policy_doc
 *   /tmp/fuzz_policy_doc tests/fuzz/corpus/policy_doc
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/policy_doc.h"
#include "nseg/policy_doc_rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rule_cmp(const void *x, const void *y)
{
	const struct policy_doc_rule *a = x, *b = y;
	int c = policy_doc_rule_subject_cmp(a, b);

	if (c != 0)
		return c;
	if (a->port_lo != b->port_lo)
		return a->port_lo < b->port_lo ? -1 : 1;
	return a->port_hi < b->port_hi ? -1 : a->port_hi > b->port_hi;
}

/* The writer may reorder rules (grouped, egress first): compare them as
 * sets, field by field. Sorts both in place. */
static int doc_same(struct policy_doc *a, struct policy_doc *b)
{
	if (strcmp(a->workload, b->workload) != 0 ||
	    strcmp(a->version, b->version) != 0 || a->mode != b->mode ||
	    a->learn_window_ms != b->learn_window_ms ||
	    a->n_rules != b->n_rules)
		return 0;
	if (a->n_rules == 0)
		return 1;
	qsort(a->rules, a->n_rules, sizeof(*a->rules), rule_cmp);
	qsort(b->rules, b->n_rules, sizeof(*b->rules), rule_cmp);
	for (size_t i = 0; i < a->n_rules; i++) {
		const struct policy_doc_rule *x = &a->rules[i],
					     *y = &b->rules[i];

		if (rule_cmp(x, y) != 0 || x->any_process != y->any_process ||
		    strcmp(x->peer, y->peer) != 0 ||
		    strcmp(x->proc.exe, y->proc.exe) != 0 ||
		    strcmp(x->proc.comm, y->proc.comm) != 0)
			return 0;
	}
	return 1;
}

static char *write_all(const struct policy_doc_set *set, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	if (f == NULL)
		abort();
	for (size_t i = 0; i < set->n_docs; i++) {
		if (policy_doc_write(f, &set->docs[i], "fuzz") < 0) {
			perror("policy_doc_write");
			abort();
		}
	}
	fclose(f);
	return out;
}

static void round_trip(struct policy_doc_set *first)
{
	struct policy_doc_set second = {0};
	struct policy_doc_diags diags = {0};
	size_t alen = 0, blen = 0;
	char *a = write_all(first, &alen), *b;

	if (policy_doc_parse("out.yaml", a, alen, &second, &diags) < 0) {
		fprintf(stderr, "reload failed: %s\n%s",
			diags.n ? diags.items[0].msg : "?", a);
		abort();
	}
	b = write_all(&second, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0) {
		fprintf(stderr, "second write differs:\n%s---\n%s", a, b);
		abort();
	}
	if (first->n_docs != second.n_docs)
		abort();
	for (size_t i = 0; i < first->n_docs; i++) {
		if (!doc_same(&first->docs[i], &second.docs[i])) {
			fprintf(stderr, "document %zu differs:\n%s", i, a);
			abort();
		}
	}
	free(a);
	free(b);
	policy_doc_set_free(&second);
	policy_doc_diags_free(&diags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_doc_set set;
	struct policy_doc_diags diags = {0};

	if (policy_doc_parse("fuzz.yaml", (const char *)data, size, &set,
			     &diags) < 0) {
		/* a failure always says why, and returns nothing */
		if (diags.n_errors == 0 || diags.n == 0 ||
		    diags.items[0].msg[0] == '\0' || set.n_docs != 0)
			abort();
	} else {
		if (diags.n_errors != 0 || set.n_docs == 0)
			abort();
		round_trip(&set);
	}
	policy_doc_set_free(&set);
	policy_doc_diags_free(&diags);
	return 0;
}
