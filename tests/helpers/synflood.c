/*
 * Opens TCP connections to ADDR:PORT as fast as it can for SECONDS,
 * never waiting for them (non-blocking connect, the oldest of 256 open
 * attempts closed to make room): a scan or a compromised process. Prints
 * how many attempts it made. With RATE, at most RATE attempts a second
 * (on a 2-core test machine an unthrottled flooder measures CPU
 * contention, not the daemon).
 *   synflood ADDR PORT SECONDS [RATE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SYNFLOOD_OPEN 256

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fds[SYNFLOOD_OPEN];
	unsigned long n = 0;
	struct timespec t0, t;
	double secs;

	double rate = argc == 5 ? atof(argv[4]) : 0;

	if (argc < 4 || argc > 5 ||
	    inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: synflood ADDR PORT SECONDS [RATE]\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	secs = atof(argv[3]);
	for (int i = 0; i < SYNFLOOD_OPEN; i++)
		fds[i] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int slot = (int)(n % SYNFLOOD_OPEN);

		if ((n & 63) == 0) {
			double el;

			clock_gettime(CLOCK_MONOTONIC, &t);
			el = (double)(t.tv_sec - t0.tv_sec) +
			     (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
			if (el >= secs)
				break;
			/* Ahead of the rate: wait until it catches up. */
			if (rate > 0 && (double)n > el * rate) {
				usleep((useconds_t)(((double)n / rate - el) * 1e6));
				continue;
			}
		}
		if (fds[slot] != -1)
			close(fds[slot]);
		fds[slot] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[slot] == -1)
			continue;
		if (connect(fds[slot], (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
		    errno != EINPROGRESS)
			perror("synflood: connect");
		n++;
	}
	printf("%lu\n", n);
	return 0;
}
