#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "nseg/edge_diff.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_EDGES 4

#define T0 1795341600 /* 2026-11-22T10:00:00Z */
#define T1 1795345200 /* 2026-11-22T11:00:00Z */

/* An edge as the tables write it; version and peer process are noise the
 * diff must ignore. */
struct es {
	int dir;
	const char *peer;
	int proto, port;
	const char *exe, *comm;
	uint64_t count;
	int64_t first, last;
	const char *version, *peer_exe;
};

#define PG(port) NSEG_EGRESS, "library/postgres", IPPROTO_TCP, port
#define PY "/usr/bin/python3", "python3"
#define E0                                                                     \
	{                                                                      \
		PG(5432), PY, 12, T0, T1, "1.0", ""                            \
	}

struct diff_case {
	const char *name;
	struct es a[MAX_EDGES], b[MAX_EDGES];
	const char *text;
};

static const struct diff_case diff_cases[] = {
    {"identical, in another order, other versions and counts",
     {E0, {PG(80), PY, 1, T0, T0, "1.0", ""}},
     {{PG(80), PY, 9, T1, T1, "1.1", "/x"},
      {PG(5432), PY, 3, T1, T1, "1.1", "/usr/bin/pg"}},
     "0 added, 0 removed, 0 changed\n"},
    {"pure add",
     {E0},
     {E0,
      {NSEG_INGRESS, "host", IPPROTO_UDP, 53, "/bin/dns", "dns", 2, T1, T1,
       "1.1", ""}},
     "+ ingress udp/53 host  /bin/dns (dns)  count 2, first seen "
     "2026-11-22T11:00:00Z\n"
     "1 added, 0 removed, 0 changed\n"},
    {"pure remove",
     {E0},
     {{0}},
     "- egress tcp/5432 library/postgres  /usr/bin/python3 (python3)  "
     "count 12, first seen 2026-11-22T10:00:00Z\n"
     "0 added, 1 removed, 0 changed\n"},
    {"port changed",
     {E0},
     {{PG(5433), PY, 4, T1, T1, "1.1", ""}},
     "~ port: egress tcp/5432 -> tcp/5433 library/postgres  "
     "/usr/bin/python3 (python3)  count 4, first seen "
     "2026-11-22T11:00:00Z\n"
     "0 added, 0 removed, 1 changed\n"},
    {"peer changed",
     {E0},
     {{NSEG_EGRESS, "library/pg16", IPPROTO_TCP, 5432, PY, 4, T1, T1, "1.1",
       ""}},
     "~ peer: egress tcp/5432 library/postgres -> library/pg16  "
     "/usr/bin/python3 (python3)  count 4, first seen "
     "2026-11-22T11:00:00Z\n"
     "0 added, 0 removed, 1 changed\n"},
    {"exe changed",
     {E0},
     {{PG(5432), "/usr/bin/python3.12", "python3", 4, T1, T1, "1.1", ""}},
     "~ process: egress tcp/5432 library/postgres  /usr/bin/python3 "
     "(python3) -> /usr/bin/python3.12 (python3)  count 4, first seen "
     "2026-11-22T11:00:00Z\n"
     "0 added, 0 removed, 1 changed\n"},
    {"comm changed",
     {E0},
     {{PG(5432), "/usr/bin/python3", "worker", 4, T1, T1, "1.1", ""}},
     "~ process: egress tcp/5432 library/postgres  /usr/bin/python3 "
     "(python3) -> /usr/bin/python3 (worker)  count 4, first seen "
     "2026-11-22T11:00:00Z\n"
     "0 added, 0 removed, 1 changed\n"},
    {"direction changed",
     {E0},
     {{NSEG_INGRESS, "library/postgres", IPPROTO_TCP, 5432, PY, 4, T1, T1,
       "1.1", ""}},
     "~ direction: egress -> ingress tcp/5432 library/postgres  "
     "/usr/bin/python3 (python3)  count 4, first seen "
     "2026-11-22T11:00:00Z\n"
     "0 added, 0 removed, 1 changed\n"},
    {"peer and port changed: not paired",
     {E0},
     {{NSEG_EGRESS, "library/pg16", IPPROTO_TCP, 5433, PY, 4, T1, T1, "1.1",
       ""}},
     "+ egress tcp/5433 library/pg16  /usr/bin/python3 (python3)  "
     "count 4, first seen 2026-11-22T11:00:00Z\n"
     "- egress tcp/5432 library/postgres  /usr/bin/python3 (python3)  "
     "count 12, first seen 2026-11-22T10:00:00Z\n"
     "1 added, 1 removed, 0 changed\n"},
    {"protocol changed: not paired",
     {E0},
     {{NSEG_EGRESS, "library/postgres", IPPROTO_UDP, 5432, PY, 4, T1, T1, "1.1",
       ""}},
     "- egress tcp/5432 library/postgres  /usr/bin/python3 (python3)  "
     "count 12, first seen 2026-11-22T10:00:00Z\n"
     "+ egress udp/5432 library/postgres  /usr/bin/python3 (python3)  "
     "count 4, first seen 2026-11-22T11:00:00Z\n"
     "1 added, 1 removed, 0 changed\n"},
    {"duplicates fold: counts summed, earliest first seen",
     {{PG(5432), PY, 3, T1, T1, "1.0", ""},
      {PG(5432), PY, 4, T0, T1, "1.1", "/usr/bin/pg"},
      {PG(5432), PY, 5, T1 + 60, T1 + 60, "1.2", ""}},
     {{0}},
     "- egress tcp/5432 library/postgres  /usr/bin/python3 (python3)  "
     "count 12, first seen 2026-11-22T10:00:00Z\n"
     "0 added, 1 removed, 0 changed\n"},
    {"greedy: the first candidate in order is taken, once",
     {E0, {PG(6000), PY, 1, T0, T0, "1.0", ""}},
     {{PG(5434), PY, 1, T1, T1, "1.1", ""},
      {PG(5433), PY, 2, T1, T1, "1.1", ""}},
     "~ port: egress tcp/5432 -> tcp/5433 library/postgres  "
     "/usr/bin/python3 (python3)  count 2, first seen "
     "2026-11-22T11:00:00Z\n"
     "~ port: egress tcp/6000 -> tcp/5434 library/postgres  "
     "/usr/bin/python3 (python3)  count 1, first seen "
     "2026-11-22T11:00:00Z\n"
     "0 added, 0 removed, 2 changed\n"},
    {"one added edge pairs with one removed edge only",
     {E0, {PG(5433), PY, 1, T0, T0, "1.0", ""}},
     {{PG(5434), PY, 1, T1, T1, "1.1", ""}},
     "- egress tcp/5433 library/postgres  /usr/bin/python3 (python3)  "
     "count 1, first seen 2026-11-22T10:00:00Z\n"
     "~ port: egress tcp/5432 -> tcp/5434 library/postgres  "
     "/usr/bin/python3 (python3)  count 1, first seen "
     "2026-11-22T11:00:00Z\n"
     "0 added, 1 removed, 1 changed\n"},
    {"control characters stay on one line",
     {{0}},
     {{NSEG_EGRESS, "a\nb", IPPROTO_ICMP, 8, "/bin/p\ting", "p\x7f", 1, T0, T0,
       "1", ""}},
     "+ egress icmp/8 a?b  /bin/p?ing (p?)  count 1, first seen "
     "2026-11-22T10:00:00Z\n"
     "1 added, 0 removed, 0 changed\n"},
};

static size_t fill(struct store_edge *out, const struct es *s)
{
	size_t n = 0;

	for (; n < MAX_EDGES && s[n].peer != NULL; n++) {
		struct store_edge *e = &out[n];
		struct nseg_edge_key *k = &e->key;

		memset(e, 0, sizeof(*e));
		e->id = (int64_t)n + 1;
		snprintf(k->workload, sizeof(k->workload), "web");
		snprintf(k->version, sizeof(k->version), "%s", s[n].version);
		k->dir = (uint8_t)s[n].dir;
		snprintf(k->peer, sizeof(k->peer), "%s", s[n].peer);
		snprintf(k->peer_proc.exe, sizeof(k->peer_proc.exe), "%s",
			 s[n].peer_exe);
		k->proto = (uint8_t)s[n].proto;
		k->port = (uint16_t)s[n].port;
		snprintf(k->proc.exe, sizeof(k->proc.exe), "%s", s[n].exe);
		snprintf(k->proc.comm, sizeof(k->proc.comm), "%s", s[n].comm);
		snprintf(e->state, sizeof(e->state),
			 n % 2 ? "approved" : "learned");
		e->count = s[n].count;
		e->first_seen = s[n].first;
		e->last_seen = s[n].last;
	}
	return n;
}

static char *text_of(const struct edge_diff *d, const char *la, const char *lb)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(edge_diff_write_text(f, d, la, lb), 0);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* The diff of case c; a and b are scratch arrays of MAX_EDGES. */
static struct edge_diff *diff_of(const struct diff_case *c,
				 struct store_edge *a, struct store_edge *b)
{
	size_t na = fill(a, c->a), nb = fill(b, c->b);
	struct edge_diff *d = edge_diff_compute(a, na, b, nb);

	ck_assert_ptr_nonnull(d);
	return d;
}

START_TEST(test_diff_cases)
{
	const struct diff_case *c = &diff_cases[_i];
	struct store_edge *a = calloc(MAX_EDGES, sizeof(*a));
	struct store_edge *b = calloc(MAX_EDGES, sizeof(*b));
	struct edge_diff *d = diff_of(c, a, b);
	char *text = text_of(d, NULL, NULL);

	ck_assert_msg(strcmp(text, c->text) == 0, "%s:\ngot:\n%swant:\n%s",
		      c->name, text, c->text);
	ck_assert_int_eq(d->n, d->n_added + d->n_removed + d->n_changed);
	for (size_t i = 0; i < d->n; i++)
		ck_assert_int_eq(d->items[i].what != EDGE_DIFF_WHAT_NONE,
				 d->items[i].kind == EDGE_DIFF_CHANGED);
	free(text);
	edge_diff_free(d);
	free(a);
	free(b);
}
END_TEST

/* Every order of the inputs gives the same diff. */
START_TEST(test_diff_order_independent)
{
	static const int perms[][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
				       {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	static const struct es a3[] = {
	    E0,
	    {PG(6000), PY, 1, T0, T0, "1.0", ""},
	    {NSEG_INGRESS, "host", IPPROTO_TCP, 22, "/sbin/sshd", "sshd", 1, T0,
	     T0, "1.0", ""},
	};
	static const struct es b3[] = {
	    {PG(5433), PY, 1, T1, T1, "1.1", ""},
	    {PG(5434), PY, 1, T1, T1, "1.1", ""},
	    {NSEG_INGRESS, "host", IPPROTO_TCP, 22, "/sbin/sshd", "sshd", 1, T0,
	     T0, "1.1", ""},
	};
	struct store_edge *a = calloc(MAX_EDGES, sizeof(*a));
	struct store_edge *b = calloc(MAX_EDGES, sizeof(*b));
	struct store_edge *pa = calloc(3, sizeof(*pa));
	struct store_edge *pb = calloc(3, sizeof(*pb));
	struct diff_case c = {.name = "order"};
	char *first = NULL;

	memcpy(c.a, a3, sizeof(a3));
	memcpy(c.b, b3, sizeof(b3));
	fill(a, c.a);
	fill(b, c.b);
	for (size_t i = 0; i < N(perms); i++) {
		struct edge_diff *d;
		char *text;

		for (int j = 0; j < 3; j++) {
			pa[j] = a[perms[i][j]];
			pb[j] = b[perms[N(perms) - 1 - i][j]];
		}
		d = edge_diff_compute(pa, 3, pb, 3);
		ck_assert_ptr_nonnull(d);
		text = text_of(d, NULL, NULL);
		if (first == NULL)
			first = text;
		else {
			ck_assert_str_eq(text, first);
			free(text);
		}
		edge_diff_free(d);
	}
	ck_assert_ptr_nonnull(strstr(first, "0 added, 0 removed, 2 changed"));
	free(first);
	free(pa);
	free(pb);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_diff_empty_sides)
{
	struct edge_diff *d = edge_diff_compute(NULL, 0, NULL, 0);

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->n, 0);
	edge_diff_free(d);
	edge_diff_free(NULL);
}
END_TEST

/* One item of each kind, with labels, as the scripts will see it. */
static const struct diff_case json_case = {
    "json",
    {E0,
     {NSEG_INGRESS, "host", IPPROTO_TCP, 22, "/sbin/sshd", "sshd", 1, T0, T0,
      "1.0", ""}},
    {{PG(5433), PY, 4, T1, T1, "1.1", ""},
     {NSEG_EGRESS, "external:10.0.0.0/8", IPPROTO_UDP, 53, PY, 2, T0, T1, "1.1",
      ""}},
    NULL,
};

#define JSON_PY                                                                \
	"\"process\":{\"exe\":\"/usr/bin/python3\",\"comm\":\"python3\"}"

START_TEST(test_diff_json)
{
	struct store_edge *a = calloc(MAX_EDGES, sizeof(*a));
	struct store_edge *b = calloc(MAX_EDGES, sizeof(*b));
	struct edge_diff *d = diff_of(&json_case, a, b);
	json_t *j = edge_diff_json(d, "web@1.0", "web@1.1");
	char *s;

	ck_assert_ptr_nonnull(j);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(
	    s, "{\"a\":\"web@1.0\",\"b\":\"web@1.1\","
	       "\"added\":[{\"direction\":\"egress\","
	       "\"peer\":\"external:10.0.0.0/8\",\"protocol\":\"udp\","
	       "\"port\":53," JSON_PY ",\"count\":2,"
	       "\"first_seen\":\"2026-11-22T10:00:00Z\","
	       "\"last_seen\":\"2026-11-22T11:00:00Z\"}],"
	       "\"removed\":[{\"direction\":\"ingress\",\"peer\":\"host\","
	       "\"protocol\":\"tcp\",\"port\":22,"
	       "\"process\":{\"exe\":\"/sbin/sshd\",\"comm\":\"sshd\"},"
	       "\"count\":1,\"first_seen\":\"2026-11-22T10:00:00Z\","
	       "\"last_seen\":\"2026-11-22T10:00:00Z\"}],"
	       "\"changed\":[{\"what\":\"port\","
	       "\"from\":{\"direction\":\"egress\","
	       "\"peer\":\"library/postgres\",\"protocol\":\"tcp\","
	       "\"port\":5432," JSON_PY ",\"count\":12,"
	       "\"first_seen\":\"2026-11-22T10:00:00Z\","
	       "\"last_seen\":\"2026-11-22T11:00:00Z\"},"
	       "\"to\":{\"direction\":\"egress\","
	       "\"peer\":\"library/postgres\",\"protocol\":\"tcp\","
	       "\"port\":5433," JSON_PY ",\"count\":4,"
	       "\"first_seen\":\"2026-11-22T11:00:00Z\","
	       "\"last_seen\":\"2026-11-22T11:00:00Z\"}}],"
	       "\"counts\":{\"added\":1,\"removed\":1,\"changed\":1}}");
	free(s);
	json_decref(j);

	/* No labels: null, not missing. */
	j = edge_diff_json(d, NULL, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_null(json_object_get(j, "a")));
	ck_assert(json_is_null(json_object_get(j, "b")));
	json_decref(j);

	/* A time outside RFC 3339 fails the whole document. */
	d->items[0].b.first_seen = 253402300800;
	ck_assert_ptr_null(edge_diff_json(d, "a", "b"));
	edge_diff_free(d);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_diff_text_labels)
{
	struct store_edge *a = calloc(MAX_EDGES, sizeof(*a));
	struct store_edge *b = calloc(MAX_EDGES, sizeof(*b));
	struct edge_diff *d = diff_of(&json_case, a, b);
	char *text = text_of(d, "web@1.0", "web@\n1.1");
	FILE *f;

	ck_assert_str_eq(
	    text,
	    "--- web@1.0\n"
	    "+++ web@?1.1\n"
	    "+ egress udp/53 external:10.0.0.0/8  /usr/bin/python3 "
	    "(python3)  count 2, first seen 2026-11-22T10:00:00Z\n"
	    "~ port: egress tcp/5432 -> tcp/5433 library/postgres  "
	    "/usr/bin/python3 (python3)  count 4, first seen "
	    "2026-11-22T11:00:00Z\n"
	    "- ingress tcp/22 host  /sbin/sshd (sshd)  count 1, first seen "
	    "2026-11-22T10:00:00Z\n"
	    "1 added, 1 removed, 1 changed\n");
	free(text);
	f = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(edge_diff_write_text(f, d, "a", "b"), -1);
	fclose(f);
	edge_diff_free(d);
	free(a);
	free(b);
}
END_TEST

/* Which case of diff_cases has only items of one kind. */
#define CASE_NONE 0
#define CASE_ADDED 1
#define CASE_REMOVED 2
#define CASE_CHANGED 3

struct fail_case {
	int diff_case;
	const char *fail_on; /* NULL: no --fail-on */
	int fails;
};

static const struct fail_case fail_cases[] = {
    {CASE_NONE, NULL, 0},	  {CASE_NONE, "added", 0},
    {CASE_NONE, "changed", 0},	  {CASE_NONE, "any", 0},
    {CASE_ADDED, NULL, 0},	  {CASE_ADDED, "added", 1},
    {CASE_ADDED, "changed", 0},	  {CASE_ADDED, "any", 1},
    {CASE_REMOVED, NULL, 0},	  {CASE_REMOVED, "added", 0},
    {CASE_REMOVED, "changed", 0}, {CASE_REMOVED, "any", 1},
    {CASE_CHANGED, NULL, 0},	  {CASE_CHANGED, "added", 0},
    {CASE_CHANGED, "changed", 1}, {CASE_CHANGED, "any", 1},
};

START_TEST(test_diff_fail_on)
{
	const struct fail_case *c = &fail_cases[_i];
	struct store_edge *a = calloc(MAX_EDGES, sizeof(*a));
	struct store_edge *b = calloc(MAX_EDGES, sizeof(*b));
	struct edge_diff *d = diff_of(&diff_cases[c->diff_case], a, b);
	int mode = c->fail_on ? edge_diff_fail_on_parse(c->fail_on)
			      : EDGE_DIFF_FAIL_NEVER;

	ck_assert_int_ge(mode, 0);
	ck_assert_int_eq(edge_diff_fails(d, mode), c->fails);
	edge_diff_free(d);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_diff_fail_on_parse)
{
	static const char *const bad[] = {"",	     "ADDED", "all",
					  "removed", "any ",  "add"};

	ck_assert_int_eq(edge_diff_fail_on_parse("added"),
			 EDGE_DIFF_FAIL_ADDED);
	ck_assert_int_eq(edge_diff_fail_on_parse("changed"),
			 EDGE_DIFF_FAIL_CHANGED);
	ck_assert_int_eq(edge_diff_fail_on_parse("any"), EDGE_DIFF_FAIL_ANY);
	for (size_t i = 0; i < N(bad); i++)
		ck_assert_int_eq(edge_diff_fail_on_parse(bad[i]), -1);
}
END_TEST

static Suite *edge_diff_suite(void)
{
	Suite *su = suite_create("edge_diff");
	TCase *tc = tcase_create("diff");
	TCase *tr = tcase_create("render");

	tcase_add_loop_test(tc, test_diff_cases, 0, N(diff_cases));
	tcase_add_test(tc, test_diff_order_independent);
	tcase_add_test(tc, test_diff_empty_sides);
	tcase_add_loop_test(tc, test_diff_fail_on, 0, N(fail_cases));
	tcase_add_test(tc, test_diff_fail_on_parse);
	suite_add_tcase(su, tc);
	tcase_add_test(tr, test_diff_json);
	tcase_add_test(tr, test_diff_text_labels);
	suite_add_tcase(su, tr);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(edge_diff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
