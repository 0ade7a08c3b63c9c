/*
 * The runtimes' state documents, parsed from memory.
 *
 * runtime_meta.c finds and reads the files (nseg/runtime_meta.h); these
 * functions take the bytes, so that the fuzz targets reach every parser
 * without a file system. Each fills only the fields of f->out that are
 * still empty (the first source wins), logs every problem naming `file`
 * (used in messages only), and never fails hard: a malformed document
 * contributes nothing.
 */
#ifndef NSEG_RUNTIME_META_PARSE_H
#define NSEG_RUNTIME_META_PARSE_H

#include <stddef.h>

#include <jansson.h>

#include "nseg/runtime_meta.h"

/* What the sources told about one container so far. Zero it, then set
 * id and out (itself zeroed); the caller owns both. */
struct runtime_meta_found {
	const char *id; /* the container looked up */
	struct runtime_container *out;
	int known;	    /* some runtime has state for id */
	char override[256]; /* RUNTIME_META_WORKLOAD_KEY's value, or "" */
};

/*
 * Parses len bytes of JSON. Returns a new reference (caller decrefs), or
 * NULL with "file:LINE:COL: bad JSON: ..." logged.
 */
json_t *runtime_meta_json(const char *buf, size_t len, const char *file);

/*
 * podman/CRI-O overlay-containers/containers.json, already parsed: an
 * array of {"id", "names":[...], "metadata":"<JSON in a string>"}. Fills
 * name, image and runtime from f->id's entry. Returns 1 if the array has
 * an entry for f->id (f->known is then set), else 0. root is borrowed.
 */
int runtime_meta_podman(struct runtime_meta_found *f, json_t *root,
			const char *file);

/* runtime_meta_podman() on the bytes of containers.json. */
int runtime_meta_podman_buf(struct runtime_meta_found *f, const char *buf,
			    size_t len, const char *file);

/*
 * An OCI runtime spec (a bundle's config.json, podman's
 * userdata/config.json): image, name and runtime from the CRI and CRI-O
 * annotations, the workload override from RUNTIME_META_WORKLOAD_KEY.
 */
void runtime_meta_oci_config(struct runtime_meta_found *f, const char *buf,
			     size_t len, const char *file);

/*
 * runc's state.json. A document that parses marks f->known. Copies the
 * absolute path of its "bundle=" label (config.labels) into bundle
 * (blen bytes) and returns 0; returns -1 (logged) when there is none or
 * it does not fit.
 */
int runtime_meta_runc_state(struct runtime_meta_found *f, const char *buf,
			    size_t len, const char *file, char *bundle,
			    size_t blen);

/*
 * Docker's containers/<id>/config.v2.json: Config.Image, Name, and the
 * override from Config.Labels. A document that parses marks f->known.
 */
void runtime_meta_docker(struct runtime_meta_found *f, const char *buf,
			 size_t len, const char *file);

/*
 * Derives workload and version from the image (nseg/image_id.h), applies
 * the override and defaults runtime to "unknown". Returns 0 if f->out now
 * names a workload, else -1 (f->out is left as it is).
 */
int runtime_meta_finish(struct runtime_meta_found *f);

#endif
