/*
 * nsegctl: the operator's client for nsegd. One request per run over
 * the control socket; the daemon sends records, nsegctl formats them.
 *
 * Global options may appear anywhere on the line. After the command
 * word, an option the command defines itself (baseline's --version)
 * belongs to the command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"

static const struct cli_cmd *const nsegctl_cmds[] = {
    &cmd_status_def,
    &cmd_workloads_def,
    &cmd_baseline_def,
    &cmd_mode_def,
    &cmd_alerts_def,
    &cmd_policy_def,
    &cmd_diff_def,
    &cmd_capture_def,
};

#define NSEGCTL_NCMDS (sizeof(nsegctl_cmds) / sizeof(nsegctl_cmds[0]))

static const struct cli_cmd *nsegctl_find(const char *name)
{
	for (size_t i = 0; i < NSEGCTL_NCMDS; i++)
		if (!strcmp(nsegctl_cmds[i]->name, name))
			return nsegctl_cmds[i];
	return NULL;
}

static void nsegctl_usage(FILE *f)
{
	fprintf(f, "Usage: nsegctl [OPTIONS] COMMAND [ARGS]\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < NSEGCTL_NCMDS; i++) {
		const struct cli_cmd *c = nsegctl_cmds[i];
		char head[64];

		snprintf(head, sizeof(head), "%s %s", c->name, c->synopsis);
		if (strlen(head) > 38)
			fprintf(f, "  %s\n  %-38s %s\n", head, "", c->summary);
		else
			fprintf(f, "  %-38s %s\n", head, c->summary);
	}
	fprintf(
	    f,
	    "  %-38s %s\n"
	    "\n"
	    "Options (anywhere on the line):\n"
	    "  --json          print records as JSON instead of a table\n"
	    "  --socket PATH   nsegd's control socket (default: $NSEG_SOCKET,\n"
	    "                  else %s)\n"
	    "  -h, --help      this help, or a command's help after it\n"
	    "  --version       print nsegctl's version\n"
	    "\n"
	    "Exit status:\n"
	    "  0  success\n"
	    "  1  nsegd reported an error, or the exchange with it failed\n"
	    "  2  usage error\n"
	    "  3  nsegd unreachable (no socket, nobody listening, no "
	    "permission)\n"
	    "  4  diff --fail-on: the differences asked for exist\n",
	    "help [COMMAND]", "show help for nsegctl or a command",
	    NSEG_CTL_DEFAULT_SOCKET);
}

static void nsegctl_cmd_help(const struct cli_cmd *c)
{
	printf("Usage: nsegctl [OPTIONS] %s %s\n\n%s\n%s", c->name, c->synopsis,
	       c->summary, c->help ? "\n" : "");
	if (c->help)
		fputs(c->help, stdout);
	printf("\nGlobal options --json, --socket PATH, --help: see "
	       "'nsegctl --help'.\n");
}

static int nsegctl_help_cmd(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc == 0) {
		nsegctl_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error(NULL, "unexpected argument '%s'",
				       argv[1]);
	c = nsegctl_find(argv[0]);
	if (!c)
		return cli_usage_error(NULL, "unknown command '%s'", argv[0]);
	nsegctl_cmd_help(c);
	return CLI_EXIT_OK;
}

/* Parsed command line: globals set, command arguments collected. */
struct nsegctl_line {
	struct cli_opts opts;
	int help;
	int version;
	const char *cmd_name;
	const struct cli_cmd *cmd;
	int nargs;
	char **args;
};

/* Returns 1 if argv[*i] is an option cmd claims (and moves it and its
 * value into the command's arguments), else 0. */
static int nsegctl_claim(struct nsegctl_line *ln, int argc, char **argv, int *i)
{
	const struct cli_cmd *c = ln->cmd;

	if (!c || !c->own_opts)
		return 0;
	for (const char *const *o = c->own_opts; *o; o++) {
		size_t n = strlen(*o);

		if (strncmp(argv[*i], *o, n) ||
		    (argv[*i][n] != '\0' && argv[*i][n] != '='))
			continue;
		ln->args[ln->nargs++] = argv[*i];
		if (argv[*i][n] == '\0' && *i + 1 < argc)
			ln->args[ln->nargs++] = argv[++*i];
		return 1;
	}
	return 0;
}

/* Handles one global option at argv[*i]. Returns 1 if it was one, 0 if
 * not, or CLI_EXIT_USAGE (negated) on error. */
static int nsegctl_global(struct nsegctl_line *ln, int argc, char **argv,
			  int *i)
{
	const char *a = argv[*i];

	if (!strcmp(a, "--json")) {
		ln->opts.json = 1;
	} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
		ln->help = 1;
	} else if (!strcmp(a, "--version")) {
		ln->version = 1;
	} else if (!strcmp(a, "--socket")) {
		if (*i + 1 >= argc || !*argv[*i + 1])
			return -cli_usage_error(ln->cmd_name,
						"option '--socket' needs a "
						"path");
		ln->opts.socket = argv[++*i];
	} else if (!strncmp(a, "--socket=", 9)) {
		if (!a[9])
			return -cli_usage_error(ln->cmd_name,
						"option '--socket' needs a "
						"path");
		ln->opts.socket = a + 9;
	} else {
		return 0;
	}
	return 1;
}

/* Returns 0, or an exit code after printing a usage error. */
static int nsegctl_parse(struct nsegctl_line *ln, int argc, char **argv)
{
	int dashdash = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && nsegctl_claim(ln, argc, argv, &i))
			continue;
		if (!dashdash) {
			r = nsegctl_global(ln, argc, argv, &i);
			if (r < 0)
				return -r;
			if (r > 0)
				continue;
		}
		if (!ln->cmd_name) {
			if (!dashdash && a[0] == '-' && a[1])
				return cli_usage_error(
				    NULL, "unknown option '%s'", a);
			ln->cmd_name = a;
			ln->cmd = nsegctl_find(a);
			if (!ln->cmd && strcmp(a, "help"))
				return cli_usage_error(
				    NULL, "unknown command '%s'", a);
			continue;
		}
		ln->args[ln->nargs++] = argv[i];
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct nsegctl_line ln = {.opts.socket = getenv("NSEG_SOCKET")};
	int rc;

	if (!ln.opts.socket || !*ln.opts.socket)
		ln.opts.socket = NSEG_CTL_DEFAULT_SOCKET;
	ln.args = calloc((size_t)argc + 1, sizeof(*ln.args));
	if (!ln.args) {
		fprintf(stderr, "nsegctl: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	rc = nsegctl_parse(&ln, argc, argv);
	if (rc)
		goto out;
	if (ln.version) {
		printf("nsegctl %s (control protocol %d)\n", NSEG_RELEASE,
		       NSEG_CTL_VERSION);
	} else if (ln.help && ln.cmd) {
		nsegctl_cmd_help(ln.cmd);
	} else if (ln.help) {
		nsegctl_usage(stdout);
	} else if (ln.cmd_name && !ln.cmd) {
		/* the only name that parses without a table entry: help */
		rc = nsegctl_help_cmd(ln.nargs, ln.args);
	} else if (!ln.cmd) {
		rc = cli_usage_error(NULL, "missing command");
	} else {
		rc = ln.cmd->run(&ln.opts, ln.nargs, ln.args);
	}
out:
	free(ln.args);
	return rc;
}
