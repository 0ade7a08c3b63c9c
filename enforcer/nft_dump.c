#include <errno.h>
#include <poll.h>

#include "nseg/netns.h"
#include "nseg/nft_dump.h"

/* Replies a dump left behind (one that timed out) must not be read as
 * this one's. */
static void nft_dump_drain(struct mnl_socket *nl, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

	while (poll(&pfd, 1, 0) == 1 && mnl_socket_recvfrom(nl, buf, len) > 0)
		;
}

int nft_dump(struct mnl_socket *nl, const struct nlmsghdr *req, mnl_cb_t cb,
	     void *data)
{
	char buf[NSEG_NL_BUFSZ];
	uint32_t portid = mnl_socket_get_portid(nl);
	int rc;

	nft_dump_drain(nl, buf, sizeof(buf));
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -1;
	do {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl),
				      .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, NFT_DUMP_POLL_MS) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -1;
		rc = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid, cb,
				data);
	} while (rc > 0);
	return rc < 0 ? -1 : 0;
}
