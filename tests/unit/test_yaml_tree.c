#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nseg/yaml_tree.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct yaml_doc *load(const char *text, struct yaml_error *err)
{
	return yaml_tree_load_buf("t.yaml", text, strlen(text), 0, err);
}

/* Loads text, which must fail, and returns the formatted error. */
static const char *load_error(const char *text)
{
	static char buf[600];
	struct yaml_error err;
	struct yaml_doc *doc = load(text, &err);

	if (doc != NULL) {
		yaml_tree_free(doc);
		return "(loaded)";
	}
	return yaml_tree_strerror(&err, buf, sizeof(buf));
}

static const struct {
	const char *text;
	const char *error;
} bad_docs[] = {
	{ "a: 1\nb: &x 2\nc: *x\n", "t.yaml:3:4: aliases are not supported" },
	{ "a: &x [1, 2]\nb: [*x, *x]\n",
	  "t.yaml:2:5: aliases are not supported" },
	{ "a: 1\nb: 2\na: 3\n",
	  "t.yaml:3:1: duplicate key 'a' (first defined at 1:1)" },
	{ "m:\n  x: 1\n  y: 2\n  y: 3\n  x: 4\n",
	  "t.yaml:4:3: duplicate key 'y' (first defined at 3:3)" },
	{ "b: {k: 1, j: 2, k: 3}\n",
	  "t.yaml:1:17: duplicate key 'k' (first defined at 1:5)" },
	{ "a: 1\n---\nb: 2\n",
	  "t.yaml:2:1: multiple documents are not supported" },
	{ "? [a, b]\n: c\n",
	  "t.yaml:1:3: mapping keys must be plain values, not a list" },
	{ "a:\n\tb: 1\n",
	  "t.yaml:2:1: found a tab character: YAML indents with spaces only "
	  "(while scanning for the next token started at 2:1)" },
	{ "a: 1\nb: [1, 2\n",
	  "t.yaml:3:1: did not find expected ',' or ']' (while parsing a flow "
	  "sequence started at 2:4)" },
	{ "a: b: c\n",
	  "t.yaml:1:5: mapping values are not allowed in this context" },
	{ "k: \"unterminated\n",
	  "t.yaml:2:1: found unexpected end of stream (while scanning a "
	  "quoted scalar started at 1:4)" },
	{ "a: \"x\\0y\"\n", "t.yaml:1:4: value contains a NUL byte" },
	{ "a: 1\nb: \xc3\x28\n", "t.yaml:2:5: invalid trailing UTF-8 octet" },
};

START_TEST(test_bad_docs)
{
	ck_assert_str_eq(load_error(bad_docs[_i].text), bad_docs[_i].error);
}
END_TEST

START_TEST(test_good_doc)
{
	static const char text[] = "# comment\n"
				   "name: web\n"
				   "quoted: 'x y'\n"
				   "anchored: &a 7\n"
				   "tagged: !!str 8\n"
				   "list:\n"
				   "  - one\n"
				   "  - {k: v}\n"
				   "empty:\n";
	struct yaml_error err;
	struct yaml_doc *doc = load(text, &err);
	const struct yaml_node *root, *list, *v;

	ck_assert_ptr_nonnull(doc);
	root = yaml_tree_root(doc);
	ck_assert_int_eq(yaml_tree_kind(root), YAML_TREE_MAPPING);
	ck_assert_uint_eq(yaml_tree_len(root), 6);
	ck_assert_str_eq(yaml_tree_scalar(yaml_tree_map_key(root, 1)),
			 "quoted");
	v = yaml_tree_map_get(root, "name");
	ck_assert_str_eq(yaml_tree_scalar(v), "web");
	ck_assert_int_eq(yaml_tree_quoted(v), 0);
	ck_assert_int_eq(yaml_tree_line(v), 2);
	ck_assert_int_eq(yaml_tree_col(v), 7);
	ck_assert_str_eq(yaml_tree_file(v), "t.yaml");
	v = yaml_tree_map_get(root, "quoted");
	ck_assert_str_eq(yaml_tree_scalar(v), "x y");
	ck_assert_int_eq(yaml_tree_quoted(v), 1);
	ck_assert_str_eq(yaml_tree_scalar(yaml_tree_map_get(root, "anchored")),
			 "7");
	ck_assert_str_eq(yaml_tree_scalar(yaml_tree_map_get(root, "tagged")),
			 "8");
	list = yaml_tree_map_get(root, "list");
	ck_assert_int_eq(yaml_tree_kind(list), YAML_TREE_SEQUENCE);
	ck_assert_uint_eq(yaml_tree_len(list), 2);
	ck_assert_str_eq(yaml_tree_scalar(yaml_tree_seq_item(list, 0)), "one");
	v = yaml_tree_seq_item(list, 1);
	ck_assert_int_eq(yaml_tree_kind(v), YAML_TREE_MAPPING);
	ck_assert_int_eq(yaml_tree_line(v), 8);
	ck_assert_int_eq(yaml_tree_col(v), 5);
	ck_assert_ptr_null(yaml_tree_scalar(v));
	ck_assert_ptr_null(yaml_tree_seq_item(list, 2));
	ck_assert_ptr_null(yaml_tree_map_key(list, 0));
	ck_assert_int_eq(yaml_tree_is_null(yaml_tree_map_get(root, "empty")),
			 1);
	ck_assert_int_eq(yaml_tree_is_null(yaml_tree_map_get(root, "quoted")),
			 0);
	ck_assert_ptr_null(yaml_tree_map_get(root, "missing"));
	yaml_tree_free(doc);
}
END_TEST

/* Inputs with nothing in them read as an empty mapping. */
START_TEST(test_empty_docs)
{
	static const char *const texts[] = { "", "# only a comment\n",
					     "---\n", "~\n", "---\n...\n" };
	struct yaml_error err;

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct yaml_doc *doc = load(texts[i], &err);

		ck_assert_msg(doc != NULL, "'%s': %s", texts[i], err.msg);
		ck_assert_int_eq(yaml_tree_kind(yaml_tree_root(doc)),
				 YAML_TREE_MAPPING);
		ck_assert_uint_eq(yaml_tree_len(yaml_tree_root(doc)), 0);
		yaml_tree_free(doc);
	}
}
END_TEST

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);

	for (int i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth * 2 - 1 - i] = ']';
	}
	s[depth * 2] = '\0';
	return s;
}

START_TEST(test_depth)
{
	char *ok = nested(YAML_TREE_MAX_DEPTH);
	char *deep = nested(YAML_TREE_MAX_DEPTH + 1);
	struct yaml_error err;
	struct yaml_doc *doc = load(ok, &err);

	ck_assert_ptr_nonnull(doc);
	yaml_tree_free(doc);
	ck_assert_str_eq(load_error(deep),
			 "t.yaml:1:65: nesting deeper than 64 levels");
	free(ok);
	free(deep);
}
END_TEST

START_TEST(test_node_count)
{
	size_t n = YAML_TREE_MAX_NODES + 10, len = 0;
	char *s = malloc(n * 2 + 2);

	s[len++] = '[';
	for (size_t i = 0; i < n; i++) {
		s[len++] = 'x';
		s[len++] = ',';
	}
	s[len - 1] = ']';
	s[len] = '\0';
	/* the sequence is node 1, so item 100000 (column 2 * 99999 + 2) is
	 * the first one over */
	ck_assert_str_eq(load_error(s),
			 "t.yaml:1:200000: more than 100000 nodes");
	free(s);
}
END_TEST

START_TEST(test_too_big)
{
	static const char text[] = "a: 1\nbb: 22\nccc: 333\n";
	struct yaml_error err;
	char buf[300], path[] = "/tmp/nseg-test-yaml-XXXXXX";
	struct yaml_doc *doc;
	int fd;

	ck_assert_ptr_null(yaml_tree_load_buf("t.yaml", text, strlen(text), 10,
					      &err));
	ck_assert_str_eq(yaml_tree_strerror(&err, buf, sizeof(buf)),
			 "t.yaml:2:6: input is larger than 10 bytes");

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_ptr_null(yaml_tree_load_file(path, 10, &err));
	snprintf(buf, sizeof(buf), "%s", err.msg);
	ck_assert_str_eq(buf, "input is larger than 10 bytes");
	ck_assert_int_eq(err.line, 2);
	doc = yaml_tree_load_file(path, strlen(text), &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_eq(yaml_tree_len(yaml_tree_root(doc)), 3);
	yaml_tree_free(doc);
	unlink(path);
}
END_TEST

START_TEST(test_missing_file)
{
	struct yaml_error err;
	char buf[300];

	errno = 0;
	ck_assert_ptr_null(yaml_tree_load_file("/nonexistent/x.yaml", 0, &err));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(yaml_tree_strerror(&err, buf, sizeof(buf)),
			 "/nonexistent/x.yaml: No such file or directory");
	yaml_tree_free(NULL);
}
END_TEST

/* Loads "v: VALUE" and returns the value node. */
static const struct yaml_node *value_of(struct yaml_doc **doc,
					const char *value)
{
	char text[300];
	struct yaml_error err;

	snprintf(text, sizeof(text), "v: %s\n", value);
	*doc = load(text, &err);
	ck_assert_msg(*doc != NULL, "%s: %s", text, err.msg);
	return yaml_tree_map_get(yaml_tree_root(*doc), "v");
}

static const struct {
	const char *value;
	int ok;
	int want;
	const char *error;
} bool_cases[] = {
	{ "true", 1, 1, NULL },
	{ "Yes", 1, 1, NULL },
	{ "ON", 1, 1, NULL },
	{ "\"on\"", 1, 1, NULL },
	{ "false", 1, 0, NULL },
	{ "no", 1, 0, NULL },
	{ "off", 1, 0, NULL },
	{ "1", 0, 0, "t.yaml:1:4: expected true or false, got '1'" },
	{ "truee", 0, 0, "t.yaml:1:4: expected true or false, got 'truee'" },
	{ "[true]", 0, 0, "t.yaml:1:4: expected true or false, got a list" },
	{ "\"a\\tb\"", 0, 0,
	  "t.yaml:1:4: expected true or false, got 'a\\x09b'" },
};

START_TEST(test_get_bool)
{
	struct yaml_doc *doc;
	const struct yaml_node *v = value_of(&doc, bool_cases[_i].value);
	struct yaml_error err;
	char buf[600];
	int out = -1;

	ck_assert_int_eq(yaml_tree_get_bool(v, &out, &err),
			 bool_cases[_i].ok ? 0 : -1);
	if (bool_cases[_i].ok)
		ck_assert_int_eq(out, bool_cases[_i].want);
	else
		ck_assert_str_eq(yaml_tree_strerror(&err, buf, sizeof(buf)),
				 bool_cases[_i].error);
	yaml_tree_free(doc);
}
END_TEST

static const struct {
	const char *value;
	uint64_t min, max;
	int ok;
	uint64_t want;
} uint_cases[] = {
	{ "0", 0, 10, 1, 0 },
	{ "10", 0, 10, 1, 10 },
	{ "007", 0, 10, 1, 7 },
	{ "'42'", 0, 100, 1, 42 },
	{ "18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX },
	{ "18446744073709551616", 0, UINT64_MAX, 0, 0 },
	{ "99999999999999999999999", 0, UINT64_MAX, 0, 0 },
	{ "11", 0, 10, 0, 0 },
	{ "4", 5, 10, 0, 0 },
	{ "-1", 0, 10, 0, 0 },
	{ "+1", 0, 10, 0, 0 },
	{ "0x10", 0, 100, 0, 0 },
	{ "1e3", 0, 10000, 0, 0 },
	{ "1.0", 0, 10, 0, 0 },
	{ "' 1'", 0, 10, 0, 0 },
	{ "'1 '", 0, 10, 0, 0 },
	{ "1_000", 0, 10000, 0, 0 },
	{ "''", 0, 10, 0, 0 },
	{ "", 0, 10, 0, 0 },
};

START_TEST(test_get_uint)
{
	struct yaml_doc *doc;
	const struct yaml_node *v = value_of(&doc, uint_cases[_i].value);
	struct yaml_error err;
	uint64_t out = 12345;
	char want[300];

	ck_assert_int_eq(yaml_tree_get_uint(v, uint_cases[_i].min,
					    uint_cases[_i].max, &out, &err),
			 uint_cases[_i].ok ? 0 : -1);
	if (uint_cases[_i].ok) {
		ck_assert_uint_eq(out, uint_cases[_i].want);
	} else {
		ck_assert_uint_eq(out, 12345);
		snprintf(want, sizeof(want),
			 "expected an integer from %llu to %llu, got '%s'",
			 (unsigned long long)uint_cases[_i].min,
			 (unsigned long long)uint_cases[_i].max,
			 yaml_tree_scalar(v));
		ck_assert_str_eq(err.msg, want);
		ck_assert_int_eq(err.line, 1);
		/* an empty value sits right after the key's colon */
		ck_assert_int_eq(err.col, uint_cases[_i].value[0] ? 4 : 3);
	}
	yaml_tree_free(doc);
}
END_TEST

static const struct {
	const char *value;
	int ok;
	uint64_t want;
} duration_cases[] = {
	{ "500ms", 1, 500 },
	{ "2s", 1, 2000 },
	{ "2", 1, 2000 },
	{ "5m", 1, 300000 },
	{ "24h", 1, 86400000 },
	{ "1d", 1, 86400000 },
	{ "0ms", 1, 0 },
	{ "2 s", 0, 0 },
	{ "2sec", 0, 0 },
	{ "s", 0, 0 },
	{ "-1s", 0, 0 },
	{ "1.5s", 0, 0 },
	{ "2S", 0, 0 },
	{ "1h30m", 0, 0 },
	{ "18446744073709551615d", 0, 0 },
	{ "[1s]", 0, 0 },
};

START_TEST(test_get_duration)
{
	struct yaml_doc *doc;
	const struct yaml_node *v = value_of(&doc, duration_cases[_i].value);
	struct yaml_error err;
	uint64_t out = 12345;
	char want[300];

	ck_assert_int_eq(yaml_tree_get_duration_ms(v, &out, &err),
			 duration_cases[_i].ok ? 0 : -1);
	if (duration_cases[_i].ok) {
		ck_assert_uint_eq(out, duration_cases[_i].want);
	} else if (yaml_tree_scalar(v) != NULL) {
		snprintf(want, sizeof(want),
			 "expected a duration such as 500ms, 2s, 5m, 24h or "
			 "1d, got '%s'",
			 yaml_tree_scalar(v));
		ck_assert_str_eq(err.msg, want);
		ck_assert_int_eq(err.col, 4);
	} else {
		ck_assert_str_eq(err.msg, "expected a duration, got a list");
	}
	yaml_tree_free(doc);
}
END_TEST

START_TEST(test_get_string_enum)
{
	static const char *const names[] = { "learn", "notify", "enforce",
					     NULL };
	struct yaml_doc *doc;
	const struct yaml_node *v = value_of(&doc, "notify");
	struct yaml_error err;
	char small[6], big[7];
	int idx = -1;

	ck_assert_int_eq(yaml_tree_get_string(v, small, sizeof(small), &err),
			 -1);
	ck_assert_str_eq(err.msg, "value is 6 bytes long, at most 5 allowed");
	ck_assert_int_eq(yaml_tree_get_string(v, big, sizeof(big), &err), 0);
	ck_assert_str_eq(big, "notify");
	ck_assert_int_eq(yaml_tree_get_enum(v, names, &idx, &err), 0);
	ck_assert_int_eq(idx, 1);
	ck_assert_int_eq(yaml_tree_expect(v, YAML_TREE_SCALAR, &err), 0);
	ck_assert_int_eq(yaml_tree_expect(v, YAML_TREE_MAPPING, &err), -1);
	ck_assert_str_eq(err.msg, "expected a mapping, got a value");
	yaml_tree_free(doc);

	v = value_of(&doc, "enforcing");
	ck_assert_int_eq(yaml_tree_get_enum(v, names, &idx, &err), -1);
	ck_assert_str_eq(err.msg, "expected learn, notify or enforce, got "
				  "'enforcing'");
	yaml_tree_free(doc);
}
END_TEST

static const struct {
	const char *text;
	const char *error; /* NULL: accepted */
} key_cases[] = {
	{ "queue: 1\nsocket: x\n", NULL },
	{ "{}", NULL },
	{ "queue: 1\nqueu: 2\n",
	  "t.yaml:2:1: unknown key 'queu' (did you mean 'queue'?)" },
	{ "  sokcet: 1\n",
	  "t.yaml:1:3: unknown key 'sokcet' (did you mean 'socket'?)" },
	{ "queue_maxlne: 1\n",
	  "t.yaml:1:1: unknown key 'queue_maxlne' (did you mean "
	  "'queue_maxlen'?)" },
	{ "protocl: 1\n",
	  "t.yaml:1:1: unknown key 'protocl' (did you mean 'protocol'?)" },
	{ "zzz: 1\n", "t.yaml:1:1: unknown key 'zzz'" },
	{ "qqqqe: 1\n", "t.yaml:1:1: unknown key 'qqqqe'" },
	{ "- queue\n", "t.yaml:1:1: expected a mapping, got a list" },
};

START_TEST(test_check_keys)
{
	static const char *const allowed[] = { "queue", "queue_maxlen",
					       "socket", "protocol", NULL };
	struct yaml_error err;
	struct yaml_doc *doc = load(key_cases[_i].text, &err);
	const struct yaml_node *root;
	char buf[600];
	int rc;

	ck_assert_ptr_nonnull(doc);
	rc = yaml_tree_check_keys(yaml_tree_root(doc), allowed, &err);
	if (key_cases[_i].error == NULL)
		ck_assert_int_eq(rc, 0);
	else
		ck_assert_str_eq(yaml_tree_strerror(&err, buf, sizeof(buf)),
				 key_cases[_i].error);
	/* key by key, the first bad one gives the same message */
	root = yaml_tree_root(doc);
	for (size_t i = 0; rc < 0 && yaml_tree_kind(root) == YAML_TREE_MAPPING &&
			   i < yaml_tree_len(root);
	     i++) {
		const struct yaml_node *k = yaml_tree_map_key(root, i);

		if (yaml_tree_check_key(k, allowed, &err) < 0) {
			ck_assert_str_eq(yaml_tree_strerror(&err, buf,
							    sizeof(buf)),
					 key_cases[_i].error);
			break;
		}
	}
	yaml_tree_free(doc);
}
END_TEST

static const struct {
	const char *text;
	size_t n;       /* documents */
	size_t lens[3]; /* keys of each root mapping */
	int lines[3];   /* line of each root */
} multi_cases[] = {
	{ "", 0, { 0 }, { 0 } },
	{ "# only a comment\n", 0, { 0 }, { 0 } },
	{ "a: 1\n", 1, { 1 }, { 1 } },
	{ "---\n", 1, { 0 }, { 1 } },
	{ "a: 1\n---\nb: 2\nc: 3\n", 2, { 1, 2 }, { 1, 3 } },
	{ "---\na: 1\n---\n---\n# x\nb: 1\n...\n", 3, { 1, 0, 1 },
	  { 2, 1, 6 } },
};

START_TEST(test_multi)
{
	struct yaml_docs docs = { (void *)1, 99 };
	struct yaml_error err;
	const char *text = multi_cases[_i].text;

	ck_assert_int_eq(yaml_tree_load_buf_multi("t.yaml", text, strlen(text),
						  0, &docs, &err),
			 0);
	ck_assert_uint_eq(docs.n, multi_cases[_i].n);
	for (size_t i = 0; i < docs.n; i++) {
		const struct yaml_node *root = yaml_tree_root(docs.docs[i]);

		ck_assert_int_eq(yaml_tree_kind(root), YAML_TREE_MAPPING);
		ck_assert_uint_eq(yaml_tree_len(root), multi_cases[_i].lens[i]);
		if (multi_cases[_i].lens[i] > 0)
			ck_assert_int_eq(yaml_tree_line(root),
					 multi_cases[_i].lines[i]);
	}
	yaml_tree_docs_free(&docs);
	ck_assert_uint_eq(docs.n, 0);
	yaml_tree_docs_free(&docs);
	yaml_tree_docs_free(NULL);
}
END_TEST

/* Loads text as a stream, which must fail, and returns the error. */
static const char *multi_error(const char *text, size_t max_bytes)
{
	static char buf[600];
	struct yaml_docs docs;
	struct yaml_error err;

	if (yaml_tree_load_buf_multi("t.yaml", text, strlen(text), max_bytes,
				     &docs, &err) == 0) {
		yaml_tree_docs_free(&docs);
		return "(loaded)";
	}
	ck_assert_ptr_null(docs.docs);
	ck_assert_uint_eq(docs.n, 0);
	return yaml_tree_strerror(&err, buf, sizeof(buf));
}

START_TEST(test_multi_errors)
{
	char *deep = nested(YAML_TREE_MAX_DEPTH + 1);
	char *s = malloc(2 * strlen(deep) + 64);

	ck_assert_str_eq(multi_error("a: 1\n---\nb: &x 1\nc: *x\n", 0),
			 "t.yaml:4:4: aliases are not supported");
	ck_assert_str_eq(multi_error("a: 1\n---\nb: 1\nb: 2\n", 0),
			 "t.yaml:4:1: duplicate key 'b' (first defined at "
			 "3:1)");
	ck_assert_str_eq(multi_error("a: 1\n---\nb: [1\n", 0),
			 "t.yaml:4:1: did not find expected ',' or ']' "
			 "(while parsing a flow sequence started at 3:4)");
	ck_assert_str_eq(multi_error("a: 1\n---\nb: 22\n", 10),
			 "t.yaml:3:2: input is larger than 10 bytes");
	/* the depth cap is per document: 64 levels in each is fine */
	sprintf(s, "a: 1\n---\n%s\n", deep);
	ck_assert_str_eq(multi_error(s, 0),
			 "t.yaml:3:65: nesting deeper than 64 levels");
	free(deep);
	deep = nested(YAML_TREE_MAX_DEPTH);
	sprintf(s, "%s\n---\n%s\n", deep, deep);
	ck_assert_str_eq(multi_error(s, 0), "(loaded)");
	free(deep);
	free(s);
}
END_TEST

/* The node cap is for the whole input, not per document: 30000
 * documents of 5 nodes each exceed it. */
START_TEST(test_multi_node_count)
{
	static const char one[] = "---\na: b\nc: d\n";
	size_t n = 30000, len = strlen(one);
	char *s = malloc(n * len + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, one, len);
	s[n * len] = '\0';
	/* node 100001 is the root mapping of document 20001 (line 60002),
	 * as libyaml marks it: at the start of its first key */
	ck_assert_str_eq(multi_error(s, n * len),
			 "t.yaml:60002:1: more than 100000 nodes");
	s[20000 * len] = '\0';
	ck_assert_str_eq(multi_error(s, n * len), "(loaded)");
	free(s);
}
END_TEST

static Suite *yaml_tree_suite(void)
{
	Suite *s = suite_create("yaml_tree");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_bad_docs, 0, ARRAY_SIZE(bad_docs));
	tcase_add_test(tc, test_good_doc);
	tcase_add_test(tc, test_empty_docs);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_node_count);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_missing_file);
	tcase_add_loop_test(tc, test_multi, 0, ARRAY_SIZE(multi_cases));
	tcase_add_test(tc, test_multi_errors);
	tcase_add_test(tc, test_multi_node_count);
	tcase_add_loop_test(tc, test_get_bool, 0, ARRAY_SIZE(bool_cases));
	tcase_add_loop_test(tc, test_get_uint, 0, ARRAY_SIZE(uint_cases));
	tcase_add_loop_test(tc, test_get_duration, 0,
			    ARRAY_SIZE(duration_cases));
	tcase_add_test(tc, test_get_string_enum);
	tcase_add_loop_test(tc, test_check_keys, 0, ARRAY_SIZE(key_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(yaml_tree_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
