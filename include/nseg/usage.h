/*
 * How often approved edges are used, on their way to SQLite: counted in
 * memory (from userspace verdicts and the kernel's rule counters) and
 * written with the next flush, so `baseline show` can tell stale edges.
 */
#ifndef NSEG_USAGE_H
#define NSEG_USAGE_H

#include <stdint.h>

struct usage;
struct store;
struct policy_rule;

/* Caller owns the result. */
struct usage *usage_new(void);
void usage_free(struct usage *u);
/* hits new connections (bytes of their first packets) on rule r of
 * workload, the last at when. */
void usage_add(struct usage *u, const char *workload,
	       const struct policy_rule *r, uint64_t hits, uint64_t bytes,
	       int64_t when);
/* Writes what is pending in one transaction; kept on failure. */
int usage_flush(struct usage *u, struct store *s);

#endif
