#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "nseg/alert_json.h"

struct alert_case {
	int64_t id, first, last;
	const char *wl, *ver, *container;
	int64_t pid;
	const char *exe, *comm;
	int dir;
	const char *peer, *address;
	int proto, port;
	const char *action, *kind;
	uint64_t count;
	int64_t baseline;
	const char *json;
};

static const struct alert_case alert_cases[] = {
	{ 12, 1795357707, 1795357800, "web", "1.0",
	  "3f2a9c1e0b7d4a6f8e5c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e",
	  4242, "/bin/busybox", "wget", NSEG_EGRESS, "external:0.0.0.0/0",
	  "203.0.113.9", IPPROTO_TCP, 443, "block", "deviation", 3, 7,
	  "{\"id\":12,\"time\":\"2026-11-22T14:28:27Z\","
	  "\"last_seen\":\"2026-11-22T14:30:00Z\",\"workload\":\"web\","
	  "\"version\":\"1.0\",\"container\":"
	  "\"3f2a9c1e0b7d4a6f8e5c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e\","
	  "\"pid\":4242,"
	  "\"process\":{\"exe\":\"/bin/busybox\",\"comm\":\"wget\"},"
	  "\"direction\":\"egress\","
	  "\"peer\":{\"identity\":\"external:0.0.0.0/0\","
	  "\"address\":\"203.0.113.9\"},"
	  "\"protocol\":\"tcp\",\"port\":443,\"action\":\"block\","
	  "\"kind\":\"deviation\",\"count\":3,\"baseline\":7}" },
	/* No container; IPv6 peer; a count past INT64_MAX saturates. */
	{ 1, 0, 0, "library/redis", "7.2", "", 0, "?", "", NSEG_INGRESS,
	  "host", "fe80::1%eth0", IPPROTO_UDP, 53, "notify", "deviation",
	  18446744073709551615ULL, 0,
	  "{\"id\":1,\"time\":\"1970-01-01T00:00:00Z\","
	  "\"last_seen\":\"1970-01-01T00:00:00Z\",\"workload\":"
	  "\"library/redis\",\"version\":\"7.2\",\"container\":\"\","
	  "\"pid\":0,\"process\":{\"exe\":\"?\",\"comm\":\"\"},"
	  "\"direction\":\"ingress\","
	  "\"peer\":{\"identity\":\"host\",\"address\":\"fe80::1%eth0\"},"
	  "\"protocol\":\"udp\",\"port\":53,\"action\":\"notify\","
	  "\"kind\":\"deviation\",\"count\":9223372036854775807,"
	  "\"baseline\":0}" },
	/* Unnamed protocol as a decimal string; quotes escaped. */
	{ 9223372036854775807, 1709208000, 253402300799, "web", "sha256:ab",
	  "c1", 99, "/bin/ping", "pi\"ng", NSEG_EGRESS, "netns:b", "10.0.0.2",
	  47, 0, "block", "flood", 1, 9223372036854775807,
	  "{\"id\":9223372036854775807,\"time\":\"2024-02-29T12:00:00Z\","
	  "\"last_seen\":\"9999-12-31T23:59:59Z\",\"workload\":\"web\","
	  "\"version\":\"sha256:ab\",\"container\":\"c1\",\"pid\":99,"
	  "\"process\":{\"exe\":\"/bin/ping\",\"comm\":\"pi\\\"ng\"},"
	  "\"direction\":\"egress\","
	  "\"peer\":{\"identity\":\"netns:b\",\"address\":\"10.0.0.2\"},"
	  "\"protocol\":\"47\",\"port\":0,\"action\":\"block\","
	  "\"kind\":\"flood\",\"count\":1,"
	  "\"baseline\":9223372036854775807}" },
	{ 5, 1795357707, 1795357707, "web", "1", "", 7, "/usr/bin/ping6",
	  "ping6", NSEG_EGRESS, "external:v6", "2001:db8::1", IPPROTO_ICMPV6,
	  128, "notify", "deviation", 1, 2,
	  "{\"id\":5,\"time\":\"2026-11-22T14:28:27Z\","
	  "\"last_seen\":\"2026-11-22T14:28:27Z\",\"workload\":\"web\","
	  "\"version\":\"1\",\"container\":\"\",\"pid\":7,"
	  "\"process\":{\"exe\":\"/usr/bin/ping6\",\"comm\":\"ping6\"},"
	  "\"direction\":\"egress\","
	  "\"peer\":{\"identity\":\"external:v6\","
	  "\"address\":\"2001:db8::1\"},"
	  "\"protocol\":\"icmpv6\",\"port\":128,\"action\":\"notify\","
	  "\"kind\":\"deviation\",\"count\":1,\"baseline\":2}" },
};

#define SET(field, v) snprintf((field), sizeof(field), "%s", (v))

static void fill_alert(struct store_alert *a, const struct alert_case *c)
{
	/* Garbage past each NUL must not leak into the JSON. */
	memset(a, 'Z', sizeof(*a));
	a->id = c->id;
	a->time_first = c->first;
	a->time_last = c->last;
	SET(a->workload, c->wl);
	SET(a->version, c->ver);
	SET(a->container, c->container);
	a->pid = c->pid;
	SET(a->proc.exe, c->exe);
	SET(a->proc.comm, c->comm);
	a->dir = (uint8_t)c->dir;
	SET(a->peer, c->peer);
	SET(a->peer_address, c->address);
	a->proto = (uint8_t)c->proto;
	a->port = (uint16_t)c->port;
	SET(a->action, c->action);
	SET(a->kind, c->kind);
	a->count = c->count;
	a->baseline = c->baseline;
	a->baseline_version[0] = '\0';
	a->pcap[0] = '\0';
	a->pcap_note[0] = '\0';
}

/* A drift names the version whose baseline the deviating one inherited. */
START_TEST(test_alert_drift)
{
	struct store_alert a;
	json_t *j;

	fill_alert(&a, &alert_cases[0]);
	SET(a.kind, "drift");
	SET(a.baseline_version, "1.0");
	j = alert_json(&a);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")),
			 "drift");
	ck_assert_str_eq(
		json_string_value(json_object_get(j, "baseline_version")),
		"1.0");
	ck_assert_ptr_null(json_object_get(j, "pcap"));
	json_decref(j);
	SET(a.pcap, "/var/lib/nseg/pcap/alert-web.pcap");
	j = alert_json(&a);
	ck_assert_str_eq(json_string_value(json_object_get(j, "pcap")),
			 "/var/lib/nseg/pcap/alert-web.pcap");
	json_decref(j);
}
END_TEST

START_TEST(test_alert_exact)
{
	struct store_alert a;
	json_t *j;
	char *s;

	fill_alert(&a, &alert_cases[_i]);
	ck_assert_ptr_nonnull(j = alert_json(&a));
	ck_assert_ptr_nonnull(s = json_dumps(j, JSON_COMPACT));
	ck_assert_str_eq(s, alert_cases[_i].json);
	free(s);
	json_decref(j);
}
END_TEST

START_TEST(test_alert_bad_time)
{
	struct store_alert a;

	fill_alert(&a, &alert_cases[0]);
	a.time_last = 253402300800; /* year 10000 */
	ck_assert_ptr_null(alert_json(&a));
	fill_alert(&a, &alert_cases[0]);
	a.time_first = -62167219201;
	ck_assert_ptr_null(alert_json(&a));
}
END_TEST

/* Paths are bytes: a non-UTF-8 exe is shown as in an edge, not dropped. */
START_TEST(test_alert_not_utf8)
{
	struct store_alert a;
	json_t *j;

	fill_alert(&a, &alert_cases[0]);
	SET(a.proc.exe, "/tmp/a\xff\xfe");
	SET(a.proc.comm, "\xc3\xa9t\xe9");
	ck_assert_ptr_nonnull(j = alert_json(&a));
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(j, "process"), "exe")),
			 "/tmp/a??");
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(j, "process"), "comm")),
			 "??t?");
	json_decref(j);
}
END_TEST

/* A field without its NUL is cut at its size, never read past. */
START_TEST(test_alert_unterminated)
{
	struct store_alert a;
	json_t *j;

	fill_alert(&a, &alert_cases[0]);
	memset(a.peer_address, '1', sizeof(a.peer_address));
	ck_assert_ptr_nonnull(j = alert_json(&a));
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(
			      json_object_get(j, "peer"), "address"))),
			  sizeof(a.peer_address));
	json_decref(j);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *alert_json_suite(void)
{
	Suite *su = suite_create("alert_json");
	TCase *tc = tcase_create("alert");

	tcase_add_test(tc, test_alert_drift);
	tcase_add_loop_test(tc, test_alert_exact, 0, N(alert_cases));
	tcase_add_test(tc, test_alert_bad_time);
	tcase_add_test(tc, test_alert_not_utf8);
	tcase_add_test(tc, test_alert_unterminated);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(alert_json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
