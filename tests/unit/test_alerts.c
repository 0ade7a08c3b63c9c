/*
 * Alerts: deduplication within the window, flood folding, and flushing to
 * a real store and a JSON-lines file, all or nothing. Time is the test's:
 * time() is interposed so windows expire without sleeping.
 */
#include <check.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nseg/alerts.h"
#include "nseg/enforce.h"
#include "nseg/store.h"

#include "fixture_store.h"

/* As in alerts.c (not exported). */
#define T_ALERTS_MAX 4096
#define T_DISTINCT_MAX 50

static time_t fake_now = 1700000000;

/* Interposes libc's time() for the whole test binary (alerts.c reads the
 * clock only through it). */
time_t time(time_t *t)
{
	if (t)
		*t = fake_now;
	return fake_now;
}

static struct fixture_store fx;
static char jsonpath[128];
static struct store *st;

static void setup(void)
{
	fake_now = 1700000000;
	fixture_store_setup(&fx, "alerts");
	snprintf(jsonpath, sizeof(jsonpath), "%s/alerts.json", fx.dir);
	st = fixture_store_open(":memory:");
}

static void teardown(void)
{
	store_close(st);
	st = NULL;
	unlink(jsonpath);
	fixture_store_teardown(&fx);
}

static struct nseg_edge_key key(const char *wl, const char *comm,
				const char *peer, int port)
{
	struct nseg_edge_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.workload, sizeof(k.workload), "%s", wl);
	snprintf(k.version, sizeof(k.version), "1.0");
	snprintf(k.proc.exe, sizeof(k.proc.exe), "/usr/bin/%s", comm);
	snprintf(k.proc.comm, sizeof(k.proc.comm), "%s", comm);
	k.dir = NSEG_EGRESS;
	snprintf(k.peer, sizeof(k.peer), "%s", peer);
	k.proto = IPPROTO_TCP;
	k.port = (uint16_t)port;
	return k;
}

static const struct enforce_ctx ctx0 = {
    .pid = 42, .container = "c0ffee", .peer_address = "203.0.113.9"};

/* The alerts in the store, copied out. */
struct alert_list {
	struct store_alert a[64];
	size_t n;
	size_t total;
};

static int collect(const struct store_alert *a, void *arg)
{
	struct alert_list *l = arg;

	if (l->n < 64)
		l->a[l->n++] = *a;
	l->total++;
	return 0;
}

static void list_alerts(struct store *s, struct alert_list *l)
{
	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(store_alerts_foreach(s, NULL, 0, 0, collect, l), 0);
}

/* Whether the last alerts_raise() opened a new alert. */
static int created;

START_TEST(test_dedup)
{
	struct alerts *a = alerts_new("", 60);
	struct nseg_edge_key k = key("web", "curl", "external:0.0.0.0/0", 443);
	struct enforce_ctx x = ctx0;
	struct alerts_stats s;
	struct alert_list l;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(alerts_raise(a, &k, &x, "block", 3, NULL,
					   &created));
	ck_assert_int_eq(created, 1);
	fake_now += 10;
	/* Another pid, container, address: still the same deviation. */
	x.pid = 43;
	snprintf(x.peer_address, sizeof(x.peer_address), "198.51.100.1");
	ck_assert_ptr_nonnull(alerts_raise(a, &k, &x, "block", 3, NULL,
					   &created));
	ck_assert_int_eq(created, 0);
	fake_now += 49;
	alerts_raise(a, &k, &x, "block", 3, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.a[0].count, 3);
	ck_assert_int_eq(l.a[0].time_first, 1700000000);
	ck_assert_int_eq(l.a[0].time_last, 1700000059);
	ck_assert_int_eq(l.a[0].pid, 42);
	ck_assert_str_eq(l.a[0].kind, "deviation");
	ck_assert_str_eq(l.a[0].action, "block");
	ck_assert_int_eq(l.a[0].baseline, 3);
	alerts_get_stats(a, &s);
	ck_assert_uint_eq(s.raised, 3);
	ck_assert_uint_eq(s.deduplicated, 2);
	ck_assert_uint_eq(s.written, 1);
	/* Nothing new: flushing again writes nothing. */
	ck_assert_int_eq(alerts_flush(a, st), 0);
	alerts_get_stats(a, &s);
	ck_assert_uint_eq(s.written, 1);
	/* After the flush the open alert still counts (a bump). */
	alerts_raise(a, &k, &x, "block", 3, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.a[0].count, 4);
	alerts_free(a);
	alerts_free(NULL);
}
END_TEST

START_TEST(test_distinct)
{
	static const struct {
		const char *what;
		int field;
	} t[] = {{"process", 0},  {"exe only", 1}, {"port", 2},
		 {"action", 3},	  {"peer", 4},	   {"direction", 5},
		 {"protocol", 6}, {"version", 7},  {"workload", 8}};
	struct alerts *a = alerts_new("", 60);
	struct nseg_edge_key base = key("web", "curl", "api", 8080);
	struct alert_list l;

	alerts_raise(a, &base, &ctx0, "notify", 1, NULL, &created);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nseg_edge_key k = base;
		const char *action = "notify";

		switch (t[i].field) {
		case 0:
			snprintf(k.proc.comm, sizeof(k.proc.comm), "wget");
			snprintf(k.proc.exe, sizeof(k.proc.exe), "/bin/wget");
			break;
		case 1:
			snprintf(k.proc.exe, sizeof(k.proc.exe), "/tmp/curl");
			break;
		case 2:
			k.port = 8081;
			break;
		case 3:
			action = "block";
			break;
		case 4:
			snprintf(k.peer, sizeof(k.peer), "db");
			break;
		case 5:
			k.dir = NSEG_INGRESS;
			break;
		case 6:
			k.proto = IPPROTO_UDP;
			break;
		case 7:
			snprintf(k.version, sizeof(k.version), "2.0");
			break;
		case 8:
			snprintf(k.workload, sizeof(k.workload), "api");
			break;
		}
		alerts_raise(a, &k, &ctx0, action, 1, NULL, &created);
		/* Twice: the second one dedups into the first. */
		alerts_raise(a, &k, &ctx0, action, 1, NULL, &created);
	}
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, 1 + sizeof(t) / sizeof(t[0]));
	/* Written in the order raised: the base alert has the lowest id. */
	ck_assert_uint_eq(l.a[0].count, 1);
	ck_assert_str_eq(l.a[0].action, "notify");
	ck_assert_str_eq(l.a[0].proc.exe, "/usr/bin/curl");
	ck_assert_str_eq(l.a[l.n - 1].workload, "api");
	for (size_t i = 1; i < l.n; i++)
		ck_assert_msg(l.a[i].count == 2, "alert %zu count %llu", i,
			      (unsigned long long)l.a[i].count);
	alerts_free(a);
}
END_TEST

START_TEST(test_window_expiry)
{
	struct alerts *a = alerts_new("", 60);
	struct nseg_edge_key k = key("web", "curl", "api", 8080);
	struct alert_list l;

	alerts_raise(a, &k, &ctx0, "notify", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	fake_now += 59;
	alerts_raise(a, &k, &ctx0, "notify", 1, NULL, &created);
	fake_now += 1;
	/* 60 s after the first: a new alert. */
	alerts_raise(a, &k, &ctx0, "notify", 1, NULL, &created);
	alerts_raise(a, &k, &ctx0, "notify", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.a[0].count, 2);
	ck_assert_uint_eq(l.a[1].count, 2);
	ck_assert_int_eq(l.a[1].time_first, 1700000060);
	/* A new window (SIGHUP) applies to open alerts too. */
	alerts_configure(a, "", 3600);
	fake_now += 100;
	alerts_raise(a, &k, &ctx0, "notify", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.a[1].count, 3);
	alerts_free(a);
}
END_TEST

START_TEST(test_flood_folding)
{
	struct alerts *a = alerts_new("", 60);
	struct nseg_edge_key k;
	struct alert_list l;
	const struct store_alert *flood = NULL;
	size_t dev = 0;

	for (int port = 1; port <= T_DISTINCT_MAX; port++) {
		k = key("web", "nmap", "external:0.0.0.0/0", port);
		alerts_raise(a, &k, &ctx0, "block", 1, NULL, &created);
	}
	/* Past the cap: new deviations go into the flood alert... */
	k = key("web", "nmap", "external:0.0.0.0/0", 1000);
	alerts_raise(a, &k, &ctx0, "block", 1, NULL, &created);
	k = key("web", "nmap", "external:0.0.0.0/0", 1001);
	alerts_raise(a, &k, &ctx0, "block", 1, NULL, &created);
	/* ...a repeat of an open one still counts in its own... */
	k = key("web", "nmap", "external:0.0.0.0/0", 1);
	alerts_raise(a, &k, &ctx0, "block", 1, NULL, &created);
	/* ...the kernel's rate-limit count joins the same flood alert... */
	alerts_raise_flood(a, "web", "1.0", "block", 10, 1);
	/* ...and another workload is not affected. */
	k = key("db", "nmap", "external:0.0.0.0/0", 1000);
	alerts_raise(a, &k, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, T_DISTINCT_MAX + 2);
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.a[i].kind, "flood") == 0) {
			ck_assert_ptr_null(flood);
			flood = &l.a[i];
			continue;
		}
		ck_assert_str_eq(l.a[i].kind, "deviation");
		if (strcmp(l.a[i].workload, "web") == 0) {
			dev++;
			ck_assert_uint_eq(l.a[i].count,
					  l.a[i].port == 1 ? 2 : 1);
			ck_assert_uint_le(l.a[i].port, T_DISTINCT_MAX);
		}
	}
	ck_assert_uint_eq(dev, T_DISTINCT_MAX);
	ck_assert_ptr_nonnull(flood);
	ck_assert_str_eq(flood->workload, "web");
	ck_assert_str_eq(flood->peer, "*");
	ck_assert_str_eq(flood->proc.exe, "*");
	ck_assert_uint_eq(flood->port, 0);
	ck_assert_int_eq(flood->pid, 0);
	ck_assert_uint_eq(flood->count, 12);
	alerts_free(a);
}
END_TEST

START_TEST(test_raise_flood)
{
	struct alerts *a = alerts_new("", 60);
	struct alerts_stats s;
	struct alert_list l;

	alerts_raise_flood(a, "web", "1.0", "notify", 5, 2);
	alerts_raise_flood(a, "web", "1.0", "notify", 7, 2);
	alerts_raise_flood(a, "web", "1.0", "block", 1, 2);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, 2);
	for (size_t i = 0; i < 2; i++) {
		int notify = strcmp(l.a[i].action, "notify") == 0;

		ck_assert_str_eq(l.a[i].kind, "flood");
		ck_assert_str_eq(l.a[i].workload, "web");
		ck_assert_str_eq(l.a[i].version, "1.0");
		ck_assert_str_eq(l.a[i].action, notify ? "notify" : "block");
		ck_assert_uint_eq(l.a[i].count, notify ? 12 : 1);
		ck_assert_int_eq(l.a[i].baseline, 2);
	}
	ck_assert_str_ne(l.a[0].action, l.a[1].action);
	alerts_get_stats(a, &s);
	ck_assert_uint_eq(s.raised, 13);
	alerts_free(a);
}
END_TEST

/* Tamper alerts: one per workload and action, peer "*", counting every
 * change; they neither fill the distinct-deviation cap nor join the
 * flood alert. */
START_TEST(test_raise_tamper)
{
	struct alerts *a = alerts_new("", 60);
	struct nseg_edge_key k;
	struct alert_list l;
	size_t tampers = 0, devs = 0;

	for (int i = 0; i < T_DISTINCT_MAX; i++)
		alerts_raise_tamper(a, "web", "1.0", "block", 3);
	alerts_raise_tamper(a, "db", "2.0", "notify", 1);
	/* Still room for as many distinct deviations as ever. */
	for (int port = 1; port <= T_DISTINCT_MAX; port++) {
		k = key("web", "nmap", "external:0.0.0.0/0", port);
		alerts_raise(a, &k, &ctx0, "block", 1, NULL, &created);
	}
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, T_DISTINCT_MAX + 2);
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.a[i].kind, "deviation") == 0) {
			devs++;
			continue;
		}
		ck_assert_str_eq(l.a[i].kind, "tamper");
		ck_assert_str_eq(l.a[i].peer, "*");
		ck_assert_str_eq(l.a[i].proc.exe, "*");
		ck_assert_uint_eq(l.a[i].port, 0);
		tampers++;
		if (strcmp(l.a[i].workload, "web") == 0) {
			ck_assert_uint_eq(l.a[i].count, T_DISTINCT_MAX);
			ck_assert_str_eq(l.a[i].action, "block");
			ck_assert_int_eq(l.a[i].baseline, 3);
		} else {
			ck_assert_str_eq(l.a[i].workload, "db");
			ck_assert_str_eq(l.a[i].version, "2.0");
			ck_assert_uint_eq(l.a[i].count, 1);
		}
	}
	ck_assert_uint_eq(tampers, 2);
	ck_assert_uint_eq(devs, T_DISTINCT_MAX);
	alerts_free(a);
}
END_TEST

/* Parses the JSON lines of path into ids[] and counts[]; returns n. */
static size_t read_lines(const char *path, int64_t *ids, uint64_t *counts,
			 size_t max)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);

		ck_assert_msg(j != NULL, "line %zu: %s", n + 1, je.text);
		ck_assert(json_is_integer(json_object_get(j, "id")));
		ck_assert(json_is_integer(json_object_get(j, "count")));
		ck_assert_uint_lt(n, max);
		ids[n] = json_integer_value(json_object_get(j, "id"));
		counts[n] =
		    (uint64_t)json_integer_value(json_object_get(j, "count"));
		n++;
		json_decref(j);
	}
	fclose(f);
	return n;
}

START_TEST(test_json_lines)
{
	struct alerts *a = alerts_new(jsonpath, 60);
	struct nseg_edge_key k1 = key("web", "curl", "api", 8080);
	struct nseg_edge_key k2 = key("web", "wget", "api", 8080);
	struct alert_list l;
	int64_t ids[8];
	uint64_t counts[8];
	size_t n;

	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	alerts_raise(a, &k2, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, 2);
	n = read_lines(jsonpath, ids, counts, 8);
	/* k1 new, then k1's update and k2 new (in the order raised),
	 * nothing on the empty flush. */
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ids[0], l.a[0].id);
	ck_assert_uint_eq(counts[0], 1);
	ck_assert_int_eq(ids[1], l.a[0].id);
	ck_assert_uint_eq(counts[1], 3);
	ck_assert_int_eq(ids[2], l.a[1].id);
	ck_assert_uint_eq(counts[2], 1);
	alerts_free(a);
}
END_TEST

START_TEST(test_failed_flush_keeps_all)
{
	struct alerts *a = alerts_new(jsonpath, 60);
	struct nseg_edge_key k1 = key("web", "curl", "api", 8080);
	struct nseg_edge_key k2 = key("web", "wget", "api", 8080);
	struct alerts_stats s;
	struct alert_list l;
	struct store *fs = fixture_store_open(fx.db);
	int64_t ids[8];
	uint64_t counts[8];

	/* Insert refused: nothing stored, nothing published. */
	fixture_store_exec(fx.db,
			   "CREATE TRIGGER no_ins BEFORE INSERT ON alerts "
			   "BEGIN SELECT RAISE(ABORT, 'test'); END;");
	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, fs), -1);
	alerts_get_stats(a, &s);
	ck_assert_uint_eq(s.write_errors, 1);
	ck_assert_uint_eq(s.written, 0);
	list_alerts(fs, &l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_uint_eq(read_lines(jsonpath, ids, counts, 8), 0);
	ck_assert_uint_eq(alerts_pending(a), 1);
	fixture_store_exec(fx.db, "DROP TRIGGER no_ins;");
	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, fs), 0);
	list_alerts(fs, &l);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.a[0].count, 2);

	/* A bump refused after a new alert went in: the insert is rolled
	 * back with it, and the next flush does both exactly once. */
	fixture_store_exec(fx.db,
			   "CREATE TRIGGER no_upd BEFORE UPDATE ON alerts "
			   "BEGIN SELECT RAISE(ABORT, 'test'); END;");
	alerts_raise(a, &k2, &ctx0, "block", 1, NULL, &created);
	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, fs), -1);
	list_alerts(fs, &l);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.a[0].count, 2);
	/* k2 (new) and k1 (a count not written) */
	ck_assert_uint_eq(alerts_pending(a), 2);
	ck_assert_int_eq(alerts_flush(a, fs), -1);
	fixture_store_exec(fx.db, "DROP TRIGGER no_upd;");
	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, fs), 0);
	list_alerts(fs, &l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(l.a[0].count, 4);
	ck_assert_uint_eq(l.a[1].count, 1);
	alerts_get_stats(a, &s);
	ck_assert_uint_eq(s.write_errors, 3);
	ck_assert_uint_eq(alerts_pending(a), 0);
	/* Lines: k1 (2); then k1 (4) and k2 (1), in the order raised; all
	 * ids known. */
	ck_assert_uint_eq(read_lines(jsonpath, ids, counts, 8), 3);
	ck_assert_int_eq(ids[0], l.a[0].id);
	ck_assert_uint_eq(counts[0], 2);
	ck_assert_int_eq(ids[1], l.a[0].id);
	ck_assert_uint_eq(counts[1], 4);
	ck_assert_int_eq(ids[2], l.a[1].id);
	ck_assert_uint_eq(counts[2], 1);
	store_close(fs);
	alerts_free(a);
}
END_TEST

START_TEST(test_bounded)
{
	struct alerts *a = alerts_new("", 3600);
	struct alerts_stats s;
	struct alert_list l;
	char wl[32];
	int i;

	/* Every new alert is logged: keep the test output short. */
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	/* Distinct workloads, under the per-workload flood cap. */
	for (i = 0; i < T_ALERTS_MAX + 10; i++) {
		struct nseg_edge_key k;

		snprintf(wl, sizeof(wl), "w%d", i / 40);
		k = key(wl, "curl", "api", i % 40 + 1);
		alerts_raise(a, &k, &ctx0, "notify", 1, NULL, &created);
	}
	alerts_get_stats(a, &s);
	ck_assert_uint_eq(s.dropped, 10);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.total, T_ALERTS_MAX);
	/* Once written, the oldest make room for new ones. */
	for (i = 0; i < 10; i++) {
		struct nseg_edge_key k = key("late", "curl", "api", i + 1);

		alerts_raise(a, &k, &ctx0, "notify", 1, NULL, &created);
	}
	alerts_get_stats(a, &s);
	ck_assert_uint_eq(s.dropped, 10);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.total, T_ALERTS_MAX + 10);
	alerts_free(a);
}
END_TEST

/* A restart: the alerts whose window is open are read back, and a
 * deviation seen again counts into its alert; one whose window closed
 * opens a new one. */
START_TEST(test_load_after_restart)
{
	struct alerts *a = alerts_new("", 60);
	struct nseg_edge_key k1 = key("web", "curl", "api", 8080);
	struct nseg_edge_key k2 = key("web", "wget", "api", 8080);
	struct alert_list l;

	alerts_raise(a, &k2, &ctx0, "block", 1, NULL, &created);
	fake_now += 30;
	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	alerts_free(a);

	fake_now += 40; /* k2's window has closed, k1's not */
	a = alerts_new("", 60);
	ck_assert_int_eq(alerts_load(a, st), 0);
	ck_assert_uint_eq(alerts_pending(a), 0);
	alerts_raise(a, &k1, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(created, 0);
	alerts_raise(a, &k2, &ctx0, "block", 1, NULL, &created);
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(alerts_flush(a, st), 0);
	list_alerts(st, &l);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_uint_eq(l.a[0].count, 1); /* k2, closed */
	ck_assert_uint_eq(l.a[1].count, 2); /* k1, counted on */
	ck_assert_uint_eq(l.a[2].count, 1); /* k2 again */
	alerts_free(a);
}
END_TEST

static Suite *alerts_suite(void)
{
	Suite *s = suite_create("alerts");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_load_after_restart);
	tcase_add_test(tc, test_dedup);
	tcase_add_test(tc, test_distinct);
	tcase_add_test(tc, test_window_expiry);
	tcase_add_test(tc, test_flood_folding);
	tcase_add_test(tc, test_raise_flood);
	tcase_add_test(tc, test_raise_tamper);
	tcase_add_test(tc, test_json_lines);
	tcase_add_test(tc, test_failed_flush_keeps_all);
	tcase_add_test(tc, test_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(alerts_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
