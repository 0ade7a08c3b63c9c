#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/log.h"
#include "nseg/policy.h"
#include "nseg/store.h"

struct policy {
	struct policy_workload *workloads;
};

static const char *const policy_mode_names[] = { "learn", "notify",
						 "enforce" };

const char *policy_mode_name(enum policy_mode m)
{
	return (unsigned)m < 3 ? policy_mode_names[m] : "learn";
}

int policy_mode_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, policy_mode_names[i]) == 0)
			return i;
	return -1;
}

struct policy *policy_new(void)
{
	return calloc(1, sizeof(struct policy));
}

static void policy_workload_free(struct policy_workload *w)
{
	if (!w)
		return;
	free(w->rules);
	free(w);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	while (p->workloads) {
		struct policy_workload *w = p->workloads;
		p->workloads = w->next;
		policy_workload_free(w);
	}
	free(p);
}

static int policy_same_rule(const struct policy_rule *a,
			    const struct policy_rule *b)
{
	return a->dir == b->dir && a->proto == b->proto && a->port == b->port &&
	       a->any_process == b->any_process &&
	       strcmp(a->peer, b->peer) == 0 &&
	       (a->any_process ||
		(strcmp(a->proc.exe, b->proc.exe) == 0 &&
		 strcmp(a->proc.comm, b->proc.comm) == 0));
}

/* Edges that differ only in version or peer process make one rule. */
static int policy_add_edge(const struct store_edge *e, void *arg)
{
	struct policy_workload *w = arg;
	struct policy_rule r = { 0 }, *nr;

	r.dir = e->key.dir;
	r.proto = e->key.proto;
	r.port = e->key.port;
	r.any_process = e->any_process;
	memcpy(r.peer, e->key.peer, sizeof(r.peer));
	if (!r.any_process)
		r.proc = e->key.proc;
	for (size_t i = 0; i < w->n_rules; i++)
		if (policy_same_rule(&w->rules[i], &r))
			return 0;
	nr = realloc(w->rules, (w->n_rules + 1) * sizeof(*nr));
	if (!nr)
		return -1;
	w->rules = nr;
	w->rules[w->n_rules++] = r;
	return 0;
}

static void policy_unlink(struct policy *p, const char *workload)
{
	for (struct policy_workload **pp = &p->workloads; *pp;
	     pp = &(*pp)->next) {
		if (strcmp((*pp)->name, workload) == 0) {
			struct policy_workload *w = *pp;
			*pp = w->next;
			policy_workload_free(w);
			return;
		}
	}
}

int policy_load(struct policy *p, struct store *s, const char *workload)
{
	struct policy_workload *w = calloc(1, sizeof(*w));
	char mode[16];
	int m;

	if (!w)
		return -1;
	snprintf(w->name, sizeof(w->name), "%s", workload);
	if (store_workload_get(s, workload, mode, &w->revision) == -1) {
		int missing = errno == ENOENT;

		free(w);
		if (!missing)
			return -1;
		policy_unlink(p, workload);
		return 0;
	}
	m = policy_mode_parse(mode);
	w->mode = m < 0 ? POLICY_LEARN : (enum policy_mode)m;
	if (store_approved_foreach(s, workload, policy_add_edge, w) == -1) {
		policy_workload_free(w);
		return -1;
	}
	policy_unlink(p, workload);
	w->next = p->workloads;
	p->workloads = w;
	return 0;
}

struct policy_load_ctx {
	struct policy *p;
	struct store *s;
};

/* Other statements may step while store_workloads_foreach holds its own. */
static int policy_load_cb(const struct store_workload *sw, void *arg)
{
	struct policy_load_ctx *x = arg;

	return policy_load(x->p, x->s, sw->name);
}

int policy_load_all(struct policy *p, struct store *s)
{
	struct policy_load_ctx x = { p, s };

	return store_workloads_foreach(s, policy_load_cb, &x);
}

const struct policy_workload *policy_get(const struct policy *p,
					 const char *workload)
{
	for (const struct policy_workload *w = p->workloads; w; w = w->next)
		if (strcmp(w->name, workload) == 0)
			return w;
	return NULL;
}

enum policy_mode policy_mode_of(const struct policy *p, const char *workload)
{
	const struct policy_workload *w = policy_get(p, workload);

	return w ? w->mode : POLICY_LEARN;
}

int policy_match(const struct policy_workload *w,
		 const struct nseg_edge_key *k)
{
	if (!w)
		return -1;
	for (size_t i = 0; i < w->n_rules; i++) {
		const struct policy_rule *r = &w->rules[i];

		if (r->dir != k->dir || r->proto != k->proto ||
		    r->port != k->port || strcmp(r->peer, k->peer) != 0)
			continue;
		if (r->any_process ||
		    (strcmp(r->proc.exe, k->proc.exe) == 0 &&
		     strcmp(r->proc.comm, k->proc.comm) == 0))
			return (int)i;
	}
	return -1;
}

int policy_names_port(const struct policy_workload *w, uint8_t dir,
		      const char *peer, uint8_t proto, uint16_t port)
{
	if (!w)
		return 0;
	for (size_t i = 0; i < w->n_rules; i++) {
		const struct policy_rule *r = &w->rules[i];

		if (r->dir == dir && r->proto == proto && r->port == port &&
		    strcmp(r->peer, peer) == 0)
			return 1;
	}
	return 0;
}
