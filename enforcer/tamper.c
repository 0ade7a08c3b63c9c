#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <libmnl/libmnl.h>

#include "nseg/alerts.h"
#include "nseg/daemon.h"
#include "nseg/enforce.h"
#include "nseg/evloop.h"
#include "nseg/log.h"
#include "nseg/nft_digest.h"
#include "nseg/nft_watch.h"
#include "nseg/policy.h"
#include "nseg/tamper.h"

/* How often the due namespaces are looked for, and the least time
 * between two repairs of one namespace. */
#define TAMPER_TICK_MS 1000
#define TAMPER_REPAIR_GAP_MS 1000

static void tamper_repair(struct nsw *w)
{
	struct daemon *d = w->d;
	char err[512], label[300];

	w->tamper.repaired_ms = evloop_now_ms(d->loop);
	w->replace_table = 1;
	if (enforce_compile(w, err, sizeof(err)) == -1) {
		d->tamper_repair_errors++;
		log_warnx("%s: repairing table inet nseg: %s",
			  nsw_label(w, label, sizeof(label)), err);
		return;
	}
	d->tamper_repairs++;
	log_info("%s: table inet nseg repaired (%s mode)",
		 nsw_label(w, label, sizeof(label)),
		 policy_mode_name(w->mode));
}

static void tamper_repair_timer(void *arg)
{
	struct nsw *w = arg;

	w->tamper.repair_timer = NULL;
	tamper_repair(w);
}

/* Repairs now, or when the rate allows (one pending repair at most). */
static void tamper_schedule_repair(struct nsw *w)
{
	struct evloop *l = w->d->loop;
	uint64_t now = evloop_now_ms(l), since;

	if (w->tamper.repair_timer)
		return;
	since = now - w->tamper.repaired_ms;
	if (w->tamper.repaired_ms && since < TAMPER_REPAIR_GAP_MS) {
		w->tamper.repair_timer =
			evloop_timer_add(l, TAMPER_REPAIR_GAP_MS - since,
					 tamper_repair_timer, w);
		if (w->tamper.repair_timer)
			return;
	}
	tamper_repair(w);
}

static void tamper_found(struct nsw *w, const char *note)
{
	struct daemon *d = w->d;
	char wl[NSEG_NAME_MAX], ver[NSEG_VERSION_MAX], label[300];
	const struct policy_workload *pw;

	d->tamper_found++;
	attrib_nsw_identity(d, w, wl, sizeof(wl), ver, sizeof(ver));
	pw = policy_get(d->policy, wl);
	log_warnx("%s (%s): table inet nseg changed by someone else: %s; "
		  "repairing",
		  nsw_label(w, label, sizeof(label)), wl, note);
	alerts_raise_tamper(d->alerts, wl, ver,
			    w->mode == POLICY_ENFORCE ? "block" : "notify",
			    pw ? pw->revision : 0);
	tamper_schedule_repair(w);
}

/* A full comparison of w's table with what nsegd compiled. */
static void tamper_check(struct nsw *w)
{
	char err[512], label[300];
	uint64_t now;

	/* A repair is on its way: the difference is already known. */
	if (w->tamper.repair_timer)
		return;
	w->d->tamper_checks++;
	if (nft_digest_read(w->nft, &now, err, sizeof(err)) == -1) {
		log_debug("%s: tamper check: %s",
			  nsw_label(w, label, sizeof(label)), err);
		return;
	}
	if (!w->tamper.digest_ok) {
		/* What nsegd compiled is not known: compile it again. */
		log_info("%s: table inet nseg unverified; recompiling",
			 nsw_label(w, label, sizeof(label)));
		tamper_schedule_repair(w);
		return;
	}
	if (now == w->tamper.digest)
		return;
	tamper_found(w, now == NFT_DIGEST_NONE
				? "table gone (found by the periodic check)"
				: "rules or sets differ from what nsegd "
				  "compiled (found by the periodic check)");
}

static void tamper_on_change(const char *note, void *arg)
{
	struct nsw *w = arg;

	if (w->d->cfg.tamper_check_ms)
		tamper_found(w, note);
}

static void tamper_on_event(int fd, uint32_t events, void *arg)
{
	struct nsw *w = arg;
	char label[300];

	if (nft_watch_dispatch(w->tamper.watch) == 0)
		return;
	if (errno != ENOBUFS) {
		log_warn("%s: nftables notifications",
			 nsw_label(w, label, sizeof(label)));
		return;
	}
	log_info("%s: nftables notifications lost: comparing the table",
		 nsw_label(w, label, sizeof(label)));
	if (w->d->cfg.tamper_check_ms)
		tamper_check(w);
}

int tamper_nsw_open(struct nsw *w)
{
	char label[300];

	w->tamper.watch = nft_watch_open(w->nsfd, mnl_socket_get_portid(w->nft),
					 tamper_on_change, w);
	if (w->tamper.watch &&
	    evloop_add_fd(w->d->loop, nft_watch_fd(w->tamper.watch), EPOLLIN,
			  tamper_on_event, w) == 0)
		return 0;
	log_warn("%s: nftables notifications (tamper checks stay periodic)",
		 nsw_label(w, label, sizeof(label)));
	nft_watch_close(w->tamper.watch);
	w->tamper.watch = NULL;
	return -1;
}

void tamper_nsw_close(struct nsw *w)
{
	if (w->tamper.repair_timer)
		evloop_timer_cancel(w->d->loop, w->tamper.repair_timer);
	w->tamper.repair_timer = NULL;
	if (w->tamper.watch) {
		evloop_del_fd(w->d->loop, nft_watch_fd(w->tamper.watch));
		nft_watch_close(w->tamper.watch);
		w->tamper.watch = NULL;
	}
}

void tamper_applied(struct nsw *w)
{
	char err[512], label[300];

	w->tamper.digest_ok = nft_digest_read(w->nft, &w->tamper.digest, err,
					      sizeof(err)) == 0;
	if (!w->tamper.digest_ok)
		log_warnx("%s: reading back the table: %s",
			  nsw_label(w, label, sizeof(label)), err);
}

/* First comparison of a namespace: somewhere in the interval, by its
 * inode, so namespaces found together are not all compared together. */
static uint64_t tamper_first_check(const struct nsw *w, uint64_t now,
				   uint32_t interval)
{
	return now + (w->ino * 2654435761u) % interval;
}

static void tamper_tick(void *arg)
{
	struct daemon *d = arg;
	uint32_t interval = d->cfg.tamper_check_ms;
	uint64_t now = evloop_now_ms(d->loop);

	d->tamper_timer =
		evloop_timer_add(d->loop, TAMPER_TICK_MS, tamper_tick, d);
	if (!interval)
		return;
	for (struct nsw *w = d->nsws; w; w = w->next) {
		/* Unscheduled, or scheduled by a longer interval (SIGHUP). */
		if (!w->tamper.next_check_ms ||
		    w->tamper.next_check_ms > now + interval)
			w->tamper.next_check_ms =
				tamper_first_check(w, now, interval);
		if (w->tamper.next_check_ms > now)
			continue;
		w->tamper.next_check_ms = now + interval;
		tamper_check(w);
	}
}

int tamper_start(struct daemon *d)
{
	d->tamper_timer =
		evloop_timer_add(d->loop, TAMPER_TICK_MS, tamper_tick, d);
	return d->tamper_timer ? 0 : -1;
}

json_t *tamper_status_json(const struct daemon *d)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "check_interval_s",
			 (json_int_t)(d->cfg.tamper_check_ms / 1000), "checks",
			 (json_int_t)d->tamper_checks, "found",
			 (json_int_t)d->tamper_found, "repairs",
			 (json_int_t)d->tamper_repairs, "repair_errors",
			 (json_int_t)d->tamper_repair_errors);
}
