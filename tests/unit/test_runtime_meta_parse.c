#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/runtime_meta_parse.h"

enum doc_kind { PODMAN, DOCKER, OCI, RUNC };

/* One document parsed from memory for container "c1", then finished. */
struct parse_case {
	enum doc_kind kind;
	const char *doc;
	int ret; /* podman: found; runc: 0 or -1; else unused */
	int known;
	const char *name, *image, *runtime, *override;
	int finish; /* runtime_meta_finish() */
	const char *workload, *version;
};

static const struct parse_case cases[] = {
    {PODMAN,
     "[{\"id\":\"c0\"},{\"id\":\"c1\",\"names\":[\"web1\"],\"metadata\":"
     "\"{\\\"image-name\\\":\\\"localhost/web:1.0\\\",\\\"name\\\":"
     "\\\"w\\\"}\"}]",
     1, 1, "web1", "localhost/web:1.0", "podman", "", 0, "web", "1.0"},
    {PODMAN,
     "[{\"id\":\"c1\",\"metadata\":\"{\\\"image-name\\\":\\\"q.io/t/a:2\\\","
     "\\\"name\\\":\\\"k8s_a\\\",\\\"pod-id\\\":\\\"p\\\"}\"}]",
     1, 1, "k8s_a", "q.io/t/a:2", "cri-o", "", 0, "t/a", "2"},
    /* known, but nothing usable: finish fails */
    {PODMAN, "[{\"id\":\"c1\",\"metadata\":\"[1]\"}]", 1, 1, "", "", "", "", -1,
     "", ""},
    {PODMAN, "[{\"id\":\"c2\"}]", 0, 0, "", "", "", "", -1, "", ""},
    {PODMAN, "{\"id\":\"c1\"}", 0, 0, "", "", "", "", -1, "", ""},
    {PODMAN, "[{\"id\":", 0, 0, "", "", "", "", -1, "", ""},
    {DOCKER,
     "{\"Name\":\"/cache1\",\"Config\":{\"Image\":\"redis:7.2\","
     "\"Labels\":{\"nseg.workload\":\"cache\"}}}",
     0, 1, "cache1", "redis:7.2", "docker", "cache", 0, "cache", "7.2"},
    {DOCKER, "[]", 0, 1, "", "", "docker", "", -1, "", ""},
    {DOCKER, "{\"Config\":", 0, 0, "", "", "", "", -1, "", ""},
    {OCI,
     "{\"annotations\":{\"io.kubernetes.cri-o.ImageName\":\"api@sha256:0f\","
     "\"io.kubernetes.cri-o.ContainerName\":\"k8s_api\"}}",
     0, 0, "k8s_api", "api@sha256:0f", "cri-o", "", 0, "api", "sha256:0f"},
    /* an override with an unparsable image: version unknown */
    {OCI,
     "{\"annotations\":{\"nseg.workload\":\"svc\","
     "\"io.kubernetes.cri.image-name\":\"bad:\"}}",
     0, 0, "", "bad:", "containerd", "svc", 0, "svc", "unknown"},
    {OCI, "{\"annotations\":{\"nseg.workload\":\"a b\"}}", 0, 0, "", "", "", "",
     -1, "", ""},
    {RUNC, "{\"config\":{\"labels\":[\"bundle=/a\",\"bundle=/run/b\"]}}", 0, 1,
     "", "", "", "", -1, "", ""},
    {RUNC, "{\"config\":{\"labels\":[\"bundle=rel\"]}}", -1, 1, "", "", "", "",
     -1, "", ""},
    {RUNC, "{\"config\":{\"labels\":{}}}", -1, 1, "", "", "", "", -1, "", ""},
    {RUNC, "nope", -1, 0, "", "", "", "", -1, "", ""},
};

START_TEST(test_parse_table)
{
	const struct parse_case *c = &cases[_i];
	struct runtime_container out = {0};
	struct runtime_meta_found f = {.id = "c1", .out = &out};
	size_t len = strlen(c->doc);
	char bundle[PATH_MAX] = "";
	int r = 0;

	switch (c->kind) {
	case PODMAN:
		r = runtime_meta_podman_buf(&f, c->doc, len, "t.json");
		break;
	case DOCKER:
		runtime_meta_docker(&f, c->doc, len, "t.json");
		break;
	case OCI:
		runtime_meta_oci_config(&f, c->doc, len, "t.json");
		break;
	case RUNC:
		r = runtime_meta_runc_state(&f, c->doc, len, "t.json", bundle,
					    sizeof(bundle));
		if (r == 0)
			ck_assert_str_eq(bundle, "/run/b");
		break;
	}
	ck_assert_int_eq(r, c->ret);
	ck_assert_int_eq(f.known, c->known);
	ck_assert_str_eq(out.name, c->name);
	ck_assert_str_eq(out.image, c->image);
	ck_assert_str_eq(out.runtime, c->runtime);
	ck_assert_str_eq(f.override, c->override);
	ck_assert_int_eq(runtime_meta_finish(&f), c->finish);
	ck_assert_str_eq(out.workload, c->workload);
	ck_assert_str_eq(out.version, c->version);
	ck_assert_str_ne(out.runtime, "");
}
END_TEST

/* A field already set is kept: the first source wins. */
START_TEST(test_first_source_wins)
{
	struct runtime_container out = {0};
	struct runtime_meta_found f = {.id = "c1", .out = &out};
	const char *d = "{\"Name\":\"/d\",\"Config\":{\"Image\":\"other:9\"}}";

	snprintf(out.image, sizeof(out.image), "web:1");
	snprintf(out.runtime, sizeof(out.runtime), "podman");
	runtime_meta_docker(&f, d, strlen(d), "t.json");
	ck_assert_str_eq(out.image, "web:1");
	ck_assert_str_eq(out.runtime, "podman");
	ck_assert_str_eq(out.name, "d");
}
END_TEST

/* Over-long values are refused whole, never truncated or overrun. */
START_TEST(test_too_long)
{
	struct runtime_container out = {0};
	struct runtime_meta_found f = {.id = "c1", .out = &out};
	char doc[1024], bundle[8] = "keep";
	int n;

	n = snprintf(doc, sizeof(doc),
		     "{\"Config\":{\"Image\":\"r/%0600d:1\"}}", 0);
	runtime_meta_docker(&f, doc, (size_t)n, "t.json");
	ck_assert_str_eq(out.image, "");
	n = snprintf(doc, sizeof(doc),
		     "{\"config\":{\"labels\":[\"bundle=/1234567\"]}}");
	ck_assert_int_eq(runtime_meta_runc_state(&f, doc, (size_t)n, "t.json",
						 bundle, sizeof(bundle)),
			 -1);
	ck_assert_str_eq(bundle, "keep");
	n = snprintf(doc, sizeof(doc),
		     "{\"config\":{\"labels\":[\"bundle=/123456\"]}}");
	ck_assert_int_eq(runtime_meta_runc_state(&f, doc, (size_t)n, "t.json",
						 bundle, sizeof(bundle)),
			 0);
	ck_assert_str_eq(bundle, "/123456");
}
END_TEST

static Suite *runtime_meta_parse_suite(void)
{
	Suite *s = suite_create("runtime_meta_parse");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_table, 0,
			    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_first_source_wins);
	tcase_add_test(tc, test_too_long);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(runtime_meta_parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
