/*
 * Loads YAML with libyaml's event parser into a tree of marked nodes.
 *
 * The parser is driven event by event and the tree is built with an
 * explicit stack, so nesting is bounded by YAML_TREE_MAX_DEPTH rather than
 * by the C stack. Every node is also recorded in the document's flat node
 * list: that list enforces YAML_TREE_MAX_NODES and lets yaml_tree_free()
 * release everything without recursion, including a half-built tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "nseg/yaml_tree.h"

struct yaml_node {
	enum yaml_tree_kind kind;
	int line, col;
	int quoted;
	const char *file; /* the document's name */
	char *value;      /* scalar: NUL-terminated, no NUL inside */
	/* sequence: items; mapping: key0, value0, key1, value1, ... */
	struct yaml_node **items;
	size_t n, cap;
};

struct yaml_doc {
	char *name;
	struct yaml_node *root;
	struct yaml_node **nodes;
	size_t n_nodes, cap_nodes;
};

struct loader {
	const char *name;
	struct yaml_doc *doc; /* the document being built */
	struct yaml_doc **docs;
	size_t n_docs, cap_docs, max_docs;
	size_t n_nodes; /* over all documents: the cap is for the input */
	struct yaml_error *err;
	const char *buf;
	size_t len;
	yaml_parser_t parser;
	struct yaml_node *stack[YAML_TREE_MAX_DEPTH];
	int depth;
};

static void error_set(struct yaml_error *err, const char *file, int line,
		      int col, const char *fmt, ...) NSEG_PRINTF(5, 6);

static void error_vset(struct yaml_error *err, const char *file, int line,
		       int col, const char *fmt, va_list ap)
{
	if (err == NULL)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	err->col = col;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

static void error_set(struct yaml_error *err, const char *file, int line,
		      int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, file, line, col, fmt, ap);
	va_end(ap);
}

void yaml_tree_error_at(struct yaml_error *err, const struct yaml_node *node,
			const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (node != NULL)
		error_vset(err, node->file, node->line, node->col, fmt, ap);
	else
		error_vset(err, "", 0, 0, fmt, ap);
	va_end(ap);
}

char *yaml_tree_strerror(const struct yaml_error *err, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (err->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line,
			 err->col, err->msg);
	else
		snprintf(buf, len, "%s: %s", err->file, err->msg);
	return buf;
}

/* 1-based line and column of byte offset off of buf. */
static void buf_position(const char *buf, size_t len, size_t off, int *line,
			 int *col)
{
	const char *p = buf, *end = buf + (off < len ? off : len);
	const char *nl;

	*line = 1;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		(*line)++;
		p = nl + 1;
	}
	*col = (int)(end - p) + 1;
}

static void loader_error(struct loader *ld, const yaml_mark_t *mark,
			 const char *fmt, ...) NSEG_PRINTF(3, 4);

static void loader_error(struct loader *ld, const yaml_mark_t *mark,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(ld->err, ld->name, (int)mark->line + 1,
		   (int)mark->column + 1, fmt, ap);
	va_end(ap);
}

/* The byte at libyaml's 0-based line and character column, or -1. */
static int buf_char_at(const char *buf, size_t len, const yaml_mark_t *mark)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t col = 0;

	for (size_t l = 0; l < mark->line; l++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return -1;
		p = nl + 1;
	}
	for (; p < end; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		if (col++ == mark->column)
			return (unsigned char)*p;
	}
	return -1;
}

/* libyaml's own diagnosis: where it stopped and, if known, what it was in. */
static void loader_parser_error(struct loader *ld)
{
	yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	int line, col;

	/* its generic complaint about a tab is the most common one of all */
	if (p->error == YAML_SCANNER_ERROR &&
	    buf_char_at(ld->buf, ld->len, &p->problem_mark) == '\t')
		problem = "found a tab character: YAML indents with spaces only";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		error_set(ld->err, ld->name, 0, 0, "out of memory");
		break;
	case YAML_READER_ERROR:
		buf_position(ld->buf, ld->len, p->problem_offset, &line, &col);
		error_set(ld->err, ld->name, line, col, "%s", problem);
		break;
	default:
		if (p->context != NULL)
			loader_error(ld, &p->problem_mark,
				     "%s (%s started at %d:%d)", problem,
				     p->context, (int)p->context_mark.line + 1,
				     (int)p->context_mark.column + 1);
		else
			loader_error(ld, &p->problem_mark, "%s", problem);
		break;
	}
}

static struct yaml_node *loader_node_new(struct loader *ld,
					  enum yaml_tree_kind kind,
					  const yaml_mark_t *mark)
{
	struct yaml_doc *doc = ld->doc;
	struct yaml_node *node;

	if (ld->n_nodes >= YAML_TREE_MAX_NODES) {
		loader_error(ld, mark, "more than %d nodes",
			     YAML_TREE_MAX_NODES);
		return NULL;
	}
	if (doc->n_nodes == doc->cap_nodes) {
		size_t cap = doc->cap_nodes ? doc->cap_nodes * 2 : 64;
		void *p = reallocarray(doc->nodes, cap, sizeof(*doc->nodes));

		if (p == NULL)
			goto nomem;
		doc->nodes = p;
		doc->cap_nodes = cap;
	}
	node = calloc(1, sizeof(*node));
	if (node == NULL)
		goto nomem;
	node->kind = kind;
	node->line = (int)mark->line + 1;
	node->col = (int)mark->column + 1;
	node->file = doc->name;
	doc->nodes[doc->n_nodes++] = node;
	ld->n_nodes++;
	return node;
nomem:
	loader_error(ld, mark, "out of memory");
	return NULL;
}

static int node_push(struct yaml_node *parent, struct yaml_node *child)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		void *p = reallocarray(parent->items, cap, sizeof(*parent->items));

		if (p == NULL)
			return -1;
		parent->items = p;
		parent->cap = cap;
	}
	parent->items[parent->n++] = child;
	return 0;
}

/* Hangs a new node under the innermost open collection (or as the root). */
static int loader_attach(struct loader *ld, struct yaml_node *node)
{
	struct yaml_node *parent;

	if (ld->depth == 0) {
		ld->doc->root = node;
		return 0;
	}
	parent = ld->stack[ld->depth - 1];
	if (parent->kind == YAML_TREE_MAPPING && parent->n % 2 == 0 &&
	    node->kind != YAML_TREE_SCALAR) {
		error_set(ld->err, node->file, node->line, node->col,
			  "mapping keys must be plain values, not %s",
			  yaml_tree_kind_name(node));
		return -1;
	}
	if (node_push(parent, node) < 0) {
		error_set(ld->err, node->file, node->line, node->col,
			  "out of memory");
		return -1;
	}
	return 0;
}

static int loader_scalar(struct loader *ld, const yaml_event_t *ev)
{
	size_t len = ev->data.scalar.length;
	const char *val = (const char *)ev->data.scalar.value;
	struct yaml_node *node;

	node = loader_node_new(ld, YAML_TREE_SCALAR, &ev->start_mark);
	if (node == NULL)
		return -1;
	if (memchr(val, '\0', len) != NULL) {
		loader_error(ld, &ev->start_mark, "value contains a NUL byte");
		return -1;
	}
	node->value = strndup(val, len);
	if (node->value == NULL) {
		loader_error(ld, &ev->start_mark, "out of memory");
		return -1;
	}
	node->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	return loader_attach(ld, node);
}

static int loader_open(struct loader *ld, const yaml_event_t *ev,
		       enum yaml_tree_kind kind)
{
	struct yaml_node *node;

	if (ld->depth == YAML_TREE_MAX_DEPTH) {
		loader_error(ld, &ev->start_mark,
			     "nesting deeper than %d levels",
			     YAML_TREE_MAX_DEPTH);
		return -1;
	}
	node = loader_node_new(ld, kind, &ev->start_mark);
	if (node == NULL || loader_attach(ld, node) < 0)
		return -1;
	ld->stack[ld->depth++] = node;
	return 0;
}

struct key_ref {
	const struct yaml_node *key;
	size_t idx;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key->value, y->key->value);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Sorting keeps this O(n log n) for the huge mappings hostile input can
 * build. Of several duplicates, the one seen earliest in the file is
 * reported, as a reader going top to bottom would find it.
 */
static int map_check_duplicates(struct loader *ld,
				const struct yaml_node *map)
{
	size_t n = map->n / 2, dup = 0;
	struct key_ref *refs;
	const struct yaml_node *first = NULL, *second = NULL;

	if (n < 2)
		return 0;
	refs = calloc(n, sizeof(*refs));
	if (refs == NULL) {
		error_set(ld->err, map->file, map->line, map->col,
			  "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct key_ref){ map->items[2 * i], i };
	qsort(refs, n, sizeof(*refs), key_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(refs[i].key->value, refs[i - 1].key->value) != 0)
			continue;
		if (second == NULL || refs[i].idx < dup) {
			dup = refs[i].idx;
			second = refs[i].key;
		}
	}
	free(refs);
	if (second == NULL)
		return 0;
	for (size_t i = 0; first == NULL; i++)
		if (strcmp(map->items[2 * i]->value, second->value) == 0)
			first = map->items[2 * i];
	error_set(ld->err, second->file, second->line, second->col,
		  "duplicate key '%.64s' (first defined at %d:%d)",
		  second->value, first->line, first->col);
	return -1;
}

static int loader_close(struct loader *ld)
{
	const struct yaml_node *node = ld->stack[--ld->depth];

	if (node->kind == YAML_TREE_MAPPING)
		return map_check_duplicates(ld, node);
	return 0;
}

static struct yaml_doc *doc_new(const char *name)
{
	struct yaml_doc *doc = calloc(1, sizeof(*doc));

	if (doc == NULL || (doc->name = strdup(name)) == NULL) {
		free(doc);
		return NULL;
	}
	return doc;
}

/* A document is on the loader's list from its start, so that an error
 * half way through it frees it with the others. */
static int loader_doc_start(struct loader *ld, const yaml_event_t *ev)
{
	struct yaml_doc *doc;

	if (ld->n_docs == ld->max_docs) {
		loader_error(ld, &ev->start_mark,
			     "multiple documents are not supported");
		return -1;
	}
	if (ld->n_docs == ld->cap_docs) {
		size_t cap = ld->cap_docs ? ld->cap_docs * 2 : 4;
		void *p = reallocarray(ld->docs, cap, sizeof(*ld->docs));

		if (p == NULL)
			goto nomem;
		ld->docs = p;
		ld->cap_docs = cap;
	}
	doc = doc_new(ld->name);
	if (doc == NULL)
		goto nomem;
	ld->docs[ld->n_docs++] = doc;
	ld->doc = doc;
	return 0;
nomem:
	loader_error(ld, &ev->start_mark, "out of memory");
	return -1;
}

/* A document that is only "---" or "~" reads as an empty mapping: a
 * config file with every line commented out is valid. */
static int loader_doc_end(struct loader *ld)
{
	static const yaml_mark_t start = { 0, 0, 0 };
	struct yaml_node *root = ld->doc->root;

	if (root == NULL) {
		root = loader_node_new(ld, YAML_TREE_MAPPING, &start);
		if (root == NULL)
			return -1;
		ld->doc->root = root;
	} else if (yaml_tree_is_null(root)) {
		root->kind = YAML_TREE_MAPPING;
	}
	ld->doc = NULL;
	return 0;
}

static int loader_event(struct loader *ld, const yaml_event_t *ev, int *done)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		return loader_doc_start(ld, ev);
	case YAML_DOCUMENT_END_EVENT:
		return loader_doc_end(ld);
	case YAML_ALIAS_EVENT:
		loader_error(ld, &ev->start_mark, "aliases are not supported");
		return -1;
	case YAML_SCALAR_EVENT:
		return loader_scalar(ld, ev);
	case YAML_SEQUENCE_START_EVENT:
		return loader_open(ld, ev, YAML_TREE_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return loader_open(ld, ev, YAML_TREE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return loader_close(ld);
	default:
		return 0;
	}
}

static int loader_run(struct loader *ld)
{
	yaml_event_t ev;
	int done = 0, rc = 0;

	while (!done && rc == 0) {
		if (!yaml_parser_parse(&ld->parser, &ev)) {
			loader_parser_error(ld);
			return -1;
		}
		rc = loader_event(ld, &ev, &done);
		yaml_event_delete(&ev);
	}
	return rc;
}

void yaml_tree_free(struct yaml_doc *doc)
{
	if (doc == NULL)
		return;
	for (size_t i = 0; i < doc->n_nodes; i++) {
		free(doc->nodes[i]->value);
		free(doc->nodes[i]->items);
		free(doc->nodes[i]);
	}
	free(doc->nodes);
	free(doc->name);
	free(doc);
}

void yaml_tree_docs_free(struct yaml_docs *docs)
{
	if (docs == NULL)
		return;
	for (size_t i = 0; i < docs->n; i++)
		yaml_tree_free(docs->docs[i]);
	free(docs->docs);
	docs->docs = NULL;
	docs->n = 0;
}

/* Parses up to max_docs documents onto ld->docs; on failure the caller
 * still frees what is there. */
static int loader_load(struct loader *ld, const char *name, const char *buf,
		       size_t len, size_t max_bytes)
{
	int line, col, rc;

	ld->name = name;
	if (max_bytes == 0)
		max_bytes = YAML_TREE_MAX_BYTES_DEFAULT;
	if (buf == NULL) /* libyaml asserts on a NULL input */
		len = 0;
	ld->buf = buf ? buf : "";
	ld->len = len;
	if (len > max_bytes) {
		buf_position(ld->buf, len, max_bytes, &line, &col);
		error_set(ld->err, name, line, col,
			  "input is larger than %zu bytes", max_bytes);
		return -1;
	}
	if (!yaml_parser_initialize(&ld->parser)) {
		error_set(ld->err, name, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&ld->parser,
				     (const unsigned char *)ld->buf, len);
	rc = loader_run(ld);
	yaml_parser_delete(&ld->parser);
	return rc;
}

int yaml_tree_load_buf_multi(const char *name, const char *buf, size_t len,
			     size_t max_bytes, struct yaml_docs *out,
			     struct yaml_error *err)
{
	struct loader ld = { .err = err, .max_docs = SIZE_MAX };
	struct yaml_docs docs;

	out->docs = NULL;
	out->n = 0;
	if (loader_load(&ld, name, buf, len, max_bytes) < 0) {
		docs = (struct yaml_docs){ ld.docs, ld.n_docs };
		yaml_tree_docs_free(&docs);
		return -1;
	}
	out->docs = ld.docs;
	out->n = ld.n_docs;
	return 0;
}

struct yaml_doc *yaml_tree_load_buf(const char *name, const char *buf,
				    size_t len, size_t max_bytes,
				    struct yaml_error *err)
{
	static const yaml_mark_t start = { 0, 0, 0 };
	struct loader ld = { .err = err, .max_docs = 1 };
	struct yaml_doc *doc = NULL;
	yaml_event_t none = { .type = YAML_DOCUMENT_START_EVENT,
			      .start_mark = start };
	int rc;

	rc = loader_load(&ld, name, buf, len, max_bytes);
	/* no document at all: an empty mapping, as for "---" alone */
	if (rc == 0 && ld.n_docs == 0)
		rc = loader_doc_start(&ld, &none) < 0 ? -1 : loader_doc_end(&ld);
	if (ld.n_docs > 0)
		doc = ld.docs[0];
	free(ld.docs);
	if (rc < 0) {
		yaml_tree_free(doc);
		return NULL;
	}
	return doc;
}

/* Reads at most max + 1 bytes: one more than allowed proves "too big". */
static char *file_read(int fd, size_t max, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL;
	ssize_t r;

	do {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *p;

			if (ncap > max + 1)
				ncap = max + 1;
			p = realloc(buf, ncap);
			if (p == NULL)
				goto fail;
			buf = p;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		n += (size_t)r;
	} while (r > 0 && n <= max);
	*len = n;
	return buf;
fail:
	free(buf);
	return NULL;
}

struct yaml_doc *yaml_tree_load_file(const char *path, size_t max_bytes,
				     struct yaml_error *err)
{
	struct yaml_doc *doc = NULL;
	size_t len = 0;
	char *buf;
	int fd, saved;

	if (max_bytes == 0)
		max_bytes = YAML_TREE_MAX_BYTES_DEFAULT;
	if (max_bytes == SIZE_MAX) /* file_read() needs max_bytes + 1 */
		max_bytes--;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, path, 0, 0, "%s", strerror(errno));
		return NULL;
	}
	buf = file_read(fd, max_bytes, &len);
	saved = errno;
	close(fd);
	if (buf == NULL) {
		error_set(err, path, 0, 0, "%s", strerror(saved));
		errno = saved;
		return NULL;
	}
	doc = yaml_tree_load_buf(path, buf, len, max_bytes, err);
	free(buf);
	return doc;
}

const struct yaml_node *yaml_tree_root(const struct yaml_doc *doc)
{
	return doc->root;
}

enum yaml_tree_kind yaml_tree_kind(const struct yaml_node *node)
{
	return node->kind;
}

const char *yaml_tree_kind_name(const struct yaml_node *node)
{
	switch (node->kind) {
	case YAML_TREE_SCALAR:
		return "a value";
	case YAML_TREE_SEQUENCE:
		return "a list";
	case YAML_TREE_MAPPING:
		return "a mapping";
	}
	return "?";
}

int yaml_tree_line(const struct yaml_node *node)
{
	return node->line;
}

int yaml_tree_col(const struct yaml_node *node)
{
	return node->col;
}

const char *yaml_tree_file(const struct yaml_node *node)
{
	return node->file;
}

const char *yaml_tree_scalar(const struct yaml_node *node)
{
	return node->kind == YAML_TREE_SCALAR ? node->value : NULL;
}

int yaml_tree_quoted(const struct yaml_node *node)
{
	return node->kind == YAML_TREE_SCALAR && node->quoted;
}

int yaml_tree_is_null(const struct yaml_node *node)
{
	const char *v = node->value;

	if (node->kind != YAML_TREE_SCALAR || node->quoted)
		return 0;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

size_t yaml_tree_len(const struct yaml_node *node)
{
	switch (node->kind) {
	case YAML_TREE_SEQUENCE:
		return node->n;
	case YAML_TREE_MAPPING:
		return node->n / 2;
	default:
		return 0;
	}
}

const struct yaml_node *yaml_tree_seq_item(const struct yaml_node *seq,
					   size_t i)
{
	if (seq->kind != YAML_TREE_SEQUENCE || i >= seq->n)
		return NULL;
	return seq->items[i];
}

const struct yaml_node *yaml_tree_map_key(const struct yaml_node *map,
					  size_t i)
{
	if (map->kind != YAML_TREE_MAPPING || i >= map->n / 2)
		return NULL;
	return map->items[2 * i];
}

const struct yaml_node *yaml_tree_map_value(const struct yaml_node *map,
					    size_t i)
{
	if (map->kind != YAML_TREE_MAPPING || i >= map->n / 2)
		return NULL;
	return map->items[2 * i + 1];
}

const struct yaml_node *yaml_tree_map_get(const struct yaml_node *map,
					  const char *key)
{
	if (map->kind != YAML_TREE_MAPPING)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (strcmp(map->items[i]->value, key) == 0)
			return map->items[i + 1];
	return NULL;
}
