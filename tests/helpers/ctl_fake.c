/*
 * ctl_fake SOCKET FIXTURE.json [REQUEST_LOG]: a stand-in for nsegd's
 * control socket that answers from a fixture, so nsegctl's output can be
 * tested without a daemon. The fixture maps "TYPE" or "TYPE:WORKLOAD"
 * (tried first) to {"records":[...]} or {"error":{"code":N,"message":
 * "..."}}; with "echo":true one more record {"echo":ARGS} shows what the
 * client sent.
 *
 * A request with "follow":true whose entry has "follow":[...] is kept
 * open (ctl_conn_keep) after its records: the follow records are pushed
 * one every "every_ms" (default 20), then "then" says what happens:
 * "end" (END, the default), "hold" (wait for the client to leave) or
 * "die" (the fake stops at once, closing the stream without END).
 *
 * REQUEST_LOG, when given, gets one line per request, "TYPE ARGS" with
 * ARGS as compact JSON with sorted keys, and "close TYPE" when a kept
 * connection closes.
 *
 * Runs until SIGTERM or SIGINT, then removes the socket.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "nseg/ctl.h"
#include "nseg/ctl_server.h"
#include "nseg/log.h"

#define FAKE_EVERY_MS 20

static json_t *fake_fixture;
static struct evloop *fake_loop;
static FILE *fake_log;

/* A kept connection being fed its "follow" records. */
struct fake_follow {
	struct ctl_conn *c;
	uint16_t type;
	const json_t *spec;
	size_t next;
	struct ev_timer *t;
};

static const json_t *fake_spec(uint16_t type, const json_t *args)
{
	const char *w = json_string_value(json_object_get(args, "workload"));
	const json_t *spec = NULL;
	char key[320];

	if (w) {
		snprintf(key, sizeof(key), "%u:%s", type, w);
		spec = json_object_get(fake_fixture, key);
	}
	if (!spec) {
		snprintf(key, sizeof(key), "%u", type);
		spec = json_object_get(fake_fixture, key);
	}
	return spec;
}

static void fake_log_request(uint16_t type, const json_t *args)
{
	char *s;

	if (!fake_log)
		return;
	s = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
	fprintf(fake_log, "%u %s\n", type, s ? s : "?");
	fflush(fake_log);
	free(s);
}

static void fake_closed(struct ctl_conn *c, void *arg)
{
	struct fake_follow *f = arg;

	if (fake_log) {
		fprintf(fake_log, "close %u\n", f->type);
		fflush(fake_log);
	}
	if (f->t)
		evloop_timer_cancel(fake_loop, f->t);
	free(f);
}

static void fake_push(void *arg)
{
	struct fake_follow *f = arg;
	const json_t *recs = json_object_get(f->spec, "follow");
	const char *then = json_string_value(json_object_get(f->spec, "then"));
	json_int_t every =
	    json_integer_value(json_object_get(f->spec, "every_ms"));

	f->t = NULL;
	if (f->next < json_array_size(recs)) {
		ctl_reply_record(f->c,
				 json_incref(json_array_get(recs, f->next++)));
		f->t = evloop_timer_add(
		    fake_loop, every > 0 ? (uint64_t)every : FAKE_EVERY_MS,
		    fake_push, f);
	} else if (then && !strcmp(then, "die")) {
		evloop_stop(fake_loop);
	} else if (!then || strcmp(then, "hold")) {
		ctl_reply_end(f->c);
	}
}

/* Keeps c for the spec's "follow" records. Returns 0, or -1 to end now. */
static int fake_follow(struct ctl_conn *c, uint16_t type, const json_t *spec)
{
	struct fake_follow *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*f = (struct fake_follow){.c = c, .type = type, .spec = spec};
	if (ctl_conn_keep(c, fake_closed, f) == -1) {
		free(f);
		return -1;
	}
	f->t = evloop_timer_add(fake_loop, FAKE_EVERY_MS, fake_push, f);
	return 0;
}

static void fake_handler(struct ctl_conn *c, const json_t *args, void *arg)
{
	uint16_t type = (uint16_t)(uintptr_t)arg;
	const json_t *spec = fake_spec(type, args);
	const json_t *err = json_object_get(spec, "error");
	json_t *rec;
	size_t i;

	fake_log_request(type, args);
	if (err) {
		ctl_reply_error(
		    c, (int)json_integer_value(json_object_get(err, "code")),
		    "%s",
		    json_string_value(json_object_get(err, "message"))
			?: "(no message)");
		return;
	}
	json_array_foreach(json_object_get(spec, "records"), i, rec)
	    ctl_reply_record(c, json_incref(rec));
	if (json_is_true(json_object_get(spec, "echo")))
		ctl_reply_record(c, json_pack("{s:O}", "echo", args));
	if (json_is_true(json_object_get(args, "follow")) &&
	    json_object_get(spec, "follow") && fake_follow(c, type, spec) == 0)
		return;
	ctl_reply_end(c);
}

static void fake_signal(int fd, uint32_t events, void *arg)
{
	evloop_stop(arg);
}

int main(int argc, char **argv)
{
	static const uint16_t types[] = {
	    NSEG_CTL_STATUS,	      NSEG_CTL_WORKLOADS,
	    NSEG_CTL_BASELINE_SHOW,   NSEG_CTL_BASELINE_APPROVE,
	    NSEG_CTL_BASELINE_REJECT, NSEG_CTL_MODE,
	    NSEG_CTL_ALERTS,
	};
	struct ctl_server *s;
	json_error_t jerr;
	char err[256];
	sigset_t set;
	int sfd;

	log_init("ctl_fake", 0, LOG_LVL_WARN);
	if (argc != 3 && argc != 4)
		fatalx("usage: ctl_fake SOCKET FIXTURE.json [REQUEST_LOG]");
	fake_fixture = json_load_file(argv[2], 0, &jerr);
	if (!json_is_object(fake_fixture))
		fatalx("%s:%d: %s", argv[2], jerr.line, jerr.text);
	if (argc == 4 && !(fake_log = fopen(argv[3], "a")))
		fatal("%s", argv[3]);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	fake_loop = evloop_new();
	if (sfd == -1 || !fake_loop)
		fatal("set-up");
	s = ctl_server_new(fake_loop, argv[1], "", err, sizeof(err));
	if (!s)
		fatalx("%s", err);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		ctl_server_handle(s, types[i], fake_handler,
				  (void *)(uintptr_t)types[i]);
	evloop_add_fd(fake_loop, sfd, EPOLLIN, fake_signal, fake_loop);
	evloop_run(fake_loop);
	evloop_del_fd(fake_loop, sfd);
	close(sfd);
	ctl_server_free(s);
	evloop_free(fake_loop);
	if (fake_log)
		fclose(fake_log);
	json_decref(fake_fixture);
	return 0;
}
