/*
 * Process events from the kernel's proc connector (fork, exec, exit and
 * renames of every process on the host), the event source that keeps the
 * process cache and namespace discovery current without polling /proc.
 */
#ifndef NSEG_PROC_EVENTS_H
#define NSEG_PROC_EVENTS_H

#include <sys/types.h>

struct proc_events;

struct proc_events_ops {
	void (*fork)(pid_t child, void *arg);
	void (*exec)(pid_t pid, void *arg);
	void (*exit)(pid_t pid, void *arg);
	/* A process changed its comm (prctl(PR_SET_NAME) on its main
	 * thread; a thread renaming itself is not reported). May be NULL. */
	void (*comm)(pid_t pid, void *arg);
	/* Events were lost (receive buffer overrun): resynchronise. */
	void (*lost)(void *arg);
};

/* Subscribes; caller owns the result. NULL if the connector is missing
 * (the caller then falls back to rescanning /proc on cache misses). */
struct proc_events *proc_events_open(const struct proc_events_ops *ops,
				     void *arg);
void proc_events_close(struct proc_events *e);
int proc_events_fd(const struct proc_events *e);
/* Reads and dispatches pending events without blocking. */
void proc_events_dispatch(struct proc_events *e);

#endif
