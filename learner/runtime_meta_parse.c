/*
 * The runtimes' state documents, from memory (nseg/runtime_meta_parse.h).
 * Every field's type is checked before use: the documents are written by
 * root-owned runtimes, but their format is theirs to change.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "nseg/image_id.h"
#include "nseg/log.h"
#include "nseg/runtime_meta_parse.h"

#define RM_CRI_IMAGE "io.kubernetes.cri.image-name"
#define RM_CRI_NAME "io.kubernetes.cri.container-name"
#define RM_CRIO_IMAGE "io.kubernetes.cri-o.ImageName"
#define RM_CRIO_NAME "io.kubernetes.cri-o.ContainerName"
#define RM_MANAGER "io.container.manager"

json_t *runtime_meta_json(const char *buf, size_t len, const char *file)
{
	json_error_t err;
	json_t *root = json_loadb(buf, len, 0, &err);

	if (root == NULL)
		log_warnx("%s:%d:%d: bad JSON: %s", file, err.line, err.column,
			  err.text);
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
static void rm_override(struct runtime_meta_found *f, const char *val,
			const char *file)
{
	size_t n;

	if (f->override[0] || val == NULL)
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
	if (n == 0 || n >= sizeof(f->override)) {
		log_warnx("%s: %s must be 1..%zu bytes, ignored", file,
			  RUNTIME_META_WORKLOAD_KEY, sizeof(f->override) - 1);
		return;
	}
	memcpy(f->override, val, n + 1);
}

static void rm_runtime(struct runtime_meta_found *f, const char *name)
{
	rm_fill(f->out->runtime, sizeof(f->out->runtime), name, "", "runtime");
}

void runtime_meta_oci_config(struct runtime_meta_found *f, const char *buf,
			     size_t len, const char *file)
{
	json_t *root = runtime_meta_json(buf, len, file), *ann;
	struct runtime_container *o = f->out;
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
		rm_runtime(f, "containerd");
	}
	if ((v = rm_str(ann, RM_CRIO_IMAGE, file)) != NULL) {
		rm_fill(o->image, sizeof(o->image), v, file, RM_CRIO_IMAGE);
		rm_runtime(f, "cri-o");
	}
	v = rm_str(ann, RM_MANAGER, file);
	if (v && strcmp(v, "libpod") == 0)
		rm_runtime(f, "podman");
	rm_fill(o->name, sizeof(o->name), rm_str(ann, RM_CRI_NAME, file), file,
		RM_CRI_NAME);
	rm_fill(o->name, sizeof(o->name), rm_str(ann, RM_CRIO_NAME, file), file,
		RM_CRIO_NAME);
	rm_override(f, rm_str(ann, RUNTIME_META_WORKLOAD_KEY, file), file);
out:
	json_decref(root);
}

/* containers.json's "metadata" is JSON inside a JSON string. */
static void rm_podman_metadata(struct runtime_meta_found *f, json_t *ent,
			       const char *file)
{
	const char *meta = rm_str(ent, "metadata", file);
	struct runtime_container *o = f->out;
	json_error_t err;
	json_t *m;

	if (meta == NULL)
		return;
	m = json_loads(meta, 0, &err);
	if (m == NULL || !json_is_object(m)) {
		log_warnx("%s: container %.12s: metadata is not a JSON object "
			  "(%s)",
			  file, f->id, m ? "wrong type" : err.text);
		goto out;
	}
	rm_fill(o->image, sizeof(o->image), rm_str(m, "image-name", file), file,
		"image-name");
	rm_fill(o->name, sizeof(o->name), rm_str(m, "name", file), file,
		"name");
	/* CRI-O's storage metadata carries the pod; podman's does not. */
	rm_runtime(f, json_object_get(m, "pod-id") ? "cri-o" : "podman");
out:
	json_decref(m);
}

static void rm_podman_entry(struct runtime_meta_found *f, json_t *ent,
			    const char *file)
{
	json_t *names = json_object_get(ent, "names");

	f->known = 1;
	if (names && !json_is_array(names))
		log_warnx("%s: container %.12s: \"names\" is not an array",
			  file, f->id);
	else if (names && json_array_size(names) > 0)
		rm_fill(f->out->name, sizeof(f->out->name),
			json_string_value(json_array_get(names, 0)), file,
			"names[0]");
	rm_podman_metadata(f, ent, file);
}

int runtime_meta_podman(struct runtime_meta_found *f, json_t *root,
			const char *file)
{
	json_t *ent;
	size_t i;

	if (!json_is_array(root)) {
		log_warnx("%s: not a JSON array", file);
		return 0;
	}
	json_array_foreach(root, i, ent)
	{
		const char *cid = json_string_value(json_object_get(ent, "id"));

		if (cid && strcmp(cid, f->id) == 0) {
			rm_podman_entry(f, ent, file);
			return 1;
		}
	}
	return 0;
}

int runtime_meta_podman_buf(struct runtime_meta_found *f, const char *buf,
			    size_t len, const char *file)
{
	json_t *root = runtime_meta_json(buf, len, file);
	int r;

	if (root == NULL)
		return 0;
	r = runtime_meta_podman(f, root, file);
	json_decref(root);
	return r;
}

/* The last "bundle=" label wins, as in runc's own reading of it. */
static const char *rm_runc_bundle(json_t *root, const char *file)
{
	json_t *labels, *l;
	const char *bundle = NULL, *v;
	size_t i;

	labels = json_object_get(rm_obj(root, "config", file), "labels");
	if (labels && !json_is_array(labels))
		log_warnx("%s: config.labels is not an array", file);
	json_array_foreach(labels, i, l)
	{
		v = json_string_value(l);
		if (v && strncmp(v, "bundle=", 7) == 0)
			bundle = v + 7;
	}
	return bundle;
}

int runtime_meta_runc_state(struct runtime_meta_found *f, const char *buf,
			    size_t len, const char *file, char *bundle,
			    size_t blen)
{
	json_t *root = runtime_meta_json(buf, len, file);
	const char *b;
	int r = -1;

	if (root == NULL)
		return -1;
	f->known = 1;
	b = rm_runc_bundle(root, file);
	if (b == NULL || b[0] != '/')
		log_warnx("%s: no absolute bundle= label", file);
	else if (strlen(b) >= blen)
		log_warnx("%s: bundle= label is %zu bytes long, over %zu", file,
			  strlen(b), blen - 1);
	else {
		memcpy(bundle, b, strlen(b) + 1);
		r = 0;
	}
	json_decref(root);
	return r;
}

void runtime_meta_docker(struct runtime_meta_found *f, const char *buf,
			 size_t len, const char *file)
{
	json_t *root = runtime_meta_json(buf, len, file), *cfg, *labels;
	struct runtime_container *o = f->out;
	const char *name;

	if (root == NULL)
		return;
	f->known = 1;
	rm_runtime(f, "docker");
	if (!json_is_object(root)) {
		log_warnx("%s: not a JSON object", file);
		goto out;
	}
	cfg = rm_obj(root, "Config", file);
	rm_fill(o->image, sizeof(o->image), rm_str(cfg, "Image", file), file,
		"Config.Image");
	labels = rm_obj(cfg, "Labels", file);
	rm_override(f, rm_str(labels, RUNTIME_META_WORKLOAD_KEY, file), file);
	name = rm_str(root, "Name", file);
	if (name && name[0] == '/')
		name++;
	rm_fill(o->name, sizeof(o->name), name, file, "Name");
out:
	json_decref(root);
}

int runtime_meta_finish(struct runtime_meta_found *f)
{
	struct runtime_container *o = f->out;

	if (o->image[0] &&
	    image_id_parse(o->image, o->workload, sizeof(o->workload),
			   o->version, sizeof(o->version)) < 0)
		log_warnx("container %.12s: image name '%.128s' not understood",
			  f->id, o->image);
	if (f->override[0]) {
		memcpy(o->workload, f->override, sizeof(o->workload));
		if (o->version[0] == '\0')
			snprintf(o->version, sizeof(o->version), "unknown");
	}
	if (o->runtime[0] == '\0')
		snprintf(o->runtime, sizeof(o->runtime), "unknown");
	return o->workload[0] ? 0 : -1;
}
