/*
 * The daemon's one event loop: epoll for file descriptors plus one-shot
 * timers kept in a small sorted list (the daemon has a handful of timers).
 * Single-threaded: callbacks run on the loop and must not block.
 *
 * Time is read through a clock function so tests can drive it without
 * sleeping (evloop_set_clock).
 */
#ifndef NSEG_EVLOOP_H
#define NSEG_EVLOOP_H

#include <stdint.h>

struct evloop;
struct ev_timer;

typedef void (*ev_fd_cb)(int fd, uint32_t events, void *arg);
typedef void (*ev_timer_cb)(void *arg);
typedef uint64_t (*ev_clock_fn)(void *arg);

/* Returns a new loop (caller owns; free with evloop_free), NULL on error. */
struct evloop *evloop_new(void);
/* Frees the loop and every pending timer; registered fds are not closed. */
void evloop_free(struct evloop *l);

/* Watches fd for events (EPOLLIN, EPOLLOUT, ...). The fd stays owned by
 * the caller, who must evloop_del_fd() it before closing. */
int evloop_add_fd(struct evloop *l, int fd, uint32_t events, ev_fd_cb cb,
		  void *arg);
int evloop_mod_fd(struct evloop *l, int fd, uint32_t events);
void evloop_del_fd(struct evloop *l, int fd);

/* Calls cb(arg) once, delay_ms from now. The handle is valid until the
 * callback has started or evloop_timer_cancel() is called. */
struct ev_timer *evloop_timer_add(struct evloop *l, uint64_t delay_ms,
				  ev_timer_cb cb, void *arg);
void evloop_timer_cancel(struct evloop *l, struct ev_timer *t);

/* Monotonic milliseconds (or the test clock). */
uint64_t evloop_now_ms(struct evloop *l);
void evloop_set_clock(struct evloop *l, ev_clock_fn fn, void *arg);

/* Runs expired timers without waiting for fds (used by tests with a
 * virtual clock). Returns how many ran. */
int evloop_run_timers(struct evloop *l);

/* Runs until evloop_stop(). Returns 0, or -1 if epoll fails. */
int evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);

#endif
