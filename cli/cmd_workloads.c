#include <stdio.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"

enum { W_NAME, W_MODE, W_VERSIONS, W_CONTAINERS, W_NETNS, W_EDGES, W_NCOLS };

static const char *const cmd_workloads_headers[W_NCOLS] = {
    "NAME", "MODE", "VERSIONS", "CONTAINERS", "NETNS", "EDGES",
};

static int cmd_workloads_row(struct table *t, const json_t *rec)
{
	char buf[W_NCOLS][1024];
	const char *cells[W_NCOLS];
	const json_t *ctrs = table_get(rec, "containers");

	cells[W_NAME] = table_fmt(table_get(rec, "name"), buf[0], 1024);
	cells[W_MODE] = table_fmt(table_get(rec, "mode"), buf[1], 1024);
	cells[W_VERSIONS] = table_fmt(table_get(rec, "versions"), buf[2], 1024);
	if (json_is_array(ctrs))
		snprintf(buf[3], 1024, "%zu", json_array_size(ctrs));
	else
		snprintf(buf[3], 1024, "-");
	cells[W_CONTAINERS] = buf[3];
	cells[W_NETNS] = table_fmt(table_get(rec, "netns"), buf[4], 1024);
	cells[W_EDGES] = table_fmt(table_get(rec, "edges"), buf[5], 1024);
	return table_add_row(t, cells);
}

static int cmd_workloads_run(const struct cli_opts *o, int argc, char **argv)
{
	struct table *t = NULL;
	json_t *recs = NULL, *rec;
	size_t i;
	int rc;

	if (argc > 0)
		return cli_usage_error("workloads", "unexpected argument '%s'",
				       argv[0]);
	rc = cli_client_fetch(o, NSEG_CTL_WORKLOADS, NULL, &recs);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (o->json) {
		rc = cli_client_print_json(recs);
		goto out;
	}
	t = table_new(W_NCOLS, cmd_workloads_headers);
	if (!t)
		goto oom;
	json_array_foreach(recs, i,
			   rec) if (cmd_workloads_row(t, rec) == -1) goto oom;
	table_print(t, stdout);
	goto out;
oom:
	fprintf(stderr, "nsegctl: out of memory\n");
	rc = CLI_EXIT_ERROR;
out:
	table_free(t);
	json_decref(recs);
	return rc;
}

const struct cli_cmd cmd_workloads_def = {
    .name = "workloads",
    .synopsis = "",
    .summary = "list the workloads the daemon knows",
    .help = "Columns: NAME, MODE (learn, notify, enforce), VERSIONS (image\n"
	    "versions seen, comma-separated), CONTAINERS (how many run now),\n"
	    "NETNS (their network namespaces), EDGES (baseline edges).\n"
	    "With --json, prints the records as a JSON array.\n",
    .run = cmd_workloads_run,
};
