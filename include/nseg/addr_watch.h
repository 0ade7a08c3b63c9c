/*
 * The interface addresses of one network namespace, kept current with
 * rtnetlink notifications (no polling): a container that gets a new
 * address maps back to its identity at once.
 */
#ifndef NSEG_ADDR_WATCH_H
#define NSEG_ADDR_WATCH_H

#include "nseg/pkt.h"

struct addr_watch;

/* add: 1 for a new address, 0 for a removed one. */
typedef void (*addr_watch_cb)(int add, const struct nseg_addr *a, void *arg);

/* Subscribes to address changes in nsfd's namespace (nsfd -1: the
 * daemon's own) and reports the current addresses through cb before
 * returning. Caller owns the result. */
struct addr_watch *addr_watch_open(int nsfd, addr_watch_cb cb, void *arg);
void addr_watch_close(struct addr_watch *w);
int addr_watch_fd(const struct addr_watch *w);
/* Reads pending notifications without blocking. Returns -1 when
 * notifications were lost (the caller may reopen to resynchronise). */
int addr_watch_dispatch(struct addr_watch *w);

/* Reports every current address again through the callback (after lost
 * notifications; the caller clears its set first). */
int addr_watch_resync(struct addr_watch *w);

#endif
