/*
 * nseg-oci-hook: an OCI runtime hook (prestart / createRuntime) that asks
 * nsegd to watch a new container's network namespace and install its
 * workload's table before the container's first instruction runs, so an
 * enforced workload is enforced from its first packet.
 *
 *   nseg-oci-hook [--socket PATH] [--timeout MS] [--fail open|closed]
 *
 * Reads the OCI state (JSON) on stdin, as runtimes pass it. Exit 0 lets
 * the container start; exit 1 (only with --fail closed, when nsegd did not
 * confirm in time) makes the runtime abort it.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "nseg/ctl.h"
#include "nseg/ctl_io.h"

#define HOOK_STATE_MAX (1 << 20)

struct hook_opts {
	const char *socket;
	int timeout_ms;
	int fail_closed;
};

static void hook_usage(void)
{
	fprintf(stderr,
		"usage: nseg-oci-hook [--socket PATH] [--timeout MS] "
		"[--fail open|closed] < OCI-STATE\n");
	exit(2);
}

static void hook_args(int argc, char **argv, struct hook_opts *o)
{
	o->socket = NSEG_CTL_DEFAULT_SOCKET;
	o->timeout_ms = 5000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			o->socket = argv[++i];
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > 60000)
				hook_usage();
			o->timeout_ms = (int)v;
		} else if (strcmp(argv[i], "--fail") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "closed") == 0)
				o->fail_closed = 1;
			else if (strcmp(argv[i], "open") != 0)
				hook_usage();
		} else {
			hook_usage();
		}
	}
}

/* Failing open is an explicit, logged choice. */
static int hook_fail(const struct hook_opts *o, const char *id,
		     const char *why)
{
	syslog(LOG_WARNING, "container %.12s: %s; %s", id, why,
	       o->fail_closed ? "refusing to start it (fail: closed)"
			      : "starting it unwatched (fail: open)");
	fprintf(stderr, "nseg-oci-hook: container %.12s: %s\n", id, why);
	return o->fail_closed ? 1 : 0;
}

static int hook_ask(const struct hook_opts *o, json_int_t pid, const char *id)
{
	struct ctl_io_msg m = { 0 };
	char err[256];
	json_t *args = json_pack("{s:I, s:s}", "pid", pid, "id", id);
	int fd, st, rc = -1;

	if (!args)
		return -1;
	fd = ctl_io_connect(o->socket, o->timeout_ms);
	if (fd == -1 || ctl_io_send(fd, NSEG_CTL_WATCH_PID, 1, args) == -1)
		goto out;
	/* The reply comes once the table is in the kernel. */
	for (;;) {
		st = ctl_io_recv(fd, &m, o->timeout_ms, err, sizeof(err));
		if (st != CTL_IO_OK)
			break;
		if (m.type == NSEG_CTL_END) {
			rc = 0;
			break;
		}
		if (m.type == NSEG_CTL_ERROR)
			break;
		ctl_io_msg_clear(&m);
	}
out:
	ctl_io_msg_clear(&m);
	json_decref(args);
	if (fd != -1)
		close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct hook_opts o = { 0 };
	json_error_t jerr;
	json_t *state, *jpid, *jid;
	const char *id;
	int rc;

	hook_args(argc, argv, &o);
	openlog("nseg-oci-hook", LOG_PID, LOG_DAEMON);
	state = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(state))
		return hook_fail(&o, "?", "no OCI state on stdin");
	jpid = json_object_get(state, "pid");
	jid = json_object_get(state, "id");
	id = json_is_string(jid) ? json_string_value(jid) : "?";
	if (!json_is_integer(jpid) || json_integer_value(jpid) <= 0) {
		rc = hook_fail(&o, id, "OCI state has no pid");
		json_decref(state);
		return rc;
	}
	rc = hook_ask(&o, json_integer_value(jpid), id) == 0
		     ? 0
		     : hook_fail(&o, id, "nsegd did not confirm its table");
	json_decref(state);
	return rc;
}
