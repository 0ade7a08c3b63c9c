#include <check.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture_child.h"
#include "fixture_netns.h"

static int fixture_lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd == -1)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

int fixture_netns_enter(void)
{
	if (unshare(CLONE_NEWNET) == -1)
		return FIXTURE_SKIP;
	if (fixture_lo_up() == -1) {
		perror("lo up");
		return FIXTURE_LO_FAILED;
	}
	return 0;
}

int fixture_netns_nft(struct mnl_socket **nl)
{
	int rc = fixture_netns_enter();

	*nl = NULL;
	if (rc)
		return rc;
	*nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!*nl || mnl_socket_bind(*nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return FIXTURE_SKIP;
	return 0;
}

void fixture_netns_run(int (*fn)(void))
{
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root for a network namespace\n");
		return;
	}
	rc = fixture_child(fn);
	if (rc == FIXTURE_SKIP) {
		fprintf(stderr, "skipped: no network namespace or nftables "
				"here\n");
		return;
	}
	ck_assert_msg(rc == 0, "kernel child failed (%d), see stderr", rc);
}
