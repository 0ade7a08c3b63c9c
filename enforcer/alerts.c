#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "nseg/alert_json.h"
#include "nseg/alerts.h"
#include "nseg/ctl_server.h"
#include "nseg/enforce.h"
#include "nseg/log.h"
#include "nseg/store.h"

/* Distinct deviations tracked at once; past it the oldest written one is
 * forgotten (a later repeat starts a new alert). */
#define ALERTS_MAX 4096
_Static_assert(ALERTS_MAX > 1, "alerts_load_cb drops the head, never the tail");
#define ALERTS_MAX_FOLLOWERS 32
/* Open deviation alerts per workload before new ones fold into its flood
 * alert. */
#define ALERTS_DISTINCT_MAX 50

struct alert_ent {
	struct store_alert a;  /* a.id == 0 until in the database */
	uint64_t unwritten;    /* count raised since the last bump written */
	uint64_t published;    /* count in the last JSON line sent */
	int added_now;         /* inserted by the transaction in progress */
	struct alert_ent *next;
};

struct alert_follower {
	struct ctl_conn *c;
	char workload[NSEG_NAME_MAX]; /* "" = all */
};

struct alerts {
	char path[4096];
	uint32_t window_s;
	struct alert_ent *ents; /* oldest first: ids and published lines
				 * follow the order alerts were raised */
	size_t n;
	struct alert_follower followers[ALERTS_MAX_FOLLOWERS];
	size_t n_followers;
	struct alerts_stats st;
};

struct alerts *alerts_new(const char *path, uint32_t window_s)
{
	struct alerts *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	snprintf(a->path, sizeof(a->path), "%s", path ? path : "");
	a->window_s = window_s;
	return a;
}

void alerts_configure(struct alerts *a, const char *path, uint32_t window_s)
{
	snprintf(a->path, sizeof(a->path), "%s", path ? path : "");
	a->window_s = window_s;
}

void alerts_free(struct alerts *a)
{
	if (!a)
		return;
	while (a->ents) {
		struct alert_ent *e = a->ents;
		a->ents = e->next;
		free(e);
	}
	free(a);
}

/* Same deviation: same workload, version, process, direction, peer,
 * protocol, port, action and kind. */
static int alerts_same(const struct store_alert *x, const struct store_alert *y)
{
	return x->dir == y->dir && x->proto == y->proto && x->port == y->port &&
	       strcmp(x->action, y->action) == 0 &&
	       strcmp(x->kind, y->kind) == 0 &&
	       strcmp(x->workload, y->workload) == 0 &&
	       strcmp(x->version, y->version) == 0 &&
	       strcmp(x->peer, y->peer) == 0 &&
	       strcmp(x->proc.exe, y->proc.exe) == 0 &&
	       strcmp(x->proc.comm, y->proc.comm) == 0;
}

static void alerts_evict(struct alerts *a, int64_t now)
{
	struct alert_ent **pp = &a->ents, *oldest_written = NULL;

	/* Expired windows go (their final count is written). */
	while (*pp) {
		struct alert_ent *e = *pp;

		if (e->a.id && !e->unwritten && e->published == e->a.count &&
		    now - e->a.time_first >= a->window_s) {
			*pp = e->next;
			free(e);
			a->n--;
			continue;
		}
		if (!oldest_written && e->a.id && !e->unwritten)
			oldest_written = e;
		pp = &e->next;
	}
	if (a->n < ALERTS_MAX || !oldest_written)
		return;
	for (pp = &a->ents; *pp; pp = &(*pp)->next) {
		if (*pp == oldest_written) {
			*pp = oldest_written->next;
			free(oldest_written);
			a->n--;
			return;
		}
	}
}

/* The open alert of t's deviation: the newest, when a window changed
 * (SIGHUP) left an older one open too. NULL if none. */
static struct alert_ent *alerts_find_open(struct alerts *a,
					  const struct store_alert *t,
					  int64_t now)
{
	struct alert_ent *found = NULL;

	for (struct alert_ent *e = a->ents; e; e = e->next)
		if (alerts_same(&e->a, t) && now - e->a.time_first < a->window_s)
			found = e;
	return found;
}

/* Counts n more of t: into the open alert of the same deviation, or a new
 * one (*created). Returns that alert, or NULL when it could not be kept. */
static struct store_alert *alerts_bump(struct alerts *a, struct alert_ent *e,
				       uint64_t n, int64_t now)
{
	e->a.count += n;
	e->a.time_last = now;
	e->unwritten += n;
	a->st.deduplicated++;
	return &e->a;
}

/* A new alert for t, appended (ids follow the order raised). */
static struct store_alert *alerts_add(struct alerts *a,
				      const struct store_alert *t, uint64_t n,
				      int64_t now, int *created)
{
	struct alert_ent *e, **pp;

	alerts_evict(a, now);
	if (a->n >= ALERTS_MAX || !(e = calloc(1, sizeof(*e)))) {
		a->st.dropped++;
		return NULL;
	}
	e->a = *t;
	e->a.id = 0;
	e->a.time_first = e->a.time_last = now;
	e->a.count = n;
	for (pp = &a->ents; *pp; pp = &(*pp)->next)
		;
	*pp = e;
	a->n++;
	*created = 1;
	return &e->a;
}

static struct store_alert *alerts_count(struct alerts *a,
					const struct store_alert *t,
					uint64_t n, int64_t now, int *created)
{
	struct alert_ent *e = alerts_find_open(a, t, now);

	*created = 0;
	return e ? alerts_bump(a, e, n, now) : alerts_add(a, t, n, now, created);
}

/* A flood or tamper alert: one per workload, no flow of its own. */
static int alerts_is_summary(const struct store_alert *a)
{
	return strcmp(a->kind, "flood") == 0 || strcmp(a->kind, "tamper") == 0;
}

/* Distinct open deviation alerts of a workload (a scan raises one per
 * port or peer). */
static size_t alerts_open_of(struct alerts *a, const char *workload,
			     int64_t now)
{
	size_t n = 0;

	for (struct alert_ent *e = a->ents; e; e = e->next)
		if (!alerts_is_summary(&e->a) &&
		    strcmp(e->a.workload, workload) == 0 &&
		    now - e->a.time_first < a->window_s)
			n++;
	return n;
}

/* A flood alert stands for everything a workload did beyond the limits,
 * a tamper alert for every change someone else made to its tables: no
 * peer, no port, one count. */
static void alerts_as_summary(struct store_alert *t, const char *kind)
{
	snprintf(t->kind, sizeof(t->kind), "%s", kind);
	snprintf(t->peer, sizeof(t->peer), "*");
	t->peer_address[0] = '\0';
	t->proto = 0;
	t->port = 0;
	t->dir = NSEG_EGRESS;
	snprintf(t->proc.exe, sizeof(t->proc.exe), "*");
	snprintf(t->proc.comm, sizeof(t->proc.comm), "*");
	t->pid = 0;
	t->container[0] = '\0';
}

struct store_alert *alerts_raise(struct alerts *a,
				 const struct nseg_edge_key *k,
				 const struct enforce_ctx *x, const char *action,
				 int64_t revision, const char *drift_from,
				 int *created)
{
	int64_t now = (int64_t)time(NULL);
	struct store_alert t = { 0 }, *got;
	struct alert_ent *e;

	a->st.raised++;
	memcpy(t.workload, k->workload, sizeof(t.workload));
	memcpy(t.version, k->version, sizeof(t.version));
	snprintf(t.container, sizeof(t.container), "%s", x->container);
	t.pid = x->pid;
	t.proc = k->proc;
	t.dir = k->dir;
	memcpy(t.peer, k->peer, sizeof(t.peer));
	snprintf(t.peer_address, sizeof(t.peer_address), "%s",
		 x->peer_address);
	t.proto = k->proto;
	t.port = k->port;
	snprintf(t.action, sizeof(t.action), "%s", action);
	snprintf(t.kind, sizeof(t.kind), "%s", drift_from ? "drift" : "deviation");
	if (drift_from)
		snprintf(t.baseline_version, sizeof(t.baseline_version), "%s",
			 drift_from);
	t.baseline = revision;
	*created = 0;
	/* One walk of the open alerts in the common case: a repeat. */
	if ((e = alerts_find_open(a, &t, now)))
		return alerts_bump(a, e, 1, now);
	/* A scan: past ALERTS_DISTINCT_MAX open deviations of one workload,
	 * new ones only count in its flood alert. */
	if (alerts_open_of(a, t.workload, now) >= ALERTS_DISTINCT_MAX) {
		alerts_as_summary(&t, "flood");
		got = alerts_count(a, &t, 1, now, created);
	} else {
		got = alerts_add(a, &t, 1, now, created);
	}
	/* A flood alert stands for many flows: none of them is its own. */
	return got && !alerts_is_summary(got) ? got : NULL;
}

void alerts_raise_flood(struct alerts *a, const char *workload,
			const char *version, const char *action, uint64_t n,
			int64_t revision)
{
	struct store_alert t = { 0 };
	int created;

	a->st.raised += n;
	snprintf(t.workload, sizeof(t.workload), "%s", workload);
	snprintf(t.version, sizeof(t.version), "%s", version);
	snprintf(t.action, sizeof(t.action), "%s", action);
	t.baseline = revision;
	alerts_as_summary(&t, "flood");
	alerts_count(a, &t, n, (int64_t)time(NULL), &created);
}

void alerts_raise_tamper(struct alerts *a, const char *workload,
			 const char *version, const char *action,
			 int64_t revision)
{
	struct store_alert t = { 0 };
	int created;

	a->st.raised++;
	snprintf(t.workload, sizeof(t.workload), "%s", workload);
	snprintf(t.version, sizeof(t.version), "%s", version);
	snprintf(t.action, sizeof(t.action), "%s", action);
	t.baseline = revision;
	alerts_as_summary(&t, "tamper");
	alerts_count(a, &t, 1, (int64_t)time(NULL), &created);
}

struct alerts_load_ctx {
	struct alerts *a;
	int64_t now;
	struct alert_ent **tail;
};

static int alerts_load_cb(const struct store_alert *sa, void *arg)
{
	struct alerts_load_ctx *x = arg;
	struct alerts *a = x->a;
	struct alert_ent *e;

	if (x->now - sa->time_first >= a->window_s)
		return 0;
	if (!(e = calloc(1, sizeof(*e))))
		return -1;
	e->a = *sa;
	e->published = sa->count;
	*x->tail = e;
	x->tail = &e->next;
	/* A scan's worth: the oldest open ones go first (never the one
	 * just added: ALERTS_MAX > 1). */
	if (++a->n > ALERTS_MAX) {
		struct alert_ent *old = a->ents;

		a->ents = old->next;
		free(old);
		a->n--;
	}
	return 0;
}

int alerts_load(struct alerts *a, struct store *s)
{
	struct alerts_load_ctx x = { a, (int64_t)time(NULL), &a->ents };

	while (*x.tail)
		x.tail = &(*x.tail)->next;
	return store_alerts_foreach(s, NULL, x.now - a->window_s, 0,
				    alerts_load_cb, &x);
}

static void alerts_write_line(struct alerts *a, const char *line)
{
	int fd;

	if (!a->path[0])
		return;
	/* Opened per batch: rotation by logrotate (rename + create) just
	 * works, and a full disk costs one line, not the daemon. */
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		log_warn("alerts: %s", a->path);
		return;
	}
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0)
		log_warn("alerts: writing %s", a->path);
	close(fd);
}

static void alerts_publish(struct alerts *a, const struct store_alert *sa,
			   int is_new)
{
	json_t *j = alert_json(sa);
	char *line;

	if (!j)
		return;
	line = json_dumps(j, JSON_COMPACT);
	if (line) {
		alerts_write_line(a, line);
		free(line);
	}
	if (is_new && alerts_is_summary(sa))
		log_warnx("alert %lld: %s %s %s", (long long)sa->id,
			  sa->action, sa->kind, sa->workload);
	else if (is_new)
		log_warnx("alert %lld: %s %s %s(%s) %s %s %s/%u (%s)",
			  (long long)sa->id, sa->action, sa->workload,
			  sa->proc.comm, sa->proc.exe,
			  sa->dir == NSEG_EGRESS ? "->" : "<-", sa->peer,
			  nseg_proto_name(sa->proto) ? nseg_proto_name(sa->proto)
						     : "?",
			  sa->port, sa->peer_address);
	for (size_t i = 0; i < a->n_followers; i++) {
		struct alert_follower *f = &a->followers[i];

		if (f->workload[0] && strcmp(f->workload, sa->workload) != 0)
			continue;
		ctl_reply_record(f->c, json_incref(j));
	}
	json_decref(j);
}

/* Database first (one transaction); only what it holds is published. */
static int alerts_store(struct alerts *a, struct store *s)
{
	struct alert_ent *e;

	if (store_begin(s) == -1)
		return -1;
	for (e = a->ents; e; e = e->next) {
		if (!e->a.id) {
			if (store_alert_add(s, &e->a) == -1)
				break;
			e->added_now = 1;
		} else if (e->unwritten &&
			   store_alert_bump(s, e->a.id, e->unwritten,
					    e->a.time_last) == -1) {
			break;
		}
	}
	if (e || store_commit(s) == -1) {
		store_rollback(s);
		for (e = a->ents; e; e = e->next) {
			if (e->added_now)
				e->a.id = 0; /* void: inserted by the rollback */
			e->added_now = 0;
		}
		a->st.write_errors++;
		return -1;
	}
	for (e = a->ents; e; e = e->next) {
		if (e->added_now)
			e->unwritten = 0;
		else if (e->a.id)
			e->unwritten = 0;
		e->added_now = 0;
	}
	return 0;
}

int alerts_flush(struct alerts *a, struct store *s)
{
	if (!a->ents)
		return 0;
	if (alerts_store(a, s) == -1)
		return -1;
	for (struct alert_ent *e = a->ents; e; e = e->next) {
		if (e->published == e->a.count)
			continue;
		alerts_publish(a, &e->a, e->published == 0);
		e->published = e->a.count;
		a->st.written++;
	}
	return 0;
}

static void alerts_follower_gone(struct ctl_conn *c, void *arg)
{
	struct alerts *a = arg;

	for (size_t i = 0; i < a->n_followers; i++) {
		if (a->followers[i].c == c) {
			a->followers[i] = a->followers[--a->n_followers];
			return;
		}
	}
}

int alerts_follow(struct alerts *a, struct ctl_conn *c, const char *workload)
{
	struct alert_follower *f;

	if (a->n_followers >= ALERTS_MAX_FOLLOWERS)
		return -1;
	if (ctl_conn_keep(c, alerts_follower_gone, a) == -1)
		return -1;
	f = &a->followers[a->n_followers++];
	f->c = c;
	snprintf(f->workload, sizeof(f->workload), "%s", workload ? workload : "");
	return 0;
}

void alerts_get_stats(const struct alerts *a, struct alerts_stats *out)
{
	*out = a->st;
}

size_t alerts_pending(const struct alerts *a)
{
	size_t n = 0;

	for (const struct alert_ent *e = a->ents; e; e = e->next)
		if (!e->a.id || e->unwritten)
			n++;
	return n;
}
