/*
 * Captures over the control socket: starting and stopping a capture of a
 * workload's namespaces (capture_mgr.h), and listing and showing the
 * captures the store knows, alerts' included.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "nseg/capture_json.h"
#include "nseg/capture_mgr.h"
#include "nseg/ctl.h"
#include "nseg/ctl_server.h"
#include "nseg/daemon.h"
#include "nseg/store_capture.h"

static int cc_record(const struct store_capture *c, void *arg)
{
	json_t *j = capture_json(c);

	return j ? ctl_reply_record(arg, j) : -1;
}

static void cc_list(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	const char *wl = NULL;

	if (json_object_get(args, "workload") &&
	    !(wl = ctl_workload_arg(c, args, "capture list")))
		return;
	daemon_flush(d);
	capture_mgr_sync(d->cap);
	if (store_captures_foreach(d->store, wl, cc_record, c) == -1) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
				"capture list: database error (see nsegd's "
				"log)");
		return;
	}
	ctl_reply_end(c);
}

/* {"id":N} or {"alert":N}: a positive integer, else 0 after replying. */
static json_int_t cc_id(struct ctl_conn *c, const json_t *args,
			const char *key, const char *cmd)
{
	json_t *v = json_object_get(args, key);

	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"%s: '%s' must be a positive integer", cmd,
				key);
		return 0;
	}
	return json_integer_value(v);
}

static void cc_show(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	int alert = json_object_get(args, "alert") != NULL;
	json_int_t id = cc_id(c, args, alert ? "alert" : "id", "capture show");
	struct store_capture sc;
	int rc;

	if (!id)
		return;
	daemon_flush(d);
	capture_mgr_sync(d->cap);
	rc = alert ? store_capture_of_alert(d->store, id, &sc)
		   : store_capture_get(d->store, id, &sc);
	if (rc == -1) {
		if (errno == ENOENT)
			ctl_reply_error(c, NSEG_CTL_E_NOTFOUND,
					alert ? "capture show: alert %lld has "
						"no capture (see 'nsegctl "
						"alerts')"
					      : "capture show: no capture c%lld "
						"(see 'nsegctl capture list')",
					(long long)id);
		else
			ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
					"capture show: database error");
		return;
	}
	cc_record(&sc, c);
	ctl_reply_end(c);
}

static void cc_start(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	struct capture_req req = { 0 };
	struct store_capture sc;
	char err[512];
	json_t *v;

	if (!(req.workload = ctl_workload_arg(c, args, "capture start")))
		return;
	v = json_object_get(args, "container");
	req.container = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(args, "filter");
	req.filter = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(args, "duration_s");
	req.duration_s = json_is_integer(v) ? json_integer_value(v) : 0;
	v = json_object_get(args, "packets");
	req.packets = json_is_integer(v) ? json_integer_value(v) : 0;
	if (req.duration_s < 0 || req.duration_s > 86400 || req.packets < 0 ||
	    req.packets > 10000000 ||
	    (json_object_get(args, "filter") && !req.filter) ||
	    (json_object_get(args, "container") && !req.container)) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"capture start: bad container, filter, "
				"duration_s (1-86400) or packets (1-10000000)");
		return;
	}
	if (capture_mgr_start(d->cap, &req, &sc, err, sizeof(err)) == -1) {
		ctl_reply_error(c, errno == ENOENT ? NSEG_CTL_E_NOTFOUND
			       : errno == EINVAL ? NSEG_CTL_E_BADREQ
						 : NSEG_CTL_E_INTERNAL,
				"capture start: %s", err);
		return;
	}
	cc_record(&sc, c);
	ctl_reply_end(c);
}

static void cc_stopped(const struct store_capture *sc, void *arg)
{
	struct ctl_conn *c = arg;

	cc_record(sc, c);
	ctl_reply_end(c);
}

static void cc_stop_gone(struct ctl_conn *c, void *arg)
{
	struct daemon *d = arg;

	capture_mgr_forget(d->cap, c);
}

/* The reply waits for the capture's last packets and its file to close. */
static void cc_stop(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	json_int_t id = cc_id(c, args, "id", "capture stop");

	if (!id)
		return;
	if (ctl_conn_keep(c, cc_stop_gone, d) == -1)
		return;
	if (capture_mgr_stop(d->cap, id, cc_stopped, c) == -1)
		ctl_reply_error(c, NSEG_CTL_E_NOTFOUND,
				"capture stop: no running capture c%lld (see "
				"'nsegctl capture list')",
				(long long)id);
}

int ctl_capture_register(struct daemon *d)
{
	if (ctl_server_handle(d->ctl, NSEG_CTL_CAPTURE_START, cc_start, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_CAPTURE_STOP, cc_stop, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_CAPTURE_LIST, cc_list, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_CAPTURE_SHOW, cc_show, d))
		return -1;
	return 0;
}
