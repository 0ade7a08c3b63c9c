/*
 * nsegctl diff: what changed between two versions of a baseline, or
 * between the approved baseline and what was learned since. --fail-on
 * makes it a gate for a CI pipeline.
 */
#include <stdio.h>
#include <string.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"

static json_t *cmd_diff_side(const char *arg)
{
	json_t *o = json_object();

	if (!o || cmd_policy_target(o, arg, "diff") ||
	    !json_object_get(o, "version")) {
		if (o && !json_object_get(o, "version") &&
		    json_object_get(o, "workload"))
			cli_usage_error("diff", "'%s' needs @VERSION", arg);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* 1 when the diff's counts hold what fail_on names. */
static int cmd_diff_found(const json_t *diff, const char *fail_on)
{
	json_int_t added, removed, changed;

	added = json_integer_value(table_get(diff, "counts.added"));
	removed = json_integer_value(table_get(diff, "counts.removed"));
	changed = json_integer_value(table_get(diff, "counts.changed"));
	if (!strcmp(fail_on, "added"))
		return added > 0;
	if (!strcmp(fail_on, "changed"))
		return changed > 0;
	return added + removed + changed > 0;
}

static json_t *cmd_diff_args(int argc, char **argv, const char **fail_on)
{
	const char *pos[2] = { NULL, NULL };
	int npos = 0, learned = 0;
	json_t *args = NULL, *a, *b;

	for (int i = 0; i < argc; i++) {
		int f = cli_args_opt(argc, argv, &i, "--fail-on", fail_on);

		if (f == -1) {
			cli_usage_error("diff", "option '--fail-on' needs a "
						"value");
			return NULL;
		}
		if (f)
			continue;
		if (!strcmp(argv[i], "--learned")) {
			learned = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			cli_usage_error("diff", "unknown option '%s'", argv[i]);
			return NULL;
		} else if (npos == 2) {
			cli_usage_error("diff", "unexpected argument '%s'",
					argv[i]);
			return NULL;
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (*fail_on && strcmp(*fail_on, "added") &&
	    strcmp(*fail_on, "changed") && strcmp(*fail_on, "any")) {
		cli_usage_error("diff", "--fail-on is added, changed or any");
		return NULL;
	}
	if (learned) {
		if (npos != 1 || strchr(pos[0], '@')) {
			cli_usage_error("diff", "--learned takes one WORKLOAD");
			return NULL;
		}
		return json_pack("{s:s, s:b}", "workload", pos[0], "learned", 1);
	}
	if (npos != 2) {
		cli_usage_error("diff", "diff needs WORKLOAD@V1 WORKLOAD@V2, "
					"or WORKLOAD --learned");
		return NULL;
	}
	if (!(a = cmd_diff_side(pos[0])))
		return NULL;
	if (!(b = cmd_diff_side(pos[1]))) {
		json_decref(a);
		return NULL;
	}
	args = json_pack("{s:o, s:o}", "a", a, "b", b);
	return args;
}

static int cmd_diff_run(const struct cli_opts *o, int argc, char **argv)
{
	const char *fail_on = NULL;
	json_t *args = cmd_diff_args(argc, argv, &fail_on), *rec = NULL;
	const json_t *diff;
	int rc;

	if (!args)
		return CLI_EXIT_USAGE;
	rc = cli_client_fetch_one(o, NSEG_CTL_DIFF, args, &rec);
	json_decref(args);
	if (rc != CLI_EXIT_OK)
		return rc;
	diff = table_get(rec, "diff");
	if (o->json)
		rc = cli_client_print_json(diff);
	else if (json_is_string(table_get(rec, "text")))
		fputs(json_string_value(table_get(rec, "text")), stdout);
	if (rc == CLI_EXIT_OK && fail_on && cmd_diff_found(diff, fail_on))
		rc = CLI_EXIT_FOUND;
	json_decref(rec);
	return rc;
}

const struct cli_cmd cmd_diff_def = {
    .name = "diff",
    .synopsis = "WORKLOAD@V1 WORKLOAD@V2 | WORKLOAD --learned "
		"[--fail-on added|changed|any]",
    .summary = "compare two versions of a baseline",
    .help =
	"  WORKLOAD@V1 WORKLOAD@V2\n"
	"           the edges seen in version V2 against those of V1\n"
	"           (every state): '+' appeared, '-' disappeared, '~' one\n"
	"           attribute changed (peer, port, process or direction)\n"
	"  WORKLOAD --learned\n"
	"           what the workload was seen doing (every learned edge)\n"
	"           against its approved baseline: '+' traffic nobody\n"
	"           approved, '-' an approval no traffic needed\n"
	"  --fail-on added|changed|any\n"
	"           exit 4 when the diff has an added edge, a changed one,\n"
	"           or any difference: a gate for promoting an image\n"
	"\n"
	"With --json, prints {\"a\", \"b\", \"added\", \"removed\", \"changed\",\n"
	"\"counts\"}. Exit status: 4 when --fail-on found its differences;\n"
	"else as for every command (0, 1 error, 3 nsegd unreachable).\n",
    .own_opts = (const char *const[]){ "--fail-on", NULL },
    .run = cmd_diff_run,
};
