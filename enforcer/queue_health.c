#include <stdio.h>
#include <string.h>

#include "nseg/daemon.h"
#include "nseg/log.h"
#include "nseg/netns.h"
#include "nseg/nfqueue.h"
#include "nseg/nft_counters.h"
#include "nseg/nft_table.h"
#include "nseg/queue_health.h"

struct qh_proc {
	uint16_t num;
	int found;
	unsigned long long total, dropped, user_dropped;
};

static void qh_counter_cb(const char *tag, uint64_t packets, uint64_t bytes,
			  void *arg)
{
	struct queue_health *h = arg;

	if (strcmp(tag, NFT_TAG_QUEUE) == 0)
		h->queued += packets;
}

/* The kernel's view of our queue, read on the thread netns_run put in
 * w's namespace (/proc/self/net would be the main thread's). */
static int qh_proc_cb(void *arg)
{
	struct qh_proc *q = arg;
	unsigned num, portid, mode, range, total;
	unsigned long long qd, ud, seq;
	char line[256];
	FILE *f = fopen("/proc/thread-self/net/netfilter/nfnetlink_queue", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %u %u %u %u %llu %llu %llu", &num, &portid,
			   &total, &mode, &range, &qd, &ud, &seq) == 8 &&
		    num == q->num) {
			q->found = 1;
			q->total = total;
			q->dropped = qd;
			q->user_dropped = ud;
		}
	}
	fclose(f);
	return 0;
}

int queue_health_read(struct daemon *d, struct nsw *w, struct queue_health *out)
{
	struct qh_proc p = {.num = d->cfg.queue_num};
	struct nfqueue_stats qs = {0};
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (w->q)
		nfqueue_get_stats(w->q, &qs);
	out->read = qs.packets >= w->q_base ? qs.packets - w->q_base : 0;
	if (!w->nft || nft_counters_read(w->nft, qh_counter_cb, out) == -1)
		rc = -1;
	if (netns_run(w->nsfd, qh_proc_cb, &p) == -1 || !p.found)
		rc = -1;
	out->waiting = p.total;
	out->kernel_dropped = p.dropped;
	out->user_dropped = p.user_dropped;
	if (rc == 0 && out->queued > out->read + out->waiting)
		out->unseen = out->queued - out->read - out->waiting;
	return rc;
}

void queue_health_poll_nsw(struct daemon *d, struct nsw *w)
{
	struct queue_health h;
	uint64_t n;

	if (queue_health_read(d, w, &h) == -1 || h.unseen <= w->q_unseen_seen)
		return;
	n = h.unseen - w->q_unseen_seen;
	w->q_unseen_seen = h.unseen;
	w->q_unseen += n;
	d->q_unseen_total += n;
	log_warnx("netns %s: queue overrun: %llu new connections were never "
		  "seen by nsegd (%s; kernel drops %llu, socket drops %llu)",
		  w->name[0] ? w->name : "(unnamed)", (unsigned long long)n,
		  d->cfg.fail_open ? "fail: open, the kernel let them through"
				   : "fail: closed, the kernel dropped them",
		  (unsigned long long)h.kernel_dropped,
		  (unsigned long long)h.user_dropped);
}

void queue_health_poll(struct daemon *d)
{
	for (struct nsw *w = d->nsws; w; w = w->next)
		queue_health_poll_nsw(d, w);
}

void queue_health_table_replaced(struct nsw *w)
{
	struct nfqueue_stats qs = {0};

	if (w->q)
		nfqueue_get_stats(w->q, &qs);
	w->q_base = qs.packets;
	w->q_unseen_seen = 0;
}
