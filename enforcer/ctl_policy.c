/*
 * Policies as code over the control socket: applying a policy file (the
 * CLI sends its text; nsegd never opens a path a client names), exporting
 * a baseline as YAML or as a Kubernetes NetworkPolicy, and the diff
 * between two versions of a baseline.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/ctl.h"
#include "nseg/ctl_server.h"
#include "nseg/daemon.h"
#include "nseg/edge_diff.h"
#include "nseg/edge_json.h"
#include "nseg/log.h"
#include "nseg/policy_check.h"
#include "nseg/policy_doc.h"
#include "nseg/store.h"
#include "nseg/store_policy.h"
#include "nseg/timefmt.h"

struct cp_apply {
	struct ctl_conn *c;
	size_t added, removed, settings;
};

static int cp_diag_records(struct ctl_conn *c,
			   const struct policy_doc_diags *dg)
{
	for (size_t i = 0; i < dg->n; i++)
		if (ctl_reply_record(c, json_pack("{s:{s:s, s:s}}", "diagnostic",
						  "severity",
						  dg->items[i].warning
							  ? "warning"
							  : "error",
						  "message",
						  dg->items[i].msg)) == -1)
			return -1;
	return 0;
}

static const char *const cp_change_names[] = {
	[STORE_POLICY_ADD] = "add",
	[STORE_POLICY_REMOVE] = "remove",
	[STORE_POLICY_MODE] = "mode",
	[STORE_POLICY_WINDOW] = "learn_window",
};

static int cp_change(const struct store_policy_change *ch, void *arg)
{
	struct cp_apply *x = arg;
	json_t *rec = json_pack("{s:s, s:s}", "change",
				cp_change_names[ch->kind], "workload",
				ch->workload);

	if (!rec)
		return -1;
	if (ch->edge) {
		json_t *e = edge_json(ch->edge);

		if (!e || json_object_set_new(rec, "edge", e) == -1) {
			json_decref(rec);
			return -1;
		}
		*(ch->kind == STORE_POLICY_ADD ? &x->added : &x->removed) += 1;
	} else {
		json_object_set_new(rec, "from", json_string(ch->from));
		json_object_set_new(rec, "to", json_string(ch->to));
		x->settings++;
	}
	return ctl_reply_record(x->c, rec) == -1 ? -1 : 0;
}

static void cp_reload_all(struct daemon *d, const struct policy_doc_set *set)
{
	for (size_t i = 0; i < set->n_docs; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (strcmp(set->docs[j].workload,
				   set->docs[i].workload) == 0)
				break;
		if (j == i)
			ctl_baseline_reload(d, set->docs[i].workload);
	}
}

/* Loads and checks the text: diagnostics go to the client as records.
 * Returns 0 with *set filled, or -1 after replying. */
static int cp_load(struct ctl_conn *c, struct daemon *d, const char *file,
		   const char *text, size_t len, struct policy_doc_set *set,
		   size_t *warnings)
{
	struct policy_doc_diags dg = { 0 };
	int rc = policy_doc_parse(file, text, len, set, &dg);

	if (rc == 0)
		rc = policy_check(set, file, d->store, &d->cfg, &dg);
	*warnings = dg.n - dg.n_errors;
	if (cp_diag_records(c, &dg) == -1)
		rc = -1;
	if (rc == -1)
		ctl_reply_error(c, NSEG_CTL_E_INVALID,
				"%s: %zu error%s; nothing applied", file,
				dg.n_errors, dg.n_errors == 1 ? "" : "s");
	policy_doc_diags_free(&dg);
	return rc;
}

static void cp_apply(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	json_t *jf = json_object_get(args, "file");
	json_t *jt = json_object_get(args, "text");
	int dry = json_is_true(json_object_get(args, "dry_run"));
	struct policy_doc_set set = { 0 };
	struct cp_apply x = { .c = c };
	size_t warnings = 0;
	const char *file;
	char who[64];

	if (!json_is_string(jf) || json_string_length(jf) == 0 ||
	    json_string_length(jf) >= NSEG_NAME_MAX || !json_is_string(jt)) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"policy apply: 'file' (a name) and 'text' (the "
				"YAML) are required");
		return;
	}
	file = json_string_value(jf);
	if (cp_load(c, d, file, json_string_value(jt), json_string_length(jt),
		    &set, &warnings) == -1)
		goto out;
	ctl_who(c, who, sizeof(who));
	daemon_flush(d);
	if (store_begin(d->store) == -1 ||
	    store_policy_apply_set(d->store, &set, file, who, daemon_now(),
				   cp_change, &x) == -1 ||
	    (!dry && store_commit(d->store) == -1)) {
		store_rollback(d->store);
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
				"policy apply: %s: nothing applied (database "
				"error, see nsegd's log)",
				file);
		goto out;
	}
	if (dry) {
		store_rollback(d->store);
	} else {
		log_info("policy %s applied by %s: %zu workloads, %zu edges "
			 "approved, %zu withdrawn, %zu settings changed",
			 file, who, set.n_docs, x.added, x.removed, x.settings);
		cp_reload_all(d, &set);
	}
	ctl_reply_record(c, json_pack("{s:{s:s, s:b, s:I, s:I, s:I, s:I}}",
				      "summary", "file", file, "dry_run", dry,
				      "added", (json_int_t)x.added, "removed",
				      (json_int_t)x.removed, "settings",
				      (json_int_t)x.settings, "warnings",
				      (json_int_t)warnings));
	ctl_reply_end(c);
out:
	policy_doc_set_free(&set);
}

static int cp_write(FILE *f, const struct policy_doc *doc, int k8s)
{
	char now[TIMEFMT_RFC3339_LEN], comment[512];

	if (k8s)
		return policy_doc_write_k8s(f, doc);
	if (timefmt_rfc3339(daemon_now(), now, sizeof(now)) == -1)
		now[0] = '\0';
	snprintf(comment, sizeof(comment),
		 "nseg policy for %s, exported %s by nsegd.\n"
		 "Apply with: nsegctl policy apply FILE (--dry-run first).",
		 doc->workload, now);
	return policy_doc_write(f, doc, comment);
}

static void cp_export(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	const char *wl = ctl_workload_arg(c, args, "policy export");
	json_t *jv = json_object_get(args, "version");
	json_t *js = json_object_get(args, "state");
	json_t *jfmt = json_object_get(args, "format");
	int learned = 0, k8s = 0;
	struct policy_doc doc;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!wl)
		return;
	if ((jv && (!json_is_string(jv) || json_string_length(jv) == 0 ||
		    json_string_length(jv) >= NSEG_VERSION_MAX)) ||
	    (js && !json_is_string(js)) || (jfmt && !json_is_string(jfmt))) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"policy export: bad 'version', 'state' or "
				"'format'");
		return;
	}
	if (js && !(learned = strcmp(json_string_value(js), "learned") == 0) &&
	    strcmp(json_string_value(js), "approved") != 0) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"policy export: state is approved or learned");
		return;
	}
	if (jfmt && !(k8s = strcmp(json_string_value(jfmt), "k8s") == 0) &&
	    strcmp(json_string_value(jfmt), "yaml") != 0) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"policy export: format is yaml or k8s");
		return;
	}
	daemon_flush(d);
	if (store_policy_export(d->store, wl,
				jv ? json_string_value(jv) : NULL, learned,
				&doc) == -1) {
		ctl_reply_error(c, errno == ENOENT ? NSEG_CTL_E_NOTFOUND
						   : NSEG_CTL_E_INTERNAL,
				errno == ENOENT ? "policy export: no workload '%s'"
						: "policy export: %s: cannot "
						  "read the baseline (see "
						  "nsegd's log)",
				wl);
		return;
	}
	if ((f = open_memstream(&text, &len)) != NULL) {
		int bad = cp_write(f, &doc, k8s) == -1;

		if (fclose(f) != 0 || bad) {
			free(text);
			text = NULL;
		}
	}
	if (!text) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
				"policy export: %s: cannot write the policy",
				wl);
	} else {
		ctl_reply_record(c, json_pack("{s:s, s:s%}", "workload", wl,
					      "text", text, len));
		ctl_reply_end(c);
	}
	free(text);
	policy_doc_clear(&doc);
}

struct cp_edges {
	struct store_edge *e;
	size_t n, cap;
	const char *state;  /* only edges in this state; NULL: all */
	const char *origin; /* only edges of this origin; NULL: all */
};

static int cp_edge_push(const struct store_edge *e, void *arg)
{
	struct cp_edges *x = arg;

	if ((x->state && strcmp(e->state, x->state) != 0) ||
	    (x->origin && strcmp(e->origin, x->origin) != 0))
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct store_edge *ne = realloc(x->e, cap * sizeof(*ne));

		if (!ne)
			return -1;
		x->e = ne;
		x->cap = cap;
	}
	x->e[x->n++] = *e;
	return 0;
}

/* One side of a diff: "W@V" (that version's edges, any state), W's
 * approved edges, or what W was seen doing (every learned edge, in any
 * state). Returns 0, or -1 after replying. */
static int cp_side(struct ctl_conn *c, struct daemon *d, const char *wl,
		   const char *version, const char *state,
		   struct cp_edges *out)
{
	int found = 0;

	if (state && strcmp(state, STORE_ORIGIN_LEARNED) == 0)
		out->origin = STORE_ORIGIN_LEARNED;
	else
		out->state = state;
	if (store_edges_foreach(d->store, wl, version, &found, cp_edge_push,
				out) == -1) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
				"diff: cannot read %s (see nsegd's log)", wl);
		return -1;
	}
	if (!found) {
		ctl_reply_error(c, NSEG_CTL_E_NOTFOUND, "diff: no workload '%s'",
				wl);
		return -1;
	}
	if (version && out->n == 0) {
		ctl_reply_error(c, NSEG_CTL_E_NOTFOUND,
				"diff: %s has no edges of version '%s' (see "
				"'nsegctl workloads')",
				wl, version);
		return -1;
	}
	return 0;
}

static const char *cp_str(const json_t *o, const char *key, size_t max)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= max)
		return NULL;
	return json_string_value(v);
}

/* {"a":{"workload":W,"version":V}, "b":{...}} or {"workload":W,
 * "learned":true}: the approved baseline against what W was seen doing:
 * "added" is traffic nobody approved, "removed" approvals never used. */
static int cp_diff_sides(struct ctl_conn *c, struct daemon *d,
			 const json_t *args, struct cp_edges *a,
			 struct cp_edges *b, char *la, char *lb, size_t len)
{
	json_t *ja = json_object_get(args, "a"), *jb = json_object_get(args, "b");
	const char *wa, *va, *wb, *vb, *wl;

	if (json_is_true(json_object_get(args, "learned"))) {
		if (!(wl = ctl_workload_arg(c, args, "diff")))
			return -1;
		snprintf(la, len, "%s (approved)", wl);
		snprintf(lb, len, "%s (learned)", wl);
		return cp_side(c, d, wl, NULL, "approved", a) == -1 ||
				       cp_side(c, d, wl, NULL, "learned", b) == -1
			       ? -1
			       : 0;
	}
	wa = cp_str(ja, "workload", NSEG_NAME_MAX);
	va = cp_str(ja, "version", NSEG_VERSION_MAX);
	wb = cp_str(jb, "workload", NSEG_NAME_MAX);
	vb = cp_str(jb, "version", NSEG_VERSION_MAX);
	if (!wa || !va || !wb || !vb) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"diff: 'a' and 'b' each need a workload and a "
				"version, or give 'workload' and 'learned'");
		return -1;
	}
	snprintf(la, len, "%s@%s", wa, va);
	snprintf(lb, len, "%s@%s", wb, vb);
	if (cp_side(c, d, wa, va, NULL, a) == -1 ||
	    cp_side(c, d, wb, vb, NULL, b) == -1)
		return -1;
	return 0;
}

static void cp_diff(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	struct cp_edges a = { 0 }, b = { 0 };
	char la[NSEG_NAME_MAX + NSEG_VERSION_MAX + 16];
	char lb[sizeof(la)];
	struct edge_diff *diff = NULL;
	json_t *j = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	daemon_flush(d);
	if (cp_diff_sides(c, d, args, &a, &b, la, lb, sizeof(la)) == -1)
		goto out;
	diff = edge_diff_compute(a.e, a.n, b.e, b.n);
	j = diff ? edge_diff_json(diff, la, lb) : NULL;
	if (j && (f = open_memstream(&text, &len)) != NULL) {
		int bad = edge_diff_write_text(f, diff, la, lb) == -1;

		if (fclose(f) != 0 || bad) {
			free(text);
			text = NULL;
		}
	}
	if (!text) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL, "diff: out of memory");
		goto out;
	}
	ctl_reply_record(c, json_pack("{s:O, s:s%}", "diff", j, "text", text,
				      len));
	ctl_reply_end(c);
out:
	json_decref(j);
	free(text);
	edge_diff_free(diff);
	free(a.e);
	free(b.e);
}

int ctl_policy_register(struct daemon *d)
{
	if (ctl_server_handle(d->ctl, NSEG_CTL_POLICY_APPLY, cp_apply, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_POLICY_EXPORT, cp_export, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_DIFF, cp_diff, d))
		return -1;
	return 0;
}
