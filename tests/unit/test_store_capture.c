/*
 * Captures in the store: recorded, updated, listed, found from their
 * alert, evicted and interrupted, against a real in-memory database.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/store.h"
#include "nseg/store_capture.h"

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
}

static struct store_capture cap(const char *kind, const char *wl,
				const char *path)
{
	struct store_capture c;

	memset(&c, 0, sizeof(c));
	snprintf(c.kind, sizeof(c.kind), "%s", kind);
	snprintf(c.workload, sizeof(c.workload), "%s", wl);
	snprintf(c.path, sizeof(c.path), "%s", path);
	snprintf(c.state, sizeof(c.state), "running");
	c.started = 1000;
	return c;
}

struct list {
	int64_t ids[8];
	char states[8][16];
	size_t n;
};

static int collect(const struct store_capture *c, void *arg)
{
	struct list *l = arg;

	if (l->n < 8) {
		l->ids[l->n] = c->id;
		snprintf(l->states[l->n], sizeof(l->states[0]), "%s", c->state);
	}
	l->n++;
	return 0;
}

START_TEST(test_put_get)
{
	struct store_capture c = cap("ondemand", "web", "/p/capture-1.pcap");
	struct store_capture got;
	int64_t max;

	ck_assert_int_eq(store_capture_max_id(st, &max), 0);
	ck_assert_int_eq(max, 0);
	c.id = 1;
	ck_assert_int_eq(store_capture_put(st, &c), 0);
	ck_assert_int_eq(store_capture_get(st, 1, &got), 0);
	ck_assert_str_eq(got.state, "running");
	ck_assert_str_eq(got.kind, "ondemand");
	c.packets = 12;
	c.bytes = 3400;
	c.ended = 1060;
	snprintf(c.state, sizeof(c.state), "truncated");
	snprintf(c.note, sizeof(c.note), "stopped at its packets limit");
	snprintf(c.path, sizeof(c.path), "/p/capture-1-web.pcap");
	/* The kind, workload and start of a recorded capture never change. */
	snprintf(c.kind, sizeof(c.kind), "alert");
	c.started = 1;
	ck_assert_int_eq(store_capture_put(st, &c), 0);
	ck_assert_int_eq(store_capture_get(st, c.id, &got), 0);
	ck_assert_str_eq(got.kind, "ondemand");
	ck_assert_int_ne(got.started, 1);
	ck_assert_str_eq(got.state, "truncated");
	ck_assert_str_eq(got.path, "/p/capture-1-web.pcap");
	ck_assert_str_eq(got.note, "stopped at its packets limit");
	ck_assert_uint_eq(got.packets, 12);
	ck_assert_uint_eq(got.bytes, 3400);
	ck_assert_int_eq(got.ended, 1060);
	ck_assert_int_eq(got.alert_id, 0);
	ck_assert_int_eq(store_capture_get(st, c.id + 1, &got), -1);
	ck_assert_int_eq(errno, ENOENT);
	c.id = 7;
	ck_assert_int_eq(store_capture_put(st, &c), 0);
	ck_assert_int_eq(store_capture_max_id(st, &max), 0);
	ck_assert_int_eq(max, 7);
}
END_TEST

START_TEST(test_refused)
{
	struct store_capture c = cap("bogus", "web", "/p/x.pcap");

	c.id = 1;
	ck_assert_int_eq(store_capture_put(st, &c), -1);
	ck_assert_int_eq(errno, EINVAL);
	c = cap("alert", "", "/p/x.pcap");
	c.id = 1;
	ck_assert_int_eq(store_capture_put(st, &c), -1);
	c = cap("alert", "web", "");
	c.id = 1;
	ck_assert_int_eq(store_capture_put(st, &c), -1);
	c = cap("alert", "web", "/p/x.pcap");
	c.id = 1;
	memset(c.note, 'x', sizeof(c.note)); /* no NUL */
	ck_assert_int_eq(store_capture_put(st, &c), -1);
	c = cap("alert", "web", "/p/x.pcap"); /* no id */
	ck_assert_int_eq(store_capture_put(st, &c), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_list_evict_interrupt)
{
	struct store_capture a = cap("alert", "web", "/p/alert-1.pcap");
	struct store_capture b = cap("ondemand", "api", "/p/capture-2.pcap");
	struct store_capture c = cap("ondemand", "web", "/p/capture-3.pcap");
	struct list l = { 0 };

	a.id = 1;
	b.id = 2;
	c.id = 3;
	ck_assert_int_eq(store_capture_put(st, &a), 0);
	ck_assert_int_eq(store_capture_put(st, &b), 0);
	snprintf(c.state, sizeof(c.state), "done");
	ck_assert_int_eq(store_capture_put(st, &c), 0);
	ck_assert_int_eq(store_captures_foreach(st, "web", collect, &l), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(l.ids[0], a.id);
	ck_assert_int_eq(l.ids[1], c.id);
	ck_assert_int_eq(store_capture_evicted(st, "/p/capture-3.pcap"), 0);
	ck_assert_int_eq(store_captures_interrupted(st, 2000), 0);
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(store_captures_foreach(st, NULL, collect, &l), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.states[0], "interrupted");
	ck_assert_str_eq(l.states[1], "interrupted");
	ck_assert_str_eq(l.states[2], "evicted");
}
END_TEST

/* An alert names its pcap; the capture is found from the alert. */
START_TEST(test_of_alert)
{
	struct store_capture c = cap("alert", "web", "/p/alert-7.pcap"), got;
	struct store_alert a;

	c.id = 1;
	ck_assert_int_eq(store_capture_put(st, &c), 0);
	memset(&a, 0, sizeof(a));
	snprintf(a.workload, sizeof(a.workload), "web");
	snprintf(a.version, sizeof(a.version), "1");
	snprintf(a.proc.exe, sizeof(a.proc.exe), "/bin/sh");
	snprintf(a.peer, sizeof(a.peer), "host");
	snprintf(a.action, sizeof(a.action), "block");
	snprintf(a.kind, sizeof(a.kind), "deviation");
	snprintf(a.pcap, sizeof(a.pcap), "/p/alert-7.pcap");
	a.proto = 6;
	a.port = 22;
	a.count = 1;
	a.time_first = a.time_last = 1000;
	ck_assert_int_eq(store_alert_add(st, &a), 0);
	ck_assert_int_eq(store_capture_of_alert(st, a.id, &got), 0);
	ck_assert_int_eq(got.id, c.id);
	ck_assert_int_eq(got.alert_id, a.id);
	ck_assert_int_eq(store_capture_get(st, c.id, &got), 0);
	ck_assert_int_eq(got.alert_id, a.id);
	/* An alert without a pcap has no capture. */
	a.pcap[0] = '\0';
	ck_assert_int_eq(store_alert_add(st, &a), 0);
	ck_assert_int_eq(store_capture_of_alert(st, a.id, &got), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(store_capture_of_alert(st, 999, &got), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_capture");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_list_evict_interrupt);
	tcase_add_test(tc, test_of_alert);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
