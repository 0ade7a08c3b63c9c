/* Argument parsing shared by the bench programs (bench/lib/). */
#ifndef NSEG_BENCH_ARGS_H
#define NSEG_BENCH_ARGS_H

#include <sys/socket.h>

/* HOST (IPv4 or IPv6 literal) and PORT into addr/len; -1 with a message
 * naming prog and the bad value. */
int bench_parse_addr(const char *prog, const char *host, const char *port,
		     struct sockaddr_storage *addr, socklen_t *len);
/* A decimal number from lo to hi; -1 with a message naming what. */
long bench_parse_num(const char *prog, const char *s, const char *what,
		     long lo, long hi);

#endif
