/*
 * Captures in the store: the pcap file of each alert and of each capture
 * an operator started, so that `nsegctl capture list/show` answer after a
 * restart and an evicted file is known to be gone.
 */
#ifndef NSEG_STORE_CAPTURE_H
#define NSEG_STORE_CAPTURE_H

#include <stdint.h>

#include "nseg/edge.h"
#include "nseg/store.h"

struct store_capture {
	int64_t id;
	char kind[16]; /* "alert" | "ondemand" */
	char workload[NSEG_NAME_MAX];
	char container[65]; /* "" : every container of the workload */
	char filter[512];   /* BPF, "" for everything */
	char path[STORE_PCAP_PATH_MAX];
	int64_t started, ended; /* unix s; ended 0 while running */
	uint64_t packets, bytes;
	/* "running", "done", "truncated" (a limit cut it), "failed" (could
	 * not write), "evicted" (the quota deleted it), "interrupted"
	 * (nsegd stopped while it ran) */
	char state[16];
	char note[256]; /* why truncated/failed, for people */
	int64_t alert_id; /* read only: the alert naming this file, or 0 */
};

/* Records capture c->id (nsegd numbers its captures itself, so that a
 * capture starts without waiting for the database), or writes its path,
 * ended, packets, bytes, state and note when it is recorded already.
 * Returns 0, or -1 (EINVAL: bad row or id <= 0; EIO). */
int store_capture_put(struct store *s, const struct store_capture *c);
/* The highest capture id recorded (0 when none). Returns 0 or -1. */
int store_capture_max_id(struct store *s, int64_t *id);
/* The capture with this id. Returns 0, or -1 (ENOENT, EIO). */
int store_capture_get(struct store *s, int64_t id, struct store_capture *c);
/* Calls cb for each capture (of workload when not NULL), in id order;
 * cb returning non-zero stops the walk. Returns 0 or -1. */
int store_captures_foreach(struct store *s, const char *workload,
			   int (*cb)(const struct store_capture *c, void *arg),
			   void *arg);
/* The capture of alert alert_id (the one its pcap names). Returns 0, or
 * -1 (ENOENT: no such alert or it has no capture; EIO). */
int store_capture_of_alert(struct store *s, int64_t alert_id,
			   struct store_capture *c);
/* The file at path was deleted (quota): its capture is "evicted". */
int store_capture_evicted(struct store *s, const char *path);
/* At start: captures a previous nsegd left "running" are "interrupted". */
int store_captures_interrupted(struct store *s, int64_t now);

#endif
