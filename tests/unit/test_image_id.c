#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/image_id.h"

#define ID1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define DIGEST "sha256:" ID1

static const struct {
	const char *image, *workload, *version; /* workload NULL: rejected */
} parse_cases[] = {
	{ "docker.io/library/redis:7.2", "library/redis", "7.2" },
	{ "localhost/web:1.0", "web", "1.0" },
	{ "localhost:5000/web:1.0", "web", "1.0" },
	{ "registry.example.com:443/team/app/api:v3", "team/app/api", "v3" },
	{ "quay.io/prometheus/node-exporter", "prometheus/node-exporter",
	  "latest" },
	{ "redis:7", "redis", "7" },
	{ "redis", "redis", "latest" },
	{ "library/redis:7", "library/redis", "7" },
	{ "team/app", "team/app", "latest" },
	{ "redis@" DIGEST, "redis", DIGEST },
	{ "docker.io/library/redis@" DIGEST, "library/redis", DIGEST },
	{ "redis:7@" DIGEST, "redis", "7" },
	{ "localhost:5000/web", "web", "latest" },
	{ "localhost", "localhost", "latest" },
	/* No '/': a "host:port" alone is a name and a tag. */
	{ "myhost:5000", "myhost", "5000" },
	{ "LOCALHOST/web", "LOCALHOST/web", "latest" },
	{ "", NULL, NULL },
	{ "redis:", NULL, NULL },
	{ "redis@", NULL, NULL },
	{ "redis@sha256:ab/cd", NULL, NULL },
	{ "redis@a@b", NULL, NULL },
	{ "localhost/", NULL, NULL },
	{ "localhost/:1", NULL, NULL },
	{ "/redis", NULL, NULL },
	{ "team//app", NULL, NULL },
	{ "team/a:b/app", NULL, NULL },
	{ "team/app/", NULL, NULL },
	{ ":7", NULL, NULL },
	{ "red is:7", NULL, NULL },
	{ "redis:7 ", NULL, NULL },
	{ "redis\n", NULL, NULL },
	{ "redis\t:7", NULL, NULL },
	{ "redis\x7f", NULL, NULL },
	{ "r\xc3\xa9" "dis", NULL, NULL },
};

START_TEST(test_parse_table)
{
	char w[256], v[128];
	int r = image_id_parse(parse_cases[_i].image, w, sizeof(w), v,
			       sizeof(v));

	if (parse_cases[_i].workload == NULL) {
		ck_assert_msg(r == -1, "'%s' accepted as '%s' '%s'",
			      parse_cases[_i].image, w, v);
		ck_assert_str_eq(w, "");
		ck_assert_str_eq(v, "");
		return;
	}
	ck_assert_msg(r == 0, "'%s' rejected", parse_cases[_i].image);
	ck_assert_str_eq(w, parse_cases[_i].workload);
	ck_assert_str_eq(v, parse_cases[_i].version);
}
END_TEST

START_TEST(test_parse_limits)
{
	char big[IMAGE_ID_REF_MAX + 2], w[256], v[128];

	ck_assert_int_eq(image_id_parse(NULL, w, sizeof(w), v, sizeof(v)), -1);

	memset(big, 'a', sizeof(big));
	big[IMAGE_ID_REF_MAX] = '\0';
	memcpy(big + IMAGE_ID_REF_MAX - 2, ":1", 2);
	ck_assert_int_eq(image_id_parse(big, w, sizeof(w), v, sizeof(v)), -1);
	{
		char w2[600];

		ck_assert_int_eq(image_id_parse(big, w2, sizeof(w2), v,
						sizeof(v)),
				 0);
		ck_assert_uint_eq(strlen(w2), IMAGE_ID_REF_MAX - 2);
		big[IMAGE_ID_REF_MAX] = 'a';
		big[IMAGE_ID_REF_MAX + 1] = '\0';
		ck_assert_int_eq(image_id_parse(big, w2, sizeof(w2), v,
						sizeof(v)),
				 -1);
	}

	/* Results that do not fit are errors, never truncations. */
	ck_assert_int_eq(image_id_parse("redis:7", w, 5, v, sizeof(v)), -1);
	ck_assert_int_eq(image_id_parse("redis:7", w, 6, v, sizeof(v)), 0);
	ck_assert_int_eq(image_id_parse("redis:7.2", w, sizeof(w), v, 3), -1);
	ck_assert_str_eq(w, "");
	ck_assert_int_eq(image_id_parse("redis", w, sizeof(w), v, 6), -1);
	ck_assert_int_eq(image_id_parse("redis", w, sizeof(w), v, 7), 0);
	ck_assert_str_eq(v, "latest");
}
END_TEST

static const struct {
	const char *name, *text, *id; /* id NULL: no match */
} cg_cases[] = {
	{ "podman systemd",
	  "0::/machine.slice/libpod-" ID1 ".scope\n", ID1 },
	{ "podman systemd, init sub-cgroup",
	  "0::/machine.slice/libpod-" ID1 ".scope/container\n", ID1 },
	{ "podman cgroupfs hybrid",
	  "12:pids:/libpod_parent/libpod-" ID1 "\n"
	  "1:name=systemd:/libpod_parent/libpod-" ID1 "\n"
	  "0::/libpod_parent/libpod-" ID1 "\n",
	  ID1 },
	{ "conmon only", "0::/machine.slice/libpod-conmon-" ID1 ".scope\n",
	  NULL },
	{ "cri-o conmon only",
	  "0::/kubepods.slice/crio-conmon-" ID1 ".scope\n", NULL },
	{ "docker systemd", "0::/system.slice/docker-" ID1 ".scope\n", ID1 },
	{ "docker cgroupfs", "4:memory:/docker/" ID1 "\n", ID1 },
	{ "containerd systemd",
	  "0::/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod1234_5678.slice/cri-containerd-" ID1
	  ".scope\n",
	  ID1 },
	{ "cri-o systemd",
	  "0::/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-podabcd.slice/crio-" ID1 ".scope\n",
	  ID1 },
	{ "kubepods cgroupfs",
	  "11:cpu,cpuacct:/kubepods/burstable/pod0b1e-22/" ID1 "\n", ID1 },
	{ "nested: outermost wins", "0::/docker/" ID1 "/docker/" ID2 "\n",
	  ID1 },
	{ "no trailing newline", "0::/docker/" ID1, ID1 },
	{ "host process", "0::/user.slice/user-0.slice/session-3.scope\n",
	  NULL },
	{ "empty", "", NULL },
	{ "63 hex", "0::/docker/" "123456789abcdef0123456789abcdef0123456789"
		    "abcdef0123456789abcdef\n",
	  NULL },
	{ "65 hex", "0::/docker/0" ID1 "\n", NULL },
	{ "uppercase hex",
	  "0::/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef"
	  "0123456789abcdef\n",
	  NULL },
	{ "unknown prefix", "0::/machine.slice/lxc-" ID1 ".scope\n", NULL },
	{ "suffix other than .scope", "0::/docker-" ID1 ".slice\n", NULL },
	{ "conmon then container",
	  "1:name=systemd:/machine.slice/libpod-conmon-" ID2 ".scope\n"
	  "0::/machine.slice/libpod-" ID1 ".scope\n",
	  ID1 },
};

START_TEST(test_cgroup_table)
{
	char id[65];
	int r = image_id_from_cgroup(cg_cases[_i].text, id, sizeof(id));

	if (cg_cases[_i].id == NULL) {
		ck_assert_msg(r == -1, "%s: matched '%s'", cg_cases[_i].name,
			      id);
		return;
	}
	ck_assert_msg(r == 0, "%s: no match", cg_cases[_i].name);
	ck_assert_str_eq(id, cg_cases[_i].id);
}
END_TEST

START_TEST(test_cgroup_buffer)
{
	char id[65];

	ck_assert_int_eq(image_id_from_cgroup("0::/docker/" ID1, id, 64), -1);
	ck_assert_int_eq(image_id_from_cgroup(NULL, id, sizeof(id)), -1);
}
END_TEST

static Suite *image_id_suite(void)
{
	Suite *s = suite_create("image_id");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_table, 0,
			    sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_test(tc, test_parse_limits);
	tcase_add_loop_test(tc, test_cgroup_table, 0,
			    sizeof(cg_cases) / sizeof(cg_cases[0]));
	tcase_add_test(tc, test_cgroup_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(image_id_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
