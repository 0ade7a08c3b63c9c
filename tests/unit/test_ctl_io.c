#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nseg/ctl_io.h"

/* Builds raw bytes: a header with the given fields, then payload. */
static size_t raw_msg(char *out, uint32_t magic, uint16_t version,
		      uint32_t len_field, const char *payload, size_t n)
{
	struct nseg_ctl_hdr h = {
	    .magic = magic,
	    .version = version,
	    .type = NSEG_CTL_STATUS,
	    .seq = 42,
	    .len = len_field,
	};

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), payload, n);
	return sizeof(h) + n;
}

static const char *const round_trip_docs[] = {
    "{}",
    "{\"workload\":\"web\",\"version\":\"1.0\"}",
    "{\"a\":{\"b\":[1,2.5,null,true,\"\\u00e9\\u6f22\"]},\"z\":-3}",
    "{\"deep\":[[[[[[{\"x\":[]}]]]]]]}",
};

START_TEST(test_round_trip)
{
	json_t *in = json_loads(round_trip_docs[_i], 0, NULL);
	struct ctl_io_msg m;
	char *buf, err[256];
	size_t len;

	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(ctl_io_encode(NSEG_CTL_RECORD, 7 + _i, in, &buf, &len),
			 0);
	ck_assert_int_eq(ctl_io_decode(buf, len, &m, err, sizeof(err)),
			 CTL_IO_OK);
	ck_assert_uint_eq(m.type, NSEG_CTL_RECORD);
	ck_assert_uint_eq(m.version, NSEG_CTL_VERSION);
	ck_assert_uint_eq(m.seq, 7 + _i);
	ck_assert(json_equal(in, m.payload));
	ctl_io_msg_clear(&m);
	ck_assert_ptr_null(m.payload);
	free(buf);
	json_decref(in);
}
END_TEST

START_TEST(test_encode_rejects)
{
	json_t *arr = json_array(), *big = json_object();
	char *buf = NULL, *s = malloc(NSEG_CTL_MAX_PAYLOAD);
	size_t len;

	ck_assert_int_eq(ctl_io_encode(NSEG_CTL_RECORD, 1, arr, &buf, &len),
			 -1);
	ck_assert_int_eq(ctl_io_encode(NSEG_CTL_RECORD, 1, NULL, &buf, &len),
			 -1);
	memset(s, 'x', NSEG_CTL_MAX_PAYLOAD - 1);
	s[NSEG_CTL_MAX_PAYLOAD - 1] = '\0';
	json_object_set_new(big, "s", json_string(s));
	ck_assert_int_eq(ctl_io_encode(NSEG_CTL_RECORD, 1, big, &buf, &len),
			 -1);
	ck_assert_ptr_null(buf);
	free(s);
	json_decref(arr);
	json_decref(big);
}
END_TEST

struct bad_case {
	const char *what;
	uint32_t magic;
	uint16_t version;
	int len_delta; /* added to the payload length in the header */
	const char *payload;
	size_t cut; /* bytes removed from the end of the buffer */
	int want;
	const char *want_err;
};

static const struct bad_case bad_cases[] = {
    {"magic", 0x6e736568, 1, 0, "{}", 0, CTL_IO_EMAGIC, "bad magic"},
    {"magic 0", 0, 1, 0, "{}", 0, CTL_IO_EMAGIC, "bad magic"},
    {"version 2", NSEG_CTL_MAGIC, 2, 0, "{}", 0, CTL_IO_EVERSION,
     "expected 1, got 2"},
    {"version 0", NSEG_CTL_MAGIC, 0, 0, "{}", 0, CTL_IO_EVERSION, "got 0"},
    {"oversize", NSEG_CTL_MAGIC, 1, NSEG_CTL_MAX_PAYLOAD, "{}", 0,
     CTL_IO_ETOOBIG, "exceeds the limit"},
    {"truncated payload", NSEG_CTL_MAGIC, 1, 5, "{}", 0, CTL_IO_ETRUNC,
     "truncated payload"},
    {"truncated header", NSEG_CTL_MAGIC, 1, 0, "", 3, CTL_IO_ETRUNC,
     "truncated header"},
    {"trailing", NSEG_CTL_MAGIC, 1, -1, "{}}", 0, CTL_IO_ELENGTH,
     "1 trailing bytes"},
    {"empty payload", NSEG_CTL_MAGIC, 1, 0, "", 0, CTL_IO_EJSON, "not JSON"},
    {"not json", NSEG_CTL_MAGIC, 1, 0, "{\"a\":", 0, CTL_IO_EJSON, "not JSON"},
    {"garbage", NSEG_CTL_MAGIC, 1, 0, "hello", 0, CTL_IO_EJSON, "not JSON"},
    {"duplicate key", NSEG_CTL_MAGIC, 1, 0, "{\"a\":1,\"a\":2}", 0,
     CTL_IO_EJSON, "duplicate"},
    {"nul in string", NSEG_CTL_MAGIC, 1, 0, "{\"a\":\"x\\u0000\"}", 0,
     CTL_IO_EJSON, "not JSON"},
    {"array", NSEG_CTL_MAGIC, 1, 0, "[1]", 0, CTL_IO_ENOTOBJ, "not an object"},
    {"number", NSEG_CTL_MAGIC, 1, 0, "42", 0, CTL_IO_ENOTOBJ, "not an object"},
    {"string", NSEG_CTL_MAGIC, 1, 0, "\"x\"", 0, CTL_IO_ENOTOBJ,
     "not an object"},
    {"null", NSEG_CTL_MAGIC, 1, 0, "null", 0, CTL_IO_ENOTOBJ, "not an object"},
};

START_TEST(test_decode_bad)
{
	const struct bad_case *bc = &bad_cases[_i];
	size_t n = strlen(bc->payload);
	char buf[64], err[256] = "";
	struct ctl_io_msg m;
	size_t len =
	    raw_msg(buf, bc->magic, bc->version,
		    (uint32_t)((int)n + bc->len_delta), bc->payload, n);
	int st = ctl_io_decode(buf, len - bc->cut, &m, err, sizeof(err));

	ck_assert_msg(st == bc->want, "%s: got %d (%s), want %d", bc->what, st,
		      err, bc->want);
	ck_assert_msg(strstr(err, bc->want_err), "%s: message '%s'", bc->what,
		      err);
	ck_assert_ptr_null(m.payload);
	if (bc->want == CTL_IO_EVERSION) {
		ck_assert_uint_eq(m.version, bc->version);
		ck_assert_uint_eq(m.type, NSEG_CTL_STATUS);
		ck_assert_uint_eq(m.seq, 42);
	}
	ctl_io_msg_clear(&m);
}
END_TEST

/* The same bad inputs through the incremental decoder, byte by byte. */
START_TEST(test_dec_bad)
{
	const struct bad_case *bc = &bad_cases[_i];
	size_t n = strlen(bc->payload);
	char buf[64], err[256] = "";
	struct ctl_io_msg m;
	struct ctl_io_dec d;
	size_t len =
	    raw_msg(buf, bc->magic, bc->version,
		    (uint32_t)((int)n + bc->len_delta), bc->payload, n) -
	    bc->cut;
	int st = CTL_IO_AGAIN;

	ctl_io_dec_init(&d);
	for (size_t i = 0; i < len && st == CTL_IO_AGAIN; i++) {
		ck_assert_int_eq(ctl_io_dec_feed(&d, buf + i, 1), 0);
		st = ctl_io_dec_next(&d, &m, err, sizeof(err));
		if (st != CTL_IO_AGAIN)
			ctl_io_msg_clear(&m);
	}
	/* Truncation and trailing bytes are not errors for a stream: the
	 * rest may still come, and trailing bytes start the next message. */
	if (bc->want == CTL_IO_ETRUNC)
		ck_assert_int_eq(st, CTL_IO_AGAIN);
	else if (bc->want == CTL_IO_ELENGTH)
		ck_assert_int_eq(st, CTL_IO_OK);
	else
		ck_assert_msg(st == bc->want, "%s: got %d", bc->what, st);
	if (st != CTL_IO_AGAIN && st != CTL_IO_OK) {
		/* sticky */
		ck_assert_int_eq(ctl_io_dec_next(&d, &m, err, sizeof(err)), st);
		ctl_io_msg_clear(&m);
	}
	ctl_io_dec_release(&d);
}
END_TEST

START_TEST(test_dec_oversize_early)
{
	char buf[64], err[256];
	struct ctl_io_dec d;
	struct ctl_io_msg m;
	size_t len = raw_msg(buf, NSEG_CTL_MAGIC, 1, 0xffffffffu, "", 0);

	ctl_io_dec_init(&d);
	ck_assert_int_eq(ctl_io_dec_feed(&d, buf, len), 0);
	/* fails on the header alone, without waiting for 4 GiB */
	ck_assert_int_eq(ctl_io_dec_next(&d, &m, err, sizeof(err)),
			 CTL_IO_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(err, "4294967295"));
	ctl_io_dec_release(&d);
}
END_TEST

START_TEST(test_dec_byte_by_byte)
{
	const char *docs[] = {"{\"n\":1}", "{}", "{\"n\":[3,{\"x\":\"y\"}]}"};
	char *stream = NULL, err[256];
	size_t total = 0;
	struct ctl_io_dec d;
	int got = 0;

	for (int i = 0; i < 3; i++) {
		json_t *j = json_loads(docs[i], 0, NULL);
		char *b;
		size_t n;

		ck_assert_int_eq(
		    ctl_io_encode(NSEG_CTL_RECORD, (uint32_t)i, j, &b, &n), 0);
		stream = realloc(stream, total + n);
		memcpy(stream + total, b, n);
		total += n;
		free(b);
		json_decref(j);
	}
	ctl_io_dec_init(&d);
	for (size_t i = 0; i < total; i++) {
		struct ctl_io_msg m;
		int st;

		ck_assert_int_eq(ctl_io_dec_feed(&d, stream + i, 1), 0);
		st = ctl_io_dec_next(&d, &m, err, sizeof(err));
		if (st == CTL_IO_AGAIN)
			continue;
		ck_assert_int_eq(st, CTL_IO_OK);
		ck_assert_uint_eq(m.seq, (uint32_t)got);
		json_t *want = json_loads(docs[got], 0, NULL);
		ck_assert(json_equal(want, m.payload));
		json_decref(want);
		ctl_io_msg_clear(&m);
		got++;
	}
	ck_assert_int_eq(got, 3);
	ck_assert_uint_eq(d.len, 0);
	ctl_io_dec_release(&d);
	free(stream);
}
END_TEST

/* Several messages arriving in one read come out one by one. */
START_TEST(test_dec_batch)
{
	char *a, *b, both[256], err[256];
	size_t na, nb;
	struct ctl_io_dec d;
	struct ctl_io_msg m;
	json_t *o = json_pack("{s:i}", "k", 5);

	ck_assert_int_eq(ctl_io_encode(NSEG_CTL_RECORD, 1, o, &a, &na), 0);
	ck_assert_int_eq(ctl_io_encode(NSEG_CTL_END, 1, o, &b, &nb), 0);
	memcpy(both, a, na);
	memcpy(both + na, b, nb);
	ctl_io_dec_init(&d);
	ctl_io_dec_feed(&d, both, na + nb);
	ck_assert_int_eq(ctl_io_dec_next(&d, &m, err, sizeof(err)), CTL_IO_OK);
	ck_assert_uint_eq(m.type, NSEG_CTL_RECORD);
	ctl_io_msg_clear(&m);
	ck_assert_int_eq(ctl_io_dec_next(&d, &m, err, sizeof(err)), CTL_IO_OK);
	ck_assert_uint_eq(m.type, NSEG_CTL_END);
	ctl_io_msg_clear(&m);
	ck_assert_int_eq(ctl_io_dec_next(&d, &m, err, sizeof(err)),
			 CTL_IO_AGAIN);
	ctl_io_dec_release(&d);
	free(a);
	free(b);
	json_decref(o);
}
END_TEST

START_TEST(test_send_recv)
{
	int sv[2];
	json_t *args = json_pack("{s:s}", "workload", "web");
	struct ctl_io_msg m;
	char err[256];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(ctl_io_send(sv[0], NSEG_CTL_BASELINE_SHOW, 9, args),
			 0);
	ck_assert_int_eq(ctl_io_send(sv[0], NSEG_CTL_STATUS, 10, NULL), 0);
	ck_assert_int_eq(ctl_io_recv(sv[1], &m, 1000, err, sizeof(err)),
			 CTL_IO_OK);
	ck_assert_uint_eq(m.type, NSEG_CTL_BASELINE_SHOW);
	ck_assert_uint_eq(m.seq, 9);
	ck_assert(json_equal(m.payload, args));
	ctl_io_msg_clear(&m);
	ck_assert_int_eq(ctl_io_recv(sv[1], &m, 1000, err, sizeof(err)),
			 CTL_IO_OK);
	ck_assert_int_eq(json_object_size(m.payload), 0);
	ctl_io_msg_clear(&m);
	/* nothing more: times out (short deadline, no sleep loop) */
	ck_assert_int_eq(ctl_io_recv(sv[1], &m, 20, err, sizeof(err)),
			 CTL_IO_ETIMEDOUT);
	close(sv[0]);
	ck_assert_int_eq(ctl_io_recv(sv[1], &m, 1000, err, sizeof(err)),
			 CTL_IO_EOF);
	close(sv[1]);
	json_decref(args);
}
END_TEST

/* The peer closes partway: header or payload cut short. */
START_TEST(test_recv_truncated)
{
	char buf[64], err[256];
	size_t len = raw_msg(buf, NSEG_CTL_MAGIC, 1, 10, "{\"a\":1}", 7);
	size_t cuts[] = {5, len - 2};
	struct ctl_io_msg m;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], buf, cuts[_i]), (ssize_t)cuts[_i]);
	close(sv[0]);
	ck_assert_int_eq(ctl_io_recv(sv[1], &m, 1000, err, sizeof(err)),
			 CTL_IO_ETRUNC);
	ck_assert_ptr_nonnull(strstr(err, "connection closed after"));
	close(sv[1]);
}
END_TEST

START_TEST(test_recv_version)
{
	char buf[64], err[256];
	size_t len = raw_msg(buf, NSEG_CTL_MAGIC, 3, 2, "{}", 2);
	struct ctl_io_msg m;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[0], buf, len), (ssize_t)len);
	ck_assert_int_eq(ctl_io_recv(sv[1], &m, 1000, err, sizeof(err)),
			 CTL_IO_EVERSION);
	ck_assert_uint_eq(m.version, 3);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_connect_errors)
{
	char longpath[200], path[] = "/tmp/nseg-test-ctlio-XXXXXX";
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	errno = 0;
	ck_assert_int_eq(ctl_io_connect(longpath, 100), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);

	ck_assert_int_eq(ctl_io_connect("/nonexistent/nseg.sock", 100), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* bound but not listening: what a dead daemon leaves behind */
	ck_assert_ptr_nonnull(mkdtemp(path));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(ctl_io_connect(sun.sun_path, 100), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	close(fd);
	unlink(sun.sun_path);
	rmdir(path);
}
END_TEST

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * A daemon that stops accepting (wedged, or its backlog full) must not
 * hang the client: connect, send and recv each end at their deadline
 * with ETIMEDOUT.
 */
START_TEST(test_client_deadlines)
{
	char path[] = "/tmp/nseg-test-ctlio-XXXXXX", err[256];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	json_t *big;
	char *fill = malloc(NSEG_CTL_MAX_PAYLOAD / 2);
	struct ctl_io_msg m;
	struct timespec t0;
	int lfd, c1, c2;

	ck_assert_ptr_nonnull(mkdtemp(path));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	/* backlog 0: one connection waits in the queue, the next blocks */
	ck_assert_int_eq(listen(lfd, 0), 0);
	c1 = ctl_io_connect(sun.sun_path, 100);
	ck_assert_int_ge(c1, 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	c2 = ctl_io_connect(sun.sun_path, 100);
	ck_assert_int_eq(c2, -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_lt(elapsed_ms(&t0), 5000);

	/* a request larger than the socket buffer, never read */
	ck_assert_ptr_nonnull(fill);
	memset(fill, 'a', NSEG_CTL_MAX_PAYLOAD / 2);
	big = json_pack("{s:s%}", "x", fill, (size_t)NSEG_CTL_MAX_PAYLOAD / 2);
	ck_assert_ptr_nonnull(big);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	ck_assert_int_eq(ctl_io_send(c1, NSEG_CTL_STATUS, 1, big), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_lt(elapsed_ms(&t0), 5000);

	/* and no reply ever comes */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(ctl_io_recv(c1, &m, 100, err, sizeof(err)),
			 CTL_IO_ETIMEDOUT);
	ck_assert_str_eq(err, "timed out");
	ck_assert_int_lt(elapsed_ms(&t0), 5000);

	close(c1);
	close(lfd);
	unlink(sun.sun_path);
	rmdir(path);
	json_decref(big);
	free(fill);
}
END_TEST

START_TEST(test_strstatus)
{
	ck_assert_str_eq(ctl_io_strstatus(CTL_IO_EMAGIC), "bad magic");
	ck_assert_str_eq(ctl_io_strstatus(-1), "unknown status");
	ck_assert_str_eq(ctl_io_strstatus(1000), "unknown status");
}
END_TEST

static Suite *ctl_io_suite(void)
{
	Suite *s = suite_create("ctl_io");
	TCase *tc = tcase_create("core");
	int nbad = (int)(sizeof(bad_cases) / sizeof(bad_cases[0]));
	int nrt = (int)(sizeof(round_trip_docs) / sizeof(round_trip_docs[0]));

	tcase_add_loop_test(tc, test_round_trip, 0, nrt);
	tcase_add_test(tc, test_encode_rejects);
	tcase_add_loop_test(tc, test_decode_bad, 0, nbad);
	tcase_add_loop_test(tc, test_dec_bad, 0, nbad);
	tcase_add_test(tc, test_dec_oversize_early);
	tcase_add_test(tc, test_dec_byte_by_byte);
	tcase_add_test(tc, test_dec_batch);
	tcase_add_test(tc, test_send_recv);
	tcase_add_loop_test(tc, test_recv_truncated, 0, 2);
	tcase_add_test(tc, test_recv_version);
	tcase_add_test(tc, test_connect_errors);
	tcase_add_test(tc, test_client_deadlines);
	tcase_add_test(tc, test_strstatus);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_io_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
