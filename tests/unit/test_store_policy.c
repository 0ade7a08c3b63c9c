/*
 * Policies as code on the store's side: policy documents (built by hand
 * here, not loaded from YAML) applied to a real store file, and the
 * store's baseline exported back as a document.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nseg/policy.h"
#include "nseg/store.h"
#include "nseg/store_policy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define WHO "uid 0 (root)"
#define NOW 5000

static char tmpdir[64];
static char dbpath[128];
static struct store *st;

static struct store *open_ok(void)
{
	char err[256];
	struct store *s = store_open(dbpath, err, sizeof(err));

	ck_assert_msg(s != NULL, "store_open: %s", err);
	return s;
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nseg-test-sp-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/nseg.db", tmpdir);
	st = NULL;
}

static void teardown(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	store_close(st);
	st = NULL;
	for (size_t i = 0; i < N(sfx); i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, sfx[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

/* The store-opening fixture, for tests that start from the current schema. */
static void setup_open(void)
{
	setup();
	st = open_ok();
}

static void raw_exec(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}

static int64_t raw_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/*
 * Every row of every table the store writes, as text, read on a second
 * connection: two snapshots compare equal when the content is the same.
 * Caller frees.
 */
static char *snapshot(void)
{
	static const char *const tables[] = {
		"workloads", "versions", "edges", "rule_usage", "alerts",
		"sqlite_sequence"
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	sqlite3 *db;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	for (size_t t = 0; t < N(tables); t++) {
		char sql[96];
		sqlite3_stmt *s;

		snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY rowid",
			 tables[t]);
		ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL),
				 SQLITE_OK);
		fprintf(f, "%s:\n", tables[t]);
		while (sqlite3_step(s) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(s); c++) {
				const char *v =
					(const char *)sqlite3_column_text(s, c);

				fprintf(f, "%s|", v ? v : "NULL");
			}
			fputc('\n', f);
		}
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	fclose(f);
	return buf;
}

static struct nseg_edge_key key(const char *ver, const char *exe,
				const char *comm, int dir, const char *peer,
				const char *peer_comm, int proto, int port)
{
	struct nseg_edge_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.workload, sizeof(k.workload), "web");
	snprintf(k.version, sizeof(k.version), "%s", ver);
	snprintf(k.proc.exe, sizeof(k.proc.exe), "%s", exe);
	snprintf(k.proc.comm, sizeof(k.proc.comm), "%s", comm);
	k.dir = (uint8_t)dir;
	snprintf(k.peer, sizeof(k.peer), "%s", peer);
	if (peer_comm) {
		snprintf(k.peer_proc.exe, sizeof(k.peer_proc.exe), "/bin/%s",
			 peer_comm);
		snprintf(k.peer_proc.comm, sizeof(k.peer_proc.comm), "%s",
			 peer_comm);
	}
	k.proto = (uint8_t)proto;
	k.port = (uint16_t)port;
	return k;
}

/* exe NULL: any process of the workload. */
static struct policy_doc_rule rule(int dir, const char *peer, int proto,
				   int lo, int hi, const char *exe,
				   const char *comm)
{
	struct policy_doc_rule r;

	memset(&r, 0, sizeof(r));
	r.dir = (uint8_t)dir;
	r.proto = (uint8_t)proto;
	r.port_lo = (uint16_t)lo;
	r.port_hi = (uint16_t)hi;
	snprintf(r.peer, sizeof(r.peer), "%s", peer);
	r.any_process = exe == NULL;
	if (exe) {
		snprintf(r.proc.exe, sizeof(r.proc.exe), "%s", exe);
		snprintf(r.proc.comm, sizeof(r.proc.comm), "%s", comm);
	}
	return r;
}

static struct policy_doc doc(const char *wl, const char *ver, int mode,
			     int64_t window, struct policy_doc_rule *rules,
			     size_t n)
{
	struct policy_doc d;

	memset(&d, 0, sizeof(d));
	snprintf(d.workload, sizeof(d.workload), "%s", wl);
	snprintf(d.version, sizeof(d.version), "%s", ver);
	d.mode = mode;
	d.learn_window_ms = window;
	d.rules = rules;
	d.n_rules = n;
	return d;
}

#define MAX_SEEN 64

struct seen {
	size_t n;
	struct store_edge e[MAX_SEEN];
};

static int collect(const struct store_edge *e, void *arg)
{
	struct seen *sn = arg;

	ck_assert_uint_lt(sn->n, MAX_SEEN);
	sn->e[sn->n++] = *e;
	return 0;
}

static struct seen *edges_of(struct store *s, const char *wl)
{
	static struct seen sn;
	int found;

	memset(&sn, 0, sizeof(sn));
	ck_assert_int_eq(store_edges_foreach(s, wl, NULL, &found, collect,
					     &sn),
			 0);
	return &sn;
}

/* Adds an edge of web and returns its id. */
static int64_t add(const struct nseg_edge_key *k)
{
	ck_assert_int_eq(store_edge_add(st, k, 3, 100, 200), 0);
	/* Every edge the tests add is new: it has the highest id. */
	return raw_int("SELECT max(id) FROM edges");
}

/* Decides one edge of web. */
static void decide(int64_t id, const char *state, int any_process,
		   const char *who)
{
	ck_assert_int_eq(store_edges_decide(st, "web", state, 0, &id, 1,
					    any_process, who, 1000, NULL,
					    NULL),
			 1);
}

static const struct store_edge *edge_by_id(struct seen *sn, int64_t id)
{
	for (size_t i = 0; i < sn->n; i++)
		if (sn->e[i].id == id)
			return &sn->e[i];
	return NULL;
}

struct change {
	int kind;
	char workload[NSEG_NAME_MAX];
	struct store_edge e;
	char from[32], to[32];
};

struct changes {
	size_t n;
	struct change c[MAX_SEEN];
	size_t fail_at; /* 1-based change to refuse; 0: none */
};

static int hear(const struct store_policy_change *c, void *arg)
{
	struct changes *ch = arg;
	struct change *o;

	ck_assert_uint_lt(ch->n, MAX_SEEN);
	o = &ch->c[ch->n++];
	memset(o, 0, sizeof(*o));
	o->kind = c->kind;
	snprintf(o->workload, sizeof(o->workload), "%s", c->workload);
	if (c->kind == STORE_POLICY_ADD || c->kind == STORE_POLICY_REMOVE) {
		ck_assert_ptr_nonnull(c->edge);
		o->e = *c->edge;
	} else {
		ck_assert_ptr_nonnull(c->from);
		ck_assert_ptr_nonnull(c->to);
		snprintf(o->from, sizeof(o->from), "%s", c->from);
		snprintf(o->to, sizeof(o->to), "%s", c->to);
	}
	return ch->fail_at && ch->n == ch->fail_at;
}

/* Applies docs in a transaction of its own and commits. */
static int apply(struct policy_doc *docs, size_t n, const char *file,
		 struct changes *ch)
{
	int r;

	ck_assert_int_eq(store_begin(st), 0);
	r = store_policy_apply(st, docs, n, file, WHO, NOW, ch ? hear : NULL,
			       ch);
	ck_assert_int_ge(r, 0);
	ck_assert_int_eq(store_commit(st), 0);
	return r;
}

struct wl {
	int found;
	char mode[16];
	int64_t revision;
	size_t n_versions;
	char versions[4][NSEG_VERSION_MAX];
};

static int collect_wl(const struct store_workload *w, void *arg)
{
	struct wl *o = arg;

	if (strcmp(w->name, "web") != 0)
		return 0;
	o->found = 1;
	snprintf(o->mode, sizeof(o->mode), "%s", w->mode);
	o->revision = w->revision;
	o->n_versions = w->n_versions;
	for (size_t i = 0; i < w->n_versions && i < N(o->versions); i++)
		snprintf(o->versions[i], sizeof(o->versions[i]), "%s",
			 w->versions[i]);
	return 0;
}

static struct wl web(void)
{
	struct wl o;

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(store_workloads_foreach(st, collect_wl, &o), 0);
	ck_assert(o.found);
	return o;
}

static int64_t revision(void)
{
	char mode[16];
	int64_t rev;

	ck_assert_int_eq(store_workload_get(st, "web", mode, &rev), 0);
	return rev;
}

/* Does e carry rule r (the store's form of it)? */
static int edge_is_rule(const struct store_edge *e,
			const struct policy_doc_rule *r)
{
	return e->key.dir == r->dir && e->key.proto == r->proto &&
	       e->key.port == r->port_lo && e->port_hi == r->port_hi &&
	       strcmp(e->key.peer, r->peer) == 0 &&
	       e->any_process == r->any_process &&
	       strcmp(e->key.proc.exe, r->any_process ? "*" : r->proc.exe) ==
		       0 &&
	       strcmp(e->key.proc.comm, r->any_process ? "" : r->proc.comm) ==
		       0;
}

static int same_rule(const struct policy_doc_rule *a,
		     const struct policy_doc_rule *b)
{
	return a->dir == b->dir && a->proto == b->proto &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       strcmp(a->peer, b->peer) == 0 &&
	       a->any_process == b->any_process &&
	       strcmp(a->proc.exe, b->proc.exe) == 0 &&
	       strcmp(a->proc.comm, b->proc.comm) == 0;
}

/* got holds exactly the rules of want (in any order), each once. */
static void assert_rules(const struct policy_doc *got,
			 const struct policy_doc_rule *want, size_t n)
{
	ck_assert_uint_eq(got->n_rules, n);
	for (size_t i = 0; i < n; i++) {
		size_t hits = 0;

		for (size_t j = 0; j < got->n_rules; j++)
			hits += (size_t)same_rule(&got->rules[j], &want[i]);
		ck_assert_msg(hits == 1, "rule %zu (%s %u-%u) found %zu times",
			      i, want[i].peer, want[i].port_lo,
			      want[i].port_hi, hits);
	}
}

/* ---- applying to an empty store ---- */

static struct policy_doc_rule base_rules[4];

static void base_init(void)
{
	base_rules[0] = rule(NSEG_EGRESS, "api", IPPROTO_TCP, 8080, 8080,
			     NULL, NULL);
	base_rules[1] = rule(NSEG_EGRESS, "db", IPPROTO_TCP, 5432, 5440,
			     "/usr/bin/app", "app");
	base_rules[2] = rule(NSEG_INGRESS, "external:10.0.0.0/8",
			     IPPROTO_UDP, 53, 53, "/usr/sbin/dns", "");
	base_rules[3] = rule(NSEG_EGRESS, "host", IPPROTO_ICMP, 8, 8, NULL,
			     NULL);
}

static const struct {
	const char *pin;
	const char *version; /* the edges' */
	size_t n_versions;   /* listed by store_workloads_foreach */
} empty_cases[] = {
	{ "", STORE_VERSION_ANY, 0 },
	{ "2.0", "2.0", 1 },
};

START_TEST(test_apply_empty)
{
	struct policy_doc d;
	struct changes ch = { 0 };
	struct seen *sn;
	struct wl w;
	int r;

	base_init();
	d = doc("web", empty_cases[_i].pin, -1, -1, base_rules,
		N(base_rules));
	r = apply(&d, 1, "web.yaml", &ch);
	ck_assert_int_eq(r, (int)N(base_rules));
	ck_assert_uint_eq(ch.n, N(base_rules));
	sn = edges_of(st, "web");
	ck_assert_uint_eq(sn->n, N(base_rules));
	for (size_t i = 0; i < N(base_rules); i++) {
		const struct store_edge *e = &sn->e[i];

		ck_assert_msg(edge_is_rule(e, &base_rules[i]), "edge %zu", i);
		ck_assert_str_eq(e->key.version, empty_cases[_i].version);
		ck_assert_str_eq(e->state, "approved");
		ck_assert_str_eq(e->origin, "policy:web.yaml");
		ck_assert_str_eq(e->decided_by, WHO);
		ck_assert_int_eq(e->decided_at, NOW);
		ck_assert_str_eq(e->key.peer_proc.exe, "");
		ck_assert_int_eq(ch.c[i].kind, STORE_POLICY_ADD);
		ck_assert_str_eq(ch.c[i].workload, "web");
		ck_assert(edge_is_rule(&ch.c[i].e, &base_rules[i]));
		ck_assert_str_eq(ch.c[i].e.key.version,
				 empty_cases[_i].version);
		ck_assert_str_eq(ch.c[i].e.origin, "policy:web.yaml");
	}
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE"
				 " port_hi IS NOT NULL"),
			 1);
	w = web();
	ck_assert_str_eq(w.mode, "learn");
	ck_assert_int_eq(w.revision, 1);
	ck_assert_uint_eq(w.n_versions, empty_cases[_i].n_versions);
	for (size_t i = 0; i < w.n_versions; i++)
		ck_assert_str_ne(w.versions[i], STORE_VERSION_ANY);
	ck_assert_int_eq(store_workload_learn_window(st, "web"), 0);
}
END_TEST

START_TEST(test_reapply_noop)
{
	struct policy_doc d;
	struct changes ch = { 0 };
	char *before, *after;

	base_init();
	d = doc("web", empty_cases[_i].pin, POLICY_ENFORCE, 30000,
		base_rules, N(base_rules));
	ck_assert_int_eq(apply(&d, 1, "web.yaml", NULL),
			 (int)N(base_rules) + 2);
	before = snapshot();
	ck_assert_int_eq(apply(&d, 1, "web.yaml", &ch), 0);
	ck_assert_uint_eq(ch.n, 0);
	/* Another file with the same rules: the edges stay as they are. */
	ck_assert_int_eq(apply(&d, 1, "other.yaml", &ch), 0);
	after = snapshot();
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(revision(), 1);
	free(before);
	free(after);
}
END_TEST

/* ---- applying over a learned baseline ---- */

/* web's edges before the apply of test_apply_over_learned. */
struct baseline {
	int64_t kept;	     /* approved, learned, named by a rule */
	int64_t unnamed;     /* approved, learned, no rule names it */
	int64_t old_policy;  /* approved by an earlier policy, not named */
	int64_t pending_pin; /* learned, waiting; a pinned rule names it */
	int64_t pending;     /* learned, waiting, not named */
	int64_t rejected;
	int64_t peer_proc;   /* waiting, pinned rule names it but peer proc */
};

static struct policy_doc_rule over_unpinned[2], over_pinned[2];

static void seed(struct baseline *b)
{
	struct nseg_edge_key k;
	struct policy_doc_rule old[] = {
		rule(NSEG_EGRESS, "cache", IPPROTO_TCP, 6379, 6379, NULL,
		     NULL),
	};
	struct policy_doc od = doc("web", "", -1, -1, old, N(old));

	ck_assert_int_eq(apply(&od, 1, "old.yaml", NULL), 1);
	b->old_policy = raw_int("SELECT id FROM edges WHERE peer = 'cache'");
	k = key("1.0", "/usr/bin/app", "app", NSEG_EGRESS, "api", "srv",
		IPPROTO_TCP, 8080);
	b->kept = add(&k);
	decide(b->kept, "approved", 0, "ops");
	k = key("1.0", "/usr/bin/app", "app", NSEG_EGRESS, "db", NULL,
		IPPROTO_TCP, 5432);
	b->unnamed = add(&k);
	decide(b->unnamed, "approved", 1, "ops");
	k = key("2.0", "/usr/bin/app", "app", NSEG_EGRESS, "metrics", NULL,
		IPPROTO_TCP, 9100);
	b->pending_pin = add(&k);
	k = key("2.0", "/usr/bin/app", "app", NSEG_EGRESS, "logs", "fluent",
		IPPROTO_TCP, 24224);
	b->peer_proc = add(&k);
	k = key("2.0", "/usr/bin/app", "app", NSEG_EGRESS, "mail", NULL,
		IPPROTO_TCP, 25);
	b->pending = add(&k);
	k = key("2.0", "/bin/sh", "sh", NSEG_EGRESS, "host", NULL,
		IPPROTO_ICMP, 8);
	b->rejected = add(&k);
	decide(b->rejected, "rejected", 0, "ops");

	over_unpinned[0] = rule(NSEG_EGRESS, "api", IPPROTO_TCP, 8080, 8080,
				"/usr/bin/app", "app");
	over_unpinned[1] = rule(NSEG_EGRESS, "dns", IPPROTO_UDP, 53, 53, NULL,
				NULL);
	over_pinned[0] = rule(NSEG_EGRESS, "metrics", IPPROTO_TCP, 9100, 9100,
			      "/usr/bin/app", "app");
	over_pinned[1] = rule(NSEG_EGRESS, "logs", IPPROTO_TCP, 24224, 24224,
			      "/usr/bin/app", "app");
}

static int heard(const struct changes *ch, int kind, const char *peer)
{
	int n = 0;

	for (size_t i = 0; i < ch->n; i++)
		n += ch->c[i].kind == kind &&
		     strcmp(ch->c[i].e.key.peer, peer) == 0;
	return n;
}

START_TEST(test_apply_over_learned)
{
	struct baseline b;
	struct policy_doc d[2];
	struct changes ch = { 0 };
	struct seen *sn;
	const struct store_edge *e;
	int64_t rev;

	seed(&b);
	rev = revision();
	d[0] = doc("web", "", -1, -1, over_unpinned, N(over_unpinned));
	d[1] = doc("web", "2.0", -1, -1, over_pinned, N(over_pinned));
	/* unnamed and old_policy go; dns, metrics and logs come. */
	ck_assert_int_eq(apply(d, 2, "web.yaml", &ch), 5);
	ck_assert_int_eq(heard(&ch, STORE_POLICY_REMOVE, "db"), 1);
	ck_assert_int_eq(heard(&ch, STORE_POLICY_REMOVE, "cache"), 1);
	ck_assert_int_eq(heard(&ch, STORE_POLICY_ADD, "dns"), 1);
	ck_assert_int_eq(heard(&ch, STORE_POLICY_ADD, "metrics"), 1);
	ck_assert_int_eq(heard(&ch, STORE_POLICY_ADD, "logs"), 1);
	ck_assert_int_eq(revision(), rev + 1);
	sn = edges_of(st, "web");

	e = edge_by_id(sn, b.kept);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->state, "approved");
	ck_assert_str_eq(e->origin, STORE_ORIGIN_LEARNED);
	ck_assert_str_eq(e->decided_by, "ops");
	ck_assert_int_eq(e->decided_at, 1000);

	e = edge_by_id(sn, b.unnamed);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->state, "learned");
	ck_assert_str_eq(e->origin, STORE_ORIGIN_LEARNED);
	ck_assert_int_eq(e->any_process, 0);
	ck_assert_str_eq(e->decided_by, WHO);
	ck_assert_int_eq(e->decided_at, NOW);
	ck_assert_uint_eq(e->count, 3);

	ck_assert_ptr_null(edge_by_id(sn, b.old_policy));

	e = edge_by_id(sn, b.pending_pin);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->state, "approved");
	ck_assert_str_eq(e->origin, STORE_ORIGIN_LEARNED);
	ck_assert_str_eq(e->decided_by, WHO);
	ck_assert_uint_eq(e->count, 3);
	ck_assert_int_eq(e->first_seen, 100);

	/* A peer process makes another edge: the rule is a new one. */
	e = edge_by_id(sn, b.peer_proc);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->state, "learned");
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE peer ="
				 " 'logs' AND state = 'approved' AND version ="
				 " '2.0' AND peer_exe = '' AND origin ="
				 " 'policy:web.yaml'"),
			 1);

	ck_assert_str_eq(edge_by_id(sn, b.pending)->state, "learned");
	ck_assert_str_eq(edge_by_id(sn, b.rejected)->state, "rejected");
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE peer ="
				 " 'dns' AND version = '*' AND exe = '*'"),
			 1);
	/* The approved set is now exactly the rules. */
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE"
				 " state = 'approved'"),
			 4);
	/* And applying it again changes nothing. */
	ck_assert_int_eq(apply(d, 2, "web.yaml", NULL), 0);
	ck_assert_int_eq(revision(), rev + 1);
}
END_TEST

/*
 * A rule whose edge row already exists as an approved edge that does not
 * express it (another port range, or approved for any process rather than
 * for its own): the apply must leave the rule approved, as the rule says.
 */
static const struct {
	const char *name;
	int pinned;	 /* the second document pins version 1.0 */
	int learned;	 /* the first approval is a learned edge's */
	int first_any;	 /* learned edge approved for any process */
	int first_hi;	 /* port_hi of the first policy rule */
	int second_hi;	 /* port_hi of the second */
} reshape_cases[] = {
	{ "policy range widened", 0, 0, 0, 8100, 8200 },
	{ "policy range narrowed to one port", 0, 0, 0, 8100, 8000 },
	{ "policy single port to range", 0, 0, 0, 8000, 8010 },
	{ "learned any process, rule for its process", 1, 1, 1, 8000, 8000 },
	{ "learned own process, rule with a range", 1, 1, 0, 8000, 8050 },
};

START_TEST(test_apply_reshapes)
{
	struct policy_doc_rule r = rule(NSEG_EGRESS, "api", IPPROTO_TCP, 8000,
					reshape_cases[_i].second_hi,
					"/usr/bin/app", "app");
	struct policy_doc_rule r1 = rule(NSEG_EGRESS, "api", IPPROTO_TCP, 8000,
					 reshape_cases[_i].first_hi,
					 "/usr/bin/app", "app");
	struct policy_doc d;
	struct seen *sn;
	size_t approved = 0;

	if (reshape_cases[_i].learned) {
		struct nseg_edge_key k = key("1.0", "/usr/bin/app", "app",
					     NSEG_EGRESS, "api", NULL,
					     IPPROTO_TCP, 8000);

		decide(add(&k), "approved", reshape_cases[_i].first_any,
		       "ops");
	} else {
		d = doc("web", "", -1, -1, &r1, 1);
		ck_assert_int_eq(apply(&d, 1, "a.yaml", NULL), 1);
	}
	d = doc("web", reshape_cases[_i].pinned ? "1.0" : "", -1, -1, &r, 1);
	ck_assert_int_gt(apply(&d, 1, "b.yaml", NULL), 0);
	sn = edges_of(st, "web");
	for (size_t i = 0; i < sn->n; i++) {
		if (strcmp(sn->e[i].state, "approved") != 0)
			continue;
		approved++;
		ck_assert_msg(edge_is_rule(&sn->e[i], &r), "%s: edge %lld",
			      reshape_cases[_i].name, (long long)sn->e[i].id);
	}
	ck_assert_msg(approved == 1, "%s: %zu approved edges",
		      reshape_cases[_i].name, approved);
	ck_assert_int_eq(apply(&d, 1, "b.yaml", NULL), 0);
}
END_TEST

/* ---- mode and learning window ---- */

static const struct {
	int mode;
	int64_t window;
	const char *want_mode;
	int64_t want_window;
	int changes;
	int kind[2];
	const char *from[2], *to[2];
} settings_cases[] = {
	{ -1, -1, "notify", 10000, 0, { 0 }, { NULL }, { NULL } },
	{ POLICY_NOTIFY, -1, "notify", 10000, 0, { 0 }, { NULL }, { NULL } },
	{ POLICY_ENFORCE, -1, "enforce", 10000, 1, { STORE_POLICY_MODE },
	  { "notify" }, { "enforce" } },
	{ -1, 60000, "notify", 60000, 1, { STORE_POLICY_WINDOW }, { "10000" },
	  { "60000" } },
	{ POLICY_LEARN, 20000, "learn", 20000, 2,
	  { STORE_POLICY_MODE, STORE_POLICY_WINDOW }, { "notify", "10000" },
	  { "learn", "20000" } },
};

START_TEST(test_settings)
{
	struct policy_doc d = doc("web", "", -1, -1, NULL, 0);
	struct changes ch = { 0 };
	char mode[16];
	int64_t rev;

	/* A fresh workload: mode learn, no window of its own. */
	d.mode = POLICY_NOTIFY;
	d.learn_window_ms = 10000;
	ck_assert_int_eq(apply(&d, 1, "w.yaml", &ch), 2);
	ck_assert_int_eq(ch.c[0].kind, STORE_POLICY_MODE);
	ck_assert_str_eq(ch.c[0].from, "learn");
	ck_assert_str_eq(ch.c[0].to, "notify");
	ck_assert_int_eq(ch.c[1].kind, STORE_POLICY_WINDOW);
	ck_assert_str_eq(ch.c[1].from, "");
	ck_assert_str_eq(ch.c[1].to, "10000");
	ck_assert_int_eq(store_workload_learn_window(st, "web"), 10000);

	memset(&ch, 0, sizeof(ch));
	d.mode = settings_cases[_i].mode;
	d.learn_window_ms = settings_cases[_i].window;
	rev = revision();
	ck_assert_int_eq(apply(&d, 1, "w.yaml", &ch),
			 settings_cases[_i].changes);
	ck_assert_uint_eq(ch.n, (size_t)settings_cases[_i].changes);
	for (size_t i = 0; i < ch.n; i++) {
		ck_assert_int_eq(ch.c[i].kind, settings_cases[_i].kind[i]);
		ck_assert_str_eq(ch.c[i].from, settings_cases[_i].from[i]);
		ck_assert_str_eq(ch.c[i].to, settings_cases[_i].to[i]);
	}
	ck_assert_int_eq(store_workload_get(st, "web", mode, &rev), 0);
	ck_assert_str_eq(mode, settings_cases[_i].want_mode);
	ck_assert_int_eq(store_workload_learn_window(st, "web"),
			 settings_cases[_i].want_window);
	ck_assert_int_eq(revision(), rev);
}
END_TEST

START_TEST(test_learn_window_unknown)
{
	errno = 0;
	ck_assert_int_eq(store_workload_learn_window(st, "nope"), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* ---- dry run and errors ---- */

START_TEST(test_dry_run)
{
	struct baseline b;
	struct policy_doc d[2];
	char *before, *after;
	int r;

	seed(&b);
	d[0] = doc("web", "", POLICY_ENFORCE, 90000, over_unpinned,
		   N(over_unpinned));
	d[1] = doc("web", "2.0", -1, -1, over_pinned, N(over_pinned));
	before = snapshot();
	ck_assert_int_eq(store_begin(st), 0);
	r = store_policy_apply(st, d, 2, "web.yaml", WHO, NOW, NULL, NULL);
	ck_assert_int_eq(r, 7);
	store_rollback(st);
	after = snapshot();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	/* A dry run of a workload the store does not know leaves no trace. */
	before = snapshot();
	d[0] = doc("fresh", "", POLICY_ENFORCE, -1, over_unpinned,
		   N(over_unpinned));
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_policy_apply(st, d, 1, "f.yaml", WHO, NOW,
					    NULL, NULL),
			 3);
	store_rollback(st);
	after = snapshot();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_not_in_transaction)
{
	struct policy_doc d;

	base_init();
	d = doc("web", "", -1, -1, base_rules, N(base_rules));
	errno = 0;
	ck_assert_int_eq(store_policy_apply(st, &d, 1, "web.yaml", WHO, NOW,
					    NULL, NULL),
			 -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM workloads"), 0);
}
END_TEST

START_TEST(test_bad_docs)
{
	struct policy_doc d[2];
	char *before, *after;

	base_init();
	d[0] = doc("web", "", -1, -1, base_rules, 2);
	d[1] = doc("api", "", -1, -1, base_rules + 2, 2);
	before = snapshot();
	ck_assert_int_eq(store_begin(st), 0);
	errno = 0;
	ck_assert_int_eq(store_policy_apply(st, d, 2, "x.yaml", WHO, NOW,
					    NULL, NULL),
			 -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(store_policy_apply(st, d, 0, "x.yaml", WHO, NOW,
					    NULL, NULL),
			 -1);
	ck_assert_int_eq(errno, EINVAL);
	store_rollback(st);
	after = snapshot();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

/* The callback refuses the n-th change. */
static const size_t refuse_cases[] = { 1, 3, 6, 7 };

START_TEST(test_callback_refuses)
{
	struct baseline b;
	struct policy_doc d[2];
	struct changes ch = { 0 };
	char *before, *after;

	seed(&b);
	d[0] = doc("web", "", POLICY_ENFORCE, 90000, over_unpinned,
		   N(over_unpinned));
	d[1] = doc("web", "2.0", -1, -1, over_pinned, N(over_pinned));
	ch.fail_at = refuse_cases[_i];
	before = snapshot();
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_policy_apply(st, d, 2, "web.yaml", WHO, NOW,
					    hear, &ch),
			 -1);
	ck_assert_uint_eq(ch.n, refuse_cases[_i]);
	store_rollback(st);
	after = snapshot();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

/* ---- export ---- */

/*
 * web: approved edges of 1.0 and 2.0 that fold into two rules (versions
 * and peer processes differ), one approved for any process, a policy's
 * port range in version '*', and edges waiting or rejected.
 */
static void seed_export(void)
{
	static const struct {
		const char *ver, *exe, *comm, *peer, *peer_comm;
		int dir, proto, port;
		const char *state;
		int any;
	} rows[] = {
		{ "1.0", "/usr/bin/app", "app", "api", "srv", NSEG_EGRESS,
		  IPPROTO_TCP, 8080, "approved", 0 },
		{ "2.0", "/usr/bin/app", "app", "api", "srv2", NSEG_EGRESS,
		  IPPROTO_TCP, 8080, "approved", 0 },
		{ "2.0", "/usr/bin/app", "app", "api", NULL, NSEG_EGRESS,
		  IPPROTO_TCP, 8080, "approved", 0 },
		{ "1.0", "/usr/bin/app", "worker", "db", NULL, NSEG_EGRESS,
		  IPPROTO_TCP, 5432, "approved", 1 },
		{ "2.0", "/usr/bin/app", "other", "db", NULL, NSEG_EGRESS,
		  IPPROTO_TCP, 5432, "approved", 1 },
		{ "2.0", "/usr/sbin/sshd", "sshd", "host", NULL, NSEG_INGRESS,
		  IPPROTO_TCP, 22, "approved", 0 },
		{ "1.0", "/usr/bin/app", "app", "mail", NULL, NSEG_EGRESS,
		  IPPROTO_TCP, 25, "learned", 0 },
		{ "2.0", "/usr/bin/app", "app", "mail", "mta", NSEG_EGRESS,
		  IPPROTO_TCP, 25, "learned", 0 },
		{ "2.0", "/bin/sh", "sh", "host", NULL, NSEG_EGRESS,
		  IPPROTO_ICMP, 8, "rejected", 0 },
	};
	struct policy_doc_rule pr = rule(NSEG_EGRESS, "external:10.0.0.0/8",
					 IPPROTO_UDP, 1000, 2000, NULL, NULL);
	struct policy_doc d = doc("web", "", -1, -1, &pr, 1);

	ck_assert_int_eq(apply(&d, 1, "p.yaml", NULL), 1);
	for (size_t i = 0; i < N(rows); i++) {
		struct nseg_edge_key k = key(rows[i].ver, rows[i].exe,
					     rows[i].comm, rows[i].dir,
					     rows[i].peer, rows[i].peer_comm,
					     rows[i].proto, rows[i].port);
		int64_t id = add(&k);

		if (strcmp(rows[i].state, "learned") != 0)
			decide(id, rows[i].state, rows[i].any, "ops");
	}
	ck_assert_int_eq(store_workload_set_mode(st, "web", "notify", NULL),
			 0);
}

static const struct {
	const char *version;
	int learned;
	int mode;
	size_t n; /* rules of want_rules[] */
	int want[5];
} export_cases[] = {
	/* api (folded 3 edges), db (any process), sshd, the range. */
	{ NULL, 0, POLICY_NOTIFY, 4, { 0, 1, 2, 3 } },
	/* 1.0: api, db, and the '*' range. */
	{ "1.0", 0, POLICY_NOTIFY, 3, { 0, 1, 3 } },
	{ "2.0", 0, POLICY_NOTIFY, 4, { 0, 1, 2, 3 } },
	{ "3.0", 0, POLICY_NOTIFY, 1, { 3 } },
	/* Waiting edges: mail, folded over versions and peer processes. */
	{ NULL, 1, -1, 1, { 4 } },
	{ "1.0", 1, -1, 1, { 4 } },
	{ "3.0", 1, -1, 0, { 0 } },
};

static struct policy_doc_rule want_rules[5];

static void want_init(void)
{
	want_rules[0] = rule(NSEG_EGRESS, "api", IPPROTO_TCP, 8080, 8080,
			     "/usr/bin/app", "app");
	want_rules[1] = rule(NSEG_EGRESS, "db", IPPROTO_TCP, 5432, 5432, NULL,
			     NULL);
	want_rules[2] = rule(NSEG_INGRESS, "host", IPPROTO_TCP, 22, 22,
			     "/usr/sbin/sshd", "sshd");
	want_rules[3] = rule(NSEG_EGRESS, "external:10.0.0.0/8", IPPROTO_UDP,
			     1000, 2000, NULL, NULL);
	want_rules[4] = rule(NSEG_EGRESS, "mail", IPPROTO_TCP, 25, 25,
			     "/usr/bin/app", "app");
}

START_TEST(test_export)
{
	struct policy_doc out;
	struct policy_doc_rule want[5];

	seed_export();
	want_init();
	for (size_t i = 0; i < export_cases[_i].n; i++)
		want[i] = want_rules[export_cases[_i].want[i]];
	ck_assert_int_eq(store_policy_export(st, "web",
					     export_cases[_i].version,
					     export_cases[_i].learned, &out),
			 0);
	ck_assert_str_eq(out.workload, "web");
	ck_assert_str_eq(out.version, export_cases[_i].version
					      ? export_cases[_i].version
					      : "");
	ck_assert_int_eq(out.mode, export_cases[_i].mode);
	ck_assert_int_eq(out.learn_window_ms, -1);
	assert_rules(&out, want, export_cases[_i].n);
	policy_doc_clear(&out);
	ck_assert_ptr_null(out.rules);
	ck_assert_uint_eq(out.n_rules, 0);
}
END_TEST

START_TEST(test_export_window)
{
	struct policy_doc d = doc("web", "", POLICY_ENFORCE, 45000, NULL, 0);
	struct policy_doc out;

	ck_assert_int_eq(apply(&d, 1, "w.yaml", NULL), 2);
	ck_assert_int_eq(store_policy_export(st, "web", NULL, 0, &out), 0);
	ck_assert_int_eq(out.mode, POLICY_ENFORCE);
	ck_assert_int_eq(out.learn_window_ms, 45000);
	ck_assert_uint_eq(out.n_rules, 0);
	policy_doc_clear(&out);
	ck_assert_int_eq(store_policy_export(st, "web", NULL, 1, &out), 0);
	ck_assert_int_eq(out.mode, -1);
	ck_assert_int_eq(out.learn_window_ms, 45000);
	policy_doc_clear(&out);
}
END_TEST

START_TEST(test_export_unknown)
{
	struct policy_doc out;

	errno = 0;
	ck_assert_int_eq(store_policy_export(st, "nope", NULL, 0, &out), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(out.rules);
	ck_assert_uint_eq(out.n_rules, 0);
	policy_doc_clear(&out);
}
END_TEST

/* Export, apply into a fresh store, export again: the same document. */
static const char *const round_trip_versions[] = { NULL, "1.0", "2.0" };

START_TEST(test_round_trip)
{
	const char *ver = round_trip_versions[_i];
	struct policy_doc first, second;

	seed_export();
	ck_assert_int_eq(store_policy_export(st, "web", ver, 0, &first), 0);
	teardown();
	setup_open();
	ck_assert_int_eq(apply(&first, 1, "web.yaml", NULL),
			 (int)first.n_rules + 1);
	ck_assert_int_eq(store_policy_export(st, "web", ver, 0, &second), 0);
	ck_assert_str_eq(second.workload, first.workload);
	ck_assert_str_eq(second.version, first.version);
	ck_assert_int_eq(second.mode, first.mode);
	ck_assert_int_eq(second.learn_window_ms, first.learn_window_ms);
	assert_rules(&second, first.rules, first.n_rules);
	/* And the second store takes its own export as a no-op. */
	ck_assert_int_eq(apply(&second, 1, "web.yaml", NULL), 0);
	policy_doc_clear(&first);
	policy_doc_clear(&second);
}
END_TEST

/* ---- the enforcer's view of applied rules ---- */

static const struct {
	const char *exe, *comm, *peer;
	int proto, port;
	int match, names;
} match_cases[] = {
	{ "/usr/bin/app", "app", "api", IPPROTO_TCP, 7999, 0, 0 },
	{ "/usr/bin/app", "app", "api", IPPROTO_TCP, 8000, 1, 1 },
	{ "/usr/bin/app", "app", "api", IPPROTO_TCP, 8050, 1, 1 },
	{ "/usr/bin/app", "app", "api", IPPROTO_TCP, 8100, 1, 1 },
	{ "/usr/bin/app", "app", "api", IPPROTO_TCP, 8101, 0, 0 },
	{ "/usr/bin/app", "app", "api", IPPROTO_UDP, 8050, 0, 0 },
	{ "/usr/bin/app", "app", "db", IPPROTO_TCP, 8050, 0, 0 },
	/* comm "": any comm of that exe. */
	{ "/usr/bin/app", "worker-1", "api", IPPROTO_TCP, 8001, 1, 1 },
	{ "/usr/bin/other", "app", "api", IPPROTO_TCP, 8001, 0, 1 },
	/* The any-process range. */
	{ "/bin/sh", "sh", "external:10.1.2.3", IPPROTO_UDP, 1500, 1, 1 },
	{ "/bin/sh", "sh", "external:10.1.2.3", IPPROTO_UDP, 2001, 0, 0 },
	{ "/bin/sh", "sh", "external:192.168.1.1", IPPROTO_UDP, 1500, 0, 0 },
};

START_TEST(test_policy_match)
{
	struct policy_doc_rule rules[] = {
		rule(NSEG_EGRESS, "api", IPPROTO_TCP, 8000, 8100,
		     "/usr/bin/app", ""),
		rule(NSEG_EGRESS, "external:10.0.0.0/8", IPPROTO_UDP, 1000,
		     2000, NULL, NULL),
	};
	struct policy_doc d = doc("web", "", POLICY_ENFORCE, -1, rules,
				  N(rules));
	struct nseg_edge_key k = key("9.9", match_cases[_i].exe,
				     match_cases[_i].comm, NSEG_EGRESS,
				     match_cases[_i].peer, NULL,
				     match_cases[_i].proto,
				     match_cases[_i].port);
	struct policy *p = policy_new();
	const struct policy_workload *w;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(apply(&d, 1, "web.yaml", NULL), 3);
	ck_assert_int_eq(policy_load(p, st, "web"), 0);
	w = policy_get(p, "web");
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(w->mode, POLICY_ENFORCE);
	ck_assert_uint_eq(w->n_rules, 2);
	ck_assert_int_eq(policy_match(w, &k) >= 0, match_cases[_i].match);
	ck_assert_int_eq(policy_names_port(w, NSEG_EGRESS,
					   match_cases[_i].peer,
					   (uint8_t)match_cases[_i].proto,
					   (uint16_t)match_cases[_i].port),
			 match_cases[_i].names);
	policy_free(p);
}
END_TEST

/* ---- migration ---- */

/*
 * A v3 database as the v3 code left it (schema of migrations 1-3, sqlite3
 * .dump): web with an approved edge, a waiting one and a rejected one, a
 * usage record. Frozen on purpose.
 */
static const char v3_dump[] =
	"PRAGMA foreign_keys=OFF;"
	"BEGIN TRANSACTION;"
	"CREATE TABLE workloads ( id INTEGER PRIMARY KEY, name TEXT NOT "
	"NULL UNIQUE CHECK (length(name) > 0), mode TEXT NOT NULL DEFAULT "
	"'learn'  CHECK (mode IN ('learn', 'notify', 'enforce')), created "
	"INTEGER NOT NULL, revision INTEGER NOT NULL DEFAULT 0 CHECK "
	"(revision >= 0)) STRICT;"
	"INSERT INTO workloads VALUES(1,'web','enforce',900,2);"
	"CREATE TABLE versions ( id INTEGER PRIMARY KEY, workload_id "
	"INTEGER NOT NULL  REFERENCES workloads (id) ON DELETE CASCADE, "
	"version TEXT NOT NULL CHECK (length(version) > 0), first_seen "
	"INTEGER NOT NULL, last_seen INTEGER NOT NULL, UNIQUE (workload_id, "
	"version)) STRICT;"
	"INSERT INTO versions VALUES(1,1,'1.0',900,2001);"
	"CREATE TABLE edges ( id INTEGER PRIMARY KEY AUTOINCREMENT, "
	"workload_id INTEGER NOT NULL  REFERENCES workloads (id) ON DELETE "
	"CASCADE, version TEXT NOT NULL, exe TEXT NOT NULL CHECK "
	"(length(exe) > 0), comm TEXT NOT NULL, direction TEXT NOT NULL "
	"CHECK (direction IN ('egress', 'ingress')), peer TEXT NOT NULL "
	"CHECK (length(peer) > 0), peer_exe TEXT NOT NULL DEFAULT '', "
	"peer_comm TEXT NOT NULL DEFAULT '', protocol TEXT NOT NULL CHECK "
	"(length(protocol) > 0), port INTEGER NOT NULL CHECK (port BETWEEN "
	"0 AND 65535), state TEXT NOT NULL DEFAULT 'learned'  CHECK (state "
	"IN ('learned', 'approved', 'rejected')), count INTEGER NOT NULL "
	"DEFAULT 0 CHECK (count >= 0), first_seen INTEGER NOT NULL, "
	"last_seen INTEGER NOT NULL, any_process INTEGER NOT NULL DEFAULT 0 "
	"CHECK (any_process IN (0, 1)), decided_by TEXT, decided_at "
	"INTEGER, UNIQUE (workload_id, version, exe, comm, direction, peer, "
	" peer_exe, peer_comm, protocol, port), FOREIGN KEY (workload_id, "
	"version)  REFERENCES versions (workload_id, version) ON DELETE "
	"CASCADE) STRICT;"
	"INSERT INTO edges VALUES(1,1,'1.0','/usr/bin/app','app','egress',"
	"'api','','','tcp',8080,'approved',2,900,2000,0,'ops',3000);"
	"INSERT INTO edges VALUES(2,1,'1.0','/usr/bin/app','app','egress',"
	"'db','','','tcp',5432,'learned',3,901,2001,0,NULL,NULL);"
	"INSERT INTO edges VALUES(4,1,'1.0','/bin/sh','sh','egress',"
	"'host','','','icmp',8,'rejected',7,905,2005,0,'ops',3002);"
	"CREATE TABLE alerts ( id INTEGER PRIMARY KEY AUTOINCREMENT, "
	"time_first INTEGER NOT NULL, time_last INTEGER NOT NULL, workload "
	"TEXT NOT NULL CHECK (length(workload) > 0), version TEXT NOT NULL, "
	"container TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL, exe TEXT "
	"NOT NULL, comm TEXT NOT NULL, direction TEXT NOT NULL CHECK "
	"(direction IN ('egress', 'ingress')), peer TEXT NOT NULL, "
	"peer_address TEXT NOT NULL, protocol TEXT NOT NULL CHECK "
	"(length(protocol) > 0), port INTEGER NOT NULL CHECK (port BETWEEN "
	"0 AND 65535), action TEXT NOT NULL CHECK (length(action) > 0), "
	"kind TEXT NOT NULL CHECK (length(kind) > 0), count INTEGER NOT "
	"NULL CHECK (count >= 0), baseline INTEGER NOT NULL) STRICT;"
	"CREATE TABLE rule_usage ( id INTEGER PRIMARY KEY, workload_id "
	"INTEGER NOT NULL  REFERENCES workloads (id) ON DELETE CASCADE, "
	"direction TEXT NOT NULL CHECK (direction IN ('egress', 'ingress')), "
	"peer TEXT NOT NULL CHECK (length(peer) > 0), protocol TEXT NOT NULL "
	"CHECK (length(protocol) > 0), port INTEGER NOT NULL CHECK (port "
	"BETWEEN 0 AND 65535), exe TEXT NOT NULL CHECK (length(exe) > 0), "
	"comm TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0 CHECK (hits >= "
	"0), bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0), last_used "
	"INTEGER NOT NULL DEFAULT 0, UNIQUE (workload_id, direction, peer, "
	"protocol, port, exe, comm)) STRICT;"
	"INSERT INTO rule_usage VALUES(1,1,'egress','api','tcp',8080,"
	"'/usr/bin/app','app',4,400,4000);"
	"DELETE FROM sqlite_sequence;"
	"INSERT INTO sqlite_sequence VALUES('edges',4);"
	"CREATE INDEX alerts_workload ON alerts (workload, id);"
	"COMMIT;"
	"PRAGMA user_version = 3;"
	"PRAGMA application_id = 1853056359;";

static const struct {
	int64_t id;
	const char *peer, *state;
	int port;
	uint64_t hits;
} v3_edges[] = {
	{ 1, "api", "approved", 8080, 4 },
	{ 2, "db", "learned", 5432, 0 },
	{ 4, "host", "rejected", 8, 0 },
};

START_TEST(test_migrate_v3_to_v4)
{
	struct seen *sn;
	struct policy_doc out;
	struct policy_doc_rule r = rule(NSEG_EGRESS, "db", IPPROTO_TCP, 5432,
					5432, "/usr/bin/app", "app");
	struct policy_doc d = doc("web", "1.0", -1, -1, &r, 1);

	raw_exec(v3_dump);
	st = open_ok();
	ck_assert_int_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	sn = edges_of(st, "web");
	ck_assert_uint_eq(sn->n, N(v3_edges));
	for (size_t i = 0; i < N(v3_edges); i++) {
		ck_assert_int_eq(sn->e[i].id, v3_edges[i].id);
		ck_assert_str_eq(sn->e[i].key.peer, v3_edges[i].peer);
		ck_assert_str_eq(sn->e[i].state, v3_edges[i].state);
		ck_assert_int_eq(sn->e[i].key.port, v3_edges[i].port);
		ck_assert_int_eq(sn->e[i].port_hi, v3_edges[i].port);
		ck_assert_str_eq(sn->e[i].origin, STORE_ORIGIN_LEARNED);
		ck_assert_uint_eq(sn->e[i].hits, v3_edges[i].hits);
	}
	ck_assert_int_eq(store_workload_learn_window(st, "web"), 0);
	ck_assert_int_eq(store_policy_export(st, "web", NULL, 0, &out), 0);
	ck_assert_int_eq(out.mode, POLICY_ENFORCE);
	ck_assert_uint_eq(out.n_rules, 1);
	ck_assert_str_eq(out.rules[0].peer, "api");
	policy_doc_clear(&out);
	/* The migrated baseline takes a policy: api goes back to waiting,
	 * db is approved in place. */
	ck_assert_int_eq(apply(&d, 1, "web.yaml", NULL), 2);
	sn = edges_of(st, "web");
	ck_assert_uint_eq(sn->n, N(v3_edges));
	ck_assert_str_eq(sn->e[0].state, "learned");
	ck_assert_str_eq(sn->e[1].state, "approved");
	ck_assert_str_eq(sn->e[1].origin, STORE_ORIGIN_LEARNED);
	ck_assert_int_eq(revision(), 3);
	store_close(st);
	st = NULL;
	ck_assert_int_eq(raw_int("SELECT count(*) FROM edges WHERE origin ="
				 " 'learned' AND port_hi IS NULL"),
			 3);
}
END_TEST

static Suite *store_policy_suite(void)
{
	Suite *su = suite_create("store_policy");
	TCase *ta = tcase_create("apply");
	TCase *te = tcase_create("export");
	TCase *tm = tcase_create("migrate");

	tcase_add_checked_fixture(ta, setup_open, teardown);
	tcase_add_loop_test(ta, test_apply_empty, 0, N(empty_cases));
	tcase_add_loop_test(ta, test_reapply_noop, 0, N(empty_cases));
	tcase_add_test(ta, test_apply_over_learned);
	tcase_add_loop_test(ta, test_apply_reshapes, 0, N(reshape_cases));
	tcase_add_loop_test(ta, test_settings, 0, N(settings_cases));
	tcase_add_test(ta, test_learn_window_unknown);
	tcase_add_test(ta, test_dry_run);
	tcase_add_test(ta, test_not_in_transaction);
	tcase_add_test(ta, test_bad_docs);
	tcase_add_loop_test(ta, test_callback_refuses, 0, N(refuse_cases));
	tcase_add_loop_test(ta, test_policy_match, 0, N(match_cases));
	suite_add_tcase(su, ta);
	tcase_add_checked_fixture(te, setup_open, teardown);
	tcase_add_loop_test(te, test_export, 0, N(export_cases));
	tcase_add_test(te, test_export_window);
	tcase_add_test(te, test_export_unknown);
	tcase_add_loop_test(te, test_round_trip, 0, N(round_trip_versions));
	suite_add_tcase(su, te);
	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_add_test(tm, test_migrate_v3_to_v4);
	suite_add_tcase(su, tm);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(store_policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
