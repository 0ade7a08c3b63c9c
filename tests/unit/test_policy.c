/*
 * The in-memory policy: loaded from a real (in-memory) store, edges folded
 * into rules, queued packets matched against them.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/policy.h"
#include "nseg/store.h"

static struct store *st;

static void setup(void)
{
	char err[256];

	st = store_open(":memory:", err, sizeof(err));
	ck_assert_msg(st != NULL, "store_open: %s", err);
}

static void teardown(void)
{
	store_close(st);
	st = NULL;
}

static struct nseg_edge_key key(const char *wl, const char *ver,
				const char *exe, const char *comm, int dir,
				const char *peer, const char *peer_comm,
				int proto, int port)
{
	struct nseg_edge_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.workload, sizeof(k.workload), "%s", wl);
	snprintf(k.version, sizeof(k.version), "%s", ver);
	snprintf(k.proc.exe, sizeof(k.proc.exe), "%s", exe);
	snprintf(k.proc.comm, sizeof(k.proc.comm), "%s", comm);
	k.dir = (uint8_t)dir;
	snprintf(k.peer, sizeof(k.peer), "%s", peer);
	if (peer_comm) {
		snprintf(k.peer_proc.exe, sizeof(k.peer_proc.exe), "/bin/%s",
			 peer_comm);
		snprintf(k.peer_proc.comm, sizeof(k.peer_proc.comm), "%s",
			 peer_comm);
	}
	k.proto = (uint8_t)proto;
	k.port = (uint16_t)port;
	return k;
}

static void add(const struct nseg_edge_key *k)
{
	ck_assert_int_eq(store_edge_add(st, k, 1, 100, 100), 0);
}

/* Approves every learned edge of wl. */
static void approve_all(const char *wl, int any_process)
{
	ck_assert_int_ge(store_edges_decide(st, wl, "approved", 1, NULL, 0,
					    any_process, "test", 200, NULL,
					    NULL),
			 1);
}

START_TEST(test_mode_names)
{
	static const struct {
		const char *s;
		int m;
	} t[] = {{"learn", POLICY_LEARN},
		 {"notify", POLICY_NOTIFY},
		 {"enforce", POLICY_ENFORCE},
		 {"Enforce", -1},
		 {"", -1},
		 {"enforced", -1}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(policy_mode_parse(t[i].s), t[i].m);
		if (t[i].m >= 0)
			ck_assert_str_eq(policy_mode_name(t[i].m), t[i].s);
	}
	ck_assert_str_eq(policy_mode_name((enum policy_mode)7), "learn");
	ck_assert_str_eq(policy_mode_name((enum policy_mode) - 1), "learn");
}
END_TEST

START_TEST(test_unknown_workload)
{
	struct policy *p = policy_new();
	struct nseg_edge_key k = key("ghost", "1", "/bin/sh", "sh", NSEG_EGRESS,
				     "host", NULL, IPPROTO_TCP, 80);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(policy_load(p, st, "ghost"), 0);
	ck_assert_ptr_null(policy_get(p, "ghost"));
	ck_assert_int_eq(policy_mode_of(p, "ghost"), POLICY_LEARN);
	ck_assert_int_eq(policy_match(NULL, &k), -1);
	policy_free(p);
	policy_free(NULL);
}
END_TEST

/* A workload the store no longer knows is dropped (here: another store). */
START_TEST(test_unknown_drops_loaded)
{
	struct policy *p = policy_new();
	struct nseg_edge_key k = key("web", "1", "/bin/sh", "sh", NSEG_EGRESS,
				     "db", NULL, IPPROTO_TCP, 5432);
	struct store *other;
	char err[256];

	add(&k);
	approve_all("web", 1);
	ck_assert_int_eq(store_workload_set_mode(st, "web", "enforce", NULL),
			 0);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	ck_assert_int_eq(policy_mode_of(p, "web"), POLICY_ENFORCE);
	other = store_open(":memory:", err, sizeof(err));
	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(policy_load(p, other, "web"), 0);
	ck_assert_ptr_null(policy_get(p, "web"));
	ck_assert_int_eq(policy_mode_of(p, "web"), POLICY_LEARN);
	store_close(other);
	policy_free(p);
}
END_TEST

START_TEST(test_folding)
{
	struct policy *p = policy_new();
	const struct policy_workload *w;
	struct nseg_edge_key k;

	/* Two versions, two peer processes: one rule. */
	k = key("web", "1.0", "/usr/bin/curl", "curl", NSEG_EGRESS, "api",
		"gunicorn", IPPROTO_TCP, 8080);
	add(&k);
	k = key("web", "2.0", "/usr/bin/curl", "curl", NSEG_EGRESS, "api",
		"uwsgi", IPPROTO_TCP, 8080);
	add(&k);
	k = key("web", "1.0", "/usr/bin/curl", "curl", NSEG_EGRESS, "api", NULL,
		IPPROTO_TCP, 8080);
	add(&k);
	/* Another local process: another rule. */
	k = key("web", "1.0", "/usr/bin/wget", "wget", NSEG_EGRESS, "api", NULL,
		IPPROTO_TCP, 8080);
	add(&k);
	/* Another port: another rule. */
	k = key("web", "1.0", "/usr/bin/curl", "curl", NSEG_EGRESS, "api", NULL,
		IPPROTO_TCP, 8081);
	add(&k);
	approve_all("web", 0);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	w = policy_get(p, "web");
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(w->name, "web");
	ck_assert_uint_eq(w->n_rules, 3);
	ck_assert_int_eq(w->mode, POLICY_LEARN);
	ck_assert_int_ge(w->revision, 1);
	for (size_t i = 0; i < w->n_rules; i++) {
		ck_assert_int_eq(w->rules[i].any_process, 0);
		ck_assert_str_eq(w->rules[i].peer, "api");
	}
	policy_free(p);
}
END_TEST

START_TEST(test_folding_any_process)
{
	struct policy *p = policy_new();
	const struct policy_workload *w;
	struct nseg_edge_key k;

	/* Approved for any process: the local process no longer splits. */
	k = key("web", "1.0", "/usr/bin/curl", "curl", NSEG_EGRESS, "api", NULL,
		IPPROTO_TCP, 8080);
	add(&k);
	k = key("web", "1.0", "/usr/bin/wget", "wget", NSEG_EGRESS, "api", NULL,
		IPPROTO_TCP, 8080);
	add(&k);
	approve_all("web", 1);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	w = policy_get(p, "web");
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(w->n_rules, 1);
	ck_assert_int_eq(w->rules[0].any_process, 1);
	policy_free(p);
}
END_TEST

/* Workload "web": curl may reach api tcp/8080 (process-scoped), any
 * process may reach db tcp/5432 and answer host on udp/53 ingress. */
static struct policy *load_web(void)
{
	struct policy *p = policy_new();
	struct nseg_edge_key k;
	int64_t id;

	k = key("web", "1", "/usr/bin/curl", "curl", NSEG_EGRESS, "api", NULL,
		IPPROTO_TCP, 8080);
	add(&k);
	approve_all("web", 0);
	k = key("web", "1", "/bin/sh", "sh", NSEG_EGRESS, "db", NULL,
		IPPROTO_TCP, 5432);
	add(&k);
	k = key("web", "1", "/bin/sh", "sh", NSEG_INGRESS, "host", NULL,
		IPPROTO_UDP, 53);
	add(&k);
	approve_all("web", 1);
	/* A learned, undecided edge gives no rule. */
	k = key("web", "1", "/bin/sh", "sh", NSEG_EGRESS, "evil", NULL,
		IPPROTO_TCP, 443);
	add(&k);
	/* A rejected one neither. */
	k = key("web", "1", "/bin/sh", "sh", NSEG_EGRESS, "evil2", NULL,
		IPPROTO_TCP, 443);
	add(&k);
	id = 5;
	ck_assert_int_eq(store_edges_decide(st, "web", "rejected", 0, &id, 1, 0,
					    "test", 300, NULL, NULL),
			 1);
	ck_assert_int_eq(store_workload_set_mode(st, "web", "enforce", NULL),
			 0);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	return p;
}

START_TEST(test_match)
{
	static const struct {
		const char *what;
		const char *exe, *comm;
		int dir;
		const char *peer;
		int proto, port;
		int match; /* 1: some rule */
	} t[] = {
	    {"scoped exact", "/usr/bin/curl", "curl", NSEG_EGRESS, "api",
	     IPPROTO_TCP, 8080, 1},
	    {"scoped other exe", "/tmp/curl", "curl", NSEG_EGRESS, "api",
	     IPPROTO_TCP, 8080, 0},
	    {"scoped other comm", "/usr/bin/curl", "curl2", NSEG_EGRESS, "api",
	     IPPROTO_TCP, 8080, 0},
	    {"scoped wrong port", "/usr/bin/curl", "curl", NSEG_EGRESS, "api",
	     IPPROTO_TCP, 8081, 0},
	    {"scoped wrong proto", "/usr/bin/curl", "curl", NSEG_EGRESS, "api",
	     IPPROTO_UDP, 8080, 0},
	    {"scoped wrong dir", "/usr/bin/curl", "curl", NSEG_INGRESS, "api",
	     IPPROTO_TCP, 8080, 0},
	    {"scoped wrong peer", "/usr/bin/curl", "curl", NSEG_EGRESS, "apix",
	     IPPROTO_TCP, 8080, 0},
	    {"any process", "/usr/bin/python3", "python3", NSEG_EGRESS, "db",
	     IPPROTO_TCP, 5432, 1},
	    {"any process unknown", "?", "", NSEG_EGRESS, "db", IPPROTO_TCP,
	     5432, 1},
	    {"any wrong dir", "/bin/sh", "sh", NSEG_INGRESS, "db", IPPROTO_TCP,
	     5432, 0},
	    {"any wrong peer", "/bin/sh", "sh", NSEG_EGRESS, "host",
	     IPPROTO_TCP, 5432, 0},
	    {"any wrong proto", "/bin/sh", "sh", NSEG_EGRESS, "db", IPPROTO_UDP,
	     5432, 0},
	    {"any wrong port", "/bin/sh", "sh", NSEG_EGRESS, "db", IPPROTO_TCP,
	     5433, 0},
	    {"ingress", "/sbin/dnsd", "dnsd", NSEG_INGRESS, "host", IPPROTO_UDP,
	     53, 1},
	    {"ingress as egress", "/sbin/dnsd", "dnsd", NSEG_EGRESS, "host",
	     IPPROTO_UDP, 53, 0},
	    {"learned only", "/bin/sh", "sh", NSEG_EGRESS, "evil", IPPROTO_TCP,
	     443, 0},
	    {"rejected", "/bin/sh", "sh", NSEG_EGRESS, "evil2", IPPROTO_TCP,
	     443, 0},
	};
	struct policy *p = load_web();
	const struct policy_workload *w = policy_get(p, "web");

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(w->mode, POLICY_ENFORCE);
	ck_assert_int_eq(policy_mode_of(p, "web"), POLICY_ENFORCE);
	ck_assert_uint_eq(w->n_rules, 3);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nseg_edge_key k =
		    key("web", "9.9", t[i].exe, t[i].comm, t[i].dir, t[i].peer,
			NULL, t[i].proto, t[i].port);
		int r = policy_match(w, &k);

		if (!t[i].match) {
			ck_assert_msg(r == -1, "%s: matched rule %d", t[i].what,
				      r);
			continue;
		}
		ck_assert_msg(r >= 0 && (size_t)r < w->n_rules, "%s: no match",
			      t[i].what);
		ck_assert_uint_eq(w->rules[r].port, (unsigned)t[i].port);
		ck_assert_str_eq(w->rules[r].peer, t[i].peer);
	}
	policy_free(p);
}
END_TEST

/* A rule on an external network covers the addresses attribution names
 * inside it, and nothing wider or outside. */
START_TEST(test_match_external_cidr)
{
	static const struct {
		const char *peer;
		int match;
	} t[] = {{"external:10.0.0.0/8", 1},    {"external:10.1.2.3/32", 1},
		 {"external:10.255.0.0/16", 1}, {"external:11.0.0.1/32", 0},
		 {"external:10.0.0.0/7", 0},    {"external:fd00::1/128", 0},
		 {"external:corp", 0},	       {"10.1.2.3", 0},
		 {"external:10.1.2.3", 1},      {"external:junk", 0}};
	struct policy *p = policy_new();
	struct nseg_edge_key k = key("web", "1", "/bin/sh", "sh", NSEG_EGRESS,
				     "external:10.0.0.0/8", NULL, IPPROTO_TCP,
				     443);
	const struct policy_workload *w;

	add(&k);
	approve_all("web", 0);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	w = policy_get(p, "web");
	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nseg_edge_key q = key("web", "2", "/bin/sh", "sh",
					     NSEG_EGRESS, t[i].peer, NULL,
					     IPPROTO_TCP, 443);

		ck_assert_msg((policy_match(w, &q) == 0) == t[i].match,
			      "%s: want %d", t[i].peer, t[i].match);
		ck_assert_int_eq(policy_names_port(w, NSEG_EGRESS, t[i].peer,
						   IPPROTO_TCP, 443),
				 t[i].match);
	}
	policy_free(p);
}
END_TEST

/* A version with no approved edges of its own inherited the newest
 * approved version's baseline: it drifts from that one. */
START_TEST(test_drift_from)
{
	struct policy *p = policy_new();
	struct nseg_edge_key k1 = key("web", "1.0", "/bin/sh", "sh",
				      NSEG_EGRESS, "db", NULL, IPPROTO_TCP,
				      5432);
	struct nseg_edge_key k2 = key("web", "1.1", "/bin/sh", "sh",
				      NSEG_EGRESS, "db", NULL, IPPROTO_TCP,
				      5432);
	const struct policy_workload *w;

	ck_assert_ptr_null(policy_drift_from(NULL, "1.0"));
	ck_assert_int_eq(store_edge_add(st, &k1, 1, 100, 100), 0);
	approve_all("web", 0);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	w = policy_get(p, "web");
	ck_assert_str_eq(policy_drift_from(w, "1.1"), "1.0");
	ck_assert_ptr_null(policy_drift_from(w, "1.0"));
	/* 1.1 approved too, and newer: 1.2 drifts from 1.1. */
	ck_assert_int_eq(store_edge_add(st, &k2, 1, 300, 300), 0);
	approve_all("web", 0);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	w = policy_get(p, "web");
	ck_assert_ptr_null(policy_drift_from(w, "1.0"));
	ck_assert_ptr_null(policy_drift_from(w, "1.1"));
	ck_assert_str_eq(policy_drift_from(w, "1.2"), "1.1");
	policy_free(p);
}
END_TEST

START_TEST(test_reload_after_decision)
{
	struct policy *p = load_web();
	const struct policy_workload *w;
	struct nseg_edge_key k = key("web", "1", "/bin/sh", "sh", NSEG_EGRESS,
				     "evil", NULL, IPPROTO_TCP, 443);
	int64_t rev0, id = 4;

	w = policy_get(p, "web");
	rev0 = w->revision;
	ck_assert_int_eq(policy_match(w, &k), -1);
	ck_assert_int_eq(store_edges_decide(st, "web", "approved", 0, &id, 1, 0,
					    "test", 400, NULL, NULL),
			 1);
	/* Not seen until reloaded. */
	ck_assert_int_eq(policy_match(policy_get(p, "web"), &k), -1);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	w = policy_get(p, "web");
	ck_assert_uint_eq(w->n_rules, 4);
	ck_assert_int_gt(w->revision, rev0);
	ck_assert_int_ge(policy_match(w, &k), 0);
	/* Revoking the any-process db edge removes its rule. */
	id = 2;
	ck_assert_int_eq(store_edges_decide(st, "web", "rejected", 0, &id, 1, 0,
					    "test", 500, NULL, NULL),
			 1);
	ck_assert_int_eq(store_workload_set_mode(st, "web", "notify", NULL), 0);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	w = policy_get(p, "web");
	ck_assert_uint_eq(w->n_rules, 3);
	ck_assert_int_eq(w->mode, POLICY_NOTIFY);
	k = key("web", "1", "/bin/sh", "sh", NSEG_EGRESS, "db", NULL,
		IPPROTO_TCP, 5432);
	ck_assert_int_eq(policy_match(w, &k), -1);
	policy_free(p);
}
END_TEST

static int collect_name(const struct store_workload *sw, void *arg)
{
	(void)sw;
	(*(int *)arg)++;
	return 0;
}

START_TEST(test_load_all)
{
	struct policy *p = policy_new();
	struct nseg_edge_key k;
	int n = 0;

	k = key("a", "1", "/bin/a", "a", NSEG_EGRESS, "b", NULL, IPPROTO_TCP,
		1);
	add(&k);
	approve_all("a", 1);
	k = key("b", "1", "/bin/b", "b", NSEG_INGRESS, "a", NULL, IPPROTO_TCP,
		1);
	add(&k);
	ck_assert_int_eq(store_workload_set_mode(st, "b", "notify", NULL), 0);
	ck_assert_int_eq(store_workload_touch(st, "c", "1", 10), 0);
	ck_assert_int_eq(store_workloads_foreach(st, collect_name, &n), 0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(policy_load_all(p, st), 0);
	ck_assert_uint_eq(policy_get(p, "a")->n_rules, 1);
	ck_assert_uint_eq(policy_get(p, "b")->n_rules, 0);
	ck_assert_int_eq(policy_mode_of(p, "b"), POLICY_NOTIFY);
	ck_assert_ptr_nonnull(policy_get(p, "c"));
	ck_assert_int_eq(policy_mode_of(p, "c"), POLICY_LEARN);
	/* Loading again replaces, never duplicates. */
	ck_assert_int_eq(policy_load_all(p, st), 0);
	ck_assert_uint_eq(policy_get(p, "a")->n_rules, 1);
	policy_free(p);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mode_names);
	tcase_add_test(tc, test_unknown_workload);
	tcase_add_test(tc, test_unknown_drops_loaded);
	tcase_add_test(tc, test_folding);
	tcase_add_test(tc, test_folding_any_process);
	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_match_external_cidr);
	tcase_add_test(tc, test_drift_from);
	tcase_add_test(tc, test_reload_after_decision);
	tcase_add_test(tc, test_load_all);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
