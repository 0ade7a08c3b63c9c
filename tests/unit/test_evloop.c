/*
 * The event loop: timers on a virtual clock (no sleeping), fd callbacks
 * through epoll, and deleting an fd whose event is already in the batch.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "nseg/evloop.h"

static uint64_t vclock;

static uint64_t fake_clock(void *arg)
{
	return *(uint64_t *)arg;
}

struct trace {
	int order[32];
	int n;
	struct evloop *l;
	struct ev_timer *victim;
};

struct tcb {
	struct trace *t;
	int id;
};

static void record(void *arg)
{
	struct tcb *c = arg;

	c->t->order[c->t->n++] = c->id;
}

static struct evloop *vloop(void)
{
	struct evloop *l = evloop_new();

	ck_assert_ptr_nonnull(l);
	vclock = 1000;
	evloop_set_clock(l, fake_clock, &vclock);
	ck_assert_uint_eq(evloop_now_ms(l), 1000);
	return l;
}

START_TEST(test_timers_in_order)
{
	static const struct {
		uint64_t delay;
		int id;
	} add[] = {{30, 3}, {10, 1}, {20, 2}, {10, 11}, {50, 5}};
	/* Due order; equal deadlines keep the order they were added in. */
	static const int want[] = {1, 11, 2, 3, 5};
	struct evloop *l = vloop();
	struct trace t = {0};
	struct tcb c[5];

	for (size_t i = 0; i < 5; i++) {
		c[i] = (struct tcb){&t, add[i].id};
		ck_assert_ptr_nonnull(
		    evloop_timer_add(l, add[i].delay, record, &c[i]));
	}
	ck_assert_int_eq(evloop_run_timers(l), 0);
	vclock += 9;
	ck_assert_int_eq(evloop_run_timers(l), 0);
	vclock += 1;
	ck_assert_int_eq(evloop_run_timers(l), 2);
	vclock += 20;
	ck_assert_int_eq(evloop_run_timers(l), 2);
	ck_assert_int_eq(evloop_run_timers(l), 0);
	vclock += 1000;
	ck_assert_int_eq(evloop_run_timers(l), 1);
	ck_assert_int_eq(t.n, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(t.order[i], want[i]);
	evloop_free(l);
}
END_TEST

START_TEST(test_cancel)
{
	struct evloop *l = vloop();
	struct trace t = {0};
	struct tcb a = {&t, 1}, b = {&t, 2}, c = {&t, 3};
	struct ev_timer *ta, *tb, *tc;

	ta = evloop_timer_add(l, 10, record, &a);
	tb = evloop_timer_add(l, 20, record, &b);
	tc = evloop_timer_add(l, 30, record, &c);
	/* Head, middle: both gone; the rest still fire. */
	evloop_timer_cancel(l, ta);
	evloop_timer_cancel(l, tb);
	vclock += 100;
	ck_assert_int_eq(evloop_run_timers(l), 1);
	ck_assert_int_eq(t.n, 1);
	ck_assert_int_eq(t.order[0], 3);
	(void)tc;
	/* Pending timers are freed with the loop (ASan checks). */
	evloop_timer_add(l, 5, record, &a);
	evloop_free(l);
}
END_TEST

static struct tcb later_c;

/* Re-arms a later timer and cancels another pending one. */
static void rearm(void *arg)
{
	struct tcb *c = arg;

	record(c);
	later_c = (struct tcb){c->t, 100 + c->id};
	evloop_timer_add(c->t->l, 10, record, &later_c);
	if (c->t->victim) {
		evloop_timer_cancel(c->t->l, c->t->victim);
		c->t->victim = NULL;
	}
}

START_TEST(test_timer_added_from_callback)
{
	struct evloop *l = vloop();
	struct trace t = {.l = l};
	struct tcb a = {&t, 1}, v = {&t, 2};

	evloop_timer_add(l, 5, rearm, &a);
	t.victim = evloop_timer_add(l, 7, record, &v);
	vclock += 7;
	/* The re-armed timer is due at 1017, not now; the victim is gone. */
	ck_assert_int_eq(evloop_run_timers(l), 1);
	ck_assert_int_eq(t.n, 1);
	vclock += 9;
	ck_assert_int_eq(evloop_run_timers(l), 0);
	vclock += 1;
	ck_assert_int_eq(evloop_run_timers(l), 1);
	ck_assert_int_eq(t.n, 2);
	ck_assert_int_eq(t.order[0], 1);
	ck_assert_int_eq(t.order[1], 101);
	evloop_free(l);
}
END_TEST

static void stop_cb(void *arg)
{
	evloop_stop(arg);
}

struct fdctx {
	struct evloop *l;
	int fds[2][2]; /* two pipes */
	int calls[2];
	uint32_t events;
	int del_other; /* callback of pipe 0 deletes pipe 1 */
};

static void on_fd(int fd, uint32_t events, void *arg)
{
	struct fdctx *x = arg;
	int i = fd == x->fds[0][0] ? 0 : 1;
	char buf[16];

	ck_assert_int_eq(fd, x->fds[i][0]);
	x->calls[i]++;
	x->events |= events;
	ck_assert_int_gt(read(fd, buf, sizeof(buf)), 0);
	if (i == 0 && x->del_other)
		evloop_del_fd(x->l, x->fds[1][0]);
	if (i == 1 && x->del_other)
		evloop_del_fd(x->l, x->fds[0][0]);
	if (x->calls[0] + x->calls[1] >= 1)
		evloop_stop(x->l);
}

static void fdctx_init(struct fdctx *x)
{
	memset(x, 0, sizeof(*x));
	x->l = evloop_new();
	ck_assert_ptr_nonnull(x->l);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pipe(x->fds[i]), 0);
		ck_assert_int_eq(
		    evloop_add_fd(x->l, x->fds[i][0], EPOLLIN, on_fd, x), 0);
	}
}

static void fdctx_done(struct fdctx *x)
{
	evloop_free(x->l);
	for (int i = 0; i < 2; i++) {
		close(x->fds[i][0]);
		close(x->fds[i][1]);
	}
}

START_TEST(test_fd_callback)
{
	struct fdctx x;

	fdctx_init(&x);
	ck_assert_int_eq(write(x.fds[1][1], "a", 1), 1);
	ck_assert_int_eq(evloop_run(x.l), 0);
	ck_assert_int_eq(x.calls[0], 0);
	ck_assert_int_eq(x.calls[1], 1);
	ck_assert(x.events & EPOLLIN);
	/* mod_fd to no events: a readable pipe no longer wakes the loop; a
	 * timer ends the run instead. */
	ck_assert_int_eq(evloop_mod_fd(x.l, x.fds[0][0], 0), 0);
	ck_assert_int_eq(evloop_mod_fd(x.l, 12345, EPOLLIN), -1);
	ck_assert_int_eq(write(x.fds[0][1], "b", 1), 1);
	evloop_timer_add(x.l, 20, stop_cb, x.l);
	ck_assert_int_eq(evloop_run(x.l), 0);
	ck_assert_int_eq(x.calls[0], 0);
	/* A deleted fd is never called again. */
	ck_assert_int_eq(evloop_mod_fd(x.l, x.fds[0][0], EPOLLIN), 0);
	evloop_del_fd(x.l, x.fds[0][0]);
	ck_assert_int_eq(evloop_mod_fd(x.l, x.fds[0][0], EPOLLIN), -1);
	evloop_timer_add(x.l, 20, stop_cb, x.l);
	ck_assert_int_eq(evloop_run(x.l), 0);
	ck_assert_int_eq(x.calls[0], 0);
	/* And can be added again. */
	ck_assert_int_eq(evloop_add_fd(x.l, x.fds[0][0], EPOLLIN, on_fd, &x),
			 0);
	ck_assert_int_eq(evloop_run(x.l), 0);
	ck_assert_int_eq(x.calls[0], 1);
	fdctx_done(&x);
}
END_TEST

START_TEST(test_del_fd_pending_in_batch)
{
	struct fdctx x;

	fdctx_init(&x);
	x.del_other = 1;
	/* Both readable before epoll_wait: both events land in one batch;
	 * whichever runs first deletes the other, which must not run. */
	ck_assert_int_eq(write(x.fds[0][1], "a", 1), 1);
	ck_assert_int_eq(write(x.fds[1][1], "b", 1), 1);
	ck_assert_int_eq(evloop_run(x.l), 0);
	ck_assert_int_eq(x.calls[0] + x.calls[1], 1);
	fdctx_done(&x);
}
END_TEST

START_TEST(test_real_clock_timer)
{
	struct evloop *l = evloop_new();
	struct trace t = {0};
	struct tcb c = {&t, 7};
	uint64_t t0;

	ck_assert_ptr_nonnull(l);
	t0 = evloop_now_ms(l);
	/* Back to the monotonic clock after a fake one. */
	evloop_set_clock(l, fake_clock, &vclock);
	evloop_set_clock(l, NULL, NULL);
	ck_assert_uint_ge(evloop_now_ms(l), t0);
	evloop_timer_add(l, 1, record, &c);
	evloop_timer_add(l, 2, stop_cb, l);
	ck_assert_int_eq(evloop_run(l), 0);
	ck_assert_int_eq(t.n, 1);
	ck_assert_uint_ge(evloop_now_ms(l), t0 + 2);
	evloop_free(l);
}
END_TEST

static Suite *evloop_suite(void)
{
	Suite *s = suite_create("evloop");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_timers_in_order);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_timer_added_from_callback);
	tcase_add_test(tc, test_fd_callback);
	tcase_add_test(tc, test_del_fd_pending_in_batch);
	tcase_add_test(tc, test_real_clock_timer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(evloop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
