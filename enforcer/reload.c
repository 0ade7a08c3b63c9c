/*
 * SIGHUP: read the configuration file again. It is parsed into a new
 * config (with the command line's overrides applied again); if that fails
 * the daemon keeps running on the old one and says why. What can change at
 * run time is applied; what cannot (paths, sockets, the queue number, the
 * namespaces in scope) is reported and needs a restart.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nseg/alerts.h"
#include "nseg/config.h"
#include "nseg/daemon.h"
#include "nseg/enforce.h"
#include "nseg/log.h"
#include "nseg/policy.h"
#include "nseg/policy_dir.h"
#include "nseg/reload.h"

static int reload_same_list(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

/* Settings read once at start: a change is reported, not applied. */
static void reload_fixed(const struct config *old, const struct config *nw)
{
	static const char *const hint = "restart nsegd to apply it";

	if (strcmp(old->db_path, nw->db_path))
		log_warnx("reload: db changed: %s", hint);
	if (strcmp(old->socket_path, nw->socket_path) ||
	    strcmp(old->socket_group, nw->socket_group))
		log_warnx("reload: socket changed: %s", hint);
	if (old->queue_num != nw->queue_num ||
	    old->queue_maxlen != nw->queue_maxlen ||
	    old->copy_range != nw->copy_range)
		log_warnx("reload: queue settings changed: %s", hint);
	if (old->host != nw->host ||
	    !reload_same_list(old->netns, old->n_netns, nw->netns,
			      nw->n_netns) ||
	    !reload_same_list(old->cgroups, old->n_cgroups, nw->cgroups,
			      nw->n_cgroups))
		log_warnx("reload: namespaces in scope changed: %s", hint);
	if (strcmp(old->podman_storage, nw->podman_storage) ||
	    strcmp(old->runc_state, nw->runc_state) ||
	    strcmp(old->docker_root, nw->docker_root) ||
	    strcmp(old->containerd_state, nw->containerd_state))
		log_warnx("reload: runtime paths changed: %s", hint);
}

/* Keeps the fixed settings of old in nw, so the running state and the
 * config always agree. */
static void reload_keep_fixed(struct config *nw, const struct config *old)
{
	memcpy(nw->db_path, old->db_path, sizeof(nw->db_path));
	memcpy(nw->socket_path, old->socket_path, sizeof(nw->socket_path));
	memcpy(nw->socket_group, old->socket_group, sizeof(nw->socket_group));
	nw->queue_num = old->queue_num;
	nw->queue_maxlen = old->queue_maxlen;
	nw->copy_range = old->copy_range;
	nw->host = old->host;
	memcpy(nw->podman_storage, old->podman_storage,
	       sizeof(nw->podman_storage));
	memcpy(nw->runc_state, old->runc_state, sizeof(nw->runc_state));
	memcpy(nw->docker_root, old->docker_root, sizeof(nw->docker_root));
	memcpy(nw->containerd_state, old->containerd_state,
	       sizeof(nw->containerd_state));
}

/* The scope lists in force move to nw; d->cfg (about to be freed) takes
 * the new ones. */
static void reload_swap_scope(struct config *nw, struct config *old)
{
	char **l;
	size_t n;

	l = nw->netns, n = nw->n_netns;
	nw->netns = old->netns, nw->n_netns = old->n_netns;
	old->netns = l, old->n_netns = n;
	l = nw->cgroups, n = nw->n_cgroups;
	nw->cgroups = old->cgroups, nw->n_cgroups = old->n_cgroups;
	old->cgroups = l, old->n_cgroups = n;
}

static int reload_tables_differ(const struct config *a, const struct config *b)
{
	if (a->fail_open != b->fail_open || a->queue_rate != b->queue_rate ||
	    a->block_reject != b->block_reject ||
	    a->queue_burst != b->queue_burst ||
	    a->n_networks != b->n_networks)
		return 1;
	return a->n_networks &&
	       memcmp(a->networks, b->networks,
		      a->n_networks * sizeof(*a->networks)) != 0;
}

int reload_config(struct daemon *d)
{
	struct config nw;
	char err[1024];
	int retable, changes;

	config_init_defaults(&nw);
	if (d->config_path[0] &&
	    config_load_file(&nw, d->config_path, err, sizeof(err)) == -1 &&
	    (d->config_required || errno != ENOENT)) {
		log_warnx("reload: %s; keeping the running configuration", err);
		config_free(&nw);
		return -1;
	}
	if (d->apply_overrides && d->apply_overrides(&nw, d->overrides) == -1) {
		log_warnx("reload: command-line options no longer apply; "
			  "keeping the running configuration");
		config_free(&nw);
		return -1;
	}
	reload_fixed(&d->cfg, &nw);
	reload_keep_fixed(&nw, &d->cfg);
	retable = reload_tables_differ(&d->cfg, &nw);
	reload_swap_scope(&nw, &d->cfg);
	config_free(&d->cfg);
	d->cfg = nw;
	log_set_level(d->cfg.log_level);
	alerts_configure(d->alerts, d->cfg.alerts_file,
			 d->cfg.alert_window_ms / 1000);
	changes = policy_dir_apply(d, err, sizeof(err));
	if (changes == -1)
		log_warnx("reload: %s; the baselines stay as they were", err);
	else if (changes > 0 && policy_load_all(d->policy, d->store) == 0)
		retable = 1;
	if (retable)
		enforce_workload_changed(d, NULL);
	log_info("reload: configuration applied%s",
		 retable ? " (tables recompiled)" : "");
	return 0;
}
