#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "nseg/learn_agg.h"
#include "nseg/store.h"

#include "fixture_store.h"

static struct fixture_store fx;
static struct store *st;

static void setup(void)
{
	fixture_store_setup(&fx, "agg");
	st = fixture_store_open(fx.db);
}

static void teardown(void)
{
	store_close(st);
	fixture_store_teardown(&fx);
}

static struct nseg_edge_key key(const char *wl, const char *peer, int port)
{
	struct nseg_edge_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.workload, sizeof(k.workload), "%s", wl);
	snprintf(k.version, sizeof(k.version), "1.0");
	snprintf(k.proc.exe, sizeof(k.proc.exe), "/bin/busybox");
	snprintf(k.proc.comm, sizeof(k.proc.comm), "wget");
	k.dir = NSEG_EGRESS;
	snprintf(k.peer, sizeof(k.peer), "%s", peer);
	k.proto = IPPROTO_TCP;
	k.port = (uint16_t)port;
	return k;
}

struct totals {
	size_t n;
	uint64_t sum;
	struct {
		char peer[32];
		int port;
		uint64_t count;
		int64_t first, last;
		int deviation;
	} e[8];
};

static int collect(const struct store_edge *e, void *arg)
{
	struct totals *t = arg;

	if (t->n < 8) {
		snprintf(t->e[t->n].peer, sizeof(t->e[t->n].peer), "%.31s",
			 e->key.peer);
		t->e[t->n].port = e->key.port;
		t->e[t->n].count = e->count;
		t->e[t->n].first = e->first_seen;
		t->e[t->n].last = e->last_seen;
		t->e[t->n].deviation = e->deviation;
	}
	t->n++;
	t->sum += e->count;
	return 0;
}

static struct totals totals(const char *wl)
{
	struct totals t;
	int found;

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(store_edges_foreach(st, wl, NULL, &found, collect,
					     &t),
			 0);
	return t;
}

START_TEST(test_aggregate_and_flush)
{
	struct learn_agg *a = learn_agg_new(16);
	struct nseg_edge_key k1 = key("web", "api", 80);
	struct nseg_edge_key k2 = key("web", "db", 5432);
	struct learn_agg_stats s;
	struct totals t;

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(learn_agg_record(a, &k1, 10), 0);
	ck_assert_int_eq(learn_agg_record(a, &k1, 20), 0);
	ck_assert_int_eq(learn_agg_record(a, &k2, 12), 0);
	ck_assert_int_eq(learn_agg_record(a, &k1, 15), 0);
	ck_assert_uint_eq(learn_agg_pending(a), 2);
	/* Nothing reaches the store before a flush. */
	ck_assert_uint_eq(totals("web").n, 0);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	ck_assert_uint_eq(learn_agg_pending(a), 0);
	t = totals("web");
	ck_assert_uint_eq(t.n, 2);
	ck_assert_str_eq(t.e[0].peer, "api");
	ck_assert_uint_eq(t.e[0].count, 3);
	ck_assert_int_eq(t.e[0].first, 10);
	ck_assert_int_eq(t.e[0].last, 20);
	ck_assert_str_eq(t.e[1].peer, "db");
	ck_assert_uint_eq(t.e[1].count, 1);
	ck_assert_int_eq(t.e[1].first, 12);
	ck_assert_int_eq(t.e[1].last, 12);
	/* A second flush adds to the totals; an empty one is a no-op. */
	ck_assert_int_eq(learn_agg_record(a, &k1, 30), 0);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	t = totals("web");
	ck_assert_uint_eq(t.n, 2);
	ck_assert_uint_eq(t.e[0].count, 4);
	ck_assert_int_eq(t.e[0].first, 10);
	ck_assert_int_eq(t.e[0].last, 30);
	learn_agg_stats(a, &s);
	ck_assert_uint_eq(s.recorded, 5);
	ck_assert_uint_eq(s.dropped, 0);
	ck_assert_uint_eq(s.flushes, 2);
	ck_assert_uint_eq(s.flush_errors, 0);
	ck_assert_uint_eq(s.edges_written, 3);
	learn_agg_free(a);
	learn_agg_free(NULL);
}
END_TEST

/* Keys equal up to their NULs are one edge, whatever follows. */
START_TEST(test_garbage_after_nul)
{
	struct learn_agg *a = learn_agg_new(4);
	struct nseg_edge_key k1, k2;
	struct totals t;

	memset(&k1, 0xAA, sizeof(k1));
	memset(&k2, 0x55, sizeof(k2));
	strcpy(k1.workload, "web");
	strcpy(k2.workload, "web");
	strcpy(k1.version, "1");
	strcpy(k2.version, "1");
	strcpy(k1.proc.exe, "/bin/sh");
	strcpy(k2.proc.exe, "/bin/sh");
	strcpy(k1.proc.comm, "sh");
	strcpy(k2.proc.comm, "sh");
	strcpy(k1.peer, "api");
	strcpy(k2.peer, "api");
	k1.peer_proc.exe[0] = k2.peer_proc.exe[0] = '\0';
	k1.peer_proc.comm[0] = k2.peer_proc.comm[0] = '\0';
	k1.dir = k2.dir = NSEG_INGRESS;
	k1.proto = k2.proto = IPPROTO_UDP;
	k1.port = k2.port = 53;
	ck_assert_int_eq(learn_agg_record(a, &k1, 1), 0);
	ck_assert_int_eq(learn_agg_record(a, &k2, 2), 0);
	ck_assert_uint_eq(learn_agg_pending(a), 1);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	t = totals("web");
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.e[0].count, 2);
	learn_agg_free(a);
}
END_TEST

/* Fields that run into each other must not collide: "ab"+"c" != "a"+"bc". */
START_TEST(test_field_boundaries)
{
	struct learn_agg *a = learn_agg_new(4);
	struct nseg_edge_key k1 = key("web", "api", 80);
	struct nseg_edge_key k2 = key("web", "api", 80);

	strcpy(k1.proc.comm, "ab");
	strcpy(k1.peer, "c");
	strcpy(k2.proc.comm, "a");
	strcpy(k2.peer, "bc");
	ck_assert_int_eq(learn_agg_record(a, &k1, 1), 0);
	ck_assert_int_eq(learn_agg_record(a, &k2, 1), 0);
	ck_assert_uint_eq(learn_agg_pending(a), 2);
	learn_agg_free(a);
}
END_TEST

/*
 * A flush the database refuses half-way (a trigger that aborts on the
 * second edge, installed by another connection) keeps everything pending
 * and leaves nothing of the batch in the store.
 */
START_TEST(test_failed_flush_keeps_pending)
{
	struct learn_agg *a = learn_agg_new(16);
	struct nseg_edge_key k1 = key("web", "api", 80);
	struct nseg_edge_key k2 = key("web", "poison", 81);
	struct learn_agg_stats s;
	struct totals t;
	int found = 1;

	memset(&t, 0, sizeof(t));
	fixture_store_exec(fx.db,
			   "CREATE TRIGGER fail BEFORE INSERT ON edges WHEN "
			   "NEW.peer = 'poison' BEGIN SELECT RAISE(ABORT, 'test'); END");
	ck_assert_int_eq(learn_agg_record(a, &k1, 10), 0);
	ck_assert_int_eq(learn_agg_record(a, &k2, 11), 0);
	ck_assert_int_eq(learn_agg_record(a, &k2, 12), 0);
	ck_assert_int_eq(learn_agg_flush(a, st), -1);
	ck_assert_uint_eq(learn_agg_pending(a), 2);
	ck_assert_int_eq(store_edges_foreach(st, "web", NULL, &found, collect,
					     &t),
			 0);
	ck_assert_int_eq(found, 0); /* even the workload row was rolled back */
	learn_agg_stats(a, &s);
	ck_assert_uint_eq(s.flush_errors, 1);
	ck_assert_uint_eq(s.flushes, 0);
	ck_assert_uint_eq(s.edges_written, 0);
	/* Recording keeps aggregating into the pending entries. */
	ck_assert_int_eq(learn_agg_record(a, &k1, 13), 0);
	ck_assert_uint_eq(learn_agg_pending(a), 2);
	fixture_store_exec(fx.db, "DROP TRIGGER fail");
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	ck_assert_uint_eq(learn_agg_pending(a), 0);
	t = totals("web");
	ck_assert_uint_eq(t.n, 2);
	ck_assert_uint_eq(t.e[0].count, 2);
	ck_assert_int_eq(t.e[0].last, 13);
	ck_assert_uint_eq(t.e[1].count, 2);
	ck_assert_int_eq(t.e[1].first, 11);
	learn_agg_stats(a, &s);
	ck_assert_uint_eq(s.flush_errors, 1);
	ck_assert_uint_eq(s.flushes, 1);
	ck_assert_uint_eq(s.edges_written, 2);
	learn_agg_free(a);
}
END_TEST

/* A flush inside the caller's open transaction fails cleanly too. */
START_TEST(test_flush_in_transaction_fails)
{
	struct learn_agg *a = learn_agg_new(4);
	struct nseg_edge_key k1 = key("web", "api", 80);

	ck_assert_int_eq(learn_agg_record(a, &k1, 10), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(learn_agg_flush(a, st), -1);
	ck_assert_uint_eq(learn_agg_pending(a), 1);
	store_rollback(st);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	ck_assert_uint_eq(totals("web").n, 1);
	learn_agg_free(a);
}
END_TEST

START_TEST(test_max_pending)
{
	struct learn_agg *a = learn_agg_new(3);
	struct nseg_edge_key k[4];
	struct learn_agg_stats s;

	for (int i = 0; i < 4; i++)
		k[i] = key("web", "api", 80 + i);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(learn_agg_record(a, &k[i], 1), 0);
	errno = 0;
	ck_assert_int_eq(learn_agg_record(a, &k[3], 1), -1);
	ck_assert_int_eq(errno, ENOSPC);
	/* A pending edge still counts when the table is full. */
	ck_assert_int_eq(learn_agg_record(a, &k[0], 2), 0);
	ck_assert_uint_eq(learn_agg_pending(a), 3);
	learn_agg_stats(a, &s);
	ck_assert_uint_eq(s.recorded, 4);
	ck_assert_uint_eq(s.dropped, 1);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	ck_assert_int_eq(learn_agg_record(a, &k[3], 3), 0);
	ck_assert_uint_eq(learn_agg_pending(a), 1);
	learn_agg_free(a);
}
END_TEST

START_TEST(test_bad_args)
{
	struct learn_agg *a = learn_agg_new(4);
	struct nseg_edge_key k = key("web", "api", 80);
	struct learn_agg_stats s;

	errno = 0;
	ck_assert_ptr_null(learn_agg_new(0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(learn_agg_new((size_t)LEARN_AGG_MAX_PENDING + 1));
	k.version[0] = '\0';
	errno = 0;
	ck_assert_int_eq(learn_agg_record(a, &k, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	k = key("web", "api", 80);
	k.dir = 9;
	ck_assert_int_eq(learn_agg_record(a, &k, 1), -1);
	ck_assert_uint_eq(learn_agg_pending(a), 0);
	learn_agg_stats(a, &s);
	ck_assert_uint_eq(s.rejected, 2);
	ck_assert_uint_eq(s.recorded, 0);
	ck_assert_uint_eq(s.dropped, 0);
	learn_agg_free(a);
}
END_TEST

#define MANY 20000

static void record_many(struct learn_agg *a, int64_t now)
{
	struct nseg_edge_key k = key("web", "", 0);

	for (int i = 0; i < MANY; i++) {
		snprintf(k.peer, sizeof(k.peer), "peer-%d", i / 1000);
		k.port = (uint16_t)(i % 1000);
		ck_assert_int_eq(learn_agg_record(a, &k, now), 0);
	}
}

START_TEST(test_many_edges)
{
	struct learn_agg *a = learn_agg_new(MANY);
	struct learn_agg_stats s;
	struct totals t;

	record_many(a, 100);
	record_many(a, 200);
	ck_assert_uint_eq(learn_agg_pending(a), MANY);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	t = totals("web");
	ck_assert_uint_eq(t.n, MANY);
	ck_assert_uint_eq(t.sum, 2 * MANY);
	ck_assert_uint_eq(t.e[0].count, 2);
	ck_assert_int_eq(t.e[0].first, 100);
	ck_assert_int_eq(t.e[0].last, 200);
	/* The table is really empty after a flush: same edges, new entries. */
	record_many(a, 300);
	ck_assert_uint_eq(learn_agg_pending(a), MANY);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	t = totals("web");
	ck_assert_uint_eq(t.n, MANY);
	ck_assert_uint_eq(t.sum, 3 * MANY);
	ck_assert_int_eq(t.e[0].last, 300);
	learn_agg_stats(a, &s);
	ck_assert_uint_eq(s.recorded, 3 * MANY);
	ck_assert_uint_eq(s.edges_written, 2 * MANY);
	ck_assert_uint_eq(s.dropped, 0);
	learn_agg_free(a);
}
END_TEST

/* Seen while learning once is enough; only deviations stay deviations. */
START_TEST(test_deviations)
{
	struct learn_agg *a = learn_agg_new(16);
	struct nseg_edge_key k1 = key("web", "api", 80);
	struct nseg_edge_key k2 = key("web", "db", 5432);
	struct totals t;

	ck_assert_int_eq(learn_agg_observe(a, &k1, 10, 0), 0);
	ck_assert_int_eq(learn_agg_observe(a, &k1, 11, 1), 0);
	ck_assert_int_eq(learn_agg_observe(a, &k1, 12, 0), 0);
	ck_assert_int_eq(learn_agg_observe(a, &k2, 13, 0), 0);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	t = totals("web");
	ck_assert_uint_eq(t.n, 2);
	ck_assert_int_eq(t.e[0].deviation, 0);
	ck_assert_uint_eq(t.e[0].count, 3);
	ck_assert_int_eq(t.e[1].deviation, 1);
	/* Learned later (a new flush): not a deviation any more. */
	ck_assert_int_eq(learn_agg_record(a, &k2, 20), 0);
	ck_assert_int_eq(learn_agg_flush(a, st), 0);
	t = totals("web");
	ck_assert_int_eq(t.e[1].deviation, 0);
	learn_agg_free(a);
}
END_TEST

static Suite *learn_agg_suite(void)
{
	Suite *su = suite_create("learn_agg");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_aggregate_and_flush);
	tcase_add_test(tc, test_deviations);
	tcase_add_test(tc, test_garbage_after_nul);
	tcase_add_test(tc, test_field_boundaries);
	tcase_add_test(tc, test_failed_flush_keeps_pending);
	tcase_add_test(tc, test_flush_in_transaction_fails);
	tcase_add_test(tc, test_max_pending);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_many_edges);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(learn_agg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
