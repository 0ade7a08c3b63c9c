/*
 * nsegd: learns how container processes talk to each other.
 * Runs in the foreground (systemd style); see nsegd --help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nseg/config.h"
#include "nseg/daemon.h"
#include "nseg/daemon_run.h"
#include "nseg/log.h"
#include "nseg/policy_dir.h"

#define NSEGD_DEFAULT_CONFIG "/etc/nseg/nsegd.yaml"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nsegd [options]\n"
		"\n"
		"Learns, per process, how the workloads on this host talk to each\n"
		"other and records it as baseline edges in SQLite (learn mode).\n"
		"Runs in the foreground; stop it with SIGTERM or SIGINT.\n"
		"\n"
		"options:\n"
		"  -c, --config FILE   configuration file (default %s;\n"
		"                      a missing default file means built-in defaults)\n"
		"      --db PATH       SQLite database (default /var/lib/nseg/nseg.db)\n"
		"      --socket PATH   control socket (default /run/nseg/nsegd.sock)\n"
		"      --netns NAME    watch only this named netns (/run/netns/NAME);\n"
		"                      repeatable, shell patterns allowed ('nseg-t-*').\n"
		"                      Without it every named netns and every\n"
		"                      container/process netns is watched.\n"
		"      --cgroup PATH   watch the namespaces of processes under this\n"
		"                      cgroup path only (repeatable; e.g. /kubepods,\n"
		"                      /machine.slice). With --netns and no --cgroup,\n"
		"                      process namespaces are not watched at all.\n"
		"      --host          also watch the host's own network namespace\n"
		"      --learn-then-enforce  after each workload's learning window\n"
		"                      (learn_window, default 24h), move it to notify,\n"
		"                      or approve and enforce it with auto_approve: true\n"
		"      --queue N       NFQUEUE number used in each netns (default 4200)\n"
		"      --fail open|closed  what the kernel does with new connections\n"
		"                      when nsegd cannot read them (default open)\n"
		"  -n, --check         check the configuration and the policy files of\n"
		"                      policy_dir, print the configuration normalised\n"
		"                      as YAML and exit (0 valid, 1 invalid)\n"
		"  -v, --verbose       debug logging\n"
		"  -s, --syslog        log to syslog instead of stderr\n"
		"  -h, --help          this help\n"
		"  -V, --version       print the version\n"
		"\n"
		"Command-line options override the configuration file.\n"
		"Exit status: 0 after a clean stop, 1 on a start-up error,\n"
		"2 on a usage error.\n",
		NSEGD_DEFAULT_CONFIG);
}

enum { OPT_DB = 256, OPT_SOCKET, OPT_NETNS, OPT_CGROUP, OPT_HOST, OPT_QUEUE,
       OPT_FAIL, OPT_LTE };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "db", required_argument, NULL, OPT_DB },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "host", no_argument, NULL, OPT_HOST },
	{ "learn-then-enforce", no_argument, NULL, OPT_LTE },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "fail", required_argument, NULL, OPT_FAIL },
	{ "check", no_argument, NULL, 'n' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "syslog", no_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct cli_overrides {
	const char *config;
	const char *db, *socket;
	char **netns, **cgroups;
	size_t n_netns, n_cgroups;
	int host, queue, fail_open, verbose, check, to_syslog, lte;
};

static void usage_error(const char *fmt, const char *val)
{
	fprintf(stderr, "nsegd: ");
	fprintf(stderr, fmt, val);
	fprintf(stderr, "\nTry 'nsegd --help'.\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct cli_overrides *o)
{
	int ch;
	char *end;
	long v;

	o->queue = -1;
	o->fail_open = -1;
	o->netns = calloc((size_t)argc, sizeof(char *));
	o->cgroups = calloc((size_t)argc, sizeof(char *));
	if (!o->netns || !o->cgroups)
		exit(1);
	while ((ch = getopt_long(argc, argv, "c:nvshV", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case OPT_DB: o->db = optarg; break;
		case OPT_SOCKET: o->socket = optarg; break;
		case OPT_NETNS: o->netns[o->n_netns++] = optarg; break;
		case OPT_CGROUP: o->cgroups[o->n_cgroups++] = optarg; break;
		case OPT_HOST: o->host = 1; break;
		case OPT_LTE: o->lte = 1; break;
		case OPT_QUEUE:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 65535)
				usage_error("--queue: expected 0..65535, got '%s'",
					    optarg);
			o->queue = (int)v;
			break;
		case OPT_FAIL:
			if (strcmp(optarg, "open") == 0)
				o->fail_open = 1;
			else if (strcmp(optarg, "closed") == 0)
				o->fail_open = 0;
			else
				usage_error("--fail: expected 'open' or 'closed', "
					    "got '%s'", optarg);
			break;
		case 'n': o->check = 1; break;
		case 'v': o->verbose = 1; break;
		case 's': o->to_syslog = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("nsegd 0.1.0\n"); exit(0);
		default: fprintf(stderr, "Try 'nsegd --help'.\n"); exit(2);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

static int apply_overrides(struct config *c, const void *arg)
{
	const struct cli_overrides *o = arg;

	if (o->db)
		snprintf(c->db_path, sizeof(c->db_path), "%s", o->db);
	if (o->socket) {
		if (strlen(o->socket) >= sizeof(c->socket_path)) {
			fprintf(stderr, "nsegd: --socket: path too long: '%s'\n",
				o->socket);
			return -1;
		}
		snprintf(c->socket_path, sizeof(c->socket_path), "%s",
			 o->socket);
	}
	for (size_t i = 0; i < o->n_netns; i++) {
		if (config_add_netns(c, o->netns[i]) == -1) {
			fprintf(stderr, "nsegd: --netns: invalid name '%s': %s\n",
				o->netns[i], config_netns_invalid(o->netns[i]));
			return -1;
		}
	}
	for (size_t i = 0; i < o->n_cgroups; i++) {
		if (config_add_cgroup(c, o->cgroups[i]) == -1) {
			fprintf(stderr, "nsegd: --cgroup: invalid path '%s': %s\n",
				o->cgroups[i], config_cgroup_invalid(o->cgroups[i]));
			return -1;
		}
	}
	if (o->host)
		c->host = 1;
	if (o->lte)
		c->learn_then_enforce = 1;
	if (o->queue >= 0)
		c->queue_num = (uint16_t)o->queue;
	if (o->fail_open >= 0)
		c->fail_open = o->fail_open;
	if (o->verbose)
		c->log_level = LOG_LVL_DEBUG;
	return 0;
}

int main(int argc, char **argv)
{
	static struct daemon d;
	struct cli_overrides o = { 0 };
	const char *path;
	char err[1024];
	int rc;

	parse_args(argc, argv, &o);
	config_init_defaults(&d.cfg);
	path = o.config ? o.config : NSEGD_DEFAULT_CONFIG;
	if (config_load_file(&d.cfg, path, err, sizeof(err)) == -1 &&
	    (o.config || errno != ENOENT)) {
		fprintf(stderr, "nsegd: %s\n", err);
		return 1;
	}
	if (apply_overrides(&d.cfg, &o) == -1)
		return 2;
	snprintf(d.config_path, sizeof(d.config_path), "%s", path);
	d.config_required = o.config != NULL;
	d.apply_overrides = apply_overrides;
	d.overrides = &o;
	if (o.check) {
		rc = policy_dir_check(&d.cfg, stderr, err, sizeof(err));
		if (rc == -1)
			fprintf(stderr, "nsegd: %s\n", err);
		else
			config_write_yaml(&d.cfg, stdout);
		config_free(&d.cfg);
		free(o.netns);
		free(o.cgroups);
		return rc == -1 ? 1 : 0;
	}
	log_init("nsegd", o.to_syslog, d.cfg.log_level);
	if (geteuid() != 0)
		log_warnx("not running as root: namespaces, nftables and "
			  "NFQUEUE will likely be refused");
	rc = daemon_init(&d, err, sizeof(err));
	if (rc == -1)
		log_warnx("cannot start: %s", err);
	else
		rc = daemon_run(&d);
	daemon_shutdown(&d);
	free(o.netns);
	free(o.cgroups);
	return rc == -1 ? 1 : 0;
}
