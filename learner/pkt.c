#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/pkt.h"

#define PKT_V4_HDR 20
#define PKT_V6_HDR 40
#define PKT_TCP_HDR 20
#define PKT_UDP_HDR 8
#define PKT_ICMP_HDR 4
#define PKT_FRAG_HDR 8

/* Bytes of the packet that are really there: buf[off..end). */
struct pkt_cursor {
	const uint8_t *buf;
	size_t off;
	size_t end;
};

static const char *const pkt_bad_version[16] = {
	"unsupported IP version 0",  "unsupported IP version 1",
	"unsupported IP version 2",  "unsupported IP version 3",
	"unsupported IP version 4",  "unsupported IP version 5",
	"unsupported IP version 6",  "unsupported IP version 7",
	"unsupported IP version 8",  "unsupported IP version 9",
	"unsupported IP version 10", "unsupported IP version 11",
	"unsupported IP version 12", "unsupported IP version 13",
	"unsupported IP version 14", "unsupported IP version 15",
};

static uint16_t pkt_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t pkt_avail(const struct pkt_cursor *c)
{
	return c->end > c->off ? c->end - c->off : 0;
}

static int pkt_parse_tcp(struct pkt_cursor *c, struct nseg_pkt *out,
			 const char **why)
{
	const uint8_t *h = c->buf + c->off;

	if (pkt_avail(c) < PKT_TCP_HDR) {
		*why = "truncated TCP header";
		return -1;
	}
	if ((h[12] >> 4) < 5) {
		*why = "bad TCP data offset";
		return -1;
	}
	out->sport = pkt_be16(h);
	out->dport = pkt_be16(h + 2);
	out->tcp_flags = h[13];
	return 0;
}

static int pkt_parse_udp(struct pkt_cursor *c, struct nseg_pkt *out,
			 const char **why)
{
	const uint8_t *h = c->buf + c->off;

	if (pkt_avail(c) < PKT_UDP_HDR) {
		*why = "truncated UDP header";
		return -1;
	}
	out->sport = pkt_be16(h);
	out->dport = pkt_be16(h + 2);
	return 0;
}

static int pkt_parse_icmp(struct pkt_cursor *c, struct nseg_pkt *out,
			  const char **why)
{
	const uint8_t *h = c->buf + c->off;

	if (pkt_avail(c) < PKT_ICMP_HDR) {
		*why = out->proto == IPPROTO_ICMP ? "truncated ICMP header" :
						    "truncated ICMPv6 header";
		return -1;
	}
	out->icmp_type = h[0];
	out->icmp_code = h[1];
	/* Echo messages carry an identifier: a ping socket's local "port". */
	if (pkt_avail(c) >= 8)
		out->icmp_id = pkt_be16(h + 4);
	return 0;
}

/* ICMP only counts in its own family: ICMPv6 inside IPv4 is "other". */
static int pkt_parse_l4(struct pkt_cursor *c, struct nseg_pkt *out,
			const char **why)
{
	switch (out->proto) {
	case IPPROTO_TCP:
		return pkt_parse_tcp(c, out, why);
	case IPPROTO_UDP:
		return pkt_parse_udp(c, out, why);
	case IPPROTO_ICMP:
		if (out->src.family == AF_INET)
			return pkt_parse_icmp(c, out, why);
		return 0;
	case IPPROTO_ICMPV6:
		if (out->src.family == AF_INET6)
			return pkt_parse_icmp(c, out, why);
		return 0;
	default:
		return 0;
	}
}

static int pkt_parse_v4(struct pkt_cursor *c, struct nseg_pkt *out,
			const char **why)
{
	const uint8_t *h = c->buf;
	size_t ihl, tot;

	if (c->end < PKT_V4_HDR) {
		*why = "truncated IPv4 header";
		return -1;
	}
	ihl = (size_t)(h[0] & 0x0f) * 4;
	if (ihl < PKT_V4_HDR) {
		*why = "bad IHL";
		return -1;
	}
	tot = pkt_be16(h + 2);
	if (tot != 0 && tot < ihl) {
		*why = "bad IPv4 total length";
		return -1;
	}
	if (ihl > c->end) {
		*why = "truncated IPv4 options";
		return -1;
	}
	if (tot != 0 && tot < c->end)
		c->end = tot;
	out->src.family = out->dst.family = AF_INET;
	memcpy(out->src.a, h + 12, 4);
	memcpy(out->dst.a, h + 16, 4);
	out->proto = h[9];
	c->off = ihl;
	if (pkt_be16(h + 6) & 0x1fff) {
		out->is_fragment = 1;
		return 0;
	}
	return pkt_parse_l4(c, out, why);
}

static int pkt_is_v6_ext(uint8_t proto)
{
	return proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING ||
	       proto == IPPROTO_DSTOPTS || proto == IPPROTO_AH ||
	       proto == IPPROTO_FRAGMENT;
}

/*
 * Steps over the IPv6 extension header at c->off, whose type is
 * out->proto, and sets out->proto to the next header. A non-first
 * fragment ends the walk: what follows is not a header.
 */
static int pkt_v6_ext(struct pkt_cursor *c, struct nseg_pkt *out,
		      const char **why)
{
	const uint8_t *h = c->buf + c->off;
	uint8_t cur = out->proto;
	size_t hlen;

	if (pkt_avail(c) < 2) {
		*why = "truncated IPv6 extension header";
		return -1;
	}
	if (cur == IPPROTO_FRAGMENT)
		hlen = PKT_FRAG_HDR;
	else if (cur == IPPROTO_AH)
		hlen = ((size_t)h[1] + 2) * 4;
	else
		hlen = ((size_t)h[1] + 1) * 8;
	if (pkt_avail(c) < hlen) {
		*why = "truncated IPv6 extension header";
		return -1;
	}
	out->proto = h[0];
	c->off += hlen;
	if (cur == IPPROTO_FRAGMENT && pkt_be16(h + 2) >> 3)
		out->is_fragment = 1;
	return 0;
}

static int pkt_parse_v6(struct pkt_cursor *c, struct nseg_pkt *out,
			const char **why)
{
	const uint8_t *h = c->buf;
	size_t plen;
	int n;

	if (c->end < PKT_V6_HDR) {
		*why = "truncated IPv6 header";
		return -1;
	}
	plen = pkt_be16(h + 4);
	if (plen != 0 && PKT_V6_HDR + plen < c->end)
		c->end = PKT_V6_HDR + plen;
	out->src.family = out->dst.family = AF_INET6;
	memcpy(out->src.a, h + 8, 16);
	memcpy(out->dst.a, h + 24, 16);
	out->proto = h[6];
	c->off = PKT_V6_HDR;
	for (n = 0; pkt_is_v6_ext(out->proto) && !out->is_fragment; n++) {
		if (n == PKT_MAX_EXT_HDRS) {
			*why = "too many IPv6 extension headers";
			return -1;
		}
		if (pkt_v6_ext(c, out, why) < 0)
			return -1;
	}
	if (out->is_fragment)
		return 0;
	return pkt_parse_l4(c, out, why);
}

int pkt_parse(const uint8_t *buf, size_t len, struct nseg_pkt *out,
	      const char **why)
{
	struct pkt_cursor c = { .buf = buf, .off = 0, .end = len };
	int r;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		*why = "empty packet";
		return -1;
	}
	switch (buf[0] >> 4) {
	case 4:
		r = pkt_parse_v4(&c, out, why);
		break;
	case 6:
		r = pkt_parse_v6(&c, out, why);
		break;
	default:
		*why = pkt_bad_version[buf[0] >> 4];
		r = -1;
		break;
	}
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

static size_t pkt_addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

int pkt_addr_to_str(const struct nseg_addr *a, char *buf, size_t len)
{
	if (pkt_addr_len(a->family) == 0)
		return -1;
	if (inet_ntop(a->family, a->a, buf, (socklen_t)len) == NULL)
		return -1;
	return 0;
}

int pkt_addr_parse(const char *s, struct nseg_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

int pkt_addr_eq(const struct nseg_addr *x, const struct nseg_addr *y)
{
	size_t n = pkt_addr_len(x->family);

	return x->family == y->family && n && memcmp(x->a, y->a, n) == 0;
}

int pkt_addr_is_loopback(const struct nseg_addr *a)
{
	static const uint8_t v6_loop[16] = { [15] = 1 };
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (a->family == AF_INET)
		return a->a[0] == 127;
	if (a->family != AF_INET6)
		return 0;
	if (memcmp(a->a, v6_loop, 16) == 0)
		return 1;
	return memcmp(a->a, v4_mapped, 12) == 0 && a->a[12] == 127;
}

/* Nonzero if any bit at or after position prefixlen is set. */
static int pkt_host_bits(const struct nseg_addr *a, unsigned prefixlen)
{
	size_t n = pkt_addr_len(a->family);

	for (size_t i = prefixlen / 8; i < n; i++) {
		uint8_t keep = 0;

		if (i == prefixlen / 8 && prefixlen % 8)
			keep = (uint8_t)(0xff << (8 - prefixlen % 8));
		if (a->a[i] & (uint8_t)~keep)
			return 1;
	}
	return 0;
}

static void pkt_clear_host_bits(struct nseg_addr *a, unsigned prefixlen)
{
	size_t n = pkt_addr_len(a->family);

	for (size_t i = prefixlen / 8; i < n; i++) {
		if (i == prefixlen / 8 && prefixlen % 8)
			a->a[i] &= (uint8_t)(0xff << (8 - prefixlen % 8));
		else
			a->a[i] = 0;
	}
}

static __thread char pkt_cidr_err[160];

static const char *pkt_cidr_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *pkt_cidr_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pkt_cidr_err, sizeof(pkt_cidr_err), fmt, ap);
	va_end(ap);
	return pkt_cidr_err;
}

/* Decimal 0..999 with no sign, no spaces, no leading zeros; -1 otherwise. */
static int pkt_prefix_num(const char *s)
{
	int v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int pkt_cidr_parse(const char *s, struct nseg_cidr *out, const char **why)
{
	char addr[PKT_ADDR_STRLEN], net[PKT_CIDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int plen, max;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr)) {
		*why = pkt_cidr_fail("bad address in '%.64s'", s);
		return -1;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (pkt_addr_parse(addr, &out->addr) < 0) {
		*why = pkt_cidr_fail("bad address '%.64s'", addr);
		return -1;
	}
	max = out->addr.family == AF_INET ? 32 : 128;
	plen = slash ? pkt_prefix_num(slash + 1) : max;
	if (plen < 0 || plen > max) {
		*why = pkt_cidr_fail("bad prefix length '%.16s'%s", slash + 1,
				     max == 32 ? " (IPv4: 0..32)" :
						 " (IPv6: 0..128)");
		goto fail;
	}
	out->prefixlen = (uint8_t)plen;
	if (pkt_host_bits(&out->addr, (unsigned)plen)) {
		pkt_clear_host_bits(&out->addr, (unsigned)plen);
		pkt_cidr_to_str(out, net, sizeof(net));
		*why = pkt_cidr_fail("host bits set in '%.64s' (network is %s)",
				     s, net);
		goto fail;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

int pkt_cidr_contains(const struct nseg_cidr *c, const struct nseg_addr *a)
{
	struct nseg_addr masked;

	if (c->addr.family != a->family || pkt_addr_len(a->family) == 0)
		return 0;
	if (c->prefixlen > pkt_addr_len(a->family) * 8)
		return 0;
	masked = *a;
	pkt_clear_host_bits(&masked, c->prefixlen);
	return memcmp(masked.a, c->addr.a, pkt_addr_len(a->family)) == 0;
}

int pkt_cidr_to_str(const struct nseg_cidr *c, char *buf, size_t len)
{
	char addr[PKT_ADDR_STRLEN];
	int n;

	if (pkt_addr_to_str(&c->addr, addr, sizeof(addr)) < 0)
		return -1;
	n = snprintf(buf, len, "%s/%u", addr, (unsigned)c->prefixlen);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}
