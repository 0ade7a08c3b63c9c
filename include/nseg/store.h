/*
 * The SQLite store: the daemon's one source of truth (DESIGN.md, property
 * 4). Workloads, their image versions, the edges learned for them and the
 * operator's decisions on those edges, and the alerts raised against them.
 *
 * The database runs in WAL mode with synchronous=NORMAL: a killed daemon
 * loses nothing that was committed, and readers never block the writer.
 * The schema is versioned (PRAGMA user_version); store_open() migrates an
 * older database step by step, each step in its own transaction, and
 * refuses a database newer than this code.
 *
 * Edge ids are stable: an edge keeps its id for its whole life (upserts
 * update the row in place) and ids of deleted edges are never reused. The
 * same holds for alert ids, so a reader can follow alerts by the last id
 * it saw.
 *
 * Usage of approved edges is kept per enforcement rule, not per edge:
 * edges that differ only in image version or peer process fold into one
 * rule (policy.h), so they share one usage record. A rule is (workload,
 * direction, peer identity, protocol, port, local exe and comm), with exe
 * and comm both "*" for a rule approved for any process of the workload.
 *
 * One struct store is one connection; it is not meant to be shared between
 * threads. Times are unix seconds.
 */
#ifndef NSEG_STORE_H
#define NSEG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "nseg/edge.h"

/* The schema version this code writes and the newest it can open. */
#define STORE_SCHEMA_VERSION 5
/* PRAGMA application_id of an nseg database ("nseg"). */
#define STORE_APPLICATION_ID 0x6e736567
/* The version of rules a policy file applies to every version. */
#define STORE_VERSION_ANY "*"
/* Capture file paths (pcap_dir is at most 256 bytes; names are short). */
#define STORE_PCAP_PATH_MAX 512
/* Where an approval came from: a learned edge, or "policy:FILE". */
#define STORE_ORIGIN_LEARNED "learned"
#define STORE_ORIGIN_POLICY "policy:"

/* How long a statement waits for another process's lock by default
 * (store_busy_timeout() changes it per connection). */
#define STORE_BUSY_TIMEOUT_MS 5000

struct store;

/*
 * Opens (creating it with mode 0600 if missing) the database at path and
 * migrates it to STORE_SCHEMA_VERSION. The parent directory must exist.
 * ":memory:" opens a private in-memory database (tests). On failure returns
 * NULL and writes a message naming the path and the cause into err.
 * The caller owns the result and releases it with store_close().
 */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Closes the connection; an open transaction is rolled back. NULL is a no-op. */
void store_close(struct store *s);

/*
 * How long a statement waits (ms) for a lock another process holds before
 * failing with "database is locked"; store_open() sets
 * STORE_BUSY_TIMEOUT_MS. Returns the previous value, so a caller can set
 * a short wait around writes that must not hold up an event loop and
 * restore it after.
 */
int store_busy_timeout(struct store *s, int ms);

/*
 * "statement: sqlite's message" of the last statement run through the
 * store's cached statements that failed, "" if none has. Owned by s,
 * valid until the next failure or store_close().
 */
const char *store_last_error(const struct store *s);

/*
 * Explicit transactions (BEGIN IMMEDIATE: the write lock is taken up front
 * so a batch never fails half-way on a lock upgrade). Not nestable.
 * Return 0 or -1 (logged). A failed commit leaves the transaction open:
 * call store_rollback().
 */
int store_begin(struct store *s);
int store_commit(struct store *s);
/* Rolls back the open transaction, if any. */
void store_rollback(struct store *s);

/*
 * Why store_edge_add() would refuse k: a static string ("empty workload",
 * "bad direction", ...), or NULL when k is acceptable. Lets a caller
 * reject a bad key before queueing it. Never logs.
 */
const char *store_edge_key_invalid(const struct nseg_edge_key *k);

/*
 * Upsert of one edge: inserts it (state 'learned') or adds count to it and
 * widens its first/last seen. Also creates the workload (mode 'learn') and
 * version rows when missing and widens the version's first/last seen.
 * All or nothing; joins the caller's transaction when one is open.
 * Rejects (-1, logged) a key store_edge_key_invalid() refuses, or
 * first_seen > last_seen.
 */
int store_edge_add(struct store *s, const struct nseg_edge_key *k,
		   uint64_t count, int64_t first_seen, int64_t last_seen);
/* As store_edge_add(), saying whether k was seen while its workload
 * learned (learning != 0) or only as a deviation of notify or enforce
 * mode; an edge once seen learning stays so. store_edge_add() is
 * learning. */
int store_edge_add_seen(struct store *s, const struct nseg_edge_key *k,
			uint64_t count, int64_t first_seen, int64_t last_seen,
			int learning);

struct store_edge {
	int64_t id;
	struct nseg_edge_key key;
	char state[16]; /* "learned", "approved", "rejected" */
	uint64_t count;
	int64_t first_seen, last_seen;
	int any_process;     /* approved for any process of the workload */
	char decided_by[64]; /* who approved/rejected it; "" if nobody yet */
	int64_t decided_at;  /* when; 0 if never decided */
	/*
	 * Usage of the enforcement rule this edge folds into (see
	 * store_usage_add()); all 0 unless the edge is approved and its rule
	 * has been used. Edges of one rule show the same numbers.
	 */
	uint64_t hits, hit_bytes;
	int64_t last_used;
	uint16_t port_hi; /* == key.port but for a policy rule's port range */
	char origin[NSEG_NAME_MAX + 8]; /* STORE_ORIGIN_LEARNED or _POLICY.. */
	int deviation; /* only ever seen in notify or enforce mode, never
			* while learning (STORE_DECIDE_ALL leaves it) */
};

/*
 * Calls cb for each edge of workload (only those of version when it is not
 * NULL), ordered by id, with the usage of approved edges filled in; cb
 * returning non-zero stops the walk, and a negative return makes the walk
 * return -1 too. *e is only valid during the call. Sets *found to 1 when
 * the workload exists, 0 when it does not. Returns 0, or -1 on a database
 * error (logged) or a failed cb. cb must not call store_edges_foreach()
 * itself.
 */
int store_edges_foreach(struct store *s, const char *workload,
			const char *version, int *found,
			int (*cb)(const struct store_edge *e, void *arg),
			void *arg);

struct store_workload {
	int64_t id;
	char name[NSEG_NAME_MAX];
	char mode[16]; /* "learn", "notify", "enforce" */
	int64_t created;
	size_t n_versions;
	char (*versions)[NSEG_VERSION_MAX]; /* oldest first seen first */
	uint64_t n_edges;		    /* all states, all versions */
	int64_t revision; /* bumped by each store_edges_decide() that changed */
	int64_t learn_window_ms; /* its own learning window; 0: the default */
};

/*
 * Calls cb for each workload, ordered by name; cb returning non-zero stops
 * the walk, and a negative return makes the walk return -1 too. *w and its
 * versions array belong to the store and are only valid during the call.
 * Returns 0, or -1 on a database error (logged) or a failed cb.
 * cb must not call store_workloads_foreach() itself.
 */
int store_workloads_foreach(struct store *s,
			    int (*cb)(const struct store_workload *w,
				      void *arg),
			    void *arg);

/*
 * A container of this workload/version was seen at now: creates the
 * workload and version rows when missing and widens the version's
 * first/last seen. Returns 0 or -1 (logged).
 */
int store_workload_touch(struct store *s, const char *workload,
			 const char *version, int64_t now);

/* all in store_edges_decide(): every learned edge seen while learning,
 * or every learned edge, deviations seen only in notify/enforce too. */
#define STORE_DECIDE_ALL 1
#define STORE_DECIDE_ALL_DEVIATIONS 2

/*
 * The operator's decision on edges of workload. Sets state ("approved" or
 * "rejected") of the edges whose ids are given, or, when all is
 * STORE_DECIDE_ALL(_DEVIATIONS), of every edge of the workload in state
 * 'learned' that was seen while learning (or of every one; ids are then
 * ignored). An
 * approval records any_process (non-zero: approved for any process of the
 * workload); a rejection clears it. Re-deciding is allowed in any
 * direction; an edge already in the requested state (and any_process) is
 * left alone, keeping its decided_by/decided_at. Changed edges get
 * decided_by = who (non-empty, under 64 bytes) and decided_at = now.
 *
 * All or nothing; joins the caller's transaction when one is open. Returns
 * the number of edges changed (0 is fine) and, when it is above 0, bumps
 * the workload's revision once. *revision (if not NULL) gets the
 * workload's revision after the call. On failure returns -1, changes
 * nothing and sets errno: ENOENT with *bad_id (if not NULL) = 0 when the
 * workload does not exist, ENOENT with *bad_id = the first id that does
 * not exist or belongs to another workload, EINVAL for a bad argument, EIO
 * for a database error (logged).
 */
int store_edges_decide(struct store *s, const char *workload,
		       const char *state, int all, const int64_t *ids,
		       size_t n_ids, int any_process, const char *who,
		       int64_t now, int64_t *bad_id, int64_t *revision);
/* How many learned edges of workload were only ever deviations (what
 * STORE_DECIDE_ALL leaves). Returns 0 or -1 (logged). */
int store_edges_deviations(struct store *s, const char *workload,
			   uint64_t *n);

/*
 * Sets the workload's mode ("learn", "notify", "enforce") and copies the
 * mode it had into previous (if not NULL). Never creates the workload.
 * Returns 0, or -1 with errno ENOENT (no such workload), EINVAL (bad mode
 * or name) or EIO (database error, logged).
 */
int store_workload_set_mode(struct store *s, const char *workload,
			    const char *mode, char previous[16]);

/*
 * Copies the workload's mode into mode and its revision into *revision.
 * Returns 0, or -1 with errno ENOENT (no such workload), EINVAL (bad name)
 * or EIO (database error, logged). May be called from the callback of
 * store_workloads_foreach().
 */
int store_workload_get(struct store *s, const char *workload, char mode[16],
		       int64_t *revision);

/*
 * Calls cb for each approved edge of workload, all versions, ordered by id,
 * with its usage filled in; cb returning non-zero stops the walk, and a
 * negative return makes the walk return -1 (errno as cb left it): a
 * policy built from a partial walk would block approved traffic. *e is
 * only valid during the call. Returns 0, or -1 with errno ENOENT (no such
 * workload), EINVAL (bad name) or EIO (database error, logged). May be
 * called from the callback of store_workloads_foreach(); cb must not call
 * store_approved_foreach().
 */
int store_approved_foreach(struct store *s, const char *workload,
			   int (*cb)(const struct store_edge *e, void *arg),
			   void *arg);

/*
 * An approved rule of workload let traffic through: adds hits and bytes to
 * the rule's usage (each saturating at INT64_MAX) and moves its last_used
 * forward to when (never back), creating the usage record at 0 first when
 * missing. The rule is (dir, peer, proto, port, exe, comm); exe "*" names
 * the rule approved for any process, and comm is then ignored. Hits count
 * new connections: only a connection's first packet reaches the edge
 * rules, established traffic is accepted in the kernel before them, so
 * bytes is what the caller saw of those packets, not of the connection.
 * Usage of a rule no approved edge folds into is kept but shown nowhere.
 *
 * Joins the caller's transaction when one is open. Returns 0, or -1 with
 * errno ENOENT (no such workload; never created), EINVAL (bad argument,
 * logged) or EIO (database error, logged).
 */
int store_usage_add(struct store *s, const char *workload, uint8_t dir,
		    const char *peer, uint8_t proto, uint16_t port,
		    const char *exe, const char *comm, uint64_t hits,
		    uint64_t bytes, int64_t when);

struct store_alert {
	int64_t id;
	int64_t time_first, time_last; /* unix s */
	char workload[NSEG_NAME_MAX], version[NSEG_VERSION_MAX];
	char container[65]; /* container id, "" if none */
	int64_t pid;
	struct nseg_proc_id proc;
	uint8_t dir;
	char peer[NSEG_NAME_MAX]; /* identity */
	char peer_address[64];	  /* text address of the remote end */
	uint8_t proto;
	uint16_t port;
	char action[8]; /* "notify" | "block" */
	char kind[16];	/* "deviation", "drift" or "flood" */
	uint64_t count;
	int64_t baseline; /* workload revision when raised */
	/* drift: the version whose approved baseline this one inherited */
	char baseline_version[NSEG_VERSION_MAX];
	char pcap[STORE_PCAP_PATH_MAX]; /* its capture file; "" for none */
	char pcap_note[256]; /* why it has none (disk full, ...); "" */
};

/*
 * Records a new alert and writes its id into a->id (a->id is ignored on
 * input). Alerts name their workload rather than point at its row: they
 * are a record of what happened and outlive the workload's baseline. The
 * workload must be non-empty, action "notify" or "block", kind non-empty,
 * dir valid, every string NUL-terminated within its field and time_first
 * <= time_last; count saturates at INT64_MAX. Returns 0, or -1 with errno
 * EINVAL (bad alert, logged) or EIO (database error, logged).
 */
int store_alert_add(struct store *s, struct store_alert *a);

/*
 * Another n occurrences of alert id (deduplication): adds n to its count
 * (saturating) and moves its time_last forward to time_last (never back).
 * Returns 0, or -1 with errno ENOENT (no such alert) or EIO (database
 * error, logged).
 */
int store_alert_bump(struct store *s, int64_t id, uint64_t n,
		     int64_t time_last);

/*
 * Calls cb for each alert with id > after_id (0: all), only those of
 * workload when it is not NULL, and only those with time_last >= since
 * when since is not 0; ordered by id. cb returning non-zero stops the
 * walk, and a negative return makes the walk return -1 (errno as cb left
 * it). *a is only valid during the call; cb must not call
 * store_alerts_foreach() itself nor change the store. Returns 0, or -1
 * with errno EINVAL (bad workload name), EIO (database error, logged) or
 * cb's.
 */
int store_alerts_foreach(struct store *s, const char *workload, int64_t since,
			 int64_t after_id,
			 int (*cb)(const struct store_alert *a, void *arg),
			 void *arg);

#endif
