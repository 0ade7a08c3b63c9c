/*
 * synflood: connection attempts that are never answered, as fast as one
 * thread can open them, to measure how fast a denied connection is dropped.
 * Each of T threads keeps a ring of S non-blocking sockets: it opens a
 * socket, starts a connect (one SYN leaves), and closes the socket that
 * held that slot before. A socket lives S / rate seconds, well under the
 * first SYN retransmission (1 s), so every SYN is a new connection and is
 * queued once. Prints one line of key=value pairs:
 *
 *   syns=N rate=R errors=E
 *
 *   synflood [-t THREADS] [-d SECONDS] [-s SOCKETS] [-r RATE] ADDR PORT
 *
 * With RATE, at most RATE attempts a second in all (split evenly between
 * the threads); without it, as fast as the threads go.
 *
 * errors counts connects that failed at once (anything but EINPROGRESS,
 * e.g. no ephemeral port left); each is followed by a 1 ms pause.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/bench_args.h"

#define SF_MAXTHREADS 64
#define SF_MAXSOCKETS 16384

struct sf_opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int threads;
	int seconds;
	int sockets;
	long rate;
};

struct sf_thread {
	pthread_t tid;
	const struct sf_opts *o;
	uint64_t deadline_ns;
	uint64_t syns;
	uint64_t errors;
};

static uint64_t sf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Starts one connection attempt; returns its fd, or -1. */
static int sf_one(const struct sf_opts *o)
{
	int fd = socket(o->addr.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)&o->addr, o->addrlen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* With a rate, sleeps until attempt k of this thread is due. */
static void sf_pace(const struct sf_thread *t, uint64_t start_ns, uint64_t k)
{
	uint64_t due, now;

	if (!t->o->rate)
		return;
	due = start_ns + k * (uint64_t)t->o->threads * 1000000000ull /
				 (uint64_t)t->o->rate;
	now = sf_now_ns();
	if (due > now)
		usleep((useconds_t)((due - now) / 1000));
}

static void *sf_thread_run(void *arg)
{
	struct sf_thread *t = arg;
	int n = t->o->sockets, i = 0;
	int *fds = malloc((size_t)n * sizeof(*fds));
	uint64_t start = sf_now_ns();

	if (!fds) {
		t->errors++;
		return NULL;
	}
	for (int k = 0; k < n; k++)
		fds[k] = -1;
	/* The clock is read once per 64 attempts: it is not free. */
	for (uint64_t k = 0; (k & 63) || sf_now_ns() < t->deadline_ns; k++) {
		sf_pace(t, start, k);
		if (fds[i] != -1)
			close(fds[i]);
		fds[i] = sf_one(t->o);
		if (fds[i] == -1) {
			t->errors++;
			usleep(1000);
		} else {
			t->syns++;
		}
		i = (i + 1) % n;
	}
	for (int k = 0; k < n; k++)
		if (fds[k] != -1)
			close(fds[k]);
	free(fds);
	return NULL;
}

static int sf_parse(struct sf_opts *o, int argc, char **argv)
{
	long v;
	int c;

	o->threads = 1;
	o->seconds = 3;
	o->sockets = 4096;
	o->rate = 0;
	while ((c = getopt(argc, argv, "t:d:s:r:")) != -1) {
		if (c == 't' && (v = bench_parse_num("synflood", optarg, "thread count", 1,
						  SF_MAXTHREADS)) != -1)
			o->threads = (int)v;
		else if (c == 'd' && (v = bench_parse_num("synflood", optarg, "duration", 1,
						       3600)) != -1)
			o->seconds = (int)v;
		else if (c == 's' && (v = bench_parse_num("synflood", optarg, "socket count",
						       1, SF_MAXSOCKETS)) != -1)
			o->sockets = (int)v;
		else if (c == 'r' && (v = bench_parse_num("synflood", optarg, "rate", 0,
						       10000000)) != -1)
			o->rate = v;
		else
			return -1;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: synflood [-t THREADS] [-d SECONDS] "
				"[-s SOCKETS] [-r RATE] ADDR PORT\n");
		return -1;
	}
	return bench_parse_addr("synflood", argv[optind], argv[optind + 1],
				&o->addr, &o->addrlen);
}

/* The ring needs threads * sockets descriptors: raise the soft limit up
 * to the hard one (sudo often starts with 1024), or shrink the ring. */
static void sf_fit_nofile(struct sf_opts *o)
{
	rlim_t want = (rlim_t)o->threads * (rlim_t)o->sockets + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	o->sockets = (int)((rl.rlim_cur - 64) / (rlim_t)o->threads);
	if (o->sockets < 1)
		o->sockets = 1;
	fprintf(stderr, "synflood: descriptor limit %llu: %d sockets per thread\n",
		(unsigned long long)rl.rlim_cur, o->sockets);
}

int main(int argc, char **argv)
{
	static struct sf_thread ts[SF_MAXTHREADS];
	struct sf_opts o;
	uint64_t start, deadline, syns = 0, errors = 0;
	int started = 0, rc = 1;

	if (sf_parse(&o, argc, argv) == -1)
		return 2;
	sf_fit_nofile(&o);
	signal(SIGPIPE, SIG_IGN);
	start = sf_now_ns();
	deadline = start + (uint64_t)o.seconds * 1000000000ull;
	for (; started < o.threads; started++) {
		ts[started].o = &o;
		ts[started].deadline_ns = deadline;
		if (pthread_create(&ts[started].tid, NULL, sf_thread_run,
				   &ts[started]) != 0) {
			fprintf(stderr, "synflood: cannot start threads\n");
			goto out;
		}
	}
	rc = 0;
out:
	for (int i = 0; i < started; i++) {
		pthread_join(ts[i].tid, NULL);
		syns += ts[i].syns;
		errors += ts[i].errors;
	}
	if (rc == 0)
		printf("syns=%llu rate=%.0f errors=%llu\n",
		       (unsigned long long)syns,
		       (double)syns / ((double)(sf_now_ns() - start) / 1e9),
		       (unsigned long long)errors);
	return rc;
}
