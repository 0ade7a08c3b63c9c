/*
 * Workload identity from an image reference and container ids from
 * /proc/PID/cgroup (DESIGN.md "Identity, not addresses"). Pure string
 * functions: no allocation, no logging; callers log what they rejected.
 */
#ifndef NSEG_IMAGE_ID_H
#define NSEG_IMAGE_ID_H

#include <stddef.h>

/* Longest image reference accepted, without the NUL. */
#define IMAGE_ID_REF_MAX 511
/* A full container id: 64 lowercase hex digits. */
#define IMAGE_ID_CONTAINER_LEN 64

/*
 * Splits an image reference into workload and version:
 *   "docker.io/library/redis:7.2"  -> "library/redis", "7.2"
 *   "localhost:5000/web:1.0"       -> "web", "1.0"
 *   "redis:7"                      -> "redis", "7"  (no "library/" added)
 *   "redis@sha256:ab.."            -> "redis", "sha256:ab.."
 *   "redis"                        -> "redis", "latest"
 * The first path component is a registry host (and stripped) when the
 * reference has a '/' and that component contains '.' or ':' or is
 * "localhost". The tag follows the last ':' after the last '/'; a digest
 * is the version only when there is no tag.
 * Returns 0 and writes both NUL-terminated strings into the caller's
 * buffers, or -1 (buffers then hold "") for an empty or over-long
 * reference, bytes that are not printable ASCII (spaces, control
 * characters, non-ASCII), an empty tag, digest or path component, or a
 * result that does not fit wlen/vlen.
 */
int image_id_parse(const char *image, char *workload, size_t wlen,
		   char *version, size_t vlen);

/*
 * Finds a container id in the text of /proc/PID/cgroup. A path component
 * (optionally ending in ".scope") matches when it is the 64-hex id itself
 * (/docker/<id>, /kubepods/.../<id>) or "libpod-", "docker-",
 * "cri-containerd-" or "crio-" followed by the id; conmon's
 * "libpod-conmon-<id>" and "crio-conmon-<id>" do not match. The first
 * match wins: for nested containers that is the outermost, the one the
 * host's runtime knows. Returns 0 and copies the id (NUL-terminated, so
 * idlen must be at least 65) into id, or -1 if there is none.
 */
int image_id_from_cgroup(const char *cgroup_text, char *id, size_t idlen);

#endif
