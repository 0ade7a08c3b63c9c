/*
 * nsegctl policy apply|export: baselines kept as YAML files (policies/
 * README.md). apply reads the file here and sends its text: nsegd opens
 * no path a client names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nseg/cli.h"
#include "nseg/ctl.h"
#include "nseg/policy_doc.h"

/* Reads a regular file of at most POLICY_DOC_MAX_BYTES into a new
 * NUL-terminated buffer. Prints why not and returns NULL. */
static char *cmd_policy_read(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf = NULL;
	ssize_t n;

	if (fd == -1 || fstat(fd, &sb) == -1) {
		fprintf(stderr, "nsegctl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "nsegctl: %s: not a regular file\n", path);
		goto out;
	}
	if ((uintmax_t)sb.st_size > POLICY_DOC_MAX_BYTES) {
		fprintf(stderr,
			"nsegctl: %s: %jd bytes, larger than the %u a policy "
			"file may have\n",
			path, (intmax_t)sb.st_size, POLICY_DOC_MAX_BYTES);
		goto out;
	}
	if (!(buf = malloc(POLICY_DOC_MAX_BYTES + 2)))
		goto out;
	n = read(fd, buf, POLICY_DOC_MAX_BYTES + 1);
	if (n < 0 || (size_t)n > POLICY_DOC_MAX_BYTES) {
		fprintf(stderr, "nsegctl: %s: %s\n", path,
			n < 0 ? strerror(errno) : "file grew while reading");
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	if (fd != -1)
		close(fd);
	return buf;
}

/* A control character (YAML allows tab, LF and CR only) is reported here,
 * as the loader would: NUL cannot travel in the request's JSON string, and
 * escaping a file of them would overflow the request's size cap. */
static int cmd_policy_text_ok(const char *path, const char *text, size_t len)
{
	int line = 1, col = 1;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') ||
		    ch == 0x7f) {
			fprintf(stderr,
				"error: %s:%d:%d: control characters are not "
				"allowed\nnsegctl: %s: 1 error; nothing "
				"applied\n",
				path, line, col, path);
			return 0;
		}
		if (ch == '\n')
			line++, col = 1;
		else if ((ch & 0xc0) != 0x80)
			col++;
	}
	return 1;
}

struct cmd_apply {
	const struct cli_opts *o;
	json_t *all; /* --json: every record */
};

static void cmd_apply_edge(const json_t *e, char *buf, size_t len)
{
	char dir[32], proto[32], port[32], hi[32], peer[300], proc[600];

	table_fmt(table_get(e, "direction"), dir, sizeof(dir));
	table_fmt(table_get(e, "protocol"), proto, sizeof(proto));
	table_fmt(table_get(e, "port"), port, sizeof(port));
	table_fmt(table_get(e, "port_hi"), hi, sizeof(hi));
	table_fmt(table_get(e, "peer.identity"), peer, sizeof(peer));
	if (json_is_true(table_get(e, "any_process")))
		snprintf(proc, sizeof(proc), "any process");
	else
		table_fmt_process(table_get(e, "process"), proc, sizeof(proc));
	snprintf(buf, len, "%s %s/%s%s%s %s  %s", dir, proto, port,
		 strcmp(hi, "-") ? "-" : "", strcmp(hi, "-") ? hi : "", peer,
		 proc);
}

static void cmd_apply_summary(const json_t *s)
{
	char file[600], buf[4][32];

	table_fmt(table_get(s, "file"), file, sizeof(file));
	table_fmt(table_get(s, "added"), buf[0], sizeof(buf[0]));
	table_fmt(table_get(s, "removed"), buf[1], sizeof(buf[1]));
	table_fmt(table_get(s, "settings"), buf[2], sizeof(buf[2]));
	table_fmt(table_get(s, "warnings"), buf[3], sizeof(buf[3]));
	printf("%s: %s edges approved, %s withdrawn, %s settings changed, "
	       "%s warnings%s\n",
	       file, buf[0], buf[1], buf[2], buf[3],
	       json_is_true(table_get(s, "dry_run"))
		       ? " (dry run: nothing changed)"
		       : "");
}

static int cmd_apply_record(json_t *rec, void *arg)
{
	struct cmd_apply *a = arg;
	const json_t *dg = table_get(rec, "diagnostic");
	char wl[300], what[32], line[1200], from[64], to[64];

	if (a->all)
		return json_array_append(a->all, rec) == 0 ? 0 : -1;
	if (dg) {
		table_fmt(table_get(dg, "message"), line, sizeof(line));
		fprintf(stderr, "%s%s\n",
			json_is_string(table_get(dg, "severity")) &&
					!strcmp(json_string_value(table_get(
							dg, "severity")),
						"warning")
				? "warning: "
				: "error: ",
			line);
		return 0;
	}
	if (table_get(rec, "summary")) {
		cmd_apply_summary(table_get(rec, "summary"));
		return 0;
	}
	table_fmt(table_get(rec, "workload"), wl, sizeof(wl));
	table_fmt(table_get(rec, "change"), what, sizeof(what));
	if (table_get(rec, "edge")) {
		cmd_apply_edge(table_get(rec, "edge"), line, sizeof(line));
		printf("%c %s: %s\n", strcmp(what, "add") ? '-' : '+', wl,
		       line);
	} else {
		table_fmt(table_get(rec, "from"), from, sizeof(from));
		table_fmt(table_get(rec, "to"), to, sizeof(to));
		printf("~ %s: %s %s -> %s\n", wl, what, from, to);
	}
	return 0;
}

static int cmd_policy_apply(const struct cli_opts *o, int argc, char **argv)
{
	struct cmd_apply a = { .o = o };
	const char *file = NULL;
	int dry = 0, rc;
	json_t *args;
	size_t len;
	char *text;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			dry = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("policy", "unknown option '%s'",
					       argv[i]);
		else if (file)
			return cli_usage_error("policy",
					       "apply takes one FILE; got '%s' "
					       "too",
					       argv[i]);
		else
			file = argv[i];
	}
	if (!file)
		return cli_usage_error("policy", "apply needs a FILE");
	if (!(text = cmd_policy_read(file, &len)))
		return CLI_EXIT_ERROR;
	if (!cmd_policy_text_ok(file, text, len)) {
		free(text);
		return CLI_EXIT_ERROR;
	}
	args = json_pack("{s:s, s:s%, s:b}", "file", file, "text", text, len,
			 "dry_run", dry);
	free(text);
	if (!args) {
		fprintf(stderr, "nsegctl: %s: not UTF-8 text\n", file);
		return CLI_EXIT_ERROR;
	}
	if (o->json && !(a.all = json_array())) {
		json_decref(args);
		return CLI_EXIT_ERROR;
	}
	rc = cli_client_stream(o, NSEG_CTL_POLICY_APPLY, args, 0,
			       cmd_apply_record, &a);
	if (a.all && json_array_size(a.all))
		cli_client_print_json(a.all);
	json_decref(a.all);
	json_decref(args);
	return rc;
}

/* "WORKLOAD[@VERSION]" into the request. */
int cmd_policy_target(json_t *args, const char *arg, const char *cmd)
{
	const char *at = strchr(arg, '@');
	json_t *w = at ? json_stringn(arg, (size_t)(at - arg)) : json_string(arg);

	if (!w || (at && !at[1]) || at == arg) {
		json_decref(w);
		return cli_usage_error(cmd, "bad WORKLOAD[@VERSION] '%s'", arg);
	}
	json_object_set_new(args, "workload", w);
	if (at && json_object_set_new(args, "version", json_string(at + 1)))
		return cli_usage_error(cmd, "bad version in '%s'", arg);
	return 0;
}

static int cmd_policy_export(const struct cli_opts *o, int argc, char **argv)
{
	json_t *args = json_object(), *rec = NULL;
	const char *state = NULL, *format = NULL, *target = NULL;
	int rc = CLI_EXIT_USAGE;

	for (int i = 0; i < argc; i++) {
		int s = cli_args_opt(argc, argv, &i, "--state", &state);
		int f = s ? 0 : cli_args_opt(argc, argv, &i, "--format", &format);

		if (s == -1 || f == -1) {
			cli_usage_error("policy", "option '%s' needs a value",
					s ? "--state" : "--format");
			goto out;
		}
		if (s || f)
			continue;
		if (argv[i][0] == '-' && argv[i][1]) {
			cli_usage_error("policy", "unknown option '%s'",
					argv[i]);
			goto out;
		}
		if (target) {
			cli_usage_error("policy", "unexpected argument '%s'",
					argv[i]);
			goto out;
		}
		target = argv[i];
	}
	if (!target) {
		cli_usage_error("policy", "export needs a WORKLOAD[@VERSION]");
		goto out;
	}
	if (state && strcmp(state, "approved") && strcmp(state, "learned")) {
		cli_usage_error("policy", "--state is approved or learned");
		goto out;
	}
	if (format && strcmp(format, "yaml") && strcmp(format, "k8s")) {
		cli_usage_error("policy", "--format is yaml or k8s");
		goto out;
	}
	if (!args || cmd_policy_target(args, target, "policy"))
		goto out;
	if (state)
		json_object_set_new(args, "state", json_string(state));
	if (format)
		json_object_set_new(args, "format", json_string(format));
	rc = cli_client_fetch_one(o, NSEG_CTL_POLICY_EXPORT, args, &rec);
	if (rc == CLI_EXIT_OK && o->json)
		rc = cli_client_print_json(rec);
	else if (rc == CLI_EXIT_OK && json_is_string(table_get(rec, "text")))
		fputs(json_string_value(table_get(rec, "text")), stdout);
out:
	json_decref(args);
	json_decref(rec);
	return rc;
}

static int cmd_policy_run(const struct cli_opts *o, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error("policy", "'policy' needs apply or "
						 "export");
	if (!strcmp(argv[0], "apply"))
		return cmd_policy_apply(o, argc - 1, argv + 1);
	if (!strcmp(argv[0], "export"))
		return cmd_policy_export(o, argc - 1, argv + 1);
	return cli_usage_error("policy", "unknown subcommand '%s' (apply or "
					 "export)",
			       argv[0]);
}

const struct cli_cmd cmd_policy_def = {
    .name = "policy",
    .synopsis = "apply FILE [--dry-run] | export WORKLOAD[@VERSION] "
		"[--state approved|learned] [--format yaml|k8s]",
    .summary = "apply a policy file, or export a baseline as one",
    .help =
	"  apply FILE       make the approved baseline of each workload in\n"
	"                   FILE exactly the file's rules, all or nothing:\n"
	"                   every error is listed (FILE:LINE:COL) and then\n"
	"                   nothing changes. Approved edges the file does not\n"
	"                   name go back to learned (or, when a policy brought\n"
	"                   them, are removed). Prints each change:\n"
	"                   '+' approved, '-' withdrawn, '~' mode or window.\n"
	"    --dry-run      print what would change; change nothing\n"
	"  export WORKLOAD[@VERSION]\n"
	"                   print the approved baseline (of VERSION and the\n"
	"                   rules for every version) as a policy file that\n"
	"                   'apply' accepts unchanged\n"
	"    --state learned    the edges waiting for a decision instead\n"
	"    --format k8s       a Kubernetes NetworkPolicy; what it cannot\n"
	"                       say (processes, host, ICMP) is in comments\n"
	"\n"
	"The file format is described in policies/README.md (nseg-policy).\n"
	"With --json, apply prints its records (diagnostics, changes, the\n"
	"summary) as an array; export prints {\"workload\", \"text\"}.\n",
    .own_opts = (const char *const[]){ "--state", "--format", NULL },
    .run = cmd_policy_run,
};
