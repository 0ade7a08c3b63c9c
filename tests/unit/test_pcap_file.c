/*
 * The pcap writer: files read back with libpcap (both link types,
 * timestamps exact to the microsecond), never overwrites, limits stop a
 * file once and are reported once, and a full disk is an error message,
 * never a crash.
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

#include "nseg/pcap_file.h"

static char dir[64];
static int forked = 1;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/nseg-pcapf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* A UDP packet 10.0.0.1:40000 > 10.0.0.2:53 (IPv4) or fd00::1 > fd00::2
 * (IPv6) of len bytes, behind an SLL header when sll. */
static size_t mkpkt(unsigned char *b, int v6, int sll, size_t payload)
{
	static const unsigned char ip4[] = {0x45, 0,  0,  0, 0, 0,  0x40,
					    0,	  64, 17, 0, 0, 10, 0,
					    0,	  1,  10, 0, 0, 2};
	static const unsigned char ip6[] = {
	    0x60, 0, 0, 0, 0, 0, 17, 64, 0xfd, 0, 0,	0, 0, 0,
	    0,	  0, 0, 0, 0, 0, 0,  0,	 0,    1, 0xfd, 0, 0, 0,
	    0,	  0, 0, 0, 0, 0, 0,  0,	 0,    0, 0,	2};
	size_t off = 0, iplen = (v6 ? 40 : 20) + 8 + payload;
	unsigned char *ip, *udp;

	if (sll) {
		memset(b, 0, 16);
		b[1] = 4; /* outgoing */
		b[14] = v6 ? 0x86 : 0x08;
		b[15] = v6 ? 0xdd : 0x00;
		off = 16;
	}
	ip = b + off;
	memcpy(ip, v6 ? ip6 : ip4, v6 ? sizeof(ip6) : sizeof(ip4));
	if (v6) {
		ip[4] = (unsigned char)((iplen - 40) >> 8);
		ip[5] = (unsigned char)(iplen - 40);
	} else {
		ip[2] = (unsigned char)(iplen >> 8);
		ip[3] = (unsigned char)iplen;
	}
	udp = ip + (v6 ? 40 : 20);
	udp[0] = 40000 >> 8;
	udp[1] = 40000 & 0xff;
	udp[2] = 0;
	udp[3] = 53;
	udp[4] = (unsigned char)((8 + payload) >> 8);
	udp[5] = (unsigned char)(8 + payload);
	udp[6] = udp[7] = 0;
	for (size_t i = 0; i < payload; i++)
		udp[8 + i] = (unsigned char)i;
	return off + iplen;
}

struct rec {
	long sec, usec;
	int v6;
	size_t payload;
};

static const struct rec recs[] = {
    {1700000000, 0, 0, 10},	   {1700000000, 1, 1, 0},
    {1700000000, 999999, 0, 1400}, {1700000001, 500000, 1, 100},
    {2000000000, 123456, 0, 0},
};
#define NRECS (sizeof(recs) / sizeof(recs[0]))

static void write_recs(struct pcap_file *f, int sll)
{
	unsigned char b[2048];
	char err[256];

	for (size_t i = 0; i < NRECS; i++) {
		struct timeval tv = {.tv_sec = recs[i].sec,
				     .tv_usec = recs[i].usec};
		size_t n = mkpkt(b, recs[i].v6, sll, recs[i].payload);

		ck_assert_int_eq(
		    pcap_file_write(f, &tv, b, n, n, err, sizeof(err)),
		    PCAP_FILE_WR_OK);
	}
}

/* Reads path back and checks every record against recs cut to snap. */
static void check_recs(const char *path, int dlt, unsigned int snap, int sll)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned char b[2048];
	size_t i = 0;

	ck_assert_msg(p != NULL, "%s", errbuf);
	ck_assert_int_eq(pcap_datalink(p), dlt);
	ck_assert_int_eq(pcap_snapshot(p), (int)snap);
	while (pcap_next_ex(p, &h, &data) == 1) {
		size_t n = mkpkt(b, recs[i].v6, sll, recs[i].payload);
		size_t cap = n < snap ? n : snap;

		ck_assert_int_lt(i, NRECS);
		ck_assert_int_eq(h->ts.tv_sec, recs[i].sec);
		ck_assert_int_eq(h->ts.tv_usec, recs[i].usec);
		ck_assert_uint_eq(h->len, n);
		ck_assert_uint_eq(h->caplen, cap);
		ck_assert(memcmp(data, b, cap) == 0);
		i++;
	}
	ck_assert_uint_eq(i, NRECS);
	pcap_close(p);
}

START_TEST(test_roundtrip)
{
	static const struct {
		int dlt, sll;
		unsigned int snap;
	} t[] = {
	    {DLT_RAW, 0, 65535},
	    {DLT_RAW, 0, 60},
	    {DLT_LINUX_SLL, 1, 262144},
	    {DLT_LINUX_SLL, 1, 1},
	};

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		char path[128], err[256], name[32];
		struct pcap_file_stats st;
		struct pcap_file *f;
		struct stat sb;
		uint64_t bytes = PCAP_FILE_HDR_BYTES;
		unsigned char b[2048];

		snprintf(name, sizeof(name), "rt%zu.pcap", k);
		path_in(path, sizeof(path), name);
		umask(k % 2 ? 0 : 077);
		f = pcap_file_new(path, t[k].dlt, t[k].snap, NULL, err,
				  sizeof(err));
		ck_assert_msg(f != NULL, "%s", err);
		ck_assert_str_eq(pcap_file_path(f), path);
		write_recs(f, t[k].sll);
		for (size_t i = 0; i < NRECS; i++)
			bytes += pcap_file_record_bytes(
			    f, mkpkt(b, recs[i].v6, t[k].sll, recs[i].payload));
		pcap_file_stats(f, &st);
		ck_assert_uint_eq(st.packets, NRECS);
		ck_assert_uint_eq(st.bytes, bytes);
		ck_assert_int_eq(st.stop, PCAP_FILE_LIVE);
		ck_assert_int_eq(
		    pcap_file_close(f, (int)(k % 2), err, sizeof(err)), 0);
		ck_assert_int_eq(stat(path, &sb), 0);
		ck_assert_int_eq(sb.st_mode & 07777, 0600);
		ck_assert_uint_eq((uint64_t)sb.st_size, bytes);
		check_recs(path, t[k].dlt, t[k].snap, t[k].sll);
	}
	ck_assert_int_eq(pcap_file_close(NULL, 1, NULL, 0), 0);
	pcap_file_free(NULL);
}
END_TEST

/* A short capture length (cut by the caller) and an original length below
 * it (raised to it). */
START_TEST(test_lengths)
{
	char path[128], err[256], errbuf[PCAP_ERRBUF_SIZE];
	unsigned char b[100];
	struct timeval tv = {.tv_sec = 5, .tv_usec = 6};
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pcap_file *f;
	pcap_t *p;

	memset(b, 0x45, sizeof(b));
	path_in(path, sizeof(path), "len.pcap");
	f = pcap_file_new(path, DLT_RAW, 80, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pcap_file_write(f, &tv, b, 40, 1500, err, sizeof(err)),
			 0);
	ck_assert_int_eq(pcap_file_write(f, &tv, b, 100, 10, err, sizeof(err)),
			 0);
	ck_assert_int_eq(pcap_file_close(f, 0, err, sizeof(err)), 0);
	p = pcap_open_offline(path, errbuf);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pcap_next_ex(p, &h, &data), 1);
	ck_assert_uint_eq(h->caplen, 40);
	ck_assert_uint_eq(h->len, 1500);
	ck_assert_int_eq(pcap_next_ex(p, &h, &data), 1);
	ck_assert_uint_eq(h->caplen, 80);
	ck_assert_uint_eq(h->len, 80);
	ck_assert_int_eq(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
}
END_TEST

/* tcpdump, the responder's tool, decodes both link types. */
START_TEST(test_tcpdump)
{
	static const struct {
		int dlt, sll;
		const char *want[NRECS];
	} t[] = {
	    {DLT_RAW, 0, {"IP 10.0.0.1.40000 > 10.0.0.2.53", "IP6 fd00::1"}},
	    {DLT_LINUX_SLL,
	     1,
	     {"IP 10.0.0.1.40000 > 10.0.0.2.53",
	      "IP6 fd00::1.40000 > fd00::2.53"}},
	};

	if (access("/usr/bin/tcpdump", X_OK) != 0 &&
	    access("/usr/sbin/tcpdump", X_OK) != 0) {
		fprintf(stderr, "tcpdump not installed; not checked\n");
		return;
	}
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		char path[128], err[256], cmd[256], line[512], name[32];
		struct pcap_file *f;
		FILE *out;
		size_t n = 0;

		snprintf(name, sizeof(name), "td%zu.pcap", k);
		path_in(path, sizeof(path), name);
		f = pcap_file_new(path, t[k].dlt, 65535, NULL, err,
				  sizeof(err));
		ck_assert_ptr_nonnull(f);
		write_recs(f, t[k].sll);
		ck_assert_int_eq(pcap_file_close(f, 0, err, sizeof(err)), 0);
		snprintf(cmd, sizeof(cmd), "TZ=UTC tcpdump -nn -r '%s' 2>&1",
			 path);
		out = popen(cmd, "r");
		ck_assert_ptr_nonnull(out);
		while (fgets(line, sizeof(line), out)) {
			if (strstr(line, "reading from file"))
				continue;
			ck_assert_msg(n < NRECS, "extra line %s", line);
			if (n == 0)
				ck_assert_msg(
				    strstr(line, "22:13:20.000000 ") &&
					strstr(line, t[k].want[0]),
				    "%s", line);
			if (n == 1)
				ck_assert_msg(strstr(line, t[k].want[1]), "%s",
					      line);
			n++;
		}
		ck_assert_int_eq(pclose(out), 0);
		ck_assert_uint_eq(n, NRECS);
	}
}
END_TEST

START_TEST(test_no_overwrite)
{
	char path[128], link[128], target[128], err[256], buf[8] = {0};
	struct pcap_file *f;
	int fd;

	path_in(path, sizeof(path), "exists.pcap");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	errno = 0;
	f = pcap_file_new(path, DLT_RAW, 100, NULL, err, sizeof(err));
	ck_assert_ptr_null(f);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_msg(strstr(err, path) && strstr(err, "File exists") &&
			  strstr(err, "refusing to overwrite"),
		      "%s", err);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	ck_assert_str_eq(buf, "keep");

	/* A symlink, even to a file that does not exist, is never followed. */
	path_in(link, sizeof(link), "link.pcap");
	path_in(target, sizeof(target), "target");
	ck_assert_int_eq(symlink(target, link), 0);
	f = pcap_file_new(link, DLT_RAW, 100, NULL, err, sizeof(err));
	ck_assert_ptr_null(f);
	ck_assert_int_eq(access(target, F_OK), -1);

	/* A missing directory. */
	path_in(path, sizeof(path), "nodir/x.pcap");
	f = pcap_file_new(path, DLT_RAW, 100, NULL, err, sizeof(err));
	ck_assert_ptr_null(f);
	ck_assert_msg(strstr(err, "No such file or directory"), "%s", err);
}
END_TEST

START_TEST(test_bad_args)
{
	static const struct {
		int dlt;
		unsigned int snap;
		const char *msg;
	} t[] = {
	    {DLT_EN10MB, 100, "link type 1 not supported"},
	    {-1, 100, "link type -1 not supported"},
	    {DLT_RAW, 0, "snaplen 0 out of range 1..262144"},
	    {DLT_RAW, PCAP_FILE_MAX_SNAPLEN + 1, "snaplen 262145 out of range"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char path[128], err[256];

		path_in(path, sizeof(path), "bad.pcap");
		errno = 0;
		ck_assert_ptr_null(pcap_file_new(path, t[i].dlt, t[i].snap,
						 NULL, err, sizeof(err)));
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_msg(strstr(err, t[i].msg), "case %zu: %s", i, err);
		ck_assert_int_eq(access(path, F_OK), -1);
	}
}
END_TEST

/*
 * Limits: packets at 1 s intervals of 100 bytes each (116 in the file).
 * ok is how many are written before the limit stops the file.
 */
START_TEST(test_limits)
{
	static const struct {
		struct pcap_file_limits lim;
		size_t ok;
		enum pcap_file_stop stop;
	} t[] = {
	    {{0, 0, 0}, 10, PCAP_FILE_LIVE},
	    {{3, 0, 0}, 3, PCAP_FILE_PACKETS},
	    {{10, 0, 0}, 10, PCAP_FILE_LIVE}, /* reached, never exceeded */
	    {{0, 24 + 3 * 116, 0}, 3, PCAP_FILE_BYTES},
	    {{0, 24 + 3 * 116 - 1, 0}, 2, PCAP_FILE_BYTES},
	    {{0, 23, 0}, 0, PCAP_FILE_BYTES},
	    {{0, 0, 4}, 5, PCAP_FILE_SECONDS},	    /* 0..4 s after the first */
	    {{2, 24 + 116, 4}, 1, PCAP_FILE_BYTES}, /* the first to hit */
	};

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		char path[128], err[256], name[32];
		unsigned char b[100] = {0x45};
		struct pcap_file_stats st;
		struct pcap_file *f;
		int stopped = 0;

		snprintf(name, sizeof(name), "lim%zu.pcap", k);
		path_in(path, sizeof(path), name);
		f = pcap_file_new(path, DLT_RAW, 1000, &t[k].lim, err,
				  sizeof(err));
		ck_assert_ptr_nonnull(f);
		for (size_t i = 0; i < 10; i++) {
			struct timeval tv = {.tv_sec = 1000 + (long)i};
			int rc = pcap_file_write(f, &tv, b, sizeof(b),
						 sizeof(b), err, sizeof(err));

			if (i < t[k].ok)
				ck_assert_msg(rc == PCAP_FILE_WR_OK,
					      "case %zu packet %zu: %d", k, i,
					      rc);
			else
				ck_assert_msg(
				    rc == (stopped++ ? PCAP_FILE_WR_REFUSED
						     : PCAP_FILE_WR_STOPPED),
				    "case %zu packet %zu: %d", k, i, rc);
		}
		pcap_file_stats(f, &st);
		ck_assert_msg(st.stop == t[k].stop, "case %zu: %s", k,
			      pcap_file_stop_str(st.stop));
		ck_assert_uint_eq(st.packets, t[k].ok);
		ck_assert_uint_eq(st.refused, 10 - t[k].ok);
		ck_assert_uint_eq(st.bytes, 24 + 116 * t[k].ok);
		ck_assert_int_eq(pcap_file_close(f, 0, err, sizeof(err)), 0);
	}
}
END_TEST

/* Seconds count from the first packet, to the microsecond. */
START_TEST(test_seconds_exact)
{
	static const struct {
		long sec, usec;
		int rc;
	} t[] = {
	    {100, 500000, PCAP_FILE_WR_OK},
	    {99, 0, PCAP_FILE_WR_OK}, /* earlier than the first: in */
	    {102, 500000, PCAP_FILE_WR_OK},
	    {102, 500001, PCAP_FILE_WR_STOPPED},
	    {100, 500000, PCAP_FILE_WR_REFUSED},
	};
	struct pcap_file_limits lim = {.seconds = 2};
	char path[128], err[256];
	struct pcap_file *f;
	unsigned char b[20] = {0x45};

	path_in(path, sizeof(path), "sec.pcap");
	f = pcap_file_new(path, DLT_RAW, 100, &lim, err, sizeof(err));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct timeval tv = {.tv_sec = t[i].sec, .tv_usec = t[i].usec};

		ck_assert_msg(pcap_file_write(f, &tv, b, sizeof(b), sizeof(b),
					      err, sizeof(err)) == t[i].rc,
			      "case %zu", i);
	}
	pcap_file_free(f);
}
END_TEST

START_TEST(test_refuse)
{
	char path[128], err[256];
	struct pcap_file_limits lim = {.packets = 1};
	struct timeval tv = {.tv_sec = 1};
	unsigned char b[20] = {0x45};
	struct pcap_file_stats st;
	struct pcap_file *f;

	path_in(path, sizeof(path), "quota.pcap");
	f = pcap_file_new(path, DLT_RAW, 100, &lim, err, sizeof(err));
	ck_assert_int_eq(pcap_file_write(f, &tv, b, 20, 20, err, sizeof(err)),
			 PCAP_FILE_WR_OK);
	pcap_file_refuse(f, PCAP_FILE_QUOTA);
	pcap_file_refuse(f, PCAP_FILE_BYTES); /* the first reason stays */
	ck_assert_int_eq(pcap_file_write(f, &tv, b, 20, 20, err, sizeof(err)),
			 PCAP_FILE_WR_REFUSED);
	pcap_file_stats(f, &st);
	ck_assert_str_eq(pcap_file_stop_str(st.stop), "quota");
	ck_assert_uint_eq(st.refused, 1);
	ck_assert_int_eq(pcap_file_close(f, 1, err, sizeof(err)), 0);
	ck_assert_str_eq(pcap_file_stop_str(PCAP_FILE_LIVE), "");
	ck_assert_str_eq(pcap_file_stop_str(PCAP_FILE_PACKETS), "packets");
	ck_assert_str_eq(pcap_file_stop_str(PCAP_FILE_SECONDS), "seconds");
	ck_assert_str_eq(pcap_file_stop_str(PCAP_FILE_ERROR), "error");
	ck_assert_str_eq(pcap_file_stop_str((enum pcap_file_stop)99), "?");
}
END_TEST

/*
 * A 64 KiB tmpfs in a private mount namespace of this test's process
 * (check forks one per test). Returns 0, or -1 when that is not possible
 * here (the caller then skips).
 */
static int small_tmpfs(void)
{
	if (!forked) {
		fprintf(stderr, "CK_FORK=no: no private mount namespace\n");
		return -1;
	}
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700") == -1) {
		fprintf(stderr, "no tmpfs mount here: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void small_tmpfs_done(void)
{
	ck_assert_int_eq(umount2(dir, MNT_DETACH), 0);
}

/* Writes until the disk is full: the error comes once, with errno and a
 * message, and the file is closed; later writes are refused. */
START_TEST(test_enospc_write)
{
	char path[128], err[256] = "";
	unsigned char b[1500];
	struct pcap_file_stats st;
	struct pcap_file *f;
	int rc = 0, n;

	if (small_tmpfs() == -1)
		return;
	memset(b, 0x45, sizeof(b));
	path_in(path, sizeof(path), "full.pcap");
	f = pcap_file_new(path, DLT_RAW, 2000, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(f);
	for (n = 0; n < 1000; n++) {
		struct timeval tv = {.tv_sec = n};

		rc = pcap_file_write(f, &tv, b, sizeof(b), sizeof(b), err,
				     sizeof(err));
		if (rc != PCAP_FILE_WR_OK)
			break;
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_int_gt(n, 30); /* most of 64 KiB was written */
	ck_assert_msg(strstr(err, path) &&
			  strstr(err, "write: No space left on device"),
		      "%s", err);
	pcap_file_stats(f, &st);
	ck_assert_int_eq(st.stop, PCAP_FILE_ERROR);
	ck_assert_int_eq(st.error, ENOSPC);
	ck_assert_uint_eq(st.packets, (uint64_t)n);
	err[0] = '\0';
	ck_assert_int_eq(pcap_file_write(f, &(struct timeval){0}, b, 10, 10,
					 err, sizeof(err)),
			 PCAP_FILE_WR_REFUSED);
	ck_assert_int_eq(pcap_file_flush(f, err, sizeof(err)), 0);
	ck_assert_int_eq(pcap_file_close(f, 1, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	small_tmpfs_done();
}
END_TEST

/* Fills the small tmpfs with a file, leaving no room at all. */
static void fill_disk(void)
{
	char path[128];
	char b[4096] = {0};
	int fd;

	path_in(path, sizeof(path), "filler");
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	while (write(fd, b, sizeof(b)) > 0)
		;
	close(fd);
}

/* Buffered data on a full disk: the flush, or else the close, reports it. */
START_TEST(test_enospc_flush_close)
{
	static const int use_flush[] = {1, 0};

	if (small_tmpfs() == -1)
		return;
	fill_disk();
	for (size_t k = 0; k < 2; k++) {
		char path[128], err[256] = "", name[32];
		unsigned char b[100] = {0x45};
		struct timeval tv = {.tv_sec = 1};
		struct pcap_file_stats st;
		struct pcap_file *f;

		snprintf(name, sizeof(name), "fc%zu.pcap", k);
		path_in(path, sizeof(path), name);
		f = pcap_file_new(path, DLT_RAW, 200, NULL, err, sizeof(err));
		ck_assert_msg(f != NULL, "%s", err);
		ck_assert_int_eq(pcap_file_write(f, &tv, b, sizeof(b),
						 sizeof(b), err, sizeof(err)),
				 PCAP_FILE_WR_OK);
		if (use_flush[k]) {
			ck_assert_int_eq(pcap_file_flush(f, err, sizeof(err)),
					 -1);
			pcap_file_stats(f, &st);
			ck_assert_int_eq(st.error, ENOSPC);
			ck_assert_int_eq(pcap_file_write(f, &tv, b, 10, 10, err,
							 sizeof(err)),
					 PCAP_FILE_WR_REFUSED);
			ck_assert_int_eq(
			    pcap_file_close(f, 1, err, sizeof(err)), 0);
		} else {
			ck_assert_int_eq(
			    pcap_file_close(f, 1, err, sizeof(err)), -1);
		}
		ck_assert_msg(strstr(err, "No space left on device"), "%s",
			      err);
	}
	small_tmpfs_done();
}
END_TEST

static Suite *pcap_file_suite(void)
{
	Suite *s = suite_create("pcap_file");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_tcpdump);
	tcase_add_test(tc, test_no_overwrite);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_seconds_exact);
	tcase_add_test(tc, test_refuse);
	tcase_add_test(tc, test_enospc_write);
	tcase_add_test(tc, test_enospc_flush_close);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pcap_file_suite());
	int failed;

	forked = srunner_fork_status(sr) != CK_NOFORK;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
