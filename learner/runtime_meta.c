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

#define RM_CRI_IMAGE "io.kubernetes.cri.image-name"
#define RM_CRI_NAME "io.kubernetes.cri.container-name"
#define RM_CRIO_IMAGE "io.kubernetes.cri-o.ImageName"
#define RM_CRIO_NAME "io.kubernetes.cri-o.ContainerName"
#define RM_MANAGER "io.container.manager"

struct runtime_cache {
	json_t *root; /* parsed containers.json, NULL when empty */
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* What the sources found so far; each fills only what is still empty. */
struct rm_state {
	const char *id;
	struct runtime_container *out;
	int known; /* some runtime has state for this id */
	char override[256];
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

/* Reads at most the size cap (the file may grow after fstat) and parses. */
static json_t *rm_parse_fd(int fd, const char *path)
{
	size_t cap = RUNTIME_META_MAX_FILE, len = 0, size = 65536;
	char *buf = NULL, *nbuf;
	json_t *root = NULL;
	json_error_t err;
	ssize_t r;

	for (;;) {
		if (len == size || buf == NULL) {
			if (buf)
				size = size > cap / 2 ? cap + 1 : size * 2;
			nbuf = realloc(buf, size + 1);
			if (nbuf == NULL) {
				log_warn("%s: realloc", path);
				goto out;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			log_warn("%s: read", path);
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > cap) {
			log_warnx("%s: grew over the %zu-byte limit", path,
				  cap);
			goto out;
		}
	}
	root = json_loadb(buf, len, 0, &err);
	if (root == NULL)
		log_warnx("%s:%d:%d: bad JSON: %s", path, err.line, err.column,
			  err.text);
out:
	free(buf);
	return root;
}

/* Returns a new reference to the parsed file, or NULL (logged). */
static json_t *rm_load(const char *path)
{
	struct stat st;
	json_t *root;
	int fd = rm_open(path, &st);

	if (fd < 0)
		return NULL;
	root = rm_parse_fd(fd, path);
	close(fd);
	return root;
}

/* A string member, NULL if absent or null; a wrong type is logged. */
static const char *rm_str(json_t *obj, const char *key, const char *file)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		log_warnx("%s: \"%s\" is not a string", file, key);
		return NULL;
	}
	return json_string_value(v);
}

/* An object member, NULL if absent or null; a wrong type is logged. */
static json_t *rm_obj(json_t *obj, const char *key, const char *file)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		log_warnx("%s: \"%s\" is not an object", file, key);
		return NULL;
	}
	return v;
}

/* Fills dst from src unless dst is already set; refuses to truncate. */
static void rm_fill(char *dst, size_t dlen, const char *src, const char *file,
		    const char *what)
{
	size_t n;

	if (dst[0] || src == NULL || src[0] == '\0')
		return;
	n = strlen(src);
	if (n >= dlen) {
		log_warnx("%s: %s is %zu bytes long, over %zu", file, what, n,
			  dlen - 1);
		return;
	}
	memcpy(dst, src, n + 1);
}

/* The override must be a usable workload name, like an image path. */
static void rm_override(struct rm_state *s, const char *val, const char *file)
{
	size_t n;

	if (s->override[0] || val == NULL)
		return;
	n = strlen(val);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)val[i] <= ' ' ||
		    (unsigned char)val[i] >= 0x7f) {
			log_warnx("%s: %s has a space or a non-printable "
				  "byte at offset %zu, ignored",
				  file, RUNTIME_META_WORKLOAD_KEY, i);
			return;
		}
	}
	if (n == 0 || n >= sizeof(s->override)) {
		log_warnx("%s: %s must be 1..%zu bytes, ignored", file,
			  RUNTIME_META_WORKLOAD_KEY, sizeof(s->override) - 1);
		return;
	}
	memcpy(s->override, val, n + 1);
}

static void rm_runtime(struct rm_state *s, const char *name)
{
	rm_fill(s->out->runtime, sizeof(s->out->runtime), name, "", "runtime");
}

/* The annotations of an OCI runtime spec (a bundle's config.json). */
static void rm_oci_annotations(struct rm_state *s, const char *file)
{
	json_t *root = rm_load(file), *ann;
	struct runtime_container *o = s->out;
	const char *v;

	if (root == NULL)
		return;
	if (!json_is_object(root)) {
		log_warnx("%s: not a JSON object", file);
		goto out;
	}
	ann = rm_obj(root, "annotations", file);
	if (ann == NULL)
		goto out;
	if ((v = rm_str(ann, RM_CRI_IMAGE, file)) != NULL) {
		rm_fill(o->image, sizeof(o->image), v, file, RM_CRI_IMAGE);
		rm_runtime(s, "containerd");
	}
	if ((v = rm_str(ann, RM_CRIO_IMAGE, file)) != NULL) {
		rm_fill(o->image, sizeof(o->image), v, file, RM_CRIO_IMAGE);
		rm_runtime(s, "cri-o");
	}
	v = rm_str(ann, RM_MANAGER, file);
	if (v && strcmp(v, "libpod") == 0)
		rm_runtime(s, "podman");
	rm_fill(o->name, sizeof(o->name), rm_str(ann, RM_CRI_NAME, file), file,
		RM_CRI_NAME);
	rm_fill(o->name, sizeof(o->name), rm_str(ann, RM_CRIO_NAME, file), file,
		RM_CRIO_NAME);
	rm_override(s, rm_str(ann, RUNTIME_META_WORKLOAD_KEY, file), file);
out:
	json_decref(root);
}

/* containers.json through the cache: a new reference, or NULL. */
static json_t *rm_containers_json(struct runtime_cache *c, const char *path)
{
	struct stat st;
	json_t *root;
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
	root = rm_parse_fd(fd, path);
	close(fd);
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

/* containers.json's "metadata" is JSON inside a JSON string. */
static void rm_podman_metadata(struct rm_state *s, json_t *ent,
			       const char *file)
{
	const char *meta = rm_str(ent, "metadata", file);
	struct runtime_container *o = s->out;
	json_error_t err;
	json_t *m;

	if (meta == NULL)
		return;
	m = json_loads(meta, 0, &err);
	if (m == NULL || !json_is_object(m)) {
		log_warnx("%s: container %.12s: metadata is not a JSON object "
			  "(%s)",
			  file, s->id, m ? "wrong type" : err.text);
		goto out;
	}
	rm_fill(o->image, sizeof(o->image), rm_str(m, "image-name", file), file,
		"image-name");
	rm_fill(o->name, sizeof(o->name), rm_str(m, "name", file), file,
		"name");
	/* CRI-O's storage metadata carries the pod; podman's does not. */
	rm_runtime(s, json_object_get(m, "pod-id") ? "cri-o" : "podman");
out:
	json_decref(m);
}

static void rm_podman_entry(struct rm_state *s, json_t *ent, const char *file)
{
	json_t *names = json_object_get(ent, "names");

	s->known = 1;
	if (names && !json_is_array(names))
		log_warnx("%s: container %.12s: \"names\" is not an array",
			  file, s->id);
	else if (names && json_array_size(names) > 0)
		rm_fill(s->out->name, sizeof(s->out->name),
			json_string_value(json_array_get(names, 0)), file,
			"names[0]");
	rm_podman_metadata(s, ent, file);
}

static void rm_podman(struct rm_state *s, const struct runtime_paths *p,
		      struct runtime_cache *cache)
{
	char path[PATH_MAX];
	json_t *root, *ent;
	size_t i;

	if (rm_path(path, "%s/overlay-containers/containers.json",
		    p->podman_storage) < 0)
		return;
	root = rm_containers_json(cache, path);
	if (root == NULL)
		return;
	if (!json_is_array(root)) {
		log_warnx("%s: not a JSON array", path);
		goto out;
	}
	json_array_foreach (root, i, ent) {
		const char *cid = json_string_value(json_object_get(ent, "id"));

		if (cid && strcmp(cid, s->id) == 0) {
			rm_podman_entry(s, ent, path);
			break;
		}
	}
	if (!s->known)
		goto out;
	if (rm_path(path, "%s/overlay-containers/%s/userdata/config.json",
		    p->podman_storage, s->id) == 0)
		rm_oci_annotations(s, path);
out:
	json_decref(root);
}

/* runc's state.json: config.labels holds "bundle=/path/to/bundle". */
static void rm_runc(struct rm_state *s, const struct runtime_paths *p)
{
	char path[PATH_MAX];
	json_t *root, *labels, *l;
	const char *bundle = NULL, *v;
	size_t i;

	if (rm_path(path, "%s/%s/state.json", p->runc_state, s->id) < 0)
		return;
	root = rm_load(path);
	if (root == NULL)
		return;
	s->known = 1;
	labels = json_object_get(rm_obj(root, "config", path), "labels");
	if (labels && !json_is_array(labels))
		log_warnx("%s: config.labels is not an array", path);
	json_array_foreach (labels, i, l) {
		v = json_string_value(l);
		if (v && strncmp(v, "bundle=", 7) == 0)
			bundle = v + 7;
	}
	if (bundle == NULL || bundle[0] != '/') {
		log_warnx("%s: no absolute bundle= label", path);
		goto out;
	}
	if (rm_path(path, "%s/config.json", bundle) == 0)
		rm_oci_annotations(s, path);
out:
	json_decref(root);
}

static void rm_docker(struct rm_state *s, const struct runtime_paths *p)
{
	char path[PATH_MAX];
	struct runtime_container *o = s->out;
	json_t *root, *cfg, *labels;
	const char *name;

	if (rm_path(path, "%s/containers/%s/config.v2.json", p->docker_root,
		    s->id) < 0)
		return;
	root = rm_load(path);
	if (root == NULL)
		return;
	s->known = 1;
	rm_runtime(s, "docker");
	if (!json_is_object(root)) {
		log_warnx("%s: not a JSON object", path);
		goto out;
	}
	cfg = rm_obj(root, "Config", path);
	rm_fill(o->image, sizeof(o->image), rm_str(cfg, "Image", path), path,
		"Config.Image");
	labels = rm_obj(cfg, "Labels", path);
	rm_override(s, rm_str(labels, RUNTIME_META_WORKLOAD_KEY, path), path);
	name = rm_str(root, "Name", path);
	if (name && name[0] == '/')
		name++;
	rm_fill(o->name, sizeof(o->name), name, path, "Name");
out:
	json_decref(root);
}

/* containerd keeps one directory per namespace ("k8s.io", "moby", ...). */
static void rm_containerd(struct rm_state *s, const struct runtime_paths *p)
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
			    de->d_name, s->id) < 0 ||
		    stat(path, &st) < 0)
			continue;
		s->known = 1;
		rm_oci_annotations(s, path);
		rm_runtime(s, "containerd");
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

/* Derives workload/version; 0 if there is a workload to report. */
static int rm_finish(struct rm_state *s)
{
	struct runtime_container *o = s->out;

	if (o->image[0] &&
	    image_id_parse(o->image, o->workload, sizeof(o->workload),
			   o->version, sizeof(o->version)) < 0)
		log_warnx("container %.12s: image name '%.128s' not understood",
			  s->id, o->image);
	if (s->override[0]) {
		memcpy(o->workload, s->override, sizeof(o->workload));
		if (o->version[0] == '\0')
			snprintf(o->version, sizeof(o->version), "unknown");
	}
	if (o->runtime[0] == '\0')
		snprintf(o->runtime, sizeof(o->runtime), "unknown");
	return o->workload[0] ? 0 : -1;
}

int runtime_meta_lookup_cached(struct runtime_cache *cache,
			       const struct runtime_paths *p, const char *id,
			       struct runtime_container *out)
{
	struct rm_state s = { .id = id, .out = out };

	memset(out, 0, sizeof(*out));
	if (id == NULL || !rm_id_ok(id)) {
		log_warnx("runtime_meta: refusing container id that is not "
			  "1..64 of [A-Za-z0-9_.-]");
		return -1;
	}
	snprintf(out->id, sizeof(out->id), "%s", id);
	rm_podman(&s, p, cache);
	if (out->image[0] == '\0')
		rm_runc(&s, p);
	if (out->image[0] == '\0')
		rm_docker(&s, p);
	if (out->image[0] == '\0')
		rm_containerd(&s, p);
	if (!s.known || rm_finish(&s) < 0) {
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
