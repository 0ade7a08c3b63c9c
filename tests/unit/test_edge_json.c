#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "nseg/edge_json.h"
#include "nseg/timefmt.h"

struct edge_case {
	int64_t id;
	const char *wl, *ver, *exe, *comm;
	int dir;
	const char *peer, *peer_exe, *peer_comm;
	int proto, port;
	const char *state;
	uint64_t count;
	int64_t first, last;
	const char *json;
	int any_process;
	const char *decided_by; /* NULL: never decided */
	int64_t decided_at;
	uint64_t hits;
	int64_t last_used;
};

static const struct edge_case edge_cases[] = {
	{ 1, "web", "1.0", "/bin/busybox", "wget", NSEG_EGRESS, "api",
	  "/usr/bin/socat", "socat", IPPROTO_TCP, 8080, "learned", 3,
	  1795357707, 1795357800,
	  "{\"id\":1,\"workload\":\"web\",\"version\":\"1.0\","
	  "\"direction\":\"egress\","
	  "\"process\":{\"exe\":\"/bin/busybox\",\"comm\":\"wget\"},"
	  "\"peer\":{\"identity\":\"api\",\"process\":"
	  "{\"exe\":\"/usr/bin/socat\",\"comm\":\"socat\"}},"
	  "\"protocol\":\"tcp\",\"port\":8080,\"state\":\"learned\","
	  "\"count\":3,\"first_seen\":\"2026-11-22T14:28:27Z\","
	  "\"last_seen\":\"2026-11-22T14:30:00Z\",\"any_process\":false,\"origin\":\"learned\"}",
	  0, NULL, 0, 4, 1795508100 },
	/* No peer process: no peer.process key, not an empty one. */
	{ 42, "library/redis", "7.2", "/usr/local/bin/redis-server",
	  "redis-server", NSEG_INGRESS, "external:10.0.0.0/8", "", "",
	  IPPROTO_UDP, 53, "approved", 18446744073709551615ULL, 0, 0,
	  "{\"id\":42,\"workload\":\"library/redis\",\"version\":\"7.2\","
	  "\"direction\":\"ingress\","
	  "\"process\":{\"exe\":\"/usr/local/bin/redis-server\","
	  "\"comm\":\"redis-server\"},"
	  "\"peer\":{\"identity\":\"external:10.0.0.0/8\"},"
	  "\"protocol\":\"udp\",\"port\":53,\"state\":\"approved\","
	  "\"count\":9223372036854775807,"
	  "\"first_seen\":\"1970-01-01T00:00:00Z\","
	  "\"last_seen\":\"1970-01-01T00:00:00Z\",\"any_process\":false,"
	  "\"hits\":0,\"origin\":\"learned\"}",
	  0, NULL, 0, 0, 0 },
	/* Unnamed protocol as a decimal string; a comm with a quote. */
	{ 7, "web", "sha256:ab", "?", "", NSEG_EGRESS, "host", "", "x",
	  47, 0, "rejected", 1, 1709208000, 1709208000,
	  "{\"id\":7,\"workload\":\"web\",\"version\":\"sha256:ab\","
	  "\"direction\":\"egress\","
	  "\"process\":{\"exe\":\"?\",\"comm\":\"\"},"
	  "\"peer\":{\"identity\":\"host\"},"
	  "\"protocol\":\"47\",\"port\":0,\"state\":\"rejected\","
	  "\"count\":1,\"first_seen\":\"2024-02-29T12:00:00Z\","
	  "\"last_seen\":\"2024-02-29T12:00:00Z\",\"any_process\":false,\"origin\":\"learned\"}",
	  0, NULL, 0, 5, 1709208000 },
	{ 8, "web", "1", "/bin/ping", "pi\"ng", NSEG_EGRESS, "netns:b",
	  "[kernel]", "", IPPROTO_ICMP, 8, "learned", 2, 946684800,
	  253402300799,
	  "{\"id\":8,\"workload\":\"web\",\"version\":\"1\","
	  "\"direction\":\"egress\","
	  "\"process\":{\"exe\":\"/bin/ping\",\"comm\":\"pi\\\"ng\"},"
	  "\"peer\":{\"identity\":\"netns:b\",\"process\":"
	  "{\"exe\":\"[kernel]\",\"comm\":\"\"}},"
	  "\"protocol\":\"icmp\",\"port\":8,\"state\":\"learned\","
	  "\"count\":2,\"first_seen\":\"2000-01-01T00:00:00Z\","
	  "\"last_seen\":\"9999-12-31T23:59:59Z\",\"any_process\":false,\"origin\":\"learned\"}",
	  0, NULL, 0, 1, 946684800 },
	/* A decision adds its keys after every v1 key, in this order. */
	{ 9, "web", "1.0", "/bin/busybox", "wget", NSEG_EGRESS, "api", "", "",
	  IPPROTO_TCP, 443, "approved", 1, 1795357707, 1795357800,
	  "{\"id\":9,\"workload\":\"web\",\"version\":\"1.0\","
	  "\"direction\":\"egress\","
	  "\"process\":{\"exe\":\"/bin/busybox\",\"comm\":\"wget\"},"
	  "\"peer\":{\"identity\":\"api\"},"
	  "\"protocol\":\"tcp\",\"port\":443,\"state\":\"approved\","
	  "\"count\":1,\"first_seen\":\"2026-11-22T14:28:27Z\","
	  "\"last_seen\":\"2026-11-22T14:30:00Z\",\"any_process\":true,"
	  "\"decided_by\":\"uid 0 (root)\","
	  "\"decided_at\":\"2026-11-23T09:00:00Z\","
	  "\"hits\":12,\"last_used\":\"2026-11-24T08:15:00Z\",\"origin\":\"learned\"}",
	  1, "uid 0 (root)", 1795424400, 12, 1795508100 },
	{ 10, "web", "1.0", "/bin/busybox", "nc", NSEG_EGRESS, "db", "", "",
	  IPPROTO_TCP, 5432, "rejected", 1, 1795357707, 1795357800,
	  "{\"id\":10,\"workload\":\"web\",\"version\":\"1.0\","
	  "\"direction\":\"egress\","
	  "\"process\":{\"exe\":\"/bin/busybox\",\"comm\":\"nc\"},"
	  "\"peer\":{\"identity\":\"db\"},"
	  "\"protocol\":\"tcp\",\"port\":5432,\"state\":\"rejected\","
	  "\"count\":1,\"first_seen\":\"2026-11-22T14:28:27Z\","
	  "\"last_seen\":\"2026-11-22T14:30:00Z\",\"any_process\":false,"
	  "\"decided_by\":\"uid 1000 (ops \\\"a\\\")\","
	  "\"decided_at\":\"2026-11-23T09:10:00Z\",\"origin\":\"learned\"}",
	  0, "uid 1000 (ops \"a\")", 1795425000, 3, 1795508100 },
	/* Usage keys come after the decision's; hits saturate like count. */
	{ 11, "web", "2.0", "/bin/busybox", "wget", NSEG_EGRESS, "api", "", "",
	  IPPROTO_TCP, 80, "approved", 2, 1795357707, 1795357800,
	  "{\"id\":11,\"workload\":\"web\",\"version\":\"2.0\","
	  "\"direction\":\"egress\","
	  "\"process\":{\"exe\":\"/bin/busybox\",\"comm\":\"wget\"},"
	  "\"peer\":{\"identity\":\"api\"},"
	  "\"protocol\":\"tcp\",\"port\":80,\"state\":\"approved\","
	  "\"count\":2,\"first_seen\":\"2026-11-22T14:28:27Z\","
	  "\"last_seen\":\"2026-11-22T14:30:00Z\",\"any_process\":false,"
	  "\"decided_by\":\"a\",\"decided_at\":\"2026-11-23T09:00:00Z\","
	  "\"hits\":9223372036854775807,"
	  "\"last_used\":\"1969-12-31T23:59:59Z\",\"origin\":\"learned\"}",
	  0, "a", 1795424400, 18446744073709551615ULL, -1 },
	/* Approved by nobody (an old database): usage still shows. */
	{ 12, "web", "1", "/bin/sh", "sh", NSEG_INGRESS, "host", "", "",
	  IPPROTO_UDP, 53, "approved", 1, 0, 0,
	  "{\"id\":12,\"workload\":\"web\",\"version\":\"1\","
	  "\"direction\":\"ingress\","
	  "\"process\":{\"exe\":\"/bin/sh\",\"comm\":\"sh\"},"
	  "\"peer\":{\"identity\":\"host\"},"
	  "\"protocol\":\"udp\",\"port\":53,\"state\":\"approved\","
	  "\"count\":1,\"first_seen\":\"1970-01-01T00:00:00Z\","
	  "\"last_seen\":\"1970-01-01T00:00:00Z\",\"any_process\":false,"
	  "\"hits\":1,\"last_used\":\"2026-11-24T08:15:00Z\",\"origin\":\"learned\"}",
	  0, NULL, 0, 1, 1795508100 },
};

static void fill_edge(struct store_edge *e, const struct edge_case *c)
{
	struct nseg_edge_key *k = &e->key;

	/* Garbage past each NUL must not leak into the JSON. */
	memset(e, 'Z', sizeof(*e));
	e->id = c->id;
	snprintf(k->workload, sizeof(k->workload), "%s", c->wl);
	snprintf(k->version, sizeof(k->version), "%s", c->ver);
	snprintf(k->proc.exe, sizeof(k->proc.exe), "%s", c->exe);
	snprintf(k->proc.comm, sizeof(k->proc.comm), "%s", c->comm);
	k->dir = (uint8_t)c->dir;
	snprintf(k->peer, sizeof(k->peer), "%s", c->peer);
	snprintf(k->peer_proc.exe, sizeof(k->peer_proc.exe), "%s", c->peer_exe);
	snprintf(k->peer_proc.comm, sizeof(k->peer_proc.comm), "%s",
		 c->peer_comm);
	k->proto = (uint8_t)c->proto;
	k->port = (uint16_t)c->port;
	snprintf(e->state, sizeof(e->state), "%s", c->state);
	e->count = c->count;
	e->first_seen = c->first;
	e->last_seen = c->last;
	e->any_process = c->any_process;
	snprintf(e->decided_by, sizeof(e->decided_by), "%s",
		 c->decided_by ? c->decided_by : "");
	e->decided_at = c->decided_at;
	e->hits = c->hits;
	e->hit_bytes = c->hits * 100;
	e->last_used = c->last_used;
	e->port_hi = k->port;
	snprintf(e->origin, sizeof(e->origin), "learned");
	e->deviation = 0;
}

static char *dump(const struct store_edge *e)
{
	json_t *j = edge_json(e);
	char *s;

	ck_assert_ptr_nonnull(j);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* A policy's rule: its port range and its file. */
START_TEST(test_edge_policy)
{
	struct store_edge *e = malloc(sizeof(*e));
	char *s;

	fill_edge(e, &edge_cases[0]);
	e->port_hi = (uint16_t)(e->key.port + 10);
	snprintf(e->origin, sizeof(e->origin), "policy:/etc/nseg/web.yaml");
	s = dump(e);
	ck_assert_msg(strstr(s, ",\"origin\":\"policy:/etc/nseg/web.yaml\"") &&
			      strstr(s, "\"port_hi\":"),
		      "%s", s);
	free(s);
	e->port_hi = e->key.port;
	s = dump(e);
	ck_assert_ptr_null(strstr(s, "port_hi"));
	ck_assert_ptr_null(strstr(s, "deviation"));
	free(s);
	e->deviation = 1;
	s = dump(e);
	ck_assert_ptr_nonnull(strstr(s, ",\"deviation\":true,"));
	free(s);
	free(e);
}
END_TEST

START_TEST(test_edge_exact)
{
	struct store_edge *e = malloc(sizeof(*e));
	char *s;

	fill_edge(e, &edge_cases[_i]);
	s = dump(e);
	ck_assert_str_eq(s, edge_cases[_i].json);
	free(s);
	free(e);
}
END_TEST

START_TEST(test_edge_bad_time)
{
	struct store_edge *e = malloc(sizeof(*e));
	json_t *j;

	fill_edge(e, &edge_cases[0]);
	e->last_seen = 253402300800; /* year 10000 */
	ck_assert_ptr_null(edge_json(e));
	e->last_seen = 0;
	e->first_seen = -62167219201;
	ck_assert_ptr_null(edge_json(e));
	fill_edge(e, &edge_cases[4]);
	e->decided_at = 253402300800;
	ck_assert_ptr_null(edge_json(e));
	fill_edge(e, &edge_cases[4]);
	e->last_used = 253402300800;
	ck_assert_ptr_null(edge_json(e));
	/* Not approved: last_used is not shown, so not checked either. */
	fill_edge(e, &edge_cases[5]);
	e->last_used = 253402300800;
	ck_assert_ptr_nonnull(j = edge_json(e));
	ck_assert_ptr_null(json_object_get(j, "hits"));
	json_decref(j);
	free(e);
}
END_TEST

/* Paths are bytes: a non-UTF-8 exe is shown, not a failed edge. */
START_TEST(test_edge_not_utf8)
{
	struct store_edge *e = malloc(sizeof(*e));
	json_t *j;

	fill_edge(e, &edge_cases[0]);
	snprintf(e->key.proc.exe, sizeof(e->key.proc.exe), "/tmp/a\xff\xfe");
	ck_assert_ptr_nonnull(j = edge_json(e));
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(j, "process"), "exe")),
			 "/tmp/a??");
	json_decref(j);
	/* Valid UTF-8 passes untouched. */
	snprintf(e->key.proc.exe, sizeof(e->key.proc.exe), "/tmp/\xc3\xa9");
	ck_assert_ptr_nonnull(j = edge_json(e));
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(j, "process"), "exe")),
			 "/tmp/\xc3\xa9");
	json_decref(j);
	free(e);
}
END_TEST

static const struct {
	int64_t t;
	const char *s;
} time_cases[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ -1, "1969-12-31T23:59:59Z" },
	{ 1795357707, "2026-11-22T14:28:27Z" },
	{ 1709208000, "2024-02-29T12:00:00Z" },
	{ 951782400, "2000-02-29T00:00:00Z" },
	{ 4107542400, "2100-03-01T00:00:00Z" },
	{ 253402300799, "9999-12-31T23:59:59Z" },
	{ -62167219200, "0000-01-01T00:00:00Z" },
};

START_TEST(test_time_format)
{
	char buf[TIMEFMT_RFC3339_LEN];
	int64_t t;

	ck_assert_int_eq(timefmt_rfc3339(time_cases[_i].t, buf, sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, time_cases[_i].s);
	ck_assert_int_eq(timefmt_parse_rfc3339(time_cases[_i].s, &t), 0);
	ck_assert_int_eq(t, time_cases[_i].t);
}
END_TEST

START_TEST(test_time_format_limits)
{
	char buf[TIMEFMT_RFC3339_LEN];

	ck_assert_int_eq(timefmt_rfc3339(0, buf, sizeof(buf) - 1), -1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(timefmt_rfc3339(253402300800, buf, sizeof(buf)), -1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(timefmt_rfc3339(-62167219201, buf, sizeof(buf)), -1);
	ck_assert_int_eq(timefmt_rfc3339(INT64_MIN, buf, sizeof(buf)), -1);
	ck_assert_int_eq(timefmt_rfc3339(INT64_MAX, buf, sizeof(buf)), -1);
	ck_assert_int_eq(timefmt_rfc3339(0, NULL, 0), -1);
}
END_TEST

/* Every second of a few days around leap-year edges, and a wide sweep. */
START_TEST(test_time_round_trip)
{
	static const int64_t starts[] = { 951696000, 4107456000, -86400,
					  -62167219200 };
	char buf[TIMEFMT_RFC3339_LEN];
	int64_t t, back;
	uint64_t x = 88172645463325252ULL;

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		for (t = starts[i]; t < starts[i] + 3 * 86400; t += 7) {
			ck_assert_int_eq(timefmt_rfc3339(t, buf, sizeof(buf)),
					 0);
			ck_assert_int_eq(timefmt_parse_rfc3339(buf, &back), 0);
			ck_assert_int_eq(back, t);
		}
	}
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = -62167219200 + (int64_t)(x % 315569520000ULL);
		ck_assert_int_eq(timefmt_rfc3339(t, buf, sizeof(buf)), 0);
		ck_assert_int_eq(timefmt_parse_rfc3339(buf, &back), 0);
		ck_assert_int_eq(back, t);
	}
}
END_TEST

static const struct {
	const char *s;
	int64_t t;
} parse_ok_cases[] = {
	{ "2026-11-22t14:28:27z", 1795357707 },
	{ "2026-11-22T14:28:27.999999Z", 1795357707 },
	{ "2026-11-22T15:28:27+01:00", 1795357707 },
	{ "2026-11-22T09:58:27-04:30", 1795357707 },
	{ "2026-11-22T14:28:27.5+00:00", 1795357707 },
	{ "2016-12-31T23:59:60Z", 1483228800 }, /* leap second */
};

START_TEST(test_time_parse_ok)
{
	int64_t t = 0;

	ck_assert_int_eq(timefmt_parse_rfc3339(parse_ok_cases[_i].s, &t), 0);
	ck_assert_int_eq(t, parse_ok_cases[_i].t);
}
END_TEST

static const char *const parse_bad_cases[] = {
	"",
	"2026",
	"2026-11-22",
	"2026-11-22T14:28:27",
	"2026-11-22T14:28:27Zx",
	"2026-11-22T14:28:27ZZ",
	"2026-11-22 14:28:27Z",
	"2026-11-22X14:28:27Z",
	" 2026-11-22T14:28:27Z",
	"+026-11-22T14:28:27Z",
	"2026-1-22T14:28:27Z",
	"2026-00-22T14:28:27Z",
	"2026-13-22T14:28:27Z",
	"2026-11-00T14:28:27Z",
	"2026-11-31T14:28:27Z",
	"2026-02-29T14:28:27Z", /* 2026 is not a leap year */
	"1900-02-29T00:00:00Z", /* nor is 1900 */
	"2026-11-22T24:00:00Z",
	"2026-11-22T14:60:00Z",
	"2026-11-22T14:28:61Z",
	"2026-11-22T14:28:27.Z",
	"2026-11-22T14:28:27.5",
	"2026-11-22T14:28:27+0100",
	"2026-11-22T14:28:27+01",
	"2026-11-22T14:28:27+24:00",
	"2026-11-22T14:28:27+01:60",
	"2026-11-22T14:28:27+01:00 ",
	"2026-11-22T1a:28:27Z",
	"2026-11-22T14:28:-7Z",
};

START_TEST(test_time_parse_bad)
{
	int64_t t = 12345;

	errno = 0;
	ck_assert_int_eq(timefmt_parse_rfc3339(parse_bad_cases[_i], &t), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(t, 12345);
}
END_TEST

START_TEST(test_time_parse_null)
{
	int64_t t;

	ck_assert_int_eq(timefmt_parse_rfc3339(NULL, &t), -1);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *edge_json_suite(void)
{
	Suite *su = suite_create("edge_json");
	TCase *tc = tcase_create("edge");
	TCase *tt = tcase_create("timefmt");

	tcase_add_test(tc, test_edge_policy);
	tcase_add_loop_test(tc, test_edge_exact, 0, N(edge_cases));
	tcase_add_test(tc, test_edge_bad_time);
	tcase_add_test(tc, test_edge_not_utf8);
	suite_add_tcase(su, tc);
	tcase_add_loop_test(tt, test_time_format, 0, N(time_cases));
	tcase_add_test(tt, test_time_format_limits);
	tcase_add_test(tt, test_time_round_trip);
	tcase_add_loop_test(tt, test_time_parse_ok, 0, N(parse_ok_cases));
	tcase_add_loop_test(tt, test_time_parse_bad, 0, N(parse_bad_cases));
	tcase_add_test(tt, test_time_parse_null);
	suite_add_tcase(su, tt);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(edge_json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
