#include <stdio.h>
#include <string.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"

static const char *const cmd_mode_names[] = {NSEG_CTL_MODES};

#define CMD_MODE_N (sizeof(cmd_mode_names) / sizeof(cmd_mode_names[0]))

static int cmd_mode_valid(const char *m)
{
	for (size_t i = 0; i < CMD_MODE_N; i++)
		if (!strcmp(m, cmd_mode_names[i]))
			return 1;
	return 0;
}

/* "web: learn -> enforce" */
static void cmd_mode_print(const json_t *rec)
{
	char wl[512], prev[64], mode[64];

	table_fmt(table_get(rec, "workload"), wl, sizeof(wl));
	table_fmt(table_get(rec, "previous"), prev, sizeof(prev));
	table_fmt(table_get(rec, "mode"), mode, sizeof(mode));
	printf("%s: %s -> %s\n", wl, prev, mode);
}

static int cmd_mode_run(const struct cli_opts *o, int argc, char **argv)
{
	json_t *args, *rec = NULL;
	int rc;

	for (int i = 0; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("mode", "unknown option '%s'",
					       argv[i]);
	if (argc < 2 || !*argv[0])
		return cli_usage_error("mode",
				       "'mode' needs a WORKLOAD and a "
				       "MODE (learn, notify or enforce)");
	if (argc > 2)
		return cli_usage_error("mode", "unexpected argument '%s'",
				       argv[2]);
	if (!cmd_mode_valid(argv[1]))
		return cli_usage_error("mode",
				       "unknown mode '%s' (choose learn, "
				       "notify or enforce)",
				       argv[1]);
	args = json_pack("{s:s, s:s}", "workload", argv[0], "mode", argv[1]);
	if (!args) {
		fprintf(stderr, "nsegctl: workload is not valid UTF-8\n");
		return CLI_EXIT_USAGE;
	}
	rc = cli_client_fetch_one(o, NSEG_CTL_MODE, args, &rec);
	if (rc == CLI_EXIT_OK && o->json)
		rc = cli_client_print_json(rec);
	else if (rc == CLI_EXIT_OK)
		cmd_mode_print(rec);
	json_decref(args);
	json_decref(rec);
	return rc;
}

const struct cli_cmd cmd_mode_def = {
    .name = "mode",
    .synopsis = "WORKLOAD learn|notify|enforce",
    .summary = "switch a workload's mode",
    .help = "  learn    new connections are recorded as learned edges\n"
	    "  notify   connections outside the approved baseline pass and\n"
	    "           raise an alert\n"
	    "  enforce  connections outside the approved baseline are\n"
	    "           dropped and raise an alert\n"
	    "\n"
	    "Prints 'WORKLOAD: PREVIOUS -> MODE'. With --json, prints the\n"
	    "reply record {\"workload\", \"mode\", \"previous\"}.\n",
    .run = cmd_mode_run,
};
