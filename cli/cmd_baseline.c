#include <stdint.h>
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
	cells[B_PROC] = table_fmt_process(table_get(rec, "process"),
					  buf[B_PROC], sizeof(buf[B_PROC]));
	/* A policy's rule may span ports: "7000-7010". */
	if (json_is_integer(table_get(rec, "port_hi")) &&
	    json_is_integer(table_get(rec, "port")))
		snprintf(buf[B_PORT], sizeof(buf[B_PORT]), "%lld-%lld",
			 (long long)json_integer_value(table_get(rec, "port")),
			 (long long)json_integer_value(
				 table_get(rec, "port_hi")));
	cells[B_PEER_PROC] =
	    table_fmt_process(table_get(rec, "peer.process"), buf[B_PEER_PROC],
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

static int cmd_baseline_show(const struct cli_opts *o, int argc, char **argv)
{
	const char *workload = NULL, *version = NULL;
	json_t *args = NULL, *recs = NULL;
	int rc;

	for (int i = 0; i < argc; i++) {
		int r = cli_args_opt(argc, argv, &i, "--version", &version);

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

/* approve and reject: what the command line asked for. */
struct cmd_baseline_change {
	const char *sub; /* "approve" or "reject" */
	const char *workload;
	int all;
	int deviations; /* --all takes deviations seen only outside learning */
	int any_process;
	json_t *edges; /* array of ids, or NULL when none given */
};

/* One id of an --edge list: digits only, 1 .. 2^63-1. */
static int cmd_baseline_id(const char *s, size_t n, int64_t *id)
{
	int64_t v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return v > 0 ? 0 : -1;
}

/* Appends the ids of one --edge value ("7" or "3,4,7"). Returns 0, or
 * a usage error quoting the bad id. */
static int cmd_baseline_edges(struct cmd_baseline_change *ch, const char *val)
{
	const char *p = val;

	if (!ch->edges)
		ch->edges = json_array();
	for (;;) {
		size_t n = strcspn(p, ",");
		int64_t id;

		if (cmd_baseline_id(p, n, &id) == -1)
			return cli_usage_error(
			    "baseline",
			    "bad edge id '%.*s' in '--edge %s' (edge ids "
			    "are positive integers, see 'baseline show')",
			    (int)n, p, val);
		if (!ch->edges ||
		    json_array_append_new(ch->edges, json_integer(id)) == -1) {
			fprintf(stderr, "nsegctl: out of memory\n");
			return CLI_EXIT_ERROR;
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

/* One argument at argv[*i]. Returns 0 or an exit code. */
static int cmd_baseline_change_arg(struct cmd_baseline_change *ch, int argc,
				   char **argv, int *i)
{
	int approve = !strcmp(ch->sub, "approve");
	const char *val;
	int r = cli_args_opt(argc, argv, i, "--edge", &val);

	if (r == -1)
		return cli_usage_error("baseline",
				       "option '--edge' needs edge ids "
				       "(--edge 3 or --edge 3,4,7)");
	if (r == 1)
		return cmd_baseline_edges(ch, val);
	if (approve && !strcmp(argv[*i], "--all"))
		ch->all = 1;
	else if (approve && !strcmp(argv[*i], "--any-process"))
		ch->any_process = 1;
	else if (approve && !strcmp(argv[*i], "--include-deviations"))
		ch->deviations = 1;
	else if (argv[*i][0] == '-' && argv[*i][1])
		return cli_usage_error("baseline",
				       "unknown option '%s' for 'baseline %s'",
				       argv[*i], ch->sub);
	else if (ch->workload)
		return cli_usage_error("baseline", "unexpected argument '%s'",
				       argv[*i]);
	else
		ch->workload = argv[*i];
	return 0;
}

static int cmd_baseline_change_args(struct cmd_baseline_change *ch, int argc,
				    char **argv)
{
	for (int i = 0; i < argc; i++) {
		int rc = cmd_baseline_change_arg(ch, argc, argv, &i);

		if (rc)
			return rc;
	}
	if (!ch->workload || !*ch->workload)
		return cli_usage_error("baseline",
				       "'baseline %s' needs a "
				       "WORKLOAD",
				       ch->sub);
	if (ch->all && ch->edges)
		return cli_usage_error("baseline", "'--all' and '--edge' "
						   "cannot be used together");
	if (ch->deviations && !ch->all)
		return cli_usage_error("baseline", "'--include-deviations' "
						   "goes with '--all'");
	if (!ch->all && !ch->edges)
		return cli_usage_error(
		    "baseline", "'baseline %s' needs %s", ch->sub,
		    strcmp(ch->sub, "approve") ? "--edge ID"
					       : "--all or --edge ID");
	return 0;
}

static json_t *cmd_baseline_change_req(const struct cmd_baseline_change *ch)
{
	json_t *args = json_pack("{s:s}", "workload", ch->workload);

	if (!args)
		return NULL;
	if (ch->all && json_object_set_new(args, "all", json_true()) == -1)
		goto fail;
	if (ch->deviations &&
	    json_object_set_new(args, "deviations", json_true()) == -1)
		goto fail;
	if (ch->edges && json_object_set(args, "edges", ch->edges) == -1)
		goto fail;
	if (ch->any_process &&
	    json_object_set_new(args, "any_process", json_true()) == -1)
		goto fail;
	return args;
fail:
	json_decref(args);
	return NULL;
}

/* "approved 3 edges of web (baseline revision 7)" */
static void cmd_baseline_change_print(const char *sub, const json_t *rec)
{
	const json_t *changed = table_get(rec, "changed");
	char n[64], wl[512], rev[64];

	table_fmt(changed, n, sizeof(n));
	table_fmt(table_get(rec, "workload"), wl, sizeof(wl));
	table_fmt(table_get(rec, "revision"), rev, sizeof(rev));
	printf("%s %s edge%s of %s (baseline revision %s)\n",
	       strcmp(sub, "approve") ? "rejected" : "approved", n,
	       json_integer_value(changed) == 1 ? "" : "s", wl, rev);
	if (json_integer_value(table_get(rec, "deviations_left")) > 0)
		printf("left %lld edge%s seen only as deviations (in notify or "
		       "enforce mode, blocked attempts among them): see "
		       "'nsegctl baseline show %s'; --include-deviations "
		       "approves them too\n",
		       (long long)json_integer_value(
			       table_get(rec, "deviations_left")),
		       json_integer_value(table_get(rec, "deviations_left")) ==
				       1
			       ? ""
			       : "s",
		       wl);
}

static int cmd_baseline_change(const struct cli_opts *o, const char *sub,
			       int argc, char **argv)
{
	struct cmd_baseline_change ch = {.sub = sub};
	json_t *args = NULL, *rec = NULL;
	int rc = cmd_baseline_change_args(&ch, argc, argv);

	if (rc)
		goto out;
	args = cmd_baseline_change_req(&ch);
	if (!args) {
		fprintf(stderr, "nsegctl: workload is not valid UTF-8\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	rc = cli_client_fetch_one(o,
				  strcmp(sub, "approve")
				      ? NSEG_CTL_BASELINE_REJECT
				      : NSEG_CTL_BASELINE_APPROVE,
				  args, &rec);
	if (rc == CLI_EXIT_OK && o->json)
		rc = cli_client_print_json(rec);
	else if (rc == CLI_EXIT_OK)
		cmd_baseline_change_print(sub, rec);
out:
	json_decref(ch.edges);
	json_decref(args);
	json_decref(rec);
	return rc;
}

static int cmd_baseline_run(const struct cli_opts *o, int argc, char **argv)
{
	if (argc == 0)
		return cli_usage_error("baseline", "missing subcommand (show, "
						   "approve or reject)");
	if (!strcmp(argv[0], "show"))
		return cmd_baseline_show(o, argc - 1, argv + 1);
	if (!strcmp(argv[0], "approve") || !strcmp(argv[0], "reject"))
		return cmd_baseline_change(o, argv[0], argc - 1, argv + 1);
	return cli_usage_error("baseline", "unknown subcommand '%s'", argv[0]);
}

static const char *const cmd_baseline_opts[] = {"--version", NULL};

const struct cli_cmd cmd_baseline_def = {
    .name = "baseline",
    .synopsis = "show|approve|reject WORKLOAD ...",
    .summary = "show, approve or reject a workload's edges",
    .help = "  show WORKLOAD [--version V]\n"
	    "      The edges of WORKLOAD's baseline, of version V only when\n"
	    "      given. After the command word, --version is this option,\n"
	    "      not nsegctl's own --version.\n"
	    "  approve WORKLOAD (--all [--include-deviations] | --edge ID...)\n"
	    "          [--any-process]\n"
	    "      Approves every learned edge of WORKLOAD seen while it was\n"
	    "      learning (--all; with --include-deviations also those\n"
	    "      seen only in notify or enforce mode, blocked attempts\n"
	    "      among them), or the\n"
	    "      edges given by ID (from 'baseline show'). --edge repeats\n"
	    "      and takes lists: --edge 3,4 --edge 7. With\n"
	    "      --any-process, an edge is approved for any process of\n"
	    "      the workload, not only the one that was seen.\n"
	    "      Prints 'approved N edges of W (baseline revision R)'.\n"
	    "  reject WORKLOAD --edge ID...\n"
	    "      Rejects the edges given by ID; the same output.\n"
	    "\n"
	    "With --json, approve and reject print the reply record\n"
	    "{\"workload\", \"changed\", \"revision\"} (approve --all adds\n"
	    "\"deviations_left\").\n"
	    "\n"
	    "'show' columns: ID, DIR (egress or ingress), PROCESS\n"
	    "(comm(exe) of the workload's process), PEER (a workload, host,\n"
	    "or external:NET),\n"
	    "PEER-PROCESS (the peer's process when it is a local workload\n"
	    "whose socket was found), PROTO, PORT (server port; ICMP type\n"
	    "for ICMP), STATE (learned, approved, rejected), COUNT (new\n"
	    "connections seen), LAST-SEEN (UTC).\n"
	    "With --json, prints the edge records as a JSON array.\n",
    .own_opts = cmd_baseline_opts,
    .run = cmd_baseline_run,
};
