/*
 * The capture directory: its checks and their messages, the scan of what
 * an earlier run left, oldest-first eviction under the quota that never
 * touches open files or non-pcap files, and generated file names.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nseg/log.h"
#include "nseg/pcap_dir.h"
#include "nseg/pcap_file.h"

static char top[64];
static int forked = 1;

static void setup(void)
{
	snprintf(top, sizeof(top), "/tmp/nseg-pcapd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	log_init("test_pcap_dir", 0, LOG_LVL_WARN);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", top);
}

static void at(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", top, rel);
}

/* Creates top/rel with size bytes and modification time mtime. */
static void mkfile(const char *rel, size_t size, time_t mtime)
{
	struct timespec ts[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
	char path[256];
	int fd;

	at(path, sizeof(path), rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	ck_assert_int_eq(futimens(fd, ts), 0);
	close(fd);
}

static int exists(const char *rel)
{
	char path[256];

	at(path, sizeof(path), rel);
	return access(path, F_OK) == 0;
}

static struct pcap_dir *dir_new(const char *rel, uint64_t quota)
{
	char path[256], err[512];
	struct pcap_dir *d;

	at(path, sizeof(path), rel);
	d = pcap_dir_new(path, quota, err, sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);
	return d;
}

struct evicted {
	int n;
	char names[16][64];
};

static void on_evict(const char *path, void *arg)
{
	struct evicted *e = arg;
	const char *slash = strrchr(path, '/');

	ck_assert_int_lt(e->n, 16);
	ck_assert(strncmp(path, top, strlen(top)) == 0);
	snprintf(e->names[e->n++], sizeof(e->names[0]), "%s", slash + 1);
}

START_TEST(test_create)
{
	struct pcap_dir *d;
	struct stat st;
	char path[256];

	umask(0);
	d = dir_new("a/b/pcap/", 0);
	ck_assert_str_eq(pcap_dir_name(d),
			 strcat(strcpy(path, top), "/a/b/pcap"));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	at(path, sizeof(path), "a/b");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);
	ck_assert_uint_eq(pcap_dir_total(d), 0);
	ck_assert_uint_eq(pcap_dir_count(d), 0);
	pcap_dir_free(d);
	pcap_dir_free(NULL);

	/* An existing directory keeps its mode (0750: a readers' group). */
	at(path, sizeof(path), "g");
	ck_assert_int_eq(mkdir(path, 0750), 0);
	d = dir_new("g", 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0750);
	pcap_dir_free(d);
}
END_TEST

START_TEST(test_refused)
{
	static const struct {
		const char *rel;
		const char *msg;
	} t[] = {
	    {"link", "capture directory %s/link is a symlink; refusing it"},
	    {"file", "capture directory %s/file: not a directory"},
	    {"w777", "capture directory %s/w777 is writable by group or "
		     "others (mode 0777); chmod go-w it"},
	    {"w720", "(mode 0720)"},
	    {"w1777", "(mode 1777)"},
	    {"theirs", "capture directory %s/theirs is owned by uid 1000, "
		       "not by us (uid 0)"},
	    {"file/sub", "capture directory %s/file/sub: Not a directory"},
	    {"", "bad path"},
	};
	char path[256], want[512], err[512];

	at(path, sizeof(path), "real");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	at(path, sizeof(path), "link");
	ck_assert_int_eq(symlink("real", path), 0);
	mkfile("file", 0, 1);
	at(path, sizeof(path), "w777");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chmod(path, 0777), 0);
	at(path, sizeof(path), "w720");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chmod(path, 0720), 0);
	at(path, sizeof(path), "w1777");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chmod(path, 01777), 0);
	at(path, sizeof(path), "theirs");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chown(path, 1000, 1000), 0);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].rel[0])
			at(path, sizeof(path), t[i].rel);
		else
			path[0] = '\0';
		snprintf(want, sizeof(want), t[i].msg, top);
		ck_assert_ptr_null(pcap_dir_new(path, 0, err, sizeof(err)));
		ck_assert_msg(strstr(err, want), "case %zu: '%s' not in '%s'",
			      i, want, err);
	}
}
END_TEST

/* Private mount namespace of this test's process (check forks one per
 * test) with a tmpfs on top; -1 (skip) when not possible. */
static int private_tmpfs(void)
{
	if (!forked) {
		fprintf(stderr, "CK_FORK=no: no private mount namespace\n");
		return -1;
	}
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", top, "tmpfs", 0, "size=1m,mode=0700") == -1) {
		fprintf(stderr, "no tmpfs mount here: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void remount_ro(void)
{
	ck_assert_int_eq(mount(NULL, top, NULL, MS_REMOUNT | MS_RDONLY, NULL),
			 0);
}

/* Read-only: refused with a message; once open, a file that cannot be
 * removed is logged and no longer counted. */
START_TEST(test_unwritable)
{
	struct evicted ev = {0};
	struct pcap_dir_file *f;
	struct pcap_dir *d;
	char path[256], err[512];

	if (private_tmpfs() == -1)
		return;
	mkfile("old.pcap", 1000, 100);
	mkfile("new.pcap", 1000, 200);
	d = dir_new("", 2500);
	remount_ro();
	ck_assert_ptr_null(pcap_dir_new(top, 0, err, sizeof(err)));
	snprintf(path, sizeof(path),
		 "capture directory %s is not writable: Read-only file system",
		 top);
	ck_assert_msg(strstr(err, path), "%s", err);

	ck_assert_int_eq(
	    pcap_dir_path(d, "alert", 1, "w", 0, path, sizeof(path)), 0);
	f = pcap_dir_open(d, path, err, sizeof(err));
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pcap_dir_make_room(d, f, 1000, on_evict, &ev), 0);
	ck_assert_int_eq(ev.n, 0); /* old.pcap could not be removed */
	ck_assert(exists("old.pcap"));
	ck_assert_uint_eq(pcap_dir_total(d), 2000);
	pcap_dir_close(d, f); /* never created: forgotten */
	ck_assert_uint_eq(pcap_dir_total(d), 1000);
	ck_assert_uint_eq(pcap_dir_count(d), 1);
	pcap_dir_free(d);
	ck_assert_int_eq(umount2(top, MNT_DETACH), 0);
}
END_TEST

/* Only regular *.pcap files count, left by an earlier run or not. */
START_TEST(test_scan)
{
	char path[256];
	struct pcap_dir *d;

	mkfile("a.pcap", 100, 10);
	mkfile("b.pcap", 2000, 20);
	mkfile("notes.txt", 5000, 1);
	mkfile("c.pcap.tmp", 5000, 1);
	mkfile(".pcap", 5000, 1);
	mkfile("x.pcapng", 5000, 1);
	at(path, sizeof(path), "sub.pcap");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	at(path, sizeof(path), "link.pcap");
	ck_assert_int_eq(symlink("notes.txt", path), 0);
	d = dir_new("", 0);
	ck_assert_uint_eq(pcap_dir_count(d), 2);
	ck_assert_uint_eq(pcap_dir_total(d), 2100);
	pcap_dir_free(d);
}
END_TEST

/* Oldest first by mtime, ties by name; other files are never touched. */
START_TEST(test_eviction_order)
{
	static const struct {
		uint64_t need;
		int n;
		const char *names[4];
	} steps[] = {
	    {0, 0, {NULL}},
	    {1, 1, {"d.pcap"}},		     /* 4000 + 1 > 4000 */
	    {999, 0, {NULL}},		     /* 3000 + 1 + 999 fits */
	    {1001, 2, {"a.pcap", "c.pcap"}}, /* mtime 200: a before c */
	    {1500, 1, {"b.pcap"}},	     /* room for 1500 more */
	    {499, 0, {NULL}},		     /* nothing left to evict ... */
	    {1, -1, {NULL}},		     /* ... and no room */
	};
	struct evicted ev = {0};
	struct pcap_dir_file *f;
	struct pcap_dir *d;
	char path[256], err[512];
	int k = 0;

	mkfile("d.pcap", 1000, 100);
	mkfile("c.pcap", 1000, 200);
	mkfile("a.pcap", 1000, 200);
	mkfile("b.pcap", 1000, 300);
	mkfile("keep.txt", 100000, 1);
	d = dir_new("", 4000);
	at(path, sizeof(path), "new.pcap");
	f = pcap_dir_open(d, path, err, sizeof(err));
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int rc = pcap_dir_make_room(d, f, steps[i].need, on_evict, &ev);

		ck_assert_msg(rc == (steps[i].n < 0 ? -1 : 0), "step %zu", i);
		ck_assert_msg(ev.n == k + (steps[i].n > 0 ? steps[i].n : 0),
			      "step %zu: %d evicted", i, ev.n - k);
		for (int j = 0; j < steps[i].n; j++) {
			ck_assert_str_eq(ev.names[k], steps[i].names[j]);
			ck_assert(!exists(ev.names[k]));
			k++;
		}
		ck_assert_uint_le(pcap_dir_total(d), 4000);
	}
	ck_assert_uint_eq(pcap_dir_total(d), 4000);
	ck_assert_uint_eq(pcap_dir_count(d), 1);
	ck_assert(exists("keep.txt"));
	pcap_dir_free(d);
}
END_TEST

/* Two open files: neither is evicted, however old the caller thinks it is,
 * and a request that cannot fit removes nothing. */
START_TEST(test_open_never_evicted)
{
	struct evicted ev = {0};
	struct pcap_dir_file *f1, *f2;
	struct pcap_dir *d;
	char p1[256], p2[256], err[512];

	mkfile("old.pcap", 1000, 100);
	d = dir_new("", 3000);
	at(p1, sizeof(p1), "one.pcap");
	at(p2, sizeof(p2), "two.pcap");
	f1 = pcap_dir_open(d, p1, err, sizeof(err));
	f2 = pcap_dir_open(d, p2, err, sizeof(err));
	ck_assert_ptr_nonnull(f1);
	ck_assert_ptr_nonnull(f2);
	ck_assert_int_eq(pcap_dir_make_room(d, f1, 1000, on_evict, &ev), 0);
	ck_assert_int_eq(pcap_dir_make_room(d, f2, 1000, on_evict, &ev), 0);
	ck_assert_int_eq(ev.n, 0);
	/* 2000 open + 1001 > 3000: impossible; old.pcap stays. */
	ck_assert_int_eq(pcap_dir_make_room(d, f1, 1001, on_evict, &ev), -1);
	ck_assert_int_eq(ev.n, 0);
	ck_assert(exists("old.pcap"));
	ck_assert_uint_eq(pcap_dir_total(d), 3000);
	ck_assert_int_eq(pcap_dir_make_room(d, f1, 1000, on_evict, &ev), 0);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_str_eq(ev.names[0], "old.pcap");
	ck_assert_int_eq(pcap_dir_make_room(d, f2, 1, on_evict, &ev), -1);
	pcap_dir_free(d);
}
END_TEST

START_TEST(test_quota_below_one_file)
{
	struct evicted ev = {0};
	struct pcap_dir_file *f;
	struct pcap_dir *d;
	char path[256], err[512];

	mkfile("big.pcap", 5000, 100);
	d = dir_new("", 100);
	at(path, sizeof(path), "new.pcap");
	f = pcap_dir_open(d, path, err, sizeof(err));
	/* More than the whole quota: refused, nothing removed. */
	ck_assert_int_eq(pcap_dir_make_room(d, f, 101, on_evict, &ev), -1);
	ck_assert_int_eq(ev.n, 0);
	ck_assert(exists("big.pcap"));
	/* A file larger than the quota goes at the first write. */
	ck_assert_int_eq(pcap_dir_make_room(d, f, 100, on_evict, &ev), 0);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_uint_eq(pcap_dir_total(d), 100);
	ck_assert_int_eq(pcap_dir_make_room(d, f, 1, on_evict, &ev), -1);
	pcap_dir_close(d, f);
	pcap_dir_free(d);
}
END_TEST

START_TEST(test_no_quota)
{
	struct pcap_dir_file *f;
	struct pcap_dir *d;
	char path[256], err[512];

	mkfile("old.pcap", 5000, 100);
	d = dir_new("", 0);
	at(path, sizeof(path), "new.pcap");
	f = pcap_dir_open(d, path, err, sizeof(err));
	ck_assert_int_eq(pcap_dir_make_room(d, f, UINT64_MAX / 2, NULL, NULL),
			 0);
	ck_assert(exists("old.pcap"));
	pcap_dir_close(d, f);
	ck_assert_uint_eq(pcap_dir_total(d), 5000);
	pcap_dir_free(d);
}
END_TEST

/* The writer and the directory together, as the daemon uses them: the
 * quota counts exactly what ends up on disk, and a closed file becomes
 * the newest to evict. */
START_TEST(test_with_writer)
{
	struct evicted ev = {0};
	struct pcap_dir_file *df;
	struct pcap_file *pf;
	struct pcap_dir *d;
	unsigned char b[300] = {0x45};
	char path[256], err[512];
	struct stat st;
	int written = 0;

	mkfile("prev.pcap", 1000, 100);
	d = dir_new("", 4000);
	ck_assert_int_eq(pcap_dir_path(d, "alert", 7, "library/redis",
				       1700000000, path, sizeof(path)),
			 0);
	df = pcap_dir_open(d, path, err, sizeof(err));
	ck_assert_ptr_nonnull(df);
	ck_assert_int_eq(
	    pcap_dir_make_room(d, df, PCAP_FILE_HDR_BYTES, NULL, NULL), 0);
	pf = pcap_file_new(path, DLT_RAW, 200, NULL, err, sizeof(err));
	ck_assert_msg(pf != NULL, "%s", err);
	for (int i = 0; i < 30; i++) {
		struct timeval tv = {.tv_sec = i};

		if (pcap_dir_make_room(d, df, pcap_file_record_bytes(pf, 300),
				       on_evict, &ev) == -1) {
			pcap_file_refuse(pf, PCAP_FILE_QUOTA);
			break;
		}
		ck_assert_int_eq(
		    pcap_file_write(pf, &tv, b, 300, 300, err, sizeof(err)),
		    PCAP_FILE_WR_OK);
		written++;
	}
	/* 24 + 18 * 216 = 3912 <= 4000 < 4128. */
	ck_assert_int_eq(written, 18);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_str_eq(ev.names[0], "prev.pcap");
	ck_assert_int_eq(pcap_file_close(pf, 0, err, sizeof(err)), 0);
	pcap_dir_close(d, df);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(pcap_dir_total(d), (uint64_t)st.st_size);
	ck_assert_uint_eq(pcap_dir_total(d), 3912);

	/* The next file evicts the closed one. */
	at(path, sizeof(path), "next.pcap");
	df = pcap_dir_open(d, path, err, sizeof(err));
	ck_assert_int_eq(pcap_dir_make_room(d, df, 100, on_evict, &ev), 0);
	ck_assert_int_eq(ev.n, 2);
	ck_assert_str_eq(ev.names[1],
			 "alert-7-library_redis-20231114T221320Z.pcap");
	pcap_dir_free(d);
}
END_TEST

START_TEST(test_open_errors)
{
	static const char *const bad[] = {
	    "/elsewhere/x.pcap", "%s/sub/x.pcap", "%s/x.txt",	 "%s/.pcap",
	    "%s/.x.pcap",	 "%sx/y.pcap",	  "%s/dup.pcap",
	};
	struct pcap_dir *d;
	char path[256], err[512];

	mkfile("dup.pcap", 10, 10);
	d = dir_new("", 0);
	ck_assert_ptr_nonnull(pcap_dir_open(
	    d, strcat(strcpy(path, top), "/open.pcap"), err, sizeof(err)));
	ck_assert_ptr_null(pcap_dir_open(d, path, err, sizeof(err)));
	ck_assert_msg(strstr(err, "exists already"), "%s", err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), bad[i], top);
		err[0] = '\0';
		ck_assert_msg(pcap_dir_open(d, path, err, sizeof(err)) == NULL,
			      "%s accepted", path);
		ck_assert_msg(strstr(err, path), "%s", err);
	}
	pcap_dir_free(d); /* frees the open handle too */
}
END_TEST

START_TEST(test_path)
{
	static const struct {
		const char *kind;
		uint64_t id;
		const char *name;
		int64_t t;
		const char *want; /* after "<dir>/", NULL: refused */
		int err;
	} t[] = {
	    {"alert", 42, "library/redis", 1700000000,
	     "alert-42-library_redis-20231114T221320Z.pcap", 0},
	    {"capture", 18446744073709551615ull, "web", 0,
	     "capture-18446744073709551615-web-19700101T000000Z.pcap", 0},
	    {"alert", 1, "a b/../ü:*", 86399,
	     "alert-1-a_b_.._____-19700101T235959Z.pcap", 0},
	    {"alert", 1, "", 0, "alert-1-_-19700101T000000Z.pcap", 0},
	    {"alert", 1, NULL, 0, "alert-1-_-19700101T000000Z.pcap", 0},
	    {"alert", 1, "Ok.name-1_2", 0,
	     "alert-1-Ok.name-1_2-19700101T000000Z.pcap", 0},
	    {"Alert", 1, "x", 0, NULL, EINVAL},
	    {"", 1, "x", 0, NULL, EINVAL},
	    {"al-ert", 1, "x", 0, NULL, EINVAL},
	    {"alert", 1, "x", -62167219201LL, NULL, EINVAL},
	};
	struct pcap_dir *d = dir_new("", 0);
	char buf[512], want[512], longname[200];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		errno = 0;
		int rc = pcap_dir_path(d, t[i].kind, t[i].id, t[i].name, t[i].t,
				       buf, sizeof(buf));

		if (!t[i].want) {
			ck_assert_msg(rc == -1 && errno == t[i].err, "case %zu",
				      i);
			ck_assert_str_eq(buf, "");
			continue;
		}
		snprintf(want, sizeof(want), "%s/%s", top, t[i].want);
		ck_assert_msg(rc == 0, "case %zu", i);
		ck_assert_str_eq(buf, want);
	}
	/* Long names are cut. */
	memset(longname, 'x', sizeof(longname));
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(
	    pcap_dir_path(d, "alert", 1, longname, 0, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(strlen(buf), strlen(top) + strlen("/alert-1--") +
					   PCAP_DIR_NAME_MAX +
					   strlen("19700101T000000Z.pcap"));
	/* A buffer one byte short. */
	snprintf(want, sizeof(want), "%s/alert-1-x-19700101T000000Z.pcap", top);
	ck_assert_int_eq(
	    pcap_dir_path(d, "alert", 1, "x", 0, buf, strlen(want)), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(
	    pcap_dir_path(d, "alert", 1, "x", 0, buf, strlen(want) + 1), 0);
	pcap_dir_free(d);
}
END_TEST

static Suite *pcap_dir_suite(void)
{
	Suite *s = suite_create("pcap_dir");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_unwritable);
	tcase_add_test(tc, test_scan);
	tcase_add_test(tc, test_eviction_order);
	tcase_add_test(tc, test_open_never_evicted);
	tcase_add_test(tc, test_quota_below_one_file);
	tcase_add_test(tc, test_no_quota);
	tcase_add_test(tc, test_with_writer);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_path);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pcap_dir_suite());
	int failed;

	forked = srunner_fork_status(sr) != CK_NOFORK;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
