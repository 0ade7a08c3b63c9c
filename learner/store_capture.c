#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nseg/log.h"
#include "nseg/store_capture.h"
#include "store_int.h"

#define CAPTURE_COLS                                                    \
	"c.id, c.kind, c.workload, c.container, c.filter, c.path, c.started," \
	" c.ended, c.packets, c.bytes, c.state, c.note,"                      \
	" coalesce((SELECT max(a.id) FROM alerts a"                \
	" WHERE a.pcap = c.path AND a.pcap != ''), 0)"

static int sc_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	log_warnx("store captures: %s", sqlite3_errmsg(db));
	errno = EIO;
	return -1;
}

static int sc_done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	log_warnx("store captures: %s", sqlite3_errmsg(db));
	errno = EIO;
	return -1;
}

static int64_t sc_clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int sc_valid(const struct store_capture *c)
{
	return (strcmp(c->kind, "alert") == 0 ||
		strcmp(c->kind, "ondemand") == 0) &&
	       c->workload[0] && c->path[0] && c->state[0] &&
	       memchr(c->workload, 0, sizeof(c->workload)) &&
	       memchr(c->container, 0, sizeof(c->container)) &&
	       memchr(c->filter, 0, sizeof(c->filter)) &&
	       memchr(c->path, 0, sizeof(c->path)) &&
	       memchr(c->note, 0, sizeof(c->note));
}

int store_capture_put(struct store *s, const struct store_capture *c)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st;

	if (c->id <= 0 || !sc_valid(c)) {
		errno = EINVAL;
		return -1;
	}
	if (sc_prepare(db,
		       "INSERT INTO captures (id, kind, workload, container,"
		       " filter, path, started, ended, packets, bytes, state,"
		       " note)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		       " ?12)"
		       " ON CONFLICT (id) DO UPDATE SET path = excluded.path,"
		       " ended = excluded.ended, packets = excluded.packets,"
		       " bytes = excluded.bytes, state = excluded.state,"
		       " note = excluded.note",
		       &st) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_text(st, 2, c->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->workload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->container, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->filter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, c->started);
	sqlite3_bind_int64(st, 8, c->ended);
	sqlite3_bind_int64(st, 9, sc_clamp(c->packets));
	sqlite3_bind_int64(st, 10, sc_clamp(c->bytes));
	sqlite3_bind_text(st, 11, c->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, c->note, -1, SQLITE_STATIC);
	return sc_done(db, st);
}

int store_capture_max_id(struct store *s, int64_t *id)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st;
	int rc;

	if (sc_prepare(db, "SELECT coalesce(max(id), 0) FROM captures",
		       &st) == -1)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	log_warnx("store captures: %s", sqlite3_errmsg(db));
	errno = EIO;
	return -1;
}

static void sc_text(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", v ? (const char *)v : "");
}

static void sc_row(sqlite3_stmt *st, struct store_capture *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	sc_text(st, 1, c->kind, sizeof(c->kind));
	sc_text(st, 2, c->workload, sizeof(c->workload));
	sc_text(st, 3, c->container, sizeof(c->container));
	sc_text(st, 4, c->filter, sizeof(c->filter));
	sc_text(st, 5, c->path, sizeof(c->path));
	c->started = sqlite3_column_int64(st, 6);
	c->ended = sqlite3_column_int64(st, 7);
	c->packets = (uint64_t)sqlite3_column_int64(st, 8);
	c->bytes = (uint64_t)sqlite3_column_int64(st, 9);
	sc_text(st, 10, c->state, sizeof(c->state));
	sc_text(st, 11, c->note, sizeof(c->note));
	c->alert_id = sqlite3_column_int64(st, 12);
}

/* Binds id to st's ?1 and reads its one row into c; finalizes st. */
static int sc_one(sqlite3_stmt *st, int64_t id, struct store_capture *c)
{
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		sc_row(st, c);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	errno = rc == SQLITE_DONE ? ENOENT : EIO;
	return -1;
}

int store_capture_get(struct store *s, int64_t id, struct store_capture *c)
{
	sqlite3_stmt *st;

	if (sc_prepare(store_sqlite(s),
		       "SELECT " CAPTURE_COLS " FROM captures c WHERE c.id = ?1",
		       &st) == -1)
		return -1;
	return sc_one(st, id, c);
}

int store_captures_foreach(struct store *s, const char *workload,
			   int (*cb)(const struct store_capture *c, void *arg),
			   void *arg)
{
	sqlite3 *db = store_sqlite(s);
	struct store_capture *c = malloc(sizeof(*c));
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (!c || sc_prepare(db,
			     "SELECT " CAPTURE_COLS " FROM captures c"
			     " WHERE ?1 IS NULL OR c.workload = ?1"
			     " ORDER BY c.id",
			     &st) == -1)
		goto out;
	if (workload)
		sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sc_row(st, c);
		if ((rc = cb(c, arg)) != 0) {
			ret = rc < 0 ? -1 : 0;
			goto out;
		}
	}
	if (rc == SQLITE_DONE)
		ret = 0;
	else
		log_warnx("store captures: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	free(c);
	return ret;
}

int store_capture_of_alert(struct store *s, int64_t alert_id,
			   struct store_capture *c)
{
	sqlite3_stmt *st;

	if (sc_prepare(store_sqlite(s),
		       "SELECT " CAPTURE_COLS " FROM captures c"
		       " JOIN alerts a ON a.pcap = c.path AND a.pcap != ''"
		       " WHERE a.id = ?1 ORDER BY c.id DESC LIMIT 1",
		       &st) == -1)
		return -1;
	return sc_one(st, alert_id, c);
}

static int sc_exec_text(struct store *s, const char *sql, const char *a,
			int64_t b)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st;

	if (sc_prepare(db, sql, &st) == -1)
		return -1;
	if (a)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, b);
	return sc_done(db, st);
}

int store_capture_evicted(struct store *s, const char *path)
{
	return sc_exec_text(s,
			    "UPDATE captures SET state = 'evicted',"
			    " note = 'deleted to stay under capture.quota'"
			    " WHERE path = ?1 AND ?2 = ?2",
			    path, 0);
}

int store_captures_interrupted(struct store *s, int64_t now)
{
	return sc_exec_text(s,
			    "UPDATE captures SET state = 'interrupted',"
			    " ended = ?2, note = 'nsegd stopped while it ran'"
			    " WHERE state = 'running' AND (?1 IS NULL)",
			    NULL, now);
}
