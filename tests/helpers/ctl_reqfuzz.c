/*
 * ctl_reqfuzz SOCKET N SEED [NAME...]: sends N control requests of every
 * type (and of no known type) with arguments made at random from the
 * protocol's own keys and hostile values (wrong types, huge and negative
 * numbers, long strings, escaped NULs, nesting, the NAMEs given: real
 * workloads, so that handlers go past their first lookup), one request a
 * connection, as nsegctl does.
 *
 * Every request must get a whole reply (records, then END or ERROR)
 * within 10 s; a connection closed without one, or no reply in time, is
 * a failure. Prints one line of counts (by outcome and error code) and
 * the first message of each error code; exits 0, or 1 at the first
 * failure, naming the request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "nseg/ctl.h"
#include "nseg/ctl_io.h"

#define RF_TIMEOUT_MS 10000
#define RF_CODES 16

static const char *const rf_keys[] = {
	"workload", "version", "id",	   "alert",	 "pid",	"file",
	"mode",	    "edges",   "all",	   "any_process", "state",
	"format",   "text",    "name",	   "since",	 "limit",
	"filter",   "container", "duration_s", "packets", "a",
	"b",	    "learned", "fail_on",  "dry_run",	 "direction",
	"peer",	    "port",    "protocol", "process",	 "x",
};

static const char *rf_names[16];
static size_t rf_n_names;

static const char *const rf_texts[] = {
	"", "*", "learn", "notify", "enforce", "k8s", "learned", "approved",
	"rejected", "added", "any", "../../etc/passwd", "netns:", "@", "c1",
	"tcp port 80", "((((", "1h", "-5s", "workload: x\negress: []\n",
	"workload: [\n", "---\n- a\n- b\n", "\xc3\xa9t\xc3\xa9",
};

static uint32_t rf_rng;

static uint32_t rf_rand(void)
{
	rf_rng ^= rf_rng << 13;
	rf_rng ^= rf_rng >> 17;
	rf_rng ^= rf_rng << 5;
	return rf_rng;
}

static uint32_t rf_below(uint32_t n)
{
	return rf_rand() % n;
}

static json_t *rf_string(void)
{
	static char big[20000];
	char buf[64];

	switch (rf_below(6)) {
	case 0:
		if (rf_n_names)
			return json_string(rf_names[rf_below(rf_n_names)]);
		/* fall through */
	case 1:
		return json_string(rf_texts[rf_below(sizeof(rf_texts) /
						      sizeof(rf_texts[0]))]);
	case 2: /* sometimes a name with an escaped NUL inside */
		if (!rf_below(8))
			return json_stringn("net\0ns", 6);
		return json_string("");
	case 3:
		memset(big, 'a' + rf_below(26), sizeof(big) - 1);
		return json_stringn(big, 1 + rf_below(sizeof(big) - 1));
	case 4:
		snprintf(buf, sizeof(buf), "%s@%u",
			 rf_n_names ? rf_names[rf_below(rf_n_names)] : "w",
			 rf_below(3));
		return json_string(buf);
	default:
		snprintf(buf, sizeof(buf), "%d", (int)rf_rand());
		return json_string(buf);
	}
}

static json_t *rf_value(int depth);

static json_t *rf_integer(void)
{
	static const json_int_t edges[] = { 0, 1, -1, 2, 7, 65535, 65536,
					    INT32_MAX, (json_int_t)INT32_MAX + 1,
					    INT64_MAX, INT64_MIN,
					    (json_int_t)1 << 53 };

	return json_integer(rf_below(2) ? edges[rf_below(sizeof(edges) /
							  sizeof(edges[0]))]
					: (json_int_t)(int32_t)rf_rand());
}

static json_t *rf_array(int depth)
{
	json_t *a = json_array();
	unsigned n = rf_below(5);

	for (unsigned i = 0; a && i < n; i++)
		json_array_append_new(a, rf_below(3) ? rf_integer()
						     : rf_value(depth + 1));
	return a;
}

static json_t *rf_object(int depth)
{
	json_t *o = json_object();
	unsigned n = rf_below(6);

	for (unsigned i = 0; o && i < n; i++)
		json_object_set_new(o, rf_keys[rf_below(sizeof(rf_keys) /
							sizeof(rf_keys[0]))],
				    rf_value(depth + 1));
	return o;
}

static json_t *rf_value(int depth)
{
	switch (rf_below(depth > 3 ? 6 : 8)) {
	case 0:
	case 1:
		return rf_string();
	case 2:
	case 3:
		return rf_integer();
	case 4:
		return json_boolean(rf_below(2));
	case 5:
		return rf_below(2) ? json_null() : json_real(-1.5);
	case 6:
		return rf_array(depth);
	default:
		return rf_object(depth);
	}
}

static uint16_t rf_type(void)
{
	static const uint16_t odd[] = { 0, 1, 2, 3, 99, 115, 999, 65535 };

	if (rf_below(10) == 0)
		return odd[rf_below(sizeof(odd) / sizeof(odd[0]))];
	return (uint16_t)(NSEG_CTL_STATUS +
			  rf_below(NSEG_CTL_CAPTURE_SHOW - NSEG_CTL_STATUS + 1));
}

static const char *rf_name(void)
{
	return rf_n_names ? rf_names[rf_below(rf_n_names)] : "w";
}

/* What nsegctl would send for type (so that handlers get past their
 * first check), before mutation. */
static json_t *rf_template(uint16_t type)
{
	static const char *const yaml[] = {
		"workload: %s\nmode: enforce\negress:\n  - peer: %s\n"
		"    protocol: tcp\n    port: 7000\n",
		"workload: %s\ningress:\n  - peer: external:%s\n"
		"    protocol: udp\n    ports: 1-65535\n",
		"workload: %s\negress: [ { peer: %s, protocol: icmp } ]\n",
	};
	char text[512];

	switch (type) {
	case NSEG_CTL_BASELINE_SHOW:
	case NSEG_CTL_POLICY_EXPORT:
		return json_pack("{s:s, s:s}", "workload", rf_name(), "format",
				 rf_below(2) ? "k8s" : "nseg");
	case NSEG_CTL_BASELINE_APPROVE:
	case NSEG_CTL_BASELINE_REJECT:
		return rf_below(2)
			       ? json_pack("{s:s, s:b, s:b}", "workload",
					   rf_name(), "all", 1, "any_process",
					   (int)rf_below(2))
			       : json_pack("{s:s, s:[i, i]}", "workload",
					   rf_name(), "edges", (int)rf_below(5),
					   (int)rf_rand());
	case NSEG_CTL_MODE:
		return json_pack("{s:s, s:s}", "workload", rf_name(), "mode",
				 rf_texts[2 + rf_below(3)]);
	case NSEG_CTL_ALERTS:
		return json_pack("{s:s, s:s}", "workload", rf_name(), "since",
				 rf_below(2) ? "1h" : "2026-01-01T00:00:00Z");
	case NSEG_CTL_WATCH_PID:
		return json_pack("{s:i}", "pid",
				 rf_below(2) ? (int)getpid() : 1);
	case NSEG_CTL_POLICY_APPLY:
		snprintf(text, sizeof(text),
			 yaml[rf_below(sizeof(yaml) / sizeof(yaml[0]))],
			 rf_name(), rf_name());
		return json_pack("{s:s, s:s, s:b}", "file", "fuzz.yaml", "text",
				 text, "dry_run", (int)rf_below(2));
	case NSEG_CTL_DIFF:
		return rf_below(2)
			       ? json_pack("{s:s, s:b}", "workload", rf_name(),
					   "learned", 1)
			       : json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "a",
					   "workload", rf_name(), "version",
					   "1", "b", "workload", rf_name(),
					   "version", "*");
	case NSEG_CTL_CAPTURE_START:
		return json_pack("{s:s, s:i, s:i, s:s}", "workload", rf_name(),
				 "duration_s", 1 + (int)rf_below(2), "packets",
				 1 + (int)rf_below(20), "filter",
				 rf_below(2) ? "tcp" : "((");
	case NSEG_CTL_CAPTURE_STOP:
	case NSEG_CTL_CAPTURE_SHOW:
		return json_pack("{s:i}", rf_below(2) ? "id" : "alert",
				 (int)rf_below(4));
	case NSEG_CTL_CAPTURE_LIST:
		return json_pack("{s:s}", "workload", rf_name());
	default:
		return json_object();
	}
}

/* The template with up to three keys set to hostile values, or (one in
 * eight) arguments made up from the protocol's keys alone. Never
 * "follow": a follower's reply does not end by itself. */
static json_t *rf_args(uint16_t type)
{
	json_t *o = rf_below(8) ? rf_template(type) : rf_object(0);
	unsigned n = rf_below(4);

	for (unsigned i = 0; o && i < n; i++)
		json_object_set_new(o, rf_keys[rf_below(sizeof(rf_keys) /
							sizeof(rf_keys[0]))],
				    rf_value(1));
	json_object_del(o, "follow");
	return o;
}

struct rf_counts {
	unsigned long ends, records, errors[RF_CODES];
	char first[RF_CODES][160];
};

/* One request on its own connection: 0 when a whole reply came. */
static int rf_one(const char *sock, uint16_t type, json_t *args, uint32_t seq,
		  struct rf_counts *c)
{
	struct ctl_io_msg m = { 0 };
	char err[256];
	int fd = ctl_io_connect(sock, RF_TIMEOUT_MS), rc = -1;

	if (fd == -1) {
		perror("connect");
		return -1;
	}
	if (ctl_io_send(fd, type, seq, args) == -1) {
		perror("send");
		goto out;
	}
	for (;;) {
		int st = ctl_io_recv(fd, &m, RF_TIMEOUT_MS, err, sizeof(err));

		if (st != CTL_IO_OK) {
			fprintf(stderr, "no whole reply: %s\n", err);
			goto out;
		}
		if (m.type == NSEG_CTL_RECORD) {
			c->records++;
			ctl_io_msg_clear(&m);
			continue;
		}
		break;
	}
	if (m.type == NSEG_CTL_END) {
		c->ends++;
		rc = 0;
	} else if (m.type == NSEG_CTL_ERROR) {
		json_int_t code = json_integer_value(
			json_object_get(m.payload, "code"));
		const char *msg = json_string_value(
			json_object_get(m.payload, "message"));

		if (code < 0 || code >= RF_CODES)
			code = 0;
		if (!c->errors[code]++)
			snprintf(c->first[code], sizeof(c->first[code]), "%s",
				 msg ? msg : "(no message)");
		rc = 0;
	} else {
		fprintf(stderr, "reply of type %u\n", m.type);
	}
out:
	ctl_io_msg_clear(&m);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct rf_counts c = { 0 };
	unsigned long n;

	if (argc < 4) {
		fprintf(stderr, "usage: ctl_reqfuzz SOCKET N SEED [NAME...]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	/* xorshift needs a state other than 0; nearby seeds, other streams */
	rf_rng = (uint32_t)strtoul(argv[3], NULL, 10) * 2654435761u + 1;
	if (!rf_rng)
		rf_rng = 1;
	for (int i = 4; i < argc && rf_n_names < 16; i++)
		rf_names[rf_n_names++] = argv[i];
	for (unsigned long i = 0; i < n; i++) {
		uint16_t type = rf_type();
		json_t *args = rf_args(type);

		if (rf_one(argv[1], type, args, (uint32_t)i + 1, &c) == -1) {
			char *s = json_dumps(args, JSON_COMPACT);

			fprintf(stderr, "request %lu: type %u args %.300s\n",
				i, type, s ? s : "?");
			free(s);
			json_decref(args);
			return 1;
		}
		json_decref(args);
	}
	printf("requests=%lu end=%lu records=%lu", n, c.ends, c.records);
	for (int i = 0; i < RF_CODES; i++)
		if (c.errors[i])
			printf(" error%d=%lu", i, c.errors[i]);
	printf("\n");
	for (int i = 0; i < RF_CODES; i++)
		if (c.errors[i])
			printf("  error %d, first: %s\n", i, c.first[i]);
	return 0;
}
