/*
 * A TCP server that binds, listens, then forks and lets the child serve
 * while the parent exits: the daemonising pattern whose listening socket
 * changes owner after it was bound. Used to test attribution.
 *   forkserver PORT PIDFILE
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	int one = 1, fd;
	pid_t pid;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: forkserver PORT PIDFILE\n");
		return 2;
	}
	sa.sin6_port = htons((uint16_t)atoi(argv[1]));
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 64) == -1) {
		perror("forkserver");
		return 1;
	}
	pid = fork();
	if (pid == -1)
		return 1;
	if (pid > 0) {
		f = fopen(argv[2], "w");
		if (!f)
			return 1;
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
		return 0;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c == -1)
			continue;
		if (write(c, "fs\n", 3) != 3)
			perror("forkserver: write");
		close(c);
	}
}
