/*
 * The packet ring: bounded, overwrites the oldest, truncates to snap,
 * and walks a time window oldest first.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/pkt_ring.h"

struct seen {
	int n;
	struct timeval ts[16];
	size_t caplen[16], origlen[16];
	unsigned char first[16];
	int stop_after;
};

static int collect(const struct timeval *ts, const void *data, size_t caplen,
		   size_t origlen, void *arg)
{
	struct seen *s = arg;

	ck_assert_int_lt(s->n, 16);
	s->ts[s->n] = *ts;
	s->caplen[s->n] = caplen;
	s->origlen[s->n] = origlen;
	s->first[s->n] = caplen ? *(const unsigned char *)data : 0;
	s->n++;
	return s->stop_after && s->n == s->stop_after ? -1 : 0;
}

/* Pushes a packet of len bytes, all equal to tag, at sec.usec. */
static void push(struct pkt_ring *r, long sec, long usec, unsigned char tag,
		 size_t len)
{
	unsigned char buf[256];
	struct timeval tv = {.tv_sec = sec, .tv_usec = usec};

	memset(buf, tag, sizeof(buf));
	pkt_ring_push(r, &tv, buf, len);
}

START_TEST(test_new_bounds)
{
	static const struct {
		unsigned int cap, snap;
		int ok;
	} t[] = {
	    {0, 100, 0},
	    {1, 0, 0},
	    {1, 1, 1},
	    {PKT_RING_MAX_CAPACITY, 1, 1},
	    {PKT_RING_MAX_CAPACITY + 1, 1, 0},
	    {1, PKT_RING_MAX_SNAP, 1},
	    {1, PKT_RING_MAX_SNAP + 1, 0},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pkt_ring *r;

		errno = 0;
		r = pkt_ring_new(t[i].cap, t[i].snap);
		ck_assert_msg(!!r == t[i].ok, "case %zu", i);
		if (!r)
			ck_assert_int_eq(errno, EINVAL);
		else
			ck_assert_uint_eq(pkt_ring_len(r), 0);
		pkt_ring_free(r);
	}
	pkt_ring_free(NULL);
}
END_TEST

START_TEST(test_wrap_around)
{
	struct pkt_ring *r = pkt_ring_new(4, 64);
	struct timeval end = {.tv_sec = 100};
	struct seen s = {0};

	for (int i = 0; i < 10; i++) {
		push(r, 90, i, (unsigned char)i, 10);
		ck_assert_uint_eq(pkt_ring_len(r), i < 4 ? i + 1 : 4);
	}
	ck_assert_int_eq(pkt_ring_walk(r, &end, 60000, collect, &s), 4);
	/* The last four pushed, oldest first. */
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(s.first[i], 6 + i);
		ck_assert_int_eq(s.ts[i].tv_usec, 6 + i);
		ck_assert_uint_eq(s.caplen[i], 10);
	}
	pkt_ring_free(r);
}
END_TEST

START_TEST(test_time_window)
{
	/* Packets at 10.0, 12.5, 14.999999, 15.0, 15.000001, 20.0. */
	static const struct {
		long sec, usec;
	} pk[] = {{10, 0}, {12, 500000}, {14, 999999},
		  {15, 0}, {15, 1},	 {20, 0}};
	static const struct {
		long end_sec, end_usec;
		unsigned int window_ms;
		int n;
		unsigned char first; /* tag of the first packet walked */
	} t[] = {
	    {15, 0, 5000, 3, 0},     /* [10, 15): the end is excluded */
	    {15, 0, 4999, 2, 1},     /* [10.001, 15) */
	    {15, 1, 0, 0, 0},	     /* an empty window */
	    {15, 1, 1, 2, 2},	     /* [15.000001 - 1ms, 15.000001) */
	    {20, 1, 10001, 6, 0},    /* all */
	    {20, 1, 10000, 5, 1},    /* [10.000001, 20.000001) */
	    {21, 0, 999, 0, 0},	     /* nothing that recent */
	    {5, 0, 100000, 0, 0},    /* all after the end */
	    {0, 500, 4000000, 0, 0}, /* a start before the epoch */
	};
	struct pkt_ring *r = pkt_ring_new(8, 16);

	for (size_t i = 0; i < sizeof(pk) / sizeof(pk[0]); i++)
		push(r, pk[i].sec, pk[i].usec, (unsigned char)i, 1);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct timeval end = {.tv_sec = t[i].end_sec,
				      .tv_usec = t[i].end_usec};
		struct seen s = {0};

		ck_assert_msg(pkt_ring_walk(r, &end, t[i].window_ms, collect,
					    &s) == t[i].n,
			      "case %zu: %d packets", i, s.n);
		if (t[i].n)
			ck_assert_msg(s.first[0] == t[i].first, "case %zu", i);
		for (int k = 1; k < s.n; k++)
			ck_assert(timercmp(&s.ts[k - 1], &s.ts[k], <));
	}
	pkt_ring_free(r);
}
END_TEST

START_TEST(test_snap)
{
	static const struct {
		size_t len, caplen;
	} t[] = {{0, 0}, {1, 1}, {31, 31}, {32, 32}, {33, 32}, {200, 32}};
	struct pkt_ring *r = pkt_ring_new(8, 32);
	struct timeval end = {.tv_sec = 2};
	struct seen s = {0};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		push(r, 1, (long)i, (unsigned char)(0xa0 + i), t[i].len);
	ck_assert_int_eq(pkt_ring_walk(r, &end, 1000, collect, &s), 6);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_uint_eq(s.caplen[i], t[i].caplen);
		ck_assert_uint_eq(s.origlen[i], t[i].len);
		if (t[i].caplen)
			ck_assert_uint_eq(s.first[i], 0xa0 + i);
	}
	pkt_ring_free(r);
}
END_TEST

/* The data survives wrap-around intact, byte for byte, in every slot. */
START_TEST(test_contents)
{
	struct pkt_ring *r = pkt_ring_new(3, 8);
	struct timeval end = {.tv_sec = 10};
	unsigned char buf[8];

	for (int i = 0; i < 7; i++) {
		struct timeval tv = {.tv_sec = 1, .tv_usec = i};

		for (int b = 0; b < 8; b++)
			buf[b] = (unsigned char)(i * 16 + b);
		pkt_ring_push(r, &tv, buf, 8);
	}
	struct seen s = {0};

	ck_assert_int_eq(pkt_ring_walk(r, &end, 10000, collect, &s), 3);
	for (int k = 0; k < 3; k++)
		ck_assert_uint_eq(s.first[k], (4 + k) * 16);
	pkt_ring_free(r);
}
END_TEST

START_TEST(test_stop)
{
	struct pkt_ring *r = pkt_ring_new(4, 8);
	struct timeval end = {.tv_sec = 10};
	struct seen s = {.stop_after = 2};

	for (int i = 0; i < 4; i++)
		push(r, 5, i, (unsigned char)i, 4);
	ck_assert_int_eq(pkt_ring_walk(r, &end, 10000, collect, &s), -1);
	ck_assert_int_eq(s.n, 2);
	pkt_ring_free(r);
}
END_TEST

static Suite *pkt_ring_suite(void)
{
	Suite *s = suite_create("pkt_ring");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_new_bounds);
	tcase_add_test(tc, test_wrap_around);
	tcase_add_test(tc, test_time_window);
	tcase_add_test(tc, test_snap);
	tcase_add_test(tc, test_contents);
	tcase_add_test(tc, test_stop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pkt_ring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
