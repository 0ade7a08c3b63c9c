#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nseg/icmp_socks.h"

int icmp_socks_parse_line(const char *line, unsigned *port, uint64_t *inode)
{
	unsigned long long ino;
	char local[64];
	unsigned sl;
	char *colon;

	/* sl local rem st tx:rx tr:when retr uid timeout inode */
	if (sscanf(line, " %u: %63s %*s %*s %*s %*s %*s %*u %*u %llu", &sl,
		   local, &ino) != 3)
		return -1;
	colon = strrchr(local, ':');
	if (!colon || sscanf(colon + 1, "%x", port) != 1)
		return -1;
	*inode = ino;
	return 0;
}

static size_t icmp_socks_scan(const char *path, unsigned want_port,
			      uint64_t *inodes, size_t n, size_t max)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return n;
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned port;
		uint64_t ino;

		if (icmp_socks_parse_line(line, &port, &ino) == 0 &&
		    port == want_port && ino != 0)
			inodes[n++] = ino;
	}
	fclose(f);
	return n;
}

size_t icmp_socks_candidates(const char *proc_net_dir, int family,
			     uint16_t echo_id, uint64_t *inodes, size_t max)
{
	int v6 = family == AF_INET6;
	char path[256];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", proc_net_dir, v6 ? "icmp6" : "icmp");
	n = icmp_socks_scan(path, echo_id, inodes, n, max);
	snprintf(path, sizeof(path), "%s/%s", proc_net_dir, v6 ? "raw6" : "raw");
	return icmp_socks_scan(path, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
			       inodes, n, max);
}
