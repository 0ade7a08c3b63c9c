/*
 * On-demand captures: libpcap on the "any" device inside each namespace
 * of a workload (or of one of its containers), merged into one file.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "capture_int.h"
#include "nseg/daemon.h"
#include "nseg/evloop.h"
#include "nseg/live_cap.h"
#include "nseg/log.h"
#include "nseg/pcap_file.h"

#define OCAP_MAX_NS 64
#define OCAP_DEFAULT_SECONDS 60
#define OCAP_DEFAULT_PACKETS 10000
/* Packets read per wake-up of one handle: others get their turn. */
#define OCAP_BATCH 256

struct ocap;

struct ocap_src {
	struct ocap *o;
	struct nsw *w; /* NULL once the namespace is gone */
	struct live_cap *lc;
	struct ev_timer *gone; /* its namespace went: the last read */
};

struct ocap {
	struct capture_mgr *m;
	struct cap_file f;
	struct ocap_src src[OCAP_MAX_NS];
	size_t n_src;
	uint64_t deadline_ms;
	uint64_t max_packets, packets;
	int done;		  /* reached its end: ends at the next tick */
	int full;		  /* its file takes no more packets */
	struct ev_timer *drain;	  /* the last read before the file closes */
	capture_done_fn done_fn;  /* told when it has ended */
	void *done_arg;
	struct ocap *next;
};

static void ocap_packet(void *arg, const struct pcap_pkthdr *h,
			const uint8_t *bytes)
{
	struct ocap *o = arg;

	if (o->full)
		return;
	if (cap_file_write(o->m, &o->f, &h->ts, bytes, h->caplen, h->len) ||
	    ++o->packets >= o->max_packets)
		o->full = o->done = 1;
}

/* A source closed: with none left the capture has nothing more to
 * read and ends at the next tick instead of running on empty to its
 * deadline (state "running" all along). */
static void ocap_source_gone(struct ocap *o, const char *why)
{
	size_t left = 0;

	for (size_t i = 0; i < o->n_src; i++)
		if (o->src[i].lc)
			left++;
	log_info("capture c%lld of %s: %s; %zu namespaces left",
		 (long long)o->f.row.id, o->f.row.workload, why, left);
	if (left)
		return;
	if (!o->f.row.note[0])
		snprintf(o->f.row.note, sizeof(o->f.row.note),
			 "ended early: %s", why);
	o->done = 1;
}

static void ocap_src_close(struct ocap_src *s)
{
	struct evloop *loop = s->o->m->d->loop;

	if (s->gone)
		evloop_timer_cancel(loop, s->gone);
	s->gone = NULL;
	evloop_del_fd(loop, live_cap_fd(s->lc));
	live_cap_close(s->lc);
	s->lc = NULL;
}

static void ocap_readable(int fd, uint32_t events, void *arg)
{
	struct ocap_src *s = arg;

	if (live_cap_dispatch(s->lc, OCAP_BATCH, ocap_packet, s->o) == -1) {
		ocap_src_close(s);
		ocap_source_gone(s->o, "reading a namespace failed");
	}
}

static void ocap_close_sources(struct ocap *o, uint64_t *dropped)
{
	for (size_t i = 0; i < o->n_src; i++) {
		struct live_cap_stats st;

		if (!o->src[i].lc)
			continue;
		if (live_cap_stats(o->src[i].lc, &st) == 0)
			*dropped += st.dropped;
		ocap_src_close(&o->src[i]);
	}
}

static void ocap_unlink(struct capture_mgr *m, struct ocap *o)
{
	for (struct ocap **pp = &m->live; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			return;
		}
}

/* Reads what the handles still hold, closes the file, frees o. */
static void ocap_end(struct ocap *o, const char *state)
{
	uint64_t dropped = 0;

	for (size_t i = 0; i < o->n_src; i++)
		if (o->src[i].lc)
			live_cap_dispatch(o->src[i].lc, -1, ocap_packet, o);
	ocap_close_sources(o, &dropped);
	if (dropped && !o->f.row.note[0])
		snprintf(o->f.row.note, sizeof(o->f.row.note),
			 "%llu packets dropped by the kernel (capture buffer "
			 "full)",
			 (unsigned long long)dropped);
	if (o->drain)
		evloop_timer_cancel(o->m->d->loop, o->drain);
	ocap_unlink(o->m, o);
	cap_file_end(o->m, &o->f, state);
	log_info("capture c%lld of %s: %s, %llu packets in %s",
		 (long long)o->f.row.id, o->f.row.workload, o->f.row.state,
		 (unsigned long long)o->f.row.packets, o->f.row.path);
	if (o->done_fn)
		o->done_fn(&o->f.row, o->done_arg);
	free(o);
}

static void ocap_drained(void *arg)
{
	struct ocap *o = arg;

	o->drain = NULL;
	ocap_end(o, NULL);
}

/* The kernel hands a block of packets over when its timer
 * (LIVE_CAP_TIMEOUT_MS) finds it unchanged since its last run: up to two
 * periods after the last packet. Those are read once more after that,
 * then the file closes. */
static void ocap_finish(struct ocap *o)
{
	o->done = 1;
	if (o->drain)
		return;
	o->drain = evloop_timer_add(o->m->d->loop,
				    2 * LIVE_CAP_TIMEOUT_MS + 50, ocap_drained,
				    o);
	if (!o->drain)
		ocap_end(o, NULL);
}

void capture_live_tick(struct capture_mgr *m)
{
	uint64_t now = evloop_now_ms(m->d->loop);

	for (struct ocap *o = m->live, *next; o; o = next) {
		next = o->next;
		if (o->drain)
			continue;
		if (o->done) {
			ocap_end(o, NULL);
			continue;
		}
		if (now >= o->deadline_ms) {
			ocap_finish(o);
			continue;
		}
		cap_file_sync(m, &o->f);
	}
}

static int ocap_match(const struct nsw *w, const struct capture_req *r)
{
	if (strcmp(w->compiled_for, r->workload) != 0)
		return 0;
	return !r->container ||
	       (r->container[0] &&
		strncmp(w->cid, r->container, strlen(r->container)) == 0);
}

static int ocap_open_sources(struct ocap *o, const struct capture_req *r,
			     char *err, size_t errlen)
{
	struct live_cap_opts opts = { .filter = r->filter };

	for (struct nsw *w = o->m->d->nsws; w; w = w->next) {
		struct ocap_src *s;

		if (!ocap_match(w, r))
			continue;
		if (o->n_src == OCAP_MAX_NS) {
			log_warnx("capture c%lld: more than %d namespaces; "
				  "the rest are not captured",
				  (long long)o->f.row.id, OCAP_MAX_NS);
			break;
		}
		s = &o->src[o->n_src];
		s->o = o;
		s->w = w;
		s->lc = live_cap_open(w->nsfd, &opts, err, errlen);
		if (!s->lc)
			return -1;
		o->n_src++;
		if (evloop_add_fd(o->m->d->loop, live_cap_fd(s->lc), EPOLLIN,
				  ocap_readable, s) == -1) {
			snprintf(err, errlen, "watching the capture failed");
			return -1;
		}
	}
	return 0;
}

static int ocap_has_namespace(struct capture_mgr *m,
			      const struct capture_req *r)
{
	for (struct nsw *w = m->d->nsws; w; w = w->next)
		if (ocap_match(w, r))
			return 1;
	return 0;
}

int capture_mgr_start(struct capture_mgr *m, const struct capture_req *r,
		      struct store_capture *out, char *err, size_t errlen)
{
	struct ocap *o;

	if (live_cap_check_filter(r->filter, err, errlen) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (!ocap_has_namespace(m, r)) {
		snprintf(err, errlen,
			 "no watched namespace of workload '%s'%s%s (see "
			 "'nsegctl workloads')",
			 r->workload, r->container ? " with container " : "",
			 r->container ? r->container : "");
		errno = ENOENT;
		return -1;
	}
	if (!(o = calloc(1, sizeof(*o)))) {
		snprintf(err, errlen, "out of memory");
		errno = EIO;
		return -1;
	}
	o->m = m;
	snprintf(o->f.row.kind, sizeof(o->f.row.kind), "ondemand");
	snprintf(o->f.row.workload, sizeof(o->f.row.workload), "%s",
		 r->workload);
	snprintf(o->f.row.container, sizeof(o->f.row.container), "%s",
		 r->container ? r->container : "");
	snprintf(o->f.row.filter, sizeof(o->f.row.filter), "%s",
		 r->filter ? r->filter : "");
	o->max_packets = r->packets > 0 ? (uint64_t)r->packets
					: OCAP_DEFAULT_PACKETS;
	o->deadline_ms = evloop_now_ms(m->d->loop) +
			 1000 * (uint64_t)(r->duration_s > 0
						   ? r->duration_s
						   : OCAP_DEFAULT_SECONDS);
	if (cap_file_open(m, &o->f, DLT_LINUX_SLL, LIVE_CAP_SNAPLEN_DEFAULT,
			  NULL, err, errlen) == -1) {
		free(o);
		errno = EIO;
		return -1;
	}
	o->next = m->live;
	m->live = o;
	if (ocap_open_sources(o, r, err, errlen) == -1) {
		snprintf(o->f.row.note, sizeof(o->f.row.note), "%.240s", err);
		ocap_end(o, "failed");
		errno = EIO;
		return -1;
	}
	log_info("capture c%lld of %s started: %zu namespaces, %s, into %s",
		 (long long)o->f.row.id, r->workload, o->n_src,
		 r->filter && r->filter[0] ? r->filter : "all traffic",
		 o->f.row.path);
	/* Recorded now (not at the tick): 'capture list' shows it at once. */
	cap_row_put(m, &o->f.row);
	*out = o->f.row;
	return 0;
}

int capture_mgr_stop(struct capture_mgr *m, int64_t id, capture_done_fn done,
		     void *arg)
{
	for (struct ocap *o = m->live; o; o = o->next) {
		if (o->f.row.id != id || o->done_fn)
			continue;
		o->done_fn = done;
		o->done_arg = arg;
		ocap_finish(o);
		return 0;
	}
	errno = ENOENT;
	return -1;
}

void capture_mgr_forget(struct capture_mgr *m, void *arg)
{
	/* At shutdown the captures end (and tell arg) before the control
	 * server closes its connections, whose on_close lands here. */
	if (!m)
		return;
	for (struct ocap *o = m->live; o; o = o->next)
		if (o->done_arg == arg)
			o->done_fn = NULL;
}

static void ocap_src_drained(void *arg)
{
	struct ocap_src *s = arg;

	s->gone = NULL;
	live_cap_dispatch(s->lc, -1, ocap_packet, s->o);
	ocap_src_close(s);
	ocap_source_gone(s->o, "a namespace went away");
}

/*
 * The handle does not need w (it holds the namespace itself), and the
 * kernel still has the namespace's last packets in a block it hands over
 * only when its timer retires it: the handle is read on for that long,
 * then closed, which lets the namespace go.
 */
void capture_live_nsw_gone(struct capture_mgr *m, struct nsw *w)
{
	for (struct ocap *o = m->live; o; o = o->next) {
		for (size_t i = 0; i < o->n_src; i++) {
			struct ocap_src *s = &o->src[i];

			if (s->w != w)
				continue;
			s->w = NULL;
			if (!s->lc)
				continue;
			s->gone = evloop_timer_add(m->d->loop,
						   2 * LIVE_CAP_TIMEOUT_MS + 50,
						   ocap_src_drained, s);
			if (!s->gone)
				ocap_src_drained(s);
		}
	}
}

void capture_live_free_all(struct capture_mgr *m, const char *state)
{
	while (m->live)
		ocap_end(m->live, state);
}

long capture_live_count(const struct capture_mgr *m)
{
	long n = 0;

	for (const struct ocap *o = m->live; o; o = o->next)
		n++;
	return n;
}
