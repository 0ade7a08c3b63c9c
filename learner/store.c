#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nseg/log.h"
#include "nseg/store.h"
#include "store_int.h"

/*
 * Schema migrations, oldest first: store_migrations[i] takes a database
 * from user_version i to i + 1. Never edit a released step; append one.
 *
 * v1: edges carry their whole identity in the row so that a baseline reads
 * without joins. The composite foreign key ties each edge to a known
 * version. AUTOINCREMENT on edges.id: ids of deleted edges are never
 * handed out again, so an id an operator saw always means the same edge.
 *
 * v2: the operator's decision on each edge (who, when, and whether an
 * approval covers any process of the workload), a per-workload revision
 * counted up by every decision that changed something, and alerts. Alerts
 * carry the workload's name, not its id: they are a record of what
 * happened and must survive the workload's baseline being deleted. Action
 * and kind are checked by the code, not by a CHECK, so that a later kind
 * does not need a table rebuild.
 *
 * v3: usage of approved edges, per enforcement rule rather than per edge
 * (several edges fold into one rule, and the enforcer only knows rules).
 * A rule for any process has exe = comm = '*': no real exe is '*' (exes
 * are absolute paths, "?" or "[kernel]"), and a plain UNIQUE on text
 * columns needs no NULL handling. The UNIQUE index also serves the join
 * from edges.
 *
 * v4: policies as code. An edge may cover a port range (port..port_hi;
 * NULL: port alone, as every learned edge) and records where its approval
 * came from: 'learned' for an edge the daemon saw, 'policy:FILE' for a
 * rule a policy file brought. Rules of a policy that pins no version live
 * in version '*' (hidden from version lists). A workload may have its own
 * learning window. A drift alert names the version whose approved
 * baseline the deviating version inherited. Captures: the pcap files of
 * alerts and of operators' on-demand captures; an alert names its file.
 */
static const char *const store_migrations[] = {
	"CREATE TABLE workloads ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),"
	" mode TEXT NOT NULL DEFAULT 'learn'"
	"  CHECK (mode IN ('learn', 'notify', 'enforce')),"
	" created INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE versions ("
	" id INTEGER PRIMARY KEY,"
	" workload_id INTEGER NOT NULL"
	"  REFERENCES workloads (id) ON DELETE CASCADE,"
	" version TEXT NOT NULL CHECK (length(version) > 0),"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" UNIQUE (workload_id, version)"
	") STRICT;"
	"CREATE TABLE edges ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" workload_id INTEGER NOT NULL"
	"  REFERENCES workloads (id) ON DELETE CASCADE,"
	" version TEXT NOT NULL,"
	" exe TEXT NOT NULL CHECK (length(exe) > 0),"
	" comm TEXT NOT NULL,"
	" direction TEXT NOT NULL CHECK (direction IN ('egress', 'ingress')),"
	" peer TEXT NOT NULL CHECK (length(peer) > 0),"
	" peer_exe TEXT NOT NULL DEFAULT '',"
	" peer_comm TEXT NOT NULL DEFAULT '',"
	" protocol TEXT NOT NULL CHECK (length(protocol) > 0),"
	" port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),"
	" state TEXT NOT NULL DEFAULT 'learned'"
	"  CHECK (state IN ('learned', 'approved', 'rejected')),"
	" count INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" UNIQUE (workload_id, version, exe, comm, direction, peer,"
	"  peer_exe, peer_comm, protocol, port),"
	" FOREIGN KEY (workload_id, version)"
	"  REFERENCES versions (workload_id, version) ON DELETE CASCADE"
	") STRICT;"
	"PRAGMA application_id = 1853056359;", /* STORE_APPLICATION_ID */

	"ALTER TABLE edges ADD COLUMN any_process INTEGER NOT NULL DEFAULT 0"
	" CHECK (any_process IN (0, 1));"
	"ALTER TABLE edges ADD COLUMN decided_by TEXT;"
	"ALTER TABLE edges ADD COLUMN decided_at INTEGER;"
	"ALTER TABLE workloads ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"
	" CHECK (revision >= 0);"
	"CREATE TABLE alerts ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_first INTEGER NOT NULL,"
	" time_last INTEGER NOT NULL,"
	" workload TEXT NOT NULL CHECK (length(workload) > 0),"
	" version TEXT NOT NULL,"
	" container TEXT NOT NULL DEFAULT '',"
	" pid INTEGER NOT NULL,"
	" exe TEXT NOT NULL,"
	" comm TEXT NOT NULL,"
	" direction TEXT NOT NULL CHECK (direction IN ('egress', 'ingress')),"
	" peer TEXT NOT NULL,"
	" peer_address TEXT NOT NULL,"
	" protocol TEXT NOT NULL CHECK (length(protocol) > 0),"
	" port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),"
	" action TEXT NOT NULL CHECK (length(action) > 0),"
	" kind TEXT NOT NULL CHECK (length(kind) > 0),"
	" count INTEGER NOT NULL CHECK (count >= 0),"
	" baseline INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX alerts_workload ON alerts (workload, id);",

	"CREATE TABLE rule_usage ("
	" id INTEGER PRIMARY KEY,"
	" workload_id INTEGER NOT NULL"
	"  REFERENCES workloads (id) ON DELETE CASCADE,"
	" direction TEXT NOT NULL CHECK (direction IN ('egress', 'ingress')),"
	" peer TEXT NOT NULL CHECK (length(peer) > 0),"
	" protocol TEXT NOT NULL CHECK (length(protocol) > 0),"
	" port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),"
	" exe TEXT NOT NULL CHECK (length(exe) > 0),"
	" comm TEXT NOT NULL,"
	" hits INTEGER NOT NULL DEFAULT 0 CHECK (hits >= 0),"
	" bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),"
	" last_used INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (workload_id, direction, peer, protocol, port, exe, comm)"
	") STRICT;",

	"ALTER TABLE edges ADD COLUMN port_hi INTEGER"
	" CHECK (port_hi IS NULL OR port_hi BETWEEN port AND 65535);"
	"ALTER TABLE edges ADD COLUMN origin TEXT NOT NULL DEFAULT 'learned'"
	" CHECK (origin = 'learned' OR origin LIKE 'policy:%');"
	"ALTER TABLE workloads ADD COLUMN learn_window_ms INTEGER"
	" CHECK (learn_window_ms IS NULL OR learn_window_ms > 0);"
	"ALTER TABLE alerts ADD COLUMN baseline_version TEXT NOT NULL"
	" DEFAULT '';"
	"ALTER TABLE alerts ADD COLUMN pcap TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE alerts ADD COLUMN pcap_note TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX alerts_pcap ON alerts (pcap) WHERE pcap != '';"
	"CREATE TABLE captures ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" kind TEXT NOT NULL CHECK (kind IN ('alert', 'ondemand')),"
	" workload TEXT NOT NULL CHECK (length(workload) > 0),"
	" container TEXT NOT NULL DEFAULT '',"
	" filter TEXT NOT NULL DEFAULT '',"
	" path TEXT NOT NULL CHECK (length(path) > 0),"
	" started INTEGER NOT NULL,"
	" ended INTEGER NOT NULL DEFAULT 0,"
	" packets INTEGER NOT NULL DEFAULT 0 CHECK (packets >= 0),"
	" bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),"
	" state TEXT NOT NULL CHECK (state IN ('running', 'done',"
	"  'truncated', 'failed', 'evicted', 'interrupted')),"
	" note TEXT NOT NULL DEFAULT ''"
	") STRICT;",
	/* v5: whether an edge was ever seen while its workload learned (0:
	 * only as a deviation of notify or enforce mode, which approve
	 * --all leaves alone). Edges from before were all "learned". */
	"ALTER TABLE edges ADD COLUMN seen_learning INTEGER NOT NULL"
	" DEFAULT 1 CHECK (seen_learning IN (0, 1));",
};

#define STORE_N_MIGRATIONS \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

_Static_assert(STORE_N_MIGRATIONS == STORE_SCHEMA_VERSION,
	       "one migration step per schema version");
_Static_assert(STORE_APPLICATION_ID == 1853056359,
	       "application_id in the v1 migration");

enum store_st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SP,
	ST_SP_RELEASE,
	ST_SP_ROLLBACK,
	ST_WL_ID,
	ST_WL_INSERT,
	ST_VER_UPSERT,
	ST_EDGE_UPDATE,
	ST_EDGE_INSERT,
	ST_EDGES_ALL,
	ST_EDGES_VER,
	ST_WORKLOADS,
	ST_WL_VERSIONS,
	ST_WL_GET,
	ST_WL_SET_MODE,
	ST_WL_BUMP,
	ST_EDGE_OF_WL,
	ST_EDGE_DECIDE,
	ST_EDGES_DECIDE_ALL,
	ST_EDGES_DECIDE_ALL_DEV,
	ST_EDGES_DEV_ONLY,
	ST_EDGES_APPROVED,
	ST_ALERT_INSERT,
	ST_ALERT_BUMP,
	ST_ALERTS_ALL,
	ST_ALERTS_WL,
	ST_USAGE_UPSERT,
	ST_COUNT
};

#define EDGE_COLS                                                        \
	"e.id, e.version, e.exe, e.comm, e.direction, e.peer, e.peer_exe,"  \
	" e.peer_comm, e.protocol, e.port, e.state, e.count, e.first_seen," \
	" e.last_seen, e.any_process, e.decided_by, e.decided_at, u.hits,"  \
	" u.bytes, u.last_used, e.port_hi, e.origin, e.seen_learning"

/*
 * An edge with the usage of the rule it folds into (policy.h): version and
 * peer process are not part of a rule, and an approval for any process
 * names the rule by exe = comm = '*'. Only approved edges are rules.
 */
#define EDGE_FROM                                                          \
	" FROM edges e LEFT JOIN rule_usage u ON e.state = 'approved'"      \
	" AND u.workload_id = e.workload_id AND u.direction = e.direction"  \
	" AND u.peer = e.peer AND u.protocol = e.protocol"                  \
	" AND u.port = e.port"                                              \
	" AND u.exe = CASE WHEN e.any_process THEN '*' ELSE e.exe END"      \
	" AND u.comm = CASE WHEN e.any_process THEN '*' ELSE e.comm END"

#define ALERT_COLS                                                         \
	"id, time_first, time_last, workload, version, container, pid, exe," \
	" comm, direction, peer, peer_address, protocol, port, action, kind," \
	" count, baseline, baseline_version, pcap, pcap_note"

/* col + n (n >= 0) without overflowing into a REAL. */
#define STORE_SAT(col, n)                                       \
	"CASE WHEN " col " > 9223372036854775807 - " n          \
	" THEN 9223372036854775807 ELSE " col " + " n " END"
#define STORE_SAT_ADD(n) STORE_SAT("count", n)

static const char *const store_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SP] = "SAVEPOINT store_op",
	[ST_SP_RELEASE] = "RELEASE store_op",
	[ST_SP_ROLLBACK] = "ROLLBACK TO store_op",
	[ST_WL_ID] = "SELECT id FROM workloads WHERE name = ?1",
	[ST_WL_INSERT] = "INSERT INTO workloads (name, created) VALUES (?1, ?2)",
	/* The WHERE keeps an unchanged version row from being rewritten. */
	[ST_VER_UPSERT] =
		"INSERT INTO versions (workload_id, version, first_seen,"
		" last_seen) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (workload_id, version) DO UPDATE SET"
		" first_seen = min(first_seen, excluded.first_seen),"
		" last_seen = max(last_seen, excluded.last_seen)"
		" WHERE excluded.first_seen < first_seen"
		" OR excluded.last_seen > last_seen",
	/*
	 * An edge upsert is an UPDATE, then an INSERT when no row matched. Not
	 * INSERT .. ON CONFLICT: with AUTOINCREMENT that burns an id per call
	 * even when it updates. Not INSERT OR REPLACE: that deletes the row
	 * and inserts a new one, with a new id. count saturates instead of
	 * overflowing into a REAL.
	 */
	[ST_EDGE_UPDATE] =
		"UPDATE edges SET"
		" count = " STORE_SAT_ADD("?11") ","
		" first_seen = min(first_seen, ?12),"
		" last_seen = max(last_seen, ?13),"
		" seen_learning = max(seen_learning, ?14)"
		" WHERE workload_id = ?1 AND version = ?2 AND exe = ?3"
		" AND comm = ?4 AND direction = ?5 AND peer = ?6"
		" AND peer_exe = ?7 AND peer_comm = ?8 AND protocol = ?9"
		" AND port = ?10",
	[ST_EDGE_INSERT] =
		"INSERT INTO edges (workload_id, version, exe, comm, direction,"
		" peer, peer_exe, peer_comm, protocol, port, count, first_seen,"
		" last_seen, seen_learning)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14)",
	[ST_EDGES_ALL] = "SELECT " EDGE_COLS EDGE_FROM
			 " WHERE e.workload_id = ?1 ORDER BY e.id",
	[ST_EDGES_VER] = "SELECT " EDGE_COLS EDGE_FROM
			 " WHERE e.workload_id = ?1 AND e.version = ?2"
			 " ORDER BY e.id",
	[ST_WORKLOADS] = "SELECT w.id, w.name, w.mode, w.created,"
			 " (SELECT count(*) FROM edges e"
			 "  WHERE e.workload_id = w.id), w.revision,"
			 " coalesce(w.learn_window_ms, 0)"
			 " FROM workloads w ORDER BY w.name",
	[ST_WL_VERSIONS] = "SELECT version FROM versions WHERE workload_id = ?1"
			   " AND version != '" STORE_VERSION_ANY "'"
			   " ORDER BY first_seen, version",
	[ST_WL_GET] = "SELECT id, mode, revision FROM workloads WHERE name = ?1",
	[ST_WL_SET_MODE] = "UPDATE workloads SET mode = ?2 WHERE id = ?1",
	[ST_WL_BUMP] = "UPDATE workloads SET revision = revision + 1"
		       " WHERE id = ?1",
	[ST_EDGE_OF_WL] = "SELECT 1 FROM edges WHERE id = ?1 AND workload_id = ?2",
	/* The WHERE leaves an edge already so decided, and its decider, alone. */
	[ST_EDGE_DECIDE] =
		"UPDATE edges SET state = ?2, any_process = ?3, decided_by = ?4,"
		" decided_at = ?5"
		" WHERE id = ?1 AND (state != ?2 OR any_process != ?3)",
	[ST_EDGES_DECIDE_ALL] =
		"UPDATE edges SET state = ?2, any_process = ?3, decided_by = ?4,"
		" decided_at = ?5"
		" WHERE workload_id = ?1 AND state = 'learned'"
		" AND seen_learning = 1",
	[ST_EDGES_DECIDE_ALL_DEV] =
		"UPDATE edges SET state = ?2, any_process = ?3, decided_by = ?4,"
		" decided_at = ?5"
		" WHERE workload_id = ?1 AND state = 'learned'",
	[ST_EDGES_DEV_ONLY] =
		"SELECT count(*) FROM edges e JOIN workloads w"
		" ON w.id = e.workload_id WHERE w.name = ?1"
		" AND e.state = 'learned' AND e.seen_learning = 0",
	[ST_EDGES_APPROVED] = "SELECT " EDGE_COLS EDGE_FROM
			      " WHERE e.workload_id = ?1"
			      " AND e.state = 'approved' ORDER BY e.id",
	[ST_ALERT_INSERT] =
		"INSERT INTO alerts (time_first, time_last, workload, version,"
		" container, pid, exe, comm, direction, peer, peer_address,"
		" protocol, port, action, kind, count, baseline,"
		" baseline_version, pcap, pcap_note)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		" ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
	[ST_ALERT_BUMP] = "UPDATE alerts SET count = " STORE_SAT_ADD("?2") ","
			  " time_last = max(time_last, ?3) WHERE id = ?1",
	[ST_ALERTS_ALL] = "SELECT " ALERT_COLS " FROM alerts"
			  " WHERE id > ?1 AND (?2 = 0 OR time_last >= ?2)"
			  " ORDER BY id",
	[ST_ALERTS_WL] = "SELECT " ALERT_COLS " FROM alerts"
			 " WHERE workload = ?3 AND id > ?1"
			 " AND (?2 = 0 OR time_last >= ?2) ORDER BY id",
	/*
	 * One statement: no row inserted or updated means no such workload.
	 * Plain upsert is fine here, rule_usage ids are nobody's business.
	 */
	[ST_USAGE_UPSERT] =
		"INSERT INTO rule_usage (workload_id, direction, peer,"
		" protocol, port, exe, comm, hits, bytes, last_used)"
		" SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM workloads"
		" WHERE name = ?1"
		" ON CONFLICT (workload_id, direction, peer, protocol, port,"
		" exe, comm) DO UPDATE SET"
		" hits = " STORE_SAT("hits", "excluded.hits") ","
		" bytes = " STORE_SAT("bytes", "excluded.bytes") ","
		" last_used = max(last_used, excluded.last_used)",
};

/* For log messages: the SQL itself is too long to read in a log line. */
static const char *const store_st_name[ST_COUNT] = {
	[ST_BEGIN] = "begin",
	[ST_COMMIT] = "commit",
	[ST_ROLLBACK] = "rollback",
	[ST_SP] = "savepoint",
	[ST_SP_RELEASE] = "release savepoint",
	[ST_SP_ROLLBACK] = "rollback to savepoint",
	[ST_WL_ID] = "workload lookup",
	[ST_WL_INSERT] = "workload insert",
	[ST_VER_UPSERT] = "version upsert",
	[ST_EDGE_UPDATE] = "edge update",
	[ST_EDGE_INSERT] = "edge insert",
	[ST_EDGES_ALL] = "edges select",
	[ST_EDGES_VER] = "edges select by version",
	[ST_WORKLOADS] = "workloads select",
	[ST_WL_VERSIONS] = "versions select",
	[ST_WL_GET] = "workload get",
	[ST_WL_SET_MODE] = "workload set mode",
	[ST_WL_BUMP] = "workload revision bump",
	[ST_EDGE_OF_WL] = "edge ownership lookup",
	[ST_EDGE_DECIDE] = "edge decide",
	[ST_EDGES_DECIDE_ALL] = "edges decide all",
	[ST_EDGES_APPROVED] = "approved edges select",
	[ST_ALERT_INSERT] = "alert insert",
	[ST_ALERT_BUMP] = "alert bump",
	[ST_ALERTS_ALL] = "alerts select",
	[ST_ALERTS_WL] = "alerts select by workload",
	[ST_USAGE_UPSERT] = "rule usage upsert",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	/* Scratch for store_workloads_foreach(), reused between calls. */
	char (*versions)[NSEG_VERSION_MAX];
	size_t versions_cap;
	int busy_ms;		/* current sqlite3_busy_timeout() */
	char last_err[256];	/* the last failed statement's error */
};

static void store_errf(char *err, size_t errlen, const char *fmt, ...)
	NSEG_PRINTF(3, 4);

static void store_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int store_exec(sqlite3 *db, const char *sql, const char *path,
		      char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	store_errf(err, errlen, "%s: %s: %s", path, sql,
		   msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* Reads a one-integer PRAGMA. */
static int store_pragma_int(sqlite3 *db, const char *pragma, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	char sql[64];
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA %s", pragma);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int store_set_wal(sqlite3 *db, const char *path, char *err,
			 size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *mode;
	int ret = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		store_errf(err, errlen, "%s: journal_mode=WAL: %s", path,
			   sqlite3_errmsg(db));
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	/* An in-memory database has no WAL; it has nothing to lose either. */
	if (mode == NULL ||
	    (strcmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0)) {
		store_errf(err, errlen, "%s: cannot enable WAL (journal mode %s)",
			   path, mode ? mode : "unknown");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int store_configure(sqlite3 *db, const char *path, char *err,
			   size_t errlen)
{
	sqlite3_extended_result_codes(db, 1);
	if (sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK) {
		store_errf(err, errlen, "%s: busy_timeout: %s", path,
			   sqlite3_errmsg(db));
		return -1;
	}
	if (store_set_wal(db, path, err, errlen) == -1)
		return -1;
	if (store_exec(db, "PRAGMA synchronous = NORMAL", path, err, errlen))
		return -1;
	return store_exec(db, "PRAGMA foreign_keys = ON", path, err, errlen);
}

/*
 * A database at user_version 0 is only ours to initialise if it is empty:
 * migrating some other program's database would corrupt it.
 */
static int store_check_identity(sqlite3 *db, const char *path, char *err,
				size_t errlen)
{
	int64_t app_id = 0, ver = 0, n_tables = 0;
	sqlite3_stmt *st = NULL;

	if (store_pragma_int(db, "application_id", &app_id) == -1 ||
	    store_pragma_int(db, "user_version", &ver) == -1) {
		store_errf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		return -1;
	}
	if (app_id != 0 && app_id != STORE_APPLICATION_ID) {
		store_errf(err, errlen,
			   "%s: not an nseg database (application_id %#llx)",
			   path, (unsigned long long)app_id);
		return -1;
	}
	if (app_id != 0 || ver != 0)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1,
			       &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n_tables = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n_tables != 0) {
		store_errf(err, errlen,
			   "%s: not an nseg database (has tables but no nseg "
			   "schema version)",
			   path);
		return -1;
	}
	return 0;
}

static int store_migrate_step(sqlite3 *db, int to, const char *path,
			      char *err, size_t errlen)
{
	char sql[64];

	if (store_exec(db, store_migrations[to - 1], path, err, errlen))
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", to);
	return store_exec(db, sql, path, err, errlen);
}

/*
 * Each step runs in its own transaction. The version is read again inside
 * it: another process may have migrated the file since we last looked.
 */
static int store_migrate(sqlite3 *db, const char *path, char *err,
			 size_t errlen)
{
	int64_t ver;

	for (;;) {
		if (store_exec(db, "BEGIN IMMEDIATE", path, err, errlen))
			return -1;
		if (store_pragma_int(db, "user_version", &ver) == -1) {
			store_errf(err, errlen, "%s: user_version: %s", path,
				   sqlite3_errmsg(db));
			goto fail;
		}
		if (ver > STORE_SCHEMA_VERSION || ver < 0) {
			store_errf(err, errlen,
				   "%s: database schema version %lld is newer "
				   "than this nsegd supports (%d)",
				   path, (long long)ver, STORE_SCHEMA_VERSION);
			goto fail;
		}
		if (ver == STORE_SCHEMA_VERSION)
			break;
		if (store_migrate_step(db, (int)ver + 1, path, err, errlen))
			goto fail;
		if (store_exec(db, "COMMIT", path, err, errlen))
			goto fail;
		log_info("%s: migrated schema to version %lld", path,
			 (long long)ver + 1);
	}
	return store_exec(db, "COMMIT", path, err, errlen);
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int store_prepare(struct store *s, const char *path, char *err,
			 size_t errlen)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, store_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			store_errf(err, errlen, "%s: prepare %s: %s", path,
				   store_sql[i], sqlite3_errmsg(s->db));
			return -1;
		}
	}
	return 0;
}

/* sqlite creates files 0644 (less umask); the baseline is not for all. */
static int store_create_file(const char *path, char *err, size_t errlen)
{
	int fd;

	if (strcmp(path, ":memory:") == 0)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		store_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = NULL;
	int rc;

	store_errf(err, errlen, "%s", "");
	if (store_create_file(path, err, errlen) == -1)
		goto fail;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		store_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		store_errf(err, errlen, "%s: %s", path,
			   s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if (store_check_identity(s->db, path, err, errlen) == -1 ||
	    store_configure(s->db, path, err, errlen) == -1 ||
	    store_migrate(s->db, path, err, errlen) == -1 ||
	    store_prepare(s, path, err, errlen) == -1)
		goto fail;
	s->busy_ms = STORE_BUSY_TIMEOUT_MS;
	return s;
fail:
	store_close(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("%s: sqlite3_close: %s", __func__,
			  sqlite3_errmsg(s->db));
	free(s->versions);
	free(s);
}

sqlite3 *store_sqlite(struct store *s)
{
	return s->db;
}

/* Runs a cached statement that returns no rows. */
static int store_run(struct store *s, enum store_st which, const char *fn)
{
	sqlite3_stmt *st = s->st[which];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	snprintf(s->last_err, sizeof(s->last_err), "%s: %s",
		 store_st_name[which], sqlite3_errmsg(s->db));
	log_warnx("%s: %s", fn, s->last_err);
	return -1;
}

int store_busy_timeout(struct store *s, int ms)
{
	int prev = s->busy_ms;

	if (ms != prev && sqlite3_busy_timeout(s->db, ms) == SQLITE_OK)
		s->busy_ms = ms;
	return prev;
}

const char *store_last_error(const struct store *s)
{
	return s->last_err;
}

int store_begin(struct store *s)
{
	return store_run(s, ST_BEGIN, __func__);
}

int store_commit(struct store *s)
{
	return store_run(s, ST_COMMIT, __func__);
}

void store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	store_run(s, ST_ROLLBACK, __func__);
}

/*
 * A single store operation is all or nothing: its own BEGIN IMMEDIATE when
 * the caller has no transaction open, a savepoint inside the caller's.
 * Returns 1 when it owns a transaction, 0 for a savepoint, -1 on error.
 */
static int store_op_begin(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return store_run(s, ST_BEGIN, __func__) == 0 ? 1 : -1;
	return store_run(s, ST_SP, __func__) == 0 ? 0 : -1;
}

static int store_op_end(struct store *s, int own, int ok)
{
	if (ok && own)
		ok = store_run(s, ST_COMMIT, __func__) == 0;
	else if (ok)
		ok = store_run(s, ST_SP_RELEASE, __func__) == 0;
	if (ok)
		return 0;
	if (own) {
		store_rollback(s);
	} else {
		store_run(s, ST_SP_ROLLBACK, __func__);
		store_run(s, ST_SP_RELEASE, __func__);
	}
	return -1;
}

static int store_bind_text(sqlite3_stmt *st, int i, const char *v, size_t max)
{
	return sqlite3_bind_text(st, i, v, (int)strnlen(v, max - 1),
				 SQLITE_STATIC);
}

/* Returns the workload's id (> 0), 0 when it does not exist, -1 on error. */
static int64_t store_workload_id(struct store *s, const char *name)
{
	sqlite3_stmt *st = s->st[ST_WL_ID];
	int64_t id = -1;
	int rc;

	store_bind_text(st, 1, name, NSEG_NAME_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		id = 0;
	else
		log_warnx("%s: %s: %s", __func__, name, sqlite3_errmsg(s->db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return id;
}

int64_t store_workload_ensure(struct store *s, const char *name, int64_t now)
{
	sqlite3_stmt *st = s->st[ST_WL_INSERT];
	int64_t id = store_workload_id(s, name);

	if (id != 0)
		return id;
	store_bind_text(st, 1, name, NSEG_NAME_MAX);
	sqlite3_bind_int64(st, 2, now);
	if (store_run(s, ST_WL_INSERT, __func__) == -1)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

static int store_version_upsert(struct store *s, int64_t wid,
				const char *version, int64_t first,
				int64_t last)
{
	sqlite3_stmt *st = s->st[ST_VER_UPSERT];

	sqlite3_bind_int64(st, 1, wid);
	store_bind_text(st, 2, version, NSEG_VERSION_MAX);
	sqlite3_bind_int64(st, 3, first);
	sqlite3_bind_int64(st, 4, last);
	return store_run(s, ST_VER_UPSERT, __func__);
}

/* Workload and version rows for an observation; returns the workload id. */
static int64_t store_identity_ensure(struct store *s, const char *workload,
				     const char *version, int64_t first,
				     int64_t last)
{
	int64_t wid = store_workload_ensure(s, workload, first);

	if (wid <= 0)
		return -1;
	if (store_version_upsert(s, wid, version, first, last) == -1)
		return -1;
	return wid;
}

/* NULL when v is a non-empty NUL-terminated string of at most max bytes. */
static const char *store_bad_str(const char *v, size_t max, const char *empty,
				 const char *unterminated)
{
	if (v[0] == '\0')
		return empty;
	if (strnlen(v, max) == max)
		return unterminated;
	return NULL;
}

const char *store_edge_key_invalid(const struct nseg_edge_key *k)
{
	const char *why;

	if ((why = store_bad_str(k->workload, sizeof(k->workload),
				 "empty workload", "workload too long")) ||
	    (why = store_bad_str(k->version, sizeof(k->version),
				 "empty version", "version too long")) ||
	    (why = store_bad_str(k->proc.exe, sizeof(k->proc.exe),
				 "empty process exe", "exe too long")) ||
	    (why = store_bad_str(k->peer, sizeof(k->peer), "empty peer",
				 "peer too long")))
		return why;
	if (strnlen(k->proc.comm, sizeof(k->proc.comm)) == sizeof(k->proc.comm))
		return "comm too long";
	if (strnlen(k->peer_proc.exe, sizeof(k->peer_proc.exe)) ==
	    sizeof(k->peer_proc.exe))
		return "peer exe too long";
	if (strnlen(k->peer_proc.comm, sizeof(k->peer_proc.comm)) ==
	    sizeof(k->peer_proc.comm))
		return "peer comm too long";
	if (nseg_dir_name(k->dir) == NULL)
		return "bad direction";
	return NULL;
}

static void store_proto_text(int proto, char *buf, size_t len)
{
	const char *name = nseg_proto_name(proto);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%d", proto);
}

static void store_edge_bind(sqlite3_stmt *st, int64_t wid,
			    const struct nseg_edge_key *k, uint64_t count,
			    int64_t first, int64_t last, int learning)
{
	char proto[8];

	store_proto_text(k->proto, proto, sizeof(proto));
	sqlite3_bind_int64(st, 1, wid);
	store_bind_text(st, 2, k->version, sizeof(k->version));
	store_bind_text(st, 3, k->proc.exe, sizeof(k->proc.exe));
	store_bind_text(st, 4, k->proc.comm, sizeof(k->proc.comm));
	sqlite3_bind_text(st, 5, nseg_dir_name(k->dir), -1, SQLITE_STATIC);
	store_bind_text(st, 6, k->peer, sizeof(k->peer));
	store_bind_text(st, 7, k->peer_proc.exe, sizeof(k->peer_proc.exe));
	store_bind_text(st, 8, k->peer_proc.comm, sizeof(k->peer_proc.comm));
	sqlite3_bind_text(st, 9, proto, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 10, k->port);
	sqlite3_bind_int64(st, 11,
			   count > INT64_MAX ? INT64_MAX : (int64_t)count);
	sqlite3_bind_int64(st, 12, first);
	sqlite3_bind_int64(st, 13, last);
	sqlite3_bind_int(st, 14, learning != 0);
}

static int store_edge_upsert(struct store *s, int64_t wid,
			     const struct nseg_edge_key *k, uint64_t count,
			     int64_t first, int64_t last, int learning)
{
	store_edge_bind(s->st[ST_EDGE_UPDATE], wid, k, count, first, last,
			learning);
	if (store_run(s, ST_EDGE_UPDATE, __func__) == -1)
		return -1;
	if (sqlite3_changes(s->db) > 0)
		return 0;
	store_edge_bind(s->st[ST_EDGE_INSERT], wid, k, count, first, last,
			learning);
	return store_run(s, ST_EDGE_INSERT, __func__);
}

int store_edge_add(struct store *s, const struct nseg_edge_key *k,
		   uint64_t count, int64_t first_seen, int64_t last_seen)
{
	return store_edge_add_seen(s, k, count, first_seen, last_seen, 1);
}

int store_edge_add_seen(struct store *s, const struct nseg_edge_key *k,
			uint64_t count, int64_t first_seen, int64_t last_seen,
			int learning)
{
	int64_t wid;
	int own, ok;
	const char *why = store_edge_key_invalid(k);

	if (why) {
		log_warnx("%s: %.*s: %s", __func__, NSEG_NAME_MAX - 1,
			  k->workload, why);
		return -1;
	}
	if (first_seen > last_seen) {
		log_warnx("%s: %s: first_seen %lld after last_seen %lld",
			  __func__, k->workload, (long long)first_seen,
			  (long long)last_seen);
		return -1;
	}
	if ((own = store_op_begin(s)) == -1)
		return -1;
	wid = store_identity_ensure(s, k->workload, k->version, first_seen,
				    last_seen);
	ok = wid > 0 && store_edge_upsert(s, wid, k, count, first_seen,
					  last_seen, learning) == 0;
	return store_op_end(s, own, ok);
}

int store_workload_touch(struct store *s, const char *workload,
			 const char *version, int64_t now)
{
	const char *why;
	int own, ok;

	if ((why = store_bad_str(workload, NSEG_NAME_MAX, "empty workload",
				 "workload too long")) ||
	    (why = store_bad_str(version, NSEG_VERSION_MAX, "empty version",
				 "version too long"))) {
		log_warnx("%s: %s", __func__, why);
		return -1;
	}
	if ((own = store_op_begin(s)) == -1)
		return -1;
	ok = store_identity_ensure(s, workload, version, now, now) > 0;
	return store_op_end(s, own, ok);
}

/*
 * Copies a text column into a fixed buffer. A value that does not fit was
 * not written by this code: report it rather than truncate silently.
 */
static int store_col_text(sqlite3_stmt *st, int col, char *buf, size_t len,
			  const char *what, int64_t id)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (v == NULL)
		v = "";
	if (n >= len) {
		log_warnx("store: row %lld: %s too long (%zu bytes)",
			  (long long)id, what, n);
		return -1;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

static int store_proto_parse(const char *s)
{
	char *end;
	long v;
	int p = nseg_proto_parse(s);

	if (p != -1)
		return p;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 0 || v > 255)
		return -1;
	return (int)v;
}

static int store_row_texts(sqlite3_stmt *st, struct store_edge *e)
{
	struct nseg_edge_key *k = &e->key;

	return store_col_text(st, 1, k->version, sizeof(k->version),
			      "version", e->id) ||
	       store_col_text(st, 2, k->proc.exe, sizeof(k->proc.exe), "exe",
			      e->id) ||
	       store_col_text(st, 3, k->proc.comm, sizeof(k->proc.comm),
			      "comm", e->id) ||
	       store_col_text(st, 5, k->peer, sizeof(k->peer), "peer",
			      e->id) ||
	       store_col_text(st, 6, k->peer_proc.exe,
			      sizeof(k->peer_proc.exe), "peer_exe", e->id) ||
	       store_col_text(st, 7, k->peer_proc.comm,
			      sizeof(k->peer_proc.comm), "peer_comm", e->id) ||
	       store_col_text(st, 10, e->state, sizeof(e->state), "state",
			      e->id) ||
	       store_col_text(st, 15, e->decided_by, sizeof(e->decided_by),
			      "decided_by", e->id) ||
	       store_col_text(st, 21, e->origin, sizeof(e->origin), "origin",
			      e->id);
}

/* e->key.workload is already set by the caller. */
static int store_row_edge(sqlite3_stmt *st, struct store_edge *e)
{
	const char *dir = (const char *)sqlite3_column_text(st, 4);
	const char *proto = (const char *)sqlite3_column_text(st, 8);
	int d, p;

	e->id = sqlite3_column_int64(st, 0);
	if (store_row_texts(st, e) == -1)
		return -1;
	d = dir ? nseg_dir_parse(dir) : -1;
	p = proto ? store_proto_parse(proto) : -1;
	if (d == -1 || p == -1) {
		log_warnx("store: edge %lld: bad direction '%s' or protocol "
			  "'%s'",
			  (long long)e->id, dir ? dir : "", proto ? proto : "");
		return -1;
	}
	e->key.dir = (uint8_t)d;
	e->key.proto = (uint8_t)p;
	e->key.port = (uint16_t)sqlite3_column_int(st, 9);
	e->count = (uint64_t)sqlite3_column_int64(st, 11);
	e->first_seen = sqlite3_column_int64(st, 12);
	e->last_seen = sqlite3_column_int64(st, 13);
	e->any_process = sqlite3_column_int(st, 14) != 0;
	e->decided_at = sqlite3_column_int64(st, 16); /* NULL reads as 0 */
	/* No usage row (or not approved): the LEFT JOIN's NULLs read as 0. */
	e->hits = (uint64_t)sqlite3_column_int64(st, 17);
	e->hit_bytes = (uint64_t)sqlite3_column_int64(st, 18);
	e->last_used = sqlite3_column_int64(st, 19);
	e->port_hi = sqlite3_column_type(st, 20) == SQLITE_NULL
			     ? e->key.port
			     : (uint16_t)sqlite3_column_int(st, 20);
	e->deviation = sqlite3_column_int(st, 22) == 0;
	return 0;
}

/*
 * What a walk returns when cb stopped it: a negative cb return is the
 * caller's error and must not read as a complete walk.
 */
static int store_cb_stop(int r)
{
	return r < 0 ? -1 : 0;
}

/* On its own failures sets errno to EIO; on cb's leaves cb's errno. */
static int store_edges_walk(struct store *s, sqlite3_stmt *st,
			    struct store_edge *e,
			    int (*cb)(const struct store_edge *e, void *arg),
			    void *arg)
{
	int rc, r;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (store_row_edge(st, e) == -1) {
			errno = EIO;
			return -1;
		}
		if ((r = cb(e, arg)) != 0)
			return store_cb_stop(r);
	}
	if (rc == SQLITE_DONE)
		return 0;
	log_warnx("%s: %s: %s", __func__, e->key.workload,
		  sqlite3_errmsg(s->db));
	errno = EIO;
	return -1;
}

int store_edges_foreach(struct store *s, const char *workload,
			const char *version, int *found,
			int (*cb)(const struct store_edge *e, void *arg),
			void *arg)
{
	sqlite3_stmt *st = s->st[version ? ST_EDGES_VER : ST_EDGES_ALL];
	struct store_edge *e = NULL;
	int64_t wid;
	int ret = -1;

	*found = 0;
	if ((wid = store_workload_id(s, workload)) <= 0)
		return wid == 0 ? 0 : -1;
	*found = 1;
	/* One struct store_edge is ~1.8 KB: keep it off the stack. */
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		log_warn("%s", __func__);
		goto out;
	}
	snprintf(e->key.workload, sizeof(e->key.workload), "%s", workload);
	sqlite3_bind_int64(st, 1, wid);
	if (version)
		store_bind_text(st, 2, version, NSEG_VERSION_MAX);
	ret = store_edges_walk(s, st, e, cb, arg);
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(e);
	return ret;
}

static int store_versions_push(struct store *s, size_t n, const char *v,
			       int64_t wid)
{
	char(*nv)[NSEG_VERSION_MAX];
	size_t cap;

	if (n == s->versions_cap) {
		cap = s->versions_cap ? s->versions_cap * 2 : 8;
		if ((nv = reallocarray(s->versions, cap, sizeof(*nv))) ==
		    NULL) {
			log_warn("%s", __func__);
			return -1;
		}
		s->versions = nv;
		s->versions_cap = cap;
	}
	if (strlen(v) >= NSEG_VERSION_MAX) {
		log_warnx("store: workload %lld: version too long",
			  (long long)wid);
		return -1;
	}
	strcpy(s->versions[n], v);
	return 0;
}

static int store_workload_versions(struct store *s, struct store_workload *w)
{
	sqlite3_stmt *st = s->st[ST_WL_VERSIONS];
	const char *v;
	int rc, ret = -1;

	w->n_versions = 0;
	sqlite3_bind_int64(st, 1, w->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, 0);
		if (store_versions_push(s, w->n_versions, v ? v : "", w->id))
			goto out;
		w->n_versions++;
	}
	if (rc != SQLITE_DONE) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(s->db));
		goto out;
	}
	w->versions = s->versions;
	ret = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static int store_row_workload(struct store *s, sqlite3_stmt *st,
			      struct store_workload *w)
{
	w->id = sqlite3_column_int64(st, 0);
	if (store_col_text(st, 1, w->name, sizeof(w->name), "workload name",
			   w->id) ||
	    store_col_text(st, 2, w->mode, sizeof(w->mode), "workload mode",
			   w->id))
		return -1;
	w->created = sqlite3_column_int64(st, 3);
	w->n_edges = (uint64_t)sqlite3_column_int64(st, 4);
	w->revision = sqlite3_column_int64(st, 5);
	w->learn_window_ms = sqlite3_column_int64(st, 6);
	return store_workload_versions(s, w);
}

int store_workloads_foreach(struct store *s,
			    int (*cb)(const struct store_workload *w,
				      void *arg),
			    void *arg)
{
	sqlite3_stmt *st = s->st[ST_WORKLOADS];
	struct store_workload *w;
	int rc, r, ret = -1;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (store_row_workload(s, st, w) == -1)
			goto out;
		if ((r = cb(w, arg)) != 0) {
			ret = store_cb_stop(r);
			goto out;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_reset(st);
	free(w);
	return ret;
}

/* Fails with errno err: the caller's view of what went wrong. */
static int store_fail(int err)
{
	errno = err;
	return -1;
}

/*
 * A name that a lookup can match exactly: a longer one would be cut at
 * the bind and could name another workload.
 */
static int store_name_ok(const char *name, const char *fn)
{
	const char *why = store_bad_str(name, NSEG_NAME_MAX, "empty workload",
					"workload too long");

	if (why == NULL)
		return 0;
	log_warnx("%s: %s", fn, why);
	return store_fail(EINVAL);
}

/*
 * The workload's id, mode and revision. Returns 1 when it exists, 0 when
 * it does not, -1 on a database error (logged).
 */
static int store_workload_row(struct store *s, const char *name, int64_t *id,
			      char mode[16], int64_t *revision)
{
	sqlite3_stmt *st = s->st[ST_WL_GET];
	int rc, ret = -1;

	store_bind_text(st, 1, name, NSEG_NAME_MAX);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*revision = sqlite3_column_int64(st, 2);
		if (store_col_text(st, 1, mode, 16, "workload mode", *id) == 0)
			ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		log_warnx("%s: %s: %s", __func__, name, sqlite3_errmsg(s->db));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int store_workload_get(struct store *s, const char *workload, char mode[16],
		       int64_t *revision)
{
	int64_t id;
	int rc;

	if (store_name_ok(workload, __func__) == -1)
		return -1;
	rc = store_workload_row(s, workload, &id, mode, revision);
	if (rc <= 0)
		return store_fail(rc == 0 ? ENOENT : EIO);
	return 0;
}

static int store_mode_valid(const char *mode)
{
	return strcmp(mode, "learn") == 0 || strcmp(mode, "notify") == 0 ||
	       strcmp(mode, "enforce") == 0;
}

int store_workload_set_mode(struct store *s, const char *workload,
			    const char *mode, char previous[16])
{
	sqlite3_stmt *st = s->st[ST_WL_SET_MODE];
	char old[16];
	int64_t id, rev;
	int own, found, ok = 0, err = EIO;

	if (store_name_ok(workload, __func__) == -1)
		return -1;
	if (!store_mode_valid(mode)) {
		log_warnx("%s: %s: bad mode '%.16s'", __func__, workload, mode);
		return store_fail(EINVAL);
	}
	if ((own = store_op_begin(s)) == -1)
		return store_fail(EIO);
	found = store_workload_row(s, workload, &id, old, &rev);
	if (found == 0)
		err = ENOENT;
	if (found == 1) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, mode, -1, SQLITE_STATIC);
		ok = store_run(s, ST_WL_SET_MODE, __func__) == 0;
	}
	if (store_op_end(s, own, ok) == -1)
		return store_fail(err);
	if (previous)
		memcpy(previous, old, sizeof(old));
	return 0;
}

/* One decision of store_edges_decide(), as bound to its statements. */
struct store_decision {
	const char *state;
	int any_process;
	const char *who;
	int64_t now;
};

/* A decider must read back into struct store_edge. */
#define STORE_WHO_MAX sizeof(((struct store_edge *)0)->decided_by)

static int store_decide_args_ok(const char *workload, const char *state,
				const char *who, int all, const int64_t *ids,
				size_t n_ids)
{
	const char *why = NULL;

	if (store_name_ok(workload, "store_edges_decide") == -1)
		return -1;
	if (state == NULL || (strcmp(state, "approved") != 0 &&
			      strcmp(state, "rejected") != 0))
		why = "state must be 'approved' or 'rejected'";
	else if (who == NULL || who[0] == '\0')
		why = "empty decided_by";
	else if (strnlen(who, STORE_WHO_MAX) == STORE_WHO_MAX)
		why = "decided_by too long";
	else if (!all && n_ids > 0 && ids == NULL)
		why = "no ids";
	else if (!all && n_ids > INT_MAX)
		why = "too many ids";
	if (why == NULL)
		return 0;
	log_warnx("store_edges_decide: %s: %s", workload, why);
	return store_fail(EINVAL);
}

/* Decides one edge (by id) or all learned edges (by workload id). */
static int store_decide_stmt(struct store *s, enum store_st which, int64_t key,
			     const struct store_decision *d)
{
	sqlite3_stmt *st = s->st[which];

	sqlite3_bind_int64(st, 1, key);
	sqlite3_bind_text(st, 2, d->state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, d->any_process);
	store_bind_text(st, 4, d->who, STORE_WHO_MAX);
	sqlite3_bind_int64(st, 5, d->now);
	if (store_run(s, which, __func__) == -1)
		return -1;
	return sqlite3_changes(s->db);
}

/* 1 when edge id belongs to workload wid, 0 when not, -1 on error. */
static int store_edge_owned(struct store *s, int64_t id, int64_t wid)
{
	sqlite3_stmt *st = s->st[ST_EDGE_OF_WL];
	int rc;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, wid);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc == SQLITE_ROW;
	log_warnx("%s: edge %lld: %s", __func__, (long long)id,
		  sqlite3_errmsg(s->db));
	return -1;
}

/*
 * The edges of one store_edges_decide() call: returns how many changed, or
 * -1 with *bad and *err set when an id is not the workload's.
 */
static int store_decide_rows(struct store *s, int64_t wid, int all,
			     const int64_t *ids, size_t n_ids,
			     const struct store_decision *d, int64_t *bad,
			     int *err)
{
	int changed = 0, rc;

	if (all)
		return store_decide_stmt(s, all == STORE_DECIDE_ALL_DEVIATIONS
						    ? ST_EDGES_DECIDE_ALL_DEV
						    : ST_EDGES_DECIDE_ALL,
					 wid, d);
	for (size_t i = 0; i < n_ids; i++) {
		rc = store_edge_owned(s, ids[i], wid);
		if (rc == 0) {
			*bad = ids[i];
			*err = ENOENT;
		}
		if (rc <= 0)
			return -1;
		if ((rc = store_decide_stmt(s, ST_EDGE_DECIDE, ids[i], d)) == -1)
			return -1;
		changed += rc;
	}
	return changed;
}

static int store_workload_bump(struct store *s, int64_t wid)
{
	sqlite3_bind_int64(s->st[ST_WL_BUMP], 1, wid);
	return store_run(s, ST_WL_BUMP, __func__);
}

int store_edges_decide(struct store *s, const char *workload,
		       const char *state, int all, const int64_t *ids,
		       size_t n_ids, int any_process, const char *who,
		       int64_t now, int64_t *bad_id, int64_t *revision)
{
	struct store_decision d = { state, 0, who, now };
	int64_t wid, rev, bad = 0;
	char mode[16];
	int own, changed = -1, err = EIO;

	if (bad_id)
		*bad_id = 0;
	if (store_decide_args_ok(workload, state, who, all, ids, n_ids) == -1)
		return -1;
	/* A rejected edge is approved for nobody, any process or not. */
	d.any_process = strcmp(state, "approved") == 0 && any_process != 0;
	if ((own = store_op_begin(s)) == -1)
		return store_fail(EIO);
	switch (store_workload_row(s, workload, &wid, mode, &rev)) {
	case 1:
		changed = store_decide_rows(s, wid, all, ids, n_ids, &d, &bad,
					    &err);
		break;
	case 0:
		err = ENOENT;
		break;
	}
	if (changed > 0 && store_workload_bump(s, wid) == -1)
		changed = -1;
	if (store_op_end(s, own, changed >= 0) == -1) {
		if (bad_id)
			*bad_id = bad;
		return store_fail(err);
	}
	if (revision)
		*revision = changed > 0 ? rev + 1 : rev;
	return changed;
}

int store_edges_deviations(struct store *s, const char *workload,
			   uint64_t *n)
{
	sqlite3_stmt *st = s->st[ST_EDGES_DEV_ONLY];
	int rc;

	if (store_name_ok(workload, __func__) == -1)
		return -1;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 0;
	log_warnx("%s: %s", __func__, sqlite3_errmsg(s->db));
	return store_fail(EIO);
}

int store_approved_foreach(struct store *s, const char *workload,
			   int (*cb)(const struct store_edge *e, void *arg),
			   void *arg)
{
	sqlite3_stmt *st = s->st[ST_EDGES_APPROVED];
	struct store_edge *e;
	int64_t wid;
	int ret, saved;

	if (store_name_ok(workload, __func__) == -1)
		return -1;
	if ((wid = store_workload_id(s, workload)) <= 0)
		return store_fail(wid == 0 ? ENOENT : EIO);
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	snprintf(e->key.workload, sizeof(e->key.workload), "%s", workload);
	sqlite3_bind_int64(st, 1, wid);
	ret = store_edges_walk(s, st, e, cb, arg);
	saved = errno;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(e);
	errno = saved;
	return ret;
}

/* Why store_alert_add() refuses a, or NULL. */
static const char *store_alert_invalid(const struct store_alert *a)
{
	const struct {
		const char *v;
		size_t max;
		const char *why;
	} strs[] = {
		{ a->version, sizeof(a->version), "version too long" },
		{ a->container, sizeof(a->container), "container too long" },
		{ a->proc.exe, sizeof(a->proc.exe), "exe too long" },
		{ a->proc.comm, sizeof(a->proc.comm), "comm too long" },
		{ a->peer, sizeof(a->peer), "peer too long" },
		{ a->peer_address, sizeof(a->peer_address),
		  "peer address too long" },
		{ a->action, sizeof(a->action), "bad action" },
		{ a->kind, sizeof(a->kind), "kind too long" },
	};
	const char *why;

	if ((why = store_bad_str(a->workload, sizeof(a->workload),
				 "empty workload", "workload too long")))
		return why;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strnlen(strs[i].v, strs[i].max) == strs[i].max)
			return strs[i].why;
	if (strcmp(a->action, "notify") != 0 && strcmp(a->action, "block") != 0)
		return "bad action";
	if (a->kind[0] == '\0')
		return "empty kind";
	if (nseg_dir_name(a->dir) == NULL)
		return "bad direction";
	if (a->time_first > a->time_last)
		return "time_first after time_last";
	return NULL;
}

static void store_alert_bind(sqlite3_stmt *st, const struct store_alert *a)
{
	char proto[8];

	store_proto_text(a->proto, proto, sizeof(proto));
	sqlite3_bind_int64(st, 1, a->time_first);
	sqlite3_bind_int64(st, 2, a->time_last);
	store_bind_text(st, 3, a->workload, sizeof(a->workload));
	store_bind_text(st, 4, a->version, sizeof(a->version));
	store_bind_text(st, 5, a->container, sizeof(a->container));
	sqlite3_bind_int64(st, 6, a->pid);
	store_bind_text(st, 7, a->proc.exe, sizeof(a->proc.exe));
	store_bind_text(st, 8, a->proc.comm, sizeof(a->proc.comm));
	sqlite3_bind_text(st, 9, nseg_dir_name(a->dir), -1, SQLITE_STATIC);
	store_bind_text(st, 10, a->peer, sizeof(a->peer));
	store_bind_text(st, 11, a->peer_address, sizeof(a->peer_address));
	sqlite3_bind_text(st, 12, proto, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 13, a->port);
	store_bind_text(st, 14, a->action, sizeof(a->action));
	store_bind_text(st, 15, a->kind, sizeof(a->kind));
	sqlite3_bind_int64(st, 16,
			   a->count > INT64_MAX ? INT64_MAX : (int64_t)a->count);
	sqlite3_bind_int64(st, 17, a->baseline);
	store_bind_text(st, 18, a->baseline_version,
			sizeof(a->baseline_version));
	store_bind_text(st, 19, a->pcap, sizeof(a->pcap));
	store_bind_text(st, 20, a->pcap_note, sizeof(a->pcap_note));
}

int store_alert_add(struct store *s, struct store_alert *a)
{
	const char *why = store_alert_invalid(a);

	if (why) {
		log_warnx("%s: %.*s: %s", __func__, NSEG_NAME_MAX - 1,
			  a->workload, why);
		return store_fail(EINVAL);
	}
	store_alert_bind(s->st[ST_ALERT_INSERT], a);
	if (store_run(s, ST_ALERT_INSERT, __func__) == -1)
		return store_fail(EIO);
	a->id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_alert_bump(struct store *s, int64_t id, uint64_t n,
		     int64_t time_last)
{
	sqlite3_stmt *st = s->st[ST_ALERT_BUMP];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, n > INT64_MAX ? INT64_MAX : (int64_t)n);
	sqlite3_bind_int64(st, 3, time_last);
	if (store_run(s, ST_ALERT_BUMP, __func__) == -1)
		return store_fail(EIO);
	return sqlite3_changes(s->db) > 0 ? 0 : store_fail(ENOENT);
}

static int store_alert_texts(sqlite3_stmt *st, struct store_alert *a)
{
	return store_col_text(st, 3, a->workload, sizeof(a->workload),
			      "alert workload", a->id) ||
	       store_col_text(st, 4, a->version, sizeof(a->version),
			      "alert version", a->id) ||
	       store_col_text(st, 5, a->container, sizeof(a->container),
			      "alert container", a->id) ||
	       store_col_text(st, 7, a->proc.exe, sizeof(a->proc.exe),
			      "alert exe", a->id) ||
	       store_col_text(st, 8, a->proc.comm, sizeof(a->proc.comm),
			      "alert comm", a->id) ||
	       store_col_text(st, 10, a->peer, sizeof(a->peer), "alert peer",
			      a->id) ||
	       store_col_text(st, 11, a->peer_address, sizeof(a->peer_address),
			      "alert peer address", a->id) ||
	       store_col_text(st, 14, a->action, sizeof(a->action),
			      "alert action", a->id) ||
	       store_col_text(st, 15, a->kind, sizeof(a->kind), "alert kind",
			      a->id) ||
	       store_col_text(st, 18, a->baseline_version,
			      sizeof(a->baseline_version),
			      "alert baseline version", a->id) ||
	       store_col_text(st, 19, a->pcap, sizeof(a->pcap), "alert pcap",
			      a->id) ||
	       store_col_text(st, 20, a->pcap_note, sizeof(a->pcap_note),
			      "alert pcap note", a->id);
}

static int store_row_alert(sqlite3_stmt *st, struct store_alert *a)
{
	const char *dir = (const char *)sqlite3_column_text(st, 9);
	const char *proto = (const char *)sqlite3_column_text(st, 12);
	int d, p;

	a->id = sqlite3_column_int64(st, 0);
	if (store_alert_texts(st, a) == -1)
		return -1;
	d = dir ? nseg_dir_parse(dir) : -1;
	p = proto ? store_proto_parse(proto) : -1;
	if (d == -1 || p == -1) {
		log_warnx("store: alert %lld: bad direction '%s' or protocol "
			  "'%s'",
			  (long long)a->id, dir ? dir : "", proto ? proto : "");
		return -1;
	}
	a->dir = (uint8_t)d;
	a->proto = (uint8_t)p;
	a->time_first = sqlite3_column_int64(st, 1);
	a->time_last = sqlite3_column_int64(st, 2);
	a->pid = sqlite3_column_int64(st, 6);
	a->port = (uint16_t)sqlite3_column_int(st, 13);
	a->count = (uint64_t)sqlite3_column_int64(st, 16);
	a->baseline = sqlite3_column_int64(st, 17);
	return 0;
}

static int store_alerts_walk(struct store *s, sqlite3_stmt *st,
			     struct store_alert *a,
			     int (*cb)(const struct store_alert *a, void *arg),
			     void *arg)
{
	int rc, r;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (store_row_alert(st, a) == -1)
			return store_fail(EIO);
		if ((r = cb(a, arg)) != 0)
			return store_cb_stop(r);
	}
	if (rc == SQLITE_DONE)
		return 0;
	log_warnx("%s: %s", __func__, sqlite3_errmsg(s->db));
	return store_fail(EIO);
}

int store_alerts_foreach(struct store *s, const char *workload, int64_t since,
			 int64_t after_id,
			 int (*cb)(const struct store_alert *a, void *arg),
			 void *arg)
{
	sqlite3_stmt *st = s->st[workload ? ST_ALERTS_WL : ST_ALERTS_ALL];
	struct store_alert *a;
	int ret, saved;

	if (workload && store_name_ok(workload, __func__) == -1)
		return -1;
	/* ~1.4 KB: off the stack, like an edge. */
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, since);
	if (workload)
		store_bind_text(st, 3, workload, NSEG_NAME_MAX);
	ret = store_alerts_walk(s, st, a, cb, arg);
	saved = errno;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(a);
	errno = saved;
	return ret;
}

/* Why store_usage_add() refuses its arguments, or NULL. */
static const char *store_usage_invalid(const char *workload, uint8_t dir,
				       const char *peer, const char *exe,
				       const char *comm)
{
	const char *why;

	if (workload == NULL || peer == NULL || exe == NULL)
		return "missing workload, peer or exe";
	if ((why = store_bad_str(workload, NSEG_NAME_MAX, "empty workload",
				 "workload too long")) ||
	    (why = store_bad_str(peer, NSEG_NAME_MAX, "empty peer",
				 "peer too long")) ||
	    (why = store_bad_str(exe, NSEG_EXE_MAX, "empty exe",
				 "exe too long")))
		return why;
	if (strcmp(exe, "*") != 0 &&
	    (comm == NULL || strnlen(comm, NSEG_COMM_MAX) == NSEG_COMM_MAX))
		return "missing or too long comm";
	if (nseg_dir_name(dir) == NULL)
		return "bad direction";
	return NULL;
}

static int64_t store_clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int store_usage_add(struct store *s, const char *workload, uint8_t dir,
		    const char *peer, uint8_t proto, uint16_t port,
		    const char *exe, const char *comm, uint64_t hits,
		    uint64_t bytes, int64_t when)
{
	sqlite3_stmt *st = s->st[ST_USAGE_UPSERT];
	const char *why = store_usage_invalid(workload, dir, peer, exe, comm);
	char ptext[8];

	if (why) {
		log_warnx("%s: %.*s: %s", __func__, NSEG_NAME_MAX - 1,
			  workload ? workload : "", why);
		return store_fail(EINVAL);
	}
	/* Any process: comm means nothing, and the rule's name is '*'. */
	if (strcmp(exe, "*") == 0)
		comm = "*";
	store_proto_text(proto, ptext, sizeof(ptext));
	store_bind_text(st, 1, workload, NSEG_NAME_MAX);
	sqlite3_bind_text(st, 2, nseg_dir_name(dir), -1, SQLITE_STATIC);
	store_bind_text(st, 3, peer, NSEG_NAME_MAX);
	sqlite3_bind_text(st, 4, ptext, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, port);
	store_bind_text(st, 6, exe, NSEG_EXE_MAX);
	store_bind_text(st, 7, comm, NSEG_COMM_MAX);
	sqlite3_bind_int64(st, 8, store_clamp(hits));
	sqlite3_bind_int64(st, 9, store_clamp(bytes));
	sqlite3_bind_int64(st, 10, when);
	if (store_run(s, ST_USAGE_UPSERT, __func__) == -1)
		return store_fail(EIO);
	return sqlite3_changes(s->db) > 0 ? 0 : store_fail(ENOENT);
}
