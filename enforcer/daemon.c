/*
 * nsegd's lifecycle: bring the pieces up in dependency order, run the
 * loop, and on SIGTERM/SIGINT write what was learned and remove the tables.
 */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nseg/addr_watch.h"
#include "nseg/alerts.h"
#include "nseg/ctl_server.h"
#include "nseg/daemon.h"
#include "nseg/daemon_run.h"
#include "nseg/evloop.h"
#include "nseg/enforce.h"
#include "nseg/flow_memo.h"
#include "nseg/learn_agg.h"
#include "nseg/learn_window.h"
#include "nseg/log.h"
#include "nseg/netns.h"
#include "nseg/capture_mgr.h"
#include "nseg/policy.h"
#include "nseg/policy_dir.h"
#include "nseg/privs.h"
#include "nseg/nft_table.h"
#include "nseg/proc_cache.h"
#include "nseg/queue_health.h"
#include "nseg/reload.h"
#include "nseg/store.h"
#include "nseg/tamper.h"
#include "nseg/usage.h"

/* How often rule counters (edge usage, rate-limited floods) are read. */
#define DAEMON_COUNTERS_MS 2000

/* Distinct edges held in memory between two flushes. */
#define DAEMON_MAX_PENDING 65536

/*
 * How long the loop waits for a lock another process holds on the
 * database. Everything on the loop holds up the packet path (queued
 * connections wait for their verdict), so flushes and other writes give
 * up quickly and keep their data for the next try. A control request may
 * wait longer: an operator's decision is worth a pause, and fails rather
 * than waits forever.
 */
#define DAEMON_FLUSH_BUSY_MS 20
#define DAEMON_CTL_BUSY_MS STORE_BUSY_TIMEOUT_MS

int64_t daemon_now(void)
{
	return (int64_t)time(NULL);
}

/* One line when writes start failing and one when they work again, on
 * top of each failure's own warning; status shows the rest. */
static void daemon_flush_outcome(struct daemon *d, int rc)
{
	const char *why = store_last_error(d->store);

	if (rc == 0) {
		if (d->flush_failing_since)
			log_info("database writes work again after %llds; "
				 "pending data written",
				 (long long)(daemon_now() -
					     d->flush_failing_since));
		d->flush_failing_since = 0;
		d->flush_error[0] = '\0';
		return;
	}
	d->flush_errors++;
	snprintf(d->flush_error, sizeof(d->flush_error), "%s",
		 why[0] ? why : "see the log");
	if (d->flush_failing_since)
		return;
	d->flush_failing_since = daemon_now();
	log_warnx("database %s: writes failing (%s); learned edges, usage "
		  "and alerts stay in memory and are retried every %u ms",
		  d->cfg.db_path, d->flush_error, d->cfg.flush_interval_ms);
}

static int daemon_flush_wait(struct daemon *d, int busy_ms)
{
	int prev = store_busy_timeout(d->store, busy_ms);
	int rc = 0;

	if (learn_agg_pending(d->agg) &&
	    learn_agg_flush(d->agg, d->store) == -1) {
		log_warnx("writing learned edges failed; kept for the next try");
		rc = -1;
	}
	/* One wait per flush: a lock that outlasted it outlasts the next
	 * write too. */
	if (rc == -1)
		store_busy_timeout(d->store, 0);
	if (usage_flush(d->usage, d->store) == -1) {
		log_warnx("writing edge usage failed; kept for the next try");
		rc = -1;
		store_busy_timeout(d->store, 0);
	}
	if (alerts_flush(d->alerts, d->store) == -1) {
		log_warnx("writing alerts failed; kept for the next try");
		rc = -1;
	}
	store_busy_timeout(d->store, prev);
	daemon_flush_outcome(d, rc);
	return rc;
}

int daemon_flush(struct daemon *d)
{
	return daemon_flush_wait(d, DAEMON_FLUSH_BUSY_MS);
}

static void daemon_ctl_wrap(int entering, void *arg)
{
	struct daemon *d = arg;

	store_busy_timeout(d->store, entering ? DAEMON_CTL_BUSY_MS
					      : DAEMON_FLUSH_BUSY_MS);
}

static void daemon_flush_timer(void *arg)
{
	struct daemon *d = arg;

	/* A dump of every enforcing table: not every second on a host with
	 * hundreds of namespaces. */
	if (evloop_now_ms(d->loop) - d->counters_ms >= DAEMON_COUNTERS_MS) {
		d->counters_ms = evloop_now_ms(d->loop);
		enforce_poll_counters(d);
		queue_health_poll(d);
		attrib_log_orphans(d);
	}
	daemon_flush(d);
	d->flush_timer = evloop_timer_add(d->loop, d->cfg.flush_interval_ms,
					  daemon_flush_timer, d);
}

static void daemon_host_addr(int add, const struct nseg_addr *a, void *arg)
{
	struct daemon *d = arg;

	for (size_t i = 0; i < d->n_host_addrs; i++) {
		if (!pkt_addr_eq(&d->host_addrs[i], a))
			continue;
		if (!add)
			d->host_addrs[i] = d->host_addrs[--d->n_host_addrs];
		return;
	}
	if (add && !pkt_addr_is_loopback(a) && d->n_host_addrs < NSW_MAX_ADDRS)
		d->host_addrs[d->n_host_addrs++] = *a;
}

static void daemon_on_host_addr(int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;

	if (addr_watch_dispatch(d->host_aw) == -1) {
		log_warnx("host address notifications lost: re-reading");
		d->n_host_addrs = 0;
		addr_watch_resync(d->host_aw);
	}
}

static void daemon_on_signal(int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload_config(d);
			continue;
		}
		log_info("signal %d: stopping", (int)si.ssi_signo);
		evloop_stop(d->loop);
	}
}

static int daemon_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd == -1)
		return -1;
	return evloop_add_fd(d->loop, d->sig_fd, EPOLLIN, daemon_on_signal, d);
}

static int daemon_open_store(struct daemon *d, char *err, size_t errlen)
{
	char dir[sizeof(d->cfg.db_path)];

	snprintf(dir, sizeof(dir), "%s", d->cfg.db_path);
	if (mkdir(dirname(dir), 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	d->store = store_open(d->cfg.db_path, err, errlen);
	if (!d->store)
		return -1;
	store_busy_timeout(d->store, DAEMON_FLUSH_BUSY_MS);
	return 0;
}

static void daemon_alerts_dir(struct daemon *d)
{
	char dir[sizeof(d->cfg.alerts_file)];

	if (!d->cfg.alerts_file[0])
		return;
	snprintf(dir, sizeof(dir), "%s", d->cfg.alerts_file);
	if (mkdir(dirname(dir), 0750) == -1 && errno != EEXIST)
		log_warn("cannot create %s; alerts go to the database and "
			 "syslog only", dir);
}

static void daemon_runtime_paths(struct daemon *d)
{
	struct runtime_paths *p = &d->rpaths;

	runtime_paths_default(p);
	snprintf(p->podman_storage, sizeof(p->podman_storage), "%s",
		 d->cfg.podman_storage);
	snprintf(p->runc_state, sizeof(p->runc_state), "%s",
		 d->cfg.runc_state);
	snprintf(p->docker_root, sizeof(p->docker_root), "%s",
		 d->cfg.docker_root);
	snprintf(p->containerd_state, sizeof(p->containerd_state), "%s",
		 d->cfg.containerd_state);
}

/* Each watched namespace costs about seven fds: take the hard limit and
 * derive how many namespaces fit, keeping room for clients and SQLite. */
static void daemon_fd_limit(struct daemon *d)
{
	struct rlimit rl;

	d->max_netns = 4096;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rl.rlim_cur - 256) / 7 < d->max_netns)
		d->max_netns = rl.rlim_cur > 256 + 7 ? (rl.rlim_cur - 256) / 7 : 1;
}

int daemon_init(struct daemon *d, char *err, size_t errlen)
{
	d->inotify_fd = -1;
	d->sig_fd = -1;
	d->netns_dir = "/run/netns";
	d->started = daemon_now();
	daemon_fd_limit(d);
	if (netns_init() == -1) {
		snprintf(err, errlen, "own network namespace: %s",
			 strerror(errno));
		return -1;
	}
	d->loop = evloop_new();
	d->agg = learn_agg_new(DAEMON_MAX_PENDING);
	d->pc = proc_cache_new("/proc");
	d->rcache = runtime_cache_new();
	d->memo = flow_memo_new();
	d->policy = policy_new();
	d->usage = usage_new();
	d->alerts = alerts_new(d->cfg.alerts_file, d->cfg.alert_window_ms / 1000);
	if (!d->loop || !d->agg || !d->pc || !d->rcache || !d->memo ||
	    !d->policy || !d->alerts || !d->usage) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	daemon_runtime_paths(d);
	if (daemon_open_store(d, err, errlen) == -1)
		return -1;
	if (alerts_load(d->alerts, d->store) == -1)
		log_warnx("alerts: reading the open ones failed; a deviation "
			  "seen again opens a new alert");
	if (policy_dir_apply(d, err, errlen) == -1)
		return -1;
	if (!(d->cap = capture_mgr_new(d))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Before any table is built: a restarted daemon must install the
	 * approved baselines, not a learning table, in enforced namespaces. */
	if (policy_load_all(d->policy, d->store) == -1) {
		snprintf(err, errlen, "loading approved baselines failed");
		return -1;
	}
	daemon_alerts_dir(d);
	d->native_queue = nft_table_probe_native_queue();
	if (d->native_queue == -1) {
		log_warnx("probing the nft queue expression failed; using the "
			  "xt NFQUEUE target");
		d->native_queue = 0;
	}
	d->host_aw = addr_watch_open(-1, daemon_host_addr, d);
	if (d->host_aw)
		evloop_add_fd(d->loop, addr_watch_fd(d->host_aw), EPOLLIN,
			      daemon_on_host_addr, d);
	if (daemon_signals(d) == -1) {
		snprintf(err, errlen, "signals: %s", strerror(errno));
		return -1;
	}
	d->ctl = ctl_server_new(d->loop, d->cfg.socket_path,
				d->cfg.socket_group, err, errlen);
	if (d->ctl)
		ctl_server_wrap(d->ctl, daemon_ctl_wrap, d);
	if (!d->ctl || ctl_handlers_register(d) == -1 ||
	    ctl_decide_register(d) == -1 ||
	    ctl_policy_register(d) == -1 || ctl_capture_register(d) == -1)
		return -1;
	if (discovery_start(d) == -1) {
		snprintf(err, errlen, "discovery failed to start");
		return -1;
	}
	d->flush_timer = evloop_timer_add(d->loop, d->cfg.flush_interval_ms,
					  daemon_flush_timer, d);
	if (tamper_start(d) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (learn_window_start(d) == -1) {
		snprintf(err, errlen, "learn-then-enforce failed to start");
		return -1;
	}
	/* Last: everything that needed full root is set up. */
	return privs_drop(err, errlen);
}

int daemon_run(struct daemon *d)
{
	size_t n[3] = { 0 };

	for (struct nsw *w = d->nsws; w; w = w->next)
		n[w->mode <= POLICY_ENFORCE ? w->mode : POLICY_LEARN]++;
	log_info("watching %zu network namespaces (%zu learning, %zu "
		 "notifying, %zu enforcing); control socket %s",
		 n[0] + n[1] + n[2], n[POLICY_LEARN], n[POLICY_NOTIFY],
		 n[POLICY_ENFORCE], d->cfg.socket_path);
	return evloop_run(d->loop);
}

void daemon_shutdown(struct daemon *d)
{
	/* Captures end first: their files close and their rows are final
	 * while the namespaces and the store are still there. */
	capture_mgr_free(d->cap);
	d->cap = NULL;
	/* The last chance to write what memory holds: no packets wait on
	 * the loop any more, so wait for a lock as long as a request does. */
	if (d->agg && d->store)
		daemon_flush_wait(d, STORE_BUSY_TIMEOUT_MS);
	/* Learning tables go; notify/enforce tables stay unless configured
	 * otherwise, so a stop or an upgrade does not lift enforcement. */
	while (d->nsws)
		nsw_free(d->nsws, d->nsws->mode == POLICY_LEARN ||
					  !d->cfg.stop_keeps_enforcement);
	if (d->loop) {
		learn_window_stop(d);
		discovery_stop(d);
	}
	ctl_server_free(d->ctl);
	if (d->host_aw)
		addr_watch_close(d->host_aw);
	if (d->sig_fd != -1)
		close(d->sig_fd);
	store_close(d->store);
	learn_agg_free(d->agg);
	proc_cache_free(d->pc);
	runtime_cache_free(d->rcache);
	flow_memo_free(d->memo);
	policy_free(d->policy);
	usage_free(d->usage);
	alerts_free(d->alerts);
	evloop_free(d->loop);
	netns_shutdown();
	config_free(&d->cfg);
}
