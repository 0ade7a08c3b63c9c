/*
 * connbench: new-connection rate and latency. Each of C threads loops for
 * D seconds: connect, send a small request, read the small response,
 * close. The latency of one iteration is from socket() to the last
 * response byte. Prints one line of key=value pairs:
 *
 *   conns=N rate=R p50_us=X p99_us=Y errors=E max_us=Z
 *
 *   connbench [-c CLIENTS] [-d SECONDS] [-q REQUEST_BYTES]
 *             [-r RESPONSE_BYTES] [-i INTERVAL_US] ADDR PORT
 *
 * -i paces each thread to one connection every INTERVAL_US microseconds
 * (default 0: back to back): a steady background load rather than a
 * measurement of the most the path can take.
 *
 * The client closes with SO_LINGER 0 (RST): no TIME_WAIT piles up, so a
 * long run neither exhausts ephemeral ports nor grows the socket tables
 * between configurations, and conntrack entries leave after 10 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/bench_args.h"

#define CB_MAXCLIENTS 256

enum cb_stage { CB_SOCKET, CB_CONNECT, CB_WRITE, CB_READ, CB_STAGES };
static const char *const cb_stage_name[CB_STAGES] = { "socket", "connect", "write",
						      "read" };

struct cb_opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int clients;
	int seconds;
	size_t req_len, resp_len;
	uint64_t interval_ns;
};

struct cb_thread {
	pthread_t tid;
	const struct cb_opts *o;
	uint64_t deadline_ns;
	uint32_t *lat_us;
	size_t n, cap;
	uint64_t errors;
	/* Why they failed, for the stderr summary: per stage, last errno. */
	uint64_t failed[CB_STAGES];
	int last_errno[CB_STAGES];
};

static uint64_t cb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cb_record(struct cb_thread *t, uint64_t ns)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 65536;
		uint32_t *p = realloc(t->lat_us, cap * sizeof(*p));

		if (!p)
			return -1;
		t->lat_us = p;
		t->cap = cap;
	}
	t->lat_us[t->n++] = (uint32_t)(ns / 1000);
	return 0;
}

/* errno 0 when the peer closed before the whole response. */
static int cb_read_full(int fd, size_t len)
{
	char buf[4096];

	while (len > 0) {
		ssize_t n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));

		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		len -= (size_t)n;
	}
	return 0;
}

/*
 * One connection; returns 0 when the full response arrived, else -1 with
 * *stage the step that failed (errno kept).
 */
static int cb_one(const struct cb_opts *o, const char *req, enum cb_stage *stage)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct timeval tv = { .tv_sec = 3 };
	int one = 1, rc = -1, err;
	int fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*stage = CB_SOCKET;
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*stage = CB_CONNECT;
	if (connect(fd, (const struct sockaddr *)&o->addr, o->addrlen) == -1)
		goto out;
	*stage = CB_WRITE;
	if (write(fd, req, o->req_len) != (ssize_t)o->req_len)
		goto out;
	*stage = CB_READ;
	rc = cb_read_full(fd, o->resp_len);
out:
	err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* With -i, sleeps until INTERVAL after t0, the start of the iteration. */
static void cb_pace(const struct cb_opts *o, uint64_t t0)
{
	uint64_t now = cb_now_ns(), next = t0 + o->interval_ns;
	struct timespec ts;

	if (!o->interval_ns || now >= next)
		return;
	ts.tv_sec = (time_t)((next - now) / 1000000000ull);
	ts.tv_nsec = (long)((next - now) % 1000000000ull);
	nanosleep(&ts, NULL);
}

static void *cb_thread_run(void *arg)
{
	struct cb_thread *t = arg;
	char req[4096];

	memset(req, 'q', sizeof(req));
	while (cb_now_ns() < t->deadline_ns) {
		uint64_t t0 = cb_now_ns();

		enum cb_stage stage;

		if (cb_one(t->o, req, &stage) == -1) {
			t->errors++;
			t->failed[stage]++;
			t->last_errno[stage] = errno;
			/* Back off so a refused port does not spin the CPU
			 * the other configurations are measured on. */
			usleep(1000);
			continue;
		}
		if (cb_record(t, cb_now_ns() - t0) == -1)
			break;
		cb_pace(t->o, t0);
	}
	return NULL;
}

static int cb_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n], n > 0. */
static uint32_t cb_pct(const uint32_t *v, size_t n, double pct)
{
	size_t rank = (size_t)(pct / 100.0 * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* On stderr, so the one stdout line keeps its shape. */
static void cb_report_errors(const struct cb_thread *ts, int nt)
{
	for (int s = 0; s < CB_STAGES; s++) {
		uint64_t n = 0;
		int err = 0;

		for (int i = 0; i < nt; i++) {
			n += ts[i].failed[s];
			if (ts[i].failed[s])
				err = ts[i].last_errno[s];
		}
		if (n)
			fprintf(stderr, "connbench: %llu failed at %s (last: %s)\n",
				(unsigned long long)n, cb_stage_name[s],
				err ? strerror(err) : "closed early");
	}
}

static void cb_report(struct cb_thread *ts, int nt, double secs)
{
	size_t total = 0, k = 0;
	uint64_t errors = 0;
	uint32_t *all;

	for (int i = 0; i < nt; i++) {
		total += ts[i].n;
		errors += ts[i].errors;
	}
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all) {
		fprintf(stderr, "connbench: out of memory\n");
		return;
	}
	for (int i = 0; i < nt; i++) {
		memcpy(all + k, ts[i].lat_us, ts[i].n * sizeof(*all));
		k += ts[i].n;
	}
	qsort(all, total, sizeof(*all), cb_cmp_u32);
	cb_report_errors(ts, nt);
	/* max_us last: scripts matching the older keys keep working. */
	printf("conns=%zu rate=%.0f p50_us=%u p99_us=%u errors=%llu "
	       "max_us=%u\n",
	       total, (double)total / secs, total ? cb_pct(all, total, 50) : 0,
	       total ? cb_pct(all, total, 99) : 0, (unsigned long long)errors,
	       total ? all[total - 1] : 0);
	free(all);
}

static int cb_parse(struct cb_opts *o, int argc, char **argv)
{
	long v;
	int c;

	o->clients = 8;
	o->seconds = 5;
	o->req_len = 32;
	o->resp_len = 64;
	o->interval_ns = 0;
	while ((c = getopt(argc, argv, "c:d:q:r:i:")) != -1) {
		if (c == 'c' && (v = bench_parse_num("connbench", optarg, "client count", 1,
						  CB_MAXCLIENTS)) != -1)
			o->clients = (int)v;
		else if (c == 'd' && (v = bench_parse_num("connbench", optarg, "duration", 1,
						       3600)) != -1)
			o->seconds = (int)v;
		else if (c == 'q' && (v = bench_parse_num("connbench", optarg, "request size",
						       1, 4096)) != -1)
			o->req_len = (size_t)v;
		else if (c == 'r' && (v = bench_parse_num("connbench", optarg, "response size",
						       1, 4096)) != -1)
			o->resp_len = (size_t)v;
		else if (c == 'i' && (v = bench_parse_num("connbench", optarg, "interval (µs)",
						       0, 10000000)) != -1)
			o->interval_ns = (uint64_t)v * 1000;
		else
			return -1;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: connbench [-c CLIENTS] [-d SECONDS] "
				"[-q REQUEST_BYTES] [-r RESPONSE_BYTES] "
				"[-i INTERVAL_US] ADDR PORT\n");
		return -1;
	}
	return bench_parse_addr("connbench", argv[optind], argv[optind + 1],
				&o->addr, &o->addrlen);
}

int main(int argc, char **argv)
{
	static struct cb_thread ts[CB_MAXCLIENTS];
	struct cb_opts o;
	uint64_t start, deadline;
	int started = 0, rc = 1;

	if (cb_parse(&o, argc, argv) == -1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	start = cb_now_ns();
	deadline = start + (uint64_t)o.seconds * 1000000000ull;
	for (; started < o.clients; started++) {
		ts[started].o = &o;
		ts[started].deadline_ns = deadline;
		if (pthread_create(&ts[started].tid, NULL, cb_thread_run,
				   &ts[started]) != 0) {
			fprintf(stderr, "connbench: cannot start threads\n");
			goto out;
		}
	}
	rc = 0;
out:
	for (int i = 0; i < started; i++)
		pthread_join(ts[i].tid, NULL);
	if (rc == 0)
		cb_report(ts, started, (double)(cb_now_ns() - start) / 1e9);
	for (int i = 0; i < started; i++)
		free(ts[i].lat_us);
	return rc;
}
