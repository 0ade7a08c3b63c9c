#include <stdio.h>
#include <string.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"

enum {
	B_ID,
	B_DIR,
	B_PROC,
	B_PEER,
	B_PEER_PROC,
	B_PROTO,
	B_PORT,
	B_STATE,
	B_COUNT,
	B_LAST,
	B_NCOLS
};

static const char *const cmd_baseline_headers[B_NCOLS] = {
    "ID",    "DIR",  "PROCESS", "PEER",	 "PEER-PROCESS",
    "PROTO", "PORT", "STATE",	"COUNT", "LAST-SEEN",
};

/* "comm(exe)", or whichever of the two is there, or "-". */
static const char *cmd_baseline_proc(const json_t *proc, char *buf, size_t len)
{
	char comm[64], exe[1024];

	table_fmt(table_get(proc, "comm"), comm, sizeof(comm));
	table_fmt(table_get(proc, "exe"), exe, sizeof(exe));
	if (strcmp(comm, "-") && strcmp(exe, "-"))
		snprintf(buf, len, "%s(%s)", comm, exe);
	else
		snprintf(buf, len, "%s", strcmp(exe, "-") ? exe : comm);
	return buf;
}

static int cmd_baseline_row(struct table *t, const json_t *rec)
{
	static const char *const plain[B_NCOLS] = {
	    [B_ID] = "id",
	    [B_DIR] = "direction",
	    [B_PEER] = "peer.identity",
	    [B_PROTO] = "protocol",
	    [B_PORT] = "port",
	    [B_STATE] = "state",
	    [B_COUNT] = "count",
	    [B_LAST] = "last_seen",
	};
	char buf[B_NCOLS][1100];
	const char *cells[B_NCOLS];

	for (int c = 0; c < B_NCOLS; c++)
		if (plain[c])
			cells[c] = table_fmt(table_get(rec, plain[c]), buf[c],
					     sizeof(buf[c]));
	cells[B_PROC] = cmd_baseline_proc(table_get(rec, "process"),
					  buf[B_PROC], sizeof(buf[B_PROC]));
	cells[B_PEER_PROC] =
	    cmd_baseline_proc(table_get(rec, "peer.process"), buf[B_PEER_PROC],
			      sizeof(buf[B_PEER_PROC]));
	return table_add_row(t, cells);
}

static int cmd_baseline_print(const struct cli_opts *o, const json_t *recs)
{
	struct table *t;
	json_t *rec;
	size_t i;
	int rc = CLI_EXIT_OK;

	if (o->json)
		return cli_client_print_json(recs);
	t = table_new(B_NCOLS, cmd_baseline_headers);
	if (!t)
		goto oom;
	json_array_foreach(recs, i,
			   rec) if (cmd_baseline_row(t, rec) == -1) goto oom;
	table_print(t, stdout);
	goto out;
oom:
	fprintf(stderr, "nsegctl: out of memory\n");
	rc = CLI_EXIT_ERROR;
out:
	table_free(t);
	return rc;
}

/* Takes the value of --NAME VALUE or --NAME=VALUE at argv[*i]. Returns
 * 1 and sets *val when argv[*i] is that option, 0 when it is not, -1
 * when its value is missing. */
static int cmd_baseline_opt(int argc, char **argv, int *i, const char *name,
			    const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return **val ? 1 : -1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc || !*argv[*i + 1])
		return -1;
	*val = argv[++*i];
	return 1;
}

static int cmd_baseline_show(const struct cli_opts *o, int argc, char **argv)
{
	const char *workload = NULL, *version = NULL;
	json_t *args = NULL, *recs = NULL;
	int rc;

	for (int i = 0; i < argc; i++) {
		int r = cmd_baseline_opt(argc, argv, &i, "--version", &version);

		if (r == -1)
			return cli_usage_error("baseline",
					       "option '--version' needs a "
					       "non-empty value");
		if (r == 1)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("baseline",
					       "unknown option '%s' for "
					       "'baseline show'",
					       argv[i]);
		if (workload)
			return cli_usage_error(
			    "baseline", "unexpected argument '%s'", argv[i]);
		workload = argv[i];
	}
	if (!workload || !*workload)
		return cli_usage_error("baseline",
				       "'baseline show' needs a WORKLOAD");
	args = json_pack("{s:s}", "workload", workload);
	if (args && version)
		json_object_set_new(args, "version", json_string(version));
	if (!args) {
		fprintf(stderr, "nsegctl: workload or version is not valid "
				"UTF-8\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_client_fetch(o, NSEG_CTL_BASELINE_SHOW, args, &recs);
	if (rc == CLI_EXIT_OK)
		rc = cmd_baseline_print(o, recs);
	json_decref(args);
	json_decref(recs);
	return rc;
}

static int cmd_baseline_run(const struct cli_opts *o, int argc, char **argv)
{
	if (argc == 0)
		return cli_usage_error("baseline", "missing subcommand (show)");
	if (!strcmp(argv[0], "show"))
		return cmd_baseline_show(o, argc - 1, argv + 1);
	return cli_usage_error("baseline", "unknown subcommand '%s'", argv[0]);
}

static const char *const cmd_baseline_opts[] = {"--version", NULL};

const struct cli_cmd cmd_baseline_def = {
    .name = "baseline",
    .synopsis = "show WORKLOAD [--version V]",
    .summary = "show a workload's learned and approved edges",
    .help = "  show WORKLOAD [--version V]\n"
	    "      The edges of WORKLOAD's baseline, of version V only when\n"
	    "      given. After the command word, --version is this option,\n"
	    "      not nsegctl's own --version.\n"
	    "\n"
	    "Columns: ID, DIR (egress or ingress), PROCESS (comm(exe) of the\n"
	    "workload's process), PEER (a workload, host, or external:NET),\n"
	    "PEER-PROCESS (the peer's process when it is a local workload\n"
	    "whose socket was found), PROTO, PORT (server port; ICMP type\n"
	    "for ICMP), STATE (learned, approved, rejected), COUNT (new\n"
	    "connections seen), LAST-SEEN (UTC).\n"
	    "With --json, prints the edge records as a JSON array.\n",
    .own_opts = cmd_baseline_opts,
    .run = cmd_baseline_run,
};
