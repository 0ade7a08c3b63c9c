/*
 * connserver: the server side of connbench. Accepts connections, answers
 * every request read with a fixed-size response, and closes a connection
 * when the client does. Several threads, each with its own SO_REUSEPORT
 * listener and epoll loop, so the server is never the bottleneck.
 *
 *   connserver [-t THREADS] [-r RESPONSE_BYTES] ADDR PORT
 *
 * Runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/bench_args.h"

#define SRV_MAXTHREADS 64
#define SRV_EVENTS 256

struct srv_opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int threads;
	size_t resp_len;
	char *resp;
};

static int srv_listen(const struct srv_opts *o)
{
	int one = 1;
	int fd = socket(o->addr.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
	    bind(fd, (const struct sockaddr *)&o->addr, o->addrlen) == -1 ||
	    listen(fd, 4096) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void srv_accept(int ep, int lfd)
{
	for (;;) {
		int one = 1;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event e = { .events = EPOLLIN };

		if (fd == -1)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		e.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1)
			close(fd);
	}
}

/* A request is whatever one read returns: requests are a few bytes and
 * the client sends one per connection. EOF or an error ends it. */
static void srv_serve(const struct srv_opts *o, int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0) {
		if (write(fd, o->resp, o->resp_len) == (ssize_t)o->resp_len)
			return;
	} else if (n == -1 && errno == EAGAIN) {
		return;
	}
	close(fd);
}

static void *srv_thread(void *arg)
{
	const struct srv_opts *o = arg;
	struct epoll_event ev[SRV_EVENTS];
	struct epoll_event e = { .events = EPOLLIN };
	int lfd = srv_listen(o);
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (lfd == -1 || ep == -1) {
		perror("connserver: listen");
		exit(1);
	}
	e.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e) == -1) {
		perror("connserver: epoll_ctl");
		exit(1);
	}
	for (;;) {
		int n = epoll_wait(ep, ev, SRV_EVENTS, -1);

		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == lfd)
				srv_accept(ep, lfd);
			else
				srv_serve(o, ev[i].data.fd);
		}
	}
	return NULL;
}

static int srv_parse(struct srv_opts *o, int argc, char **argv)
{
	long v;
	int c;

	o->threads = 2;
	o->resp_len = 64;
	while ((c = getopt(argc, argv, "t:r:")) != -1) {
		if (c == 't' && (v = bench_parse_num("connserver", optarg, "thread count", 1,
						   SRV_MAXTHREADS)) != -1)
			o->threads = (int)v;
		else if (c == 'r' && (v = bench_parse_num("connserver", optarg, "response size",
							1, 4096)) != -1)
			o->resp_len = (size_t)v;
		else
			return -1;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: connserver [-t THREADS] "
				"[-r RESPONSE_BYTES] ADDR PORT\n");
		return -1;
	}
	return bench_parse_addr("connserver", argv[optind], argv[optind + 1],
				&o->addr, &o->addrlen);
}

int main(int argc, char **argv)
{
	static struct srv_opts o;
	pthread_t tid[SRV_MAXTHREADS];
	sigset_t set;
	int sig;

	if (srv_parse(&o, argc, argv) == -1)
		return 2;
	o.resp = malloc(o.resp_len);
	if (!o.resp)
		return 1;
	memset(o.resp, 'r', o.resp_len);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < o.threads; i++)
		if (pthread_create(&tid[i], NULL, srv_thread, &o) != 0) {
			fprintf(stderr, "connserver: cannot start threads\n");
			return 1;
		}
	sigwait(&set, &sig);
	return 0;
}
