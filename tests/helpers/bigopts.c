/*
 * Sends one UDP datagram over IPv6 whose destination-options header is
 * 512 bytes long, then waits for one reply: a packet whose transport
 * header lies beyond the queue's copy range, so the daemon sees a
 * truncated packet it cannot parse.
 *   bigopts ADDR6 PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	uint8_t opts[512];
	struct pollfd pfd;
	char buf[64];
	ssize_t n;
	int fd;

	if (argc != 3 || inet_pton(AF_INET6, argv[1], &sa.sin6_addr) != 1) {
		fprintf(stderr, "usage: bigopts ADDR6 PORT\n");
		return 2;
	}
	sa.sin6_port = htons((uint16_t)atoi(argv[2]));
	/* next header (filled by the kernel), length in 8-byte units minus
	 * one, then two options of 255 bytes each (2 + 255 + 255) of the
	 * experimental type 0x1e, whose top bits say "skip if unknown" (long
	 * PadN runs are dropped by Linux). */
	memset(opts, 0, sizeof(opts));
	opts[1] = sizeof(opts) / 8 - 1;
	opts[2] = 0x1e;
	opts[3] = 253;
	opts[257] = 0x1e;
	opts[258] = 253;
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd == -1 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, opts, sizeof(opts)) ||
	    sendto(fd, "ping\n", 5, 0, (struct sockaddr *)&sa, sizeof(sa)) != 5) {
		perror("bigopts");
		return 1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) != 1)
		return 1;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	fputs(buf, stdout);
	return 0;
}
