/*
 * ctl_fake SOCKET FIXTURE.json: a stand-in for nsegd's control socket
 * that answers from a fixture, so nsegctl's output can be tested without
 * a daemon. The fixture maps "TYPE" or "TYPE:WORKLOAD" (tried first) to
 * {"records":[...]} or {"error":{"code":N,"message":"..."}}; with
 * "echo":true one more record {"echo":ARGS} shows what the client sent.
 * Runs until SIGTERM or SIGINT, then removes the socket.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "nseg/ctl.h"
#include "nseg/ctl_server.h"
#include "nseg/log.h"

static json_t *fake_fixture;

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

static void fake_handler(struct ctl_conn *c, const json_t *args, void *arg)
{
	const json_t *spec = fake_spec((uint16_t)(uintptr_t)arg, args);
	const json_t *err = json_object_get(spec, "error");
	json_t *rec;
	size_t i;

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
	ctl_reply_end(c);
}

static void fake_signal(int fd, uint32_t events, void *arg)
{
	evloop_stop(arg);
}

int main(int argc, char **argv)
{
	static const uint16_t types[] = {NSEG_CTL_STATUS, NSEG_CTL_WORKLOADS,
					 NSEG_CTL_BASELINE_SHOW};
	struct ctl_server *s;
	struct evloop *l;
	json_error_t jerr;
	char err[256];
	sigset_t set;
	int sfd;

	log_init("ctl_fake", 0, LOG_LVL_WARN);
	if (argc != 3)
		fatalx("usage: ctl_fake SOCKET FIXTURE.json");
	fake_fixture = json_load_file(argv[2], 0, &jerr);
	if (!json_is_object(fake_fixture))
		fatalx("%s:%d: %s", argv[2], jerr.line, jerr.text);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	l = evloop_new();
	if (sfd == -1 || !l)
		fatal("set-up");
	s = ctl_server_new(l, argv[1], "", err, sizeof(err));
	if (!s)
		fatalx("%s", err);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		ctl_server_handle(s, types[i], fake_handler,
				  (void *)(uintptr_t)types[i]);
	evloop_add_fd(l, sfd, EPOLLIN, fake_signal, l);
	evloop_run(l);
	evloop_del_fd(l, sfd);
	close(sfd);
	ctl_server_free(s);
	evloop_free(l);
	json_decref(fake_fixture);
	return 0;
}
