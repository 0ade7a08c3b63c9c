#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_args.h"

int bench_parse_addr(const char *prog, const char *host, const char *port,
		     struct sockaddr_storage *addr, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	if (end == port || *end || p == 0 || p > 65535) {
		fprintf(stderr, "%s: bad port '%s' (1-65535)\n", prog, port);
		return -1;
	}
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
	} else {
		fprintf(stderr, "%s: bad address '%s'\n", prog, host);
		return -1;
	}
	return 0;
}

long bench_parse_num(const char *prog, const char *s, const char *what,
		     long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: bad %s '%s' (%ld-%ld)\n", prog, what, s,
			lo, hi);
		return -1;
	}
	return v;
}
