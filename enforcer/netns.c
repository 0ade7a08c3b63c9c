#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "nseg/log.h"
#include "nseg/netns.h"
#include "nseg/nsthread.h"

static int netns_home = -1;
static uint64_t netns_home_ino;

int netns_init(void)
{
	netns_home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns_home == -1)
		return -1;
	netns_home_ino = netns_inode(netns_home);
	return 0;
}

void netns_shutdown(void)
{
	if (netns_home != -1)
		close(netns_home);
	netns_home = -1;
}

/* A file under /run/netns is a plain empty file until `ip netns add` has
 * bind-mounted the namespace on it; only an nsfs inode is a namespace. */
static int netns_check_fd(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) == -1)
		return -1;
	if (sfs.f_type != NSFS_MAGIC) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int netns_open_name(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (netns_check_fd(fd) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int netns_open_pid(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

uint64_t netns_inode(int nsfd)
{
	struct stat st;

	if (fstat(nsfd, &st) == -1)
		return 0;
	return (uint64_t)st.st_ino;
}

uint64_t netns_self_inode(void)
{
	return netns_home_ino;
}

/*
 * On a thread of its own: the main thread never leaves the daemon's
 * namespace, so /proc/PID/ns/net always reads the host's. Were it to enter
 * a container's for a moment, `ip netns pids` (and lsns) would list nsegd
 * among that namespace's processes, and "kill everything in it before
 * deleting it" would kill nsegd.
 */
int netns_run(int nsfd, int (*fn)(void *arg), void *arg)
{
	return nsthread_run(nsfd, fn, arg);
}

struct netns_sock_args {
	int domain, type, protocol;
	struct mnl_socket *nl;
};

static int netns_socket_cb(void *arg)
{
	struct netns_sock_args *a = arg;

	return socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);
}

int netns_socket(int nsfd, int domain, int type, int protocol)
{
	struct netns_sock_args a = { domain, type, protocol, NULL };

	return netns_run(nsfd, netns_socket_cb, &a);
}

static int netns_mnl_cb(void *arg)
{
	struct netns_sock_args *a = arg;

	a->nl = mnl_socket_open2(a->protocol, SOCK_CLOEXEC);
	if (!a->nl)
		return -1;
	if (mnl_socket_bind(a->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int saved = errno;
		mnl_socket_close(a->nl);
		a->nl = NULL;
		errno = saved;
		return -1;
	}
	return 0;
}

struct mnl_socket *netns_mnl_open(int nsfd, int bus)
{
	struct netns_sock_args a = { 0, 0, bus, NULL };

	if (netns_run(nsfd, netns_mnl_cb, &a) == -1)
		return NULL;
	return a.nl;
}
