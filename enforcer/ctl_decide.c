/*
 * The operator's decisions, received over the control socket: approving or
 * rejecting edges, switching modes, and reading alerts. Every change is
 * stored first (all or nothing), then the in-memory baseline is reloaded
 * and the workload's tables recompiled.
 */
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/alert_json.h"
#include "nseg/alerts.h"
#include "nseg/ctl.h"
#include "nseg/ctl_server.h"
#include "nseg/daemon.h"
#include "nseg/enforce.h"
#include "nseg/log.h"
#include "nseg/policy.h"
#include "nseg/store.h"
#include "nseg/timefmt.h"

/* At most this many ids in one request. */
#define CTL_DECIDE_MAX_IDS 65536

const char *ctl_workload_arg(struct ctl_conn *c, const json_t *args,
			     const char *cmd)
{
	json_t *jw = json_object_get(args, "workload");

	if (!json_is_string(jw) || json_string_length(jw) == 0 ||
	    json_string_length(jw) >= NSEG_NAME_MAX) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"%s: 'workload' must be a non-empty string", cmd);
		return NULL;
	}
	return json_string_value(jw);
}

void ctl_who(struct ctl_conn *c, char *out, size_t len)
{
	uid_t uid = ctl_conn_uid(c);
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(out, len, "uid %u (%.32s)", (unsigned)uid, pw->pw_name);
	else
		snprintf(out, len, "uid %u", (unsigned)uid);
}

/* Reads "edges": [ids] into a new array (caller frees). */
static int ctl_edge_ids(struct ctl_conn *c, const json_t *args,
			const char *cmd, int64_t **ids, size_t *n)
{
	json_t *je = json_object_get(args, "edges"), *v;
	size_t i;

	*ids = NULL;
	*n = 0;
	if (!json_is_array(je) || json_array_size(je) == 0 ||
	    json_array_size(je) > CTL_DECIDE_MAX_IDS) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"%s: 'edges' must be a list of 1 to %d edge ids",
				cmd, CTL_DECIDE_MAX_IDS);
		return -1;
	}
	*ids = calloc(json_array_size(je), sizeof(**ids));
	if (!*ids) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL, "out of memory");
		return -1;
	}
	json_array_foreach(je, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0) {
			ctl_reply_error(c, NSEG_CTL_E_BADREQ,
					"%s: edge ids are positive integers",
					cmd);
			free(*ids);
			*ids = NULL;
			return -1;
		}
		(*ids)[i] = json_integer_value(v);
	}
	*n = json_array_size(je);
	return 0;
}

void ctl_baseline_reload(struct daemon *d, const char *workload)
{
	if (policy_load(d->policy, d->store, workload) == -1) {
		log_warnx("%s: reloading the baseline failed; tables keep the "
			  "previous one", workload);
		return;
	}
	enforce_workload_changed(d, workload);
}

static void ctl_decide(struct ctl_conn *c, const json_t *args,
		       struct daemon *d, const char *state, const char *cmd)
{
	const char *wl = ctl_workload_arg(c, args, cmd);
	int all = json_is_true(json_object_get(args, "all"));
	int any = json_is_true(json_object_get(args, "any_process"));
	int64_t *ids = NULL, bad = 0, rev = 0;
	uint64_t left = 0;
	size_t n = 0;
	char who[64];
	int changed;
	json_t *rec;

	if (!wl)
		return;
	if (all && strcmp(state, "approved") != 0) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ, "%s: 'all' is for approve",
				cmd);
		return;
	}
	if (!all && ctl_edge_ids(c, args, cmd, &ids, &n) == -1)
		return;
	/* Deviations seen only in notify or enforce mode (blocked attempts
	 * among them) are approved by --all only when asked. */
	if (all && json_is_true(json_object_get(args, "deviations")))
		all = STORE_DECIDE_ALL_DEVIATIONS;
	/* Edges still in memory must be decidable too ("--all"). */
	daemon_flush(d);
	ctl_who(c, who, sizeof(who));
	changed = store_edges_decide(d->store, wl, state, all, ids, n, any,
				     who, daemon_now(), &bad, &rev);
	free(ids);
	if (changed == -1) {
		if (errno == ENOENT && bad)
			ctl_reply_error(c, NSEG_CTL_E_NOTFOUND,
					"%s: edge %lld is not an edge of '%s' "
					"(see 'nsegctl baseline show %s')",
					cmd, (long long)bad, wl, wl);
		else if (errno == ENOENT)
			ctl_reply_error(c, NSEG_CTL_E_NOTFOUND,
					"%s: no workload '%s'", cmd, wl);
		else
			ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
					"%s: database error (see nsegd's log)",
					cmd);
		return;
	}
	if (changed > 0) {
		log_info("%s: %d edges %s by %s (revision %lld)", wl, changed,
			 state, who, (long long)rev);
		ctl_baseline_reload(d, wl);
	}
	rec = json_pack("{s:s, s:i, s:I}", "workload", wl, "changed", changed,
			"revision", (json_int_t)rev);
	if (rec && all == STORE_DECIDE_ALL &&
	    store_edges_deviations(d->store, wl, &left) == 0)
		json_object_set_new(rec, "deviations_left", json_integer(
					    (json_int_t)left));
	ctl_reply_record(c, rec);
	ctl_reply_end(c);
}

static void ctl_approve(struct ctl_conn *c, const json_t *args, void *arg)
{
	ctl_decide(c, args, arg, "approved", "baseline approve");
}

static void ctl_reject(struct ctl_conn *c, const json_t *args, void *arg)
{
	ctl_decide(c, args, arg, "rejected", "baseline reject");
}

static void ctl_mode(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	const char *wl = ctl_workload_arg(c, args, "mode");
	json_t *jm = json_object_get(args, "mode");
	char previous[16] = "";
	char who[64];

	if (!wl)
		return;
	if (!json_is_string(jm) || policy_mode_parse(json_string_value(jm)) < 0) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"mode: 'mode' must be learn, notify or enforce");
		return;
	}
	daemon_flush(d);
	if (store_workload_set_mode(d->store, wl, json_string_value(jm),
				    previous) == -1) {
		if (errno == ENOENT)
			ctl_reply_error(c, NSEG_CTL_E_NOTFOUND,
					"mode: no workload '%s' (see 'nsegctl "
					"workloads')", wl);
		else
			ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
					"mode: database error (see nsegd's log)");
		return;
	}
	ctl_who(c, who, sizeof(who));
	log_info("%s: mode %s -> %s by %s", wl, previous,
		 json_string_value(jm), who);
	ctl_baseline_reload(d, wl);
	ctl_reply_record(c, json_pack("{s:s, s:s, s:s}", "workload", wl, "mode",
				      json_string_value(jm), "previous",
				      previous));
	ctl_reply_end(c);
}

static int ctl_alert_cb(const struct store_alert *a, void *arg)
{
	json_t *j = alert_json(a);

	return j ? ctl_reply_record(arg, j) : -1;
}

static void ctl_alerts(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	json_t *jw = json_object_get(args, "workload");
	json_t *js = json_object_get(args, "since");
	const char *wl = NULL;
	int64_t since = 0;

	if (jw && !(wl = ctl_workload_arg(c, args, "alerts")))
		return;
	if (js && (!json_is_string(js) ||
		   timefmt_parse_rfc3339(json_string_value(js), &since) == -1)) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"alerts: 'since' must be an RFC 3339 time");
		return;
	}
	daemon_flush(d);
	if (store_alerts_foreach(d->store, wl, since, 0, ctl_alert_cb, c) ==
	    -1) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
				"alerts: database error (see nsegd's log)");
		return;
	}
	if (json_is_true(json_object_get(args, "follow")) &&
	    alerts_follow(d->alerts, c, wl) == 0)
		return; /* kept open: alerts_flush() streams the rest */
	ctl_reply_end(c);
}

/* From the OCI hook: the container's table must be in the kernel before
 * we answer, since the runtime starts the container when we do. */
static void ctl_watch_pid(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	json_t *jp = json_object_get(args, "pid");

	if (!json_is_integer(jp) || json_integer_value(jp) <= 0 ||
	    json_integer_value(jp) > 0x3fffffff) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"watch: 'pid' must be a process id");
		return;
	}
	log_debug("hook: watch pid %lld (container %.12s)",
		  (long long)json_integer_value(jp),
		  json_is_string(json_object_get(args, "id"))
			  ? json_string_value(json_object_get(args, "id"))
			  : "?");
	if (discovery_watch_pid(d, (pid_t)json_integer_value(jp)) == -1) {
		ctl_reply_error(c, NSEG_CTL_E_NOTFOUND, "watch: no process %lld",
				(long long)json_integer_value(jp));
		return;
	}
	ctl_reply_end(c);
}

int ctl_decide_register(struct daemon *d)
{
	if (ctl_server_handle(d->ctl, NSEG_CTL_WATCH_PID, ctl_watch_pid, d))
		return -1;
	if (ctl_server_handle(d->ctl, NSEG_CTL_BASELINE_APPROVE, ctl_approve,
			      d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_BASELINE_REJECT, ctl_reject, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_MODE, ctl_mode, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_ALERTS, ctl_alerts, d))
		return -1;
	return 0;
}
