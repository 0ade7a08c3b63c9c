#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nseg/icmp_socks.h"

static const char raw4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	"   1: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0\n"
	"  17: 00000000:0011 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4343 2 0000000000000000 0\n";
static const char icmp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	"  12: 0100007F:1A2B 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 5151 2 0000000000000000 0\n"
	"  13: 0100007F:0007 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 5252 2 0000000000000000 0\n"
	"garbage line\n";

static void put(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_parse_line)
{
	unsigned port;
	uint64_t ino;

	ck_assert_int_eq(icmp_socks_parse_line("   1: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0 0", &port, &ino), 0);
	ck_assert_uint_eq(port, 1);
	ck_assert_uint_eq(ino, 4242);
	ck_assert_int_eq(icmp_socks_parse_line("  sl  local_address rem_address", &port, &ino), -1);
	ck_assert_int_eq(icmp_socks_parse_line("", &port, &ino), -1);
	ck_assert_int_eq(icmp_socks_parse_line("1: nocolon x x x x x 0 0 1", &port, &ino), -1);
}
END_TEST

START_TEST(test_candidates)
{
	char dir[] = "/tmp/nseg-icmp-XXXXXX";
	uint64_t ino[8];
	char path[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	put(dir, "raw", raw4);
	put(dir, "icmp", icmp4);
	/* The ping socket with the echo id first, then raw ICMP sockets. */
	ck_assert_uint_eq(icmp_socks_candidates(dir, AF_INET, 0x1A2B, ino, 8), 2);
	ck_assert_uint_eq(ino[0], 5151);
	ck_assert_uint_eq(ino[1], 4242);
	/* Bounded by max. */
	ck_assert_uint_eq(icmp_socks_candidates(dir, AF_INET, 0x1A2B, ino, 1), 1);
	/* No v6 tables: nothing, no error. */
	ck_assert_uint_eq(icmp_socks_candidates(dir, AF_INET6, 1, ino, 8), 0);
	snprintf(path, sizeof(path), "%s/raw", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/icmp", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("icmp_socks");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_line);
	tcase_add_test(tc, test_candidates);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
