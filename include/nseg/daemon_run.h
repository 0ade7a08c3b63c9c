/* nsegd's entry points, used by enforcer/main.c. */
#ifndef NSEG_DAEMON_RUN_H
#define NSEG_DAEMON_RUN_H

#include <stddef.h>

struct daemon;

/* Brings the daemon up with d->cfg already set. On failure returns -1
 * with a message in err; daemon_shutdown() still must be called. */
int daemon_init(struct daemon *d, char *err, size_t errlen);
/* Runs until SIGTERM/SIGINT. */
int daemon_run(struct daemon *d);
/* Flushes, removes the tables, frees everything (also d->cfg's lists). */
void daemon_shutdown(struct daemon *d);

#endif
