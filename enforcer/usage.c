#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/log.h"
#include "nseg/policy.h"
#include "nseg/store.h"
#include "nseg/usage.h"

/* Distinct rules pending between two flushes (a bound, not a target). */
#define USAGE_MAX 65536

/* A copy of the rule's key: the policy that owns the rule's strings may be
 * reloaded before the next flush. */
struct usage_ent {
	char workload[NSEG_NAME_MAX];
	char peer[NSEG_NAME_MAX];
	struct nseg_proc_id proc; /* exe "*" for any process */
	uint8_t dir, proto;
	uint16_t port;
	uint64_t hits, bytes;
	int64_t when;
};

struct usage {
	struct usage_ent *ents;
	size_t n, cap;
	uint64_t dropped;
};

struct usage *usage_new(void)
{
	return calloc(1, sizeof(struct usage));
}

void usage_free(struct usage *u)
{
	if (!u)
		return;
	free(u->ents);
	free(u);
}

static const char *usage_exe(const struct policy_rule *r)
{
	return r->any_process ? "*" : r->exe;
}

static int usage_same(const struct usage_ent *e, const char *workload,
		      const struct policy_rule *r)
{
	return e->dir == r->dir && e->proto == r->proto && e->port == r->port &&
	       strcmp(e->peer, r->peer) == 0 &&
	       strcmp(e->workload, workload) == 0 &&
	       strcmp(e->proc.exe, usage_exe(r)) == 0 &&
	       strcmp(e->proc.comm, r->comm) == 0;
}

void usage_add(struct usage *u, const char *workload,
	       const struct policy_rule *r, uint64_t hits, uint64_t bytes,
	       int64_t when)
{
	struct usage_ent *e;

	/* Few rules are hot at once: a linear scan of the pending ones. */
	for (size_t i = 0; i < u->n; i++) {
		e = &u->ents[i];
		if (usage_same(e, workload, r)) {
			e->hits += hits;
			e->bytes += bytes;
			if (when > e->when)
				e->when = when;
			return;
		}
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		void *p;

		if (cap > USAGE_MAX || !(p = realloc(u->ents, cap * sizeof(*e)))) {
			u->dropped++;
			return;
		}
		u->ents = p;
		u->cap = cap;
	}
	e = &u->ents[u->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->workload, sizeof(e->workload), "%s", workload);
	snprintf(e->peer, sizeof(e->peer), "%s", r->peer);
	snprintf(e->proc.exe, sizeof(e->proc.exe), "%s", usage_exe(r));
	snprintf(e->proc.comm, sizeof(e->proc.comm), "%s", r->comm);
	e->dir = r->dir;
	e->proto = r->proto;
	e->port = r->port;
	e->hits = hits;
	e->bytes = bytes;
	e->when = when;
}

int usage_flush(struct usage *u, struct store *s)
{
	size_t i;

	if (!u->n)
		return 0;
	if (store_begin(s) == -1)
		return -1;
	for (i = 0; i < u->n; i++) {
		const struct usage_ent *e = &u->ents[i];

		if (store_usage_add(s, e->workload, e->dir, e->peer, e->proto,
				    e->port, e->proc.exe, e->proc.comm,
				    e->hits, e->bytes, e->when) == -1 &&
		    errno != ENOENT)
			break;
	}
	if (i < u->n || store_commit(s) == -1) {
		store_rollback(s);
		return -1;
	}
	u->n = 0;
	return 0;
}
