#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nseg/config.h"
#include "nseg/log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char full_yaml[] =
	"# every option, none at its default\n"
	"db: /srv/nseg/state.db\n"
	"socket: \"/run/nseg-test/ctl.sock\"\n"
	"socket_group: nseg-admin\n"
	"queue: 77\n"
	"queue_maxlen: 100000\n"
	"fail: closed\n"
	"host: yes\n"
	"netns:\n"
	"  - web-*\n"
	"  - 'db[0-9]'\n"
	"  - \"*\"\n"
	"cgroups:\n"
	"  - /kubepods\n"
	"  - \"/machine.slice\"\n"
	"networks:\n"
	"  - name: office\n"
	"    cidr: 10.1.0.0/16\n"
	"  - {name: v6.lab, cidr: '2001:db8::/32'}\n"
	"  - name: dns_host\n"
	"    cidr: 192.0.2.53\n"
	"flush_interval: 250ms\n"
	"copy_range: 128\n"
	"log_level: debug\n"
	"runtime:\n"
	"  podman_storage: /data/containers\n"
	"  runc_state: /run/runc-test\n"
	"  docker_root: /data/docker\n"
	"  containerd_state: /run/ctrd\n";

static int load(struct config *c, const char *text, char *err, size_t len)
{
	return config_load_buf(c, "nsegd.yaml", text, strlen(text), err, len);
}

/* The config as config_write_yaml() prints it; caller frees. */
static char *dump(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(config_write_yaml(c, f), 0);
	fclose(f);
	return buf;
}

START_TEST(test_defaults)
{
	struct config c;

	memset(&c, 0xa5, sizeof(c));
	config_init_defaults(&c);
	ck_assert_str_eq(c.db_path, "/var/lib/nseg/nseg.db");
	ck_assert_str_eq(c.socket_path, "/run/nseg/nsegd.sock");
	ck_assert_str_eq(c.socket_group, "");
	ck_assert_uint_eq(c.queue_num, 4200);
	ck_assert_uint_eq(c.queue_maxlen, 4096);
	ck_assert_int_eq(c.fail_open, 1);
	ck_assert_int_eq(c.host, 0);
	ck_assert_uint_eq(c.n_netns, 0);
	ck_assert_ptr_null(c.netns);
	ck_assert_uint_eq(c.n_networks, 0);
	ck_assert_ptr_null(c.networks);
	ck_assert_uint_eq(c.flush_interval_ms, 1000);
	ck_assert_uint_eq(c.copy_range, 256);
	ck_assert_int_eq(c.log_level, LOG_LVL_INFO);
	ck_assert_str_eq(c.podman_storage, "/var/lib/containers/storage");
	ck_assert_str_eq(c.runc_state, "/run/runc");
	ck_assert_str_eq(c.docker_root, "/var/lib/docker");
	ck_assert_str_eq(c.containerd_state,
			 "/run/containerd/io.containerd.runtime.v2.task");
	config_free(&c);
	config_free(NULL);
}
END_TEST

START_TEST(test_full_file)
{
	struct config c;
	char err[512], addr[INET6_ADDRSTRLEN];

	config_init_defaults(&c);
	ck_assert_msg(load(&c, full_yaml, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.db_path, "/srv/nseg/state.db");
	ck_assert_str_eq(c.socket_path, "/run/nseg-test/ctl.sock");
	ck_assert_str_eq(c.socket_group, "nseg-admin");
	ck_assert_uint_eq(c.queue_num, 77);
	ck_assert_uint_eq(c.queue_maxlen, 100000);
	ck_assert_int_eq(c.fail_open, 0);
	ck_assert_int_eq(c.host, 1);
	ck_assert_uint_eq(c.n_netns, 3);
	ck_assert_uint_eq(c.n_cgroups, 2);
	ck_assert_str_eq(c.cgroups[0], "/kubepods");
	ck_assert_str_eq(c.cgroups[1], "/machine.slice");
	ck_assert_str_eq(c.netns[0], "web-*");
	ck_assert_str_eq(c.netns[1], "db[0-9]");
	ck_assert_str_eq(c.netns[2], "*");
	ck_assert_uint_eq(c.n_networks, 3);
	ck_assert_str_eq(c.networks[0].name, "office");
	ck_assert_int_eq(c.networks[0].cidr.addr.family, AF_INET);
	ck_assert_uint_eq(c.networks[0].cidr.prefixlen, 16);
	inet_ntop(AF_INET, c.networks[0].cidr.addr.a, addr, sizeof(addr));
	ck_assert_str_eq(addr, "10.1.0.0");
	ck_assert_str_eq(c.networks[1].name, "v6.lab");
	ck_assert_int_eq(c.networks[1].cidr.addr.family, AF_INET6);
	ck_assert_uint_eq(c.networks[1].cidr.prefixlen, 32);
	ck_assert_str_eq(c.networks[2].name, "dns_host");
	ck_assert_uint_eq(c.networks[2].cidr.prefixlen, 32);
	ck_assert_uint_eq(c.flush_interval_ms, 250);
	ck_assert_uint_eq(c.copy_range, 128);
	ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);
	ck_assert_str_eq(c.podman_storage, "/data/containers");
	ck_assert_str_eq(c.runc_state, "/run/runc-test");
	ck_assert_str_eq(c.docker_root, "/data/docker");
	ck_assert_str_eq(c.containerd_state, "/run/ctrd");
	config_free(&c);
}
END_TEST

/* A file names only what it changes; lists it gives replace the old ones. */
START_TEST(test_partial_file)
{
	struct config c;
	char err[512];

	config_init_defaults(&c);
	ck_assert_int_eq(config_add_netns(&c, "from-cli"), 0);
	ck_assert_int_eq(load(&c, "queue: 5\n", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.queue_num, 5);
	ck_assert_uint_eq(c.queue_maxlen, 4096);
	ck_assert_uint_eq(c.n_netns, 1);
	ck_assert_int_eq(load(&c, "netns: [a, b]\nruntime: {runc_state: /r}\n",
			      err, sizeof(err)),
			 0);
	ck_assert_uint_eq(c.n_netns, 2);
	ck_assert_str_eq(c.netns[0], "a");
	ck_assert_str_eq(c.runc_state, "/r");
	ck_assert_str_eq(c.docker_root, "/var/lib/docker");
	ck_assert_int_eq(load(&c, "netns:\nnetworks: []\nruntime:\n", err,
			      sizeof(err)),
			 0);
	ck_assert_uint_eq(c.n_netns, 0);
	ck_assert_int_eq(load(&c, "# nothing\n", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.queue_num, 5);
	config_free(&c);
}
END_TEST

/* An error ending in "..." is a prefix: the rest is pkt.c's wording. */
static const struct {
	const char *text;
	const char *error;
} bad_files[] = {
	{ "queu: 1\n",
	  "nsegd.yaml:1:1: unknown key 'queu' (did you mean 'queue'?)" },
	{ "host: true\nlog_levl: info\n",
	  "nsegd.yaml:2:1: unknown key 'log_levl' (did you mean "
	  "'log_level'?)" },
	{ "- db\n", "nsegd.yaml:1:1: expected a mapping, got a list" },
	{ "cgroups: [kubepods]\n",
	  "nsegd.yaml:1:11: a cgroup path must start with '/'" },
	{ "cgroups: /kubepods\n",
	  "nsegd.yaml:1:10: expected a list, got a value" },
	{ "queue: 65536\n", "nsegd.yaml:1:8: expected an integer from 0 to "
			    "65535, got '65536'" },
	{ "queue: -1\n", "nsegd.yaml:1:8: expected an integer from 0 to "
			 "65535, got '-1'" },
	{ "queue: [1]\n", "nsegd.yaml:1:8: expected an integer, got a list" },
	{ "queue_maxlen: 0\n", "nsegd.yaml:1:15: expected an integer from 1 "
			       "to 4294967295, got '0'" },
	{ "queue_maxlen: 4294967296\n",
	  "nsegd.yaml:1:15: expected an integer from 1 to 4294967295, got "
	  "'4294967296'" },
	{ "copy_range: 63\n", "nsegd.yaml:1:13: expected an integer from 64 "
			      "to 65535, got '63'" },
	{ "copy_range: 65536\n", "nsegd.yaml:1:13: expected an integer from "
				 "64 to 65535, got '65536'" },
	{ "fail: maybe\n",
	  "nsegd.yaml:1:7: expected closed or open, got 'maybe'" },
	{ "host: 2\n", "nsegd.yaml:1:7: expected true or false, got '2'" },
	{ "log_level: verbose\n", "nsegd.yaml:1:12: expected warn, info or "
				  "debug, got 'verbose'" },
	{ "flush_interval: soon\n",
	  "nsegd.yaml:1:17: expected a duration such as 500ms, 2s, 5m, 24h "
	  "or 1d, got 'soon'" },
	{ "flush_interval: 0s\n", "nsegd.yaml:1:17: flush_interval must be "
				  "from 1ms to 1h, got '0s'" },
	{ "flush_interval: 2h\n", "nsegd.yaml:1:17: flush_interval must be "
				  "from 1ms to 1h, got '2h'" },
	{ "db: relative/nseg.db\n",
	  "nsegd.yaml:1:5: expected an absolute path" },
	{ "db: {path: /x}\n", "nsegd.yaml:1:5: expected a string, got a "
			      "mapping" },
	{ "socket: /run/nseg/"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	  "nsegd.yaml:1:9: socket path is 108 bytes, a unix socket allows at "
	  "most 107" },
	{ "socket_group: \"a b\"\n",
	  "nsegd.yaml:1:15: a group name may contain only letters, digits, "
	  "'.', '_' and '-'" },
	{ "netns: web\n", "nsegd.yaml:1:8: expected a list, got a value" },
	{ "netns: [ok, '']\n", "nsegd.yaml:1:13: a netns name or pattern "
			       "must not be empty" },
	{ "netns:\n  - a/b\n", "nsegd.yaml:2:5: a netns name or pattern must "
			       "not contain '/'" },
	{ "netns: [[a]]\n", "nsegd.yaml:1:9: expected a value, got a list" },
	{ "networks:\n  - name: a\n    cidr: 10.0.0.0/8\n  - name: a\n"
	  "    cidr: 10.1.0.0/16\n",
	  "nsegd.yaml:4:11: network 'a' is defined twice" },
	{ "networks: [{name: '', cidr: 10.0.0.0/8}]\n",
	  "nsegd.yaml:1:19: a network name must be non-empty and contain only "
	  "letters, digits, '.', '_' and '-'" },
	{ "networks: [{name: a}]\n",
	  "nsegd.yaml:1:12: a network needs both 'name' and 'cidr'" },
	{ "networks: [{name: a, cidr: 10.0.0.0/8, cdir: x}]\n",
	  "nsegd.yaml:1:40: unknown key 'cdir' (did you mean 'cidr'?)" },
	{ "networks: [{name: a, cidr: 10.0.0.1/8}]\n",
	  "nsegd.yaml:1:28: host bits set in '10.0.0.1/8' (network is "
	  "10.0.0.0/8)" },
	{ "networks: [{name: a, cidr: 10.0.0.0/33}]\n",
	  "nsegd.yaml:1:28: bad prefix length '33'..." },
	{ "networks: [office]\n",
	  "nsegd.yaml:1:12: expected a mapping, got a value" },
	{ "runtime:\n  runc_stat: /run/runc\n",
	  "nsegd.yaml:2:3: unknown key 'runc_stat' (did you mean "
	  "'runc_state'?)" },
	{ "runtime:\n  runc: /run/runc\n",
	  "nsegd.yaml:2:3: unknown key 'runc'" },
	{ "runtime:\n  docker_root: docker\n",
	  "nsegd.yaml:2:16: expected an absolute path" },
	{ "queue: 1\nqueue: 2\n",
	  "nsegd.yaml:2:1: duplicate key 'queue' (first defined at 1:1)" },
	{ "queue: &q 1\nqueue_maxlen: *q\n",
	  "nsegd.yaml:2:15: aliases are not supported" },
	{ "queue: 1\n\thost: true\n",
	  "nsegd.yaml:2:1: found a tab character: YAML indents with spaces "
	  "only (while scanning a plain scalar started at 1:8)" },
};

/* A bad file changes nothing, not even the options before the bad one. */
START_TEST(test_bad_file)
{
	struct config c;
	char err[512], *before, *after;
	const char *want;
	size_t len;

	config_init_defaults(&c);
	ck_assert_int_eq(load(&c, full_yaml, err, sizeof(err)), 0);
	before = dump(&c);
	ck_assert_int_eq(load(&c, bad_files[_i].text, err, sizeof(err)), -1);
	want = bad_files[_i].error;
	len = strlen(want);
	if (len > 3 && strcmp(want + len - 3, "...") == 0)
		ck_assert_msg(strncmp(err, want, len - 3) == 0, "got '%s'", err);
	else
		ck_assert_str_eq(err, want);
	after = dump(&c);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	config_free(&c);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config c;
	char err[512];

	config_init_defaults(&c);
	c.queue_num = 9;
	ck_assert_int_eq(config_load_file(&c, "/nonexistent/nsegd.yaml", err,
					  sizeof(err)),
			 -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(err, "/nonexistent/nsegd.yaml: No such file or "
			      "directory");
	ck_assert_uint_eq(c.queue_num, 9);
	config_free(&c);
}
END_TEST

/* Loads text from a real file, writes it, loads that and writes again. */
static void round_trip(const char *text)
{
	char path[] = "/tmp/nseg-test-config-XXXXXX", err[512];
	struct config a, b;
	char *first, *second;
	FILE *f;
	int fd;

	config_init_defaults(&a);
	ck_assert_msg(load(&a, text, err, sizeof(err)) == 0, "%s", err);
	first = dump(&a);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_int_eq(config_write_yaml(&a, f), 0);
	fclose(f);

	/* start b far from a so that an option the writer forgot shows */
	config_init_defaults(&b);
	b.queue_num = 1;
	b.copy_range = 1;
	b.host = 2;
	ck_assert_int_eq(config_add_netns(&b, "stale"), 0);
	ck_assert_msg(config_load_file(&b, path, err, sizeof(err)) == 0, "%s",
		      err);
	second = dump(&b);
	ck_assert_str_eq(first, second);
	ck_assert_uint_eq(b.queue_num, a.queue_num);
	ck_assert_uint_eq(b.n_networks, a.n_networks);
	if (a.n_networks > 0)
		ck_assert_mem_eq(b.networks, a.networks,
				 a.n_networks * sizeof(*a.networks));
	unlink(path);
	free(first);
	free(second);
	config_free(&a);
	config_free(&b);
}

START_TEST(test_round_trip)
{
	round_trip("");
	round_trip(full_yaml);
	round_trip("netns: [\"q\\\"uote\", 'back\\slash', \"[!x]*\", "
		   "\"&x\", \"é\"]\nflush_interval: 90s\n");
	round_trip("flush_interval: 1h\nsocket_group: \"\"\n");
	round_trip("flush_interval: 1001\nlog_level: warn\n");
}
END_TEST

/* contrib/nsegd.yaml lists every option at its default: loaded over a
 * config where every option differs, it gives back the defaults. */
START_TEST(test_contrib_example)
{
	static const char path[] = "contrib/nsegd.yaml";
	struct config c, def;
	char err[512], *got, *want;

	memset(&c, 0, sizeof(c));
	c.fail_open = 0;
	c.host = 1;
	c.log_level = LOG_LVL_DEBUG;
	ck_assert_int_eq(config_add_netns(&c, "stale"), 0);
	c.networks = calloc(1, sizeof(*c.networks));
	c.n_networks = 1;
	ck_assert_msg(config_load_file(&c, path, err, sizeof(err)) == 0,
		      "%s (run from the top of the source tree)", err);
	config_init_defaults(&def);
	got = dump(&c);
	want = dump(&def);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	config_free(&c);
}
END_TEST

START_TEST(test_write_normalised)
{
	struct config c;
	char err[512], *out;

	config_init_defaults(&c);
	ck_assert_int_eq(load(&c,
			      "flush_interval: 120000ms\nnetns: ['*']\n"
			      "networks: [{name: n, cidr: 10.0.0.0/8}]\n",
			      err, sizeof(err)),
			 0);
	out = dump(&c);
	ck_assert_str_eq(out, "db: \"/var/lib/nseg/nseg.db\"\n"
			      "socket: \"/run/nseg/nsegd.sock\"\n"
			      "socket_group: \"\"\n"
			      "queue: 4200\n"
			      "queue_maxlen: 4096\n"
			      "fail: open\n"
			      "host: false\n"
			      "netns:\n"
			      "  - \"*\"\n"
			      "cgroups: []\n"
			      "networks:\n"
			      "  - name: \"n\"\n"
			      "    cidr: \"10.0.0.0/8\"\n"
			      "flush_interval: 2m\n"
			      "copy_range: 256\n"
			      "log_level: info\n"
			      "learn_then_enforce: false\n"
			      "learn_window: 1d\n"
			      "auto_approve: false\n"
			      "queue_rate: 5000\n"
			      "queue_burst: 0\n"
			      "alerts_file: \"/var/log/nseg/alerts.jsonl\"\n"
			      "policy_dir: \"\"\n"
			      "alert_window: 1m\n"
			      "stop_keeps_enforcement: true\n"
			      "block: drop\n"
			      "tamper_check: 30s\n"
			      "runtime:\n"
			      "  podman_storage: \"/var/lib/containers/storage\"\n"
			      "  runc_state: \"/run/runc\"\n"
			      "  docker_root: \"/var/lib/docker\"\n"
			      "  containerd_state: "
			      "\"/run/containerd/io.containerd.runtime.v2.task\"\n"
			      "capture:\n"
			      "  enabled: true\n"
			      "  dir: \"/var/lib/nseg/pcap\"\n"
			      "  quota: 1G\n"
			      "  packets: 1000\n"
			      "  bytes: 10M\n"
			      "  seconds: 60s\n"
			      "  ring: 32\n"
			      "  ring_seconds: 10s\n"
			      "  snaplen: 65535\n");
	free(out);
	config_free(&c);
}
END_TEST

static const struct {
	const char *pattern;
	int ok;
} netns_cases[] = {
	{ "web", 1 },	 { "web-*", 1 }, { "[ab]?", 1 }, { "", 0 },
	{ "a/b", 0 },	 { "/", 0 },	 { "a\nb", 0 },
};

START_TEST(test_add_netns)
{
	struct config c;
	int rc;

	config_init_defaults(&c);
	errno = 0;
	rc = config_add_netns(&c, netns_cases[_i].pattern);
	if (netns_cases[_i].ok) {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(c.n_netns, 1);
		ck_assert_str_eq(c.netns[0], netns_cases[_i].pattern);
		ck_assert_ptr_null(config_netns_invalid(netns_cases[_i].pattern));
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_uint_eq(c.n_netns, 0);
		ck_assert_ptr_nonnull(
			config_netns_invalid(netns_cases[_i].pattern));
	}
	config_free(&c);
}
END_TEST

START_TEST(test_copy)
{
	struct config a, b;
	char err[512];

	config_init_defaults(&a);
	ck_assert_int_eq(load(&a, full_yaml, err, sizeof(err)), 0);
	ck_assert_int_eq(config_copy(&b, &a), 0);
	ck_assert_ptr_ne(b.netns, a.netns);
	ck_assert_ptr_ne(b.netns[0], a.netns[0]);
	ck_assert_ptr_ne(b.networks, a.networks);
	config_free(&a);
	ck_assert_str_eq(b.netns[2], "*");
	ck_assert_str_eq(b.networks[2].name, "dns_host");
	config_free(&b);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_partial_file);
	tcase_add_loop_test(tc, test_bad_file, 0, ARRAY_SIZE(bad_files));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_contrib_example);
	tcase_add_test(tc, test_write_normalised);
	tcase_add_loop_test(tc, test_add_netns, 0, ARRAY_SIZE(netns_cases));
	tcase_add_test(tc, test_copy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
