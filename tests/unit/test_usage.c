/*
 * Usage of approved rules: counted in memory, written in one transaction,
 * read back as the hits of the approved edges that fold into each rule.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/policy.h"
#include "nseg/store.h"
#include "nseg/usage.h"

#include "fixture_store.h"

static struct fixture_store fx;
static struct store *st;

static void setup(void)
{
	fixture_store_setup(&fx, "usage");
	st = NULL;
}

static void teardown(void)
{
	store_close(st);
	st = NULL;
	fixture_store_teardown(&fx);
}

static void add_edge(const char *wl, const char *ver, const char *comm,
		     const char *peer, int port)
{
	struct nseg_edge_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.workload, sizeof(k.workload), "%s", wl);
	snprintf(k.version, sizeof(k.version), "%s", ver);
	snprintf(k.proc.exe, sizeof(k.proc.exe), "/usr/bin/%s", comm);
	snprintf(k.proc.comm, sizeof(k.proc.comm), "%s", comm);
	k.dir = NSEG_EGRESS;
	snprintf(k.peer, sizeof(k.peer), "%s", peer);
	k.proto = IPPROTO_TCP;
	k.port = (uint16_t)port;
	ck_assert_int_eq(store_edge_add(st, &k, 1, 10, 10), 0);
}

/*
 * web: curl -> api:8080 twice (versions 1 and 2, process-scoped: one
 * rule), any process -> db:5432, and a learned (unapproved) edge
 * -> cache:6379. Returns web's policy.
 */
static struct policy *setup_web(void)
{
	struct policy *p = policy_new();
	int64_t ids[2] = {1, 2}, id3 = 3;

	add_edge("web", "1", "curl", "api", 8080);
	add_edge("web", "2", "curl", "api", 8080);
	add_edge("web", "1", "sh", "db", 5432);
	add_edge("web", "1", "sh", "cache", 6379);
	ck_assert_int_eq(store_edges_decide(st, "web", "approved", 0, ids, 2, 0,
					    "t", 20, NULL, NULL),
			 2);
	ck_assert_int_eq(store_edges_decide(st, "web", "approved", 0, &id3, 1,
					    1, "t", 20, NULL, NULL),
			 1);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	ck_assert_uint_eq(policy_get(p, "web")->n_rules, 2);
	return p;
}

/* The rule of web with port port. */
static const struct policy_rule *rule(struct policy *p, int port)
{
	const struct policy_workload *w = policy_get(p, "web");

	for (size_t i = 0; i < w->n_rules; i++)
		if (w->rules[i].port == port)
			return &w->rules[i];
	ck_abort_msg("no rule for port %d", port);
	return NULL;
}

struct hits {
	uint64_t hits[8], bytes[8];
	int64_t last[8];
};

static int collect(const struct store_edge *e, void *arg)
{
	struct hits *h = arg;

	if (e->id >= 1 && e->id < 8) {
		h->hits[e->id] = e->hits;
		h->bytes[e->id] = e->hit_bytes;
		h->last[e->id] = e->last_used;
	}
	return 0;
}

static void read_hits(struct hits *h)
{
	int found = 0;

	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(
	    store_edges_foreach(st, "web", NULL, &found, collect, h), 0);
	ck_assert_int_eq(found, 1);
}

START_TEST(test_aggregate_flush)
{
	struct usage *u = usage_new();
	struct policy *p;
	struct hits h;

	st = fixture_store_open(":memory:");
	p = setup_web();
	ck_assert_ptr_nonnull(u);
	/* Nothing pending: nothing to do. */
	ck_assert_int_eq(usage_flush(u, st), 0);
	usage_add(u, "web", rule(p, 8080), 1, 60, 100);
	usage_add(u, "web", rule(p, 8080), 2, 120, 300);
	usage_add(u, "web", rule(p, 8080), 1, 60, 200);
	usage_add(u, "web", rule(p, 5432), 5, 500, 50);
	/* A workload the store does not know is skipped, not an error. */
	usage_add(u, "gone", rule(p, 5432), 1, 1, 1);
	ck_assert_int_eq(usage_flush(u, st), 0);
	read_hits(&h);
	/* Both curl edges fold into one rule and show its usage. */
	for (int id = 1; id <= 2; id++) {
		ck_assert_uint_eq(h.hits[id], 4);
		ck_assert_uint_eq(h.bytes[id], 240);
		ck_assert_int_eq(h.last[id], 300);
	}
	ck_assert_uint_eq(h.hits[3], 5);
	ck_assert_uint_eq(h.bytes[3], 500);
	ck_assert_int_eq(h.last[3], 50);
	ck_assert_uint_eq(h.hits[4], 0);
	/* Flushed means gone from memory: a second flush adds nothing. */
	ck_assert_int_eq(usage_flush(u, st), 0);
	read_hits(&h);
	ck_assert_uint_eq(h.hits[1], 4);
	/* Later usage adds to the stored numbers; last_used never goes
	 * back. */
	usage_add(u, "web", rule(p, 8080), 1, 10, 250);
	ck_assert_int_eq(usage_flush(u, st), 0);
	read_hits(&h);
	ck_assert_uint_eq(h.hits[1], 5);
	ck_assert_uint_eq(h.bytes[1], 250);
	ck_assert_int_eq(h.last[1], 300);
	usage_free(u);
	usage_free(NULL);
	policy_free(p);
}
END_TEST

/* Rules that differ in one field are counted apart. */
START_TEST(test_distinct_rules)
{
	static const struct {
		const char *what;
		int field;
	} t[] = {{"dir", 0}, {"proto", 1}, {"port", 2}, {"peer", 3},
		 {"exe", 4}, {"comm", 5},  {"any", 6},	{"workload", 7}};
	struct policy_rule base = {.dir = NSEG_EGRESS,
				   .proto = IPPROTO_TCP,
				   .port = 8080,
				   .port_hi = 8080,
				   .peer = "api",
				   .exe = "/usr/bin/curl",
				   .comm = "curl"};
	struct usage *u = usage_new();
	struct hits h;

	st = fixture_store_open(":memory:");
	add_edge("web", "1", "curl", "api", 8080);
	ck_assert_int_eq(store_edges_decide(st, "web", "approved", 1, NULL, 0,
					    0, "t", 20, NULL, NULL),
			 1);
	usage_add(u, "web", &base, 1, 1, 1);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct policy_rule r = base;
		const char *wl = "web";

		switch (t[i].field) {
		case 0:
			r.dir = NSEG_INGRESS;
			break;
		case 1:
			r.proto = IPPROTO_UDP;
			break;
		case 2:
			r.port = 8081;
			break;
		case 3:
			r.peer = "db";
			break;
		case 4:
			r.exe = "/x";
			break;
		case 5:
			r.comm = "x";
			break;
		case 6:
			r.any_process = 1;
			break;
		case 7:
			wl = "other";
			break;
		}
		usage_add(u, wl, &r, 100, 100, 1);
	}
	ck_assert_int_eq(usage_flush(u, st), 0);
	read_hits(&h);
	/* Only the base rule names the approved edge. */
	ck_assert_uint_eq(h.hits[1], 1);
	usage_free(u);
}
END_TEST

START_TEST(test_failure_keeps_pending)
{
	struct usage *u = usage_new();
	struct policy *p;
	struct hits h;

	st = fixture_store_open(fx.db);
	p = setup_web();
	/* The second rule's write fails after the first went in: the whole
	 * flush rolls back and stays pending. */
	fixture_store_exec(
	    fx.db,
	    "CREATE TRIGGER no_db BEFORE INSERT ON rule_usage"
	    " WHEN NEW.port = 5432 BEGIN SELECT RAISE(ABORT, 'test'); END;");
	usage_add(u, "web", rule(p, 8080), 1, 60, 100);
	usage_add(u, "web", rule(p, 5432), 2, 70, 100);
	ck_assert_int_eq(usage_flush(u, st), -1);
	read_hits(&h);
	ck_assert_uint_eq(h.hits[1], 0);
	ck_assert_uint_eq(h.hits[3], 0);
	ck_assert_int_eq(usage_flush(u, st), -1);
	/* More usage while the database refuses: counted in. */
	usage_add(u, "web", rule(p, 8080), 1, 60, 200);
	fixture_store_exec(fx.db, "DROP TRIGGER no_db;");
	ck_assert_int_eq(usage_flush(u, st), 0);
	read_hits(&h);
	ck_assert_uint_eq(h.hits[1], 2);
	ck_assert_uint_eq(h.bytes[1], 120);
	ck_assert_int_eq(h.last[1], 200);
	ck_assert_uint_eq(h.hits[3], 2);
	ck_assert_uint_eq(h.bytes[3], 70);
	/* An open transaction makes the next flush fail too; kept. */
	usage_add(u, "web", rule(p, 5432), 1, 1, 300);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(usage_flush(u, st), -1);
	store_rollback(st);
	ck_assert_int_eq(usage_flush(u, st), 0);
	read_hits(&h);
	ck_assert_uint_eq(h.hits[3], 3);
	usage_free(u);
	policy_free(p);
}
END_TEST

static Suite *usage_suite(void)
{
	Suite *s = suite_create("usage");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_aggregate_flush);
	tcase_add_test(tc, test_distinct_rules);
	tcase_add_test(tc, test_failure_keeps_pending);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(usage_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
