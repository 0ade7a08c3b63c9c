#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sqlite3.h>

#include "nseg/store.h"

#include "fixture_store.h"

static struct fixture_store fx;

static void setup(void)
{
	fixture_store_setup(&fx, "store");
}

static void teardown(void)
{
	fixture_store_teardown(&fx);
}

static struct store *open_ok(void)
{
	return fixture_store_open(fx.db);
}

static int64_t raw_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v;

	ck_assert_int_eq(sqlite3_open(fx.db, &db), SQLITE_OK);
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

	ck_assert_int_eq(stat(fx.db, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* sqlite gives the WAL the database's mode. */
	snprintf(wal, sizeof(wal), "%s-wal", fx.db);
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

	ck_assert_int_eq(sqlite3_open(fx.db, &db), SQLITE_OK);
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
	fixture_store_exec(fx.db, "DELETE FROM edges WHERE id = 3");
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

	fixture_store_exec(fx.db,
			   "CREATE TRIGGER t BEFORE INSERT ON edges WHEN "
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
	int64_t revision[8];
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
	l->revision[i] = w->revision;
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

	fixture_store_exec(fx.db, "PRAGMA user_version = 0");
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
	  { "schema version 99", "newer", "(5)" } },
	{ "CREATE TABLE foo (x)", { "not an nseg database", "no nseg", "" } },
	{ "PRAGMA application_id = 42", { "not an nseg database", "0x2a", "" } },
	{ NULL, { "nseg.db", "not a database", "" } },
};

START_TEST(test_bad_db)
{
	char err[256] = "";
	FILE *f;

	if (bad_db_cases[_i].setup_sql) {
		fixture_store_exec(fx.db, bad_db_cases[_i].setup_sql);
	} else {
		ck_assert_ptr_nonnull(f = fopen(fx.db, "w"));
		for (int i = 0; i < 512; i++)
			fputs("this is not sqlite ", f);
		fclose(f);
	}
	ck_assert_ptr_null(store_open(fx.db, err, sizeof(err)));
	for (int i = 0; i < 3; i++)
		ck_assert_msg(strstr(err, bad_db_cases[_i].msg[i]) != NULL,
			      "'%s' not in '%s'", bad_db_cases[_i].msg[i],
			      err);
	ck_assert_ptr_nonnull(strstr(err, fx.db));
}
END_TEST

START_TEST(test_open_missing_dir)
{
	char err[256] = "";
	char p[160];

	snprintf(p, sizeof(p), "%s/nodir/x.db", fx.dir);
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


/*
 * A v1 database as the v1 code left it in the field: made with that
 * code's store_edge_add() and store_workload_touch() (sqlite3 .dump), then
 * edge 6 deleted, edge 2 approved and 'api' set to notify by hand.
 * Frozen here on purpose: it must not follow later edits of the migrations.
 */
static const char v1_dump[] =
	"PRAGMA foreign_keys=OFF;"
	"BEGIN TRANSACTION;"
	"CREATE TABLE workloads ( id INTEGER PRIMARY KEY, name TEXT NOT NULL "
	"UNIQUE CHECK (length(name) > 0), mode TEXT NOT NULL DEFAULT 'learn'  "
	"CHECK (mode IN ('learn', 'notify', 'enforce')), created INTEGER NOT "
	"NULL) STRICT;"
	"INSERT INTO workloads VALUES(1,'web','learn',1000);"
	"INSERT INTO workloads VALUES(2,'api','notify',1003);"
	"INSERT INTO workloads VALUES(3,'idle','learn',4000);"
	"CREATE TABLE versions ( id INTEGER PRIMARY KEY, workload_id INTEGER "
	"NOT NULL  REFERENCES workloads (id) ON DELETE CASCADE, version TEXT "
	"NOT NULL CHECK (length(version) > 0), first_seen INTEGER NOT NULL, "
	"last_seen INTEGER NOT NULL, UNIQUE (workload_id, version)) STRICT;"
	"INSERT INTO versions VALUES(1,1,'1.0',900,3000);"
	"INSERT INTO versions VALUES(2,1,'2.0',1002,2005);"
	"INSERT INTO versions VALUES(3,2,'7',1003,2004);"
	"INSERT INTO versions VALUES(4,3,'3',4000,4000);"
	"CREATE TABLE edges ( id INTEGER PRIMARY KEY AUTOINCREMENT, "
	"workload_id INTEGER NOT NULL  REFERENCES workloads (id) ON DELETE "
	"CASCADE, version TEXT NOT NULL, exe TEXT NOT NULL CHECK (length(exe) "
	"> 0), comm TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN "
	"('egress', 'ingress')), peer TEXT NOT NULL CHECK (length(peer) > 0), "
	"peer_exe TEXT NOT NULL DEFAULT '', peer_comm TEXT NOT NULL DEFAULT "
	"'', protocol TEXT NOT NULL CHECK (length(protocol) > 0), port INTEGER "
	"NOT NULL CHECK (port BETWEEN 0 AND 65535), state TEXT NOT NULL "
	"DEFAULT 'learned'  CHECK (state IN ('learned', 'approved', "
	"'rejected')), count INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0), "
	"first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, UNIQUE "
	"(workload_id, version, exe, comm, direction, peer,  peer_exe, "
	"peer_comm, protocol, port), FOREIGN KEY (workload_id, version)  "
	"REFERENCES versions (workload_id, version) ON DELETE CASCADE) "
	"STRICT;"
	"INSERT INTO edges VALUES(1,1,'1.0','/bin/busybox','wget','egress',"
	"'api','/usr/bin/socat','socat','tcp',8080,'learned',6,900,3000);"
	"INSERT INTO edges VALUES(2,1,'1.0','/bin/busybox','nc','egress','db',"
	"'','','tcp',5432,'approved',2,1001,2001);"
	"INSERT INTO edges VALUES(3,1,'2.0','/bin/busybox','wget','egress',"
	"'api','/usr/bin/socat','socat','tcp',8080,'learned',3,1002,2002);"
	"INSERT INTO edges VALUES(4,2,'7','/usr/bin/socat','socat','ingress',"
	"'web','/bin/busybox','wget','tcp',8080,'learned',4,1003,2003);"
	"INSERT INTO edges VALUES(5,2,'7','/usr/bin/dig','dig','egress',"
	"'external:10.0.0.0/8','','','udp',53,'learned',5,1004,2004);"
	"DELETE FROM sqlite_sequence;"
	"INSERT INTO sqlite_sequence VALUES('edges',6);"
	"COMMIT;"
	"PRAGMA user_version = 1;"
	"PRAGMA application_id = 1853056359;";

static const struct {
	int64_t id;
	const char *version, *comm, *peer, *peer_exe, *state;
	int dir, proto, port;
	uint64_t count;
	int64_t first, last;
} v1_edges[] = {
	{ 1, "1.0", "wget", "api", "/usr/bin/socat", "learned", NSEG_EGRESS,
	  IPPROTO_TCP, 8080, 6, 900, 3000 },
	{ 2, "1.0", "nc", "db", "", "approved", NSEG_EGRESS, IPPROTO_TCP, 5432,
	  2, 1001, 2001 },
	{ 3, "2.0", "wget", "api", "/usr/bin/socat", "learned", NSEG_EGRESS,
	  IPPROTO_TCP, 8080, 3, 1002, 2002 },
};

START_TEST(test_migrate_v1_to_v2)
{
	struct store *s;
	struct seen *sn;
	struct wls l;
	struct nseg_edge_key k = key("web", "1.0", "sh", "db", 6, 5432);
	char mode[16];
	int64_t rev = -1;
	int found;

	fixture_store_exec(fx.db, v1_dump);
	s = open_ok();
	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 3);
	for (size_t i = 0; i < 3; i++) {
		struct store_edge *e = &sn->e[i];

		ck_assert_int_eq(e->id, v1_edges[i].id);
		ck_assert_str_eq(e->key.version, v1_edges[i].version);
		ck_assert_str_eq(e->key.proc.exe, "/bin/busybox");
		ck_assert_str_eq(e->key.proc.comm, v1_edges[i].comm);
		ck_assert_str_eq(e->key.peer, v1_edges[i].peer);
		ck_assert_str_eq(e->key.peer_proc.exe, v1_edges[i].peer_exe);
		ck_assert_str_eq(e->state, v1_edges[i].state);
		ck_assert_int_eq(e->key.dir, v1_edges[i].dir);
		ck_assert_int_eq(e->key.proto, v1_edges[i].proto);
		ck_assert_int_eq(e->key.port, v1_edges[i].port);
		ck_assert_uint_eq(e->count, v1_edges[i].count);
		ck_assert_int_eq(e->first_seen, v1_edges[i].first);
		ck_assert_int_eq(e->last_seen, v1_edges[i].last);
		/* Decided before decisions were recorded: no decider. */
		ck_assert_int_eq(e->any_process, 0);
		ck_assert_str_eq(e->decided_by, "");
		ck_assert_int_eq(e->decided_at, 0);
	}
	sn = edges(s, "api", NULL, &found);
	ck_assert_uint_eq(sn->n, 2);
	ck_assert_int_eq(sn->e[0].key.dir, NSEG_INGRESS);
	ck_assert_int_eq(sn->e[1].key.proto, IPPROTO_UDP);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(store_workloads_foreach(s, collect_wl, &l), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.names[0], "api");
	ck_assert_str_eq(l.mode[0], "notify");
	ck_assert_int_eq(l.created[0], 1003);
	ck_assert_int_eq(l.revision[0], 0);
	ck_assert_str_eq(l.names[2], "web");
	ck_assert_uint_eq(l.n_versions[2], 2);
	ck_assert_uint_eq(l.n_edges[2], 3);
	ck_assert_int_eq(store_workload_get(s, "api", mode, &rev), 0);
	ck_assert_str_eq(mode, "notify");
	ck_assert_int_eq(rev, 0);
	/* The id sequence survived: deleted edge 6 is not handed out again. */
	ck_assert_int_eq(store_edge_add(s, &k, 1, 5000, 5000), 0);
	sn = edges(s, "web", NULL, &found);
	ck_assert_int_eq(sn->e[3].id, 7);
	store_close(s);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE decided_by "
				 "IS NULL AND decided_at IS NULL AND "
				 "any_process = 0"),
			 6);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM alerts"), 0);
	ck_assert_int_eq(raw_int("SELECT sum(revision) FROM workloads"), 0);
	/* Opening again changes nothing. */
	s = open_ok();
	store_close(s);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges"), 6);
}
END_TEST

/* web: edges 1-3 of version 1.0, 4 of 2.0; other: edge 5. */
static struct store *open_seeded(void)
{
	struct store *s = open_ok();
	const struct nseg_edge_key k[] = {
		key("web", "1.0", "wget", "api", 6, 80),
		key("web", "1.0", "wget", "db", 6, 5432),
		key("web", "1.0", "nc", "api", 6, 80),
		key("web", "2.0", "wget", "api", 6, 80),
		key("other", "1.0", "sh", "web", 6, 80),
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		ck_assert_int_eq(store_edge_add(s, &k[i], 1, 10, 10), 0);
	return s;
}

/*
 * One letter per edge of wl, by id: l(earned), a(pproved), A(pproved for
 * any process), r(ejected).
 */
static const char *states(struct store *s, const char *wl)
{
	static char buf[MAX_SEEN + 1];
	struct seen *sn;
	int found;
	size_t i;

	sn = edges(s, wl, NULL, &found);
	for (i = 0; i < sn->n; i++) {
		const struct store_edge *e = &sn->e[i];

		if (strcmp(e->state, "approved") == 0)
			buf[i] = e->any_process ? 'A' : 'a';
		else
			buf[i] = e->state[0];
		/* any_process means nothing unless approved. */
		if (strcmp(e->state, "approved") != 0)
			ck_assert_int_eq(e->any_process, 0);
	}
	buf[i] = '\0';
	return buf;
}

static int64_t revision_of(struct store *s, const char *wl)
{
	char mode[16];
	int64_t rev = -1;

	ck_assert_int_eq(store_workload_get(s, wl, mode, &rev), 0);
	return rev;
}

static const struct {
	const char *state;
	int64_t ids[2];
	size_t n;
	int any;
	const char *who;
	int64_t now;
	int changed;
	int64_t revision;
	const char *web; /* states() of web afterwards */
} decide_steps[] = {
	{ "approved", { 1, 3 }, 2, 1, "uid 0 (root)", 100, 2, 1, "AlAl" },
	/* The same decision again changes nothing, not even the decider. */
	{ "approved", { 1, 3 }, 2, 1, "uid 1000 (bob)", 200, 0, 1, "AlAl" },
	/* Narrowing to the edge's own process is a change. */
	{ "approved", { 1 }, 1, 0, "uid 0 (root)", 300, 1, 2, "alAl" },
	/* approved -> rejected, learned -> rejected; any_process ignored. */
	{ "rejected", { 1, 2 }, 2, 1, "uid 1000 (bob)", 400, 2, 3, "rrAl" },
	/* rejected -> approved; an id given twice counts once. */
	{ "approved", { 2, 2 }, 2, 0, "uid 0 (root)", 500, 1, 4, "raAl" },
	{ "rejected", { 0 }, 0, 0, "x", 600, 0, 4, "raAl" },
	/* Another version of the same workload. */
	{ "approved", { 4 }, 1, 1, "uid 1000 (bob)", 700, 1, 5, "raAA" },
};

static const struct {
	const char *by;
	int64_t at;
} decide_final[] = {
	{ "uid 1000 (bob)", 400 },
	{ "uid 0 (root)", 500 },
	{ "uid 0 (root)", 100 },
	{ "uid 1000 (bob)", 700 },
};

START_TEST(test_decide_ids)
{
	struct store *s = open_seeded();
	struct seen *sn;
	int64_t rev, bad;
	int n, found;

	for (size_t i = 0; i < sizeof(decide_steps) / sizeof(decide_steps[0]);
	     i++) {
		rev = -1;
		bad = 42;
		n = store_edges_decide(s, "web", decide_steps[i].state, 0,
				       decide_steps[i].ids, decide_steps[i].n,
				       decide_steps[i].any, decide_steps[i].who,
				       decide_steps[i].now, &bad, &rev);
		ck_assert_msg(n == decide_steps[i].changed,
			      "step %zu: %d changed", i, n);
		ck_assert_int_eq(bad, 0);
		ck_assert_int_eq(rev, decide_steps[i].revision);
		ck_assert_int_eq(revision_of(s, "web"), rev);
		ck_assert_str_eq(states(s, "web"), decide_steps[i].web);
	}
	sn = edges(s, "web", NULL, &found);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(sn->e[i].decided_by, decide_final[i].by);
		ck_assert_int_eq(sn->e[i].decided_at, decide_final[i].at);
	}
	ck_assert_str_eq(states(s, "other"), "l");
	ck_assert_int_eq(revision_of(s, "other"), 0);
	store_close(s);
	/* Persisted, and readable by anyone with SQL. */
	ck_assert_int_eq(raw_int("SELECT revision FROM workloads WHERE "
				 "name = 'web'"),
			 5);
	ck_assert_int_eq(raw_int("SELECT any_process FROM edges WHERE id = 4"),
			 1);
}
END_TEST

START_TEST(test_decide_all)
{
	struct store *s = open_seeded();
	const int64_t two = 2;
	int64_t rev = -1;
	struct seen *sn;
	int found;

	ck_assert_int_eq(store_edges_decide(s, "web", "rejected", 0, &two, 1,
					    0, "uid 0 (root)", 100, NULL,
					    NULL),
			 1);
	/* Only learned edges, of every version; ids are ignored. */
	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 1, &two, 1,
					    1, "uid 7 (ops)", 200, NULL, &rev),
			 3);
	ck_assert_int_eq(rev, 2); /* once per call, not per edge */
	ck_assert_str_eq(states(s, "web"), "ArAA");
	sn = edges(s, "web", NULL, &found);
	ck_assert_str_eq(sn->e[1].decided_by, "uid 0 (root)");
	ck_assert_int_eq(sn->e[1].decided_at, 100);
	ck_assert_str_eq(sn->e[3].decided_by, "uid 7 (ops)");
	ck_assert_int_eq(sn->e[3].decided_at, 200);
	/* Nothing learned is left: no change, no new revision. */
	ck_assert_int_eq(store_edges_decide(s, "web", "rejected", 1, NULL, 0,
					    0, "uid 0 (root)", 300, NULL, &rev),
			 0);
	ck_assert_int_eq(rev, 2);
	ck_assert_str_eq(states(s, "other"), "l");
	ck_assert_int_eq(store_edges_decide(s, "other", "rejected", 1, NULL, 0,
					    0, "uid 0 (root)", 300, NULL, &rev),
			 1);
	ck_assert_int_eq(rev, 1);
	ck_assert_str_eq(states(s, "other"), "r");
	ck_assert_str_eq(states(s, "web"), "ArAA");
	store_close(s);
}
END_TEST

/* Edges seen only outside learning (deviations) are left by --all unless
 * asked; one seen while learning too is not a deviation any more. */
START_TEST(test_decide_all_deviations)
{
	struct store *s = open_seeded();
	struct nseg_edge_key dev = key("web", "1.0", "nc", "db", IPPROTO_TCP,
				       5432);
	struct nseg_edge_key both = key("web", "1.0", "nc", "db", IPPROTO_TCP,
					22);
	uint64_t left = 99;
	struct seen *sn;
	int found;

	ck_assert_int_eq(store_edge_add_seen(s, &dev, 2, 10, 20, 0), 0);
	ck_assert_int_eq(store_edge_add_seen(s, &both, 1, 10, 20, 0), 0);
	ck_assert_int_eq(store_edge_add_seen(s, &both, 1, 30, 30, 1), 0);
	ck_assert_int_eq(store_edge_add_seen(s, &both, 1, 40, 40, 0), 0);
	ck_assert_int_eq(store_edges_deviations(s, "web", &left), 0);
	ck_assert_uint_eq(left, 1);
	sn = edges(s, "web", NULL, &found);
	ck_assert_int_eq(sn->e[sn->n - 2].deviation, 1);
	ck_assert_int_eq(sn->e[sn->n - 1].deviation, 0);
	ck_assert_int_eq(store_edges_decide(s, "web", "approved",
					    STORE_DECIDE_ALL, NULL, 0, 0,
					    "uid 0 (root)", 100, NULL, NULL),
			 5);
	ck_assert_str_eq(states(s, "web"), "aaaala");
	ck_assert_int_eq(store_edges_deviations(s, "web", &left), 0);
	ck_assert_uint_eq(left, 1);
	ck_assert_int_eq(store_edges_decide(s, "web", "approved",
					    STORE_DECIDE_ALL_DEVIATIONS, NULL,
					    0, 0, "uid 0 (root)", 100, NULL,
					    NULL),
			 1);
	ck_assert_str_eq(states(s, "web"), "aaaaaa");
	ck_assert_int_eq(store_edges_deviations(s, "web", &left), 0);
	ck_assert_uint_eq(left, 0);
	store_close(s);
}
END_TEST

static const struct {
	const char *workload;
	int64_t ids[3];
	size_t n;
	int64_t bad;
} bad_id_cases[] = {
	{ "web", { 1, 99, 3 }, 3, 99 },
	{ "web", { 1, 5 }, 2, 5 },	  /* other's edge */
	{ "web", { 0 }, 1, 0 },		  /* no edge 0 either */
	{ "web", { -1, 2 }, 2, -1 },
	{ "other", { 5, 1, 2 }, 3, 1 }, /* the first bad one */
	{ "nope", { 1 }, 1, 0 },	  /* no such workload */
};

/* All or nothing: nothing of a call with a bad id is left behind. */
START_TEST(test_decide_bad_id)
{
	struct store *s = open_seeded();
	int64_t rev = 42, bad = 42;

	errno = 0;
	ck_assert_int_eq(store_edges_decide(s, bad_id_cases[_i].workload,
					    "approved", 0,
					    bad_id_cases[_i].ids,
					    bad_id_cases[_i].n, 1,
					    "uid 0 (root)", 100, &bad, &rev),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(bad, bad_id_cases[_i].bad);
	ck_assert_int_eq(rev, 42);
	ck_assert_str_eq(states(s, "web"), "llll");
	ck_assert_str_eq(states(s, "other"), "l");
	ck_assert_int_eq(revision_of(s, "web"), 0);
	ck_assert_int_eq(revision_of(s, "other"), 0);
	store_close(s);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE decided_by "
				 "IS NOT NULL"),
			 0);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM workloads"), 2);
}
END_TEST

/* Inside the caller's transaction a failed call undoes only itself. */
START_TEST(test_decide_in_transaction)
{
	struct store *s = open_seeded();
	const int64_t good[] = { 1 }, bad_ids[] = { 2, 99 };
	int64_t bad = 0, rev = 0;

	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 0, good, 1,
					    0, "a", 1, &bad, &rev),
			 1);
	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 0, bad_ids,
					    2, 0, "a", 1, &bad, &rev),
			 -1);
	ck_assert_int_eq(bad, 99);
	ck_assert_int_eq(store_commit(s), 0);
	ck_assert_str_eq(states(s, "web"), "alll");
	ck_assert_int_eq(revision_of(s, "web"), 1);
	store_close(s);
}
END_TEST

static const char who63[] =
	"123456789012345678901234567890123456789012345678901234567890123";
static const char who64[] =
	"1234567890123456789012345678901234567890123456789012345678901234";

static const struct {
	const char *workload, *state, *who;
	int all;
	size_t n; /* ids is NULL */
} bad_arg_cases[] = {
	{ "web", "learned", "a", 1, 0 },
	{ "web", "APPROVED", "a", 1, 0 },
	{ "web", NULL, "a", 1, 0 },
	{ "web", "approved", "", 1, 0 },
	{ "web", "approved", NULL, 1, 0 },
	{ "web", "approved", who64, 1, 0 },
	{ "web", "approved", "a", 0, 2 },
	{ "", "approved", "a", 1, 0 },
};

START_TEST(test_decide_bad_args)
{
	struct store *s = open_seeded();
	struct seen *sn;
	int found;

	errno = 0;
	ck_assert_int_eq(store_edges_decide(s, bad_arg_cases[_i].workload,
					    bad_arg_cases[_i].state,
					    bad_arg_cases[_i].all, NULL,
					    bad_arg_cases[_i].n, 0,
					    bad_arg_cases[_i].who, 1, NULL,
					    NULL),
			 -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(states(s, "web"), "llll");
	/* The longest decider that fits reads back whole. */
	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 1, NULL, 0, 0,
					    who63, 1, NULL, NULL),
			 4);
	sn = edges(s, "web", NULL, &found);
	ck_assert_str_eq(sn->e[0].decided_by, who63);
	store_close(s);
}
END_TEST

START_TEST(test_mode)
{
	struct store *s = open_seeded();
	char mode[16], prev[16];
	int64_t rev = 42;
	struct wls l;

	ck_assert_int_eq(store_workload_get(s, "web", mode, &rev), 0);
	ck_assert_str_eq(mode, "learn");
	ck_assert_int_eq(rev, 0);
	ck_assert_int_eq(store_workload_set_mode(s, "web", "enforce", prev), 0);
	ck_assert_str_eq(prev, "learn");
	ck_assert_int_eq(store_workload_set_mode(s, "web", "notify", prev), 0);
	ck_assert_str_eq(prev, "enforce");
	ck_assert_int_eq(store_workload_set_mode(s, "web", "notify", NULL), 0);
	errno = 0;
	ck_assert_int_eq(store_workload_set_mode(s, "web", "block", prev), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(store_workload_set_mode(s, "nope", "enforce", prev),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(store_workload_get(s, "nope", mode, &rev), -1);
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_int_eq(store_workload_get(s, "", mode, &rev), -1);
	ck_assert_int_eq(errno, EINVAL);
	store_close(s);
	s = open_ok();
	ck_assert_int_eq(store_workload_get(s, "web", mode, &rev), 0);
	ck_assert_str_eq(mode, "notify");
	ck_assert_int_eq(rev, 0); /* a mode change is not a baseline change */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(store_workloads_foreach(s, collect_wl, &l), 0);
	ck_assert_uint_eq(l.n, 2); /* "nope" was not created */
	ck_assert_str_eq(l.mode[1], "notify");
	ck_assert_str_eq(l.mode[0], "learn");
	store_close(s);
}
END_TEST

START_TEST(test_approved_foreach)
{
	struct store *s = open_seeded();
	const int64_t ids[] = { 4, 1, 2 }, rej[] = { 2 }, other[] = { 5 };
	struct seen sn;

	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 0, ids, 3, 0,
					    "a", 1, NULL, NULL),
			 3);
	ck_assert_int_eq(store_edges_decide(s, "web", "rejected", 0, rej, 1, 0,
					    "a", 1, NULL, NULL),
			 1);
	ck_assert_int_eq(store_edges_decide(s, "other", "approved", 0, other, 1,
					    1, "a", 1, NULL, NULL),
			 1);
	memset(&sn, 0, sizeof(sn));
	ck_assert_int_eq(store_approved_foreach(s, "web", collect, &sn), 0);
	ck_assert_uint_eq(sn.n, 2);
	ck_assert_int_eq(sn.e[0].id, 1);
	ck_assert_str_eq(sn.e[0].key.version, "1.0");
	ck_assert_int_eq(sn.e[1].id, 4);
	ck_assert_str_eq(sn.e[1].key.version, "2.0");
	ck_assert_str_eq(sn.e[1].key.workload, "web");
	ck_assert_str_eq(sn.e[1].state, "approved");
	memset(&sn, 0, sizeof(sn));
	ck_assert_int_eq(store_approved_foreach(s, "other", collect, &sn), 0);
	ck_assert_uint_eq(sn.n, 1);
	ck_assert_int_eq(sn.e[0].any_process, 1);
	memset(&sn, 0, sizeof(sn));
	sn.stop_after = 1;
	ck_assert_int_eq(store_approved_foreach(s, "web", collect, &sn), 0);
	ck_assert_uint_eq(sn.n, 1);
	errno = 0;
	ck_assert_int_eq(store_approved_foreach(s, "nope", collect, &sn), -1);
	ck_assert_int_eq(errno, ENOENT);
	store_close(s);
}
END_TEST

static int fail_cb(const struct store_edge *e, void *arg)
{
	int *calls = arg;

	(*calls)++;
	errno = ENOMEM;
	return -1;
}

/* A failing callback is a failed walk, never a short successful one. */
START_TEST(test_walk_cb_fails)
{
	struct store *s = open_seeded();
	int calls = 0, found;

	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 1, NULL, 0, 0,
					    "a", 1, NULL, NULL),
			 4);
	errno = 0;
	ck_assert_int_eq(store_approved_foreach(s, "web", fail_cb, &calls), -1);
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_int_eq(store_edges_foreach(s, "web", NULL, &found, fail_cb,
					     &calls),
			 -1);
	ck_assert_int_eq(calls, 2);
	store_close(s);
}
END_TEST

struct nested {
	struct store *s;
	size_t n_approved;
	int64_t revs;
};

static int nested_cb(const struct store_workload *w, void *arg)
{
	struct nested *x = arg;
	struct seen sn;
	char mode[16];
	int64_t rev;

	memset(&sn, 0, sizeof(sn));
	ck_assert_int_eq(store_workload_get(x->s, w->name, mode, &rev), 0);
	ck_assert_int_eq(rev, w->revision);
	x->revs += rev;
	ck_assert_int_eq(store_approved_foreach(x->s, w->name, collect, &sn),
			 0);
	x->n_approved += sn.n;
	return 0;
}

/* The policy loader reads each workload from inside the workloads walk. */
START_TEST(test_nested_reads)
{
	struct store *s = open_seeded();
	const int64_t one = 1, five = 5;
	struct nested x = { s, 0, 0 };

	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 0, &one, 1,
					    0, "a", 1, NULL, NULL),
			 1);
	ck_assert_int_eq(store_edges_decide(s, "other", "approved", 0, &five,
					    1, 0, "a", 1, NULL, NULL),
			 1);
	ck_assert_int_eq(store_edges_decide(s, "other", "rejected", 0, &five,
					    1, 0, "a", 1, NULL, NULL),
			 1);
	ck_assert_int_eq(store_workloads_foreach(s, nested_cb, &x), 0);
	ck_assert_uint_eq(x.n_approved, 1);
	ck_assert_int_eq(x.revs, 3);
	store_close(s);
}
END_TEST

static struct store_alert alert(const char *wl, int64_t first, int64_t last)
{
	struct store_alert a;

	memset(&a, 0, sizeof(a));
	a.time_first = first;
	a.time_last = last;
	snprintf(a.workload, sizeof(a.workload), "%s", wl);
	snprintf(a.version, sizeof(a.version), "1.0");
	snprintf(a.container, sizeof(a.container), "%064d", 7);
	a.pid = 4242;
	snprintf(a.proc.exe, sizeof(a.proc.exe), "/bin/busybox");
	snprintf(a.proc.comm, sizeof(a.proc.comm), "wget");
	a.dir = NSEG_EGRESS;
	snprintf(a.peer, sizeof(a.peer), "external:0.0.0.0/0");
	snprintf(a.peer_address, sizeof(a.peer_address), "203.0.113.9");
	a.proto = IPPROTO_TCP;
	a.port = 443;
	snprintf(a.action, sizeof(a.action), "block");
	snprintf(a.kind, sizeof(a.kind), "deviation");
	a.count = 1;
	a.baseline = 3;
	return a;
}

#define MAX_ALERTS 8

struct alerts_seen {
	size_t n;
	struct store_alert a[MAX_ALERTS];
	size_t stop_after;
};

static int collect_alert(const struct store_alert *a, void *arg)
{
	struct alerts_seen *l = arg;

	ck_assert_uint_lt(l->n, MAX_ALERTS);
	l->a[l->n++] = *a;
	return l->stop_after && l->n == l->stop_after;
}

/* The ids of the alerts a walk returns, as "1,3". */
static const char *alert_ids(struct store *s, const char *wl, int64_t since,
			     int64_t after)
{
	static char buf[64];
	static struct alerts_seen l;
	size_t off = 0;

	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(store_alerts_foreach(s, wl, since, after,
					      collect_alert, &l),
			 0);
	buf[0] = '\0';
	for (size_t i = 0; i < l.n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%lld",
					i ? "," : "", (long long)l.a[i].id);
	return buf;
}

START_TEST(test_alerts)
{
	struct store *s = open_ok();
	struct store_alert a[3] = { alert("web", 100, 100),
				    alert("api", 200, 250),
				    alert("web", 300, 300) };
	struct alerts_seen l;

	a[1].dir = NSEG_INGRESS;
	a[1].proto = 47;
	a[1].port = 0;
	a[1].container[0] = '\0';
	snprintf(a[1].action, sizeof(a[1].action), "notify");
	a[2].count = UINT64_MAX;
	for (int i = 0; i < 3; i++) {
		a[i].id = 99;
		ck_assert_int_eq(store_alert_add(s, &a[i]), 0);
		ck_assert_int_eq(a[i].id, i + 1);
	}
	/* Dedup: count adds up, time_last only moves forward. */
	ck_assert_int_eq(store_alert_bump(s, 1, 4, 400), 0);
	ck_assert_int_eq(store_alert_bump(s, 1, 2, 150), 0);
	ck_assert_int_eq(store_alert_bump(s, 3, 9, 301), 0); /* saturates */
	errno = 0;
	ck_assert_int_eq(store_alert_bump(s, 4, 1, 500), -1);
	ck_assert_int_eq(errno, ENOENT);
	store_close(s);
	s = open_ok();
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(store_alerts_foreach(s, NULL, 0, 0, collect_alert, &l),
			 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_int_eq(l.a[0].time_first, 100);
	ck_assert_int_eq(l.a[0].time_last, 400);
	ck_assert_uint_eq(l.a[0].count, 7);
	ck_assert_str_eq(l.a[0].workload, "web");
	ck_assert_str_eq(l.a[0].version, "1.0");
	ck_assert_str_eq(l.a[0].container, a[0].container);
	ck_assert_int_eq(l.a[0].pid, 4242);
	ck_assert_str_eq(l.a[0].proc.exe, "/bin/busybox");
	ck_assert_str_eq(l.a[0].proc.comm, "wget");
	ck_assert_int_eq(l.a[0].dir, NSEG_EGRESS);
	ck_assert_str_eq(l.a[0].peer, "external:0.0.0.0/0");
	ck_assert_str_eq(l.a[0].peer_address, "203.0.113.9");
	ck_assert_int_eq(l.a[0].proto, IPPROTO_TCP);
	ck_assert_int_eq(l.a[0].port, 443);
	ck_assert_str_eq(l.a[0].action, "block");
	ck_assert_str_eq(l.a[0].kind, "deviation");
	ck_assert_int_eq(l.a[0].baseline, 3);
	ck_assert_int_eq(l.a[1].dir, NSEG_INGRESS);
	ck_assert_int_eq(l.a[1].proto, 47);
	ck_assert_str_eq(l.a[1].container, "");
	ck_assert_str_eq(l.a[1].action, "notify");
	ck_assert_uint_eq(l.a[2].count, INT64_MAX);
	ck_assert_int_eq(l.a[2].time_last, 301);
	store_close(s);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM alerts WHERE "
				 "protocol = '47'"),
			 1);
}
END_TEST

static const struct {
	const char *workload;
	int64_t since, after;
	const char *ids;
} alert_filter_cases[] = {
	{ NULL, 0, 0, "1,2,3,4" },
	{ "web", 0, 0, "1,3,4" },
	{ "api", 0, 0, "2" },
	{ "nope", 0, 0, "" },
	{ NULL, 0, 2, "3,4" },
	{ "web", 0, 1, "3,4" },
	{ NULL, 250, 0, "1,2,3" }, /* 1 was bumped to 400 */
	{ NULL, 251, 0, "1,3" },
	{ NULL, 301, 0, "1" },
	{ "web", 301, 1, "" },
	/* Only 0 means any time: -50 is a bound like any other. */
	{ "web", -50, 0, "1,3,4" },
	{ "web", -49, 0, "1,3" },
	{ NULL, 0, 4, "" },
};

START_TEST(test_alert_filters)
{
	struct store *s = open_ok();
	struct store_alert a[4] = { alert("web", 100, 100),
				    alert("api", 200, 250),
				    alert("web", 300, 300),
				    alert("web", -100, -50) };

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(store_alert_add(s, &a[i]), 0);
	ck_assert_int_eq(store_alert_bump(s, 1, 1, 400), 0);
	ck_assert_str_eq(alert_ids(s, alert_filter_cases[_i].workload,
				   alert_filter_cases[_i].since,
				   alert_filter_cases[_i].after),
			 alert_filter_cases[_i].ids);
	store_close(s);
}
END_TEST

START_TEST(test_alert_ids_stable)
{
	struct store *s = open_ok();
	struct store_alert a = alert("web", 1, 1);
	struct alerts_seen l;

	ck_assert_int_eq(store_alert_add(s, &a), 0);
	ck_assert_int_eq(store_alert_add(s, &a), 0);
	ck_assert_int_eq(a.id, 2);
	store_close(s);
	fixture_store_exec(fx.db, "DELETE FROM alerts WHERE id = 2");
	s = open_ok();
	ck_assert_int_eq(store_alert_add(s, &a), 0);
	ck_assert_int_eq(a.id, 3);
	memset(&l, 0, sizeof(l));
	l.stop_after = 1;
	ck_assert_int_eq(store_alerts_foreach(s, "web", 0, 0, collect_alert,
					      &l),
			 0);
	ck_assert_uint_eq(l.n, 1);
	/* The cached statement was reset: the next walk starts afresh. */
	ck_assert_str_eq(alert_ids(s, "web", 0, 0), "1,3");
	store_close(s);
}
END_TEST

static void alert_no_workload(struct store_alert *a)
{
	a->workload[0] = '\0';
}

static void alert_bad_action(struct store_alert *a)
{
	snprintf(a->action, sizeof(a->action), "drop");
}

static void alert_no_kind(struct store_alert *a)
{
	a->kind[0] = '\0';
}

static void alert_bad_dir(struct store_alert *a)
{
	a->dir = 2;
}

static void alert_backwards(struct store_alert *a)
{
	a->time_first = a->time_last + 1;
}

static void alert_long_address(struct store_alert *a)
{
	memset(a->peer_address, '1', sizeof(a->peer_address));
}

static void alert_long_container(struct store_alert *a)
{
	memset(a->container, 'c', sizeof(a->container));
}

static void alert_long_action(struct store_alert *a)
{
	memset(a->action, 'b', sizeof(a->action));
}

static void (*const bad_alerts[])(struct store_alert *a) = {
	alert_no_workload, alert_bad_action,   alert_no_kind,
	alert_bad_dir,	   alert_backwards,    alert_long_address,
	alert_long_container, alert_long_action,
};

START_TEST(test_alert_invalid)
{
	struct store *s = open_ok();
	struct store_alert a = alert("web", 1, 2);

	bad_alerts[_i](&a);
	a.id = 0;
	errno = 0;
	ck_assert_int_eq(store_alert_add(s, &a), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(a.id, 0);
	ck_assert_str_eq(alert_ids(s, NULL, 0, 0), "");
	store_close(s);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/*
 * A v2 database as the v2 code left it: made with that code's
 * store_edge_add(), store_workload_touch(), store_edges_decide(),
 * store_workload_set_mode() and store_alert_add() (sqlite3 .dump), then
 * edge 5 deleted by hand. Edges 1 and 3 are approved for any process, 2
 * (web) and 4 (api) for their own process, 6 is rejected.
 * Frozen here on purpose: it must not follow later edits of the migrations.
 */
static const char v2_dump[] =
	"PRAGMA foreign_keys=OFF;"
	"BEGIN TRANSACTION;"
	"CREATE TABLE workloads ( id INTEGER PRIMARY KEY, name TEXT NOT "
	"NULL UNIQUE CHECK (length(name) > 0), mode TEXT NOT NULL DEFAULT "
	"'learn'  CHECK (mode IN ('learn', 'notify', 'enforce')), created "
	"INTEGER NOT NULL, revision INTEGER NOT NULL DEFAULT 0 CHECK "
	"(revision >= 0)) STRICT;"
	"INSERT INTO workloads VALUES(1,'web','enforce',900,3);"
	"INSERT INTO workloads VALUES(2,'api','learn',903,1);"
	"INSERT INTO workloads VALUES(3,'idle','learn',4000,0);"
	"CREATE TABLE versions ( id INTEGER PRIMARY KEY, workload_id "
	"INTEGER NOT NULL  REFERENCES workloads (id) ON DELETE CASCADE, "
	"version TEXT NOT NULL CHECK (length(version) > 0), first_seen "
	"INTEGER NOT NULL, last_seen INTEGER NOT NULL, UNIQUE (workload_id, "
	"version)) STRICT;"
	"INSERT INTO versions VALUES(1,1,'1.0',900,2001);"
	"INSERT INTO versions VALUES(2,1,'2.0',902,2005);"
	"INSERT INTO versions VALUES(3,2,'7',903,2004);"
	"INSERT INTO versions VALUES(4,3,'3',4000,4000);"
	"CREATE TABLE edges ( id INTEGER PRIMARY KEY AUTOINCREMENT, "
	"workload_id INTEGER NOT NULL  REFERENCES workloads (id) ON DELETE "
	"CASCADE, version TEXT NOT NULL, exe TEXT NOT NULL CHECK "
	"(length(exe) > 0), comm TEXT NOT NULL, direction TEXT NOT NULL "
	"CHECK (direction IN ('egress', 'ingress')), peer TEXT NOT NULL "
	"CHECK (length(peer) > 0), peer_exe TEXT NOT NULL DEFAULT '', "
	"peer_comm TEXT NOT NULL DEFAULT '', protocol TEXT NOT NULL CHECK "
	"(length(protocol) > 0), port INTEGER NOT NULL CHECK (port BETWEEN "
	"0 AND 65535), state TEXT NOT NULL DEFAULT 'learned'  CHECK (state "
	"IN ('learned', 'approved', 'rejected')), count INTEGER NOT NULL "
	"DEFAULT 0 CHECK (count >= 0), first_seen INTEGER NOT NULL, "
	"last_seen INTEGER NOT NULL, any_process INTEGER NOT NULL DEFAULT 0 "
	"CHECK (any_process IN (0, 1)), decided_by TEXT, decided_at "
	"INTEGER, UNIQUE (workload_id, version, exe, comm, direction, peer, "
	" peer_exe, peer_comm, protocol, port), FOREIGN KEY (workload_id, "
	"version)  REFERENCES versions (workload_id, version) ON DELETE "
	"CASCADE) STRICT;"
	"INSERT INTO edges VALUES(1,1,'1.0','/bin/busybox','wget','egress',"
	"'api','/usr/bin/socat','socat','tcp',8080,'approved',2,900,2000,1,"
	"'uid 0 (root)',3000);"
	"INSERT INTO edges VALUES(2,1,'1.0','/bin/busybox','nc','egress','db',"
	"'','','tcp',5432,'approved',3,901,2001,0,'uid 1000 (ops)',3001);"
	"INSERT INTO edges VALUES(3,1,'2.0','/bin/busybox','wget','egress',"
	"'api','/usr/bin/socat','socat','tcp',8080,'approved',4,902,2002,1,"
	"'uid 0 (root)',3000);"
	"INSERT INTO edges VALUES(4,2,'7','/usr/bin/socat','socat','ingress',"
	"'web','/bin/busybox','wget','tcp',8080,'approved',5,903,2003,0,"
	"'uid 0 (root)',3003);"
	"INSERT INTO edges VALUES(6,1,'2.0','/bin/busybox','sh','egress',"
	"'host','','','icmp',8,'rejected',7,905,2005,0,'uid 1000 (ops)',3002);"
	"CREATE TABLE alerts ( id INTEGER PRIMARY KEY AUTOINCREMENT, "
	"time_first INTEGER NOT NULL, time_last INTEGER NOT NULL, workload "
	"TEXT NOT NULL CHECK (length(workload) > 0), version TEXT NOT NULL, "
	"container TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL, exe TEXT "
	"NOT NULL, comm TEXT NOT NULL, direction TEXT NOT NULL CHECK "
	"(direction IN ('egress', 'ingress')), peer TEXT NOT NULL, "
	"peer_address TEXT NOT NULL, protocol TEXT NOT NULL CHECK "
	"(length(protocol) > 0), port INTEGER NOT NULL CHECK (port BETWEEN "
	"0 AND 65535), action TEXT NOT NULL CHECK (length(action) > 0), "
	"kind TEXT NOT NULL CHECK (length(kind) > 0), count INTEGER NOT "
	"NULL CHECK (count >= 0), baseline INTEGER NOT NULL) STRICT;"
	"INSERT INTO alerts VALUES(1,3100,3200,'web','2.0','',77,"
	"'/bin/busybox','wget','egress','external:0.0.0.0/0','1.1.1.1','tcp',"
	"443,'block','deviation',3,2);"
	"DELETE FROM sqlite_sequence;"
	"INSERT INTO sqlite_sequence VALUES('edges',6);"
	"INSERT INTO sqlite_sequence VALUES('alerts',1);"
	"CREATE INDEX alerts_workload ON alerts (workload, id);"
	"COMMIT;"
	"PRAGMA user_version = 2;"
	"PRAGMA application_id = 1853056359;";

static const struct {
	int64_t id;
	const char *version, *comm, *peer, *state, *by;
	int proto, port, any;
	uint64_t count;
	int64_t first, last, at;
	uint64_t hits; /* after the usage added by the test */
} v2_edges[] = {
	{ 1, "1.0", "wget", "api", "approved", "uid 0 (root)", IPPROTO_TCP,
	  8080, 1, 2, 900, 2000, 3000, 4 },
	{ 2, "1.0", "nc", "db", "approved", "uid 1000 (ops)", IPPROTO_TCP,
	  5432, 0, 3, 901, 2001, 3001, 0 },
	{ 3, "2.0", "wget", "api", "approved", "uid 0 (root)", IPPROTO_TCP,
	  8080, 1, 4, 902, 2002, 3000, 4 },
	{ 6, "2.0", "sh", "host", "rejected", "uid 1000 (ops)", IPPROTO_ICMP,
	  8, 0, 7, 905, 2005, 3002, 0 },
};

/* The v2 edges of web, then n_new edges added since. */
static void check_v2_edges(struct store *s, int used, size_t n_new)
{
	struct seen *sn;
	int found;

	sn = edges(s, "web", NULL, &found);
	ck_assert_uint_eq(sn->n, 4 + n_new);
	for (size_t i = 0; i < 4; i++) {
		struct store_edge *e = &sn->e[i];

		ck_assert_int_eq(e->id, v2_edges[i].id);
		ck_assert_str_eq(e->key.version, v2_edges[i].version);
		ck_assert_str_eq(e->key.proc.exe, "/bin/busybox");
		ck_assert_str_eq(e->key.proc.comm, v2_edges[i].comm);
		ck_assert_str_eq(e->key.peer, v2_edges[i].peer);
		ck_assert_int_eq(e->key.dir, NSEG_EGRESS);
		ck_assert_int_eq(e->key.proto, v2_edges[i].proto);
		ck_assert_int_eq(e->key.port, v2_edges[i].port);
		ck_assert_str_eq(e->state, v2_edges[i].state);
		ck_assert_uint_eq(e->count, v2_edges[i].count);
		ck_assert_int_eq(e->first_seen, v2_edges[i].first);
		ck_assert_int_eq(e->last_seen, v2_edges[i].last);
		ck_assert_int_eq(e->any_process, v2_edges[i].any);
		ck_assert_str_eq(e->decided_by, v2_edges[i].by);
		ck_assert_int_eq(e->decided_at, v2_edges[i].at);
		ck_assert_uint_eq(e->hits, used ? v2_edges[i].hits : 0);
		ck_assert_uint_eq(e->hit_bytes,
				  used ? v2_edges[i].hits * 100 : 0);
		ck_assert_int_eq(e->last_used,
				 used && v2_edges[i].hits ? 5000 : 0);
	}
}

START_TEST(test_migrate_v2_to_v3)
{
	struct store *s;
	struct seen *sn;
	struct wls l;
	struct store_alert a;
	struct alerts_seen al;
	struct nseg_edge_key k = key("web", "2.0", "sh", "db", 6, 5432);
	int found;

	fixture_store_exec(fx.db, v2_dump);
	s = open_ok();
	check_v2_edges(s, 0, 0);
	sn = edges(s, "api", NULL, &found);
	ck_assert_uint_eq(sn->n, 1);
	ck_assert_int_eq(sn->e[0].key.dir, NSEG_INGRESS);
	ck_assert_str_eq(sn->e[0].key.peer_proc.comm, "wget");
	ck_assert_str_eq(sn->e[0].state, "approved");
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(store_workloads_foreach(s, collect_wl, &l), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.names[0], "api");
	ck_assert_int_eq(l.revision[0], 1);
	ck_assert_str_eq(l.names[2], "web");
	ck_assert_str_eq(l.mode[2], "enforce");
	ck_assert_int_eq(l.revision[2], 3);
	ck_assert_int_eq(l.created[2], 900);
	ck_assert_uint_eq(l.n_versions[2], 2);
	ck_assert_uint_eq(l.n_edges[1], 0); /* idle */
	memset(&al, 0, sizeof(al));
	ck_assert_int_eq(store_alerts_foreach(s, NULL, 0, 0, collect_alert,
					      &al),
			 0);
	ck_assert_uint_eq(al.n, 1);
	ck_assert_int_eq(al.a[0].pid, 77);
	ck_assert_str_eq(al.a[0].peer_address, "1.1.1.1");
	ck_assert_str_eq(al.a[0].action, "block");
	ck_assert_uint_eq(al.a[0].count, 3);
	ck_assert_int_eq(al.a[0].baseline, 2);
	/* The usage of the any-process rule reaches edges 1 and 3 only. */
	ck_assert_int_eq(store_usage_add(s, "web", NSEG_EGRESS, "api",
					 IPPROTO_TCP, 8080, "*", NULL, 4, 400,
					 5000),
			 0);
	check_v2_edges(s, 1, 0);
	/* Id sequences survived. */
	ck_assert_int_eq(store_edge_add(s, &k, 1, 6000, 6000), 0);
	sn = edges(s, "web", NULL, &found);
	ck_assert_int_eq(sn->e[4].id, 7);
	ck_assert_uint_eq(sn->e[4].hits, 0);
	a = alert("web", 6000, 6000);
	ck_assert_int_eq(store_alert_add(s, &a), 0);
	ck_assert_int_eq(a.id, 2);
	store_close(s);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM rule_usage"), 1);
	/* v4: old edges are learned, each on its own port. */
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE origin ="
				 " 'learned' AND port_hi IS NULL"),
			 raw_int("SELECT count(*) FROM edges"));
	/* Opening again changes nothing. */
	s = open_ok();
	check_v2_edges(s, 1, 1);
	store_close(s);
}
END_TEST

/* The usage row of a rule of web, as raw SQL sees it; -1 when missing. */
static int64_t usage_col(const char *col, const char *exe, const char *comm)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT coalesce((SELECT %s FROM rule_usage u JOIN workloads w"
		 " ON w.id = u.workload_id WHERE w.name = 'web'"
		 " AND exe = '%s' AND comm = '%s'), -1)",
		 col, exe, comm);
	return raw_int(sql);
}

static const struct {
	uint64_t hits, bytes;
	int64_t when;
	int64_t want_hits, want_bytes, want_last;
} usage_steps[] = {
	{ 1, 10, 100, 1, 10, 100 },
	{ 2, 20, 50, 3, 30, 100 }, /* last_used never goes back */
	{ 0, 0, 200, 3, 30, 200 },
	{ INT64_MAX - 4, 1, 200, INT64_MAX - 1, 31, 200 },
	{ 5, UINT64_MAX, 300, INT64_MAX, INT64_MAX, 300 }, /* saturate */
	{ UINT64_MAX, 7, 250, INT64_MAX, INT64_MAX, 300 },
};

START_TEST(test_usage_add)
{
	struct store *s = open_seeded();

	for (size_t i = 0; i < N(usage_steps); i++) {
		ck_assert_int_eq(store_usage_add(s, "web", NSEG_EGRESS, "api",
						 IPPROTO_TCP, 80,
						 "/bin/busybox", "wget",
						 usage_steps[i].hits,
						 usage_steps[i].bytes,
						 usage_steps[i].when),
				 0);
		ck_assert_int_eq(usage_col("hits", "/bin/busybox", "wget"),
				 usage_steps[i].want_hits);
		ck_assert_int_eq(usage_col("bytes", "/bin/busybox", "wget"),
				 usage_steps[i].want_bytes);
		ck_assert_int_eq(usage_col("last_used", "/bin/busybox", "wget"),
				 usage_steps[i].want_last);
	}
	/* Any process: comm is ignored, one rule named '*'. */
	ck_assert_int_eq(store_usage_add(s, "web", NSEG_EGRESS, "api",
					 IPPROTO_TCP, 80, "*", "wget", 1, 1, 1),
			 0);
	ck_assert_int_eq(store_usage_add(s, "web", NSEG_EGRESS, "api",
					 IPPROTO_TCP, 80, "*", NULL, 1, 1, 1),
			 0);
	ck_assert_int_eq(usage_col("hits", "*", "*"), 2);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM rule_usage"), 2);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM rule_usage WHERE "
				 "protocol = 'tcp' AND direction = 'egress' "
				 "AND peer = 'api' AND port = 80"),
			 2);
	/* Never creates a workload. */
	errno = 0;
	ck_assert_int_eq(store_usage_add(s, "nope", NSEG_EGRESS, "api",
					 IPPROTO_TCP, 80, "*", NULL, 1, 1, 1),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM workloads"), 2);
	store_close(s);
}
END_TEST

static char long_name[NSEG_NAME_MAX + 1];

static const struct {
	const char *workload, *peer, *exe, *comm;
	int dir;
} bad_usage_cases[] = {
	{ "", "api", "*", NULL, NSEG_EGRESS },
	{ NULL, "api", "*", NULL, NSEG_EGRESS },
	{ long_name, "api", "*", NULL, NSEG_EGRESS },
	{ "web", "", "*", NULL, NSEG_EGRESS },
	{ "web", NULL, "*", NULL, NSEG_EGRESS },
	{ "web", long_name, "*", NULL, NSEG_EGRESS },
	{ "web", "api", "", "wget", NSEG_EGRESS },
	{ "web", "api", NULL, "wget", NSEG_EGRESS },
	{ "web", "api", "/bin/busybox", NULL, NSEG_EGRESS },
	{ "web", "api", "/bin/busybox", "0123456789abcdef", NSEG_EGRESS },
	{ "web", "api", "*", NULL, 2 },
};

START_TEST(test_usage_bad_args)
{
	struct store *s = open_seeded();

	memset(long_name, 'x', NSEG_NAME_MAX);
	errno = 0;
	ck_assert_int_eq(store_usage_add(s, bad_usage_cases[_i].workload,
					 (uint8_t)bad_usage_cases[_i].dir,
					 bad_usage_cases[_i].peer, IPPROTO_TCP,
					 80, bad_usage_cases[_i].exe,
					 bad_usage_cases[_i].comm, 1, 1, 1),
			 -1);
	ck_assert_int_eq(errno, EINVAL);
	store_close(s);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM rule_usage"), 0);
}
END_TEST

START_TEST(test_usage_in_transaction)
{
	struct store *s = open_seeded();

	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_usage_add(s, "web", NSEG_EGRESS, "api",
					 IPPROTO_TCP, 80, "*", NULL, 1, 1, 1),
			 0);
	store_rollback(s);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM rule_usage"), 0);
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_usage_add(s, "web", NSEG_EGRESS, "api",
					 IPPROTO_TCP, 80, "*", NULL, 2, 1, 1),
			 0);
	/* A failed call inside leaves the transaction to the caller. */
	ck_assert_int_eq(store_usage_add(s, "nope", NSEG_EGRESS, "api",
					 IPPROTO_TCP, 80, "*", NULL, 1, 1, 1),
			 -1);
	ck_assert_int_eq(store_usage_add(s, "web", NSEG_EGRESS, "api",
					 IPPROTO_TCP, 80, "*", NULL, 3, 1, 1),
			 0);
	ck_assert_int_eq(store_commit(s), 0);
	store_close(s);
	ck_assert_int_eq(usage_col("hits", "*", "*"), 5);
}
END_TEST

/* Usage of rules of web, and of other's (sh -> web tcp/80) rule. */
static const struct {
	const char *wl, *peer, *exe, *comm;
	int dir, port;
	uint64_t hits;
	int64_t when;
} join_usage[] = {
	{ "web", "api", "/bin/busybox", "wget", NSEG_EGRESS, 80, 3, 100 },
	{ "web", "api", "*", "*", NSEG_EGRESS, 80, 5, 200 },
	{ "web", "api", "/bin/busybox", "nc", NSEG_EGRESS, 80, 7, 300 },
	{ "web", "db", "/bin/busybox", "wget", NSEG_EGRESS, 5432, 9, 400 },
	{ "web", "api", "*", "*", NSEG_INGRESS, 80, 11, 500 },
	{ "web", "api", "*", "*", NSEG_EGRESS, 81, 13, 600 },
	{ "other", "web", "*", "*", NSEG_EGRESS, 80, 15, 700 },
};

/*
 * web: 1 (1.0 wget api) and 4 (2.0 wget api) approved for wget, one rule;
 * 3 (nc api) approved for any process; 2 (wget db) learned. other: 5
 * rejected. Expected usage per edge id, 1-based.
 */
static const struct {
	uint64_t hits;
	int64_t last;
} join_want[][6] = {
	{ { 0, 0 }, { 3, 100 }, { 0, 0 }, { 5, 200 }, { 3, 100 }, { 0, 0 } },
	/* edge 3 narrowed to its own process (nc): another rule's usage */
	{ { 0, 0 }, { 3, 100 }, { 0, 0 }, { 7, 300 }, { 3, 100 }, { 0, 0 } },
};

static void check_join(struct store *s, size_t step)
{
	const char *wl[] = { "web", "other" };
	struct seen *sn;
	struct seen ap;
	int found;

	for (size_t w = 0; w < 2; w++) {
		sn = edges(s, wl[w], NULL, &found);
		for (size_t i = 0; i < sn->n; i++) {
			const struct store_edge *e = &sn->e[i];

			ck_assert_msg(e->hits == join_want[step][e->id].hits,
				      "step %zu edge %lld: %llu hits", step,
				      (long long)e->id,
				      (unsigned long long)e->hits);
			ck_assert_uint_eq(e->hit_bytes, e->hits * 10);
			ck_assert_int_eq(e->last_used,
					 join_want[step][e->id].last);
		}
	}
	memset(&ap, 0, sizeof(ap));
	ck_assert_int_eq(store_approved_foreach(s, "web", collect, &ap), 0);
	ck_assert_uint_eq(ap.n, 3);
	for (size_t i = 0; i < ap.n; i++) {
		ck_assert_uint_eq(ap.e[i].hits,
				  join_want[step][ap.e[i].id].hits);
		ck_assert_int_eq(ap.e[i].last_used,
				 join_want[step][ap.e[i].id].last);
	}
	/* The version filter sees the same usage. */
	sn = edges(s, "web", "2.0", &found);
	ck_assert_uint_eq(sn->n, 1);
	ck_assert_uint_eq(sn->e[0].hits, join_want[step][4].hits);
}

START_TEST(test_usage_join)
{
	struct store *s = open_seeded();
	const int64_t wget[] = { 1, 4 }, nc[] = { 3 }, other[] = { 5 };

	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 0, wget, 2,
					    0, "a", 1, NULL, NULL),
			 2);
	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 0, nc, 1, 1,
					    "a", 1, NULL, NULL),
			 1);
	ck_assert_int_eq(store_edges_decide(s, "other", "rejected", 0, other,
					    1, 0, "a", 1, NULL, NULL),
			 1);
	for (size_t i = 0; i < N(join_usage); i++)
		ck_assert_int_eq(store_usage_add(s, join_usage[i].wl,
						 (uint8_t)join_usage[i].dir,
						 join_usage[i].peer,
						 IPPROTO_TCP,
						 (uint16_t)join_usage[i].port,
						 join_usage[i].exe,
						 join_usage[i].comm,
						 join_usage[i].hits,
						 join_usage[i].hits * 10,
						 join_usage[i].when),
				 0);
	check_join(s, 0);
	ck_assert_int_eq(store_edges_decide(s, "web", "approved", 0, nc, 1, 0,
					    "a", 2, NULL, NULL),
			 1);
	check_join(s, 1);
	/* A workload's usage goes with it. */
	store_close(s);
	fixture_store_exec(fx.db,
			   "PRAGMA foreign_keys = ON; DELETE FROM workloads "
			   "WHERE name = 'other'");
	ck_assert_int_eq(raw_int("SELECT count(*) FROM rule_usage"), 6);
}
END_TEST

/* Another connection holds the write lock: a write waits for it as long
 * as store_busy_timeout() says, then fails with the cause kept. */
static const struct busy_case {
	int ms;
	int64_t min_ms, max_ms;
} busy_cases[] = {
	{ 0, 0, 100 },
	{ 20, 15, 300 },
	{ 400, 350, 2000 },
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_busy_timeout)
{
	const struct busy_case *c = &busy_cases[_i];
	struct store *s = open_ok();
	sqlite3 *other;
	int64_t t0, ms;

	ck_assert_str_eq(store_last_error(s), "");
	ck_assert_int_eq(store_busy_timeout(s, c->ms), STORE_BUSY_TIMEOUT_MS);
	ck_assert_int_eq(store_busy_timeout(s, c->ms), c->ms);
	ck_assert_int_eq(sqlite3_open(fx.db, &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL,
				      NULL), SQLITE_OK);
	t0 = now_ms();
	ck_assert_int_eq(store_begin(s), -1);
	ms = now_ms() - t0;
	ck_assert_int_ge(ms, c->min_ms);
	ck_assert_int_le(ms, c->max_ms);
	ck_assert_ptr_nonnull(strstr(store_last_error(s), "locked"));
	/* Released: the same store writes again. */
	ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_commit(s), 0);
	sqlite3_close(other);
	store_close(s);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *su = suite_create("store");
	TCase *tc = tcase_create("core");
	TCase *t2 = tcase_create("v2");
	TCase *t3 = tcase_create("v3");

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
	tcase_add_loop_test(tc, test_busy_timeout, 0, N(busy_cases));
	suite_add_tcase(su, tc);
	tcase_add_checked_fixture(t2, setup, teardown);
	tcase_add_test(t2, test_migrate_v1_to_v2);
	tcase_add_test(t2, test_decide_ids);
	tcase_add_test(t2, test_decide_all);
	tcase_add_test(t2, test_decide_all_deviations);
	tcase_add_loop_test(t2, test_decide_bad_id, 0, N(bad_id_cases));
	tcase_add_test(t2, test_decide_in_transaction);
	tcase_add_loop_test(t2, test_decide_bad_args, 0, N(bad_arg_cases));
	tcase_add_test(t2, test_mode);
	tcase_add_test(t2, test_approved_foreach);
	tcase_add_test(t2, test_walk_cb_fails);
	tcase_add_test(t2, test_nested_reads);
	tcase_add_test(t2, test_alerts);
	tcase_add_loop_test(t2, test_alert_filters, 0,
			    N(alert_filter_cases));
	tcase_add_test(t2, test_alert_ids_stable);
	tcase_add_loop_test(t2, test_alert_invalid, 0, N(bad_alerts));
	suite_add_tcase(su, t2);
	tcase_add_checked_fixture(t3, setup, teardown);
	tcase_add_test(t3, test_migrate_v2_to_v3);
	tcase_add_test(t3, test_usage_add);
	tcase_add_loop_test(t3, test_usage_bad_args, 0, N(bad_usage_cases));
	tcase_add_test(t3, test_usage_in_transaction);
	tcase_add_test(t3, test_usage_join);
	suite_add_tcase(su, t3);
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
