#include <stdio.h>
#include <string.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"

/* One "key: value" line per leaf, nested keys joined with dots, in the
 * record's own order. */
static void cmd_status_print(json_t *obj, const char *prefix)
{
	char key[512], clean[512], val[1024];
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
	{
		snprintf(key, sizeof(key), "%s%s", prefix, k);
		if (json_is_object(v) && json_object_size(v) > 0) {
			char sub[520];

			snprintf(sub, sizeof(sub), "%s.", key);
			cmd_status_print(v, sub);
			continue;
		}
		table_clean(clean, sizeof(clean), key);
		printf("%s: %s\n", clean, table_fmt(v, val, sizeof(val)));
	}
}

static int cmd_status_run(const struct cli_opts *o, int argc, char **argv)
{
	json_t *recs = NULL, *rec;
	int rc;

	if (argc > 0)
		return cli_usage_error("status", "unexpected argument '%s'",
				       argv[0]);
	rc = cli_client_fetch(o, NSEG_CTL_STATUS, NULL, &recs);
	if (rc != CLI_EXIT_OK)
		return rc;
	rec = json_array_get(recs, 0);
	if (!json_is_object(rec)) {
		fprintf(stderr, "nsegctl: nsegd sent no status record\n");
		rc = CLI_EXIT_ERROR;
	} else if (o->json) {
		rc = cli_client_print_json(rec);
	} else {
		cmd_status_print(rec, "");
	}
	json_decref(recs);
	return rc;
}

const struct cli_cmd cmd_status_def = {
    .name = "status",
    .synopsis = "",
    .summary = "show the daemon's state",
    .help = "Prints one 'key: value' line per field of the daemon's status\n"
	    "record, nested fields joined with dots (capture.dir: ...).\n"
	    "With --json, prints the record as a JSON object.\n",
    .run = cmd_status_run,
};
