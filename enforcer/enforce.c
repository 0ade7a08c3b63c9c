/*
 * From approved baselines to kernel state, and the verdict on what the
 * kernel could not decide.
 *
 * Each watched namespace's table is compiled from its workload's mode and
 * approved rules (nft_table.h, nft_enforce.h). Rules that any process of
 * the workload may use are decided in the kernel against per-identity
 * address sets; whatever reaches the queue is attributed and checked here.
 * When addresses change (containers come and go), the sets of every table
 * that names the identity are refilled, in one transaction per namespace;
 * rules are rebuilt only when an operator changes approvals or modes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/alerts.h"
#include "nseg/capture_mgr.h"
#include "nseg/daemon.h"
#include "nseg/enforce.h"
#include "nseg/evloop.h"
#include "nseg/log.h"
#include "nseg/nft_counters.h"
#include "nseg/nft_enforce.h"
#include "nseg/nfqueue.h"
#include "nseg/nft_table.h"
#include "nseg/policy.h"
#include "nseg/queue_health.h"
#include "nseg/tamper.h"
#include "nseg/usage.h"

/* Addresses one identity's set may hold (all its namespaces). */
#define ENFORCE_MAX_SET_ADDRS 4096

static int enforce_addr_add(struct nseg_addr *v, size_t *n,
			    const struct nseg_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (pkt_addr_eq(&v[i], a))
			return 0;
	if (*n >= ENFORCE_MAX_SET_ADDRS)
		return -1;
	v[(*n)++] = *a;
	return 0;
}

/* The current addresses of a peer identity: every watched namespace that
 * holds it, the host's for "host", and loopback for the workload itself. */
/* fe80::/10 and 169.254.0.0/16. */
static int enforce_link_local(const struct nseg_addr *a)
{
	if (a->family == AF_INET6)
		return a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
	return a->a[0] == 169 && a->a[1] == 254;
}

static size_t enforce_identity_addrs(struct daemon *d, const char *identity,
				     const char *self, struct nseg_addr *out)
{
	size_t n = 0;

	if (strcmp(identity, "host") == 0) {
		for (size_t i = 0; i < d->n_host_addrs; i++)
			enforce_addr_add(out, &n, &d->host_addrs[i]);
		return n;
	}
	for (struct nsw *w = d->nsws; w; w = w->next) {
		/* compiled_for is the namespace's identity: a change of it
		 * recompiles (enforce_check_identity). */
		if (strcmp(w->compiled_for, identity) != 0)
			continue;
		/* A peer's loopback and link-local addresses are its own
		 * link's: only the workload itself reaches them. */
		for (size_t i = 0; i < w->naddrs; i++)
			if (!pkt_addr_is_loopback(&w->addrs[i]) &&
			    !enforce_link_local(&w->addrs[i]))
				enforce_addr_add(out, &n, &w->addrs[i]);
	}
	if (strcmp(identity, self) == 0) {
		struct nseg_addr lo4 = { .family = AF_INET,
					 .a = { 127, 0, 0, 1 } };
		struct nseg_addr lo6 = { .family = AF_INET6 };

		lo6.a[15] = 1;
		enforce_addr_add(out, &n, &lo4);
		enforce_addr_add(out, &n, &lo6);
	}
	return n;
}

/* An external identity as a prefix: "external:NAME" (configured) or
 * "external:ADDR/LEN". Returns 0, or -1 when identity is not external. */
static int enforce_external_cidr(struct daemon *d, const char *identity,
				 struct nseg_cidr *out)
{
	const char *rest;
	const char *why;

	if (strncmp(identity, "external:", 9) != 0)
		return -1;
	rest = identity + 9;
	for (size_t i = 0; i < d->cfg.n_networks; i++) {
		if (strcmp(d->cfg.networks[i].name, rest) == 0) {
			*out = d->cfg.networks[i].cidr;
			return 0;
		}
	}
	return pkt_cidr_parse(rest, out, &why);
}

/* Process-scoped rules i and an earlier one with the same peer and port
 * share one queue rule. */
void enforce_free_sets(struct nsw *w)
{
	for (size_t i = 0; i < w->n_sets; i++)
		free(w->sets[i].cur);
	free(w->sets);
	w->sets = NULL;
	w->n_sets = 0;
}

static int enforce_set_changed(struct nsw_set *s, const struct nseg_addr *a,
			       size_t n);

static int enforce_has_queue_rule(const struct policy_workload *pw, size_t i)
{
	const struct policy_rule *r = &pw->rules[i];

	for (size_t j = 0; j < i; j++) {
		const struct policy_rule *q = &pw->rules[j];

		if (!q->any_process && q->dir == r->dir &&
		    q->proto == r->proto && q->port == r->port &&
		    q->port_hi == r->port_hi && strcmp(q->peer, r->peer) == 0)
			return 1;
	}
	return 0;
}

static int enforce_set_index(struct nsw *w, const char *identity)
{
	for (size_t i = 0; i < w->n_sets; i++)
		if (strcmp(w->sets[i].identity, identity) == 0)
			return (int)i;
	return -1;
}

/* Builds the kernel side of w's policy: sets (one per identity named by a
 * kernel-decided rule) and accept rules. Owns nothing it returns: the
 * arrays live in w (sets) and in *rules_out (caller frees). */
static int enforce_build(struct nsw *w, const struct policy_workload *pw,
			 struct nft_accept_rule **rules_out, size_t *n_rules)
{
	struct nft_accept_rule *rules = calloc(pw->n_rules + 1, sizeof(*rules));
	size_t n = 0;

	if (!rules)
		return -1;
	enforce_free_sets(w);
	for (size_t i = 0; i < pw->n_rules; i++) {
		const struct policy_rule *r = &pw->rules[i];
		struct nft_accept_rule *ar = &rules[n];

		/* Process-scoped rules need the process: userspace (queued
		 * ahead of the rate limit). One queue rule per peer/port. */
		if (!r->any_process && enforce_has_queue_rule(pw, i))
			continue;
		ar->queue = !r->any_process;
		ar->id = (int)i;
		ar->dir = r->dir;
		ar->proto = r->proto;
		ar->port = r->port;
		ar->port_hi = r->port_hi;
		if (enforce_external_cidr(w->d, r->peer, &ar->cidr) == 0) {
			ar->set = -1;
		} else {
			int si = enforce_set_index(w, r->peer);

			if (si < 0) {
				struct nsw_set *ns = realloc(
					w->sets, (w->n_sets + 1) * sizeof(*ns));
				if (!ns) {
					free(rules);
					return -1;
				}
				w->sets = ns;
				si = (int)w->n_sets++;
				memset(&ns[si], 0, sizeof(ns[si]));
				snprintf(ns[si].identity,
					 sizeof(ns[si].identity), "%s",
					 r->peer);
				snprintf(ns[si].name, sizeof(ns[si].name),
					 "p%d", si);
			}
			ar->set = si;
		}
		n++;
	}
	*rules_out = rules;
	*n_rules = n;
	return 0;
}

static void enforce_poll_nsw(struct nsw *w);

int enforce_compile(struct nsw *w, char *err, size_t errlen)
{
	struct daemon *d = w->d;
	char wl[NSEG_NAME_MAX], ver[NSEG_VERSION_MAX];
	const struct policy_workload *pw;
	struct nft_table_opts to = {
		.queue_num = d->cfg.queue_num,
		.fail_open = d->cfg.fail_open,
		.native_queue = d->native_queue,
		.queue_rate = d->cfg.queue_rate,
		.queue_burst = d->cfg.queue_burst,
		.replace_whole = w->replace_table,
	};
	struct nft_accept_rule *rules = NULL;
	struct nft_peer_set *sets = NULL;
	struct nseg_addr *addrs = NULL;
	struct nft_enforce e = { 0 };
	size_t n_rules = 0, used = 0;
	int rc = -1;

	/* The new table starts its counters at zero: collect the old ones
	 * first (for the policy they were compiled from). */
	if (w->nft && w->compiled_for[0] && w->mode != POLICY_LEARN)
		enforce_poll_nsw(w);
	if (w->nft && w->compiled_for[0])
		queue_health_poll_nsw(d, w);
	attrib_nsw_identity(d, w, wl, sizeof(wl), ver, sizeof(ver));
	snprintf(w->compiled_for, sizeof(w->compiled_for), "%s", wl);
	pw = policy_get(d->policy, wl);
	w->mode = pw ? pw->mode : POLICY_LEARN;
	w->rate_limited_seen = 0;
	free(w->edge_seen);
	w->n_edge_seen = pw ? pw->n_rules : 0;
	w->edge_seen = calloc(2 * w->n_edge_seen + 1, sizeof(uint64_t));
	if (!w->edge_seen)
		w->n_edge_seen = 0;
	to.over_rate_drop = w->mode == POLICY_ENFORCE;
	/* Notify mode lets a deviation through: its packets are captured. */
	w->capture = w->mode == POLICY_NOTIFY && d->cfg.capture.enabled;
	to.capture = w->capture;
	to.capture_group = d->cfg.queue_num;
	to.capture_snaplen = d->cfg.capture.snaplen;
	/* With block: drop too: segments without a socket coming in are
	 * reset (attrib.c). */
	if (w->mode == POLICY_ENFORCE)
		to.reject_mark = NFT_REJECT_MARK;
	if (w->mode == POLICY_LEARN) {
		enforce_free_sets(w);
		rc = nft_table_apply(w->nft, &to, err, errlen);
		queue_health_table_replaced(w);
		goto out;
	}
	if (enforce_build(w, pw, &rules, &n_rules) == -1)
		goto oom;
	sets = calloc(w->n_sets + 1, sizeof(*sets));
	addrs = calloc(ENFORCE_MAX_SET_ADDRS * (w->n_sets + 1), sizeof(*addrs));
	if (!sets || !addrs)
		goto oom;
	for (size_t i = 0; i < w->n_sets; i++) {
		snprintf(sets[i].name, sizeof(sets[i].name), "%s",
			 w->sets[i].name);
		sets[i].addrs = addrs + used;
		sets[i].n_addrs = enforce_identity_addrs(
			d, w->sets[i].identity, wl, addrs + used);
		/* What the new table's set will hold. */
		enforce_set_changed(&w->sets[i], addrs + used, sets[i].n_addrs);
		used += sets[i].n_addrs;
	}
	e.opts = &to;
	e.sets = sets;
	e.n_sets = w->n_sets;
	e.rules = rules;
	e.n_rules = n_rules;
	to.enforce = &e;
	rc = nft_table_apply(w->nft, &to, err, errlen);
	queue_health_table_replaced(w);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (rc == 0) {
		w->replace_table = 0;
		tamper_applied(w);
	}
	free(rules);
	free(sets);
	free(addrs);
	return rc;
}

void enforce_workload_changed(struct daemon *d, const char *workload)
{
	char wl[NSEG_NAME_MAX], ver[NSEG_VERSION_MAX], err[512];

	for (struct nsw *w = d->nsws; w; w = w->next) {
		attrib_nsw_identity(d, w, wl, sizeof(wl), ver, sizeof(ver));
		if (workload && strcmp(wl, workload) != 0)
			continue;
		if (enforce_compile(w, err, sizeof(err)) == -1)
			log_warnx("netns %s: recompiling for %s: %s",
				  w->name[0] ? w->name : "(process)", wl, err);
		else
			log_info("netns %s: %s mode, revision compiled",
				 w->name[0] ? w->name : "(process)",
				 policy_mode_name(w->mode));
	}
}

/* Refills every set of every enforcing table from the current addresses.
 * Runs once per loop turn however many addresses changed. */
/* Did set s's addresses change since it was last filled? Keeps the new
 * list in s when they did. */
static int enforce_set_changed(struct nsw_set *s, const struct nseg_addr *a,
			       size_t n)
{
	struct nseg_addr *copy;

	if (s->n_cur == n && (n == 0 || memcmp(s->cur, a, n * sizeof(*a)) == 0))
		return 0;
	copy = n ? malloc(n * sizeof(*a)) : NULL;
	if (n && !copy) {
		free(s->cur);
		s->cur = NULL;
		s->n_cur = (size_t)-1; /* unknown: refill next time too */
		return 1;
	}
	if (n)
		memcpy(copy, a, n * sizeof(*a));
	free(s->cur);
	s->cur = copy;
	s->n_cur = n;
	return 1;
}

/* Refills the sets whose identity's addresses changed, one transaction per
 * set. Runs once per loop turn however many addresses changed. */
static void enforce_refresh_sets(void *arg)
{
	struct daemon *d = arg;
	char err[512];
	struct nseg_addr *addrs = calloc(ENFORCE_MAX_SET_ADDRS, sizeof(*addrs));

	d->sets_timer = NULL;
	if (!addrs)
		return;
	for (struct nsw *w = d->nsws; w; w = w->next) {
		for (size_t i = 0; i < w->n_sets; i++) {
			struct nft_peer_set s = { .addrs = addrs };

			s.n_addrs = enforce_identity_addrs(
				d, w->sets[i].identity, w->compiled_for, addrs);
			if (!enforce_set_changed(&w->sets[i], addrs, s.n_addrs))
				continue;
			snprintf(s.name, sizeof(s.name), "%s", w->sets[i].name);
			if (nft_enforce_set_update(w->nft, &s, err,
						   sizeof(err)) == -1)
				log_warnx("netns %s: set %s (%s): %s",
					  w->name[0] ? w->name : "(process)",
					  s.name, w->sets[i].identity, err);
			else
				w->tamper.readback = 1;
		}
	}
	free(addrs);
	/* Only then the read-backs, a table dump each: the last namespace's
	 * sets must not wait for every other one's dump. */
	for (struct nsw *w = d->nsws; w; w = w->next) {
		if (!w->tamper.readback)
			continue;
		w->tamper.readback = 0;
		tamper_applied(w);
	}
}

void enforce_check_identity(struct nsw *w)
{
	char wl[NSEG_NAME_MAX], ver[NSEG_VERSION_MAX], err[512];

	attrib_nsw_identity(w->d, w, wl, sizeof(wl), ver, sizeof(ver));
	if (strcmp(wl, w->compiled_for) == 0)
		return;
	/* A container joined (or left): the namespace is now another
	 * workload, with that workload's mode and baseline. */
	if (enforce_compile(w, err, sizeof(err)) == -1)
		log_warnx("netns %s: compiling for %s: %s",
			  w->name[0] ? w->name : "(process)", wl, err);
	enforce_addresses_changed(w->d);
}

void enforce_addresses_changed(struct daemon *d)
{
	if (!d->sets_timer)
		d->sets_timer =
			evloop_timer_add(d->loop, 0, enforce_refresh_sets, d);
}

static int enforce_decide(struct nsw *w, const struct nseg_edge_key *k,
			  const struct enforce_ctx *x, enum policy_mode *mode_out)
{
	struct daemon *d = w->d;
	const struct policy_workload *pw = policy_get(d->policy, k->workload);
	enum policy_mode mode = pw ? pw->mode : POLICY_LEARN;
	struct store_alert *a;
	int rule, created;

	*mode_out = mode;
	if (mode == POLICY_LEARN)
		return NF_ACCEPT;
	rule = policy_match(pw, k);
	if (rule >= 0) {
		usage_add(d->usage, pw->name, &pw->rules[rule], 1, 0,
			  daemon_now());
		return NF_ACCEPT;
	}
	a = alerts_raise(d->alerts, k, x,
			 mode == POLICY_ENFORCE ? "block" : "notify",
			 pw->revision, policy_drift_from(pw, k->version),
			 &created);
	if (x->pkt && capture_mgr_deviation(d->cap, w, a, created, x->p,
					    x->pkt, x->len,
					    mode == POLICY_NOTIFY &&
						    w->mode == POLICY_NOTIFY))
		return NFQUEUE_CAPTURE;
	if (mode != POLICY_ENFORCE)
		return NF_ACCEPT;
	return d->cfg.block_reject && w->mode == POLICY_ENFORCE ? NFQUEUE_REJECT
								: NF_DROP;
}

int enforce_verdict(struct nsw *w, const struct nseg_edge_key *k,
		    const struct enforce_ctx *x)
{
	enum policy_mode mode;
	int v = enforce_decide(w, k, x, &mode);

	/* After the decision: an alert's capture starts with the packets
	 * before this one. A learning workload raises no alert: no copy. */
	if (x->pkt && mode != POLICY_LEARN)
		capture_mgr_queued(w->d->cap, k->workload, x->pkt, x->len);
	return v;
}

struct enforce_counts {
	uint64_t rate_limited;
	uint64_t *edge_pkts, *edge_bytes; /* by policy rule index */
	size_t n_rules;
};

static void enforce_counter_cb(const char *tag, uint64_t packets,
			       uint64_t bytes, void *arg)
{
	struct enforce_counts *c = arg;
	size_t tl = sizeof(NFT_TAG_EDGE) - 1;
	char *end;
	unsigned long i;

	if (strcmp(tag, NFT_TAG_RATELIMIT) == 0) {
		c->rate_limited += packets;
		return;
	}
	if (strncmp(tag, NFT_TAG_EDGE, tl) != 0)
		return;
	i = strtoul(tag + tl, &end, 10);
	if (*end || i >= c->n_rules)
		return;
	/* An edge's v4 and v6 rules add up. */
	c->edge_pkts[i] += packets;
	c->edge_bytes[i] += bytes;
}

/* Hits of the kernel-decided edges since the last poll, into the usage
 * counters (stored with the next flush). */
static void enforce_edge_hits(struct nsw *w, const struct policy_workload *pw,
			      const struct enforce_counts *c)
{
	if (!pw || w->n_edge_seen != pw->n_rules)
		return;
	for (size_t i = 0; i < pw->n_rules; i++) {
		uint64_t p = c->edge_pkts[i], b = c->edge_bytes[i];

		if (p < w->edge_seen[2 * i])
			w->edge_seen[2 * i] = w->edge_seen[2 * i + 1] = 0;
		if (p == w->edge_seen[2 * i])
			continue;
		usage_add(w->d->usage, pw->name, &pw->rules[i],
			  p - w->edge_seen[2 * i], b - w->edge_seen[2 * i + 1],
			  daemon_now());
		w->edge_seen[2 * i] = p;
		w->edge_seen[2 * i + 1] = b;
	}
}

/* One namespace: its rule counters into usage and flood alerts. */
static void enforce_poll_nsw(struct nsw *w)
{
	struct daemon *d = w->d;
	char wl[NSEG_NAME_MAX], ver[NSEG_VERSION_MAX];
	const struct policy_workload *pw;
	struct enforce_counts c = { 0 };

	if (w->mode == POLICY_LEARN)
		return;
	attrib_nsw_identity(d, w, wl, sizeof(wl), ver, sizeof(ver));
	pw = policy_get(d->policy, wl);
	c.n_rules = pw ? pw->n_rules : 0;
	c.edge_pkts = calloc(c.n_rules + 1, sizeof(uint64_t));
	c.edge_bytes = calloc(c.n_rules + 1, sizeof(uint64_t));
	if (!c.edge_pkts || !c.edge_bytes ||
	    nft_counters_read(w->nft, enforce_counter_cb, &c) == -1)
		goto out;
	enforce_edge_hits(w, pw, &c);
	/* A recompiled table starts its counters at zero. */
	if (c.rate_limited < w->rate_limited_seen)
		w->rate_limited_seen = 0;
	if (c.rate_limited != w->rate_limited_seen) {
		alerts_raise_flood(d->alerts, wl, ver,
				   w->mode == POLICY_ENFORCE ? "block" : "notify",
				   c.rate_limited - w->rate_limited_seen,
				   pw ? pw->revision : 0);
		w->rate_limited_seen = c.rate_limited;
	}
out:
	free(c.edge_pkts);
	free(c.edge_bytes);
}

void enforce_poll_counters(struct daemon *d)
{
	for (struct nsw *w = d->nsws; w; w = w->next)
		enforce_poll_nsw(w);
}
