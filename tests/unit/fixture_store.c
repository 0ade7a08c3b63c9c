/*
 * The store fixture the unit tests share (see fixture_store.h).
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture_store.h"

void fixture_store_setup(struct fixture_store *f, const char *name)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/nseg-test-%s-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/nseg.db", f->dir);
}

void fixture_store_teardown(const struct fixture_store *f)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[160];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->db, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
}

struct store *fixture_store_open(const char *path)
{
	char err[256];
	struct store *s = store_open(path, err, sizeof(err));

	ck_assert_msg(s != NULL, "store_open: %s", err);
	return s;
}

void fixture_store_exec(const char *db, const char *sql)
{
	sqlite3 *raw;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(db, &raw), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(raw, sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_close(raw);
}
