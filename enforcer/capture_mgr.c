#include <arpa/inet.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture_int.h"
#include "nseg/daemon.h"
#include "nseg/evloop.h"
#include "nseg/log.h"
#include "nseg/pcap_dir.h"
#include "nseg/pcap_file.h"
#include "nseg/pkt_ring.h"
#include "nseg/store_capture.h"

/* Counters reach the store and limits in seconds are checked this often. */
#define CAPTURE_TICK_MS 1000

size_t capture_orig_len(const uint8_t *pkt, size_t len)
{
	if (len >= 20 && (pkt[0] >> 4) == 4)
		return (size_t)pkt[2] << 8 | pkt[3];
	if (len >= 40 && (pkt[0] >> 4) == 6)
		return 40 + ((size_t)pkt[4] << 8 | pkt[5]);
	return len;
}

static void cap_evicted(const char *path, void *arg)
{
	struct capture_mgr *m = arg;

	log_info("capture: %s deleted to stay under the quota", path);
	cap_row_evicted(m, path);
}

int cap_file_open(struct capture_mgr *m, struct cap_file *c, int linktype,
		  unsigned snaplen, const struct pcap_file_limits *lim,
		  char *err, size_t errlen)
{
	struct store_capture *r = &c->row;
	char path[STORE_PCAP_PATH_MAX];

	if (!m->dir) {
		snprintf(err, errlen, "captures are off (capture directory "
				      "unusable, see the log)");
		return -1;
	}
	r->id = cap_rows_next_id(m);
	r->started = daemon_now();
	snprintf(r->path, sizeof(r->path), "-");
	snprintf(r->state, sizeof(r->state), "running");
	if (pcap_dir_path(m->dir, strcmp(r->kind, "alert") ? "capture" : "alert",
			  (uint64_t)r->id, r->workload, r->started, path,
			  sizeof(path)) == -1 ||
	    !(c->df = pcap_dir_open(m->dir, path, err, errlen))) {
		if (errno == ENAMETOOLONG)
			snprintf(err, errlen, "capture file name too long");
		goto fail;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (pcap_dir_make_room(m->dir, c->df, PCAP_FILE_HDR_BYTES, cap_evicted,
			       m) == -1) {
		snprintf(err, errlen, "no room under the capture quota");
		goto fail;
	}
	c->pf = pcap_file_new(path, linktype, snaplen, lim, err, errlen);
	if (!c->pf)
		goto fail;
	c->open = 1;
	return 0;
fail:
	if (c->df)
		pcap_dir_close(m->dir, c->df);
	c->df = NULL;
	snprintf(r->state, sizeof(r->state), "failed");
	snprintf(r->note, sizeof(r->note), "%.240s", err);
	r->ended = daemon_now();
	cap_row_final(m, r);
	log_warnx("capture of %s: %s", r->workload, err);
	return -1;
}

/* The file stopped taking packets: say why, once. */
static void cap_file_stopped(struct cap_file *c)
{
	struct pcap_file_stats st;

	pcap_file_stats(c->pf, &st);
	if (st.stop == PCAP_FILE_ERROR)
		return; /* the write error was logged where it happened */
	snprintf(c->row.state, sizeof(c->row.state), "truncated");
	snprintf(c->row.note, sizeof(c->row.note), "stopped at its %s limit",
		 pcap_file_stop_str(st.stop));
	log_info("capture c%lld of %s (%s): %s", (long long)c->row.id,
		 c->row.workload, c->row.path, c->row.note);
}

int cap_file_write(struct capture_mgr *m, struct cap_file *c,
		   const struct timeval *ts, const uint8_t *pkt,
		   size_t caplen, size_t origlen)
{
	char err[512];
	int rc;

	if (!c->open)
		return 1;
	if (pcap_dir_make_room(m->dir, c->df,
			       pcap_file_record_bytes(c->pf, caplen),
			       cap_evicted, m) == -1)
		pcap_file_refuse(c->pf, PCAP_FILE_QUOTA);
	rc = pcap_file_write(c->pf, ts, pkt, caplen, origlen, err,
			     sizeof(err));
	if (rc == PCAP_FILE_WR_OK)
		return 0;
	if (rc == -1) {
		snprintf(c->row.state, sizeof(c->row.state), "failed");
		snprintf(c->row.note, sizeof(c->row.note), "%.240s", err);
		log_warnx("capture c%lld of %s: %s", (long long)c->row.id,
			  c->row.workload, err);
	} else {
		/* A quota refusal comes as REFUSED (pcap_file_refuse first):
		 * it is a truncation like a limit, and says so. */
		cap_file_stopped(c);
	}
	/* Its owner ends it at the next tick: an alert capture then stops
	 * the kernel's copies of its connections (capture_follow_end). */
	c->open = 0;
	return 1;
}

static void cap_file_count(struct cap_file *c)
{
	struct pcap_file_stats st;

	if (!c->pf)
		return;
	pcap_file_stats(c->pf, &st);
	c->row.packets = st.packets;
	c->row.bytes = st.bytes;
}

void cap_file_sync(struct capture_mgr *m, struct cap_file *c)
{
	char err[512];

	cap_file_count(c);
	if (c->pf && pcap_file_flush(c->pf, err, sizeof(err)) == -1) {
		snprintf(c->row.state, sizeof(c->row.state), "failed");
		snprintf(c->row.note, sizeof(c->row.note), "%.240s", err);
		log_warnx("capture c%lld: %s", (long long)c->row.id, err);
	}
	cap_row_put(m, &c->row);
}

void cap_file_end(struct capture_mgr *m, struct cap_file *c,
		  const char *state)
{
	char err[512];

	if (!c->pf && !c->df)
		return;
	cap_file_count(c);
	if (state)
		snprintf(c->row.state, sizeof(c->row.state), "%s", state);
	else if (!strcmp(c->row.state, "running"))
		snprintf(c->row.state, sizeof(c->row.state), "done");
	if (c->pf && pcap_file_close(c->pf, 0, err, sizeof(err)) == -1) {
		snprintf(c->row.state, sizeof(c->row.state), "failed");
		snprintf(c->row.note, sizeof(c->row.note), "%.240s", err);
		log_warnx("capture c%lld: %s", (long long)c->row.id, err);
	}
	if (c->df)
		pcap_dir_close(m->dir, c->df);
	c->pf = NULL;
	c->df = NULL;
	c->open = 0;
	c->row.ended = daemon_now();
	cap_row_final(m, &c->row);
}

static unsigned cap_ring_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % CAPTURE_RING_BUCKETS;
}

static struct cap_ring *cap_ring_find(struct capture_mgr *m, const char *wl,
				      unsigned h)
{
	for (struct cap_ring *r = m->rings[h]; r; r = r->next)
		if (!strcmp(r->workload, wl))
			return r;
	return NULL;
}

struct pkt_ring *cap_ring_of(struct capture_mgr *m, const char *workload)
{
	struct cap_ring *r = cap_ring_find(m, workload, cap_ring_hash(workload));

	return r ? r->ring : NULL;
}

void capture_mgr_queued(struct capture_mgr *m, const char *workload,
			const uint8_t *pkt, size_t len)
{
	const struct config_capture *cc = &m->d->cfg.capture;
	struct timeval now;
	struct cap_ring *r;
	unsigned h;

	/* Every queued packet passes here: when rings are off, only this. */
	if (!cc->enabled || !cc->ring || !m->dir)
		return;
	h = cap_ring_hash(workload);
	r = cap_ring_find(m, workload, h);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || !(r->ring = pkt_ring_new(cc->ring,
						   m->d->cfg.copy_range))) {
			free(r);
			return;
		}
		snprintf(r->workload, sizeof(r->workload), "%s", workload);
		r->next = m->rings[h];
		m->rings[h] = r;
	}
	gettimeofday(&now, NULL);
	pkt_ring_push(r->ring, &now, pkt, len);
	r->last = now.tv_sec;
}

/* A ring whose packets are all older than ring_seconds heads no alert:
 * it goes, so workloads that come and go leave nothing behind. */
static void cap_rings_expire(struct capture_mgr *m, int64_t now)
{
	int64_t keep = m->d->cfg.capture.ring_ms / 1000 + 1;

	for (int i = 0; i < CAPTURE_RING_BUCKETS; i++) {
		for (struct cap_ring **pp = &m->rings[i]; *pp;) {
			struct cap_ring *r = *pp;

			if (now - r->last <= keep) {
				pp = &r->next;
				continue;
			}
			*pp = r->next;
			pkt_ring_free(r->ring);
			free(r);
		}
	}
}

static void capture_mgr_tick(void *arg)
{
	struct capture_mgr *m = arg;

	m->tick = evloop_timer_add(m->d->loop, CAPTURE_TICK_MS,
				   capture_mgr_tick, m);
	capture_alert_tick(m, daemon_now());
	capture_live_tick(m);
	cap_rows_flush(m);
	cap_rings_expire(m, daemon_now());
}

struct capture_mgr *capture_mgr_new(struct daemon *d)
{
	struct capture_mgr *m = calloc(1, sizeof(*m));
	char err[512];

	if (!m)
		return NULL;
	m->d = d;
	if (store_captures_interrupted(d->store, daemon_now()) == -1)
		log_warnx("capture: marking interrupted captures failed");
	/* Without the last id, a new capture could take an old one's row. */
	if (cap_rows_init(m) == -1)
		log_warnx("capture: reading the last capture id failed; no "
			  "pcap files will be written");
	else if (!(m->dir = pcap_dir_new(d->cfg.capture.dir,
					 d->cfg.capture.quota, err,
					 sizeof(err))))
		log_warnx("capture: %s; no pcap files will be written", err);
	m->tick = evloop_timer_add(d->loop, CAPTURE_TICK_MS, capture_mgr_tick,
				   m);
	return m;
}

void capture_mgr_sync(struct capture_mgr *m)
{
	capture_alert_tick(m, daemon_now());
	capture_live_tick(m);
	cap_rows_flush(m);
}

void capture_mgr_nsw_gone(struct capture_mgr *m, struct nsw *w)
{
	if (!m)
		return;
	capture_alert_nsw_gone(m, w);
	capture_live_nsw_gone(m, w);
}

void capture_mgr_free(struct capture_mgr *m)
{
	if (!m)
		return;
	if (m->tick)
		evloop_timer_cancel(m->d->loop, m->tick);
	capture_alert_free_all(m);
	capture_live_free_all(m, "interrupted");
	cap_rows_free(m);
	for (int i = 0; i < CAPTURE_RING_BUCKETS; i++) {
		while (m->rings[i]) {
			struct cap_ring *r = m->rings[i];

			m->rings[i] = r->next;
			pkt_ring_free(r->ring);
			free(r);
		}
	}
	pcap_dir_free(m->dir);
	free(m);
}

json_t *capture_mgr_status_json(const struct capture_mgr *m)
{
	const struct config_capture *cc = &m->d->cfg.capture;
	json_int_t alerts = 0, live = 0;

	for (const struct acap *c = m->alerts; c; c = c->next)
		alerts++;
	live = capture_live_count(m);
	return json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "enabled",
			 cc->enabled && m->dir, "dir", cc->dir, "quota",
			 (json_int_t)cc->quota, "used",
			 (json_int_t)(m->dir ? pcap_dir_total(m->dir) : 0),
			 "files",
			 (json_int_t)(m->dir ? pcap_dir_count(m->dir) : 0),
			 "alert_captures", alerts, "ondemand_captures", live,
			 "records_pending", (json_int_t)cap_rows_pending(m));
}
