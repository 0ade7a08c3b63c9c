/*
 * nsegd's configuration file. Each top-level key has one parse handler in
 * config_opts[]; a file is applied to a deep copy of the current config
 * and swapped in only when every handler succeeded, so a bad file never
 * leaves a half-applied configuration behind.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "nseg/config.h"
#include "nseg/log.h"
#include "nseg/pkt.h"
#include "nseg/yaml_tree.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const config_fail_names[] = { "closed", "open", NULL };
/* Indexed by enum log_level. */
static const char *const config_log_names[] = { "warn", "info", "debug",
						NULL };

void config_init_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->db_path, sizeof(c->db_path), "%s", CONFIG_DEFAULT_DB);
	snprintf(c->socket_path, sizeof(c->socket_path), "%s",
		 CONFIG_DEFAULT_SOCKET);
	c->queue_num = CONFIG_DEFAULT_QUEUE;
	c->queue_maxlen = CONFIG_DEFAULT_QUEUE_MAXLEN;
	c->fail_open = 1;
	c->host = 0;
	c->flush_interval_ms = CONFIG_DEFAULT_FLUSH_MS;
	c->copy_range = CONFIG_DEFAULT_COPY_RANGE;
	c->log_level = LOG_LVL_INFO;
	snprintf(c->alerts_file, sizeof(c->alerts_file), "%s",
		 CONFIG_DEFAULT_ALERTS_FILE);
	c->alert_window_ms = CONFIG_DEFAULT_ALERT_WINDOW_MS;
	c->stop_keeps_enforcement = 1;
	c->tamper_check_ms = CONFIG_DEFAULT_TAMPER_CHECK_MS;
	c->queue_rate = CONFIG_DEFAULT_QUEUE_RATE;
	c->learn_window_ms = 24u * 3600 * 1000;
	config_capture_defaults(&c->capture);
	snprintf(c->podman_storage, sizeof(c->podman_storage), "%s",
		 CONFIG_DEFAULT_PODMAN_STORAGE);
	snprintf(c->runc_state, sizeof(c->runc_state), "%s",
		 CONFIG_DEFAULT_RUNC_STATE);
	snprintf(c->docker_root, sizeof(c->docker_root), "%s",
		 CONFIG_DEFAULT_DOCKER_ROOT);
	snprintf(c->containerd_state, sizeof(c->containerd_state), "%s",
		 CONFIG_DEFAULT_CONTAINERD_STATE);
}

static void config_list_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static int config_list_add(char ***v, size_t *n, const char *s)
{
	char **nv, *dup = strdup(s);

	if (dup == NULL)
		return -1;
	nv = reallocarray(*v, *n + 1, sizeof(*nv));
	if (nv == NULL) {
		free(dup);
		return -1;
	}
	nv[(*n)++] = dup;
	*v = nv;
	return 0;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	config_list_free(&c->netns, &c->n_netns);
	config_list_free(&c->cgroups, &c->n_cgroups);
	free(c->networks);
	c->networks = NULL;
	c->n_networks = 0;
}

int config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	dst->netns = NULL;
	dst->n_netns = 0;
	dst->cgroups = NULL;
	dst->n_cgroups = 0;
	dst->networks = NULL;
	dst->n_networks = 0;
	for (size_t i = 0; i < src->n_netns; i++)
		if (config_add_netns(dst, src->netns[i]) < 0)
			goto fail;
	for (size_t i = 0; i < src->n_cgroups; i++)
		if (config_add_cgroup(dst, src->cgroups[i]) < 0)
			goto fail;
	if (src->n_networks > 0) {
		dst->networks = calloc(src->n_networks, sizeof(*dst->networks));
		if (dst->networks == NULL)
			goto fail;
		memcpy(dst->networks, src->networks,
		       src->n_networks * sizeof(*dst->networks));
		dst->n_networks = src->n_networks;
	}
	return 0;
fail:
	config_free(dst);
	return -1;
}

const char *config_netns_invalid(const char *pattern)
{
	if (pattern[0] == '\0')
		return "a netns name or pattern must not be empty";
	if (strlen(pattern) > CONFIG_NETNS_PATTERN_MAX)
		return "a netns name or pattern is at most 255 bytes";
	if (strchr(pattern, '/') != NULL)
		return "a netns name or pattern must not contain '/'";
	for (const char *p = pattern; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p))
			return "a netns name or pattern must not contain "
			       "control characters";
	return NULL;
}

int config_add_netns(struct config *c, const char *pattern)
{
	if (config_netns_invalid(pattern) != NULL) {
		errno = EINVAL;
		return -1;
	}
	return config_list_add(&c->netns, &c->n_netns, pattern);
}

const char *config_cgroup_invalid(const char *path)
{
	if (path[0] != '/')
		return "a cgroup path must start with '/'";
	if (strlen(path) > CONFIG_CGROUP_PATH_MAX)
		return "a cgroup path is at most 1024 bytes";
	for (const char *p = path; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p))
			return "a cgroup path must not contain control "
			       "characters";
	return NULL;
}

int config_add_cgroup(struct config *c, const char *path)
{
	if (config_cgroup_invalid(path) != NULL) {
		errno = EINVAL;
		return -1;
	}
	return config_list_add(&c->cgroups, &c->n_cgroups, path);
}

/* A path the daemon opens after chdir("/"): it must be absolute. */
static int get_path(const struct yaml_node *v, char *out, size_t outlen,
		    struct yaml_error *err)
{
	if (yaml_tree_get_string(v, out, outlen, err) < 0)
		return -1;
	if (out[0] != '/') {
		yaml_tree_error_at(err, v, "expected an absolute path");
		return -1;
	}
	return 0;
}

static int opt_db(struct config *c, const struct yaml_node *v,
		  struct yaml_error *err)
{
	return get_path(v, c->db_path, sizeof(c->db_path), err);
}

static int opt_socket(struct config *c, const struct yaml_node *v,
		      struct yaml_error *err)
{
	const char *s = yaml_tree_scalar(v);

	_Static_assert(sizeof(c->socket_path) ==
			       sizeof(((struct sockaddr_un *)0)->sun_path),
		       "socket_path must match sun_path");
	if (s != NULL && strlen(s) >= sizeof(c->socket_path)) {
		yaml_tree_error_at(err, v,
				   "socket path is %zu bytes, a unix socket "
				   "allows at most %zu",
				   strlen(s), sizeof(c->socket_path) - 1);
		return -1;
	}
	return get_path(v, c->socket_path, sizeof(c->socket_path), err);
}

/* Group names as useradd(8) accepts them, so no quoting is ever needed. */
static int name_valid(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return 0;
	return 1;
}

static int opt_socket_group(struct config *c, const struct yaml_node *v,
			    struct yaml_error *err)
{
	char group[sizeof(c->socket_group)];

	if (yaml_tree_get_string(v, group, sizeof(group), err) < 0)
		return -1;
	if (!name_valid(group)) {
		yaml_tree_error_at(err, v,
				   "a group name may contain only letters, "
				   "digits, '.', '_' and '-'");
		return -1;
	}
	memcpy(c->socket_group, group, sizeof(group));
	return 0;
}

static int opt_queue(struct config *c, const struct yaml_node *v,
		     struct yaml_error *err)
{
	uint64_t n;

	if (yaml_tree_get_uint(v, 0, UINT16_MAX, &n, err) < 0)
		return -1;
	c->queue_num = (uint16_t)n;
	return 0;
}

static int opt_queue_maxlen(struct config *c, const struct yaml_node *v,
			    struct yaml_error *err)
{
	uint64_t n;

	if (yaml_tree_get_uint(v, 1, UINT32_MAX, &n, err) < 0)
		return -1;
	c->queue_maxlen = (uint32_t)n;
	return 0;
}

static int opt_fail(struct config *c, const struct yaml_node *v,
		    struct yaml_error *err)
{
	return yaml_tree_get_enum(v, config_fail_names, &c->fail_open, err);
}

static int opt_host(struct config *c, const struct yaml_node *v,
		    struct yaml_error *err)
{
	return yaml_tree_get_bool(v, &c->host, err);
}

/* A list of strings, each checked by invalid() (NULL: acceptable). */
static int opt_str_list(char ***list, size_t *n, const struct yaml_node *v,
			const char *(*invalid)(const char *),
			struct yaml_error *err)
{
	config_list_free(list, n);
	if (yaml_tree_is_null(v))
		return 0;
	if (yaml_tree_expect(v, YAML_TREE_SEQUENCE, err) < 0)
		return -1;
	for (size_t i = 0; i < yaml_tree_len(v); i++) {
		const struct yaml_node *item = yaml_tree_seq_item(v, i);
		const char *s = yaml_tree_scalar(item), *why;

		if (yaml_tree_expect(item, YAML_TREE_SCALAR, err) < 0)
			return -1;
		why = invalid(s);
		if (why != NULL) {
			yaml_tree_error_at(err, item, "%s", why);
			return -1;
		}
		if (config_list_add(list, n, s) < 0) {
			yaml_tree_error_at(err, item, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int opt_netns(struct config *c, const struct yaml_node *v,
		     struct yaml_error *err)
{
	return opt_str_list(&c->netns, &c->n_netns, v, config_netns_invalid,
			    err);
}

static int opt_cgroups(struct config *c, const struct yaml_node *v,
		       struct yaml_error *err)
{
	return opt_str_list(&c->cgroups, &c->n_cgroups, v,
			    config_cgroup_invalid, err);
}

static int network_parse(struct config_network *net,
			 const struct yaml_node *v, struct yaml_error *err)
{
	static const char *const keys[] = { "name", "cidr", NULL };
	const struct yaml_node *name, *cidr;
	const char *why;

	if (yaml_tree_check_keys(v, keys, err) < 0)
		return -1;
	name = yaml_tree_map_get(v, "name");
	cidr = yaml_tree_map_get(v, "cidr");
	if (name == NULL || cidr == NULL) {
		yaml_tree_error_at(err, v, "a network needs both 'name' and "
					   "'cidr'");
		return -1;
	}
	if (yaml_tree_get_string(name, net->name, sizeof(net->name), err) < 0)
		return -1;
	if (net->name[0] == '\0' || !name_valid(net->name)) {
		yaml_tree_error_at(err, name,
				   "a network name must be non-empty and "
				   "contain only letters, digits, '.', '_' "
				   "and '-'");
		return -1;
	}
	if (yaml_tree_expect(cidr, YAML_TREE_SCALAR, err) < 0)
		return -1;
	if (pkt_cidr_parse(yaml_tree_scalar(cidr), &net->cidr, &why) < 0) {
		yaml_tree_error_at(err, cidr, "%s", why);
		return -1;
	}
	return 0;
}

static const struct config_network *
network_find(const struct config_network *nets, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nets[i].name, name) == 0)
			return &nets[i];
	return NULL;
}

static int opt_networks(struct config *c, const struct yaml_node *v,
			struct yaml_error *err)
{
	size_t n = yaml_tree_len(v);
	struct config_network *nets = NULL;
	int rc = -1;

	if (yaml_tree_is_null(v))
		n = 0;
	else if (yaml_tree_expect(v, YAML_TREE_SEQUENCE, err) < 0)
		return -1;
	if (n > 0 && (nets = calloc(n, sizeof(*nets))) == NULL) {
		yaml_tree_error_at(err, v, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct yaml_node *item = yaml_tree_seq_item(v, i);

		if (network_parse(&nets[i], item, err) < 0)
			goto out;
		if (network_find(nets, i, nets[i].name) != NULL) {
			yaml_tree_error_at(err, yaml_tree_map_get(item, "name"),
					   "network '%s' is defined twice",
					   nets[i].name);
			goto out;
		}
	}
	free(c->networks);
	c->networks = nets;
	c->n_networks = n;
	nets = NULL;
	rc = 0;
out:
	free(nets);
	return rc;
}

static int opt_flush_interval(struct config *c, const struct yaml_node *v,
			      struct yaml_error *err)
{
	uint64_t ms;

	if (yaml_tree_get_duration_ms(v, &ms, err) < 0)
		return -1;
	if (ms < CONFIG_FLUSH_MS_MIN || ms > CONFIG_FLUSH_MS_MAX) {
		yaml_tree_error_at(err, v,
				   "flush_interval must be from 1ms to 1h, "
				   "got '%s'",
				   yaml_tree_scalar(v));
		return -1;
	}
	c->flush_interval_ms = (uint32_t)ms;
	return 0;
}

/* "" switches the JSON-lines file off; anything else is an absolute path. */
static int opt_alerts_file(struct config *c, const struct yaml_node *v,
			   struct yaml_error *err)
{
	if (yaml_tree_get_string(v, c->alerts_file, sizeof(c->alerts_file),
				 err) < 0)
		return -1;
	if (c->alerts_file[0] && c->alerts_file[0] != '/') {
		yaml_tree_error_at(err, v,
				   "expected an absolute path or \"\"");
		return -1;
	}
	return 0;
}

/* "" (the default): no policy files; else an absolute directory path. */
static int opt_policy_dir(struct config *c, const struct yaml_node *v,
			  struct yaml_error *err)
{
	if (yaml_tree_get_string(v, c->policy_dir, sizeof(c->policy_dir),
				 err) < 0)
		return -1;
	if (c->policy_dir[0] && c->policy_dir[0] != '/') {
		yaml_tree_error_at(err, v,
				   "expected an absolute path or \"\"");
		return -1;
	}
	return 0;
}

static int opt_alert_window(struct config *c, const struct yaml_node *v,
			    struct yaml_error *err)
{
	uint64_t ms;

	if (yaml_tree_get_duration_ms(v, &ms, err) < 0)
		return -1;
	if (ms < 1000 || ms > 86400000) {
		yaml_tree_error_at(err, v,
				   "alert_window must be from 1s to 1d, got '%s'",
				   yaml_tree_scalar(v));
		return -1;
	}
	c->alert_window_ms = (uint32_t)ms;
	return 0;
}

static int opt_tamper_check(struct config *c, const struct yaml_node *v,
			    struct yaml_error *err)
{
	uint64_t ms;

	if (yaml_tree_get_duration_ms(v, &ms, err) < 0)
		return -1;
	if (ms != 0 && (ms < 1000 || ms > 86400000)) {
		yaml_tree_error_at(err, v,
				   "tamper_check must be 0 (off) or from 1s to "
				   "1d, got '%s'",
				   yaml_tree_scalar(v));
		return -1;
	}
	c->tamper_check_ms = (uint32_t)ms;
	return 0;
}

static int opt_learn_then_enforce(struct config *c, const struct yaml_node *v,
				  struct yaml_error *err)
{
	return yaml_tree_get_bool(v, &c->learn_then_enforce, err);
}

static int opt_auto_approve(struct config *c, const struct yaml_node *v,
			    struct yaml_error *err)
{
	return yaml_tree_get_bool(v, &c->auto_approve, err);
}

static int opt_learn_window(struct config *c, const struct yaml_node *v,
			    struct yaml_error *err)
{
	uint64_t ms;

	if (yaml_tree_get_duration_ms(v, &ms, err) < 0)
		return -1;
	if (ms < 1000 || ms > 365ull * 86400000) {
		yaml_tree_error_at(err, v,
				   "learn_window must be from 1s to 365d, got '%s'",
				   yaml_tree_scalar(v));
		return -1;
	}
	c->learn_window_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	return 0;
}

static int opt_queue_rate(struct config *c, const struct yaml_node *v,
			  struct yaml_error *err)
{
	uint64_t n;

	if (yaml_tree_get_uint(v, 0, 10000000, &n, err) < 0)
		return -1;
	c->queue_rate = (uint32_t)n;
	return 0;
}

static int opt_queue_burst(struct config *c, const struct yaml_node *v,
			   struct yaml_error *err)
{
	uint64_t n;

	if (yaml_tree_get_uint(v, 0, 10000000, &n, err) < 0)
		return -1;
	c->queue_burst = (uint32_t)n;
	return 0;
}

static const char *const config_block_names[] = { "drop", "reject", NULL };

static int opt_block(struct config *c, const struct yaml_node *v,
		     struct yaml_error *err)
{
	return yaml_tree_get_enum(v, config_block_names, &c->block_reject, err);
}

static int opt_stop_keeps_enforcement(struct config *c,
				      const struct yaml_node *v,
				      struct yaml_error *err)
{
	return yaml_tree_get_bool(v, &c->stop_keeps_enforcement, err);
}

static int opt_copy_range(struct config *c, const struct yaml_node *v,
			  struct yaml_error *err)
{
	uint64_t n;

	if (yaml_tree_get_uint(v, CONFIG_COPY_RANGE_MIN, CONFIG_COPY_RANGE_MAX,
			       &n, err) < 0)
		return -1;
	c->copy_range = (uint32_t)n;
	return 0;
}

static int opt_log_level(struct config *c, const struct yaml_node *v,
			 struct yaml_error *err)
{
	return yaml_tree_get_enum(v, config_log_names, &c->log_level, err);
}

static int opt_runtime(struct config *c, const struct yaml_node *v,
		       struct yaml_error *err)
{
	static const char *const keys[] = { "podman_storage", "runc_state",
					    "docker_root", "containerd_state",
					    NULL };
	/* all four are arrays of the same size */
	char *const dst[] = { c->podman_storage, c->runc_state, c->docker_root,
			      c->containerd_state };

	_Static_assert(ARRAY_SIZE(keys) == ARRAY_SIZE(dst) + 1,
		       "one destination per runtime key");
	if (yaml_tree_is_null(v))
		return 0;
	if (yaml_tree_check_keys(v, keys, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(dst); i++) {
		const struct yaml_node *p = yaml_tree_map_get(v, keys[i]);

		if (p != NULL && get_path(p, dst[i], sizeof(c->podman_storage), err) < 0)
			return -1;
	}
	return 0;
}

static int opt_capture(struct config *c, const struct yaml_node *v,
		       struct yaml_error *err)
{
	return config_capture_parse(&c->capture, v, err);
}

static const struct {
	const char *key;
	int (*parse)(struct config *c, const struct yaml_node *v,
		     struct yaml_error *err);
} config_opts[] = {
	{ "db", opt_db },
	{ "socket", opt_socket },
	{ "socket_group", opt_socket_group },
	{ "queue", opt_queue },
	{ "queue_maxlen", opt_queue_maxlen },
	{ "fail", opt_fail },
	{ "host", opt_host },
	{ "netns", opt_netns },
	{ "cgroups", opt_cgroups },
	{ "networks", opt_networks },
	{ "flush_interval", opt_flush_interval },
	{ "copy_range", opt_copy_range },
	{ "log_level", opt_log_level },
	{ "learn_then_enforce", opt_learn_then_enforce },
	{ "learn_window", opt_learn_window },
	{ "auto_approve", opt_auto_approve },
	{ "queue_rate", opt_queue_rate },
	{ "queue_burst", opt_queue_burst },
	{ "alerts_file", opt_alerts_file },
	{ "policy_dir", opt_policy_dir },
	{ "alert_window", opt_alert_window },
	{ "stop_keeps_enforcement", opt_stop_keeps_enforcement },
	{ "block", opt_block },
	{ "tamper_check", opt_tamper_check },
	{ "runtime", opt_runtime },
	{ "capture", opt_capture },
};

/* The keys of config_opts[], for yaml_tree_check_keys(). */
static const char *const config_keys[] = {
	"db",	    "socket",	"socket_group",	  "queue",	"queue_maxlen",
	"fail",	    "host",	"netns",	  "cgroups",	"networks",
	"flush_interval", "copy_range", "log_level", "learn_then_enforce",
	"learn_window", "auto_approve", "queue_rate",
	"queue_burst", "alerts_file", "policy_dir",
	"alert_window", "stop_keeps_enforcement", "block", "tamper_check",
	"runtime", "capture", NULL,
};

_Static_assert(ARRAY_SIZE(config_keys) == ARRAY_SIZE(config_opts) + 1,
	       "config_keys must list every key of config_opts");

static int config_apply(struct config *c, const struct yaml_node *root,
			struct yaml_error *err)
{
	if (yaml_tree_check_keys(root, config_keys, err) < 0)
		return -1;
	for (size_t i = 0; i < yaml_tree_len(root); i++) {
		const char *key = yaml_tree_scalar(yaml_tree_map_key(root, i));
		const struct yaml_node *v = yaml_tree_map_value(root, i);

		for (size_t j = 0; j < ARRAY_SIZE(config_opts); j++)
			if (strcmp(key, config_opts[j].key) == 0 &&
			    config_opts[j].parse(c, v, err) < 0)
				return -1;
	}
	return 0;
}

/* Takes ownership of doc (NULL: loading failed and err says why). */
static int config_load_doc(struct config *c, struct yaml_doc *doc,
			   struct yaml_error *err, char *errbuf, size_t errlen)
{
	struct config next;
	int rc = -1, saved = errno;

	if (doc == NULL)
		goto out;
	if (config_copy(&next, c) < 0) {
		yaml_tree_error_at(err, yaml_tree_root(doc), "out of memory");
		goto out;
	}
	if (config_apply(&next, yaml_tree_root(doc), err) < 0) {
		config_free(&next);
		goto out;
	}
	config_free(c);
	*c = next;
	rc = 0;
out:
	if (rc < 0)
		yaml_tree_strerror(err, errbuf, errlen);
	yaml_tree_free(doc);
	errno = saved;
	return rc;
}

int config_load_file(struct config *c, const char *path, char *err,
		     size_t errlen)
{
	struct yaml_error yerr;
	struct yaml_doc *doc;

	errno = 0;
	doc = yaml_tree_load_file(path, 0, &yerr);
	return config_load_doc(c, doc, &yerr, err, errlen);
}

int config_load_buf(struct config *c, const char *name, const char *buf,
		    size_t len, char *err, size_t errlen)
{
	struct yaml_error yerr;
	struct yaml_doc *doc;

	errno = 0;
	doc = yaml_tree_load_buf(name, buf, len, 0, &yerr);
	return config_load_doc(c, doc, &yerr, err, errlen);
}

/*
 * Strings are always written double-quoted: a netns pattern such as "*"
 * or a path starting with '&' would otherwise change meaning. Only bytes
 * below 0x20 and DEL are escaped; "\xNN" in YAML is a code point, which
 * equals the byte only below 0x80, so UTF-8 is written as is.
 */
void config_write_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void write_key_str(FILE *out, const char *indent, const char *key,
			  const char *val)
{
	fprintf(out, "%s%s: ", indent, key);
	config_write_str(out, val);
	fputc('\n', out);
}

/* The largest unit that states ms exactly: "1s" rather than "1000ms". */
static void write_duration(FILE *out, uint32_t ms)
{
	static const struct {
		const char *suffix;
		uint32_t ms;
	} units[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		      { "s", 1000 } };

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			fprintf(out, "%u%s", ms / units[i].ms, units[i].suffix);
			return;
		}
	}
	fprintf(out, "%ums", ms);
}

static void write_lists(const struct config *c, FILE *out)
{
	char cidr[PKT_CIDR_STRLEN];

	fprintf(out, "netns:%s\n", c->n_netns == 0 ? " []" : "");
	for (size_t i = 0; i < c->n_netns; i++) {
		fputs("  - ", out);
		config_write_str(out, c->netns[i]);
		fputc('\n', out);
	}
	fprintf(out, "cgroups:%s\n", c->n_cgroups == 0 ? " []" : "");
	for (size_t i = 0; i < c->n_cgroups; i++) {
		fputs("  - ", out);
		config_write_str(out, c->cgroups[i]);
		fputc('\n', out);
	}
	fprintf(out, "networks:%s\n", c->n_networks == 0 ? " []" : "");
	for (size_t i = 0; i < c->n_networks; i++) {
		if (pkt_cidr_to_str(&c->networks[i].cidr, cidr, sizeof(cidr)) < 0)
			snprintf(cidr, sizeof(cidr), "?");
		write_key_str(out, "  - ", "name", c->networks[i].name);
		write_key_str(out, "    ", "cidr", cidr);
	}
}

int config_write_yaml(const struct config *c, FILE *out)
{
	int level = c->log_level;

	if (level < LOG_LVL_WARN || level > LOG_LVL_DEBUG)
		level = LOG_LVL_INFO;
	write_key_str(out, "", "db", c->db_path);
	write_key_str(out, "", "socket", c->socket_path);
	write_key_str(out, "", "socket_group", c->socket_group);
	fprintf(out, "queue: %u\n", c->queue_num);
	fprintf(out, "queue_maxlen: %u\n", c->queue_maxlen);
	fprintf(out, "fail: %s\n", c->fail_open ? "open" : "closed");
	fprintf(out, "host: %s\n", c->host ? "true" : "false");
	write_lists(c, out);
	fputs("flush_interval: ", out);
	write_duration(out, c->flush_interval_ms);
	fprintf(out, "\ncopy_range: %u\n", c->copy_range);
	fprintf(out, "log_level: %s\n", config_log_names[level]);
	fprintf(out, "learn_then_enforce: %s\n",
		c->learn_then_enforce ? "true" : "false");
	fputs("learn_window: ", out);
	write_duration(out, c->learn_window_ms);
	fprintf(out, "\nauto_approve: %s\n", c->auto_approve ? "true" : "false");
	fprintf(out, "queue_rate: %u\n", c->queue_rate);
	fprintf(out, "queue_burst: %u\n", c->queue_burst);
	write_key_str(out, "", "alerts_file", c->alerts_file);
	write_key_str(out, "", "policy_dir", c->policy_dir);
	fputs("alert_window: ", out);
	write_duration(out, c->alert_window_ms);
	fprintf(out, "\nstop_keeps_enforcement: %s\n",
		c->stop_keeps_enforcement ? "true" : "false");
	fprintf(out, "block: %s\n", config_block_names[c->block_reject ? 1 : 0]);
	fputs("tamper_check: ", out);
	write_duration(out, c->tamper_check_ms);
	fputc('\n', out);
	fputs("runtime:\n", out);
	write_key_str(out, "  ", "podman_storage", c->podman_storage);
	write_key_str(out, "  ", "runc_state", c->runc_state);
	write_key_str(out, "  ", "docker_root", c->docker_root);
	write_key_str(out, "  ", "containerd_state", c->containerd_state);
	config_capture_write(&c->capture, out);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}
