#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nseg/runtime_meta.h"

#define ID(c) #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c \
	      #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c \
	      #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c \
	      #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c
#define ID_A ID(a)
#define ID_B ID(b)
#define ID_C ID(c)
#define ID_D ID(d)
#define ID_E ID(e)
#define ID_F ID(f)

static char root[64];
static struct runtime_paths paths;
static char logbuf[8192];

static void mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			ck_abort_msg("mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
}

static void put(const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes root/rel, creating its directories. */
static void put(const char *rel, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdirs(path);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/nseg-t-rm-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(paths.podman_storage, sizeof(paths.podman_storage),
		 "%s/storage", root);
	snprintf(paths.runc_state, sizeof(paths.runc_state), "%s/runc", root);
	snprintf(paths.docker_root, sizeof(paths.docker_root), "%s/docker",
		 root);
	snprintf(paths.containerd_state, sizeof(paths.containerd_state),
		 "%s/containerd", root);
}

static int rm_entry(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(p);
}

static void teardown(void)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs a lookup with stderr captured into logbuf. */
static int lookup(struct runtime_cache *c, const char *id,
		  struct runtime_container *out)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), r;
	size_t n;

	ck_assert(tmp != NULL && saved >= 0);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	r = runtime_meta_lookup_cached(c, &paths, id, out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(logbuf, 1, sizeof(logbuf) - 1, tmp);
	logbuf[n] = '\0';
	fclose(tmp);
	if (logbuf[0])
		fprintf(stderr, "[captured] %s", logbuf);
	return r;
}

static void expect(const struct runtime_container *o, const char *runtime,
		   const char *name, const char *image, const char *workload,
		   const char *version)
{
	ck_assert_str_eq(o->runtime, runtime);
	ck_assert_str_eq(o->name, name);
	ck_assert_str_eq(o->image, image);
	ck_assert_str_eq(o->workload, workload);
	ck_assert_str_eq(o->version, version);
}

static void expect_log(const char *needle)
{
	ck_assert_msg(strstr(logbuf, needle) != NULL,
		      "log lacks '%s': '%s'", needle, logbuf);
}

#define CONTAINERS_JSON "storage/overlay-containers/containers.json"
#define META(img, name, extra)                                           \
	"\"{\\\"image-name\\\":\\\"" img "\\\",\\\"image-id\\\":\\\"f00\\\"," \
	"\\\"name\\\":\\\"" name "\\\"" extra "}\""

static void put_podman(void)
{
	put(CONTAINERS_JSON,
	    "[{\"id\":\"%s\",\"names\":[\"web1\"],\"image\":\"f00\","
	    "\"layer\":\"l1\",\"metadata\":%s},"
	    "{\"id\":\"%s\",\"names\":[\"web2\"],\"image\":\"f00\","
	    "\"metadata\":%s},"
	    "{\"id\":\"%s\",\"names\":[\"k8s_api\"],\"metadata\":%s}]",
	    ID_A, META("localhost/web:1.0", "web1", ""), ID_B,
	    META("localhost/web:1.1", "web2", ""), ID_C,
	    META("quay.io/team/api:2", "k8s_api",
		 ",\\\"pod-id\\\":\\\"p1\\\""));
	put("storage/overlay-containers/" ID_B "/userdata/config.json",
	    "{\"ociVersion\":\"1.0.2\",\"annotations\":{"
	    "\"io.container.manager\":\"libpod\","
	    "\"nseg.workload\":\"frontend\"}}");
}

START_TEST(test_podman)
{
	struct runtime_container o;

	put_podman();
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	ck_assert_str_eq(o.id, ID_A);
	expect(&o, "podman", "web1", "localhost/web:1.0", "web", "1.0");
	ck_assert_int_eq(lookup(NULL, ID_B, &o), 0);
	expect(&o, "podman", "web2", "localhost/web:1.1", "frontend", "1.1");
	ck_assert_int_eq(lookup(NULL, ID_C, &o), 0);
	expect(&o, "cri-o", "k8s_api", "quay.io/team/api:2", "team/api", "2");
	ck_assert_int_eq(lookup(NULL, ID_D, &o), -1);
	ck_assert_str_eq(o.id, "");
}
END_TEST

START_TEST(test_docker)
{
	struct runtime_container o;

	put("docker/containers/" ID_D "/config.v2.json",
	    "{\"ID\":\"%s\",\"Name\":\"/cache1\",\"Config\":{"
	    "\"Image\":\"docker.io/library/redis:7.2\","
	    "\"Labels\":{\"nseg.workload\":\"cache\",\"x\":\"y\"}}}",
	    ID_D);
	put("docker/containers/" ID_E "/config.v2.json",
	    "{\"Name\":\"/db\",\"Config\":{\"Image\":\"postgres:16\","
	    "\"Labels\":null}}");
	ck_assert_int_eq(lookup(NULL, ID_D, &o), 0);
	expect(&o, "docker", "cache1", "docker.io/library/redis:7.2", "cache",
	       "7.2");
	ck_assert_int_eq(lookup(NULL, ID_E, &o), 0);
	expect(&o, "docker", "db", "postgres:16", "postgres", "16");
}
END_TEST

START_TEST(test_runc_bundle)
{
	struct runtime_container o;

	put("runc/" ID_A "/state.json",
	    "{\"id\":\"%s\",\"init_process_pid\":42,\"config\":{"
	    "\"rootfs\":\"/x\",\"labels\":[\"foo=bar\",\"bundle=%s/b/a\"]}}",
	    ID_A, root);
	put("b/a/config.json",
	    "{\"annotations\":{"
	    "\"io.kubernetes.cri.image-name\":\"registry.k8s.io/pause:3.9\","
	    "\"io.kubernetes.cri.container-name\":\"pause\"}}");
	put("runc/" ID_B "/state.json",
	    "{\"config\":{\"labels\":[\"bundle=%s/b/b\"]}}", root);
	put("b/b/config.json",
	    "{\"annotations\":{"
	    "\"io.kubernetes.cri-o.ImageName\":\"quay.io/team/api@sha256:00\","
	    "\"io.kubernetes.cri-o.ContainerName\":\"k8s_api_x\","
	    "\"nseg.workload\":\"api\"}}");
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	expect(&o, "containerd", "pause", "registry.k8s.io/pause:3.9", "pause",
	       "3.9");
	ck_assert_int_eq(lookup(NULL, ID_B, &o), 0);
	expect(&o, "cri-o", "k8s_api_x", "quay.io/team/api@sha256:00", "api",
	       "sha256:00");
}
END_TEST

START_TEST(test_containerd)
{
	struct runtime_container o;

	put("containerd/moby/.keep", "%s", "");
	put("containerd/k8s.io/" ID_F "/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri.image-name\":"
	    "\"docker.io/library/nginx:1.25\"}}");
	ck_assert_int_eq(lookup(NULL, ID_F, &o), 0);
	expect(&o, "containerd", "", "docker.io/library/nginx:1.25",
	       "library/nginx", "1.25");
	ck_assert_int_eq(lookup(NULL, ID_E, &o), -1);
}
END_TEST

/* The first source that knows the image wins. */
START_TEST(test_order)
{
	struct runtime_container o;

	put_podman();
	put("docker/containers/" ID_A "/config.v2.json",
	    "{\"Config\":{\"Image\":\"other:9\"}}");
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	expect(&o, "podman", "web1", "localhost/web:1.0", "web", "1.0");
}
END_TEST

START_TEST(test_malformed)
{
	struct runtime_container o;

	put(CONTAINERS_JSON, "[{\"id\":\"%s\",", ID_A);
	put("docker/containers/" ID_A "/config.v2.json",
	    "{\"Config\":{\"Image\":\"redis:7\"}}");
	put("docker/containers/" ID_B "/config.v2.json", "{\"Config\":");
	/* podman's file is broken; docker still answers. */
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	expect_log(CONTAINERS_JSON ":1:");
	expect_log("bad JSON");
	expect(&o, "docker", "", "redis:7", "redis", "7");
	ck_assert_int_eq(lookup(NULL, ID_B, &o), -1);
	expect_log(ID_B "/config.v2.json:1:");

	put(CONTAINERS_JSON, "{\"id\":\"%s\"}", ID_C);
	ck_assert_int_eq(lookup(NULL, ID_C, &o), -1);
	expect_log("containers.json: not a JSON array");

	put(CONTAINERS_JSON, "[{\"id\":\"%s\",\"metadata\":\"{not json\"}]",
	    ID_C);
	ck_assert_int_eq(lookup(NULL, ID_C, &o), -1);
	expect_log("metadata is not a JSON object");

	put("runc/" ID_D "/state.json", "[1,2,3]");
	ck_assert_int_eq(lookup(NULL, ID_D, &o), -1);
	expect_log("no absolute bundle= label");
	put("runc/" ID_D "/state.json",
	    "{\"config\":{\"labels\":[\"bundle=relative/b\"]}}");
	ck_assert_int_eq(lookup(NULL, ID_D, &o), -1);
	expect_log("no absolute bundle= label");
}
END_TEST

START_TEST(test_wrong_types)
{
	struct runtime_container o;

	put(CONTAINERS_JSON,
	    "[7,null,\"x\",{\"id\":5},{\"id\":\"%s\",\"names\":\"web\","
	    "\"metadata\":{\"image-name\":\"web:1\"}},"
	    "{\"id\":\"%s\",\"names\":[3],\"metadata\":"
	    "\"{\\\"image-name\\\":42,\\\"name\\\":[]}\"},"
	    "{\"id\":\"%s\",\"metadata\":\"[1]\"}]",
	    ID_A, ID_B, ID_C);
	ck_assert_int_eq(lookup(NULL, ID_A, &o), -1);
	expect_log("\"names\" is not an array");
	expect_log("\"metadata\" is not a string");
	ck_assert_int_eq(lookup(NULL, ID_B, &o), -1);
	expect_log("\"image-name\" is not a string");
	ck_assert_int_eq(lookup(NULL, ID_C, &o), -1);
	expect_log("metadata is not a JSON object (wrong type)");

	put("docker/containers/" ID_D "/config.v2.json",
	    "{\"Name\":7,\"Config\":{\"Image\":[\"x\"],\"Labels\":[1]}}");
	ck_assert_int_eq(lookup(NULL, ID_D, &o), -1);
	expect_log("\"Image\" is not a string");
	expect_log("\"Labels\" is not an object");

	put("docker/containers/" ID_E "/config.v2.json",
	    "{\"Config\":[],\"Name\":\"/n\"}");
	ck_assert_int_eq(lookup(NULL, ID_E, &o), -1);
	expect_log("\"Config\" is not an object");

	put("runc/" ID_F "/state.json",
	    "{\"config\":{\"labels\":{\"bundle\":\"/x\"}}}");
	ck_assert_int_eq(lookup(NULL, ID_F, &o), -1);
	expect_log("config.labels is not an array");
}
END_TEST

START_TEST(test_annotation_types)
{
	struct runtime_container o;

	put("runc/" ID_A "/state.json",
	    "{\"config\":{\"labels\":[\"bundle=%s/b\"]}}", root);
	put("b/config.json", "{\"annotations\":[\"nseg.workload=x\"]}");
	ck_assert_int_eq(lookup(NULL, ID_A, &o), -1);
	expect_log("\"annotations\" is not an object");

	put("b/config.json", "{\"annotations\":{\"nseg.workload\":\"bad name\","
			     "\"io.kubernetes.cri.image-name\":\"app:3\"}}");
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	expect_log("nseg.workload has a space or a non-printable byte at "
		   "offset 3");
	expect(&o, "containerd", "", "app:3", "app", "3");

	/* An image we cannot parse, but an override: version unknown. */
	put("b/config.json",
	    "{\"annotations\":{\"nseg.workload\":\"svc\","
	    "\"io.kubernetes.cri.image-name\":\"bad:\"}}");
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	expect_log("image name 'bad:' not understood");
	expect(&o, "containerd", "", "bad:", "svc", "unknown");

	/* Known, but with no identity at all. */
	put("b/config.json", "{\"annotations\":{}}");
	ck_assert_int_eq(lookup(NULL, ID_A, &o), -1);
}
END_TEST

START_TEST(test_missing)
{
	struct runtime_container o;

	ck_assert_int_eq(lookup(NULL, ID_A, &o), -1);
	ck_assert_str_eq(logbuf, "");
	put("runc/" ID_B "/state.json",
	    "{\"config\":{\"labels\":[\"bundle=%s/nonexistent\"]}}", root);
	ck_assert_int_eq(lookup(NULL, ID_B, &o), -1);
	ck_assert_str_eq(logbuf, "");
}
END_TEST

START_TEST(test_bad_ids)
{
	static const char *const bad[] = {
		"", ".", "..", "../" ID_A, "a/b", ".hidden", "a b", "a\n",
		ID_A "0",
	};
	struct runtime_container o;

	put_podman();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(lookup(NULL, bad[i], &o), -1);
		expect_log("refusing container id");
	}
	ck_assert_int_eq(lookup(NULL, NULL, &o), -1);
}
END_TEST

START_TEST(test_not_regular_or_huge)
{
	char path[PATH_MAX];
	struct runtime_container o;
	int fd;

	put("docker/containers/" ID_A "/config.v2.json",
	    "{\"Config\":{\"Image\":\"redis:7\"}}");
	snprintf(path, sizeof(path), "%s/" CONTAINERS_JSON, root);
	mkdirs(path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	expect_log("containers.json: not a regular file");
	ck_assert_str_eq(o.runtime, "docker");

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, RUNTIME_META_MAX_FILE + 1), 0);
	close(fd);
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	expect_log("over the 67108864-byte limit");
}
END_TEST

START_TEST(test_cache)
{
	struct runtime_cache *c = runtime_cache_new();
	struct runtime_container o;
	struct timespec ts[2];
	struct stat st;
	char path[PATH_MAX];

	ck_assert_ptr_nonnull(c);
	snprintf(path, sizeof(path), "%s/" CONTAINERS_JSON, root);
	put(CONTAINERS_JSON, "[{\"id\":\"%s\",\"metadata\":%s}]", ID_A,
	    META("web:1.0", "w", ""));
	ck_assert_int_eq(lookup(c, ID_A, &o), 0);
	ck_assert_str_eq(o.version, "1.0");

	/* Same inode, size and mtime: the cached parse answers. */
	ck_assert_int_eq(stat(path, &st), 0);
	put(CONTAINERS_JSON, "[{\"id\":\"%s\",\"metadata\":%s}]", ID_A,
	    META("web:2.0", "w", ""));
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	ck_assert_int_eq(lookup(c, ID_A, &o), 0);
	ck_assert_str_eq(o.version, "1.0");
	ck_assert_int_eq(lookup(NULL, ID_A, &o), 0);
	ck_assert_str_eq(o.version, "2.0");

	/* Any change of the key re-reads. */
	put(CONTAINERS_JSON, "[{\"id\":\"%s\",\"metadata\":%s}]", ID_A,
	    META("web:3.10", "w", ""));
	ck_assert_int_eq(lookup(c, ID_A, &o), 0);
	ck_assert_str_eq(o.version, "3.10");

	/* A broken file drops the cache rather than serving stale data. */
	put(CONTAINERS_JSON, "[");
	ck_assert_int_eq(lookup(c, ID_A, &o), -1);
	runtime_cache_free(c);
	runtime_cache_free(NULL);
}
END_TEST

START_TEST(test_defaults)
{
	struct runtime_paths p;

	runtime_paths_default(&p);
	ck_assert_str_eq(p.podman_storage, "/var/lib/containers/storage");
	ck_assert_str_eq(p.runc_state, "/run/runc");
	ck_assert_str_eq(p.docker_root, "/var/lib/docker");
	ck_assert_str_eq(p.containerd_state,
			 "/run/containerd/io.containerd.runtime.v2.task");
}
END_TEST

static Suite *runtime_meta_suite(void)
{
	Suite *s = suite_create("runtime_meta");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_podman);
	tcase_add_test(tc, test_docker);
	tcase_add_test(tc, test_runc_bundle);
	tcase_add_test(tc, test_containerd);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_annotation_types);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_bad_ids);
	tcase_add_test(tc, test_not_regular_or_huge);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_defaults);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(runtime_meta_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
