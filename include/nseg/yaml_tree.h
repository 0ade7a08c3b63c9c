/*
 * A YAML document loaded into a small tree that keeps the source position
 * of every node, so that the daemon config and the policy loader can say
 * "file:line:col: what is wrong" about any value they reject.
 *
 * Loading is for hostile input: the size of the input, the nesting depth
 * and the number of nodes are capped; aliases are refused (which also
 * refuses alias bombs); anchors and tags are accepted and ignored; the
 * single-document loaders allow exactly one document (an empty input is an
 * empty mapping), yaml_tree_load_buf_multi() any number; duplicate mapping
 * keys and non-scalar keys are errors. Every failure fills a
 * struct yaml_error with the position it was found at.
 *
 * Nodes belong to their document: every pointer returned by an accessor
 * stays valid until yaml_tree_free() of the document it came from.
 */
#ifndef NSEG_YAML_TREE_H
#define NSEG_YAML_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "nseg/log.h"

#define YAML_TREE_MAX_BYTES_DEFAULT (4u << 20)
#define YAML_TREE_MAX_DEPTH 64
#define YAML_TREE_MAX_NODES 100000

enum yaml_tree_kind {
	YAML_TREE_SCALAR = 1,
	YAML_TREE_SEQUENCE = 2,
	YAML_TREE_MAPPING = 3,
};

/*
 * line and col are 1-based; line 0 means the error has no position (the
 * file could not be opened, memory ran out).
 */
struct yaml_error {
	char file[256];
	int line, col;
	char msg[256];
};

struct yaml_node;
struct yaml_doc;

/*
 * Reads and parses path. max_bytes caps the file size (0: the default,
 * YAML_TREE_MAX_BYTES_DEFAULT). Returns a document the caller frees with
 * yaml_tree_free(), or NULL with err set; when the file cannot be opened
 * or read errno is left as open()/read() set it.
 */
struct yaml_doc *yaml_tree_load_file(const char *path, size_t max_bytes,
				     struct yaml_error *err);

/*
 * Parses len bytes of buf (need not be NUL-terminated); name is used in
 * error messages. max_bytes as for yaml_tree_load_file(). Returns a
 * document the caller frees with yaml_tree_free(), or NULL with err set.
 */
struct yaml_doc *yaml_tree_load_buf(const char *name, const char *buf,
				    size_t len, size_t max_bytes,
				    struct yaml_error *err);

/* The documents of a "---"-separated stream, in input order. */
struct yaml_docs {
	struct yaml_doc **docs;
	size_t n;
};

/*
 * As yaml_tree_load_buf(), for a stream of any number of documents: an
 * input with none (empty, only comments) gives n == 0; a document that is
 * only "---" or "~" is an empty mapping. The caps on size and node count
 * apply to the whole input, the depth cap to each document. Returns 0
 * with *out filled (the caller frees it with yaml_tree_docs_free()), or -1
 * with err set and *out empty: one bad document fails the whole load.
 */
int yaml_tree_load_buf_multi(const char *name, const char *buf, size_t len,
			     size_t max_bytes, struct yaml_docs *out,
			     struct yaml_error *err);

/* Frees every document of docs and empties it; NULL is a no-op. */
void yaml_tree_docs_free(struct yaml_docs *docs);

/* Frees the document and all its nodes; NULL is a no-op. */
void yaml_tree_free(struct yaml_doc *doc);

/* The root node (never NULL): an empty input gives an empty mapping. */
const struct yaml_node *yaml_tree_root(const struct yaml_doc *doc);

/* Writes "file:line:col: message" (or "file: message" without position)
 * into buf and returns buf. */
char *yaml_tree_strerror(const struct yaml_error *err, char *buf, size_t len);

/* Longest text yaml_tree_quote() writes, with the NUL. */
#define YAML_TREE_QUOTE_LEN (4 * 48 + 8)

/* s as it can safely be shown in a message: cut after 48 bytes (with
 * "..."), control bytes written as \xNN. Returns out. */
const char *yaml_tree_quote(const char *s, char *out, size_t outlen);

/* Sets err to a message at node's position (printf-style). */
void yaml_tree_error_at(struct yaml_error *err, const struct yaml_node *node,
			const char *fmt, ...) NSEG_PRINTF(3, 4);

/* Node accessors. */
enum yaml_tree_kind yaml_tree_kind(const struct yaml_node *node);
/* "a string", "a list", "a mapping": for "expected X, got Y" messages. */
const char *yaml_tree_kind_name(const struct yaml_node *node);
int yaml_tree_line(const struct yaml_node *node);
int yaml_tree_col(const struct yaml_node *node);
/* The name the document was loaded under (the file path). */
const char *yaml_tree_file(const struct yaml_node *node);

/* A scalar's value, NUL-terminated and without NUL bytes inside; NULL for
 * a sequence or mapping. Owned by the document. */
const char *yaml_tree_scalar(const struct yaml_node *node);
/* 1 when the scalar was written quoted or as a block ('x', "x", |, >). */
int yaml_tree_quoted(const struct yaml_node *node);
/* 1 for a plain (unquoted) scalar that is empty, "~" or "null": a key
 * written with no value. */
int yaml_tree_is_null(const struct yaml_node *node);

/* Number of items of a sequence or of key/value pairs of a mapping
 * (0 for a scalar). */
size_t yaml_tree_len(const struct yaml_node *node);
/* Item i of a sequence; NULL when out of range or not a sequence. */
const struct yaml_node *yaml_tree_seq_item(const struct yaml_node *seq,
					   size_t i);
/* Key (a scalar node) and value of pair i of a mapping, in document
 * order; NULL when out of range or not a mapping. */
const struct yaml_node *yaml_tree_map_key(const struct yaml_node *map,
					  size_t i);
const struct yaml_node *yaml_tree_map_value(const struct yaml_node *map,
					    size_t i);
/* The value for key in a mapping, or NULL when absent / not a mapping. */
const struct yaml_node *yaml_tree_map_get(const struct yaml_node *map,
					  const char *key);

/*
 * Typed readers. Each returns 0 and stores the value, or -1 with err set
 * at the node's position (the bad value quoted) and *out untouched.
 */

/* true/false/yes/no/on/off, any case. */
int yaml_tree_get_bool(const struct yaml_node *node, int *out,
		       struct yaml_error *err);
/* A decimal integer in [min, max]: no sign, no spaces, no other base. */
int yaml_tree_get_uint(const struct yaml_node *node, uint64_t min,
		       uint64_t max, uint64_t *out, struct yaml_error *err);
/* "500ms", "2s", "5m", "24h", "1d"; a bare integer is seconds. */
int yaml_tree_get_duration_ms(const struct yaml_node *node, uint64_t *out,
			      struct yaml_error *err);
/* One of names (a NULL-terminated list): *out is its index.
 * Else "expected A, B or C, got 'X'". */
int yaml_tree_get_enum(const struct yaml_node *node, const char *const *names,
		       int *out, struct yaml_error *err);
/* A scalar copied into out[outlen]; longer values are an error, never
 * truncated. */
int yaml_tree_get_string(const struct yaml_node *node, char *out,
			 size_t outlen, struct yaml_error *err);
/* Checks that node is of kind; else "expected K, got ..." at node. */
int yaml_tree_expect(const struct yaml_node *node, enum yaml_tree_kind kind,
		     struct yaml_error *err);

/*
 * Checks that map is a mapping whose keys are all in allowed (a
 * NULL-terminated list). An unknown key is reported at its position, with
 * "(did you mean 'K'?)" when an allowed key is within edit distance 2.
 */
int yaml_tree_check_keys(const struct yaml_node *map,
			 const char *const *allowed, struct yaml_error *err);

/* The same check for one key node of a mapping, for callers that report
 * every unknown key rather than the first. */
int yaml_tree_check_key(const struct yaml_node *key,
			const char *const *allowed, struct yaml_error *err);

#endif
