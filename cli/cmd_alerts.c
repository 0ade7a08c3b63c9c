#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"
#include "nseg/timefmt.h"

enum {
	A_ID,
	A_TIME,
	A_ACTION,
	A_WORKLOAD,
	A_PROC,
	A_DIR,
	A_PEER,
	A_ADDR,
	A_PROTO,
	A_PORT,
	A_COUNT,
	A_NCOLS
};

static const char *const cmd_alerts_headers[A_NCOLS] = {
    "ID",   "TIME",    "ACTION", "WORKLOAD", "PROCESS", "DIR",
    "PEER", "ADDRESS", "PROTO",	 "PORT",     "COUNT",
};

/* --follow cannot wait for the widest cell: typical widths instead. */
static const size_t cmd_alerts_widths[A_NCOLS] = {
    5, 20, 6, 16, 24, 7, 20, 15, 5, 5, 0,
};

struct cmd_alerts {
	const struct cli_opts *o;
	const char *workload;
	const char *since_arg;
	char since[TIMEFMT_RFC3339_LEN];
	int follow;
	struct table *t; /* collected rows; NULL when following */
	int header_done; /* following: the header is out */
};

/* Cells of one alert record; buf holds their text. */
static void cmd_alerts_cells(const json_t *rec, char buf[A_NCOLS][1100],
			     const char *cells[A_NCOLS])
{
	static const char *const plain[A_NCOLS] = {
	    [A_ID] = "id",
	    [A_TIME] = "time",
	    [A_ACTION] = "action",
	    [A_WORKLOAD] = "workload",
	    [A_DIR] = "direction",
	    [A_PEER] = "peer.identity",
	    [A_ADDR] = "peer.address",
	    [A_PROTO] = "protocol",
	    [A_PORT] = "port",
	    [A_COUNT] = "count",
	};

	for (int c = 0; c < A_NCOLS; c++)
		if (plain[c])
			cells[c] =
			    table_fmt(table_get(rec, plain[c]), buf[c], 1100);
	cells[A_PROC] =
	    table_fmt_process(table_get(rec, "process"), buf[A_PROC], 1100);
}

/* Following: one row or one JSON line per record, out at once. */
static int cmd_alerts_follow_rec(struct cmd_alerts *a, const json_t *rec)
{
	char buf[A_NCOLS][1100];
	const char *cells[A_NCOLS];

	if (a->o->json) {
		if (json_dumpf(rec, stdout, JSON_COMPACT) == -1)
			goto fail;
		fputc('\n', stdout);
	} else {
		if (!a->header_done)
			table_print_fixed(A_NCOLS, cmd_alerts_headers,
					  cmd_alerts_widths, stdout);
		a->header_done = 1;
		cmd_alerts_cells(rec, buf, cells);
		table_print_fixed(A_NCOLS, cells, cmd_alerts_widths, stdout);
	}
	if (fflush(stdout) == EOF)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "nsegctl: writing output: %s\n", strerror(errno));
	return -1;
}

static int cmd_alerts_rec(json_t *rec, void *arg)
{
	struct cmd_alerts *a = arg;
	char buf[A_NCOLS][1100];
	const char *cells[A_NCOLS];

	if (!json_is_object(rec))
		return 0;
	if (a->follow)
		return cmd_alerts_follow_rec(a, rec);
	cmd_alerts_cells(rec, buf, cells);
	if (table_add_row(a->t, cells) == 0)
		return 0;
	fprintf(stderr, "nsegctl: out of memory\n");
	return -1;
}

/*
 * A relative --since: digits and a unit, s m h or d ("10m"). Returns 0
 * and the seconds in *secs, or -1.
 */
static int cmd_alerts_duration(const char *s, int64_t *secs)
{
	static const char units[] = "smhd";
	static const int64_t mult[] = {1, 60, 3600, 86400};
	size_t n = strspn(s, "0123456789");
	const char *u;
	int64_t v = 0;

	if (n == 0 || n > 12 || !s[n] || s[n + 1] || !(u = strchr(units, s[n])))
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	*secs = v * mult[u - units];
	return 0;
}

/* --since as RFC 3339 in UTC into a->since. Returns 0 or a usage error. */
static int cmd_alerts_since(struct cmd_alerts *a)
{
	const char *s = a->since_arg;
	int64_t t, ago;

	if (timefmt_parse_rfc3339(s, &t) == 0) {
		if (timefmt_rfc3339(t, a->since, sizeof(a->since)) == 0)
			return 0;
	} else if (cmd_alerts_duration(s, &ago) == 0) {
		if (timefmt_rfc3339((int64_t)time(NULL) - ago, a->since,
				    sizeof(a->since)) == 0)
			return 0;
		return cli_usage_error("alerts",
				       "'--since %s' reaches before year 0", s);
	}
	return cli_usage_error("alerts",
			       "bad time '%s' for '--since' (want RFC 3339, "
			       "e.g. 2026-11-22T14:28:27Z, or a duration "
			       "such as 30s, 10m, 2h, 1d)",
			       s);
}

static int cmd_alerts_args(struct cmd_alerts *a, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		int w =
		    cli_args_opt(argc, argv, &i, "--workload", &a->workload);
		int s =
		    w ? 0
		      : cli_args_opt(argc, argv, &i, "--since", &a->since_arg);

		if (w == -1 || s == -1)
			return cli_usage_error("alerts",
					       "option '%s' needs a value",
					       w ? "--workload" : "--since");
		if (w || s)
			continue;
		if (!strcmp(argv[i], "--follow"))
			a->follow = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("alerts", "unknown option '%s'",
					       argv[i]);
		else
			return cli_usage_error(
			    "alerts", "unexpected argument '%s'", argv[i]);
	}
	return a->since_arg ? cmd_alerts_since(a) : 0;
}

static json_t *cmd_alerts_req(const struct cmd_alerts *a)
{
	json_t *args = json_object();

	if (!args)
		return NULL;
	if ((a->workload &&
	     json_object_set_new(args, "workload", json_string(a->workload))) ||
	    (a->since_arg &&
	     json_object_set_new(args, "since", json_string(a->since))) ||
	    (a->follow && json_object_set_new(args, "follow", json_true()))) {
		json_decref(args);
		return NULL;
	}
	return args;
}

/* Without --follow: the backlog, as one table or one JSON array. */
static int cmd_alerts_list(struct cmd_alerts *a, const json_t *args)
{
	json_t *recs = NULL;
	int rc;

	if (a->o->json) {
		rc = cli_client_fetch(a->o, NSEG_CTL_ALERTS, args, &recs);
		if (rc == CLI_EXIT_OK)
			rc = cli_client_print_json(recs);
		json_decref(recs);
		return rc;
	}
	a->t = table_new(A_NCOLS, cmd_alerts_headers);
	if (!a->t) {
		fprintf(stderr, "nsegctl: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	rc = cli_client_stream(a->o, NSEG_CTL_ALERTS, args, 0, cmd_alerts_rec,
			       a);
	if (rc == CLI_EXIT_OK)
		table_print(a->t, stdout);
	table_free(a->t);
	return rc;
}

static int cmd_alerts_run(const struct cli_opts *o, int argc, char **argv)
{
	struct cmd_alerts a = {.o = o};
	json_t *args;
	int rc = cmd_alerts_args(&a, argc, argv);

	if (rc)
		return rc;
	args = cmd_alerts_req(&a);
	if (!args) {
		fprintf(stderr, "nsegctl: workload is not valid UTF-8\n");
		return CLI_EXIT_USAGE;
	}
	if (a.follow)
		rc = cli_client_stream(o, NSEG_CTL_ALERTS, args, 1,
				       cmd_alerts_rec, &a);
	else
		rc = cmd_alerts_list(&a, args);
	json_decref(args);
	return rc;
}

const struct cli_cmd cmd_alerts_def = {
    .name = "alerts",
    .synopsis = "[--workload W] [--since T] [--follow]",
    .summary = "list alerts, or follow them as they happen",
    .help =
	"  --workload W  only W's alerts\n"
	"  --since T     only alerts seen at or after T: RFC 3339\n"
	"                (2026-11-22T14:28:27Z, 2026-11-22T15:28:27+01:00)\n"
	"                or a duration before now (30s, 10m, 2h, 1d)\n"
	"  --follow      after the alerts so far, print each new or updated\n"
	"                alert as it happens, until interrupted (SIGINT or\n"
	"                SIGTERM: exit 0) or nsegd ends the stream\n"
	"\n"
	"Columns: ID, TIME (first seen, UTC), ACTION (notify: passed,\n"
	"block: dropped), WORKLOAD, PROCESS (comm(exe)), DIR (egress or\n"
	"ingress), PEER (identity), ADDRESS (the peer's address), PROTO,\n"
	"PORT, COUNT (connections folded into this alert).\n"
	"With --json, prints the alert records as a JSON array; with\n"
	"--json --follow, one JSON object per line as they arrive. A\n"
	"record whose id came before is an update of that alert.\n",
    .run = cmd_alerts_run,
};
