/*
 * Notify-mode alert captures follow the anomalous connection: its first
 * packet went back to the table with NFQUEUE_CAPTURE, which set the
 * connection's capture ct mark bit; every later packet of it, both ways,
 * is copied by the table to NFLOG group (queue number) in its namespace,
 * which nsegd reads here while the namespace has followed connections.
 * When the capture ends, the bit is cleared so the copies stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "capture_int.h"
#include "nseg/ct_mark.h"
#include "nseg/daemon.h"
#include "nseg/evloop.h"
#include "nseg/log.h"
#include "nseg/nflog.h"

static int cf_same_addr(const struct nseg_addr *a, const struct nseg_addr *b)
{
	return a->family == b->family && !memcmp(a->a, b->a, sizeof(a->a));
}

/* Is packet p (either direction) of flow f? */
static int cf_matches(const struct acap_flow *f, const struct nseg_pkt *p)
{
	if (f->proto != p->proto)
		return 0;
	if (cf_same_addr(&f->src, &p->src) && cf_same_addr(&f->dst, &p->dst))
		return f->sport == p->sport && f->dport == p->dport;
	return cf_same_addr(&f->src, &p->dst) && cf_same_addr(&f->dst, &p->src) &&
	       f->sport == p->dport && f->dport == p->sport;
}

struct cf_ctx {
	struct capture_mgr *m;
	struct nsw *w;
};

static void cf_packet(const struct nflog_packet *np, void *arg)
{
	struct cap_nflog *cn = arg;
	struct capture_mgr *m = cn->w->d->cap;
	struct timeval ts = { np->ts.tv_sec, np->ts.tv_nsec / 1000 };
	struct nseg_pkt p;
	const char *why;

	if (pkt_parse(np->payload, np->caplen, &p, &why) == -1)
		return;
	for (struct acap *c = m->alerts; c; c = c->next) {
		for (size_t i = 0; i < c->n_flows; i++) {
			if (c->flows[i].w == cn->w && cf_matches(&c->flows[i], &p)) {
				cap_file_write(m, &c->f, &ts, np->payload,
					       np->caplen, np->len);
				return;
			}
		}
	}
}

static void cf_readable(int fd, uint32_t events, void *arg)
{
	struct cap_nflog *cn = arg;

	if (nflog_dispatch(cn->nl) == -1)
		log_debug("capture: NFLOG read failed: %s", strerror(errno));
}

static struct cap_nflog *cf_nflog_of(struct capture_mgr *m, struct nsw *w)
{
	for (struct cap_nflog *cn = m->nflogs; cn; cn = cn->next)
		if (cn->w == w)
			return cn;
	return NULL;
}

/* The namespace's NFLOG socket, opened on first use. */
static struct cap_nflog *cf_nflog_open(struct capture_mgr *m, struct nsw *w)
{
	struct cap_nflog *cn = cf_nflog_of(m, w);
	struct nflog_opts o = { .group = m->d->cfg.queue_num,
				.copy_range = m->d->cfg.capture.snaplen };
	char err[256];

	if (cn)
		return cn;
	if (!(cn = calloc(1, sizeof(*cn))))
		return NULL;
	cn->w = w;
	cn->nl = nflog_open(w->nsfd, &o, cf_packet, cn, err, sizeof(err));
	if (!cn->nl || evloop_add_fd(m->d->loop, nflog_fd(cn->nl), EPOLLIN,
				     cf_readable, cn) == -1) {
		log_warnx("capture: cannot follow connections in a namespace "
			  "of %s: %s",
			  w->compiled_for, cn->nl ? "event loop" : err);
		nflog_close(cn->nl);
		free(cn);
		return NULL;
	}
	cn->next = m->nflogs;
	m->nflogs = cn;
	return cn;
}

int capture_follow_add(struct acap *c, struct nsw *w, const struct nseg_pkt *p)
{
	struct acap_flow *f;

	/* Seen again: its mark is set already (a retried first packet), or
	 * the table lost its capture rules meanwhile; either way sending it
	 * back once more would only bring it here again. */
	for (size_t i = 0; i < c->n_flows; i++)
		if (c->flows[i].w == w && cf_matches(&c->flows[i], p))
			return 1;
	if (c->n_flows == ACAP_MAX_FLOWS || !cf_nflog_open(c->m, w))
		return -1;
	f = &c->flows[c->n_flows++];
	f->w = w;
	f->proto = p->proto;
	f->src = p->src;
	f->dst = p->dst;
	f->sport = p->sport;
	f->dport = p->dport;
	return 0;
}

static int cf_nsw_in_use(struct capture_mgr *m, const struct nsw *w)
{
	for (struct acap *c = m->alerts; c; c = c->next)
		for (size_t i = 0; i < c->n_flows; i++)
			if (c->flows[i].w == w)
				return 1;
	return 0;
}

void capture_follow_close_nsw(struct capture_mgr *m, struct nsw *w)
{
	for (struct cap_nflog **pp = &m->nflogs; *pp; pp = &(*pp)->next) {
		struct cap_nflog *cn = *pp;

		if (cn->w != w)
			continue;
		/* What the socket holds still belongs to the captures. */
		nflog_dispatch(cn->nl);
		evloop_del_fd(m->d->loop, nflog_fd(cn->nl));
		nflog_close(cn->nl);
		*pp = cn->next;
		free(cn);
		return;
	}
}

static void cf_clear(const struct acap_flow *f)
{
	struct ct_mark_tuple t = { .src = f->src, .dst = f->dst,
				   .proto = f->proto, .sport = f->sport,
				   .dport = f->dport };

	if (ct_mark_clear_capture(f->w->nsfd, &t) == -1)
		log_warnx("capture: clearing a connection's capture mark "
			  "failed; the kernel goes on copying its packets "
			  "(dropped) until it ends");
}

void capture_follow_end(struct acap *c)
{
	struct nsw *ws[ACAP_MAX_FLOWS];
	size_t n = 0;

	for (size_t i = 0; i < c->n_flows; i++) {
		struct nsw *w = c->flows[i].w;

		if (!w)
			continue;
		cf_clear(&c->flows[i]);
		ws[n++] = w;
	}
	c->n_flows = 0;
	for (size_t i = 0; i < n; i++)
		if (!cf_nsw_in_use(c->m, ws[i]))
			capture_follow_close_nsw(c->m, ws[i]);
}

void capture_follow_nsw_gone(struct acap *c, struct nsw *w)
{
	for (size_t i = 0; i < c->n_flows; i++)
		if (c->flows[i].w == w)
			c->flows[i].w = NULL;
}
