/*
 * Attribution against the real kernel, in a private network namespace:
 * exact sock_diag lookups (TCP both ends, listener fallback, a socket
 * bound to a device, the listener behind a server-side TIME_WAIT, UDP's
 * swapped fields), and the
 * inode -> process cache, including a socket that changes owner and a
 * process that renames itself.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_netns.h"
#include "nseg/proc_cache.h"
#include "nseg/sockdiag.h"

static int diag_fd = -1;
static uint64_t netns_ino;

/* Each test runs in check's forked child: a namespace of its own. */
static void setup(void)
{
	struct stat st;
	int rc;

	if (geteuid() != 0 || (rc = fixture_netns_enter()) == FIXTURE_SKIP)
		return;
	ck_assert_int_eq(rc, 0);
	diag_fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG);
	ck_assert_int_ge(diag_fd, 0);
	ck_assert_int_eq(stat("/proc/self/ns/net", &st), 0);
	netns_ino = st.st_ino;
}

static uint64_t ino_of(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return st.st_ino;
}

static void addr4(struct nseg_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, s, a->a), 1);
}

static int bound(int type, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A listener on 127.0.0.1 (*l, *lport) and a client connected to it from
 * device dev (NULL: any); returns the client, its port in *cport. */
static int connected(const char *dev, int *l, uint16_t *lport, uint16_t *cport)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int c;

	*l = bound(SOCK_STREAM, lport);
	ck_assert_int_eq(listen(*l, 8), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (dev)
		ck_assert_int_eq(setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, dev,
					    (socklen_t)strlen(dev) + 1),
				 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(*lport);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(c, (struct sockaddr *)&sa, &len), 0);
	*cport = ntohs(sa.sin_port);
	return c;
}

START_TEST(test_tcp_lookup)
{
	struct nseg_addr lo, lo2;
	struct sockdiag_sock s;
	uint16_t lport, cport;
	int l, c;

	if (diag_fd == -1)
		return;
	c = connected(NULL, &l, &lport, &cport);
	addr4(&lo, "127.0.0.1");
	addr4(&lo2, "127.0.0.2");

	/* The client's own socket, by its exact 5-tuple. */
	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_TCP, &lo, cport, &lo,
					 lport, 0, &s), 0);
	ck_assert_uint_eq(s.inode, ino_of(c));
	/* An inbound SYN from a new peer finds the listener. */
	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_TCP, &lo, lport,
					 &lo2, 40000, 0, &s), 0);
	ck_assert_uint_eq(s.inode, ino_of(l));
	/* Nothing on that port. */
	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_TCP, &lo, 1, &lo2,
					 40000, 0, &s), -1);
	ck_assert_int_eq(errno, ENOENT);
	close(c);
	close(l);
}
END_TEST

/* A socket bound to a device is found only by the packet's interface:
 * the kernel's lookup matches its device, and 0 matches none. */
START_TEST(test_tcp_bound_device)
{
	unsigned lo_if = if_nametoindex("lo");
	struct nseg_addr lo;
	struct sockdiag_sock s;
	uint16_t lport, cport;
	int l, c;

	if (diag_fd == -1)
		return;
	ck_assert_uint_ne(lo_if, 0);
	c = connected("lo", &l, &lport, &cport);
	addr4(&lo, "127.0.0.1");

	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_TCP, &lo, cport, &lo,
					 lport, 0, &s), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_TCP, &lo, cport, &lo,
					 lport, lo_if, &s), 0);
	ck_assert_uint_eq(s.inode, ino_of(c));
	/* The unbound listener, by either. */
	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_TCP, &lo, lport, &lo,
					 40001, lo_if, &s), 0);
	ck_assert_uint_eq(s.inode, ino_of(l));
	close(c);
	close(l);
}
END_TEST

/* A connection the server closed first: its end stays in TIME_WAIT. */
static void server_time_wait(int l, uint16_t lport, uint16_t *cport)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct nseg_addr lo;
	struct sockdiag_sock s = { 0 };
	int c = socket(AF_INET, SOCK_STREAM, 0), a;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(lport);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(c, (struct sockaddr *)&sa, &len), 0);
	*cport = ntohs(sa.sin_port);
	a = accept(l, NULL, NULL);
	ck_assert_int_ge(a, 0);
	close(a);
	close(c);
	addr4(&lo, "127.0.0.1");
	for (int i = 0; i < 200 && s.state != 6; i++) {
		if (sockdiag_lookup(diag_fd, IPPROTO_TCP, &lo, lport, &lo,
				    *cport, 0, &s) == -1)
			s.state = 0;
		usleep(5000);
	}
	ck_assert_uint_eq(s.state, 6);
	ck_assert_uint_eq(s.inode, 0);
}

/* A new SYN reusing a TIME_WAIT 4-tuple (HTTP "Connection: close"
 * servers keep thousands) is the listener's, not a socket of no one. */
START_TEST(test_tcp_server_time_wait)
{
	struct nseg_addr lo, lo2;
	struct sockdiag_sock s;
	uint16_t lport, cport;
	int l;

	if (diag_fd == -1)
		return;
	l = bound(SOCK_STREAM, &lport);
	ck_assert_int_eq(listen(l, 8), 0);
	server_time_wait(l, lport, &cport);
	addr4(&lo, "127.0.0.1");
	addr4(&lo2, "127.0.0.2");
	ck_assert_int_eq(sockdiag_lookup_server(diag_fd, IPPROTO_TCP, &lo, lport,
						&lo, cport, 0, &s), 0);
	ck_assert_uint_eq(s.inode, ino_of(l));
	ck_assert_uint_eq(s.state, 10);
	/* Any other peer: the listener, as sockdiag_lookup finds it. */
	ck_assert_int_eq(sockdiag_lookup_server(diag_fd, IPPROTO_TCP, &lo, lport,
						&lo2, 40000, 0, &s), 0);
	ck_assert_uint_eq(s.inode, ino_of(l));
	/* The listener gone, the remnant is still no one's: nothing found. */
	close(l);
	ck_assert_int_eq(sockdiag_lookup_server(diag_fd, IPPROTO_TCP, &lo, lport,
						&lo, cport, 0, &s), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_udp_lookup)
{
	struct nseg_addr lo, remote;
	struct sockdiag_sock s;
	uint16_t port;
	int u;

	if (diag_fd == -1)
		return;
	u = bound(SOCK_DGRAM, &port);
	addr4(&lo, "127.0.0.1");
	addr4(&remote, "127.0.0.9");
	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_UDP, &lo, port,
					 &remote, 53, 0, &s), 0);
	ck_assert_uint_eq(s.inode, ino_of(u));
	close(u);
	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_UDP, &lo, port,
					 &remote, 53, 0, &s), -1);
}
END_TEST

START_TEST(test_unsupported)
{
	struct nseg_addr lo;
	struct sockdiag_sock s;

	if (diag_fd == -1)
		return;
	addr4(&lo, "127.0.0.1");
	ck_assert_int_eq(sockdiag_lookup(diag_fd, IPPROTO_ICMP, &lo, 0, &lo, 0, 0,
					 &s), -1);
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_proc_cache_self)
{
	struct proc_cache *pc = proc_cache_new("/proc");
	char exe[PATH_MAX];
	struct proc_info pi;
	uint16_t port;
	ssize_t n;
	int fd;

	if (diag_fd == -1)
		return;
	ck_assert_int_eq(proc_cache_rescan(pc), 0);
	fd = bound(SOCK_STREAM, &port);
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino, ino_of(fd), &pi), 0);
	ck_assert_int_eq(pi.pid, getpid());
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_str_eq(pi.id.exe, exe);
	ck_assert_str_eq(pi.id.comm, "test_attributio");
	/* Second time: from the cache. */
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino, ino_of(fd), &pi), 0);
	close(fd);
	/* A socket of another namespace is never matched here. */
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino + 1, 12345, &pi), -1);
	proc_cache_free(pc);
}
END_TEST

/* A process that renames itself (prctl(PR_SET_NAME)): with events live
 * the cached comm stays until the rename event, then the new name is
 * read, as a cache without events would read it at once. */
START_TEST(test_proc_cache_renamed)
{
	struct proc_cache *pc = proc_cache_new("/proc");
	struct proc_info pi;
	uint16_t port;
	int fd;

	if (diag_fd == -1)
		return;
	proc_cache_set_events_live(pc, _i);
	ck_assert_int_eq(proc_cache_rescan(pc), 0);
	fd = bound(SOCK_STREAM, &port);
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino, ino_of(fd), &pi), 0);
	ck_assert_str_eq(pi.id.comm, "test_attributio");
	ck_assert_int_eq(prctl(PR_SET_NAME, "renamed-worker"), 0);
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino, ino_of(fd), &pi), 0);
	ck_assert_str_eq(pi.id.comm, _i ? "test_attributio" : "renamed-worker");
	proc_cache_comm(pc, getpid());
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino, ino_of(fd), &pi), 0);
	ck_assert_int_eq(pi.pid, getpid());
	ck_assert_str_eq(pi.id.comm, "renamed-worker");
	/* A pid the cache does not know: nothing to forget. */
	proc_cache_comm(pc, 0);
	close(fd);
	proc_cache_free(pc);
}
END_TEST

/* A socket created by a child, then owned by nobody once it exits; with
 * and without process events (cached holders vs re-read fds). */
START_TEST(test_proc_cache_child)
{
	struct proc_cache *pc = proc_cache_new("/proc");
	int p[2], q[2], status;
	struct proc_info pi;
	char comm_before[NSEG_COMM_MAX];
	uint64_t ino;
	pid_t pid;
	char ok;

	if (diag_fd == -1)
		return;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	proc_cache_set_events_live(pc, _i);
	proc_cache_rescan(pc);
	pid = fork();
	if (pid == 0) {
		uint16_t port;
		int fd = bound(SOCK_DGRAM, &port);
		uint64_t i = ino_of(fd);

		if (write(p[1], &i, sizeof(i)) != sizeof(i))
			_exit(1);
		/* Wait until the parent has looked. */
		if (read(q[0], &ok, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &ino, sizeof(ino)), sizeof(ino));
	proc_cache_fork(pc, pid);
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino, ino, &pi), 0);
	ck_assert_int_eq(pi.pid, pid);
	/* Again: a cache hit. */
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino, ino, &pi), 0);
	ck_assert_int_eq(pi.pid, pid);
	snprintf(comm_before, sizeof(comm_before), "%s", pi.id.comm);
	ck_assert_str_ne(comm_before, "");
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	waitpid(pid, &status, 0);
	proc_cache_exit(pc, pid);
	ck_assert_int_eq(proc_cache_find_socket(pc, netns_ino, ino, &pi), -1);
	/* Gone, but still named as it was for packets it sent just before. */
	{
		struct proc_info gone;

		ck_assert_int_eq(proc_cache_info(pc, pid, &gone), -1);
		ck_assert_int_eq(proc_cache_info_recent(pc, pid, &gone), 0);
		ck_assert_int_eq(gone.pid, pid);
		ck_assert_str_eq(gone.id.comm, comm_before);
		ck_assert_int_eq(proc_cache_info_recent(pc, pid + 100000, &gone), -1);
	}
	proc_cache_free(pc);
}
END_TEST

static Suite *attribution_suite(void)
{
	Suite *s = suite_create("attribution");
	TCase *tc = tcase_create("kernel");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_tcp_lookup);
	tcase_add_test(tc, test_tcp_bound_device);
	tcase_add_test(tc, test_tcp_server_time_wait);
	tcase_add_test(tc, test_udp_lookup);
	tcase_add_test(tc, test_unsupported);
	tcase_add_test(tc, test_proc_cache_self);
	tcase_add_loop_test(tc, test_proc_cache_child, 0, 2);
	tcase_add_loop_test(tc, test_proc_cache_renamed, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(attribution_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
