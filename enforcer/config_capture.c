#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/config.h"
#include "nseg/config_capture.h"
#include "nseg/yaml_tree.h"

#define KIB ((uint64_t)1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

void config_capture_defaults(struct config_capture *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = 1;
	snprintf(c->dir, sizeof(c->dir), "/var/lib/nseg/pcap");
	c->quota = 1 * GIB;
	c->packets = 1000;
	c->bytes = 10 * MIB;
	c->seconds_ms = 60000;
	c->ring = 32;
	c->ring_ms = 10000;
	c->snaplen = 65535;
}

/* "1G", "500M", "64K" or a bare number of bytes. */
static int cc_size(const struct yaml_node *v, uint64_t min, uint64_t max,
		   uint64_t *out, struct yaml_error *err)
{
	const char *s = yaml_tree_scalar(v);
	uint64_t mult = 1, n;
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		goto bad;
	n = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'M' || *end == 'G') {
		mult = *end == 'K' ? KIB : *end == 'M' ? MIB : GIB;
		end++;
	}
	if (*end || n > max / mult || n * mult < min || n * mult > max)
		goto bad;
	*out = n * mult;
	return 0;
bad:
	yaml_tree_error_at(err, v,
			   "expected a size from %" PRIu64 " to %" PRIu64
			   " bytes (K, M or G suffix allowed), got '%s'",
			   min, max, s ? s : yaml_tree_kind_name(v));
	return -1;
}

static int cc_ms(const struct yaml_node *v, uint64_t min, uint64_t max,
		 uint32_t *out, struct yaml_error *err)
{
	uint64_t ms;

	if (yaml_tree_get_duration_ms(v, &ms, err) < 0)
		return -1;
	if (ms < min || ms > max) {
		yaml_tree_error_at(err, v, "expected a duration from %" PRIu64
				   "ms to %" PRIu64 "s, got '%s'",
				   min, max / 1000, yaml_tree_scalar(v));
		return -1;
	}
	*out = (uint32_t)ms;
	return 0;
}

static int cc_u32(const struct yaml_node *v, uint64_t min, uint64_t max,
		  uint32_t *out, struct yaml_error *err)
{
	uint64_t n;

	if (yaml_tree_get_uint(v, min, max, &n, err) < 0)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static int cc_dir(const struct yaml_node *v, char *out, size_t len,
		  struct yaml_error *err)
{
	if (yaml_tree_get_string(v, out, len, err) < 0)
		return -1;
	if (out[0] != '/') {
		yaml_tree_error_at(err, v, "expected an absolute path");
		return -1;
	}
	return 0;
}

static int cc_key(struct config_capture *c, const char *k,
		  const struct yaml_node *v, struct yaml_error *err)
{
	if (!strcmp(k, "enabled"))
		return yaml_tree_get_bool(v, &c->enabled, err);
	if (!strcmp(k, "dir"))
		return cc_dir(v, c->dir, sizeof(c->dir), err);
	if (!strcmp(k, "quota"))
		return cc_size(v, MIB, 1024 * GIB, &c->quota, err);
	if (!strcmp(k, "packets"))
		return cc_u32(v, 1, 1000000, &c->packets, err);
	if (!strcmp(k, "bytes"))
		return cc_size(v, 1 * KIB, 4 * GIB, &c->bytes, err);
	if (!strcmp(k, "seconds"))
		return cc_ms(v, 1000, 86400000, &c->seconds_ms, err);
	if (!strcmp(k, "ring"))
		return cc_u32(v, 0, 4096, &c->ring, err);
	if (!strcmp(k, "ring_seconds"))
		return cc_ms(v, 1000, 3600000, &c->ring_ms, err);
	return cc_u32(v, 64, 65535, &c->snaplen, err); /* snaplen */
}

int config_capture_parse(struct config_capture *c, const struct yaml_node *v,
			 struct yaml_error *err)
{
	static const char *const keys[] = { "enabled", "dir", "quota",
					    "packets", "bytes", "seconds",
					    "ring", "ring_seconds", "snaplen",
					    NULL };

	if (yaml_tree_is_null(v))
		return 0;
	if (yaml_tree_check_keys(v, keys, err) < 0)
		return -1;
	for (size_t i = 0; i < yaml_tree_len(v); i++)
		if (cc_key(c, yaml_tree_scalar(yaml_tree_map_key(v, i)),
			   yaml_tree_map_value(v, i), err) < 0)
			return -1;
	return 0;
}

static void cc_write_size(FILE *out, const char *key, uint64_t n)
{
	if (n % GIB == 0)
		fprintf(out, "  %s: %" PRIu64 "G\n", key, n / GIB);
	else if (n % MIB == 0)
		fprintf(out, "  %s: %" PRIu64 "M\n", key, n / MIB);
	else if (n % KIB == 0)
		fprintf(out, "  %s: %" PRIu64 "K\n", key, n / KIB);
	else
		fprintf(out, "  %s: %" PRIu64 "\n", key, n);
}

static void cc_write_ms(FILE *out, const char *key, uint32_t ms)
{
	if (ms % 1000 == 0)
		fprintf(out, "  %s: %us\n", key, ms / 1000);
	else
		fprintf(out, "  %s: %ums\n", key, ms);
}

void config_capture_write(const struct config_capture *c, FILE *out)
{
	fprintf(out, "capture:\n  enabled: %s\n  dir: ",
		c->enabled ? "true" : "false");
	config_write_str(out, c->dir);
	fputc('\n', out);
	cc_write_size(out, "quota", c->quota);
	fprintf(out, "  packets: %u\n", c->packets);
	cc_write_size(out, "bytes", c->bytes);
	cc_write_ms(out, "seconds", c->seconds_ms);
	fprintf(out, "  ring: %u\n", c->ring);
	cc_write_ms(out, "ring_seconds", c->ring_ms);
	fprintf(out, "  snaplen: %u\n", c->snaplen);
}
