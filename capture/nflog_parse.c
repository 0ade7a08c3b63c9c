/*
 * NFLOG packet messages to struct nflog_packet. Everything here comes from
 * the kernel, but is checked as if it did not: a message or attribute of
 * the wrong size is skipped and counted, never read past. Fields are
 * copied out with memcpy: attributes are only 4-byte aligned and the
 * timestamp holds 64-bit values.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <stdint.h>
#include <string.h>

#include "nseg/nflog.h"

/* What one message carried, before it becomes a packet. */
struct nflog_attrs {
	const struct nlattr *hdr, *payload, *ts, *prefix, *indev, *outdev, *seq;
};

/*
 * The kernel stamps only packets of the input side (prerouting, input,
 * forward). Stamped "now" when read, an output packet would land up to a
 * batch's timeout after the input packets that followed it, and tcpdump
 * would show a reply before its request. Within one datagram the packets
 * are in the kernel's order: the previous stamped packet's time, else the
 * next one's, keeps the capture in order (off by at most one batch).
 */
struct nflog_batch {
	const char *rest; /* the messages after the current one */
	size_t rem;
	struct timespec prev, next;
	int have_prev;
	int have_next; /* -1: not looked for yet */
};

/* Minimum payload size of the attributes read; 0 = any size. */
static size_t nflog_attr_min(uint16_t type)
{
	switch (type) {
	case NFULA_PACKET_HDR:
		return sizeof(struct nfulnl_msg_packet_hdr);
	case NFULA_TIMESTAMP:
		return sizeof(struct nfulnl_msg_packet_timestamp);
	case NFULA_IFINDEX_INDEV:
	case NFULA_IFINDEX_OUTDEV:
	case NFULA_SEQ:
		return sizeof(uint32_t);
	case NFULA_PREFIX:
		return 1;
	default:
		return 0;
	}
}

static const struct nlattr **nflog_attr_slot(struct nflog_attrs *a,
					     uint16_t type)
{
	switch (type) {
	case NFULA_PACKET_HDR:
		return &a->hdr;
	case NFULA_PAYLOAD:
		return &a->payload;
	case NFULA_TIMESTAMP:
		return &a->ts;
	case NFULA_PREFIX:
		return &a->prefix;
	case NFULA_IFINDEX_INDEV:
		return &a->indev;
	case NFULA_IFINDEX_OUTDEV:
		return &a->outdev;
	case NFULA_SEQ:
		return &a->seq;
	default:
		return NULL;
	}
}

/* A prefix is a NUL-terminated string filling its attribute. */
static int nflog_prefix_ok(const struct nlattr *attr)
{
	const char *s = mnl_attr_get_payload(attr);
	size_t n = mnl_attr_get_payload_len(attr);

	return memchr(s, '\0', n) != NULL;
}

/* Collects the attributes read; returns -1 if the walk did not end on the
 * message's end (a truncated or overlong attribute). */
static int nflog_collect(struct nflog_parser *ps, const struct nlmsghdr *nlh,
			 struct nflog_attrs *a)
{
	size_t off = MNL_ALIGN(sizeof(struct nfgenmsg));
	const struct nlattr *attr = mnl_nlmsg_get_payload_offset(nlh, off);
	int rem = (int)(nlh->nlmsg_len - MNL_NLMSG_HDRLEN - off);

	while (mnl_attr_ok(attr, rem)) {
		uint16_t type = mnl_attr_get_type(attr);
		const struct nlattr **slot = nflog_attr_slot(a, type);

		if (slot &&
		    (mnl_attr_get_payload_len(attr) < nflog_attr_min(type) ||
		     (type == NFULA_PREFIX && !nflog_prefix_ok(attr))))
			ps->stats.bad_attrs++;
		else if (slot && !*slot)
			*slot = attr;
		rem -= (int)MNL_ALIGN(attr->nla_len);
		attr = mnl_attr_next(attr);
	}
	return rem > 0 ? -1 : 0;
}

static uint32_t nflog_be32(const struct nlattr *attr)
{
	uint32_t v;

	memcpy(&v, mnl_attr_get_payload(attr), sizeof(v));
	return ntohl(v);
}

/* The kernel's timestamp, when it gave a sane one: returns 1. */
static int nflog_kernel_ts(const struct nlattr *attr, struct timespec *ts)
{
	struct nfulnl_msg_packet_timestamp t;

	if (!attr)
		return 0;
	memcpy(&t, mnl_attr_get_payload(attr), sizeof(t));
	t.sec = be64toh(t.sec);
	t.usec = be64toh(t.usec);
	if (t.sec == 0 || t.sec >= INT64_MAX || t.usec >= 1000000)
		return 0;
	ts->tv_sec = (time_t)t.sec;
	ts->tv_nsec = (long)t.usec * 1000;
	return 1;
}

/* The length the packet had: its IP header says, when it is there and
 * not smaller than what was copied (GSO packets may carry 0). */
static size_t nflog_orig_len(const uint8_t *p, size_t caplen)
{
	size_t n = 0;

	if (caplen >= 20 && p[0] >> 4 == 4)
		n = (size_t)p[2] << 8 | p[3];
	else if (caplen >= 40 && p[0] >> 4 == 6)
		n = 40 + ((size_t)p[4] << 8 | p[5]);
	return n > caplen ? n : caplen;
}

/* Sequence numbers count what the kernel logged; a gap is what it could
 * not deliver. */
static void nflog_track_seq(struct nflog_parser *ps, const struct nlattr *attr)
{
	uint32_t seq;

	if (!attr)
		return;
	seq = nflog_be32(attr);
	if (ps->have_seq && seq != ps->next_seq)
		ps->stats.lost += (uint32_t)(seq - ps->next_seq);
	ps->next_seq = seq + 1;
	ps->have_seq = 1;
}

static void nflog_fill(const struct nflog_attrs *a, struct nflog_packet *p)
{
	struct nfulnl_msg_packet_hdr h;

	memcpy(&h, mnl_attr_get_payload(a->hdr), sizeof(h));
	p->hook = h.hook;
	p->hw_protocol = ntohs(h.hw_protocol);
	p->payload = mnl_attr_get_payload(a->payload);
	p->caplen = mnl_attr_get_payload_len(a->payload);
	p->len = nflog_orig_len(p->payload, p->caplen);
	p->prefix = a->prefix ? mnl_attr_get_payload(a->prefix) : NULL;
	p->indev = a->indev ? nflog_be32(a->indev) : 0;
	p->outdev = a->outdev ? nflog_be32(a->outdev) : 0;
}

/* A packet message of our group, at least as long as its headers. */
static int nflog_msg_ours(const struct nflog_parser *ps,
			  const struct nlmsghdr *nlh)
{
	struct nfgenmsg g;

	if (nlh->nlmsg_type != (NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET) ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(g)) ||
	    nlh->nlmsg_len > INT32_MAX)
		return 0;
	memcpy(&g, mnl_nlmsg_get_payload(nlh), sizeof(g));
	return ntohs(g.res_id) == ps->group;
}

/* The kernel's timestamp of the first later message of the datagram
 * that has one: returns 1. Counts nothing: each is parsed in its turn. */
static int nflog_next_ts(const struct nflog_parser *ps, const char *p,
			 size_t rem, struct timespec *ts)
{
	while (rem >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)p;
		size_t mlen = nlh->nlmsg_len;
		struct nflog_parser quiet = *ps;
		struct nflog_attrs a = {0};

		if (mlen < sizeof(*nlh) || mlen > rem)
			return 0;
		if (nflog_msg_ours(ps, nlh) &&
		    nflog_collect(&quiet, nlh, &a) == 0 &&
		    nflog_kernel_ts(a.ts, ts))
			return 1;
		mlen = MNL_ALIGN(mlen) < rem ? MNL_ALIGN(mlen) : rem;
		p += mlen;
		rem -= mlen;
	}
	return 0;
}

static void nflog_place(const struct nflog_parser *ps, struct nflog_batch *b,
			const struct nflog_attrs *a, struct timespec *ts)
{
	if (nflog_kernel_ts(a->ts, ts)) {
		b->prev = *ts;
		b->have_prev = 1;
		return;
	}
	if (b->have_prev) {
		*ts = b->prev;
		return;
	}
	if (b->have_next == -1)
		b->have_next = nflog_next_ts(ps, b->rest, b->rem, &b->next);
	if (b->have_next)
		*ts = b->next;
	else
		clock_gettime(CLOCK_REALTIME, ts);
}

/* One message: 1 if a packet was handed over, 0 if skipped. */
static int nflog_message(struct nflog_parser *ps, struct nflog_batch *b,
			 const struct nlmsghdr *nlh)
{
	struct nflog_attrs a = {0};
	struct nflog_packet p = {0};

	if (nlh->nlmsg_type == NLMSG_NOOP || nlh->nlmsg_type == NLMSG_DONE)
		return 0;
	if (!nflog_msg_ours(ps, nlh)) {
		ps->stats.bad_messages++;
		return 0;
	}
	if (nflog_collect(ps, nlh, &a) == -1)
		ps->stats.bad_attrs++;
	nflog_track_seq(ps, a.seq);
	if (!a.hdr || !a.payload || mnl_attr_get_payload_len(a.payload) == 0) {
		ps->stats.bad_messages++;
		return 0;
	}
	nflog_fill(&a, &p);
	nflog_place(ps, b, &a, &p.ts);
	ps->stats.packets++;
	ps->cb(&p, ps->arg);
	return 1;
}

/* The walk is done here rather than with mnl_nlmsg_ok()/next(): those
 * take the length as an int, so a message claiming more than 2 GiB reads
 * as negative, passes, and moves the cursor far outside the buffer. */
int nflog_parse(struct nflog_parser *ps, const void *buf, size_t len)
{
	struct nflog_batch b = { .have_next = -1 };
	const char *p = buf;
	size_t rem = len;
	int n = 0;

	while (rem >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)p;
		size_t mlen = nlh->nlmsg_len;

		if (mlen < sizeof(*nlh) || mlen > rem)
			break;
		/* The last message need not be padded. */
		mlen = MNL_ALIGN(mlen) < rem ? MNL_ALIGN(mlen) : rem;
		b.rest = p + mlen;
		b.rem = rem - mlen;
		n += nflog_message(ps, &b, nlh);
		p += mlen;
		rem -= mlen;
	}
	/* Bytes no header accounts for: a cut-off or lying message. */
	if (rem > 0)
		ps->stats.bad_messages++;
	return n;
}
