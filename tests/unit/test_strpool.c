/*
 * The string pool: copies that stay put while the pool grows, shared
 * copies of repeated strings, strings longer than a chunk.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/strpool.h"

START_TEST(test_copies_stay_valid)
{
	struct strpool *p = strpool_new();
	const char *first[2000];
	char buf[64];

	ck_assert_ptr_nonnull(p);
	/* Enough to need many chunks: earlier copies must not move. */
	for (int i = 0; i < 2000; i++) {
		snprintf(buf, sizeof(buf), "/usr/bin/process-%d", i);
		first[i] = strpool_add(p, buf);
		ck_assert_ptr_nonnull(first[i]);
		ck_assert_ptr_ne(first[i], buf);
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(buf, sizeof(buf), "/usr/bin/process-%d", i);
		ck_assert_str_eq(first[i], buf);
	}
	strpool_free(p);
	strpool_free(NULL);
}
END_TEST

START_TEST(test_repeats_share)
{
	struct strpool *p = strpool_new();
	const char *a = strpool_add(p, "library/redis");
	const char *b = strpool_add(p, "/usr/bin/python3");
	const char *c = strpool_add(p, "");

	ck_assert_ptr_eq(strpool_add(p, "library/redis"), a);
	ck_assert_ptr_eq(strpool_add(p, "/usr/bin/python3"), b);
	ck_assert_ptr_eq(strpool_add(p, ""), c);
	ck_assert_str_eq(c, "");
	strpool_free(p);
}
END_TEST

START_TEST(test_long_string)
{
	struct strpool *p = strpool_new();
	size_t n = 10000;
	char *big = malloc(n + 1);
	const char *copy, *after;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', n);
	big[n] = 0;
	copy = strpool_add(p, big);
	after = strpool_add(p, "short");
	ck_assert_ptr_nonnull(copy);
	ck_assert_uint_eq(strlen(copy), n);
	ck_assert_str_eq(after, "short");
	ck_assert_uint_eq(strlen(copy), n);
	free(big);
	strpool_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strpool");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_copies_stay_valid);
	tcase_add_test(tc, test_repeats_share);
	tcase_add_test(tc, test_long_string);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
