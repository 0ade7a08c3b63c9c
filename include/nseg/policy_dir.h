/*
 * Policies kept as files on the host: every *.yaml and *.yml file of the
 * config's policy_dir is applied when nsegd starts and on SIGHUP, all
 * files in one transaction: one error anywhere (all are logged, with
 * file:line:col) and nothing changes.
 */
#ifndef NSEG_POLICY_DIR_H
#define NSEG_POLICY_DIR_H

#include <stddef.h>

struct daemon;

/*
 * Applies d->cfg.policy_dir to the store (nothing when it is ""). The
 * in-memory baselines are not reloaded: the caller does that. Returns
 * the number of changes, or -1 with a one-line reason in err.
 */
int policy_dir_apply(struct daemon *d, char *err, size_t errlen);

#endif
