/*
 * The daemon's answers to nsegctl. Handlers send data (JSON records); the
 * CLI formats them. Learned edges still in memory are written first, so
 * what the operator sees is what the kernel saw.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nseg/alerts.h"
#include "nseg/capture_mgr.h"
#include "nseg/ctl.h"
#include "nseg/ctl_server.h"
#include "nseg/daemon.h"
#include "nseg/edge_json.h"
#include "nseg/learn_agg.h"
#include "nseg/learn_window.h"
#include "nseg/netns.h"
#include "nseg/nfqueue.h"
#include "nseg/nft_counters.h"
#include "nseg/nft_table.h"
#include "nseg/policy.h"
#include "nseg/proc_cache.h"
#include "nseg/queue_health.h"
#include "nseg/store.h"
#include "nseg/tamper.h"

#define NSEG_VERSION_STRING "0.1.0"

static const char *const ctl_reason_names[ATTRIB_REASONS] = {
	[ATTRIB_NO_SOCKET] = "no_socket",
	[ATTRIB_NO_PROCESS] = "no_process",
	[ATTRIB_ICMP] = "icmp",
	[ATTRIB_OTHER_PROTO] = "other_protocol",
	[ATTRIB_BAD_PACKET] = "bad_packet",
	[ATTRIB_MIDSTREAM] = "tcp_midstream",
	[ATTRIB_TCP_NO_SOCKET] = "tcp_no_socket",
};

struct ctl_counters {
	uint64_t queued, rate_limited;
};

static void ctl_counter_cb(const char *tag, uint64_t packets, uint64_t bytes,
			   void *arg)
{
	struct ctl_counters *c = arg;

	if (strcmp(tag, NFT_TAG_QUEUE) == 0)
		c->queued += packets;
	else if (strcmp(tag, NFT_TAG_RATELIMIT) == 0)
		c->rate_limited += packets;
}

static json_t *ctl_netns_json(struct daemon *d, struct nsw *w)
{
	char wl[NSEG_NAME_MAX], ver[NSEG_VERSION_MAX];
	struct ctl_counters cn = { 0 };
	struct queue_health qh;
	struct nfqueue_stats qs;
	json_t *o;

	attrib_nsw_identity(d, w, wl, sizeof(wl), ver, sizeof(ver));
	nfqueue_get_stats(w->q, &qs);
	nft_counters_read(w->nft, ctl_counter_cb, &cn);
	queue_health_read(d, w, &qh);
	o = json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "name", w->name[0] ? w->name : "", "inode",
			 (json_int_t)w->ino, "workload", wl, "mode",
			 policy_mode_name(w->mode), "packets",
			 (json_int_t)qs.packets, "queued",
			 (json_int_t)cn.queued, "rate_limited",
			 (json_int_t)cn.rate_limited, "queue_overruns",
			 (json_int_t)qh.kernel_dropped, "queue_user_dropped",
			 (json_int_t)qh.user_dropped, "verdict_errors",
			 (json_int_t)qs.verdict_errors);
	/* Every connection nsegd never saw, fail-open ones included. */
	if (o)
		json_object_set_new(o, "queue_unseen",
				    json_integer((json_int_t)w->q_unseen));
	return o;
}

static int ctl_status_wl_cb(const struct store_workload *sw, void *arg)
{
	void **x = arg;
	struct daemon *d = x[0];
	json_t *o = json_pack("{s:s, s:s, s:I}", "name", sw->name, "mode",
			      sw->mode, "revision", (json_int_t)sw->revision);
	int64_t left = learn_window_left(d, sw);

	if (!o)
		return -1;
	if (left >= 0)
		json_object_set_new(o, "learn_window_left_s",
				    json_integer((json_int_t)left));
	return json_array_append_new(x[1], o);
}

/* Whether what memory holds reaches the database: a locked or full
 * database shows here (and in the log), with what waits for it. */
static json_t *ctl_store_json(struct daemon *d)
{
	struct alerts_stats as;

	alerts_get_stats(d->alerts, &as);
	return json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "flush_errors",
			 (json_int_t)d->flush_errors, "last_error",
			 d->flush_error, "failing_since",
			 (json_int_t)d->flush_failing_since, "edges_pending",
			 (json_int_t)learn_agg_pending(d->agg), "alerts_pending",
			 (json_int_t)alerts_pending(d->alerts),
			 "alerts_dropped", (json_int_t)as.dropped);
}

static void ctl_status(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct daemon *d = arg;
	struct learn_agg_stats ls;
	struct proc_cache_stats ps;
	json_t *rec, *reasons, *netns, *wls;
	size_t nc = 0;

	daemon_flush(d);
	queue_health_poll(d);
	learn_agg_stats(d->agg, &ls);
	proc_cache_get_stats(d->pc, &ps);
	for (struct container *ct = d->containers; ct; ct = ct->next)
		nc++;
	reasons = json_object();
	for (int i = 0; i < ATTRIB_REASONS; i++)
		json_object_set_new(reasons, ctl_reason_names[i],
				    json_integer((json_int_t)d->unattributed[i]));
	netns = json_array();
	for (struct nsw *w = d->nsws; w; w = w->next)
		json_array_append_new(netns, ctl_netns_json(d, w));
	{
		void *x[2] = { d, json_array() };

		store_workloads_foreach(d->store, ctl_status_wl_cb, x);
		wls = x[1];
	}
	rec = json_pack("{s:s, s:i, s:I, s:s, s:{s:i, s:s, s:s}, s:I, "
			"s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I}, "
			"s:{s:I, s:I, s:I, s:I, s:I}, s:o}",
			"version", NSEG_VERSION_STRING, "pid", (int)getpid(),
			"uptime_s", (json_int_t)(daemon_now() - d->started),
			"database", d->cfg.db_path,
			"queue", "num", (int)d->cfg.queue_num, "verdict",
			d->native_queue ? "nft queue" : "xt NFQUEUE (nft_compat)",
			"fail", d->cfg.fail_open ? "open" : "closed",
			"netns_watched", (json_int_t)json_array_size(netns),
			"containers", (json_int_t)nc, "unattributed", reasons,
			"learner", "recorded", (json_int_t)ls.recorded,
			"pending", (json_int_t)learn_agg_pending(d->agg),
			"dropped", (json_int_t)ls.dropped, "flushes",
			(json_int_t)ls.flushes, "flush_errors",
			(json_int_t)ls.flush_errors, "proc_cache", "hits",
			(json_int_t)ps.hits, "misses", (json_int_t)ps.misses,
			"fd_scans", (json_int_t)ps.fd_scans, "fd_reads",
			(json_int_t)ps.fd_reads, "processes",
			(json_int_t)ps.procs, "netns", netns);
	if (rec) {
		json_object_set_new(json_object_get(rec, "queue"), "unseen",
				    json_integer((json_int_t)d->q_unseen_total));
		json_object_set_new(rec, "store", ctl_store_json(d));
		json_object_set_new(rec, "workloads", wls);
		json_object_set_new(rec, "captures",
				    capture_mgr_status_json(d->cap));
		json_object_set_new(rec, "tamper", tamper_status_json(d));
	} else {
		json_decref(wls);
	}
	if (!rec) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL, "out of memory");
		return;
	}
	ctl_reply_record(c, rec);
	ctl_reply_end(c);
}

struct ctl_wl_ctx {
	struct daemon *d;
	struct ctl_conn *c;
	json_t *seen; /* names already sent */
};

static json_t *ctl_workload_live(struct daemon *d, const char *name,
				 json_t **netns_out)
{
	json_t *containers = json_array(), *netns = json_array();
	char wl[NSEG_NAME_MAX], ver[NSEG_VERSION_MAX];

	for (struct container *ct = d->containers; ct; ct = ct->next) {
		struct nsw *w = nsw_by_ino(d, ct->netns_ino);

		if (strcmp(ct->meta.workload, name) != 0)
			continue;
		json_array_append_new(
			containers,
			json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", ct->meta.id,
				  "name", ct->meta.name, "runtime",
				  ct->meta.runtime, "version", ct->meta.version,
				  "netns", w && w->name[0] ? w->name : ""));
	}
	for (struct nsw *w = d->nsws; w; w = w->next) {
		attrib_nsw_identity(d, w, wl, sizeof(wl), ver, sizeof(ver));
		if (strcmp(wl, name) == 0)
			json_array_append_new(
				netns, json_string(w->name[0] ? w->name : ""));
	}
	*netns_out = netns;
	return containers;
}

static int ctl_workload_cb(const struct store_workload *sw, void *arg)
{
	struct ctl_wl_ctx *x = arg;
	json_t *versions = json_array(), *netns, *containers, *rec;

	for (size_t i = 0; i < sw->n_versions; i++)
		json_array_append_new(versions, json_string(sw->versions[i]));
	containers = ctl_workload_live(x->d, sw->name, &netns);
	json_object_set_new(x->seen, sw->name, json_true());
	rec = json_pack("{s:s, s:o, s:o, s:o, s:s, s:I, s:I}", "name", sw->name,
			"versions", versions, "containers", containers, "netns",
			netns, "mode", sw->mode, "edges", (json_int_t)sw->n_edges,
			"revision", (json_int_t)sw->revision);
	if (rec) {
		int64_t left = learn_window_left(x->d, sw);

		/* Seconds of learning left, under --learn-then-enforce. */
		if (left >= 0)
			json_object_set_new(rec, "learn_window_left_s",
					    json_integer((json_int_t)left));
	}
	return rec ? ctl_reply_record(x->c, rec) : -1;
}

/* A workload running now that has learned nothing yet is listed too. */
static int ctl_workload_unseen(struct ctl_wl_ctx *x, const char *name,
			       const char *version)
{
	json_t *containers, *netns, *rec;

	if (json_object_get(x->seen, name))
		return 0;
	json_object_set_new(x->seen, name, json_true());
	containers = ctl_workload_live(x->d, name, &netns);
	rec = json_pack("{s:s, s:[s], s:o, s:o, s:s, s:i}", "name", name,
			"versions", version, "containers", containers, "netns",
			netns, "mode", "learn", "edges", 0);
	return rec ? ctl_reply_record(x->c, rec) : -1;
}

static int ctl_workloads_live(struct ctl_wl_ctx *x)
{
	char wl[NSEG_NAME_MAX], ver[NSEG_VERSION_MAX];

	for (struct container *ct = x->d->containers; ct; ct = ct->next)
		if (ctl_workload_unseen(x, ct->meta.workload,
					ct->meta.version) == -1)
			return -1;
	for (struct nsw *w = x->d->nsws; w; w = w->next) {
		attrib_nsw_identity(x->d, w, wl, sizeof(wl), ver, sizeof(ver));
		if (ctl_workload_unseen(x, wl, ver) == -1)
			return -1;
	}
	return 0;
}

static void ctl_workloads(struct ctl_conn *c, const json_t *args, void *arg)
{
	struct ctl_wl_ctx x = { arg, c, json_object() };

	daemon_flush(x.d);
	if (!x.seen ||
	    store_workloads_foreach(x.d->store, ctl_workload_cb, &x) == -1) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
				"database error (see nsegd's log)");
		goto out;
	}
	if (ctl_workloads_live(&x) == 0)
		ctl_reply_end(c);
out:
	json_decref(x.seen);
}

static int ctl_edge_cb(const struct store_edge *e, void *arg)
{
	json_t *rec = edge_json(e);

	return rec ? ctl_reply_record(arg, rec) : -1;
}

static void ctl_baseline_show(struct ctl_conn *c, const json_t *args,
			      void *arg)
{
	struct daemon *d = arg;
	json_t *jw = json_object_get(args, "workload");
	json_t *jv = json_object_get(args, "version");
	const char *version = NULL;
	int found = 0;

	if (!json_is_string(jw) || json_string_length(jw) == 0) {
		ctl_reply_error(c, NSEG_CTL_E_BADREQ,
				"baseline show: 'workload' must be a non-empty string");
		return;
	}
	if (jv && !json_is_null(jv)) {
		if (!json_is_string(jv)) {
			ctl_reply_error(c, NSEG_CTL_E_BADREQ,
					"baseline show: 'version' must be a string");
			return;
		}
		version = json_string_value(jv);
	}
	daemon_flush(d);
	if (store_edges_foreach(d->store, json_string_value(jw), version,
				&found, ctl_edge_cb, c) == -1) {
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
				"database error (see nsegd's log)");
		return;
	}
	if (!found) {
		ctl_reply_error(c, NSEG_CTL_E_NOTFOUND,
				"no workload '%s' (see 'nsegctl workloads')",
				json_string_value(jw));
		return;
	}
	ctl_reply_end(c);
}

int ctl_handlers_register(struct daemon *d)
{
	if (ctl_server_handle(d->ctl, NSEG_CTL_STATUS, ctl_status, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_WORKLOADS, ctl_workloads, d) ||
	    ctl_server_handle(d->ctl, NSEG_CTL_BASELINE_SHOW,
			      ctl_baseline_show, d))
		return -1;
	return 0;
}
