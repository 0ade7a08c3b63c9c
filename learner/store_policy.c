#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nseg/log.h"
#include "nseg/policy.h"
#include "nseg/store_policy.h"
#include "store_int.h"

/* The approved edges of the workload when the apply began. */
struct sp_current {
	struct store_edge *e;
	size_t n, cap;
	unsigned char *kept;
};

struct sp_ctx {
	struct store *s;
	sqlite3 *db;
	int64_t wid;
	const char *workload;
	char origin[NSEG_NAME_MAX + 8];
	const char *who;
	int64_t now;
	store_policy_cb cb;
	void *arg;
	int changes, edges_changed;
};

static int sp_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	log_warnx("store policy: %s", sqlite3_errmsg(db));
	*st = NULL;
	return -1;
}

/* Steps st to its end and finalizes it. */
static int sp_run(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	log_warnx("store policy: %s", sqlite3_errmsg(db));
	errno = EIO;
	return -1;
}

static int sp_collect(const struct store_edge *e, void *arg)
{
	struct sp_current *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct store_edge *ne = realloc(c->e, cap * sizeof(*ne));

		if (!ne)
			return -1;
		c->e = ne;
		c->cap = cap;
	}
	c->e[c->n++] = *e;
	return 0;
}

static const char *sp_exe(const struct policy_doc_rule *r)
{
	return r->any_process ? "*" : r->proc.exe;
}

/* Does the approved edge e express rule r of a document pinned to pin? */
static int sp_expresses(const struct store_edge *e,
			const struct policy_doc_rule *r, const char *pin)
{
	if (e->key.dir != r->dir || e->key.proto != r->proto ||
	    e->key.port != r->port_lo || e->port_hi != r->port_hi ||
	    strcmp(e->key.peer, r->peer) != 0 ||
	    (e->any_process != 0) != (r->any_process != 0))
		return 0;
	if (pin[0] && strcmp(e->key.version, pin) != 0)
		return 0;
	return r->any_process || (strcmp(e->key.proc.exe, r->proc.exe) == 0 &&
				  strcmp(e->key.proc.comm, r->proc.comm) == 0);
}

static int sp_tell(struct sp_ctx *x, enum store_policy_change_kind kind,
		   const struct store_edge *e, const char *from, const char *to)
{
	struct store_policy_change c = { kind, x->workload, e, from, to };

	x->changes++;
	if (kind == STORE_POLICY_ADD || kind == STORE_POLICY_REMOVE)
		x->edges_changed++;
	if (x->cb && x->cb(&c, x->arg) != 0) {
		errno = ECANCELED;
		return -1;
	}
	return 0;
}

/* An approved edge no rule names: learned ones wait for a decision
 * again, a policy's own rules go. */
static int sp_withdraw(struct sp_ctx *x, const struct store_edge *e)
{
	sqlite3_stmt *st;
	int learned = strcmp(e->origin, STORE_ORIGIN_LEARNED) == 0;

	if (sp_tell(x, STORE_POLICY_REMOVE, e, NULL, NULL) == -1)
		return -1;
	if (sp_prepare(x->db,
		       learned ? "UPDATE edges SET state = 'learned',"
				 " any_process = 0, decided_by = ?2,"
				 " decided_at = ?3 WHERE id = ?1"
			       : "DELETE FROM edges WHERE id = ?1",
		       &st) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, e->id);
	if (learned) {
		sqlite3_bind_text(st, 2, x->who, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, x->now);
	}
	return sp_run(x->db, st);
}

static int sp_version_row(struct sp_ctx *x, const char *version)
{
	sqlite3_stmt *st;

	if (sp_prepare(x->db,
		       "INSERT INTO versions (workload_id, version, first_seen,"
		       " last_seen) VALUES (?1, ?2, ?3, ?3)"
		       " ON CONFLICT (workload_id, version) DO NOTHING",
		       &st) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, x->wid);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, x->now);
	return sp_run(x->db, st);
}

static void sp_edge_of_rule(const struct sp_ctx *x,
			    const struct policy_doc_rule *r,
			    const char *version, struct store_edge *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->key.workload, sizeof(e->key.workload), "%s", x->workload);
	snprintf(e->key.version, sizeof(e->key.version), "%s", version);
	snprintf(e->key.proc.exe, sizeof(e->key.proc.exe), "%s", sp_exe(r));
	if (!r->any_process)
		memcpy(e->key.proc.comm, r->proc.comm, sizeof(e->key.proc.comm));
	e->key.dir = r->dir;
	memcpy(e->key.peer, r->peer, sizeof(e->key.peer));
	e->key.proto = r->proto;
	e->key.port = r->port_lo;
	e->port_hi = r->port_hi;
	snprintf(e->state, sizeof(e->state), "approved");
	e->any_process = r->any_process;
	snprintf(e->origin, sizeof(e->origin), "%s", x->origin);
	snprintf(e->decided_by, sizeof(e->decided_by), "%s", x->who);
	e->decided_at = x->now;
	e->first_seen = e->last_seen = x->now;
}

/*
 * A rule no approved edge expresses. An edge with the same identity that
 * waits for a decision (or was rejected) is approved in place, keeping
 * its history and origin; otherwise the rule is a new edge.
 */
static int sp_grant(struct sp_ctx *x, const struct policy_doc_rule *r,
		    const char *pin)
{
	const char *version = pin[0] ? pin : STORE_VERSION_ANY;
	struct store_edge e;
	sqlite3_stmt *st;

	sp_edge_of_rule(x, r, version, &e);
	if (sp_tell(x, STORE_POLICY_ADD, &e, NULL, NULL) == -1 ||
	    sp_version_row(x, version) == -1)
		return -1;
	if (sp_prepare(x->db,
		       "INSERT INTO edges (workload_id, version, exe, comm,"
		       " direction, peer, protocol, port, port_hi, state, count,"
		       " first_seen, last_seen, any_process, origin, decided_by,"
		       " decided_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		       " 'approved', 0, ?10, ?10, ?11, ?12, ?13, ?10)"
		       " ON CONFLICT (workload_id, version, exe, comm, direction,"
		       " peer, peer_exe, peer_comm, protocol, port) DO UPDATE SET"
		       " state = 'approved', port_hi = excluded.port_hi,"
		       " any_process = excluded.any_process,"
		       " decided_by = excluded.decided_by,"
		       " decided_at = excluded.decided_at",
		       &st) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, x->wid);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sp_exe(r), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->any_process ? "" : r->proc.comm, -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 5, nseg_dir_name(r->dir), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, nseg_proto_name(r->proto), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, r->port_lo);
	if (r->port_hi > r->port_lo)
		sqlite3_bind_int(st, 9, r->port_hi);
	sqlite3_bind_int64(st, 10, x->now);
	sqlite3_bind_int(st, 11, r->any_process != 0);
	sqlite3_bind_text(st, 12, x->origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, x->who, -1, SQLITE_STATIC);
	return sp_run(x->db, st);
}

/* Does an edge approved before the apply express r? mark: keep those. */
static int sp_expressed(struct sp_current *cur,
			const struct policy_doc_rule *r, const char *pin,
			int mark)
{
	int found = 0;

	for (size_t j = 0; j < cur->n; j++) {
		if (sp_expresses(&cur->e[j], r, pin)) {
			if (mark)
				cur->kept[j] = 1;
			found = 1;
		}
	}
	return found;
}

/*
 * Withdrawals go before grants: a rule may land on the row of an approved
 * edge that does not express it (another port range, or approved for any
 * process), and withdrawing that edge afterwards would undo the rule.
 */
static int sp_rules(struct sp_ctx *x, const struct policy_doc *docs, size_t n,
		    struct sp_current *cur)
{
	for (size_t d = 0; d < n; d++)
		for (size_t i = 0; i < docs[d].n_rules; i++)
			sp_expressed(cur, &docs[d].rules[i], docs[d].version,
				     1);
	for (size_t j = 0; j < cur->n; j++)
		if (!cur->kept[j] && sp_withdraw(x, &cur->e[j]) == -1)
			return -1;
	for (size_t d = 0; d < n; d++) {
		for (size_t i = 0; i < docs[d].n_rules; i++) {
			const struct policy_doc_rule *r = &docs[d].rules[i];

			if (!sp_expressed(cur, r, docs[d].version, 0) &&
			    sp_grant(x, r, docs[d].version) == -1)
				return -1;
		}
	}
	return 0;
}

static int sp_get_text(sqlite3 *db, int64_t wid, const char *col, char *out,
		       size_t len)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM workloads WHERE id = ?1",
		 col);
	if (sp_prepare(db, sql, &st) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, wid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, len, "%s",
			 sqlite3_column_type(st, 0) == SQLITE_NULL
				 ? ""
				 : (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	errno = EIO;
	return -1;
}

static int sp_set(struct sp_ctx *x, const char *col, const char *value)
{
	char sql[128];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), "UPDATE workloads SET %s = ?2 WHERE id = ?1",
		 col);
	if (sp_prepare(x->db, sql, &st) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, x->wid);
	if (strcmp(col, "mode") == 0)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, strtoll(value, NULL, 10));
	return sp_run(x->db, st);
}

/* Mode and learning window: set by the last document that names them. */
static int sp_settings(struct sp_ctx *x, const struct policy_doc *docs,
		       size_t n)
{
	int mode = -1;
	int64_t window = -1;
	char cur[32], want[32];

	for (size_t d = 0; d < n; d++) {
		if (docs[d].mode >= 0)
			mode = docs[d].mode;
		if (docs[d].learn_window_ms > 0)
			window = docs[d].learn_window_ms;
	}
	if (mode >= 0) {
		snprintf(want, sizeof(want), "%s",
			 policy_mode_name((enum policy_mode)mode));
		if (sp_get_text(x->db, x->wid, "mode", cur, sizeof(cur)) == -1)
			return -1;
		if (strcmp(cur, want) != 0 &&
		    (sp_tell(x, STORE_POLICY_MODE, NULL, cur, want) == -1 ||
		     sp_set(x, "mode", want) == -1))
			return -1;
	}
	if (window > 0) {
		snprintf(want, sizeof(want), "%" PRId64, window);
		if (sp_get_text(x->db, x->wid, "learn_window_ms", cur,
				sizeof(cur)) == -1)
			return -1;
		if (strcmp(cur, want) != 0 &&
		    (sp_tell(x, STORE_POLICY_WINDOW, NULL, cur, want) == -1 ||
		     sp_set(x, "learn_window_ms", want) == -1))
			return -1;
	}
	return 0;
}

static int sp_bump(struct sp_ctx *x)
{
	sqlite3_stmt *st;

	if (sp_prepare(x->db,
		       "UPDATE workloads SET revision = revision + 1"
		       " WHERE id = ?1",
		       &st) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, x->wid);
	return sp_run(x->db, st);
}

static int sp_same_workload(const struct policy_doc *docs, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t d = 1; d < n; d++)
		if (strcmp(docs[d].workload, docs[0].workload) != 0)
			return 0;
	return 1;
}

int store_policy_apply(struct store *s, const struct policy_doc *docs,
		       size_t n, const char *file, const char *who,
		       int64_t now, store_policy_cb cb, void *arg)
{
	struct sp_ctx x = { .s = s, .db = store_sqlite(s), .who = who,
			    .now = now, .cb = cb, .arg = arg };
	struct sp_current cur = { 0 };
	int ret = -1;

	if (!sp_same_workload(docs, n) || sqlite3_get_autocommit(x.db)) {
		errno = EINVAL;
		return -1;
	}
	x.workload = docs[0].workload;
	snprintf(x.origin, sizeof(x.origin), "%s%s", STORE_ORIGIN_POLICY, file);
	x.wid = store_workload_ensure(s, x.workload, now);
	if (x.wid <= 0) {
		errno = EIO;
		return -1;
	}
	if (store_approved_foreach(s, x.workload, sp_collect, &cur) == -1)
		goto out;
	if (cur.n && !(cur.kept = calloc(cur.n, 1)))
		goto out;
	if (sp_rules(&x, docs, n, &cur) == -1 || sp_settings(&x, docs, n) == -1)
		goto out;
	if (x.edges_changed && sp_bump(&x) == -1)
		goto out;
	ret = x.changes;
out:
	free(cur.e);
	free(cur.kept);
	return ret;
}

struct sp_export {
	struct policy_doc *doc;
	size_t cap;
	const char *version;
	const char *state;
};

static int sp_same_rule(const struct policy_doc_rule *a,
			const struct policy_doc_rule *b)
{
	return a->dir == b->dir && a->proto == b->proto &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       a->any_process == b->any_process &&
	       strcmp(a->peer, b->peer) == 0 &&
	       (a->any_process || (strcmp(a->proc.exe, b->proc.exe) == 0 &&
				   strcmp(a->proc.comm, b->proc.comm) == 0));
}

static int sp_export_edge(const struct store_edge *e, void *arg)
{
	struct sp_export *x = arg;
	struct policy_doc *d = x->doc;
	struct policy_doc_rule r = { 0 };

	if (strcmp(e->state, x->state) != 0)
		return 0;
	if (x->version && strcmp(e->key.version, x->version) != 0 &&
	    strcmp(e->key.version, STORE_VERSION_ANY) != 0)
		return 0;
	r.dir = e->key.dir;
	r.proto = e->key.proto;
	r.port_lo = e->key.port;
	r.port_hi = e->port_hi > e->key.port ? e->port_hi : e->key.port;
	memcpy(r.peer, e->key.peer, sizeof(r.peer));
	r.any_process = e->any_process;
	if (!r.any_process)
		r.proc = e->key.proc;
	for (size_t i = 0; i < d->n_rules; i++)
		if (sp_same_rule(&d->rules[i], &r))
			return 0;
	if (d->n_rules == POLICY_DOC_MAX_RULES) {
		errno = E2BIG;
		return -1;
	}
	if (d->n_rules == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		struct policy_doc_rule *nr = realloc(d->rules,
						     cap * sizeof(*nr));

		if (!nr)
			return -1;
		d->rules = nr;
		x->cap = cap;
	}
	d->rules[d->n_rules++] = r;
	return 0;
}

int64_t store_workload_learn_window(struct store *s, const char *workload)
{
	sqlite3 *db = store_sqlite(s);
	sqlite3_stmt *st;
	int64_t ms = -1;
	int rc;

	if (sp_prepare(db,
		       "SELECT coalesce(learn_window_ms, 0) FROM workloads"
		       " WHERE name = ?1",
		       &st) == -1)
		return -1;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ms = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		errno = ENOENT;
	else
		errno = EIO;
	sqlite3_finalize(st);
	return ms;
}

void policy_doc_clear(struct policy_doc *doc)
{
	if (!doc)
		return;
	free(doc->rules);
	memset(doc, 0, sizeof(*doc));
	doc->mode = -1;
	doc->learn_window_ms = -1;
}

int store_policy_export(struct store *s, const char *workload,
			const char *version, int learned,
			struct policy_doc *out)
{
	struct sp_export x = { out, 0, version,
			       learned ? "learned" : "approved" };
	char mode[16];
	int64_t rev, window;
	int found;

	memset(out, 0, sizeof(*out));
	out->mode = -1;
	out->learn_window_ms = -1;
	snprintf(out->workload, sizeof(out->workload), "%s", workload);
	if (version)
		snprintf(out->version, sizeof(out->version), "%s", version);
	if (store_workload_get(s, workload, mode, &rev) == -1)
		return -1;
	if (!learned)
		out->mode = policy_mode_parse(mode);
	window = store_workload_learn_window(s, workload);
	if (window == -1)
		return -1;
	if (window > 0)
		out->learn_window_ms = window;
	if (store_edges_foreach(s, workload, NULL, &found, sp_export_edge,
				&x) == -1) {
		int err = errno;

		policy_doc_clear(out);
		errno = err == ENOMEM || err == E2BIG ? err : EIO;
		return -1;
	}
	return 0;
}

int store_policy_apply_set(struct store *s, const struct policy_doc_set *set,
			   const char *file, const char *who, int64_t now,
			   store_policy_cb cb, void *arg)
{
	unsigned char *done = calloc(set->n_docs + 1, 1);
	struct policy_doc *group = calloc(set->n_docs + 1, sizeof(*group));
	int changes = 0, rc = 0;

	if (!done || !group)
		rc = -1;
	for (size_t i = 0; rc != -1 && i < set->n_docs; i++) {
		size_t n = 0;

		if (done[i])
			continue;
		for (size_t j = i; j < set->n_docs; j++) {
			if (!done[j] && strcmp(set->docs[j].workload,
					       set->docs[i].workload) == 0) {
				group[n++] = set->docs[j];
				done[j] = 1;
			}
		}
		rc = store_policy_apply(s, group, n, file, who, now, cb, arg);
		changes += rc > 0 ? rc : 0;
	}
	free(done);
	free(group);
	return rc == -1 ? -1 : changes;
}
