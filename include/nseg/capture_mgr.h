/*
 * nsegd's captures (README "Captures"): the pcap file of each alert, fed
 * by the packets nsegd already sees (queued first packets, and in notify
 * mode the rest of the anomalous connection through NFLOG), headed by the
 * workload's recent packets; and on-demand captures of a workload's
 * namespaces with libpcap. A capture that cannot write (disk full,
 * directory gone) fails alone, with a log line and a note; it never
 * stalls the queue or stops the daemon.
 */
#ifndef NSEG_CAPTURE_MGR_H
#define NSEG_CAPTURE_MGR_H

#include <stddef.h>
#include <stdint.h>

struct daemon;
struct nsw;
struct nseg_pkt;
struct store_alert;
struct store_capture;
struct capture_mgr;

struct capture_req {
	const char *workload;
	const char *container; /* NULL: every container of the workload */
	const char *filter;    /* BPF; NULL: everything */
	int64_t duration_s;    /* 0: the default */
	int64_t packets;       /* 0: the default */
};

/* Opens the capture directory of d->cfg.capture. A directory nsegd cannot
 * use is logged and disables captures, never nsegd. Caller owns the
 * result (capture_mgr_free); NULL only when out of memory. */
struct capture_mgr *capture_mgr_new(struct daemon *d);
/* Ends every capture (state "interrupted" for on-demand ones). */
void capture_mgr_free(struct capture_mgr *m);
/* {"enabled", "dir", "quota", "used", "files", "alert_captures",
 * "ondemand_captures"} for nsegctl status; a new reference or NULL. */
struct json_t *capture_mgr_status_json(const struct capture_mgr *m);
/* Writes the counters of running captures to the store. */
void capture_mgr_sync(struct capture_mgr *m);

/* Every queued packet of a workload's namespace: kept in its ring. */
void capture_mgr_queued(struct capture_mgr *m, const char *workload,
			const uint8_t *pkt, size_t len);
/*
 * A deviation was alerted: a (the alert, created: new) gets its pcap (path
 * set in a->pcap when created), and the packet is written to it. Returns
 * 1 when the connection should be followed (notify mode: the verdict is
 * NFQUEUE_CAPTURE), else 0.
 */
int capture_mgr_deviation(struct capture_mgr *m, struct nsw *w,
			  struct store_alert *a, int created,
			  const struct nseg_pkt *p, const uint8_t *pkt,
			  size_t len, int notify);
/* w is going away: its flows and on-demand handles end. */
void capture_mgr_nsw_gone(struct capture_mgr *m, struct nsw *w);

/*
 * Starts an on-demand capture. Returns 0 with *out filled, or -1 with a
 * message in err and errno EINVAL (bad filter or request), ENOENT (no
 * namespace of that workload or container is watched) or EIO.
 */
int capture_mgr_start(struct capture_mgr *m, const struct capture_req *r,
		      struct store_capture *out, char *err, size_t errlen);
/* Told, from the event loop, that a capture ended (its final row). */
typedef void (*capture_done_fn)(const struct store_capture *c, void *arg);
/*
 * Stops running on-demand capture id: it reads what the kernel still
 * holds for it (up to LIVE_CAP_TIMEOUT_MS more), closes its file, then
 * calls done(row, arg). Returns 0, or -1 with errno ENOENT (no such
 * running capture).
 */
int capture_mgr_stop(struct capture_mgr *m, int64_t id, capture_done_fn done,
		     void *arg);
/* arg is going away: done is no longer called with it. m NULL (the
 * captures have ended already) is a no-op. */
void capture_mgr_forget(struct capture_mgr *m, void *arg);

#endif
