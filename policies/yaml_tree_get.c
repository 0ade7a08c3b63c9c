/*
 * Typed readers over yaml_tree nodes. Each failure quotes the offending
 * value at its position, so a config or policy author can fix the line
 * without guessing. Quoting does not change how a value is read: "4200"
 * and 4200 are the same integer, as people expect of a config file.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nseg/yaml_tree.h"

#define QUOTE_MAX 48

const char *yaml_tree_quote(const char *s, char *out, size_t outlen)
{
	size_t o = 0, i;

	for (i = 0; s[i] != '\0' && i < QUOTE_MAX && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (s[i] != '\0' && o + 4 < outlen)
		o += (size_t)snprintf(out + o, outlen - o, "...");
	out[o] = '\0';
	return out;
}

/* Sets err unless node is a scalar; what names the expected value. */
static const char *scalar_or_error(const struct yaml_node *node,
				   const char *what, struct yaml_error *err)
{
	const char *v = yaml_tree_scalar(node);

	if (v == NULL)
		yaml_tree_error_at(err, node, "expected %s, got %s", what,
				   yaml_tree_kind_name(node));
	return v;
}

int yaml_tree_expect(const struct yaml_node *node, enum yaml_tree_kind kind,
		     struct yaml_error *err)
{
	static const char *const names[] = {
		[YAML_TREE_SCALAR] = "a value",
		[YAML_TREE_SEQUENCE] = "a list",
		[YAML_TREE_MAPPING] = "a mapping",
	};

	if (yaml_tree_kind(node) == kind)
		return 0;
	yaml_tree_error_at(err, node, "expected %s, got %s", names[kind],
			   yaml_tree_kind_name(node));
	return -1;
}

int yaml_tree_get_bool(const struct yaml_node *node, int *out,
		       struct yaml_error *err)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	const char *v = scalar_or_error(node, "true or false", err);
	char q[YAML_TREE_QUOTE_LEN];

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	yaml_tree_error_at(err, node, "expected true or false, got '%s'",
			   yaml_tree_quote(v, q, sizeof(q)));
	return -1;
}

/* Parses leading decimal digits into *out; returns the first byte after
 * them, or NULL when there are none or the number overflows. */
static const char *parse_digits(const char *s, uint64_t *out)
{
	uint64_t n = 0;
	const char *p;

	for (p = s; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return NULL;
		n = n * 10 + d;
	}
	if (p == s)
		return NULL;
	*out = n;
	return p;
}

int yaml_tree_get_uint(const struct yaml_node *node, uint64_t min,
		       uint64_t max, uint64_t *out, struct yaml_error *err)
{
	const char *v = scalar_or_error(node, "an integer", err);
	const char *end;
	char q[YAML_TREE_QUOTE_LEN];
	uint64_t n;

	if (v == NULL)
		return -1;
	end = parse_digits(v, &n);
	if (end == NULL || *end != '\0' || n < min || n > max) {
		yaml_tree_error_at(err, node,
				   "expected an integer from %llu to %llu, "
				   "got '%s'",
				   (unsigned long long)min,
				   (unsigned long long)max,
				   yaml_tree_quote(v, q, sizeof(q)));
		return -1;
	}
	*out = n;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t ms;
} duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "", 1000 }, /* a bare number is seconds */
	{ "m", 60000 },
	{ "h", 3600000 },
	{ "d", 86400000 },
};

int yaml_tree_get_duration_ms(const struct yaml_node *node, uint64_t *out,
			      struct yaml_error *err)
{
	const char *v = scalar_or_error(node, "a duration", err);
	const char *end;
	char q[YAML_TREE_QUOTE_LEN];
	uint64_t n;

	if (v == NULL)
		return -1;
	end = parse_digits(v, &n);
	for (size_t i = 0; end != NULL && i < sizeof(duration_units) /
						      sizeof(duration_units[0]);
	     i++) {
		uint64_t unit = duration_units[i].ms;

		if (strcmp(end, duration_units[i].suffix) != 0)
			continue;
		if (n > UINT64_MAX / unit)
			break;
		*out = n * unit;
		return 0;
	}
	yaml_tree_error_at(err, node,
			   "expected a duration such as 500ms, 2s, 5m, 24h or "
			   "1d, got '%s'",
			   yaml_tree_quote(v, q, sizeof(q)));
	return -1;
}

int yaml_tree_get_enum(const struct yaml_node *node, const char *const *names,
		       int *out, struct yaml_error *err)
{
	const char *v = scalar_or_error(node, "a name", err);
	char list[256] = "", q[YAML_TREE_QUOTE_LEN];
	size_t len = 0;
	int i;

	if (v == NULL)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	for (int j = 0; j < i && len < sizeof(list); j++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					j == 0 ? "" : j == i - 1 ? " or " : ", ",
					names[j]);
	yaml_tree_error_at(err, node, "expected %s, got '%s'", list,
			   yaml_tree_quote(v, q, sizeof(q)));
	return -1;
}

int yaml_tree_get_string(const struct yaml_node *node, char *out,
			 size_t outlen, struct yaml_error *err)
{
	const char *v = scalar_or_error(node, "a string", err);
	size_t len;

	if (v == NULL)
		return -1;
	len = strlen(v);
	if (len >= outlen) {
		yaml_tree_error_at(err, node,
				   "value is %zu bytes long, at most %zu allowed",
				   len, outlen - 1);
		return -1;
	}
	memcpy(out, v, len + 1);
	return 0;
}

/*
 * Optimal string alignment distance (Levenshtein plus adjacent
 * transposition, "queu"/"qeue" both 1 from "queue"). Only called on
 * short strings: longer ones get no hint.
 */
#define HINT_MAX 64

static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d[HINT_MAX + 1][HINT_MAX + 1];

	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1u < best)
				best = d[i - 1][j] + 1u;
			if (d[i][j - 1] + 1u < best)
				best = d[i][j - 1] + 1u;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1u < best)
				best = d[i - 2][j - 2] + 1u;
			d[i][j] = (unsigned char)best;
		}
	}
	return d[la][lb];
}

/* The allowed key closest to key, if within distance 2; else NULL. */
static const char *key_hint(const char *key, const char *const *allowed)
{
	const char *hint = NULL;
	unsigned best = 3;

	if (strlen(key) > HINT_MAX)
		return NULL;
	for (size_t i = 0; allowed[i] != NULL; i++) {
		unsigned dist;

		if (strlen(allowed[i]) > HINT_MAX)
			continue;
		dist = edit_distance(key, allowed[i]);
		if (dist < best) {
			best = dist;
			hint = allowed[i];
		}
	}
	return hint;
}

static int key_allowed(const char *key, const char *const *allowed)
{
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(key, allowed[i]) == 0)
			return 1;
	return 0;
}

int yaml_tree_check_key(const struct yaml_node *k,
			const char *const *allowed, struct yaml_error *err)
{
	const char *key = yaml_tree_scalar(k), *hint;
	char q[YAML_TREE_QUOTE_LEN];

	if (key == NULL)
		return yaml_tree_expect(k, YAML_TREE_SCALAR, err);
	if (key_allowed(key, allowed))
		return 0;
	hint = key_hint(key, allowed);
	yaml_tree_quote(key, q, sizeof(q));
	if (hint != NULL)
		yaml_tree_error_at(err, k,
				   "unknown key '%s' (did you mean '%s'?)", q,
				   hint);
	else
		yaml_tree_error_at(err, k, "unknown key '%s'", q);
	return -1;
}

int yaml_tree_check_keys(const struct yaml_node *map,
			 const char *const *allowed, struct yaml_error *err)
{
	if (yaml_tree_expect(map, YAML_TREE_MAPPING, err) < 0)
		return -1;
	for (size_t i = 0; i < yaml_tree_len(map); i++)
		if (yaml_tree_check_key(yaml_tree_map_key(map, i), allowed,
					err) < 0)
			return -1;
	return 0;
}
