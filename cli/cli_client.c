#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nseg/cli.h"
#include "nseg/ctl_io.h"

#define CLI_CONNECT_TIMEOUT_MS 5000
/* Per reply message: a long baseline streams, but each record is quick. */
#define CLI_REPLY_TIMEOUT_MS 60000

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nsegctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'nsegctl %s%s--help' for more information.\n",
		cmd ? cmd : "", cmd ? " " : "");
	return CLI_EXIT_USAGE;
}

static const char *cli_client_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is nsegd running?)";
	case EACCES:
	case EPERM:
		return " (run as root or as a member of nsegd's control group)";
	case ETIMEDOUT:
		return " (nsegd is not accepting connections)";
	default:
		return "";
	}
}

static int cli_client_daemon_error(const json_t *payload)
{
	const json_t *msg = json_object_get(payload, "message");
	const json_t *code = json_object_get(payload, "code");
	char buf[1024];

	if (json_is_string(msg) && json_string_length(msg) > 0) {
		table_clean(buf, sizeof(buf), json_string_value(msg));
		fprintf(stderr, "nsegctl: %s\n", buf);
	} else {
		fprintf(stderr, "nsegctl: nsegd reported error code %s\n",
			table_fmt(code, buf, sizeof(buf)));
	}
	return CLI_EXIT_ERROR;
}

/* Reads replies until END or ERROR; returns an exit code. */
static int cli_client_collect(int fd, const char *path, json_t *records)
{
	for (;;) {
		struct ctl_io_msg m;
		char err[256];
		int st =
		    ctl_io_recv(fd, &m, CLI_REPLY_TIMEOUT_MS, err, sizeof(err));
		int rc = CLI_EXIT_ERROR, more = 0;

		if (st == CTL_IO_EVERSION)
			fprintf(stderr,
				"nsegctl: protocol version mismatch: nsegctl "
				"speaks %d, nsegd speaks %u\n",
				NSEG_CTL_VERSION, m.version);
		else if (st == CTL_IO_EOF)
			fprintf(stderr,
				"nsegctl: %s: nsegd closed the connection "
				"before the reply was complete\n",
				path);
		else if (st != CTL_IO_OK)
			fprintf(stderr, "nsegctl: %s: bad reply: %s\n", path,
				err);
		else if (m.type == NSEG_CTL_RECORD)
			more = json_array_append(records, m.payload) == 0;
		else if (m.type == NSEG_CTL_END)
			rc = CLI_EXIT_OK;
		else if (m.type == NSEG_CTL_ERROR)
			rc = cli_client_daemon_error(m.payload);
		else
			fprintf(stderr,
				"nsegctl: %s: bad reply: unexpected message "
				"type %u\n",
				path, m.type);
		ctl_io_msg_clear(&m);
		if (!more)
			return rc;
	}
}

int cli_client_fetch(const struct cli_opts *o, uint16_t type,
		     const json_t *args, json_t **records)
{
	json_t *arr = json_array();
	int fd = -1, rc = CLI_EXIT_ERROR;

	if (!arr) {
		fprintf(stderr, "nsegctl: out of memory\n");
		goto out;
	}
	fd = ctl_io_connect(o->socket, CLI_CONNECT_TIMEOUT_MS);
	if (fd == -1) {
		fprintf(stderr, "nsegctl: cannot connect to %s: %s%s\n",
			o->socket, strerror(errno), cli_client_hint(errno));
		rc = CLI_EXIT_UNREACHABLE;
		goto out;
	}
	/* If the daemon refused us it has already sent an ERROR and closed;
	 * a failed send must not hide that message, so read anyway. */
	if (ctl_io_send(fd, type, 1, args) == -1 && errno != EPIPE &&
	    errno != ECONNRESET) {
		fprintf(stderr, "nsegctl: %s: sending the request: %s\n",
			o->socket, strerror(errno));
		goto out;
	}
	rc = cli_client_collect(fd, o->socket, arr);
	if (rc == CLI_EXIT_OK) {
		*records = arr;
		arr = NULL;
	}
out:
	if (fd != -1)
		close(fd);
	json_decref(arr);
	return rc;
}

int cli_client_print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == -1 ||
	    fputc('\n', stdout) == EOF) {
		fprintf(stderr, "nsegctl: writing output: %s\n",
			strerror(errno));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}
