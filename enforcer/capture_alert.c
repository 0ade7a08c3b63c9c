/*
 * Alert captures: one pcap file per alert, headed by the workload's
 * recent packets, then the deviation's own packets: in enforce mode the
 * blocked ones (first packets and their retries reach nsegd anyway); in
 * notify mode the connection itself, followed in the kernel by a ct mark
 * and copied to nsegd through NFLOG, never held (capture_follow.c).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "capture_int.h"
#include "nseg/daemon.h"
#include "nseg/log.h"
#include "nseg/pcap_file.h"
#include "nseg/pkt.h"
#include "nseg/pkt_ring.h"
#include "nseg/store.h"

static int acap_same(const struct store_alert *x, const struct store_alert *y)
{
	return x->dir == y->dir && x->proto == y->proto && x->port == y->port &&
	       !strcmp(x->action, y->action) && !strcmp(x->kind, y->kind) &&
	       !strcmp(x->workload, y->workload) &&
	       !strcmp(x->version, y->version) && !strcmp(x->peer, y->peer) &&
	       !strcmp(x->proc.exe, y->proc.exe) &&
	       !strcmp(x->proc.comm, y->proc.comm);
}

static struct acap *acap_find(struct capture_mgr *m,
			      const struct store_alert *a)
{
	for (struct acap *c = m->alerts; c; c = c->next)
		if (acap_same(&c->alert, a))
			return c;
	return NULL;
}

static int acap_ring_write(const struct timeval *ts, const void *data,
			   size_t caplen, size_t origlen, void *arg)
{
	struct acap *c = arg;
	size_t wire = capture_orig_len(data, caplen);

	/* The ring kept what the queue copied (copy_range): the IP header
	 * knows how long the packet was. */
	return cap_file_write(c->m, &c->f, ts, data, caplen,
			      wire > origlen ? wire : origlen) ? -1 : 0;
}

/* A new alert's file: its workload's last ring_seconds first. */
static struct acap *acap_open(struct capture_mgr *m, struct store_alert *a,
			      const struct timeval *now)
{
	const struct config_capture *cc = &m->d->cfg.capture;
	struct pcap_file_limits lim = { cc->packets, cc->bytes,
					cc->seconds_ms / 1000 };
	struct pkt_ring *ring = cap_ring_of(m, a->workload);
	struct acap *c;
	char err[512];

	if (m->opened_sec != now->tv_sec) {
		m->opened_sec = now->tv_sec;
		m->opened_n = 0;
	}
	if (m->opened_n >= CAPTURE_NEW_PER_SEC) {
		snprintf(a->pcap_note, sizeof(a->pcap_note),
			 "no capture: more than %d new alerts this second",
			 CAPTURE_NEW_PER_SEC);
		return NULL;
	}
	m->opened_n++;
	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	c->m = m;
	c->alert = *a;
	c->opened = now->tv_sec;
	snprintf(c->f.row.kind, sizeof(c->f.row.kind), "alert");
	snprintf(c->f.row.workload, sizeof(c->f.row.workload), "%s",
		 a->workload);
	snprintf(c->f.row.container, sizeof(c->f.row.container), "%s",
		 a->container);
	if (cap_file_open(m, &c->f, DLT_RAW, cc->snaplen, &lim, err,
			  sizeof(err)) == -1) {
		snprintf(a->pcap_note, sizeof(a->pcap_note), "no capture: %.200s",
			 err);
		free(c);
		return NULL;
	}
	snprintf(a->pcap, sizeof(a->pcap), "%s", c->f.row.path);
	if (ring)
		pkt_ring_walk(ring, now, cc->ring_ms, acap_ring_write, c);
	c->next = m->alerts;
	m->alerts = c;
	return c;
}

int capture_mgr_deviation(struct capture_mgr *m, struct nsw *w,
			  struct store_alert *a, int created,
			  const struct nseg_pkt *p, const uint8_t *pkt,
			  size_t len, int notify)
{
	struct acap *c;
	struct timeval now;

	if (!m || !m->d->cfg.capture.enabled || !a)
		return 0;
	gettimeofday(&now, NULL);
	c = acap_find(m, a);
	if (!c && created)
		c = acap_open(m, a, &now);
	if (!c || !c->f.open)
		return 0;
	if (cap_file_write(m, &c->f, &now, pkt, len,
			   capture_orig_len(pkt, len)))
		return 0;
	return notify && w->capture && capture_follow_add(c, w, p) == 0;
}

static void acap_end(struct capture_mgr *m, struct acap *c)
{
	for (struct acap **pp = &m->alerts; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	capture_follow_end(c);
	cap_file_end(m, &c->f, NULL);
	free(c);
}

/* An alert's capture lasts capture.seconds, or until its file stops. */
void capture_alert_tick(struct capture_mgr *m, int64_t now)
{
	int64_t span = m->d->cfg.capture.seconds_ms / 1000;

	for (struct acap *c = m->alerts, *next; c; c = next) {
		next = c->next;
		if (!c->f.open || now - c->opened >= span)
			acap_end(m, c);
		else
			cap_file_sync(m, &c->f);
	}
}

void capture_alert_nsw_gone(struct capture_mgr *m, struct nsw *w)
{
	/* First: what its NFLOG socket still holds is matched to the flows
	 * by w, which they forget next. */
	capture_follow_close_nsw(m, w);
	for (struct acap *c = m->alerts; c; c = c->next)
		capture_follow_nsw_gone(c, w);
}

void capture_alert_free_all(struct capture_mgr *m)
{
	while (m->alerts)
		acap_end(m, m->alerts);
}
