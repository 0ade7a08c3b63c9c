/*
 * A UDP server that answers every datagram with "pong\n" from the same
 * socket, in one process (socat's UDP fork mode races under a queue).
 *   udpecho PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: udpecho PORT\n");
		return 2;
	}
	sa.sin6_port = htons((uint16_t)atoi(argv[1]));
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		perror("udpecho");
		return 1;
	}
	for (;;) {
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);
		char buf[2048];

		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &len) < 0)
			continue;
		if (sendto(fd, "pong\n", 5, 0, (struct sockaddr *)&from, len) < 0)
			perror("udpecho: sendto");
	}
}
