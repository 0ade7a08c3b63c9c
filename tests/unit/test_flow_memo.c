/*
 * The flow memo: who sent a connection's first packet, for a few seconds,
 * per network namespace; a fixed table where collisions overwrite.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/flow_memo.h"
#include "nseg/pkt.h"

static struct nseg_pkt pkt(const char *src, int sport, const char *dst,
			   int dport, int proto)
{
	struct nseg_pkt p;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(pkt_addr_parse(src, &p.src), 0);
	ck_assert_int_eq(pkt_addr_parse(dst, &p.dst), 0);
	p.sport = (uint16_t)sport;
	p.dport = (uint16_t)dport;
	p.proto = (uint8_t)proto;
	return p;
}

#define NS1 4026531840ull
#define NS2 4026532001ull

START_TEST(test_put_get)
{
	struct flow_memo *m = flow_memo_new();
	struct nseg_pkt p = pkt("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP);
	struct nseg_pkt p6 = pkt("fd00::1", 40000, "fd00::2", 80, IPPROTO_TCP);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(flow_memo_get(m, &p, NS1, 1000, 5000), 0);
	flow_memo_put(m, &p, NS1, 4242, 1000);
	flow_memo_put(m, &p6, NS1, 6666, 1000);
	ck_assert_int_eq(flow_memo_get(m, &p, NS1, 1000, 5000), 4242);
	ck_assert_int_eq(flow_memo_get(m, &p6, NS1, 1000, 5000), 6666);
	/* A later put of the same flow replaces it. */
	flow_memo_put(m, &p, NS1, 4343, 2000);
	ck_assert_int_eq(flow_memo_get(m, &p, NS1, 2000, 5000), 4343);
	flow_memo_free(m);
	flow_memo_free(NULL);
}
END_TEST

START_TEST(test_ttl)
{
	static const struct {
		uint64_t now, ttl;
		pid_t want;
	} t[] = {
	    {1000, 5000, 77}, {6000, 5000, 77}, {6001, 5000, 0},
	    {1000, 0, 77},    {1001, 0, 0},	{999999, 5000, 0},
	};
	struct flow_memo *m = flow_memo_new();
	struct nseg_pkt p = pkt("10.0.0.1", 40000, "10.0.0.2", 53, IPPROTO_UDP);

	flow_memo_put(m, &p, NS1, 77, 1000);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(flow_memo_get(m, &p, NS1, t[i].now, t[i].ttl) ==
				  t[i].want,
			      "case %zu", i);
	flow_memo_free(m);
}
END_TEST

START_TEST(test_mismatch)
{
	static const struct {
		const char *what;
		const char *src;
		int sport;
		const char *dst;
		int dport, proto;
		uint64_t ns;
	} t[] = {
	    {"netns", "10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP, NS2},
	    {"src", "10.0.0.3", 40000, "10.0.0.2", 80, IPPROTO_TCP, NS1},
	    {"dst", "10.0.0.1", 40000, "10.0.0.4", 80, IPPROTO_TCP, NS1},
	    {"sport", "10.0.0.1", 40001, "10.0.0.2", 80, IPPROTO_TCP, NS1},
	    {"dport", "10.0.0.1", 40000, "10.0.0.2", 81, IPPROTO_TCP, NS1},
	    {"proto", "10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_UDP, NS1},
	    {"reversed", "10.0.0.2", 80, "10.0.0.1", 40000, IPPROTO_TCP, NS1},
	    {"v4-mapped", "::ffff:10.0.0.1", 40000, "::ffff:10.0.0.2", 80,
	     IPPROTO_TCP, NS1},
	};
	struct flow_memo *m = flow_memo_new();
	struct nseg_pkt p = pkt("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP);

	flow_memo_put(m, &p, NS1, 4242, 1000);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nseg_pkt q =
		    pkt(t[i].src, t[i].sport, t[i].dst, t[i].dport, t[i].proto);

		ck_assert_msg(flow_memo_get(m, &q, t[i].ns, 1000, 5000) == 0,
			      "%s: matched", t[i].what);
	}
	ck_assert_int_eq(flow_memo_get(m, &p, NS1, 1000, 5000), 4242);
	flow_memo_free(m);
}
END_TEST

/* Flow pairs that differ in one field, the i-th of a search. */
static void vary(int field, int i, struct nseg_pkt *a, struct nseg_pkt *b)
{
	*a = pkt("10.0.0.1", 40000, "10.0.0.2", 80, IPPROTO_TCP);
	*b = *a;
	switch (field) {
	case 0:
		b->sport = (uint16_t)(i == 40000 ? 1 : i);
		break;
	case 1:
		b->dport = (uint16_t)(i == 80 ? 1 : i);
		break;
	case 2:
		b->src.a[2] = (uint8_t)(i >> 8) | 0x80;
		b->src.a[3] = (uint8_t)i;
		break;
	case 3:
		b->dst.a[2] = (uint8_t)(i >> 8) | 0x80;
		b->dst.a[3] = (uint8_t)i;
		break;
	case 4: /* Same bytes, other family: the same slot. */
		a->sport = b->sport = (uint16_t)i;
		b->src.family = b->dst.family = AF_INET6;
		break;
	}
}

/* Two flows in one slot: the second overwrites, and the first then reads
 * as unknown (never as the second's pid). */
START_TEST(test_collision)
{
	/* Not proto: it is hashed last, and FNV-1a's low bits then differ
	 * whenever the last byte does, so such flows never share a slot. */
	static const char *const what[] = {"sport", "dport", "src", "dst",
					   "family"};

	for (int f = 0; f < 5; f++) {
		struct flow_memo *m = flow_memo_new();
		struct nseg_pkt a, b;
		int found = 0;

		for (int i = 1; i < 65536 && !found; i++) {
			vary(f, i, &a, &b);
			flow_memo_put(m, &a, NS1, 1111, 1000);
			flow_memo_put(m, &b, NS1, 2222, 1000);
			ck_assert_int_eq(flow_memo_get(m, &b, NS1, 1000, 5000),
					 2222);
			switch (flow_memo_get(m, &a, NS1, 1000, 5000)) {
			case 0:
				found = 1;
				break;
			case 1111:
				break;
			default:
				ck_abort_msg("%s: %d read the other flow",
					     what[f], i);
			}
		}
		ck_assert_msg(found, "%s: no colliding flow", what[f]);
		flow_memo_free(m);
	}
}
END_TEST

static Suite *flow_memo_suite(void)
{
	Suite *s = suite_create("flow_memo");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_ttl);
	tcase_add_test(tc, test_mismatch);
	tcase_add_test(tc, test_collision);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(flow_memo_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
