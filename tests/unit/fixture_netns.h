/*
 * Kernel tests in a network namespace of their own: entering one (with
 * lo up), and running a forked child that does and judging its status.
 */
#ifndef NSEG_TEST_FIXTURE_NETNS_H
#define NSEG_TEST_FIXTURE_NETNS_H

/* What a child returns when this machine cannot run it (no namespaces,
 * no nftables). */
#define FIXTURE_SKIP 77
/* ... and when its namespace's lo would not come up (a failure). */
#define FIXTURE_LO_FAILED 76

/* Moves the calling process into a new network namespace and brings its
 * lo up. Returns 0, FIXTURE_SKIP when namespaces cannot be made here, or
 * FIXTURE_LO_FAILED: a child returns what is not 0. */
int fixture_netns_enter(void);

/* fixture_netns_enter(), then a bound netfilter netlink socket there in
 * *nl (the caller closes it). Returns 0, or what a child returns
 * (FIXTURE_SKIP also without a netfilter netlink socket). */
struct mnl_socket;
int fixture_netns_nft(struct mnl_socket **nl);

/* Runs fn in a forked child (fixture_child) and fails the test unless it
 * returns 0. Not root, or fn returning FIXTURE_SKIP: the test is skipped,
 * with a line on stderr saying why. */
void fixture_netns_run(int (*fn)(void));

#endif
