/*
 * Learn-then-enforce: a workload learns for its learning window (from the
 * moment it was first seen), then its learned edges are approved and it
 * is enforced (auto_approve: true), or it moves to notify and waits for an
 * operator (the default: nothing gets blocked that nobody reviewed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/daemon.h"
#include "nseg/enforce.h"
#include "nseg/evloop.h"
#include "nseg/learn_window.h"
#include "nseg/log.h"
#include "nseg/policy.h"
#include "nseg/store.h"

#define LEARN_WINDOW_CHECK_MS 5000

struct lw_due {
	const struct daemon *d;
	char (*names)[NSEG_NAME_MAX];
	size_t n, cap;
};

static int lw_collect(const struct store_workload *w, void *arg)
{
	struct lw_due *x = arg;

	if (learn_window_left(x->d, w) != 0)
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		void *p = realloc(x->names, cap * sizeof(*x->names));
		if (!p)
			return -1;
		x->names = p;
		x->cap = cap;
	}
	snprintf(x->names[x->n++], NSEG_NAME_MAX, "%s", w->name);
	return 0;
}

static void lw_transition(struct daemon *d, const char *wl)
{
	const char *mode = d->cfg.auto_approve ? "enforce" : "notify";
	int64_t rev = 0;
	int n = 0;

	if (d->cfg.auto_approve) {
		n = store_edges_decide(d->store, wl, "approved", 1, NULL, 0, 0,
				       "nsegd (learning window)", daemon_now(),
				       NULL, &rev);
		if (n < 0) {
			log_warnx("%s: approving at the end of the learning "
				  "window failed; it keeps learning", wl);
			return;
		}
	}
	if (store_workload_set_mode(d->store, wl, mode, NULL) == -1) {
		log_warnx("%s: switching to %s failed; it keeps learning", wl,
			  mode);
		return;
	}
	if (d->cfg.auto_approve)
		log_info("%s: learning window over: %d edges approved "
			 "(revision %lld), now enforced", wl, n, (long long)rev);
	else
		log_info("%s: learning window over: now notify; approve its "
			 "baseline to enforce it", wl);
	if (policy_load(d->policy, d->store, wl) == 0)
		enforce_workload_changed(d, wl);
}

/* Often enough that a short window (tests, demos) ends on time. */
static uint64_t lw_interval(const struct daemon *d)
{
	uint64_t half = d->cfg.learn_window_ms / 2;

	if (half < 200)
		return 200;
	return half < LEARN_WINDOW_CHECK_MS ? half : LEARN_WINDOW_CHECK_MS;
}

static void lw_check(void *arg)
{
	struct daemon *d = arg;
	struct lw_due x = { .d = d };

	d->lw_timer = evloop_timer_add(d->loop, lw_interval(d), lw_check, d);
	/* Edges still in memory belong to the baseline being approved. */
	daemon_flush(d);
	if (store_workloads_foreach(d->store, lw_collect, &x) == -1) {
		free(x.names);
		return;
	}
	for (size_t i = 0; i < x.n; i++)
		lw_transition(d, x.names[i]);
	free(x.names);
}

int learn_window_start(struct daemon *d)
{
	if (!d->cfg.learn_then_enforce)
		return 0;
	log_info("learn-then-enforce: learning window %us, then %s",
		 d->cfg.learn_window_ms / 1000,
		 d->cfg.auto_approve ? "approve and enforce" : "notify");
	lw_check(d);
	return d->lw_timer ? 0 : -1;
}

void learn_window_stop(struct daemon *d)
{
	if (d->lw_timer)
		evloop_timer_cancel(d->loop, d->lw_timer);
	d->lw_timer = NULL;
}

int64_t learn_window_left(const struct daemon *d,
			  const struct store_workload *w)
{
	int64_t ms = w->learn_window_ms > 0 ? w->learn_window_ms
					    : (int64_t)d->cfg.learn_window_ms;
	int64_t left;

	if (!d->cfg.learn_then_enforce || strcmp(w->mode, "learn") != 0)
		return -1;
	left = w->created + ms / 1000 - daemon_now();
	return left > 0 ? left : 0;
}
