/*
 * Kernel tests run in a forked child (it unshare()s a network namespace of
 * its own and tears it down by exiting): the fork, wait and exit status
 * they share.
 */
#ifndef NSEG_TEST_FIXTURE_CHILD_H
#define NSEG_TEST_FIXTURE_CHILD_H

/* Runs fn in a child process and returns its exit status (fn's return
 * value), or -1 when it died of a signal; fails the test if fork() or
 * waitpid() does. */
int fixture_child(int (*fn)(void));

#endif
