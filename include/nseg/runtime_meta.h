/*
 * Container identity from the container runtimes' own state files.
 *
 * The files are written by root-owned runtimes, but they are still input
 * from outside: every file is size-capped, every JSON field's type is
 * checked, and a malformed file is logged (naming the file and the problem)
 * and treated as "this runtime does not know the container".
 */
#ifndef NSEG_RUNTIME_META_H
#define NSEG_RUNTIME_META_H

/* State files bigger than this are refused. */
#define RUNTIME_META_MAX_FILE (64L << 20)
/* Label or annotation whose value overrides the workload name. */
#define RUNTIME_META_WORKLOAD_KEY "nseg.workload"

/* Roots of the runtimes' state; tests point them at fixtures. */
struct runtime_paths {
	char podman_storage[256];   /* /var/lib/containers/storage */
	char runc_state[256];       /* /run/runc */
	char docker_root[256];      /* /var/lib/docker */
	/* /run/containerd/io.containerd.runtime.v2.task */
	char containerd_state[256];
};

struct runtime_container {
	char id[65];
	char name[256];
	char runtime[16]; /* "podman","docker","containerd","cri-o","unknown" */
	char image[512];
	char workload[256];
	char version[128];
};

/* Parsed containers.json kept between lookups; see runtime_cache_new(). */
struct runtime_cache;

/* Fills *p with the standard locations above. */
void runtime_paths_default(struct runtime_paths *p);

/*
 * Looks up the container with this id (1..64 characters of [A-Za-z0-9_.-],
 * not starting with '.'; anything else is refused before touching the file
 * system). Sources, first hit wins for each field:
 *   1. podman/CRI-O <podman_storage>/overlay-containers/containers.json
 *      (its "metadata" string holds image-name and name), plus the
 *      annotations of overlay-containers/<id>/userdata/config.json;
 *   2. runc <runc_state>/<id>/state.json, whose "bundle=" label leads to
 *      the OCI config.json with CRI image-name annotations;
 *   3. Docker <docker_root>/containers/<id>/config.v2.json;
 *   4. containerd <containerd_state>/<namespace>/<id>/config.json.
 * workload/version come from image_id_parse(image); a label or annotation
 * RUNTIME_META_WORKLOAD_KEY overrides the workload (version is then
 * "unknown" if the image is unknown).
 * Returns 0 and fills *out (all strings NUL-terminated, "" when unknown),
 * or -1 if no runtime knows a usable identity for it; the caller then
 * falls back to the id itself. Never crashes on malformed files.
 */
int runtime_meta_lookup(const struct runtime_paths *p, const char *id,
			struct runtime_container *out);

/*
 * Same as runtime_meta_lookup(), but reuses cache's parse of
 * containers.json while the file's (device, inode, size, mtime) stay the
 * same. cache may be NULL (no caching).
 */
int runtime_meta_lookup_cached(struct runtime_cache *cache,
			       const struct runtime_paths *p, const char *id,
			       struct runtime_container *out);

/* Returns an empty cache owned by the caller (free with
 * runtime_cache_free()), or NULL on allocation failure. */
struct runtime_cache *runtime_cache_new(void);

/* Frees the cache and the parse it holds. NULL is a no-op. */
void runtime_cache_free(struct runtime_cache *cache);

#endif
