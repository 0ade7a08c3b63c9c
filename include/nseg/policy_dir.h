/*
 * Policies kept as files on the host: every *.yaml and *.yml file of the
 * config's policy_dir is applied when nsegd starts and on SIGHUP, all
 * files in one transaction: one error anywhere (all are logged, with
 * file:line:col) and nothing changes.
 */
#ifndef NSEG_POLICY_DIR_H
#define NSEG_POLICY_DIR_H

#include <stddef.h>

#include <stdio.h>

struct daemon;
struct config;

/* nsegd -n: loads and checks cfg's policy_dir without a database (peer
 * workloads are not looked up), printing every message on out. Returns
 * 0, or -1 with a one-line reason in err. */
int policy_dir_check(const struct config *cfg, FILE *out, char *err,
		     size_t errlen);

/*
 * Applies d->cfg.policy_dir to the store (nothing when it is ""). The
 * in-memory baselines are not reloaded: the caller does that. Returns
 * the number of changes, or -1 with a one-line reason in err.
 */
int policy_dir_apply(struct daemon *d, char *err, size_t errlen);

#endif
