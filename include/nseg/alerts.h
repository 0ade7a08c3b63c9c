/*
 * Deviations become alerts: deduplicated (the same deviation within the
 * window is one alert whose count grows), stored in SQLite, appended to a
 * JSON-lines file, logged, and pushed to `nsegctl alerts --follow`.
 *
 * Raising costs no I/O: alerts are kept in memory and written by
 * alerts_flush() on the daemon's flush timer, like learned edges.
 */
#ifndef NSEG_ALERTS_H
#define NSEG_ALERTS_H

#include <stdint.h>

#include "nseg/edge.h"

struct alerts;
struct store;
struct ctl_conn;
struct enforce_ctx;

/* path: the JSON-lines file ("" for none); window_s: dedup window.
 * Caller owns the result. */
struct alerts *alerts_new(const char *path, uint32_t window_s);
void alerts_free(struct alerts *a);
/* At start: the alerts of s whose window is still open, so that a
 * deviation seen again after a restart counts into its alert instead of
 * opening a second one. Returns 0 or -1 (errno). */
int alerts_load(struct alerts *a, struct store *s);
/* New file and window (SIGHUP); open alerts keep counting. */
void alerts_configure(struct alerts *a, const char *path, uint32_t window_s);

/*
 * A deviation from k's workload's baseline (revision). drift_from, when
 * not NULL, is the version that baseline was approved for: k's version
 * inherited it, and the alert is a "drift" naming both. Returns the alert
 * it counted into (*created: a new one, not stored yet, whose pcap the
 * caller may still set), valid until the next call into a; NULL when it
 * went into the workload's flood alert or could not be kept.
 */
struct store_alert *alerts_raise(struct alerts *a,
				 const struct nseg_edge_key *k,
				 const struct enforce_ctx *x, const char *action,
				 int64_t revision, const char *drift_from,
				 int *created);
/* Counts n connections a workload made beyond its limits (the kernel's
 * rate limit, or past the distinct-alert cap) in its one "flood" alert. */
void alerts_raise_flood(struct alerts *a, const char *workload,
			const char *version, const char *action, uint64_t n,
			int64_t revision);
/* Someone else changed a table of workload's (tamper.h): one more in its
 * "tamper" alert (peer "*"). action: the namespace's mode, "block"
 * (enforce) or "notify". */
void alerts_raise_tamper(struct alerts *a, const char *workload,
			 const char *version, const char *action,
			 int64_t revision);
/* Writes new alerts and count updates: SQLite (one transaction), the
 * JSON-lines file, syslog, followers. Returns 0, or -1 (kept for the next
 * try) when the database refused. */
int alerts_flush(struct alerts *a, struct store *s);

/* Streams every alert written from now on (of workload, if not NULL) to
 * c, until the client goes away. */
int alerts_follow(struct alerts *a, struct ctl_conn *c, const char *workload);

struct alerts_stats {
	uint64_t raised, deduplicated, written, write_errors, dropped;
};
void alerts_get_stats(const struct alerts *a, struct alerts_stats *out);
/* Alerts with something the database does not hold yet (new ones, and
 * counts raised since the last write). */
size_t alerts_pending(const struct alerts *a);

#endif
