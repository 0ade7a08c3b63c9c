#include <stdlib.h>
#include <string.h>

#include "nseg/flow_memo.h"

#define FLOW_MEMO_SLOTS 4096 /* power of two */

struct flow_memo_slot {
	struct nseg_addr src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	uint64_t netns;
	pid_t pid;
	uint64_t when_ms;
};

struct flow_memo {
	struct flow_memo_slot slots[FLOW_MEMO_SLOTS];
};

struct flow_memo *flow_memo_new(void)
{
	return calloc(1, sizeof(struct flow_memo));
}

void flow_memo_free(struct flow_memo *m)
{
	free(m);
}

static uint64_t flow_memo_mix(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull; /* FNV-1a */
	return h;
}

static size_t flow_memo_slot_of(const struct nseg_pkt *p)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = flow_memo_mix(h, p->src.a, sizeof(p->src.a));
	h = flow_memo_mix(h, p->dst.a, sizeof(p->dst.a));
	h = flow_memo_mix(h, &p->sport, sizeof(p->sport));
	h = flow_memo_mix(h, &p->dport, sizeof(p->dport));
	h = flow_memo_mix(h, &p->proto, sizeof(p->proto));
	return (size_t)h & (FLOW_MEMO_SLOTS - 1);
}

static int flow_memo_match(const struct flow_memo_slot *s,
			   const struct nseg_pkt *p)
{
	return s->proto == p->proto && s->sport == p->sport &&
	       s->dport == p->dport && pkt_addr_eq(&s->src, &p->src) &&
	       pkt_addr_eq(&s->dst, &p->dst);
}

void flow_memo_put(struct flow_memo *m, const struct nseg_pkt *p,
		   uint64_t netns_ino, pid_t pid, uint64_t now_ms)
{
	struct flow_memo_slot *s = &m->slots[flow_memo_slot_of(p)];

	s->src = p->src;
	s->dst = p->dst;
	s->sport = p->sport;
	s->dport = p->dport;
	s->proto = p->proto;
	s->netns = netns_ino;
	s->pid = pid;
	s->when_ms = now_ms;
}

pid_t flow_memo_get(const struct flow_memo *m, const struct nseg_pkt *p,
		    uint64_t netns_ino, uint64_t now_ms, uint64_t ttl_ms)
{
	const struct flow_memo_slot *s = &m->slots[flow_memo_slot_of(p)];

	if (!s->pid || s->netns != netns_ino || !flow_memo_match(s, p) ||
	    now_ms - s->when_ms > ttl_ms)
		return 0;
	return s->pid;
}
