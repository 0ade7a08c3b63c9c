/*
 * nsegctl capture: the pcap files of alerts, and captures an operator
 * starts on a workload's namespaces. IDs: a number is an alert's id
 * (`capture show 12`: that alert's pcap); "cN" is capture N.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"

enum { CP_ID, CP_KIND, CP_WORKLOAD, CP_STATE, CP_PACKETS, CP_BYTES, CP_PATH,
       CP_NCOLS };

static const char *const cmd_capture_headers[CP_NCOLS] = {
	"ID", "KIND", "WORKLOAD", "STATE", "PACKETS", "BYTES", "PATH"
};

/* "cN" (a capture) or "N" (an alert): sets *id, *alert. */
static int cmd_capture_id(const char *s, long long *id, int *alert)
{
	char *end;

	*alert = s[0] != 'c';
	if (!*alert)
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*id = strtoll(s, &end, 10);
	return errno || *end || *id <= 0 ? -1 : 0;
}

static int cmd_capture_row(struct table *t, const json_t *rec)
{
	static const char *const fields[CP_NCOLS] = {
		NULL, "kind", "workload", "state", "packets", "bytes", "path"
	};
	char buf[CP_NCOLS][600];
	const char *cells[CP_NCOLS];

	snprintf(buf[CP_ID], sizeof(buf[CP_ID]), "c%lld",
		 (long long)json_integer_value(table_get(rec, "id")));
	cells[CP_ID] = buf[CP_ID];
	for (int c = 1; c < CP_NCOLS; c++)
		cells[c] = table_fmt(table_get(rec, fields[c]), buf[c],
				     sizeof(buf[c]));
	return table_add_row(t, cells);
}

static int cmd_capture_print(const struct cli_opts *o, json_t *recs,
			     int one)
{
	struct table *t;
	json_t *rec;
	size_t i;
	int rc = CLI_EXIT_OK;

	if (o->json)
		return cli_client_print_json(one ? json_array_get(recs, 0)
						 : recs);
	t = table_new(CP_NCOLS, cmd_capture_headers);
	if (!t)
		return CLI_EXIT_ERROR;
	json_array_foreach(recs, i, rec)
	{
		if (cmd_capture_row(t, rec) == -1) {
			rc = CLI_EXIT_ERROR;
			break;
		}
	}
	table_print(t, stdout);
	table_free(t);
	return rc;
}

/* Options of capture start; each takes a value. */
static int cmd_capture_start_args(int argc, char **argv, json_t *args)
{
	static const char *const opts[] = { "--container", "--duration",
					    "--packets", "--filter" };
	static const char *const keys[] = { "container", "duration",
					    "packets", "filter" };
	const char *wl = NULL;

	for (int i = 0; i < argc; i++) {
		const char *v = NULL;
		int r = 0;
		size_t k;

		for (k = 0; k < 4 && r == 0; k++)
			r = cli_args_opt(argc, argv, &i, opts[k], &v);
		if (r == -1)
			return cli_usage_error("capture",
					       "option '%s' needs a value",
					       opts[k - 1]);
		if (r == 1) {
			json_object_set_new(args, keys[k - 1], json_string(v));
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("capture", "unknown option '%s'",
					       argv[i]);
		if (wl)
			return cli_usage_error(
				"capture", "unexpected argument '%s'", argv[i]);
		wl = argv[i];
	}
	if (!wl)
		return cli_usage_error("capture", "start needs a WORKLOAD");
	json_object_set_new(args, "workload", json_string(wl));
	return 0;
}

/* --duration 60 / 60s / 5m and --packets N: checked here, sent as numbers. */
static int cmd_capture_numbers(json_t *args)
{
	json_t *d = json_object_get(args, "duration");
	json_t *p = json_object_get(args, "packets");
	char *end;

	if (d) {
		const char *s = json_string_value(d);
		long long v = strtoll(s, &end, 10);
		long long mult = !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : 1;

		if (v <= 0 || end == s ||
		    (*end && strcmp(end, "s") && mult == 1) || v > 86400 / mult)
			return cli_usage_error("capture",
					       "bad --duration '%s' (seconds, "
					       "or 30s, 5m, 1h; at most 1 day)",
					       s);
		json_object_set_new(args, "duration_s", json_integer(v * mult));
		json_object_del(args, "duration");
	}
	if (p) {
		const char *s = json_string_value(p);
		long long v = strtoll(s, &end, 10);

		if (v <= 0 || *end || end == s || v > 10000000)
			return cli_usage_error("capture",
					       "bad --packets '%s' (1 to "
					       "10000000)",
					       s);
		json_object_set_new(args, "packets", json_integer(v));
	}
	return 0;
}

static int cmd_capture_start(const struct cli_opts *o, int argc, char **argv)
{
	json_t *args = json_object(), *recs = NULL;
	int rc = CLI_EXIT_USAGE;

	if (!args || cmd_capture_start_args(argc, argv, args) ||
	    cmd_capture_numbers(args))
		goto out;
	rc = cli_client_fetch(o, NSEG_CTL_CAPTURE_START, args, &recs);
	if (rc == CLI_EXIT_OK)
		rc = cmd_capture_print(o, recs, 1);
out:
	json_decref(args);
	json_decref(recs);
	return rc;
}

/* stop cN / show N|cN */
/* The path alone, for tcpdump -r "$(nsegctl capture show N)"; a capture
 * without a file says why on stderr instead, and fails. */
static int cmd_capture_print_path(const char *id, const json_t *rec)
{
	const char *path = json_string_value(table_get(rec, "path"));
	const char *state = json_string_value(table_get(rec, "state"));
	const char *note = json_string_value(table_get(rec, "note"));

	if (state && !strcmp(state, "evicted")) {
		fprintf(stderr, "nsegctl: capture %s: %s was deleted to stay "
				"under capture.quota\n",
			id, path ? path : "its file");
		return CLI_EXIT_ERROR;
	}
	if (!path || !path[0] || !strcmp(path, "-")) {
		fprintf(stderr, "nsegctl: capture %s has no file (%s)\n", id,
			note && note[0] ? note : state ? state : "no state");
		return CLI_EXIT_ERROR;
	}
	printf("%s\n", path);
	return CLI_EXIT_OK;
}

static int cmd_capture_one(const struct cli_opts *o, int argc, char **argv,
			   const char *what)
{
	int stop = !strcmp(what, "stop");
	json_t *args, *recs = NULL;
	long long id;
	int alert, rc;

	if (argc != 1)
		return cli_usage_error("capture", "%s takes one ID", what);
	if (cmd_capture_id(argv[0], &id, &alert) == -1 || (stop && alert))
		return cli_usage_error("capture",
				       "bad ID '%s' (%s)", argv[0],
				       stop ? "cN: a capture from 'capture "
					      "list'"
					    : "N: an alert's id, or cN: a "
					      "capture");
	args = json_pack("{s:I}", alert ? "alert" : "id", (json_int_t)id);
	rc = cli_client_fetch(o, stop ? NSEG_CTL_CAPTURE_STOP
				      : NSEG_CTL_CAPTURE_SHOW,
			      args, &recs);
	if (rc == CLI_EXIT_OK && !o->json && !stop)
		rc = cmd_capture_print_path(argv[0], json_array_get(recs, 0));
	else if (rc == CLI_EXIT_OK)
		rc = cmd_capture_print(o, recs, 1);
	json_decref(args);
	json_decref(recs);
	return rc;
}

static int cmd_capture_list(const struct cli_opts *o, int argc, char **argv)
{
	const char *wl = NULL;
	json_t *args = json_object(), *recs = NULL;
	int rc = CLI_EXIT_USAGE;

	for (int i = 0; i < argc; i++) {
		int r = cli_args_opt(argc, argv, &i, "--workload", &wl);

		if (r == 1)
			continue;
		cli_usage_error("capture", r == -1 ? "option '--workload' needs "
						     "a value"
						   : "unexpected argument '%s'",
				argv[i]);
		goto out;
	}
	if (wl)
		json_object_set_new(args, "workload", json_string(wl));
	rc = cli_client_fetch(o, NSEG_CTL_CAPTURE_LIST, args, &recs);
	if (rc == CLI_EXIT_OK)
		rc = cmd_capture_print(o, recs, 0);
out:
	json_decref(args);
	json_decref(recs);
	return rc;
}

static int cmd_capture_run(const struct cli_opts *o, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error("capture", "'capture' needs start, stop, "
						  "list or show");
	if (!strcmp(argv[0], "start"))
		return cmd_capture_start(o, argc - 1, argv + 1);
	if (!strcmp(argv[0], "list"))
		return cmd_capture_list(o, argc - 1, argv + 1);
	if (!strcmp(argv[0], "stop") || !strcmp(argv[0], "show"))
		return cmd_capture_one(o, argc - 1, argv + 1, argv[0]);
	return cli_usage_error("capture",
			       "unknown subcommand '%s' (start, stop, list or "
			       "show)",
			       argv[0]);
}

const struct cli_cmd cmd_capture_def = {
    .name = "capture",
    .synopsis = "start WORKLOAD [--container ID] [--duration S] [--packets N] "
		"[--filter BPF] | stop cID | list [--workload W] | show ID",
    .summary = "pcaps of alerts, and captures of a workload on demand",
    .help =
	"  start WORKLOAD   capture the workload's traffic inside its network\n"
	"                   namespaces (all its containers, or --container ID)\n"
	"                   into one pcap file; prints the capture\n"
	"    --duration S   stop after S seconds (30s, 5m, 1h; default 60s)\n"
	"    --packets N    stop after N packets (default 10000)\n"
	"    --filter BPF   a tcpdump filter ('tcp port 443'); a bad one is\n"
	"                   refused with libpcap's message, nothing started\n"
	"  stop cID         stop capture cID now\n"
	"  list             every capture: alerts' and on-demand, with\n"
	"                   state (running, done, truncated, failed,\n"
	"                   evicted, interrupted) and file\n"
	"  show ID          the pcap file of alert ID (from 'nsegctl\n"
	"                   alerts'), or of capture cID; exit 1 and why\n"
	"                   when it has none (evicted, failed to open)\n"
	"\n"
	"Files are pcap (tcpdump -r FILE, Wireshark), mode 0600, under the\n"
	"directory set by nsegd's capture: dir. With --json, the capture\n"
	"objects.\n",
    .own_opts = (const char *const[]){ "--container", "--duration",
				       "--packets", "--filter", "--workload",
				       NULL },
    .run = cmd_capture_run,
};
