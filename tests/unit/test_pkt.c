#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/pkt.h"

#define SRC4 "10.0.0.1"
#define DST4 "10.0.0.2"
#define SRC6 "fd00::1"
#define DST6 "2001:db8::2"

/* Packet builders: each writes at b and returns the bytes written. */

static size_t put_tcp(uint8_t *b, uint16_t sp, uint16_t dp, uint8_t flags)
{
	memset(b, 0, 20);
	b[0] = sp >> 8, b[1] = sp & 0xff;
	b[2] = dp >> 8, b[3] = dp & 0xff;
	b[12] = 5 << 4;
	b[13] = flags;
	return 20;
}

static size_t put_udp(uint8_t *b, uint16_t sp, uint16_t dp)
{
	memset(b, 0, 8);
	b[0] = sp >> 8, b[1] = sp & 0xff;
	b[2] = dp >> 8, b[3] = dp & 0xff;
	b[5] = 8;
	return 8;
}

static size_t put_icmp(uint8_t *b, uint8_t type, uint8_t code)
{
	memset(b, 0, 8);
	b[0] = type;
	b[1] = code;
	return 8;
}

/* Generic IPv6 extension header of 8 * (1 + extra) bytes. */
static size_t put_ext(uint8_t *b, uint8_t next, uint8_t extra)
{
	memset(b, 0, 8 * (1 + extra));
	b[0] = next;
	b[1] = extra;
	return 8 * (1 + (size_t)extra);
}

static size_t put_frag6(uint8_t *b, uint8_t next, uint16_t off, int more)
{
	uint16_t v = (uint16_t)(off << 3 | (more ? 1 : 0));

	memset(b, 0, 8);
	b[0] = next;
	b[2] = v >> 8, b[3] = v & 0xff;
	return 8;
}

/* AH with a 12-byte ICV: payload length (2 + 3 + 1) - 2 words. */
static size_t put_ah(uint8_t *b, uint8_t next)
{
	memset(b, 0, 24);
	b[0] = next;
	b[1] = 4;
	return 24;
}

/* IPv4 header with ihl 32-bit words; total length covers l4len. */
static size_t put_v4(uint8_t *b, uint8_t proto, unsigned ihl, size_t l4len,
		     uint16_t frag)
{
	size_t tot = ihl * 4 + l4len;

	memset(b, 0, ihl * 4);
	b[0] = (uint8_t)(0x40 | ihl);
	b[2] = (uint8_t)(tot >> 8), b[3] = tot & 0xff;
	b[6] = frag >> 8, b[7] = frag & 0xff;
	b[8] = 64;
	b[9] = proto;
	inet_pton(AF_INET, SRC4, b + 12);
	inet_pton(AF_INET, DST4, b + 16);
	return ihl * 4;
}

static size_t put_v6(uint8_t *b, uint8_t next, size_t payload)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	b[4] = (uint8_t)(payload >> 8), b[5] = payload & 0xff;
	b[6] = next;
	b[7] = 64;
	inet_pton(AF_INET6, SRC6, b + 8);
	inet_pton(AF_INET6, DST6, b + 24);
	return 40;
}

struct pkt_case {
	const char *name;
	uint8_t buf[256];
	size_t len;
	size_t need; /* shortest prefix that parses */
	int family;
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code, tcp_flags, is_fragment;
};

static struct pkt_case cases[32];
static size_t ncases;

static struct pkt_case *new_case(const char *name, int family)
{
	struct pkt_case *c;

	if (ncases == sizeof(cases) / sizeof(cases[0]))
		abort();
	c = &cases[ncases++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->family = family;
	return c;
}

static void build_v4_cases(void)
{
	struct pkt_case *c;
	size_t h;

	c = new_case("v4 tcp syn", AF_INET);
	h = put_v4(c->buf, IPPROTO_TCP, 5, 20, 0x4000);
	c->len = h + put_tcp(c->buf + h, 40000, 80, 0x02);
	c->need = c->len, c->proto = IPPROTO_TCP;
	c->sport = 40000, c->dport = 80, c->tcp_flags = 0x02;

	c = new_case("v4 udp dns", AF_INET);
	h = put_v4(c->buf, IPPROTO_UDP, 5, 8, 0);
	c->len = h + put_udp(c->buf + h, 5353, 53);
	c->need = c->len, c->proto = IPPROTO_UDP;
	c->sport = 5353, c->dport = 53;

	c = new_case("v4 icmp echo", AF_INET);
	h = put_v4(c->buf, IPPROTO_ICMP, 5, 8, 0);
	c->len = h + put_icmp(c->buf + h, 8, 0);
	c->need = h + 4, c->proto = IPPROTO_ICMP, c->icmp_type = 8;

	c = new_case("v4 options + tcp", AF_INET);
	h = put_v4(c->buf, IPPROTO_TCP, 7, 20, 0);
	c->len = h + put_tcp(c->buf + h, 1, 65535, 0x12);
	c->need = c->len, c->proto = IPPROTO_TCP;
	c->sport = 1, c->dport = 65535, c->tcp_flags = 0x12;

	c = new_case("v4 first fragment (MF)", AF_INET);
	h = put_v4(c->buf, IPPROTO_UDP, 5, 8, 0x2000);
	c->len = h + put_udp(c->buf + h, 1000, 2000);
	c->need = c->len, c->proto = IPPROTO_UDP, c->sport = 1000;
	c->dport = 2000;

	c = new_case("v4 non-first fragment", AF_INET);
	h = put_v4(c->buf, IPPROTO_UDP, 5, 8, 185);
	c->len = h + 8;
	memset(c->buf + h, 0xff, 8);
	c->need = h, c->proto = IPPROTO_UDP, c->is_fragment = 1;

	c = new_case("v4 gre (no ports)", AF_INET);
	h = put_v4(c->buf, IPPROTO_GRE, 5, 4, 0);
	c->len = h + 4;
	memset(c->buf + h, 0xff, 4);
	c->need = h, c->proto = IPPROTO_GRE;

	c = new_case("v4 icmpv6 proto is just 'other'", AF_INET);
	h = put_v4(c->buf, IPPROTO_ICMPV6, 5, 8, 0);
	c->len = h + put_icmp(c->buf + h, 128, 0);
	c->need = h, c->proto = IPPROTO_ICMPV6;
}

static void build_v6_cases(void)
{
	struct pkt_case *c;
	size_t n;

	c = new_case("v6 tcp syn", AF_INET6);
	n = put_v6(c->buf, IPPROTO_TCP, 20);
	c->len = n + put_tcp(c->buf + n, 50000, 443, 0x02);
	c->need = c->len, c->proto = IPPROTO_TCP;
	c->sport = 50000, c->dport = 443, c->tcp_flags = 0x02;

	c = new_case("v6 udp", AF_INET6);
	n = put_v6(c->buf, IPPROTO_UDP, 8);
	c->len = n + put_udp(c->buf + n, 123, 123);
	c->need = c->len, c->proto = IPPROTO_UDP;
	c->sport = 123, c->dport = 123;

	c = new_case("v6 icmpv6 echo", AF_INET6);
	n = put_v6(c->buf, IPPROTO_ICMPV6, 8);
	c->len = n + put_icmp(c->buf + n, 128, 0);
	c->need = n + 4, c->proto = IPPROTO_ICMPV6, c->icmp_type = 128;

	c = new_case("v6 hbh+dst+routing+tcp", AF_INET6);
	n = put_v6(c->buf, IPPROTO_HOPOPTS, 8 + 16 + 24 + 20);
	n += put_ext(c->buf + n, IPPROTO_DSTOPTS, 0);
	n += put_ext(c->buf + n, IPPROTO_ROUTING, 1);
	n += put_ext(c->buf + n, IPPROTO_TCP, 2);
	c->len = n + put_tcp(c->buf + n, 2222, 22, 0x02);
	c->need = c->len, c->proto = IPPROTO_TCP;
	c->sport = 2222, c->dport = 22, c->tcp_flags = 0x02;

	c = new_case("v6 ah+udp", AF_INET6);
	n = put_v6(c->buf, IPPROTO_AH, 24 + 8);
	n += put_ah(c->buf + n, IPPROTO_UDP);
	c->len = n + put_udp(c->buf + n, 500, 4500);
	c->need = c->len, c->proto = IPPROTO_UDP;
	c->sport = 500, c->dport = 4500;

	c = new_case("v6 first fragment", AF_INET6);
	n = put_v6(c->buf, IPPROTO_FRAGMENT, 8 + 8);
	n += put_frag6(c->buf + n, IPPROTO_UDP, 0, 1);
	c->len = n + put_udp(c->buf + n, 7, 9);
	c->need = c->len, c->proto = IPPROTO_UDP, c->sport = 7, c->dport = 9;

	c = new_case("v6 non-first fragment", AF_INET6);
	n = put_v6(c->buf, IPPROTO_FRAGMENT, 8 + 8);
	n += put_frag6(c->buf + n, IPPROTO_TCP, 181, 0);
	c->len = n + 8;
	memset(c->buf + n, 0xff, 8);
	c->need = n, c->proto = IPPROTO_TCP, c->is_fragment = 1;

	c = new_case("v6 esp", AF_INET6);
	n = put_v6(c->buf, IPPROTO_DSTOPTS, 8 + 16);
	n += put_ext(c->buf + n, IPPROTO_ESP, 0);
	c->len = n + 16;
	memset(c->buf + n, 0xab, 16);
	c->need = n, c->proto = IPPROTO_ESP;

	c = new_case("v6 no next header", AF_INET6);
	n = put_v6(c->buf, IPPROTO_NONE, 0);
	c->len = n;
	c->need = n, c->proto = IPPROTO_NONE;

	c = new_case("v6 eight ext headers (the bound)", AF_INET6);
	n = put_v6(c->buf, IPPROTO_DSTOPTS, 8 * 8 + 8);
	for (int i = 0; i < 7; i++)
		n += put_ext(c->buf + n, IPPROTO_DSTOPTS, 0);
	n += put_ext(c->buf + n, IPPROTO_UDP, 0);
	c->len = n + put_udp(c->buf + n, 1, 2);
	c->need = c->len, c->proto = IPPROTO_UDP, c->sport = 1, c->dport = 2;
}

static void build_cases(void)
{
	ncases = 0;
	build_v4_cases();
	build_v6_cases();
}

static void check_result(const struct pkt_case *c, const struct nseg_pkt *p,
			 size_t len)
{
	int v4 = c->family == AF_INET;
	struct nseg_addr src, dst;

	ck_assert_int_eq(pkt_addr_parse(v4 ? SRC4 : SRC6, &src), 0);
	ck_assert_int_eq(pkt_addr_parse(v4 ? DST4 : DST6, &dst), 0);
	ck_assert_msg(pkt_addr_eq(&p->src, &src), "%s/%zu: src", c->name, len);
	ck_assert_msg(pkt_addr_eq(&p->dst, &dst), "%s/%zu: dst", c->name, len);
	ck_assert_msg(p->proto == c->proto, "%s/%zu: proto %u, want %u",
		      c->name, len, p->proto, c->proto);
	ck_assert_msg(p->sport == c->sport && p->dport == c->dport,
		      "%s/%zu: ports %u->%u, want %u->%u", c->name, len,
		      p->sport, p->dport, c->sport, c->dport);
	ck_assert_msg(p->icmp_type == c->icmp_type &&
			      p->icmp_code == c->icmp_code,
		      "%s/%zu: icmp", c->name, len);
	ck_assert_msg(p->tcp_flags == c->tcp_flags, "%s/%zu: flags %#x",
		      c->name, len, p->tcp_flags);
	ck_assert_msg(p->is_fragment == c->is_fragment, "%s/%zu: fragment",
		      c->name, len);
}

START_TEST(test_parse_valid)
{
	const struct pkt_case *c;
	struct nseg_pkt p;
	const char *why = NULL;

	build_cases();
	if (_i >= (int)ncases)
		return;
	c = &cases[_i];
	ck_assert_msg(pkt_parse(c->buf, c->len, &p, &why) == 0, "%s: %s",
		      c->name, why);
	check_result(c, &p, c->len);
}
END_TEST

/* Every prefix: an error below `need`, the same answer from it on. The
 * prefix is copied into an exact-size heap block so ASan sees overreads. */
START_TEST(test_parse_truncations)
{
	const struct pkt_case *c;
	struct nseg_pkt p;
	const char *why;

	build_cases();
	if (_i >= (int)ncases)
		return;
	c = &cases[_i];
	for (size_t len = 0; len <= c->len; len++) {
		uint8_t *b = malloc(len ? len : 1);
		int r;

		ck_assert_ptr_nonnull(b);
		memcpy(b, c->buf, len);
		why = NULL;
		r = pkt_parse(b, len, &p, &why);
		free(b);
		if (len < c->need) {
			ck_assert_msg(r == -1, "%s: %zu of %zu bytes parsed",
				      c->name, len, c->len);
			ck_assert_ptr_nonnull(why);
			ck_assert_msg(p.proto == 0 && p.sport == 0,
				      "%s/%zu: out not cleared", c->name, len);
		} else {
			ck_assert_msg(r == 0, "%s/%zu: %s", c->name, len, why);
			check_result(c, &p, len);
		}
	}
}
END_TEST

static const char *parse_err(const uint8_t *b, size_t len)
{
	struct nseg_pkt p;
	const char *why = NULL;

	if (pkt_parse(b, len, &p, &why) == 0)
		return NULL;
	return why;
}

START_TEST(test_parse_errors)
{
	uint8_t b[256] = { 0 };
	size_t n;

	ck_assert_str_eq(parse_err(b, 0), "empty packet");
	b[0] = 0x75;
	ck_assert_str_eq(parse_err(b, 1), "unsupported IP version 7");
	b[0] = 0x05;
	ck_assert_str_eq(parse_err(b, 1), "unsupported IP version 0");

	n = put_v4(b, IPPROTO_TCP, 5, 20, 0);
	put_tcp(b + n, 1, 2, 2);
	ck_assert_str_eq(parse_err(b, 19), "truncated IPv4 header");
	b[0] = 0x44;
	ck_assert_str_eq(parse_err(b, 40), "bad IHL");
	b[0] = 0x4f;
	b[2] = 0, b[3] = 100;
	ck_assert_str_eq(parse_err(b, 40), "truncated IPv4 options");
	b[0] = 0x45;
	b[2] = 0, b[3] = 19;
	ck_assert_str_eq(parse_err(b, 40), "bad IPv4 total length");
	/* A total length shorter than the buffer bounds the packet. */
	b[3] = 30;
	ck_assert_str_eq(parse_err(b, 40), "truncated TCP header");
	/* Zero total length (GSO) means "use the buffer length". */
	b[3] = 0;
	ck_assert_ptr_null(parse_err(b, 40));
	b[3] = 40;
	b[n + 12] = 4 << 4;
	ck_assert_str_eq(parse_err(b, 40), "bad TCP data offset");

	n = put_v4(b, IPPROTO_UDP, 5, 8, 0);
	ck_assert_str_eq(parse_err(b, n + 7), "truncated UDP header");
	n = put_v4(b, IPPROTO_ICMP, 5, 8, 0);
	ck_assert_str_eq(parse_err(b, n + 3), "truncated ICMP header");

	n = put_v6(b, IPPROTO_ICMPV6, 8);
	ck_assert_str_eq(parse_err(b, 39), "truncated IPv6 header");
	ck_assert_str_eq(parse_err(b, n + 3), "truncated ICMPv6 header");
	/* The payload length bounds the packet too. */
	b[5] = 2;
	ck_assert_str_eq(parse_err(b, n + 8), "truncated ICMPv6 header");

	n = put_v6(b, IPPROTO_HOPOPTS, 200);
	b[n] = IPPROTO_TCP;
	b[n + 1] = 30; /* 248 bytes, more than the 216 there */
	ck_assert_str_eq(parse_err(b, sizeof(b)),
			 "truncated IPv6 extension header");
}
END_TEST

START_TEST(test_parse_ext_bound)
{
	uint8_t b[256] = { 0 };
	size_t n = put_v6(b, IPPROTO_DSTOPTS, 9 * 8 + 8);

	for (int i = 0; i < 8; i++)
		n += put_ext(b + n, IPPROTO_DSTOPTS, 0);
	n += put_ext(b + n, IPPROTO_UDP, 0);
	n += put_udp(b + n, 1, 2);
	ck_assert_str_eq(parse_err(b, n), "too many IPv6 extension headers");
}
END_TEST

START_TEST(test_addr)
{
	static const struct {
		const char *in, *out;
		int family, loopback;
	} t[] = {
		{ "10.0.0.1", "10.0.0.1", AF_INET, 0 },
		{ "127.0.0.1", "127.0.0.1", AF_INET, 1 },
		{ "127.255.1.2", "127.255.1.2", AF_INET, 1 },
		{ "128.0.0.1", "128.0.0.1", AF_INET, 0 },
		{ "::1", "::1", AF_INET6, 1 },
		{ "::2", "::2", AF_INET6, 0 },
		{ "::ffff:127.0.0.5", "::ffff:127.0.0.5", AF_INET6, 1 },
		{ "FD00:0::0001", "fd00::1", AF_INET6, 0 },
		{ "", NULL, 0, 0 },
		{ "10.0.0", NULL, 0, 0 },
		{ "10.0.0.256", NULL, 0, 0 },
		{ " 10.0.0.1", NULL, 0, 0 },
		{ "10.0.0.1/32", NULL, 0, 0 },
		{ "fd00::1::2", NULL, 0, 0 },
	};
	struct nseg_addr a, b;
	char s[PKT_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = pkt_addr_parse(t[i].in, &a);

		if (t[i].out == NULL) {
			ck_assert_msg(r == -1, "'%s' parsed", t[i].in);
			continue;
		}
		ck_assert_msg(r == 0, "'%s' did not parse", t[i].in);
		ck_assert_int_eq(a.family, t[i].family);
		ck_assert_int_eq(pkt_addr_to_str(&a, s, sizeof(s)), 0);
		ck_assert_str_eq(s, t[i].out);
		ck_assert_int_eq(pkt_addr_is_loopback(&a), t[i].loopback);
		ck_assert_int_eq(pkt_addr_parse(s, &b), 0);
		ck_assert(pkt_addr_eq(&a, &b));
	}
	pkt_addr_parse("10.0.0.1", &a);
	pkt_addr_parse("10.0.0.2", &b);
	ck_assert(!pkt_addr_eq(&a, &b));
	pkt_addr_parse("::a00:1", &b); /* same 4 bytes? no: other family */
	ck_assert(!pkt_addr_eq(&a, &b));
	ck_assert_int_eq(pkt_addr_to_str(&a, s, 8), -1);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(pkt_addr_to_str(&a, s, sizeof(s)), -1);
	ck_assert(!pkt_addr_eq(&a, &a));
}
END_TEST

START_TEST(test_cidr_parse)
{
	static const struct {
		const char *in, *norm, *err;
	} t[] = {
		{ "10.0.0.0/8", "10.0.0.0/8", NULL },
		{ "10.0.0.1", "10.0.0.1/32", NULL },
		{ "0.0.0.0/0", "0.0.0.0/0", NULL },
		{ "192.168.1.128/25", "192.168.1.128/25", NULL },
		{ "::1", "::1/128", NULL },
		{ "::/0", "::/0", NULL },
		{ "fd00::/8", "fd00::/8", NULL },
		{ "2001:db8:0:0:8000::/65", "2001:db8:0:0:8000::/65", NULL },
		{ "10.1.2.3/8", NULL,
		  "host bits set in '10.1.2.3/8' (network is 10.0.0.0/8)" },
		{ "192.168.1.129/25", NULL,
		  "host bits set in '192.168.1.129/25' (network is "
		  "192.168.1.128/25)" },
		{ "fd00::1/8", NULL,
		  "host bits set in 'fd00::1/8' (network is fd00::/8)" },
		{ "10.0.0.0/33", NULL,
		  "bad prefix length '33' (IPv4: 0..32)" },
		{ "::/129", NULL, "bad prefix length '129' (IPv6: 0..128)" },
		{ "10.0.0.0/", NULL, "bad prefix length '' (IPv4: 0..32)" },
		{ "10.0.0.0/08", NULL, "bad prefix length '08' (IPv4: 0..32)" },
		{ "10.0.0.0/-1", NULL, "bad prefix length '-1' (IPv4: 0..32)" },
		{ "10.0.0.0/8 ", NULL, "bad prefix length '8 ' (IPv4: 0..32)" },
		{ "10.0.0.0/8/8", NULL,
		  "bad prefix length '8/8' (IPv4: 0..32)" },
		{ "/8", NULL, "bad address in '/8'" },
		{ "", NULL, "bad address in ''" },
		{ "web.example/8", NULL, "bad address 'web.example'" },
		{ "0123456789012345678901234567890123456789012345678/8", NULL,
		  "bad address in "
		  "'0123456789012345678901234567890123456789012345678/8'" },
	};
	struct nseg_cidr c;
	char s[PKT_CIDR_STRLEN];
	const char *why;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r;

		why = NULL;
		r = pkt_cidr_parse(t[i].in, &c, &why);
		if (t[i].err) {
			ck_assert_msg(r == -1, "'%s' parsed", t[i].in);
			ck_assert_str_eq(why, t[i].err);
			ck_assert_int_eq(c.prefixlen, 0);
			continue;
		}
		ck_assert_msg(r == 0, "'%s': %s", t[i].in, why);
		ck_assert_int_eq(pkt_cidr_to_str(&c, s, sizeof(s)), 0);
		ck_assert_str_eq(s, t[i].norm);
	}
	pkt_cidr_parse("fd00::/8", &c, &why);
	ck_assert_int_eq(pkt_cidr_to_str(&c, s, 8), -1);
	ck_assert_int_eq(pkt_cidr_to_str(&c, s, 9), 0);
}
END_TEST

START_TEST(test_cidr_contains)
{
	static const struct {
		const char *cidr, *addr;
		int in;
	} t[] = {
		{ "10.0.0.0/8", "10.255.1.1", 1 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		{ "10.0.0.0/8", "9.255.255.255", 0 },
		{ "192.168.1.128/25", "192.168.1.128", 1 },
		{ "192.168.1.128/25", "192.168.1.255", 1 },
		{ "192.168.1.128/25", "192.168.1.127", 0 },
		{ "10.0.0.7", "10.0.0.7", 1 },
		{ "10.0.0.7", "10.0.0.6", 0 },
		{ "0.0.0.0/0", "203.0.113.9", 1 },
		{ "0.0.0.0/0", "::1", 0 },
		{ "::/0", "10.0.0.1", 0 },
		{ "::/0", "2001:db8::1", 1 },
		{ "fd00::/8", "fdff:ffff::1", 1 },
		{ "fd00::/8", "fe00::1", 0 },
		{ "2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", 1 },
		{ "2001:db8::/65", "2001:db8::8000:0:0:0", 0 },
		{ "::1", "::1", 1 },
	};
	struct nseg_cidr c;
	struct nseg_addr a;
	const char *why;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(pkt_cidr_parse(t[i].cidr, &c, &why) == 0, "%s",
			      t[i].cidr);
		ck_assert_int_eq(pkt_addr_parse(t[i].addr, &a), 0);
		ck_assert_msg(pkt_cidr_contains(&c, &a) == t[i].in,
			      "%s in %s: want %d", t[i].addr, t[i].cidr,
			      t[i].in);
	}
}
END_TEST

static Suite *pkt_suite(void)
{
	Suite *s = suite_create("pkt");
	TCase *tc = tcase_create("core");
	int n;

	build_cases();
	n = (int)ncases;
	tcase_add_loop_test(tc, test_parse_valid, 0, n);
	tcase_add_loop_test(tc, test_parse_truncations, 0, n);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_parse_ext_bound);
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_cidr_parse);
	tcase_add_test(tc, test_cidr_contains);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pkt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
