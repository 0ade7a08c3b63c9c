/*
 * nsegctl internals: the command table, the one request/reply exchange
 * with nsegd, and human table output. The daemon sends data (records);
 * everything here only formats it, and never trusts a record to have a
 * field or a type: what is missing or odd prints as "-".
 */
#ifndef NSEG_CLI_H
#define NSEG_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#ifndef NSEG_RELEASE
#define NSEG_RELEASE "0.1.0"
#endif

/* nsegctl's documented exit codes. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,	  /* the daemon reported an error, or the
				     exchange with it failed */
	CLI_EXIT_USAGE = 2,	  /* bad command line */
	CLI_EXIT_UNREACHABLE = 3, /* cannot connect to the daemon */
	CLI_EXIT_FOUND = 4,	  /* diff --fail-on: the differences exist */
};

/* Options valid with every command. */
struct cli_opts {
	int json;	    /* --json */
	const char *socket; /* --socket, $NSEG_SOCKET, or the default */
};

struct cli_cmd {
	const char *name;
	const char *synopsis; /* arguments after the name */
	const char *summary;  /* one line for `nsegctl --help` */
	const char *help;     /* the rest of `nsegctl CMD --help` */
	/* Options a command takes although a global option has the name;
	 * after the command word they belong to the command. Each takes a
	 * value. NULL-terminated, or NULL. */
	const char *const *own_opts;
	/* argv holds the arguments after the command word, global options
	 * removed. Returns an enum cli_exit value. */
	int (*run)(const struct cli_opts *o, int argc, char **argv);
};

extern const struct cli_cmd cmd_status_def;
extern const struct cli_cmd cmd_workloads_def;
extern const struct cli_cmd cmd_baseline_def;
extern const struct cli_cmd cmd_mode_def;
extern const struct cli_cmd cmd_alerts_def;
extern const struct cli_cmd cmd_policy_def;
extern const struct cli_cmd cmd_diff_def;
extern const struct cli_cmd cmd_capture_def;

/* Sets args' "workload" and, after an '@', "version" from arg
 * ("web@1.0"). Returns 0, or CLI_EXIT_USAGE after printing why. */
int cmd_policy_target(json_t *args, const char *arg, const char *cmd);

/*
 * Prints "nsegctl: MESSAGE" and a hint to `nsegctl [CMD] --help` on
 * stderr. cmd may be NULL. Returns CLI_EXIT_USAGE.
 */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Takes the value of the command option --NAME VALUE or --NAME=VALUE at
 * argv[*i] (name includes the dashes). Returns 1 and sets *val (and
 * moves *i past the value) when argv[*i] is that option, 0 when it is
 * not, -1 when its value is missing or empty.
 */
int cli_args_opt(int argc, char **argv, int *i, const char *name,
		 const char **val);

/*
 * Sends one request to the daemon and collects its records. args is
 * borrowed (NULL for {}). On CLI_EXIT_OK *records is a new JSON array
 * the caller owns; otherwise the error is already printed on stderr and
 * the return value is the exit code.
 */
int cli_client_fetch(const struct cli_opts *o, uint16_t type,
		     const json_t *args, json_t **records);

/*
 * For a command whose reply is one record: like cli_client_fetch(),
 * but on CLI_EXIT_OK *record is that record (the caller owns it); a
 * reply without one is an error.
 */
int cli_client_fetch_one(const struct cli_opts *o, uint16_t type,
			 const json_t *args, json_t **record);

/* Called with each record as it arrives (borrowed). Returns 0 to go on,
 * or -1 to stop with CLI_EXIT_ERROR after printing why. */
typedef int (*cli_record_fn)(json_t *rec, void *arg);

/*
 * Sends one request and calls fn for each record until END. With
 * follow, waits for records without a time limit, and SIGINT or SIGTERM
 * end the wait. Returns CLI_EXIT_OK after END or a signal, otherwise
 * an exit code after printing the error (the daemon's ERROR, or a
 * connection that closed before END).
 */
int cli_client_stream(const struct cli_opts *o, uint16_t type,
		      const json_t *args, int follow, cli_record_fn fn,
		      void *arg);
/* Prints v as indented JSON plus a newline on stdout. Returns an exit code. */
int cli_client_print_json(const json_t *v);

/*
 * Table output: columns padded to their widest cell, two spaces apart,
 * the last column unpadded. Cells are copied with control characters
 * replaced, so daemon data cannot drive the terminal.
 */
struct table;

/* Returns a table with ncols columns named by headers (borrowed for the
 * table's life), or NULL when out of memory. */
struct table *table_new(size_t ncols, const char *const *headers);
void table_free(struct table *t);
/* Appends a row of ncols strings (copied; NULL prints as "-"). */
int table_add_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
/*
 * Prints one row now, for output that cannot wait for the widest cell
 * (`alerts --follow`): cell c padded to widths[c], the last unpadded;
 * a wider cell shifts the rest of its line. Cells are cleaned like
 * table_add_row()'s; NULL prints as "-".
 */
void table_print_fixed(size_t ncols, const char *const *cells,
		       const size_t *widths, FILE *f);

/* The value at a dotted path ("peer.process.exe"), or NULL. */
const json_t *table_get(const json_t *rec, const char *path);
/*
 * Formats a value for a cell into buf and returns buf: strings as they
 * are (control characters replaced by '?'), numbers, booleans, arrays of
 * scalars joined by ','; other arrays and objects as compact JSON.
 * NULL, null and "" give "-".
 */
const char *table_fmt(const json_t *v, char *buf, size_t len);
/* A process object as "comm(exe)", or whichever of the two is there,
 * or "-", into buf; returns buf. */
const char *table_fmt_process(const json_t *proc, char *buf, size_t len);
/* Copies src into dst (len bytes), control characters replaced by '?'. */
void table_clean(char *dst, size_t len, const char *src);

#endif
