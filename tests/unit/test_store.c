#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sqlite3.h>

#include "nseg/store.h"

static char tmpdir[64];
static char dbpath[128];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nseg-test-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/nseg.db", tmpdir);
}

static void teardown(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, sfx[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static struct store *open_ok(void)
{
	char err[256];
	struct store *s = store_open(dbpath, err, sizeof(err));

	ck_assert_msg(s != NULL, "store_open: %s", err);
	return s;
}

/* Runs sql on a second, raw connection to the same file. */
static void raw_exec(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}

static int64_t raw_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static struct nseg_edge_key key(const char *wl, const char *ver,
				const char *comm, const char *peer,
				int proto, int port)
{
	struct nseg_edge_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.workload, sizeof(k.workload), "%s", wl);
	snprintf(k.version, sizeof(k.version), "%s", ver);
	snprintf(k.proc.exe, sizeof(k.proc.exe), "/bin/busybox");
	snprintf(k.proc.comm, sizeof(k.proc.comm), "%s", comm);
	k.dir = NSEG_EGRESS;
	snprintf(k.peer, sizeof(k.peer), "%s", peer);
	k.proto = (uint8_t)proto;
	k.port = (uint16_t)port;
	return k;
}

#define MAX_SEEN 64

struct seen {
	size_t n;
	struct store_edge e[MAX_SEEN];
	size_t stop_after; /* 0: never stop */
};

static int collect(const struct store_edge *e, void *arg)
{
	struct seen *sn = arg;

	ck_assert_uint_lt(sn->n, MAX_SEEN);
	sn->e[sn->n++] = *e;
	return sn->stop_after && sn->n == sn->stop_after;
}

static struct seen *edges(struct store *s, const char *wl, const char *ver,
			  int *found)
{
	static struct seen sn;

	memset(&sn, 0, sizeof(sn));
	ck_assert_int_eq(store_edges_foreach(s, wl, ver, found, collect, &sn),
			 0);
	return &sn;
}

START_TEST(test_open_new)
{
	struct store *s = open_ok();
	struct stat st;
	char wal[160];

	ck_assert_int_eq(stat(dbpath, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* sqlite gives the WAL the database's mode. */
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	ck_assert_int_eq(store_workload_touch(s, "web", "1", 1), 0);
	ck_assert_int_eq(stat(wal, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	store_close(s);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int("PRAGMA application_id"),
			 STORE_APPLICATION_ID);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_schema WHERE "
				 "name IN ('workloads','versions','edges')"),
			 3);
}
END_TEST

START_TEST(test_wal)
{
	struct store *s = open_ok();
	sqlite3 *db;
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
					    NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_close(s);
}
END_TEST

START_TEST(test_upsert_merges)
{
	struct store *s = open_ok();
	struct nseg_edge_key k = key("web", "1.0", "wget", "api", IPPROTO_TCP,
				     8080);
	struct seen *sn;
	int found;

	ck_assert_int_eq(store_edge_add(s, &k, 2, 100, 200), 0);
	ck_assert_int_eq(store_edge_add(s, &k, 3, 50, 150), 0);
	ck_assert_int_eq(store_edge_add(s, &k, 1, 300, 400), 0);
	sn = edges(s, "web", NULL, &found);
	ck_assert_int_eq(found, 1);
	ck_assert_uint_eq(sn->n, 1);
	ck_assert_uint_eq(sn->e[0].count, 6);
	ck_assert_int_eq(sn->e[0].first_seen, 50);
	ck_assert_int_eq(sn->e[0].last_seen, 400);
	ck_assert_str_eq(sn->e[0].state, "learned");
	ck_assert_str_eq(sn->e[0].key.workload, "web");
	ck_assert_str_eq(sn->e[0].key.version, "1.0");
	ck_assert_str_eq(sn->e[0].key.proc.exe, "/bin/busybox");
	ck_assert_str_eq(sn->e[0].key.proc.comm, "wget");
	ck_assert_str_eq(sn->e[0].key.peer, "api");
	ck_assert_str_eq(sn->e[0].key.peer_proc.exe, "");
	ck_assert_int_eq(sn->e[0].key.dir, NSEG_EGRESS);
	ck_assert_int_eq(sn->e[0].key.proto, IPPROTO_TCP);
	ck_assert_int_eq(sn->e[0].key.port, 8080);
	store_close(s);
	ck_assert_int_eq(raw_int("SELECT first_seen FROM versions"), 50);
	ck_assert_int_eq(raw_int("SELECT last_seen FROM versions"), 400);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE "
				 "protocol = 'tcp' AND peer_comm = ''"),
			 1);
}
END_TEST

/* Each field of the identity separates edges; count saturates. */
START_TEST(test_identity_fields)
{
	struct store *s = open_ok();
	struct nseg_edge_key base = key("web", "1.0", "wget", "api",
					IPPROTO_TCP, 80);
	struct nseg_edge_key k[8];
	struct seen *sn;
	int found;

	for (int i = 0; i < 8; i++)
		k[i] = base;
	k[1].dir = NSEG_INGRESS;
	k[2].proto = 47; /* GRE: no name, stored as "47" */
	k[3].port = 81;
	snprintf(k[4].peer_proc.exe, sizeof(k[4].peer_proc.exe), "/usr/bin/x");
	snprintf(k[5].peer_proc.comm, sizeof(k[5].peer_proc.comm), "x");
	snprintf(k[6].proc.comm, sizeof(k[6].proc.comm), "httpd");
	snprintf(k[7].peer, sizeof(k[7].peer), "external:10.0.0.0/8");
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(store_edge_add(s, &k[i], 1, 1, 1), 0);
	ck_assert_int_eq(store_edge_add(s, &base, INT64_MAX, 1, 1), 0);
	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 8);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(sn->e[i].id, i + 1);
		ck_assert_int_eq(sn->e[i].key.dir, k[i].dir);
		ck_assert_int_eq(sn->e[i].key.proto, k[i].proto);
		ck_assert_int_eq(sn->e[i].key.port, k[i].port);
		ck_assert_str_eq(sn->e[i].key.peer_proc.exe,
				 k[i].peer_proc.exe);
		ck_assert_str_eq(sn->e[i].key.peer_proc.comm,
				 k[i].peer_proc.comm);
		ck_assert_str_eq(sn->e[i].key.proc.comm, k[i].proc.comm);
		ck_assert_str_eq(sn->e[i].key.peer, k[i].peer);
	}
	ck_assert_uint_eq(sn->e[0].count, INT64_MAX);
	store_close(s);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE "
				 "protocol = '47'"),
			 1);
}
END_TEST

START_TEST(test_ids_stable_across_reopen)
{
	struct store *s = open_ok();
	struct nseg_edge_key a = key("web", "1.0", "wget", "api", 6, 80);
	struct nseg_edge_key b = key("web", "1.0", "wget", "db", 6, 5432);
	struct nseg_edge_key c = key("web", "1.0", "nc", "db", 6, 5432);
	struct nseg_edge_key d = key("web", "1.0", "nc", "api", 6, 80);
	struct seen *sn;
	int found;

	ck_assert_int_eq(store_edge_add(s, &a, 1, 10, 10), 0);
	ck_assert_int_eq(store_edge_add(s, &b, 1, 10, 10), 0);
	store_close(s);
	s = open_ok();
	ck_assert_int_eq(store_edge_add(s, &b, 4, 20, 20), 0);
	ck_assert_int_eq(store_edge_add(s, &c, 1, 20, 20), 0);
	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 3);
	ck_assert_int_eq(sn->e[0].id, 1);
	ck_assert_str_eq(sn->e[0].key.peer, "api");
	ck_assert_int_eq(sn->e[1].id, 2);
	ck_assert_uint_eq(sn->e[1].count, 5);
	ck_assert_int_eq(sn->e[2].id, 3);
	store_close(s);
	/* A deleted edge's id is never handed out again. */
	raw_exec("DELETE FROM edges WHERE id = 3");
	s = open_ok();
	ck_assert_int_eq(store_edge_add(s, &d, 1, 30, 30), 0);
	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 3);
	ck_assert_int_eq(sn->e[2].id, 4);
	store_close(s);
}
END_TEST

START_TEST(test_version_filter)
{
	struct store *s = open_ok();
	struct nseg_edge_key k1 = key("web", "1.0", "wget", "api", 6, 80);
	struct nseg_edge_key k2 = key("web", "2.0", "wget", "api", 6, 80);
	struct nseg_edge_key k3 = key("web", "1.0", "wget", "db", 6, 5432);
	struct nseg_edge_key k4 = key("other", "1.0", "sh", "web", 6, 80);
	struct seen *sn;
	int found;

	ck_assert_int_eq(store_edge_add(s, &k1, 1, 1, 1), 0);
	ck_assert_int_eq(store_edge_add(s, &k2, 1, 2, 2), 0);
	ck_assert_int_eq(store_edge_add(s, &k3, 1, 3, 3), 0);
	ck_assert_int_eq(store_edge_add(s, &k4, 1, 4, 4), 0);
	sn = edges(s, "web", "1.0", &found);
	ck_assert_int_eq(found, 1);
	ck_assert_uint_eq(sn->n, 2);
	ck_assert_str_eq(sn->e[0].key.peer, "api");
	ck_assert_str_eq(sn->e[1].key.peer, "db");
	ck_assert_int_lt(sn->e[0].id, sn->e[1].id);
	sn = edges(s, "web", "2.0", &found);
	ck_assert_uint_eq(sn->n, 1);
	ck_assert_str_eq(sn->e[0].key.version, "2.0");
	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 3);
	sn = edges(s, "web", "3.0", &found);
	ck_assert_int_eq(found, 1);
	ck_assert_uint_eq(sn->n, 0);
	store_close(s);
}
END_TEST

START_TEST(test_unknown_workload)
{
	struct store *s = open_ok();
	struct nseg_edge_key k = key("web", "1.0", "wget", "api", 6, 80);
	struct seen *sn;
	int found = 42;

	ck_assert_int_eq(store_edge_add(s, &k, 1, 1, 1), 0);
	sn = edges(s, "nope", NULL, &found);
	ck_assert_int_eq(found, 0);
	ck_assert_uint_eq(sn->n, 0);
	found = 42;
	sn = edges(s, "nope", "1.0", &found);
	ck_assert_int_eq(found, 0);
	store_close(s);
}
END_TEST

START_TEST(test_callback_stops)
{
	struct store *s = open_ok();
	struct seen sn;
	int found;

	for (int port = 1; port <= 5; port++) {
		struct nseg_edge_key k = key("web", "1", "wget", "api", 6, port);

		ck_assert_int_eq(store_edge_add(s, &k, 1, 1, 1), 0);
	}
	memset(&sn, 0, sizeof(sn));
	sn.stop_after = 2;
	ck_assert_int_eq(store_edges_foreach(s, "web", NULL, &found, collect,
					     &sn),
			 0);
	ck_assert_uint_eq(sn.n, 2);
	/* The cached statement was reset: a new walk starts from the top. */
	memset(&sn, 0, sizeof(sn));
	ck_assert_int_eq(store_edges_foreach(s, "web", NULL, &found, collect,
					     &sn),
			 0);
	ck_assert_uint_eq(sn.n, 5);
	ck_assert_int_eq(sn.e[0].key.port, 1);
	store_close(s);
}
END_TEST

static void bad_workload(struct nseg_edge_key *k)
{
	k->workload[0] = '\0';
}

static void bad_version(struct nseg_edge_key *k)
{
	k->version[0] = '\0';
}

static void bad_exe(struct nseg_edge_key *k)
{
	k->proc.exe[0] = '\0';
}

static void bad_peer(struct nseg_edge_key *k)
{
	k->peer[0] = '\0';
}

static void bad_dir(struct nseg_edge_key *k)
{
	k->dir = 7;
}

static void bad_comm(struct nseg_edge_key *k)
{
	memset(k->proc.comm, 'a', sizeof(k->proc.comm));
}

static void bad_peer_unterminated(struct nseg_edge_key *k)
{
	memset(k->peer, 'p', sizeof(k->peer));
}

static const struct {
	void (*mutate)(struct nseg_edge_key *k);
	const char *why;
} invalid_cases[] = {
	{ bad_workload, "empty workload" },
	{ bad_version, "empty version" },
	{ bad_exe, "empty process exe" },
	{ bad_peer, "empty peer" },
	{ bad_dir, "bad direction" },
	{ bad_comm, "comm too long" },
	{ bad_peer_unterminated, "peer too long" },
};

START_TEST(test_invalid_keys)
{
	struct store *s = open_ok();
	struct nseg_edge_key k = key("web", "1.0", "wget", "api", 6, 80);
	struct seen *sn;
	int found;

	invalid_cases[_i].mutate(&k);
	ck_assert_str_eq(store_edge_key_invalid(&k), invalid_cases[_i].why);
	ck_assert_int_eq(store_edge_add(s, &k, 1, 1, 1), -1);
	k = key("web", "1.0", "wget", "api", 6, 80);
	ck_assert_ptr_null(store_edge_key_invalid(&k));
	ck_assert_int_eq(store_edge_add(s, &k, 1, 5, 4), -1);
	sn = edges(s, "web", NULL, &found);
	ck_assert_int_eq(found, 0);
	ck_assert_uint_eq(sn->n, 0);
	store_close(s);
}
END_TEST

START_TEST(test_transactions)
{
	struct store *s = open_ok();
	struct nseg_edge_key a = key("web", "1.0", "wget", "api", 6, 80);
	struct nseg_edge_key b = key("web", "1.0", "wget", "db", 6, 5432);
	struct seen *sn;
	int found;

	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_begin(s), -1); /* not nestable */
	ck_assert_int_eq(store_edge_add(s, &a, 1, 1, 1), 0);
	store_rollback(s);
	edges(s, "web", NULL, &found);
	ck_assert_int_eq(found, 0);
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_edge_add(s, &a, 1, 1, 1), 0);
	ck_assert_int_eq(store_edge_add(s, &b, 1, 1, 1), 0);
	/* Not yet visible to another connection. */
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges"), 0);
	ck_assert_int_eq(store_commit(s), 0);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges"), 2);
	store_rollback(s); /* no transaction: a no-op */
	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 2);
	store_close(s);
}
END_TEST

/* A failing statement inside the caller's transaction undoes only itself. */
START_TEST(test_edge_add_savepoint)
{
	struct store *s = open_ok();
	struct nseg_edge_key a = key("web", "1.0", "wget", "api", 6, 80);
	struct nseg_edge_key b = key("newwl", "1.0", "wget", "poison", 6, 80);
	struct seen *sn;
	int found;

	raw_exec("CREATE TRIGGER t BEFORE INSERT ON edges WHEN "
		 "NEW.peer = 'poison' BEGIN SELECT RAISE(ABORT, 'poison'); "
		 "END");
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_edge_add(s, &a, 1, 1, 1), 0);
	ck_assert_int_eq(store_edge_add(s, &b, 1, 1, 1), -1);
	ck_assert_int_eq(store_commit(s), 0);
	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 1);
	/* b's workload row was part of the failed operation. */
	edges(s, "newwl", NULL, &found);
	ck_assert_int_eq(found, 0);
	/* Outside a transaction too: nothing of b is left behind. */
	ck_assert_int_eq(store_edge_add(s, &b, 1, 1, 1), -1);
	edges(s, "newwl", NULL, &found);
	ck_assert_int_eq(found, 0);
	store_close(s);
}
END_TEST

struct wls {
	size_t n;
	char names[8][NSEG_NAME_MAX];
	char versions[8][4][NSEG_VERSION_MAX];
	size_t n_versions[8];
	uint64_t n_edges[8];
	char mode[8][16];
	int64_t created[8];
};

static int collect_wl(const struct store_workload *w, void *arg)
{
	struct wls *l = arg;
	size_t i = l->n++;

	ck_assert_uint_lt(i, 8);
	snprintf(l->names[i], sizeof(l->names[i]), "%s", w->name);
	snprintf(l->mode[i], sizeof(l->mode[i]), "%s", w->mode);
	l->n_versions[i] = w->n_versions;
	l->n_edges[i] = w->n_edges;
	l->created[i] = w->created;
	for (size_t v = 0; v < w->n_versions && v < 4; v++)
		snprintf(l->versions[i][v], sizeof(l->versions[i][v]), "%s",
			 w->versions[v]);
	return 0;
}

START_TEST(test_workloads_and_reopen)
{
	struct store *s = open_ok();
	struct nseg_edge_key k1 = key("web", "2.0", "wget", "api", 6, 80);
	struct nseg_edge_key k2 = key("web", "1.0", "wget", "api", 6, 80);
	struct nseg_edge_key k3 = key("web", "1.0", "wget", "db", 6, 5432);
	struct wls l;

	ck_assert_int_eq(store_edge_add(s, &k1, 1, 200, 200), 0);
	ck_assert_int_eq(store_edge_add(s, &k2, 1, 100, 100), 0);
	ck_assert_int_eq(store_edge_add(s, &k3, 1, 150, 150), 0);
	ck_assert_int_eq(store_workload_touch(s, "api", "7", 500), 0);
	ck_assert_int_eq(store_workload_touch(s, "web", "1.0", 900), 0);
	ck_assert_int_eq(store_workload_touch(s, "", "7", 500), -1);
	ck_assert_int_eq(store_workload_touch(s, "api", "", 500), -1);
	store_close(s);
	s = open_ok();
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(store_workloads_foreach(s, collect_wl, &l), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.names[0], "api");
	ck_assert_uint_eq(l.n_versions[0], 1);
	ck_assert_str_eq(l.versions[0][0], "7");
	ck_assert_uint_eq(l.n_edges[0], 0);
	ck_assert_int_eq(l.created[0], 500);
	ck_assert_str_eq(l.mode[0], "learn");
	ck_assert_str_eq(l.names[1], "web");
	ck_assert_int_eq(l.created[1], 200);
	ck_assert_uint_eq(l.n_versions[1], 2);
	ck_assert_str_eq(l.versions[1][0], "1.0"); /* first seen first */
	ck_assert_str_eq(l.versions[1][1], "2.0");
	ck_assert_uint_eq(l.n_edges[1], 3);
	store_close(s);
	ck_assert_int_eq(raw_int("SELECT last_seen FROM versions WHERE "
				 "version = '1.0'"),
			 900);
	ck_assert_int_eq(raw_int("SELECT first_seen FROM versions WHERE "
				 "version = '1.0'"),
			 100);
}
END_TEST

/* A v0 (empty) database is migrated to the current version. */
START_TEST(test_migrate_from_v0)
{
	struct store *s;
	struct nseg_edge_key k = key("web", "1.0", "wget", "api", 6, 80);

	raw_exec("PRAGMA user_version = 0");
	ck_assert_int_eq(raw_int("PRAGMA user_version"), 0);
	s = open_ok();
	ck_assert_int_eq(store_edge_add(s, &k, 1, 1, 1), 0);
	store_close(s);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	/* A current database opens without change. */
	s = open_ok();
	store_close(s);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges"), 1);
}
END_TEST

static const struct {
	const char *setup_sql; /* NULL: write garbage bytes instead */
	const char *msg[3];
} bad_db_cases[] = {
	{ "CREATE TABLE t (x); PRAGMA user_version = 99; "
	  "PRAGMA application_id = 1853056359",
	  { "schema version 99", "newer", "(1)" } },
	{ "CREATE TABLE foo (x)", { "not an nseg database", "no nseg", "" } },
	{ "PRAGMA application_id = 42", { "not an nseg database", "0x2a", "" } },
	{ NULL, { "nseg.db", "not a database", "" } },
};

START_TEST(test_bad_db)
{
	char err[256] = "";
	FILE *f;

	if (bad_db_cases[_i].setup_sql) {
		raw_exec(bad_db_cases[_i].setup_sql);
	} else {
		ck_assert_ptr_nonnull(f = fopen(dbpath, "w"));
		for (int i = 0; i < 512; i++)
			fputs("this is not sqlite ", f);
		fclose(f);
	}
	ck_assert_ptr_null(store_open(dbpath, err, sizeof(err)));
	for (int i = 0; i < 3; i++)
		ck_assert_msg(strstr(err, bad_db_cases[_i].msg[i]) != NULL,
			      "'%s' not in '%s'", bad_db_cases[_i].msg[i],
			      err);
	ck_assert_ptr_nonnull(strstr(err, dbpath));
}
END_TEST

START_TEST(test_open_missing_dir)
{
	char err[256] = "";
	char p[160];

	snprintf(p, sizeof(p), "%s/nodir/x.db", tmpdir);
	ck_assert_ptr_null(store_open(p, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, p));
	ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));
	store_close(NULL);
}
END_TEST

START_TEST(test_memory)
{
	char err[256];
	struct store *s = store_open(":memory:", err, sizeof(err));
	struct nseg_edge_key k = key("web", "1.0", "wget", "api", 6, 80);
	struct seen *sn;
	int found;

	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_int_eq(store_edge_add(s, &k, 2, 1, 1), 0);
	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 1);
	store_close(s);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *su = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_new);
	tcase_add_test(tc, test_wal);
	tcase_add_test(tc, test_upsert_merges);
	tcase_add_test(tc, test_identity_fields);
	tcase_add_test(tc, test_ids_stable_across_reopen);
	tcase_add_test(tc, test_version_filter);
	tcase_add_test(tc, test_unknown_workload);
	tcase_add_test(tc, test_callback_stops);
	tcase_add_loop_test(tc, test_invalid_keys, 0,
			    sizeof(invalid_cases) / sizeof(invalid_cases[0]));
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_edge_add_savepoint);
	tcase_add_test(tc, test_workloads_and_reopen);
	tcase_add_test(tc, test_migrate_from_v0);
	tcase_add_loop_test(tc, test_bad_db, 0,
			    sizeof(bad_db_cases) / sizeof(bad_db_cases[0]));
	tcase_add_test(tc, test_open_missing_dir);
	tcase_add_test(tc, test_memory);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
