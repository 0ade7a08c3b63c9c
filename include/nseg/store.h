/*
 * The SQLite store: the daemon's one source of truth (DESIGN.md, property
 * 4). Workloads, their image versions and the edges learned for them.
 *
 * The database runs in WAL mode with synchronous=NORMAL: a killed daemon
 * loses nothing that was committed, and readers never block the writer.
 * The schema is versioned (PRAGMA user_version); store_open() migrates an
 * older database step by step, each step in its own transaction, and
 * refuses a database newer than this code.
 *
 * Edge ids are stable: an edge keeps its id for its whole life (upserts
 * update the row in place) and ids of deleted edges are never reused.
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
#define STORE_SCHEMA_VERSION 1
/* PRAGMA application_id of an nseg database ("nseg"). */
#define STORE_APPLICATION_ID 0x6e736567

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

struct store_edge {
	int64_t id;
	struct nseg_edge_key key;
	char state[16]; /* "learned", "approved", "rejected" */
	uint64_t count;
	int64_t first_seen, last_seen;
};

/*
 * Calls cb for each edge of workload (only those of version when it is not
 * NULL), ordered by id; cb returning non-zero stops the walk. *e is only
 * valid during the call. Sets *found to 1 when the workload exists, 0 when
 * it does not. Returns 0, or -1 on a database error (logged).
 * cb must not call store_edges_foreach() itself.
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
};

/*
 * Calls cb for each workload, ordered by name; cb returning non-zero stops
 * the walk. *w and its versions array belong to the store and are only
 * valid during the call. Returns 0 or -1 (logged).
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

#endif
