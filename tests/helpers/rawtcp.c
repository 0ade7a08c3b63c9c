/*
 * rawtcp: writes TCP segments on a raw socket, as a process that wants to
 * carry data past a firewall without ever opening a connection would: a
 * payload, no SYN before it, no socket behind it.
 *
 *   rawtcp [-n COUNT] [-p SPORT] [-f FLAGS] [-c [-w SECONDS]] SRC DST DPORT PAYLOAD
 *
 * IPv4. Each segment has its own source port (SPORT, default 40000, and
 * up), so each is a flow conntrack has never seen. FLAGS are letters of
 * "fsrpau" (FIN SYN RST PSH ACK URG; default "pa") or "-" for none, which
 * conntrack calls invalid. With -c, a non-blocking connect() from each
 * segment's address and port to DST:DPORT comes first and stays open
 * SECONDS (default 3) after the segments were sent, while a firewall
 * judges them: a socket in SYN_SENT (its SYN blocked) behind each. Exits
 * 0 when all were sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RAWTCP_MAX_PAYLOAD 1024
#define RAWTCP_USAGE \
	"usage: rawtcp [-n COUNT] [-p SPORT] [-f FLAGS] [-c [-w SECONDS]] SRC DST DPORT PAYLOAD\n"

/* TCP header flag bits, in the order of their letters. */
static const char rawtcp_letters[] = "fsrpau";

static int rawtcp_flags(const char *s)
{
	int flags = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	for (; *s; s++) {
		const char *l = strchr(rawtcp_letters, *s);

		if (!l)
			return -1;
		flags |= 1 << (l - rawtcp_letters);
	}
	return flags;
}

static uint32_t rawtcp_sum(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static uint16_t rawtcp_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int rawtcp_send(int fd, const struct sockaddr_in *src,
		       const struct sockaddr_in *dst, uint16_t sport, int flags,
		       const char *payload)
{
	uint8_t seg[sizeof(struct tcphdr) + RAWTCP_MAX_PAYLOAD];
	struct tcphdr *th = (struct tcphdr *)seg;
	size_t plen = strlen(payload), len = sizeof(*th) + plen;
	uint8_t pseudo[12];
	uint32_t sum;

	memset(seg, 0, sizeof(*th));
	th->source = htons(sport);
	th->dest = dst->sin_port;
	th->seq = htonl(0x6e736567);
	th->ack_seq = htonl(0x01020304);
	th->doff = sizeof(*th) / 4;
	seg[13] = (uint8_t)flags;
	th->window = htons(65535);
	memcpy(seg + sizeof(*th), payload, plen);
	memcpy(pseudo, &src->sin_addr, 4);
	memcpy(pseudo + 4, &dst->sin_addr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = (uint8_t)(len >> 8);
	pseudo[11] = (uint8_t)len;
	sum = rawtcp_sum(rawtcp_sum(0, pseudo, sizeof(pseudo)), seg, len);
	th->check = rawtcp_fold(sum);
	if (sendto(fd, seg, len, 0, (const struct sockaddr *)dst, sizeof(*dst)) !=
	    (ssize_t)len) {
		fprintf(stderr, "rawtcp: sendto: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* A socket in SYN_SENT from src:sport to dst, or -1. */
static int rawtcp_half_open(const struct sockaddr_in *src, uint16_t sport,
			    const struct sockaddr_in *dst)
{
	struct sockaddr_in a = *src;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin_port = htons(sport);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&a, sizeof(a)) == -1 ||
	    (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) == -1 &&
	     errno != EINPROGRESS)) {
		fprintf(stderr, "rawtcp: connect from port %u: %s\n", sport,
			strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	long count = 1, sport = 40000, hold = 3, port;
	int c, fd, flags = 0x18, half_open = 0, held[10000];
	char *end = "";

	while ((c = getopt(argc, argv, "n:p:f:cw:")) != -1) {
		if (c == 'c')
			half_open = 1;
		else if (c == 'w')
			hold = strtol(optarg, &end, 10);
		else if (c == 'n')
			count = strtol(optarg, &end, 10);
		else if (c == 'p')
			sport = strtol(optarg, &end, 10);
		else if (c == 'f')
			flags = rawtcp_flags(optarg);
		if (c == '?' || *end || count < 1 || count > 10000 || sport < 1 ||
		    sport + count > 65536 || flags == -1 || hold < 0 || hold > 600) {
			fprintf(stderr, RAWTCP_USAGE);
			return 2;
		}
	}
	if (argc - optind != 4 || inet_pton(AF_INET, argv[optind], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[optind + 1], &dst.sin_addr) != 1 ||
	    (port = strtol(argv[optind + 2], &end, 10)) < 1 || port > 65535 ||
	    *end || strlen(argv[optind + 3]) > RAWTCP_MAX_PAYLOAD) {
		fprintf(stderr, RAWTCP_USAGE);
		return 2;
	}
	dst.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	if (fd == -1 || bind(fd, (const struct sockaddr *)&src, sizeof(src)) == -1) {
		fprintf(stderr, "rawtcp: raw socket: %s\n", strerror(errno));
		return 1;
	}
	for (long i = 0; half_open && i < count; i++)
		if ((held[i] = rawtcp_half_open(&src, (uint16_t)(sport + i), &dst)) == -1)
			return 1;
	for (long i = 0; i < count; i++)
		if (rawtcp_send(fd, &src, &dst, (uint16_t)(sport + i), flags,
				argv[optind + 3]) == -1)
			return 1;
	if (half_open)
		sleep((unsigned)hold);
	for (long i = 0; half_open && i < count; i++)
		close(held[i]);
	close(fd);
	return 0;
}
