/*
 * What the capture manager's files share (capture_mgr.c: files and rings,
 * capture_alert.c: alert captures, capture_live.c: on-demand captures).
 */
#ifndef NSEG_CAPTURE_INT_H
#define NSEG_CAPTURE_INT_H

#include <stdint.h>
#include <sys/time.h>

#include "nseg/capture_mgr.h"
#include "nseg/edge.h"
#include "nseg/pkt.h"
#include "nseg/store.h"
#include "nseg/store_capture.h"

struct pcap_dir;
struct pcap_dir_file;
struct pcap_file;
struct pcap_file_limits;
struct pkt_ring;
struct nflog;
struct ocap;

/* One capture file: its place under the quota, its writer, its row. */
struct cap_file {
	struct pcap_dir_file *df;
	struct pcap_file *pf;
	struct store_capture row;
	int open; /* takes packets: 0 once a limit, the quota or an error
		   * stopped it (its owner then ends it) */
};

/* A connection a notify-mode alert capture follows (as first seen). */
struct acap_flow {
	struct nsw *w; /* NULL once its namespace is gone */
	uint8_t proto;
	struct nseg_addr src, dst;
	uint16_t sport, dport;
};

#define ACAP_MAX_FLOWS 16

struct acap {
	struct capture_mgr *m;
	struct cap_file f;
	struct store_alert alert; /* the deviation it is for */
	int64_t opened;
	struct acap_flow flows[ACAP_MAX_FLOWS];
	size_t n_flows;
	struct acap *next;
};

/* A namespace's NFLOG socket, open while it has followed flows. */
struct cap_nflog {
	struct nsw *w;
	struct nflog *nl;
	struct cap_nflog *next;
};

struct cap_ring {
	char workload[NSEG_NAME_MAX];
	struct pkt_ring *ring;
	int64_t last; /* unix s of its newest packet */
	struct cap_ring *next;
};

#define CAPTURE_RING_BUCKETS 256

struct cap_evicted {
	char path[STORE_PCAP_PATH_MAX];
};

struct capture_mgr {
	struct daemon *d;
	struct pcap_dir *dir; /* NULL: captures off (logged why) */
	struct cap_ring *rings[CAPTURE_RING_BUCKETS];
	struct acap *alerts; /* alert captures still open */
	struct ocap *live;   /* on-demand captures running */
	struct cap_nflog *nflogs;
	struct ev_timer *tick;
	/* New alert captures in the current second (a scan's first alerts
	 * get files; the rest a note, not a file and a commit each). */
	int64_t opened_sec;
	unsigned opened_n;
	/* capture_rows.c */
	int64_t next_id;
	struct store_capture *unwritten; /* ended captures' rows, refused */
	size_t n_unwritten;
	struct cap_evicted *evicted; /* files deleted, not yet recorded */
	size_t n_evicted;
	int rows_failing; /* logged once until they are written again */
};

/* New alert captures a second, at most. */
#define CAPTURE_NEW_PER_SEC 10

/* Creates a file for a new capture (row: kind, workload, container,
 * filter set; the rest is filled in, with a new id). Its row reaches the
 * store at the next cap_file_sync(). Returns 0, or -1 with a reason in
 * err (the row then holds the failure, to be recorded by the caller's
 * cap_file_end()). */
int cap_file_open(struct capture_mgr *m, struct cap_file *c, int linktype,
		  unsigned snaplen, const struct pcap_file_limits *lim,
		  char *err, size_t errlen);
/* Writes one packet. Returns 0 when written, 1 when the file takes no
 * more (a limit, the quota or an error: logged once, row updated). */
int cap_file_write(struct capture_mgr *m, struct cap_file *c,
		   const struct timeval *ts, const uint8_t *pkt,
		   size_t caplen, size_t origlen);
/* Closes the file; the row gets its final state ("done" unless a limit
 * or an error decided otherwise, or state when not NULL). */
void cap_file_end(struct capture_mgr *m, struct cap_file *c,
		  const char *state);
/* Writes the row (and its counters) to the store. */
void cap_file_sync(struct capture_mgr *m, struct cap_file *c);

/* capture_rows.c: rows reach the store off the packet path. */
/* Numbers captures from the store's highest id. Returns 0 or -1. */
int cap_rows_init(struct capture_mgr *m);
int64_t cap_rows_next_id(struct capture_mgr *m);
/* A running capture's row, now; refused: the next sync tries again. */
void cap_row_put(struct capture_mgr *m, const struct store_capture *r);
/* An ended capture's last row, kept for cap_rows_flush (it may end on
 * the packet path). */
void cap_row_final(struct capture_mgr *m, const struct store_capture *r);
/* The file at path was evicted: recorded at the next cap_rows_flush. */
void cap_row_evicted(struct capture_mgr *m, const char *path);
/* Writes what was kept: rows first, then the evictions of their files. */
void cap_rows_flush(struct capture_mgr *m);
/* Rows and evictions kept, not yet written. */
size_t cap_rows_pending(const struct capture_mgr *m);
/* A last flush, then frees what is kept (logged if anything is lost). */
void cap_rows_free(struct capture_mgr *m);

/* The workload's recent packets, or NULL (rings off or none yet). */
struct pkt_ring *cap_ring_of(struct capture_mgr *m, const char *workload);

void capture_alert_free_all(struct capture_mgr *m);
void capture_alert_tick(struct capture_mgr *m, int64_t now);
void capture_live_free_all(struct capture_mgr *m, const char *state);
void capture_live_tick(struct capture_mgr *m);
void capture_live_nsw_gone(struct capture_mgr *m, struct nsw *w);
long capture_live_count(const struct capture_mgr *m);
void capture_alert_nsw_gone(struct capture_mgr *m, struct nsw *w);

/* capture_follow.c: notify-mode connections followed through NFLOG.
 * Follows p's connection in w for c: 0 (send it back marked), 1 (it is
 * followed already) or -1 (it cannot be). */
int capture_follow_add(struct acap *c, struct nsw *w,
		       const struct nseg_pkt *p);
/* Stops following c's connections (their ct marks cleared). */
void capture_follow_end(struct acap *c);
void capture_follow_nsw_gone(struct acap *c, struct nsw *w);
void capture_follow_close_nsw(struct capture_mgr *m, struct nsw *w);

/* The IP header's own length of the packet (what was on the wire), or
 * len when it cannot tell. */
size_t capture_orig_len(const uint8_t *pkt, size_t len);

#endif
