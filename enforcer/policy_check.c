#include <errno.h>
#include <string.h>

#include "nseg/config.h"
#include "nseg/pkt.h"
#include "nseg/policy_check.h"
#include "nseg/store.h"

static int pc_network_known(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_networks; i++)
		if (strcmp(cfg->networks[i].name, name) == 0)
			return 1;
	return 0;
}

/* 1 when the workload is in the store, 0 when not, -1 on error. */
static int pc_workload_known(struct store *s, const char *name)
{
	char mode[16];
	int64_t rev;

	if (store_workload_get(s, name, mode, &rev) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

static int pc_rule(const struct policy_doc_rule *r, const char *file,
		   struct store *s, const struct config *cfg,
		   struct policy_doc_diags *dg)
{
	struct nseg_cidr c;
	const char *why;

	if (strcmp(r->peer, "host") == 0)
		return 0;
	if (strncmp(r->peer, "external:", 9) == 0) {
		if (pkt_cidr_parse(r->peer + 9, &c, &why) == 0 ||
		    pc_network_known(cfg, r->peer + 9))
			return 0;
		policy_doc_diag_add(dg, 0,
				    "%s:%d:%d: peer '%s': nsegd's config "
				    "names no network '%s' (networks:)",
				    file, r->line, r->col, r->peer,
				    r->peer + 9);
		return -1;
	}
	if (!s)
		return 0;
	switch (pc_workload_known(s, r->peer)) {
	case 1:
		return 0;
	case 0:
		policy_doc_diag_add(dg, 1,
				    "%s:%d:%d: peer '%s' is no workload nsegd "
				    "has seen yet: the rule applies once it "
				    "runs here",
				    file, r->line, r->col, r->peer);
		return 0;
	default:
		policy_doc_diag_add(dg, 0, "%s: cannot read the database",
				    file);
		return -1;
	}
}

int policy_check(const struct policy_doc_set *set, const char *file,
		 struct store *s, const struct config *cfg,
		 struct policy_doc_diags *diags)
{
	int ret = 0;

	for (size_t d = 0; d < set->n_docs; d++) {
		const struct policy_doc *doc = &set->docs[d];

		for (size_t i = 0; i < doc->n_rules; i++) {
			const struct policy_doc_rule *r = &doc->rules[i];

			/* A port list made several rules of one: one word. */
			if (i > 0 && r->line == doc->rules[i - 1].line &&
			    r->col == doc->rules[i - 1].col)
				continue;
			if (pc_rule(r, file, s, cfg, diags) == -1)
				ret = -1;
		}
	}
	return ret;
}
