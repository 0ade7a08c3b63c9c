/*
 * Packets the kernel queued for nsegd that nsegd never decided: the
 * queue overran (full queue or full socket buffer). With fail: closed the
 * kernel dropped them and counts them itself; with fail: open it let them
 * through and counts nothing, so nsegd derives the number from its queue
 * rule's counter: queued by the rule, minus read by nsegd since that
 * table went in, minus still waiting in the queue. Either way the loss is
 * counted per namespace and in total, shown by status and logged: never
 * silent.
 */
#ifndef NSEG_QUEUE_HEALTH_H
#define NSEG_QUEUE_HEALTH_H

#include <stdint.h>

struct daemon;
struct nsw;

struct queue_health {
	uint64_t queued;	 /* the queue rule's counter (this table) */
	uint64_t read;		 /* packets nsegd read since this table */
	uint64_t waiting;	 /* in the kernel's queue now */
	uint64_t kernel_dropped; /* queue full, fail-closed (kernel count) */
	uint64_t user_dropped;	 /* socket buffer full (kernel count) */
	uint64_t unseen;	 /* queued - read - waiting, 0 if below */
};

/* Reads w's counters into *out. Returns 0, or -1 when the table or the
 * namespace could not be read (*out then holds what could). */
int queue_health_read(struct daemon *d, struct nsw *w,
		      struct queue_health *out);

/* Adds what w lost since the last call to w->q_unseen and
 * d->q_unseen_total, logging it. Call before w's table is replaced (its
 * counter restarts) and then queue_health_table_replaced(). */
void queue_health_poll_nsw(struct daemon *d, struct nsw *w);
/* queue_health_poll_nsw() for every watched namespace. */
void queue_health_poll(struct daemon *d);
/* w's table (and its queue rule's counter) was just replaced. */
void queue_health_table_replaced(struct nsw *w);

#endif
