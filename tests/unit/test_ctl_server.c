/*
 * The control server in-process: the test drives the event loop one
 * non-blocking step at a time and plays the client on the same thread,
 * so nothing sleeps. The authorisation cases fork a client that drops
 * to another uid (root only).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nseg/ctl_io.h"
#include "nseg/ctl_server.h"
#include "nseg/log.h"

#define T_NOEND 150 /* a request type whose handler forgets to end */

static char tmpdir[64];
static char sockpath[128];
static struct evloop *loop;
static struct ctl_server *srv;

struct handler_stats {
	int calls;
	int sent;
	int failed; /* a reply function returned -1 */
};
static struct handler_stats hs;

static uint64_t vclock_ms;
static uint64_t vclock(void *arg)
{
	return vclock_ms;
}

static void h_status(struct ctl_conn *c, const json_t *args, void *arg)
{
	hs.calls++;
	ctl_reply_record(
	    c, json_pack("{s:b, s:s}", "ok", 1, "arg", (const char *)arg));
	ctl_reply_end(c);
}

/* Streams args.n records, stopping at the first failed reply. */
static void h_list(struct ctl_conn *c, const json_t *args, void *arg)
{
	json_int_t n = json_integer_value(json_object_get(args, "n"));

	hs.calls++;
	for (json_int_t i = 0; i < n; i++) {
		if (ctl_reply_record(c, json_pack("{s:I, s:s}", "i", i, "pad",
						  "0123456789abcdef")) == -1) {
			hs.failed++;
			return;
		}
		hs.sent++;
	}
	ctl_reply_end(c);
}

static void h_notfound(struct ctl_conn *c, const json_t *args, void *arg)
{
	hs.calls++;
	ctl_reply_error(c, NSEG_CTL_E_NOTFOUND, "no workload '%s'",
			json_string_value(json_object_get(args, "workload")));
}

static void h_noend(struct ctl_conn *c, const json_t *args, void *arg)
{
	hs.calls++;
	ctl_reply_record(c, json_object());
}

/* ---- kept connections (ctl_conn_keep) ---- */

struct follow_stats {
	struct ctl_conn *conns[4]; /* kept, in order */
	int nconns;
	int keep_rc;		 /* what the last ctl_conn_keep() returned */
	int closes;		 /* on_close calls */
	struct ctl_conn *closed; /* the last one on_close was given */
	int reply_in_close; /* what a reply from inside on_close returned */
};
static struct follow_stats fs;

static void on_close(struct ctl_conn *c, void *arg)
{
	struct follow_stats *f = arg;

	f->closes++;
	f->closed = c;
	f->reply_in_close = ctl_reply_record(c, json_object());
}

/* Sends args.n records, then keeps the connection as args.how says. */
static void h_follow(struct ctl_conn *c, const json_t *args, void *arg)
{
	const char *how = json_string_value(json_object_get(args, "how"));
	json_int_t n = json_integer_value(json_object_get(args, "n"));

	hs.calls++;
	for (json_int_t i = 0; i < n; i++)
		ctl_reply_record(c, json_pack("{s:I}", "i", i));
	if (!strcmp(how, "end-then-keep")) {
		ctl_reply_end(c);
		fs.keep_rc = ctl_conn_keep(c, on_close, &fs);
		return;
	}
	if (!strcmp(how, "no-on-close")) {
		fs.keep_rc = ctl_conn_keep(c, NULL, &fs);
		ctl_reply_end(c);
		return;
	}
	fs.keep_rc = ctl_conn_keep(c, on_close, &fs);
	if (fs.keep_rc == 0 && fs.nconns < 4)
		fs.conns[fs.nconns++] = c;
	if (!strcmp(how, "keep-then-end"))
		ctl_reply_end(c);
}

static void setup(void)
{
	char err[256];

	log_init("test", 0, LOG_LVL_WARN);
	memset(&hs, 0, sizeof(hs));
	memset(&fs, 0, sizeof(fs));
	fs.keep_rc = 99;
	fs.reply_in_close = 99;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nseg-test-ctl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	chmod(tmpdir, 0755);
	/* "run" does not exist yet: the server creates it */
	snprintf(sockpath, sizeof(sockpath), "%s/run/nsegd.sock", tmpdir);
	loop = evloop_new();
	ck_assert_ptr_nonnull(loop);
	srv = ctl_server_new(loop, sockpath, "", err, sizeof(err));
	ck_assert_msg(srv != NULL, "ctl_server_new: %s", err);
	ck_assert_int_eq(ctl_server_handle(srv, NSEG_CTL_STATUS, h_status,
					   (void *)"status-arg"),
			 0);
	ck_assert_int_eq(
	    ctl_server_handle(srv, NSEG_CTL_WORKLOADS, h_list, NULL), 0);
	ck_assert_int_eq(
	    ctl_server_handle(srv, NSEG_CTL_BASELINE_SHOW, h_notfound, NULL),
	    0);
	ck_assert_int_eq(ctl_server_handle(srv, T_NOEND, h_noend, NULL), 0);
	ck_assert_int_eq(
	    ctl_server_handle(srv, NSEG_CTL_ALERTS, h_follow, NULL), 0);
}

static void teardown(void)
{
	char dir[160];

	ctl_server_free(srv);
	evloop_free(loop);
	snprintf(dir, sizeof(dir), "%s/run", tmpdir);
	rmdir(dir);
	rmdir(tmpdir);
}

static void stop_cb(void *arg)
{
	evloop_stop(arg);
}

/* One pass over ready fds and due timers, without waiting. */
static void step(void)
{
	ck_assert_ptr_nonnull(evloop_timer_add(loop, 0, stop_cb, loop));
	ck_assert_int_eq(evloop_run(loop), 0);
}

static int client(void)
{
	int fd = ctl_io_connect(sockpath, 1000);

	ck_assert_msg(fd != -1, "connect: %s", strerror(errno));
	step(); /* accept */
	return fd;
}

static void client_send(int fd, uint16_t type, uint32_t seq, json_t *args)
{
	ck_assert_int_eq(ctl_io_send(fd, type, seq, args), 0);
	json_decref(args);
}

static void send_raw(int fd, uint32_t magic, uint16_t version, uint32_t len,
		     const char *payload)
{
	struct nseg_ctl_hdr h = {magic, version, NSEG_CTL_STATUS, 77, len};
	size_t n = strlen(payload);

	ck_assert_int_eq(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	if (n)
		ck_assert_int_eq(write(fd, payload, n), (ssize_t)n);
}

struct reply {
	int nrec;
	int ended; /* END seen */
	int code;  /* ERROR code, 0 if none */
	char msg[256];
	uint32_t seq;
	json_t *first; /* first record */
	int eof;       /* the server closed the connection */
	int bad;       /* a message failed to decode */
};

static void reply_take(struct reply *r, struct ctl_io_msg *m)
{
	r->seq = m->seq;
	if (m->type == NSEG_CTL_RECORD) {
		if (!r->first)
			r->first = json_incref(m->payload);
		r->nrec++;
	} else if (m->type == NSEG_CTL_END) {
		r->ended = 1;
	} else if (m->type == NSEG_CTL_ERROR) {
		r->code = (int)json_integer_value(
		    json_object_get(m->payload, "code"));
		snprintf(
		    r->msg, sizeof(r->msg), "%s",
		    json_string_value(json_object_get(m->payload, "message")));
	}
}

/* Reads what is there without blocking. Returns 1 at EOF. */
static int client_drain(int fd, struct ctl_io_dec *d, struct reply *r)
{
	char buf[65536], err[256];
	struct ctl_io_msg m;
	ssize_t n;
	int st;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1;
		ctl_io_dec_feed(d, buf, (size_t)n);
		while ((st = ctl_io_dec_next(d, &m, err, sizeof(err))) ==
		       CTL_IO_OK) {
			reply_take(r, &m);
			ctl_io_msg_clear(&m);
		}
		if (st != CTL_IO_AGAIN)
			r->bad = 1;
	}
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Steps the server and reads until the server closes (2 s deadline). */
static void pump(int fd, struct reply *r)
{
	struct ctl_io_dec d;
	uint64_t deadline = wall_ms() + 2000;

	memset(r, 0, sizeof(*r));
	ctl_io_dec_init(&d);
	while (!r->eof && wall_ms() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		step();
		poll(&p, 1, 10);
		r->eof = client_drain(fd, &d, r);
	}
	ctl_io_dec_release(&d);
	ck_assert_msg(r->eof, "server did not close the connection");
	ck_assert(!r->bad);
}

static void reply_clear(struct reply *r)
{
	json_decref(r->first);
	r->first = NULL;
}

START_TEST(test_status)
{
	struct reply r;
	int fd = client();
	struct stat st;
	char dir[160];

	client_send(fd, NSEG_CTL_STATUS, 1234, NULL);
	pump(fd, &r);
	ck_assert_int_eq(r.nrec, 1);
	ck_assert(r.ended);
	ck_assert_int_eq(r.code, 0);
	ck_assert_uint_eq(r.seq, 1234);
	ck_assert_str_eq(json_string_value(json_object_get(r.first, "arg")),
			 "status-arg");
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
	reply_clear(&r);
	close(fd);

	ck_assert_int_eq(stat(sockpath, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0660);
	snprintf(dir, sizeof(dir), "%s/run", tmpdir);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);
}
END_TEST

/* Enough records to overflow the socket buffer many times over. */
START_TEST(test_stream)
{
	struct reply r;
	int fd = client();

	client_send(fd, NSEG_CTL_WORKLOADS, 5, json_pack("{s:i}", "n", 50000));
	pump(fd, &r);
	ck_assert_int_eq(r.nrec, 50000);
	ck_assert(r.ended);
	ck_assert_int_eq(json_integer_value(json_object_get(r.first, "i")), 0);
	ck_assert_int_eq(hs.failed, 0);
	reply_clear(&r);
	close(fd);
}
END_TEST

struct err_case {
	const char *what;
	uint16_t type; /* request type, or 0 to send raw bytes */
	uint32_t magic, version, len;
	const char *payload;
	int code;
	const char *msg;
};

static const struct err_case err_cases[] = {
    {"handler error", NSEG_CTL_BASELINE_SHOW, 0, 0, 0, NULL,
     NSEG_CTL_E_NOTFOUND, "no workload 'web'"},
    {"unknown command", 199, 0, 0, 0, NULL, NSEG_CTL_E_UNKNOWN,
     "unknown command 199"},
    {"reply type as request", NSEG_CTL_RECORD, 0, 0, 0, NULL,
     NSEG_CTL_E_UNKNOWN, "unknown command 1"},
    {"handler without end", T_NOEND, 0, 0, 0, NULL, NSEG_CTL_E_INTERNAL,
     "incomplete reply"},
    {"version", 0, NSEG_CTL_MAGIC, 2, 2, "{}", NSEG_CTL_E_VERSION,
     "protocol version mismatch: daemon speaks 1, client sent 2"},
    {"bad magic", 0, 0x12345678, 1, 2, "{}", NSEG_CTL_E_BADREQ,
     "bad request: bad magic 0x12345678"},
    {"oversized", 0, NSEG_CTL_MAGIC, 1, NSEG_CTL_MAX_PAYLOAD + 1, "",
     NSEG_CTL_E_BADREQ, "exceeds the limit"},
    {"not json", 0, NSEG_CTL_MAGIC, 1, 3, "{x}", NSEG_CTL_E_BADREQ, "not JSON"},
    {"array payload", 0, NSEG_CTL_MAGIC, 1, 2, "[]", NSEG_CTL_E_BADREQ,
     "not an object"},
};

START_TEST(test_errors)
{
	const struct err_case *ec = &err_cases[_i];
	struct reply r;
	int fd = client();

	if (ec->type)
		client_send(fd, ec->type, 31,
			    json_pack("{s:s}", "workload", "web"));
	else
		send_raw(fd, ec->magic, (uint16_t)ec->version, ec->len,
			 ec->payload);
	pump(fd, &r);
	ck_assert_msg(r.code == ec->code, "%s: code %d, message '%s'", ec->what,
		      r.code, r.msg);
	ck_assert_msg(strstr(r.msg, ec->msg), "%s: message '%s'", ec->what,
		      r.msg);
	ck_assert(!r.ended);
	if (ec->type || ec->version == 2)
		ck_assert_uint_eq(r.seq, ec->type ? 31 : 77);
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
	reply_clear(&r);
	close(fd);
}
END_TEST

/* The client sends its request and leaves before any reply. */
START_TEST(test_disconnect_before_reply)
{
	int fd = client();

	client_send(fd, NSEG_CTL_WORKLOADS, 1, json_pack("{s:i}", "n", 100000));
	close(fd);
	step();
	ck_assert_int_eq(hs.calls, 1);
	/* the handler learnt it could stop early */
	ck_assert_int_eq(hs.failed, 1);
	ck_assert_int_lt(hs.sent, 100000);
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
}
END_TEST

/* The client reads a little of a long reply, then leaves. */
START_TEST(test_disconnect_mid_reply)
{
	struct ctl_io_msg m;
	char err[256];
	int fd = client();

	client_send(fd, NSEG_CTL_WORKLOADS, 1, json_pack("{s:i}", "n", 30000));
	step();
	ck_assert_int_eq(hs.sent, 30000); /* all buffered, cap not reached */
	ck_assert_int_eq(ctl_io_recv(fd, &m, 1000, err, sizeof(err)),
			 CTL_IO_OK);
	ck_assert_uint_eq(m.type, NSEG_CTL_RECORD);
	ctl_io_msg_clear(&m);
	ck_assert_uint_eq(ctl_server_nclients(srv), 1);
	close(fd);
	for (int i = 0; i < 10 && ctl_server_nclients(srv); i++)
		step();
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
}
END_TEST

/* A client that never reads is dropped at the output cap. */
START_TEST(test_output_cap)
{
	struct reply r;
	int fd;

	ctl_server_set_limits(srv, 0, 0, 256 * 1024);
	fd = client();
	client_send(fd, NSEG_CTL_WORKLOADS, 1, json_pack("{s:i}", "n", 200000));
	step();
	ck_assert_int_eq(hs.failed, 1);
	ck_assert_int_lt(hs.sent, 200000);
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
	pump(fd, &r);
	ck_assert_int_gt(r.nrec, 0);
	ck_assert(!r.ended); /* cut short, and the client can tell */
	reply_clear(&r);
	close(fd);
}
END_TEST

/* Up to the cap, clients are served side by side; one more is refused. */
START_TEST(test_many_clients)
{
	int fds[CTL_SERVER_MAX_CLIENTS], extra;
	struct reply r;

	for (int i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
		fds[i] = client();
	ck_assert_uint_eq(ctl_server_nclients(srv), CTL_SERVER_MAX_CLIENTS);
	extra = client();
	pump(extra, &r);
	ck_assert_int_eq(r.code, NSEG_CTL_E_BUSY);
	close(extra);
	for (int i = 0; i < CTL_SERVER_MAX_CLIENTS; i++)
		client_send(fds[i], NSEG_CTL_WORKLOADS, (uint32_t)i,
			    json_pack("{s:i}", "n", 2000));
	/* in reverse order, so earlier clients' replies sit buffered */
	for (int i = CTL_SERVER_MAX_CLIENTS - 1; i >= 0; i--) {
		pump(fds[i], &r);
		ck_assert_int_eq(r.nrec, 2000);
		ck_assert(r.ended);
		ck_assert_uint_eq(r.seq, (uint32_t)i);
		reply_clear(&r);
		close(fds[i]);
	}
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
}
END_TEST

/* Idle clients are dropped by the timer, on a virtual clock. */
START_TEST(test_idle)
{
	struct nseg_ctl_hdr h = {NSEG_CTL_MAGIC, 1, NSEG_CTL_STATUS, 1, 2};
	struct reply r;
	int fd;

	vclock_ms = 1000;
	evloop_set_clock(loop, vclock, NULL);
	fd = client();
	/* half a request: progress re-arms the timer */
	vclock_ms += CTL_SERVER_IDLE_MS - 1;
	ck_assert_int_eq(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	step();
	vclock_ms += CTL_SERVER_IDLE_MS - 1;
	evloop_run_timers(loop);
	ck_assert_uint_eq(ctl_server_nclients(srv), 1);
	vclock_ms += 2;
	evloop_run_timers(loop);
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
	ck_assert_int_eq(hs.calls, 0);
	pump(fd, &r);
	ck_assert_int_eq(r.nrec + r.ended + r.code, 0);
	close(fd);
}
END_TEST

START_TEST(test_register)
{
	ck_assert_int_eq(
	    ctl_server_handle(srv, NSEG_CTL_STATUS, h_status, NULL), -1);
	ck_assert_int_eq(ctl_server_handle(srv, NSEG_CTL_END, h_status, NULL),
			 -1);
	ck_assert_int_eq(ctl_server_handle(srv, 300, NULL, NULL), -1);
}
END_TEST

/* A live server is never replaced; a regular file is never removed. */
START_TEST(test_stale)
{
	char err[256], path[160];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ctl_server *s2;
	int fd;

	s2 = ctl_server_new(loop, sockpath, "", err, sizeof(err));
	ck_assert_ptr_null(s2);
	ck_assert_msg(strstr(err, "another nsegd is already listening"), "%s",
		      err);

	snprintf(path, sizeof(path), "%s/file", tmpdir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	ck_assert_ptr_null(ctl_server_new(loop, path, "", err, sizeof(err)));
	ck_assert_msg(strstr(err, "is not a socket"), "%s", err);
	ck_assert_int_eq(access(path, F_OK), 0);
	unlink(path);

	/* what a killed daemon leaves: a socket file nobody listens on */
	snprintf(path, sizeof(path), "%s/stale.sock", tmpdir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/stale.sock", tmpdir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	s2 = ctl_server_new(loop, path, "", err, sizeof(err));
	ck_assert_msg(s2 != NULL, "%s", err);
	ctl_server_free(s2);
	ck_assert_int_eq(access(path, F_OK), -1);

	ck_assert_ptr_null(
	    ctl_server_new(loop, path, "no-such-group-nseg", err, sizeof(err)));
	ck_assert_msg(strstr(err, "unknown group 'no-such-group-nseg'"), "%s",
		      err);
}
END_TEST

/* ---- authorisation: a forked client under another uid ---- */

struct auth_case {
	const char *what;
	const char *group; /* server's group */
	gid_t gid, supp;   /* client's primary and supplementary gid */
	int want_code;	   /* 0: served */
	const char *want_msg;
};

static const struct auth_case auth_cases[] = {
    {"no group", "", 65534, 65534, NSEG_CTL_E_DENIED,
     "permission denied: uid 65534 is not root"},
    {"not member", "daemon", 65534, 65534, NSEG_CTL_E_DENIED,
     "permission denied: uid 65534 is not root and not in group daemon"},
    {"primary gid", "daemon", 1, 65534, 0, NULL},
    {"supplementary", "daemon", 65534, 1, 0, NULL},
};

static void auth_child(const struct auth_case *ac, const char *path, int wfd)
{
	struct ctl_io_msg m;
	char err[256], out[512] = "";
	int fd;

	if (setgroups(1, &ac->supp) || setgid(ac->gid) || setuid(65534))
		_exit(2);
	fd = ctl_io_connect(path, 1000);
	if (fd == -1) {
		snprintf(out, sizeof(out), "connect: %s", strerror(errno));
	} else if (ctl_io_send(fd, NSEG_CTL_STATUS, 1, NULL) == -1 &&
		   errno != EPIPE) {
		snprintf(out, sizeof(out), "send: %s", strerror(errno));
	} else if (ctl_io_recv(fd, &m, 2000, err, sizeof(err)) != CTL_IO_OK) {
		snprintf(out, sizeof(out), "recv: %s", err);
	} else {
		char *s = json_dumps(m.payload, JSON_COMPACT);
		snprintf(out, sizeof(out), "%u %s", m.type, s);
		free(s);
	}
	if (write(wfd, out, strlen(out)) < 0)
		_exit(3);
	_exit(0);
}

static void child_done_cb(int fd, uint32_t events, void *arg)
{
	evloop_stop(arg);
}

START_TEST(test_auth)
{
	const struct auth_case *ac = &auth_cases[_i];
	char err[256], path[160], out[512] = "";
	struct ctl_server *s2;
	struct ev_timer *t;
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		return; /* needs root to become another uid */
	snprintf(path, sizeof(path), "%s/auth.sock", tmpdir);
	s2 = ctl_server_new(loop, path, ac->group, err, sizeof(err));
	ck_assert_msg(s2 != NULL, "%s", err);
	ctl_server_handle(s2, NSEG_CTL_STATUS, h_status, (void *)"x");
	if (*ac->group) {
		struct stat st;
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_uint_eq(st.st_gid, getgrnam(ac->group)->gr_gid);
	}
	/* the file mode is not what is under test: the peer check is */
	chmod(path, 0666);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(p[0]);
		auth_child(ac, path, p[1]);
	}
	close(p[1]);
	/* the child's exit closes the pipe and stops the loop */
	evloop_add_fd(loop, p[0], EPOLLIN, child_done_cb, loop);
	t = evloop_timer_add(loop, 5000, stop_cb, loop);
	evloop_run(loop);
	evloop_timer_cancel(loop, t);
	evloop_del_fd(loop, p[0]);
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	if (ac->want_code) {
		char want[512];
		snprintf(want, sizeof(want),
			 "3 {\"code\":%d,\"message\":\"%s\"}", ac->want_code,
			 ac->want_msg);
		ck_assert_str_eq(out, want);
	} else {
		ck_assert_str_eq(out, "1 {\"ok\":true,\"arg\":\"x\"}");
	}
	ctl_server_free(s2);
}
END_TEST

static int follow(int nbacklog, const char *how)
{
	int fd = client();

	client_send(fd, NSEG_CTL_ALERTS, 9,
		    json_pack("{s:i, s:s}", "n", nbacklog, "how", how));
	step();
	ck_assert_int_eq(hs.calls, 1);
	return fd;
}

/*
 * A kept connection outlives its handler and the idle timeout; records
 * pushed later reach the client at once; END closes it and on_close
 * runs once, from the loop, not from the reply.
 */
START_TEST(test_keep_push)
{
	struct ctl_io_dec d;
	struct reply r = {0};
	struct ctl_conn *c;
	int fd;

	vclock_ms = 1000;
	evloop_set_clock(loop, vclock, NULL);
	ctl_io_dec_init(&d);
	fd = follow(2, "keep");
	ck_assert_int_eq(fs.keep_rc, 0);
	c = fs.conns[0];
	ck_assert_int_eq(client_drain(fd, &d, &r), 0);
	ck_assert_int_eq(r.nrec, 2);
	ck_assert(!r.ended && !r.code);

	vclock_ms += 3 * CTL_SERVER_IDLE_MS;
	evloop_run_timers(loop);
	step();
	ck_assert_uint_eq(ctl_server_nclients(srv), 1);
	ck_assert_int_eq(ctl_conn_keep(c, on_close, &fs), -1);

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(
		    ctl_reply_record(c, json_pack("{s:i}", "later", i)), 0);
	/* no step: the records were written by the reply itself */
	ck_assert_int_eq(client_drain(fd, &d, &r), 0);
	ck_assert_int_eq(r.nrec, 5);
	ck_assert_uint_eq(r.seq, 9);

	ck_assert_int_eq(ctl_reply_end(c), 0);
	ck_assert_int_eq(fs.closes, 0);
	step();
	ck_assert_int_eq(fs.closes, 1);
	ck_assert_ptr_eq(fs.closed, c);
	ck_assert_int_eq(fs.reply_in_close, -1);
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
	ck_assert_int_eq(client_drain(fd, &d, &r), 1);
	ck_assert(r.ended);
	ck_assert(!r.bad);
	step();
	ck_assert_int_eq(fs.closes, 1);
	ctl_io_dec_release(&d);
	reply_clear(&r);
	close(fd);
}
END_TEST

struct leave_case {
	const char *what;
	int push;  /* the daemon pushes before the loop sees the hang-up */
	int extra; /* the client sends bytes instead of closing */
};

static const struct leave_case leave_cases[] = {
    {"close", 0, 0},
    {"close, then a push", 1, 0},
    {"a second request", 0, 1},
};

/* However a follower leaves, on_close runs exactly once. */
START_TEST(test_keep_leave)
{
	const struct leave_case *lc = &leave_cases[_i];
	int fd = follow(1, "keep");

	ck_assert_int_eq(fs.keep_rc, 0);
	if (lc->extra)
		client_send(fd, NSEG_CTL_STATUS, 2, NULL);
	else
		close(fd);
	if (lc->push) {
		ck_assert_int_eq(ctl_reply_record(fs.conns[0], json_object()),
				 -1);
		ck_assert_msg(fs.closes == 0, "%s: on_close from a reply",
			      lc->what);
	}
	for (int i = 0; i < 4; i++)
		step();
	ck_assert_msg(fs.closes == 1, "%s: %d on_close calls", lc->what,
		      fs.closes);
	ck_assert_ptr_eq(fs.closed, fs.conns[0]);
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
	if (lc->extra)
		close(fd);
}
END_TEST

/* Freeing the server closes every follower through on_close. */
START_TEST(test_keep_server_free)
{
	struct reply r;
	int fd[2];

	fd[0] = follow(3, "keep");
	hs.calls = 0;
	fd[1] = follow(0, "keep");
	ck_assert_int_eq(fs.nconns, 2);
	ctl_server_free(srv);
	srv = NULL;
	ck_assert_int_eq(fs.closes, 2);
	ck_assert_int_eq(fs.reply_in_close, -1);
	for (int i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		struct ctl_io_dec d;

		ctl_io_dec_init(&d);
		ck_assert_int_eq(client_drain(fd[i], &d, &r), 1);
		ck_assert_int_eq(r.nrec, i ? 0 : 3);
		ck_assert(!r.ended); /* cut short, and the client can tell */
		ctl_io_dec_release(&d);
		reply_clear(&r);
		close(fd[i]);
	}
}
END_TEST

/* A follower that does not read is dropped at the output cap. */
START_TEST(test_keep_cap)
{
	int fd, rc = 0, n;

	ctl_server_set_limits(srv, 0, 0, 64 * 1024);
	fd = follow(0, "keep");
	for (n = 0; n < 100000 && rc == 0; n++)
		rc = ctl_reply_record(fs.conns[0],
				      json_pack("{s:i, s:s}", "n", n, "pad",
						"0123456789abcdef0123456789"));
	ck_assert_int_eq(rc, -1);
	ck_assert_int_lt(n, 100000);
	ck_assert_int_eq(fs.closes, 0);
	step();
	ck_assert_int_eq(fs.closes, 1);
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
	close(fd);
}
END_TEST

struct keep_case {
	const char *how;
	int keep_rc;
	int closes; /* after the reply is out */
};

static const struct keep_case keep_cases[] = {
    {"end-then-keep", -1, 0},
    {"no-on-close", -1, 0},
    {"keep-then-end", 0, 1},
};

/* Keeping is refused after the reply ended; a kept reply may end in
 * its own handler and still closes through on_close. */
START_TEST(test_keep_refused)
{
	const struct keep_case *kc = &keep_cases[_i];
	struct reply r;
	int fd = follow(2, kc->how);

	pump(fd, &r);
	ck_assert_msg(fs.keep_rc == kc->keep_rc, "%s: keep returned %d",
		      kc->how, fs.keep_rc);
	ck_assert_int_eq(r.nrec, 2);
	ck_assert(r.ended);
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(fs.closes, kc->closes);
	ck_assert_uint_eq(ctl_server_nclients(srv), 0);
	reply_clear(&r);
	close(fd);
}
END_TEST

static Suite *ctl_server_suite(void)
{
	Suite *s = suite_create("ctl_server");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_stream);
	tcase_add_loop_test(tc, test_errors, 0,
			    sizeof(err_cases) / sizeof(err_cases[0]));
	tcase_add_test(tc, test_disconnect_before_reply);
	tcase_add_test(tc, test_disconnect_mid_reply);
	tcase_add_test(tc, test_output_cap);
	tcase_add_test(tc, test_many_clients);
	tcase_add_test(tc, test_idle);
	tcase_add_test(tc, test_register);
	tcase_add_test(tc, test_stale);
	tcase_add_loop_test(tc, test_auth, 0,
			    sizeof(auth_cases) / sizeof(auth_cases[0]));
	tcase_add_test(tc, test_keep_push);
	tcase_add_loop_test(tc, test_keep_leave, 0,
			    sizeof(leave_cases) / sizeof(leave_cases[0]));
	tcase_add_test(tc, test_keep_server_free);
	tcase_add_test(tc, test_keep_cap);
	tcase_add_loop_test(tc, test_keep_refused, 0,
			    sizeof(keep_cases) / sizeof(keep_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_server_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
