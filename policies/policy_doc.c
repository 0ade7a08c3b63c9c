/*
 * The policy loader: a YAML stream, one document per workload, into
 * struct policy_doc (see nseg/policy_doc.h and policies/README.md).
 *
 * Nothing is applied here, so the loader can afford to be thorough: every
 * document and every rule is checked even after the first error, and only
 * a file without any error gives a result. Rules are in
 * policy_doc_rule.c, peers in policy_doc_peer.c, overlaps in
 * policy_doc_check.c, messages in policy_doc_diag.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nseg/policy_doc_rule.h"

/* In enum policy_mode order. */
static const char *const mode_names[] = {"learn", "notify", "enforce", NULL};
static const char *const doc_keys[] = {
    "workload", "version", "mode", "learn_window", "egress", "ingress", NULL};

/* The longest learning window accepted: ten years. */
#define LEARN_WINDOW_MAX_MS (3650ull * 86400 * 1000)

/* One document while it is loaded. */
struct doc_state {
	struct policy_doc doc;
	struct policy_doc_rules rs;
	const struct yaml_node *workload; /* NULL: missing or bad */
};

const struct yaml_node *policy_doc_map_key(const struct yaml_node *map,
					   const char *key)
{
	for (size_t i = 0; i < yaml_tree_len(map); i++) {
		const struct yaml_node *k = yaml_tree_map_key(map, i);

		if (strcmp(yaml_tree_scalar(k), key) == 0)
			return k;
	}
	return NULL;
}

static void doc_workload(struct doc_state *st, const struct yaml_node *root,
			 struct policy_doc_diags *diags)
{
	const struct yaml_node *v = yaml_tree_map_get(root, "workload");
	char q[YAML_TREE_QUOTE_LEN], why[128];
	const char *s;

	if (v == NULL) {
		policy_doc_error_at(diags, root,
				    "missing workload: (each document is the "
				    "policy of one workload)");
		return;
	}
	s = yaml_tree_scalar(v);
	if (s == NULL || yaml_tree_is_null(v)) {
		policy_doc_error_at(
		    diags, v, "workload: expected a workload name, got %s",
		    s ? "no value" : yaml_tree_kind_name(v));
		return;
	}
	if (policy_doc_identity_check(s, why, sizeof(why)) < 0) {
		policy_doc_error_at(diags, v, "workload: '%s' %s",
				    yaml_tree_quote(s, q, sizeof(q)), why);
		return;
	}
	snprintf(st->doc.workload, sizeof(st->doc.workload), "%s", s);
	st->workload = v;
}

/* 1..127 printable ASCII bytes without spaces: an image tag or digest. */
static void doc_version(struct doc_state *st, const struct yaml_node *v,
			struct policy_doc_diags *diags)
{
	const char *s = yaml_tree_scalar(v);
	char q[YAML_TREE_QUOTE_LEN];
	size_t len;

	if (s == NULL || yaml_tree_is_null(v)) {
		policy_doc_error_at(diags, v,
				    "version: expected an image tag or digest, "
				    "got %s (omit version: for every version)",
				    s ? "no value" : yaml_tree_kind_name(v));
		return;
	}
	yaml_tree_quote(s, q, sizeof(q));
	len = strlen(s);
	if (len >= NSEG_VERSION_MAX) {
		policy_doc_error_at(diags, v,
				    "version: '%s' is %zu bytes long, at most "
				    "%d allowed",
				    q, len, NSEG_VERSION_MAX - 1);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e) {
			policy_doc_error_at(diags, v,
					    "version: '%s' is not an image tag "
					    "(printable ASCII without spaces)",
					    q);
			return;
		}
	}
	memcpy(st->doc.version, s, len + 1);
}

static void doc_learn_window(struct doc_state *st, const struct yaml_node *v,
			     struct policy_doc_diags *diags)
{
	struct yaml_error err;
	uint64_t ms;

	if (yaml_tree_get_duration_ms(v, &ms, &err) < 0) {
		policy_doc_error_yaml(diags, "learn_window", &err);
		return;
	}
	if (ms == 0 || ms > LEARN_WINDOW_MAX_MS) {
		policy_doc_error_at(diags, v,
				    "learn_window: must be more than 0 and at "
				    "most 3650d, got '%s'",
				    yaml_tree_scalar(v));
		return;
	}
	st->doc.learn_window_ms = (int64_t)ms;
}

static void doc_parse(struct doc_state *st, const struct yaml_node *root,
		      struct policy_doc_diags *diags)
{
	const struct yaml_node *v;
	struct yaml_error err;

	st->doc.mode = -1;
	st->doc.learn_window_ms = -1;
	st->doc.line = yaml_tree_line(root);
	st->doc.col = yaml_tree_col(root);
	if (yaml_tree_kind(root) != YAML_TREE_MAPPING) {
		policy_doc_error_at(diags, root,
				    "expected a policy (a mapping with "
				    "workload:), got %s",
				    yaml_tree_kind_name(root));
		return;
	}
	for (size_t i = 0; i < yaml_tree_len(root); i++)
		if (yaml_tree_check_key(yaml_tree_map_key(root, i), doc_keys,
					&err) < 0)
			policy_doc_error_yaml(diags, NULL, &err);
	doc_workload(st, root, diags);
	if ((v = yaml_tree_map_get(root, "version")) != NULL)
		doc_version(st, v, diags);
	if ((v = yaml_tree_map_get(root, "mode")) != NULL &&
	    yaml_tree_get_enum(v, mode_names, &st->doc.mode, &err) < 0)
		policy_doc_error_yaml(diags, "mode", &err);
	if ((v = yaml_tree_map_get(root, "learn_window")) != NULL)
		doc_learn_window(st, v, diags);
	if ((v = yaml_tree_map_get(root, "egress")) != NULL)
		policy_doc_rules_parse(&st->rs,
				       policy_doc_map_key(root, "egress"), v,
				       NSEG_EGRESS, diags);
	if ((v = yaml_tree_map_get(root, "ingress")) != NULL)
		policy_doc_rules_parse(&st->rs,
				       policy_doc_map_key(root, "ingress"), v,
				       NSEG_INGRESS, diags);
	policy_doc_rules_check(&st->rs, yaml_tree_file(root), diags);
}

static int state_cmp(const void *x, const void *y)
{
	const struct doc_state *a = *(struct doc_state *const *)x;
	const struct doc_state *b = *(struct doc_state *const *)y;
	int c = strcmp(a->doc.workload, b->doc.workload);

	if (c == 0)
		c = strcmp(a->doc.version, b->doc.version);
	if (c == 0)
		c = a < b ? -1 : a > b;
	return c;
}

/* Two documents for the same workload and version: which one would win
 * is not something a reader of the file should have to work out. */
static void docs_check_unique(struct doc_state *st, size_t n,
			      struct policy_doc_diags *diags)
{
	struct doc_state **v = calloc(n ? n : 1, sizeof(*v));
	size_t m = 0, first = 0;

	if (v == NULL)
		return (void)policy_doc_diag_add(diags, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (st[i].workload != NULL)
			v[m++] = &st[i];
	qsort(v, m, sizeof(*v), state_cmp);
	for (size_t i = 1; i < m; i++) {
		if (strcmp(v[i]->doc.workload, v[first]->doc.workload) != 0 ||
		    strcmp(v[i]->doc.version, v[first]->doc.version) != 0) {
			first = i;
			continue;
		}
		policy_doc_error_at(
		    diags, v[i]->workload,
		    "workload '%s' %s%s%s already has a policy "
		    "in this file, at line %d",
		    v[i]->doc.workload,
		    v[i]->doc.version[0] ? "version '" : "(every version)",
		    v[i]->doc.version, v[i]->doc.version[0] ? "'" : "",
		    v[first]->doc.line);
	}
	free(v);
}

static void states_free(struct doc_state *st, size_t n)
{
	for (size_t i = 0; st != NULL && i < n; i++)
		policy_doc_rules_free(&st[i].rs);
	free(st);
}

/* Hands the rules of every document over to out. */
static int states_move(struct doc_state *st, size_t n,
		       struct policy_doc_set *out)
{
	out->docs = calloc(n, sizeof(*out->docs));
	if (out->docs == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out->docs[i] = st[i].doc;
		out->docs[i].rules = st[i].rs.rules;
		out->docs[i].n_rules = st[i].rs.n;
		st[i].rs.rules = NULL;
		st[i].rs.n = 0;
	}
	out->n_docs = n;
	return 0;
}

/* Parses every non-empty document of docs; returns how many. */
static size_t docs_parse(const struct yaml_docs *docs, struct doc_state *st,
			 struct policy_doc_diags *diags)
{
	size_t n = 0;

	for (size_t i = 0; i < docs->n; i++) {
		const struct yaml_node *root = yaml_tree_root(docs->docs[i]);

		/* a bare "---" (say, at the end of the file) is nothing */
		if (yaml_tree_kind(root) == YAML_TREE_MAPPING &&
		    yaml_tree_len(root) == 0)
			continue;
		doc_parse(&st[n++], root, diags);
	}
	return n;
}

int policy_doc_parse(const char *file, const char *text, size_t len,
		     struct policy_doc_set *out, struct policy_doc_diags *diags)
{
	size_t errors = diags->n_errors, n;
	struct yaml_docs docs;
	struct yaml_error err;
	struct doc_state *st;

	*out = (struct policy_doc_set){0};
	if (len > POLICY_DOC_MAX_BYTES) {
		policy_doc_diag_add(diags, 0,
				    "%s: %zu bytes, larger than the %u allowed",
				    file, len, POLICY_DOC_MAX_BYTES);
		return -1;
	}
	if (yaml_tree_load_buf_multi(file, text, len, POLICY_DOC_MAX_BYTES,
				     &docs, &err) < 0) {
		policy_doc_error_yaml(diags, NULL, &err);
		return -1;
	}
	st = calloc(docs.n ? docs.n : 1, sizeof(*st));
	if (st == NULL) {
		policy_doc_diag_add(diags, 0, "%s: out of memory", file);
		yaml_tree_docs_free(&docs);
		return -1;
	}
	n = docs_parse(&docs, st, diags);
	if (n == 0)
		policy_doc_diag_add(diags, 0,
				    "%s: no policy document (each YAML "
				    "document names a workload:)",
				    file);
	docs_check_unique(st, n, diags);
	if (diags->n_errors == errors && states_move(st, n, out) < 0)
		policy_doc_diag_add(diags, 0, "%s: out of memory", file);
	states_free(st, n);
	yaml_tree_docs_free(&docs);
	return diags->n_errors == errors ? 0 : -1;
}

void policy_doc_set_free(struct policy_doc_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n_docs; i++)
		free(set->docs[i].rules);
	free(set->docs);
	*set = (struct policy_doc_set){0};
}

/* Reads all of fd, refusing more than POLICY_DOC_MAX_BYTES. */
static char *file_slurp(int fd, size_t *len)
{
	size_t cap = POLICY_DOC_MAX_BYTES + 1, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (buf == NULL)
		return NULL;
	do {
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		n += (size_t)r;
	} while (r > 0 && n < cap);
	*len = n;
	return buf;
}

int policy_doc_load_file(const char *path, struct policy_doc_set *out,
			 struct policy_doc_diags *diags)
{
	struct stat sb;
	size_t len = 0;
	char *buf;
	int fd, rc;

	*out = (struct policy_doc_set){0};
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		policy_doc_diag_add(diags, 0, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* a huge regular file is refused without reading it */
	if (S_ISREG(sb.st_mode) && sb.st_size > POLICY_DOC_MAX_BYTES) {
		policy_doc_diag_add(
		    diags, 0, "%s: %lld bytes, larger than the %u allowed",
		    path, (long long)sb.st_size, POLICY_DOC_MAX_BYTES);
		close(fd);
		return -1;
	}
	buf = file_slurp(fd, &len);
	if (buf == NULL) {
		policy_doc_diag_add(diags, 0, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	rc = policy_doc_parse(path, buf, len, out, diags);
	free(buf);
	return rc;
}
