#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "nseg/evloop.h"
#include "nseg/log.h"

struct ev_fd {
	int fd;
	ev_fd_cb cb;
	void *arg;
	struct ev_fd *next;
};

struct ev_timer {
	uint64_t when;
	ev_timer_cb cb;
	void *arg;
	struct ev_timer *next;
};

struct evloop {
	int epfd;
	int stop;
	struct ev_fd *fds;
	struct ev_timer *timers; /* sorted by `when` */
	ev_clock_fn clock;
	void *clock_arg;
};

static uint64_t evloop_monotonic(void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct evloop *evloop_new(void)
{
	struct evloop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd == -1) {
		free(l);
		return NULL;
	}
	l->clock = evloop_monotonic;
	return l;
}

void evloop_free(struct evloop *l)
{
	if (!l)
		return;
	while (l->fds) {
		struct ev_fd *f = l->fds;
		l->fds = f->next;
		free(f);
	}
	while (l->timers) {
		struct ev_timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	close(l->epfd);
	free(l);
}

int evloop_add_fd(struct evloop *l, int fd, uint32_t events, ev_fd_cb cb,
		  void *arg)
{
	struct epoll_event ev = { .events = events };
	struct ev_fd *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->fd = fd;
	f->cb = cb;
	f->arg = arg;
	ev.data.ptr = f;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		free(f);
		return -1;
	}
	f->next = l->fds;
	l->fds = f;
	return 0;
}

static struct ev_fd *evloop_find(struct evloop *l, int fd)
{
	for (struct ev_fd *f = l->fds; f; f = f->next)
		if (f->fd == fd)
			return f;
	return NULL;
}

int evloop_mod_fd(struct evloop *l, int fd, uint32_t events)
{
	struct ev_fd *f = evloop_find(l, fd);
	struct epoll_event ev = { .events = events };

	if (!f) {
		errno = ENOENT;
		return -1;
	}
	ev.data.ptr = f;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void evloop_del_fd(struct evloop *l, int fd)
{
	for (struct ev_fd **pp = &l->fds; *pp; pp = &(*pp)->next) {
		struct ev_fd *f = *pp;
		if (f->fd != fd)
			continue;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		/* An event for this fd may already sit in the current
		 * epoll_wait batch; a NULL callback makes it a no-op. The
		 * record is freed when the batch is done. */
		f->cb = NULL;
		f->fd = -1;
		return;
	}
}

static void evloop_reap_fds(struct evloop *l)
{
	for (struct ev_fd **pp = &l->fds; *pp;) {
		struct ev_fd *f = *pp;
		if (f->cb) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		free(f);
	}
}

struct ev_timer *evloop_timer_add(struct evloop *l, uint64_t delay_ms,
				  ev_timer_cb cb, void *arg)
{
	struct ev_timer *t = calloc(1, sizeof(*t)), **pp;

	if (!t)
		return NULL;
	t->when = evloop_now_ms(l) + delay_ms;
	t->cb = cb;
	t->arg = arg;
	for (pp = &l->timers; *pp && (*pp)->when <= t->when; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	return t;
}

void evloop_timer_cancel(struct evloop *l, struct ev_timer *t)
{
	for (struct ev_timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

uint64_t evloop_now_ms(struct evloop *l)
{
	return l->clock(l->clock_arg);
}

void evloop_set_clock(struct evloop *l, ev_clock_fn fn, void *arg)
{
	l->clock = fn ? fn : evloop_monotonic;
	l->clock_arg = arg;
}

int evloop_run_timers(struct evloop *l)
{
	uint64_t now = evloop_now_ms(l);
	int n = 0;

	/* A callback may add or cancel timers, so unlink before calling. */
	while (l->timers && l->timers->when <= now) {
		struct ev_timer *t = l->timers;
		l->timers = t->next;
		t->cb(t->arg);
		free(t);
		n++;
	}
	return n;
}

static int evloop_timeout(struct evloop *l)
{
	uint64_t now;

	if (!l->timers)
		return -1;
	now = evloop_now_ms(l);
	if (l->timers->when <= now)
		return 0;
	if (l->timers->when - now > 60000)
		return 60000;
	return (int)(l->timers->when - now);
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[64];

	l->stop = 0;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 64, evloop_timeout(l));

		if (n == -1 && errno != EINTR) {
			log_warn("%s: epoll_wait", __func__);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct ev_fd *f = evs[i].data.ptr;
			if (f->cb)
				f->cb(f->fd, evs[i].events, f->arg);
		}
		evloop_reap_fds(l);
		evloop_run_timers(l);
	}
	return 0;
}

void evloop_stop(struct evloop *l)
{
	l->stop = 1;
}
