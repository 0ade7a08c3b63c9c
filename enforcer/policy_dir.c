#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/config.h"
#include "nseg/daemon.h"
#include "nseg/log.h"
#include "nseg/policy_check.h"
#include "nseg/policy_dir.h"
#include "nseg/policy_doc.h"
#include "nseg/store.h"
#include "nseg/store_policy.h"

#define POLICY_DIR_WHO "nsegd (policy_dir)"

struct pd_file {
	char path[4096 + NAME_MAX + 2];
	struct policy_doc_set set;
};

struct pd_files {
	struct pd_file *f;
	size_t n;
};

static int pd_is_policy(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	if (de->d_name[0] == '.')
		return 0;
	return (n > 5 && strcmp(de->d_name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(de->d_name + n - 4, ".yml") == 0);
}

static void pd_files_free(struct pd_files *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		policy_doc_set_free(&fs->f[i].set);
	free(fs->f);
}

/* A workload's policy lives in one file: two would fight at each start. */
static void pd_check_unique(const struct pd_files *fs, size_t i,
			    struct policy_doc_diags *dg)
{
	const struct policy_doc_set *s = &fs->f[i].set;

	for (size_t d = 0; d < s->n_docs; d++)
		for (size_t j = 0; j < i; j++)
			for (size_t e = 0; e < fs->f[j].set.n_docs; e++)
				if (strcmp(fs->f[j].set.docs[e].workload,
					   s->docs[d].workload) == 0) {
					policy_doc_diag_add(
						dg, 0,
						"%s:%d:%d: workload '%s' also "
						"has a policy in %s",
						fs->f[i].path,
						s->docs[d].line, s->docs[d].col,
						s->docs[d].workload,
						fs->f[j].path);
					return;
				}
}

/* Loads and checks every file; every message goes to dg. s NULL: no
 * database to ask whether peers exist. */
static int pd_load(const struct config *cfg, struct store *s,
		   struct pd_files *fs, struct policy_doc_diags *dg, char *err,
		   size_t errlen)
{
	struct dirent **names = NULL;
	int n = scandir(cfg->policy_dir, &names, pd_is_policy, alphasort);

	if (n < 0) {
		snprintf(err, errlen, "policy_dir %s: %s", cfg->policy_dir,
			 strerror(errno));
		return -1;
	}
	fs->f = calloc((size_t)n + 1, sizeof(*fs->f));
	for (int i = 0; i < n; i++) {
		struct pd_file *f = fs->f ? &fs->f[fs->n] : NULL;

		if (f) {
			snprintf(f->path, sizeof(f->path), "%s/%s",
				 cfg->policy_dir, names[i]->d_name);
			fs->n++;
			if (policy_doc_load_file(f->path, &f->set, dg) == 0) {
				policy_check(&f->set, f->path, s, cfg, dg);
				pd_check_unique(fs, fs->n - 1, dg);
			}
		}
		free(names[i]);
	}
	free(names);
	if (!fs->f) {
		snprintf(err, errlen, "policy_dir: out of memory");
		return -1;
	}
	return 0;
}

static int pd_log_change(const struct store_policy_change *c, void *arg)
{
	static const char *const verbs[] = {
		[STORE_POLICY_ADD] = "approves",
		[STORE_POLICY_REMOVE] = "withdraws",
	};
	const char *file = arg;

	if (c->edge)
		log_info("%s: %s %s %s %s/%u from %s", file, verbs[c->kind],
			 c->workload, nseg_dir_name(c->edge->key.dir),
			 nseg_proto_name(c->edge->key.proto)
				 ? nseg_proto_name(c->edge->key.proto)
				 : "?",
			 c->edge->key.port, c->edge->key.peer);
	else
		log_info("%s: %s %s: %s -> %s", file, c->workload,
			 c->kind == STORE_POLICY_MODE ? "mode" : "learn_window",
			 c->from[0] ? c->from : "default", c->to);
	return 0;
}

static int pd_store(struct daemon *d, const struct pd_files *fs)
{
	int changes = 0;

	if (store_begin(d->store) == -1)
		return -1;
	for (size_t i = 0; i < fs->n; i++) {
		int rc = store_policy_apply_set(d->store, &fs->f[i].set,
						fs->f[i].path, POLICY_DIR_WHO,
						daemon_now(), pd_log_change,
						fs->f[i].path);
		if (rc == -1) {
			store_rollback(d->store);
			return -1;
		}
		changes += rc;
	}
	if (store_commit(d->store) == -1) {
		store_rollback(d->store);
		return -1;
	}
	return changes;
}

static void pd_errors(const struct config *cfg,
		      const struct policy_doc_diags *dg, char *err,
		      size_t errlen)
{
	snprintf(err, errlen, "policy_dir %s: %zu error%s; no policy applied",
		 cfg->policy_dir, dg->n_errors, dg->n_errors == 1 ? "" : "s");
}

int policy_dir_check(const struct config *cfg, FILE *out, char *err,
		     size_t errlen)
{
	struct policy_doc_diags dg = { 0 };
	struct pd_files fs = { 0 };
	int ret = -1;

	if (!cfg->policy_dir[0])
		return 0;
	if (pd_load(cfg, NULL, &fs, &dg, err, errlen) == -1)
		goto out;
	for (size_t i = 0; i < dg.n; i++)
		fprintf(out, "%s%s\n", dg.items[i].warning ? "warning: " : "",
			dg.items[i].msg);
	if (dg.n_errors)
		pd_errors(cfg, &dg, err, errlen);
	else
		ret = 0;
out:
	pd_files_free(&fs);
	policy_doc_diags_free(&dg);
	return ret;
}

int policy_dir_apply(struct daemon *d, char *err, size_t errlen)
{
	struct policy_doc_diags dg = { 0 };
	struct pd_files fs = { 0 };
	int ret = -1;

	if (!d->cfg.policy_dir[0])
		return 0;
	if (pd_load(&d->cfg, d->store, &fs, &dg, err, errlen) == -1)
		goto out;
	for (size_t i = 0; i < dg.n; i++)
		log_warnx("%s%s", dg.items[i].warning ? "warning: " : "",
			  dg.items[i].msg);
	if (dg.n_errors) {
		pd_errors(&d->cfg, &dg, err, errlen);
		goto out;
	}
	daemon_flush(d);
	ret = pd_store(d, &fs);
	if (ret == -1)
		snprintf(err, errlen,
			 "policy_dir %s: database error; no policy applied",
			 d->cfg.policy_dir);
	else
		log_info("policy_dir %s: %zu files, %d changes",
			 d->cfg.policy_dir, fs.n, ret);
out:
	pd_files_free(&fs);
	policy_doc_diags_free(&dg);
	return ret;
}
