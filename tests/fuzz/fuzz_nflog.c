/*
 * libFuzzer target for the NFLOG message parser. Beyond "no crash", it
 * checks what the capture writer relies on: every packet handed over has
 * bytes, lies inside the datagram, is no longer than its stated length,
 * and its prefix, if any, ends inside the datagram.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/nflog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_span {
	const uint8_t *lo, *hi;
};

static void fuzz_cb(const struct nflog_packet *p, void *arg)
{
	const struct fuzz_span *s = arg;

	if (p->caplen == 0 || p->len < p->caplen || p->payload < s->lo ||
	    p->payload + p->caplen > s->hi)
		abort();
	if (p->prefix &&
	    ((const uint8_t *)p->prefix < s->lo ||
	     memchr(p->prefix, '\0',
		    (size_t)(s->hi - (const uint8_t *)p->prefix)) == NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Netlink datagrams are aligned; the fuzzer's input may not be. */
	uint8_t *buf = malloc(size ? size : 1);
	struct fuzz_span s = {buf, buf + size};
	struct nflog_parser ps = {.group = 4200, .cb = fuzz_cb, .arg = &s};
	int n;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	n = nflog_parse(&ps, buf, size);
	if (n < 0 || (uint64_t)n != ps.stats.packets)
		abort();
	free(buf);
	return 0;
}
