/*
 * nsegd's configuration: built-in defaults, overridden by
 * /etc/nseg/nsegd.yaml (or the file given with -f), then by command-line
 * options. Loading is a transaction: a file is parsed into a new struct
 * and applied only when every value in it is valid, so a bad reload keeps
 * the running configuration.
 *
 * config_write_yaml() prints every option normalised (for `nsegd -n`); its
 * output loads again to the same configuration.
 */
#ifndef NSEG_CONFIG_H
#define NSEG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nseg/pkt.h"

#define CONFIG_DEFAULT_PATH "/etc/nseg/nsegd.yaml"

#define CONFIG_DEFAULT_DB "/var/lib/nseg/nseg.db"
#define CONFIG_DEFAULT_SOCKET "/run/nseg/nsegd.sock"
#define CONFIG_DEFAULT_QUEUE 4200
#define CONFIG_DEFAULT_QUEUE_MAXLEN 4096
#define CONFIG_DEFAULT_FLUSH_MS 1000
#define CONFIG_DEFAULT_COPY_RANGE 256
#define CONFIG_DEFAULT_PODMAN_STORAGE "/var/lib/containers/storage"
#define CONFIG_DEFAULT_RUNC_STATE "/run/runc"
#define CONFIG_DEFAULT_DOCKER_ROOT "/var/lib/docker"
#define CONFIG_DEFAULT_CONTAINERD_STATE "/run/containerd/io.containerd.runtime.v2.task"

/* Bounds checked by the loader. */
#define CONFIG_COPY_RANGE_MIN 64
#define CONFIG_COPY_RANGE_MAX 65535
#define CONFIG_FLUSH_MS_MIN 1
#define CONFIG_FLUSH_MS_MAX 3600000 /* 1h */
#define CONFIG_NETNS_PATTERN_MAX 255 /* NAME_MAX of a /run/netns entry */

struct config_network {
	char name[64]; /* letters, digits, '.', '_', '-'; unique */
	struct nseg_cidr cidr;
};

#define CONFIG_CGROUP_PATH_MAX 1024
#define CONFIG_DEFAULT_ALERTS_FILE "/var/log/nseg/alerts.jsonl"
#define CONFIG_DEFAULT_ALERT_WINDOW_MS 60000
#define CONFIG_DEFAULT_QUEUE_RATE 5000
#define CONFIG_DEFAULT_TAMPER_CHECK_MS 30000

#include "nseg/config_capture.h"

struct config {
	char db_path[4096];    /* db */
	char socket_path[108]; /* socket: must fit sun_path */
	char socket_group[64]; /* socket_group: "" = root only */
	uint16_t queue_num;    /* queue: NFQUEUE number in every netns */
	uint32_t queue_maxlen; /* queue_maxlen */
	int fail_open;         /* fail: open (1) | closed (0) */
	int host;              /* host: also watch the host's own netns */
	char **netns;          /* netns: names or fnmatch patterns; none = all */
	size_t n_netns;
	char **cgroups;        /* cgroups: process namespaces only of processes
				  under these cgroup paths */
	size_t n_cgroups;
	struct config_network *networks; /* networks: named external CIDRs */
	size_t n_networks;
	uint32_t flush_interval_ms; /* flush_interval */
	uint32_t copy_range;        /* copy_range: bytes copied per packet */
	int log_level;              /* log_level: LOG_LVL_WARN/INFO/DEBUG */
	int learn_then_enforce;     /* learn_then_enforce: bool */
	uint32_t learn_window_ms;   /* learn_window: default 24h */
	int auto_approve;           /* auto_approve: at the window's end */
	uint32_t queue_rate;        /* queue_rate: new connections/s per netns
				       sent to nsegd; 0 = no limit */
	uint32_t queue_burst;       /* queue_burst: 0 = queue_rate */
	char alerts_file[4096];     /* alerts_file: JSON lines, "" = none */
	char policy_dir[4096];      /* policy_dir: *.yaml applied at start */
	struct config_capture capture; /* capture: pcap files */
	uint32_t alert_window_ms;   /* alert_window: dedup window */
	int block_reject;           /* block: drop (0) | reject (1) */
	int stop_keeps_enforcement; /* stop_keeps_enforcement: on SIGTERM,
				       notify/enforce tables stay */
	uint32_t tamper_check_ms;   /* tamper_check: full comparison of each
				       table; 0 = no tamper detection */
	/* runtime: where container runtimes keep their state */
	char podman_storage[256];
	char runc_state[256];
	char docker_root[256];
	char containerd_state[256];
};

/* Fills c with the built-in defaults (no lists). c is caller-owned; its
 * previous contents are overwritten, not freed. */
void config_init_defaults(struct config *c);

/*
 * Loads the file at path on top of *c (normally the defaults). Returns 0
 * with *c updated (lists given in the file replace those in *c), or -1
 * with *c unchanged and "file:line:col: message" in err[errlen]. When the
 * file does not exist, errno is ENOENT so a caller may treat a missing
 * default file as "use the defaults".
 */
int config_load_file(struct config *c, const char *path, char *err,
		     size_t errlen);

/* As config_load_file() for len bytes of buf; name is used in messages. */
int config_load_buf(struct config *c, const char *name, const char *buf,
		    size_t len, char *err, size_t errlen);

/* Frees the lists of c and empties them; c itself is caller-owned. */
void config_free(struct config *c);

/* Deep copy of src into *dst (which is overwritten, not freed). Returns 0,
 * or -1 on allocation failure with *dst empty of lists. */
int config_copy(struct config *dst, const struct config *src);

/* Writes every option of c as YAML, normalised, that loads back to c.
 * Returns 0, or -1 on a write error (errno set). */
int config_write_yaml(const struct config *c, FILE *out);
/* s as a double-quoted YAML string (escapes for \" \\ and control bytes). */
void config_write_str(FILE *out, const char *s);

/* The reason a netns pattern is invalid ("empty", "contains '/'", ...),
 * or NULL when it is valid. The reason is a static string. */
const char *config_netns_invalid(const char *pattern);

/* Appends a netns name/pattern (for a repeatable --netns). Returns 0, or
 * -1 with errno EINVAL (see config_netns_invalid()) or ENOMEM. */
int config_add_netns(struct config *c, const char *pattern);

/* Why path is not an acceptable cgroup path, or NULL when it is. */
const char *config_cgroup_invalid(const char *path);
/* Appends a cgroup path (repeatable --cgroup); -1 with errno EINVAL/ENOMEM. */
int config_add_cgroup(struct config *c, const char *path);

#endif
