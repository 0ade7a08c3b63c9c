/*
 * Network namespaces by handle. nftables, NFQUEUE, sock_diag and rtnetlink
 * sockets are bound to the netns they were created in, so the daemon
 * enters a namespace only for the instant it takes to open a socket there
 * (setns, socket, setns back) and serves every socket from one loop.
 *
 * The daemon is single-threaded: setns() changes the calling thread only.
 */
#ifndef NSEG_NETNS_H
#define NSEG_NETNS_H

#include <stdint.h>
#include <sys/types.h>

struct mnl_socket;

/* Netlink receive buffer: holds the largest message a dump sends (the
 * kernel caps dump skbs at 32 KiB). libmnl's own constant is a sysconf()
 * call, unusable for static arrays. */
#define NSEG_NL_BUFSZ 32768

/* Opens the daemon's own netns as the place to return to. Call once at
 * start-up before any other netns_ function. */
int netns_init(void);
void netns_shutdown(void);

/* Opens /run/netns/NAME (or another dir for tests). Returns an O_CLOEXEC
 * fd owned by the caller, or -1 (errno EINVAL when the file exists but is
 * not a namespace yet, as during `ip netns add`). */
int netns_open_name(const char *dir, const char *name);
/* Opens /proc/PID/ns/net. */
int netns_open_pid(pid_t pid);
/* The namespace's inode number (its identity), 0 on error. */
uint64_t netns_inode(int nsfd);
/* Inode of the daemon's own netns. */
uint64_t netns_self_inode(void);

/* Opens a socket / libmnl netlink socket (bound, autopid) inside nsfd's
 * namespace. Caller owns the result. */
int netns_socket(int nsfd, int domain, int type, int protocol);
struct mnl_socket *netns_mnl_open(int nsfd, int bus);

/* Runs fn(arg) inside nsfd's namespace, on a short-lived thread, and
 * returns its result, or -1 if the namespace could not be entered. fn
 * reads the namespace's /proc/net as /proc/thread-self/net. */
int netns_run(int nsfd, int (*fn)(void *arg), void *arg);

#endif
