/*
 * libFuzzer target for the NFQUEUE packet parser and the address/CIDR
 * text parsers. Beyond "no crash", it checks the invariants callers rely
 * on: a failed parse leaves *out zeroed with a reason, ports only for
 * TCP/UDP, and every address or CIDR printed parses back to itself.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_addr_roundtrip(const struct nseg_addr *a)
{
	char s[PKT_ADDR_STRLEN];
	struct nseg_addr b;

	if (pkt_addr_to_str(a, s, sizeof(s)) < 0 || pkt_addr_parse(s, &b) < 0 ||
	    !pkt_addr_eq(a, &b))
		abort();
}

static void fuzz_packet(const uint8_t *data, size_t size)
{
	static const struct nseg_pkt zero;
	struct nseg_pkt p;
	const char *why = NULL;

	if (pkt_parse(data, size, &p, &why) < 0) {
		if (why == NULL || memcmp(&p, &zero, sizeof(p)) != 0)
			abort();
		return;
	}
	if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP &&
	    (p.sport || p.dport))
		abort();
	if (p.is_fragment && (p.sport || p.dport || p.tcp_flags))
		abort();
	fuzz_addr_roundtrip(&p.src);
	fuzz_addr_roundtrip(&p.dst);
}

static void fuzz_cidr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[PKT_CIDR_STRLEN];
	struct nseg_cidr c, d;
	const char *why = NULL;

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pkt_cidr_parse(s, &c, &why) < 0) {
		if (why == NULL)
			abort();
		goto out;
	}
	if (!pkt_cidr_contains(&c, &c.addr))
		abort();
	if (pkt_cidr_to_str(&c, out, sizeof(out)) < 0 ||
	    pkt_cidr_parse(out, &d, &why) < 0 || d.prefixlen != c.prefixlen ||
	    !pkt_addr_eq(&c.addr, &d.addr))
		abort();
out:
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_packet(data, size);
	fuzz_cidr(data, size);
	return 0;
}
