#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/log.h"
#include "nseg/policy.h"
#include "nseg/store.h"
#include "nseg/strpool.h"

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
	free(w->versions);
	strpool_free(w->strs);
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
	       a->port_hi == b->port_hi && a->any_process == b->any_process &&
	       strcmp(a->peer, b->peer) == 0 && strcmp(a->exe, b->exe) == 0 &&
	       strcmp(a->comm, b->comm) == 0;
}

/* Fills r from e, its strings in w's pool. */
static int policy_rule_from_edge(struct policy_workload *w,
				 const struct store_edge *e,
				 struct policy_rule *r)
{
	const char *why;

	r->dir = e->key.dir;
	r->proto = e->key.proto;
	r->port = e->key.port;
	r->port_hi = e->port_hi > e->key.port ? e->port_hi : e->key.port;
	r->any_process = e->any_process != 0;
	r->peer = strpool_add(w->strs, e->key.peer);
	r->exe = strpool_add(w->strs, r->any_process ? "" : e->key.proc.exe);
	r->comm = strpool_add(w->strs, r->any_process ? "" : e->key.proc.comm);
	if (!r->peer || !r->exe || !r->comm)
		return -1;
	r->peer_is_cidr = strncmp(r->peer, "external:", 9) == 0 &&
			  pkt_cidr_parse(r->peer + 9, &r->cidr, &why) == 0;
	return 0;
}

static int policy_note_version(struct policy_workload *w,
			       const struct store_edge *e)
{
	const char *v = e->key.version;
	const char **nv;
	size_t i;

	if (strcmp(v, STORE_VERSION_ANY) == 0)
		return 0;
	for (i = 0; i < w->n_versions; i++)
		if (strcmp(w->versions[i], v) == 0)
			break;
	if (i == w->n_versions) {
		nv = realloc(w->versions, (i + 1) * sizeof(*nv));
		if (!nv || !(nv[i] = strpool_add(w->strs, v))) {
			if (nv)
				w->versions = nv;
			return -1;
		}
		w->versions = nv;
		w->n_versions++;
	}
	if (!w->baseline_version || e->first_seen > w->baseline_seen) {
		w->baseline_version = w->versions[i];
		w->baseline_seen = e->first_seen;
	}
	return 0;
}

/* Edges that differ only in version or peer process make one rule. */
static int policy_add_edge(const struct store_edge *e, void *arg)
{
	struct policy_workload *w = arg;
	struct policy_rule r = { 0 }, *nr;

	if (policy_note_version(w, e) == -1 ||
	    policy_rule_from_edge(w, e, &r) == -1)
		return -1;
	for (size_t i = 0; i < w->n_rules; i++)
		if (policy_same_rule(&w->rules[i], &r))
			return 0;
	if (w->n_rules == w->cap_rules) {
		size_t cap = w->cap_rules ? w->cap_rules * 2 : 8;

		nr = realloc(w->rules, cap * sizeof(*nr));
		if (!nr)
			return -1;
		w->rules = nr;
		w->cap_rules = cap;
	}
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
	w->strs = strpool_new();
	if (!w->strs) {
		free(w);
		return -1;
	}
	snprintf(w->name, sizeof(w->name), "%s", workload);
	if (store_workload_get(s, workload, mode, &w->revision) == -1) {
		int missing = errno == ENOENT;

		policy_workload_free(w);
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

/* A rule on an external network also covers the addresses inside it:
 * attribution names an external peer by its own address. */
static int policy_peer_matches(const struct policy_rule *r, const char *peer)
{
	struct nseg_cidr c;
	const char *why;

	if (strcmp(r->peer, peer) == 0)
		return 1;
	if (!r->peer_is_cidr || strncmp(peer, "external:", 9) != 0 ||
	    pkt_cidr_parse(peer + 9, &c, &why) == -1)
		return 0;
	return c.prefixlen >= r->cidr.prefixlen &&
	       pkt_cidr_contains(&r->cidr, &c.addr);
}

static int policy_covers(const struct policy_rule *r, uint8_t dir,
			 const char *peer, uint8_t proto, uint16_t port)
{
	return r->dir == dir && r->proto == proto && port >= r->port &&
	       port <= r->port_hi && policy_peer_matches(r, peer);
}

int policy_match(const struct policy_workload *w,
		 const struct nseg_edge_key *k)
{
	if (!w)
		return -1;
	for (size_t i = 0; i < w->n_rules; i++) {
		const struct policy_rule *r = &w->rules[i];

		if (!policy_covers(r, k->dir, k->peer, k->proto, k->port))
			continue;
		if (r->any_process ||
		    (strcmp(r->exe, k->proc.exe) == 0 &&
		     (!r->comm[0] || strcmp(r->comm, k->proc.comm) == 0)))
			return (int)i;
	}
	return -1;
}

int policy_names_port(const struct policy_workload *w, uint8_t dir,
		      const char *peer, uint8_t proto, uint16_t port)
{
	if (!w)
		return 0;
	for (size_t i = 0; i < w->n_rules; i++)
		if (policy_covers(&w->rules[i], dir, peer, proto, port))
			return 1;
	return 0;
}

const char *policy_drift_from(const struct policy_workload *w,
			      const char *version)
{
	if (!w || !w->baseline_version)
		return NULL;
	for (size_t i = 0; i < w->n_versions; i++)
		if (strcmp(w->versions[i], version) == 0)
			return NULL;
	return w->baseline_version;
}
