/* Learn-then-enforce (enforcer/learn_window.c). */
#ifndef NSEG_LEARN_WINDOW_H
#define NSEG_LEARN_WINDOW_H

#include <stdint.h>

struct daemon;
struct store_workload;

/* Checks every few seconds for workloads whose learning window is over
 * (when learn_then_enforce is on). */
int learn_window_start(struct daemon *d);
void learn_window_stop(struct daemon *d);
/* Seconds of learning left for w (its own window, or the configured one),
 * or -1 when no window applies (not learning, or the feature is off). */
int64_t learn_window_left(const struct daemon *d,
			  const struct store_workload *w);

#endif
