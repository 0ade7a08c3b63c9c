#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
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

/*
 * Following: SIGINT and SIGTERM are blocked and arrive on a descriptor
 * instead, so the wait for the next record can end with exit status 0.
 * Returns the signalfd, or -1 (errno) with the mask unchanged.
 */
static int cli_client_signals_on(sigset_t *old)
{
	sigset_t set;
	int sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, old) == -1)
		return -1;
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd == -1)
		sigprocmask(SIG_SETMASK, old, NULL);
	return sfd;
}

/* Takes the signals that came (so unblocking does not deliver them
 * again) and restores the mask. */
static void cli_client_signals_off(int sfd, const sigset_t *old)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	close(sfd);
	sigprocmask(SIG_SETMASK, old, NULL);
}

/*
 * Waits for fd to be readable (1) or a signal on sfd (0); -1 (errno).
 * Following waits without a deadline on purpose: the next alert may be
 * hours away. A daemon that dies closes the socket, which ends the wait;
 * each message, once it starts, still has CLI_REPLY_TIMEOUT_MS.
 */
static int cli_client_wait(int fd, int sfd)
{
	struct pollfd p[2] = {
	    {.fd = fd, .events = POLLIN},
	    {.fd = sfd, .events = POLLIN},
	};

	for (;;) {
		int n = poll(p, 2, -1);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		return p[1].revents ? 0 : 1;
	}
}

/*
 * Reads replies until END or ERROR, or, when sfd is not -1, a signal;
 * returns an exit code.
 */
static int cli_client_collect(int fd, const char *path, int sfd,
			      cli_record_fn fn, void *arg)
{
	for (;;) {
		struct ctl_io_msg m;
		char err[256];
		int rc = CLI_EXIT_ERROR, more = 0, st, w = 1;

		if (sfd != -1)
			w = cli_client_wait(fd, sfd);
		if (w == 0)
			return CLI_EXIT_OK;
		if (w == -1) {
			fprintf(stderr, "nsegctl: %s: poll: %s\n", path,
				strerror(errno));
			return CLI_EXIT_ERROR;
		}
		st =
		    ctl_io_recv(fd, &m, CLI_REPLY_TIMEOUT_MS, err, sizeof(err));

		if (st == CTL_IO_EVERSION)
			fprintf(stderr,
				"nsegctl: protocol version mismatch: nsegctl "
				"speaks %d, nsegd speaks %u\n",
				NSEG_CTL_VERSION, m.version);
		else if (st == CTL_IO_ETIMEDOUT)
			fprintf(stderr,
				"nsegctl: %s: no reply from nsegd within %d "
				"s\n",
				path, CLI_REPLY_TIMEOUT_MS / 1000);
		else if (st == CTL_IO_EOF)
			fprintf(stderr,
				"nsegctl: %s: nsegd closed the connection "
				"before the reply was complete\n",
				path);
		else if (st != CTL_IO_OK)
			fprintf(stderr, "nsegctl: %s: bad reply: %s\n", path,
				err);
		else if (m.type == NSEG_CTL_RECORD)
			more = fn(m.payload, arg) == 0;
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

int cli_client_stream(const struct cli_opts *o, uint16_t type,
		      const json_t *args, int follow, cli_record_fn fn,
		      void *arg)
{
	int fd = -1, sfd = -1, rc = CLI_EXIT_ERROR;
	sigset_t old;

	if (follow) {
		sfd = cli_client_signals_on(&old);
		if (sfd == -1) {
			fprintf(stderr, "nsegctl: signalfd: %s\n",
				strerror(errno));
			goto out;
		}
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
	rc = cli_client_collect(fd, o->socket, sfd, fn, arg);
out:
	if (fd != -1)
		close(fd);
	if (sfd != -1)
		cli_client_signals_off(sfd, &old);
	return rc;
}

static int cli_client_append(json_t *rec, void *arg)
{
	if (json_array_append(arg, rec) == 0)
		return 0;
	fprintf(stderr, "nsegctl: out of memory\n");
	return -1;
}

int cli_client_fetch(const struct cli_opts *o, uint16_t type,
		     const json_t *args, json_t **records)
{
	json_t *arr = json_array();
	int rc = CLI_EXIT_ERROR;

	if (!arr) {
		fprintf(stderr, "nsegctl: out of memory\n");
		return rc;
	}
	rc = cli_client_stream(o, type, args, 0, cli_client_append, arr);
	if (rc == CLI_EXIT_OK)
		*records = json_incref(arr);
	json_decref(arr);
	return rc;
}

int cli_client_fetch_one(const struct cli_opts *o, uint16_t type,
			 const json_t *args, json_t **record)
{
	json_t *recs = NULL, *rec;
	int rc = cli_client_fetch(o, type, args, &recs);

	if (rc != CLI_EXIT_OK)
		return rc;
	rec = json_array_get(recs, 0);
	if (json_is_object(rec)) {
		*record = json_incref(rec);
	} else {
		fprintf(stderr, "nsegctl: nsegd sent no reply record\n");
		rc = CLI_EXIT_ERROR;
	}
	json_decref(recs);
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
