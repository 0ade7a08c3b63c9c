/*
 * Work inside a network namespace on a short-lived thread. setns() changes
 * only the calling thread, so a thread that enters the namespace, runs one
 * function and exits leaves the daemon's main thread where it was: nothing
 * can strand the event loop in a container's namespace. Anything created
 * there that is bound to its netns at creation (sockets, libpcap handles)
 * stays bound to it after the thread is gone.
 *
 * netns_run() (enforcer/netns.c) does the same on the calling thread, for
 * opening one socket; use this for work that runs library code (libpcap)
 * whose failure paths we do not control.
 */
#ifndef NSEG_NSTHREAD_H
#define NSEG_NSTHREAD_H

/*
 * Checks that nsfd is an open network namespace fd. Returns NULL when it
 * is, else a static string saying what it is instead ("not an open file
 * descriptor", "not a namespace", "a namespace, but not a network
 * namespace").
 */
const char *nsthread_check(int nsfd);

/*
 * Runs fn(arg) on a new thread inside nsfd's network namespace, waits for
 * it and returns fn's result with fn's errno. Returns -1 without calling
 * fn when nsfd is not a network namespace (errno EBADF or EINVAL), the
 * thread cannot start or setns() fails. The thread runs with every signal
 * blocked.
 */
int nsthread_run(int nsfd, int (*fn)(void *arg), void *arg);

#endif
