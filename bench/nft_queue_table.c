/*
 * nft_queue_table: installs or removes, in the current network namespace,
 * exactly the table nsegd installs in learn mode with the default
 * configuration (enforcer/nft_table.c, rate limit included), so the floor
 * program is measured behind the same rules as the daemon.
 *
 *   ip netns exec NS nft_queue_table add QUEUE
 *   ip netns exec NS nft_queue_table del
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/config.h"
#include "nseg/log.h"
#include "nseg/nft_table.h"

static int qt_parse_queue(const char *s, uint16_t *num)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 65535) {
		fprintf(stderr, "nft_queue_table: bad queue number '%s' (0-65535)\n",
			s);
		return -1;
	}
	*num = (uint16_t)v;
	return 0;
}

static int qt_usage(void)
{
	fprintf(stderr, "usage: nft_queue_table add QUEUE | del\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct nft_table_opts o = {
		.fail_open = 1,
		.queue_rate = 0, /* as nsegd in the bench: no limit */
	};
	struct mnl_socket *nl = NULL;
	char err[512] = "";
	int add, rc = 1;

	log_init("nft_queue_table", 0, LOG_LVL_WARN);
	if (argc == 3 && !strcmp(argv[1], "add"))
		add = 1;
	else if (argc == 2 && !strcmp(argv[1], "del"))
		add = 0;
	else
		return qt_usage();
	if (add && qt_parse_queue(argv[2], &o.queue_num) == -1)
		return 2;
	if (add) {
		o.native_queue = nft_table_probe_native_queue();
		if (o.native_queue == -1) {
			fprintf(stderr, "nft_queue_table: probing the kernel's "
					"queue expression failed\n");
			return 1;
		}
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "nft_queue_table: netlink socket: %s\n",
			strerror(errno));
		goto out;
	}
	if ((add ? nft_table_apply(nl, &o, err, sizeof(err))
		 : nft_table_remove(nl, err, sizeof(err))) == -1) {
		fprintf(stderr, "nft_queue_table: %s: %s\n", argv[1], err);
		goto out;
	}
	rc = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	return rc;
}
