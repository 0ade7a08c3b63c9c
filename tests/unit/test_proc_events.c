/*
 * Process events from the kernel's proc connector (needs root): a child's
 * fork, exec and exit reach their callbacks, and so does a rename of its
 * main thread, but not a rename of one of its other threads.
 */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nseg/proc_events.h"

struct seen {
	pid_t want;
	int fork, exec, exit, comm;
};

static void on_fork(pid_t pid, void *arg)
{
	struct seen *s = arg;

	s->fork += pid == s->want;
}

static void on_exec(pid_t pid, void *arg)
{
	struct seen *s = arg;

	s->exec += pid == s->want;
}

static void on_exit_ev(pid_t pid, void *arg)
{
	struct seen *s = arg;

	s->exit += pid == s->want;
}

static void on_comm(pid_t pid, void *arg)
{
	struct seen *s = arg;

	s->comm += pid == s->want;
}

static void on_lost(void *arg)
{
	(void)arg;
}

static const struct proc_events_ops ops = {
	.fork = on_fork,
	.exec = on_exec,
	.exit = on_exit_ev,
	.comm = on_comm,
	.lost = on_lost,
};

/* Dispatches events until the child's exit is seen or 5 s pass. */
static void drain_until_exit(struct proc_events *e, struct seen *s)
{
	struct pollfd pfd = { .fd = proc_events_fd(e), .events = POLLIN };
	time_t end = time(NULL) + 5;

	while (!s->exit && time(NULL) < end) {
		if (poll(&pfd, 1, 200) > 0)
			proc_events_dispatch(e);
	}
}

static void *thread_rename(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "nseg-thread");
	return NULL;
}

/* _i == 0: the child renames its main thread; 1: only another thread. */
START_TEST(test_rename)
{
	struct proc_events *e;
	struct seen s = { 0 };
	int p[2], status;
	char go;

	if (geteuid() != 0)
		return;
	e = proc_events_open(&ops, &s);
	if (!e)
		return; /* no proc connector here */
	ck_assert_int_eq(pipe(p), 0);
	s.want = fork();
	if (s.want == 0) {
		pthread_t t;

		if (read(p[0], &go, 1) != 1)
			_exit(1);
		if (_i == 0)
			prctl(PR_SET_NAME, "nseg-renamed");
		else if (pthread_create(&t, NULL, thread_rename, NULL) != 0 ||
			 pthread_join(t, NULL) != 0)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_ge(s.want, 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	waitpid(s.want, &status, 0);
	drain_until_exit(e, &s);
	ck_assert_int_eq(s.fork, 1);
	ck_assert_int_eq(s.exit, 1);
	ck_assert_int_eq(s.comm, _i == 0 ? 1 : 0);
	proc_events_close(e);
}
END_TEST

static Suite *proc_events_suite(void)
{
	Suite *s = suite_create("proc_events");
	TCase *tc = tcase_create("connector");

	tcase_add_loop_test(tc, test_rename, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proc_events_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
