/*
 * libFuzzer target for the YAML loader and everything that reads its
 * tree: every node is visited with every typed reader, and the same bytes
 * are loaded as an nsegd config (which must then print and reload).
 *
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE \
 *     -Iinclude tests/fuzz/fuzz_yaml_tree.c policies/yaml_tree*.c \
 *     enforcer/config.c learner/pkt.c -lyaml -o /tmp/fuzz_yaml_tree
 *   /tmp/fuzz_yaml_tree tests/fuzz/corpus/yaml_tree
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/config.h"
#include "nseg/yaml_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_keys[] = { "name", "queue", "cidr", "netns",
					 NULL };

static void fuzz_scalar(const struct yaml_node *n)
{
	static const char *const names[] = { "open", "closed", NULL };
	struct yaml_error err;
	char small[8];
	uint64_t u;
	int b;

	yaml_tree_get_bool(n, &b, &err);
	yaml_tree_get_uint(n, 1, 65535, &u, &err);
	yaml_tree_get_duration_ms(n, &u, &err);
	yaml_tree_get_enum(n, names, &b, &err);
	yaml_tree_get_string(n, small, sizeof(small), &err);
	yaml_tree_is_null(n);
	yaml_tree_quoted(n);
}

/* Recursion is bounded by YAML_TREE_MAX_DEPTH. */
static void fuzz_walk(const struct yaml_node *n)
{
	struct yaml_error err;
	char buf[600];

	if (yaml_tree_line(n) < 1 || yaml_tree_col(n) < 1)
		abort();
	switch (yaml_tree_kind(n)) {
	case YAML_TREE_SCALAR:
		fuzz_scalar(n);
		break;
	case YAML_TREE_SEQUENCE:
		for (size_t i = 0; i < yaml_tree_len(n); i++)
			fuzz_walk(yaml_tree_seq_item(n, i));
		break;
	case YAML_TREE_MAPPING:
		if (yaml_tree_check_keys(n, fuzz_keys, &err) < 0)
			yaml_tree_strerror(&err, buf, sizeof(buf));
		yaml_tree_map_get(n, "queue");
		for (size_t i = 0; i < yaml_tree_len(n); i++) {
			if (yaml_tree_scalar(yaml_tree_map_key(n, i)) == NULL)
				abort();
			fuzz_walk(yaml_tree_map_value(n, i));
		}
		break;
	}
}

/* A config that loaded must print as YAML that loads to the same text. */
static void fuzz_config(const uint8_t *data, size_t size)
{
	struct config c, d;
	char err[600], *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	FILE *f;

	config_init_defaults(&c);
	config_init_defaults(&d);
	if (config_load_buf(&c, "fuzz.yaml", (const char *)data, size, err,
			    sizeof(err)) < 0)
		goto out;
	f = open_memstream(&a, &alen);
	if (f == NULL || config_write_yaml(&c, f) < 0)
		abort();
	fclose(f);
	if (config_load_buf(&d, "out.yaml", a, alen, err, sizeof(err)) < 0) {
		fprintf(stderr, "reload failed: %s\n%s", err, a);
		abort();
	}
	f = open_memstream(&b, &blen);
	if (f == NULL || config_write_yaml(&d, f) < 0)
		abort();
	fclose(f);
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
out:
	free(a);
	free(b);
	config_free(&c);
	config_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yaml_error err;
	struct yaml_doc *doc;
	char buf[600];

	doc = yaml_tree_load_buf("fuzz.yaml", (const char *)data, size, 0,
				 &err);
	if (doc == NULL) {
		if (err.msg[0] == '\0')
			abort();
		yaml_tree_strerror(&err, buf, sizeof(buf));
	} else {
		fuzz_walk(yaml_tree_root(doc));
		yaml_tree_free(doc);
	}
	fuzz_config(data, size);
	return 0;
}
