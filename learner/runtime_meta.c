/*
 * Container identity from the runtimes' state files: which files, in which
 * order, read how (size-capped, regular files only). The documents
 * themselves are parsed by runtime_meta_parse.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "nseg/image_id.h"
#include "nseg/log.h"
#include "nseg/runtime_meta.h"
#include "nseg/runtime_meta_parse.h"

struct runtime_cache {
	json_t *root; /* parsed containers.json, NULL when empty */
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

static int rm_path(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* snprintf into a PATH_MAX buffer; -1 (logged) if it does not fit. */
static int rm_path(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX) {
		log_warnx("runtime_meta: path too long (%.64s...)", buf);
		return -1;
	}
	return 0;
}

/* Opens a regular state file. A missing file is not worth a warning. */
static int rm_open(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, st) < 0) {
		log_warn("%s: fstat", path);
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		log_warnx("%s: not a regular file", path);
		goto fail;
	}
	if (st->st_size > RUNTIME_META_MAX_FILE) {
		log_warnx("%s: %lld bytes, over the %ld-byte limit", path,
			  (long long)st->st_size, RUNTIME_META_MAX_FILE);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Reads at most the size cap (the file may grow after fstat). Returns a
 * malloc'ed buffer of *len bytes, or NULL (logged). */
static char *rm_read_fd(int fd, const char *path, size_t *len)
{
	size_t cap = RUNTIME_META_MAX_FILE, size = 65536;
	char *buf = NULL, *nbuf;
	ssize_t r;

	*len = 0;
	for (;;) {
		if (*len == size || buf == NULL) {
			if (buf)
				size = size > cap / 2 ? cap + 1 : size * 2;
			nbuf = realloc(buf, size + 1);
			if (nbuf == NULL) {
				log_warn("%s: realloc", path);
				goto fail;
			}
			buf = nbuf;
		}
		r = read(fd, buf + *len, size - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			log_warn("%s: read", path);
			goto fail;
		}
		if (r == 0)
			return buf;
		*len += (size_t)r;
		if (*len > cap) {
			log_warnx("%s: grew over the %zu-byte limit", path,
				  cap);
			goto fail;
		}
	}
fail:
	free(buf);
	return NULL;
}

/* The whole state file (malloc'ed, *len bytes), or NULL (logged). */
static char *rm_read(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = rm_open(path, &st);

	if (fd < 0)
		return NULL;
	buf = rm_read_fd(fd, path, len);
	close(fd);
	return buf;
}

/* The annotations of an OCI runtime spec (a bundle's config.json). */
static void rm_oci_file(struct runtime_meta_found *f, const char *path)
{
	size_t len;
	char *buf = rm_read(path, &len);

	if (buf == NULL)
		return;
	runtime_meta_oci_config(f, buf, len, path);
	free(buf);
}

/* containers.json through the cache: a new reference, or NULL. */
static json_t *rm_containers_json(struct runtime_cache *c, const char *path)
{
	struct stat st;
	json_t *root = NULL;
	size_t len;
	char *buf;
	int fd = rm_open(path, &st);

	if (fd < 0)
		return NULL;
	if (c && c->root && strcmp(c->path, path) == 0 &&
	    c->dev == st.st_dev && c->ino == st.st_ino &&
	    c->size == st.st_size && c->mtime.tv_sec == st.st_mtim.tv_sec &&
	    c->mtime.tv_nsec == st.st_mtim.tv_nsec) {
		close(fd);
		return json_incref(c->root);
	}
	buf = rm_read_fd(fd, path, &len);
	close(fd);
	if (buf)
		root = runtime_meta_json(buf, len, path);
	free(buf);
	if (c == NULL)
		return root;
	json_decref(c->root);
	c->root = NULL;
	if (root == NULL)
		return NULL;
	c->root = json_incref(root);
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->size = st.st_size;
	c->mtime = st.st_mtim;
	return root;
}

static void rm_podman(struct runtime_meta_found *f,
		      const struct runtime_paths *p,
		      struct runtime_cache *cache)
{
	char path[PATH_MAX];
	json_t *root;
	int found;

	if (rm_path(path, "%s/overlay-containers/containers.json",
		    p->podman_storage) < 0)
		return;
	root = rm_containers_json(cache, path);
	if (root == NULL)
		return;
	found = runtime_meta_podman(f, root, path);
	json_decref(root);
	if (found &&
	    rm_path(path, "%s/overlay-containers/%s/userdata/config.json",
		    p->podman_storage, f->id) == 0)
		rm_oci_file(f, path);
}

/* runc's state.json names the bundle, whose config.json has the CRI
 * annotations. */
static void rm_runc(struct runtime_meta_found *f,
		    const struct runtime_paths *p)
{
	char path[PATH_MAX], bundle[PATH_MAX];
	size_t len;
	char *buf;
	int r;

	if (rm_path(path, "%s/%s/state.json", p->runc_state, f->id) < 0)
		return;
	buf = rm_read(path, &len);
	if (buf == NULL)
		return;
	r = runtime_meta_runc_state(f, buf, len, path, bundle, sizeof(bundle));
	free(buf);
	if (r == 0 && rm_path(path, "%s/config.json", bundle) == 0)
		rm_oci_file(f, path);
}

static void rm_docker(struct runtime_meta_found *f,
		      const struct runtime_paths *p)
{
	char path[PATH_MAX];
	size_t len;
	char *buf;

	if (rm_path(path, "%s/containers/%s/config.v2.json", p->docker_root,
		    f->id) < 0)
		return;
	buf = rm_read(path, &len);
	if (buf == NULL)
		return;
	runtime_meta_docker(f, buf, len, path);
	free(buf);
}

/* containerd keeps one directory per namespace ("k8s.io", "moby", ...). */
static void rm_containerd(struct runtime_meta_found *f,
			  const struct runtime_paths *p)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(p->containerd_state);

	if (d == NULL) {
		if (errno != ENOENT)
			log_warn("%s", p->containerd_state);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (rm_path(path, "%s/%s/%s/config.json", p->containerd_state,
			    de->d_name, f->id) < 0 ||
		    stat(path, &st) < 0)
			continue;
		f->known = 1;
		rm_oci_file(f, path);
		if (f->out->runtime[0] == '\0')
			snprintf(f->out->runtime, sizeof(f->out->runtime),
				 "containerd");
		break;
	}
	closedir(d);
}

/* Container ids become path components: no '/', no "..", no dotfiles. */
static int rm_id_ok(const char *id)
{
	size_t n = strnlen(id, IMAGE_ID_CONTAINER_LEN + 1);

	if (n == 0 || n > IMAGE_ID_CONTAINER_LEN || id[0] == '.')
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int runtime_meta_lookup_cached(struct runtime_cache *cache,
			       const struct runtime_paths *p, const char *id,
			       struct runtime_container *out)
{
	struct runtime_meta_found f = { .id = id, .out = out };

	memset(out, 0, sizeof(*out));
	if (id == NULL || !rm_id_ok(id)) {
		log_warnx("runtime_meta: refusing container id that is not "
			  "1..64 of [A-Za-z0-9_.-]");
		return -1;
	}
	snprintf(out->id, sizeof(out->id), "%s", id);
	rm_podman(&f, p, cache);
	if (out->image[0] == '\0')
		rm_runc(&f, p);
	if (out->image[0] == '\0')
		rm_docker(&f, p);
	if (out->image[0] == '\0')
		rm_containerd(&f, p);
	if (!f.known || runtime_meta_finish(&f) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int runtime_meta_lookup(const struct runtime_paths *p, const char *id,
			struct runtime_container *out)
{
	return runtime_meta_lookup_cached(NULL, p, id, out);
}

void runtime_paths_default(struct runtime_paths *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->podman_storage, sizeof(p->podman_storage),
		 "/var/lib/containers/storage");
	snprintf(p->runc_state, sizeof(p->runc_state), "/run/runc");
	snprintf(p->docker_root, sizeof(p->docker_root), "/var/lib/docker");
	snprintf(p->containerd_state, sizeof(p->containerd_state),
		 "/run/containerd/io.containerd.runtime.v2.task");
}

struct runtime_cache *runtime_cache_new(void)
{
	struct runtime_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		log_warn("%s: calloc", __func__);
	return c;
}

void runtime_cache_free(struct runtime_cache *cache)
{
	if (cache == NULL)
		return;
	json_decref(cache->root);
	free(cache);
}
