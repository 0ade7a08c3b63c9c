/*
 * Tamper and drift of the enforcement plane (enforcer/tamper.c): each
 * watched namespace's table inet nseg is kept as nsegd compiled it.
 *
 * After every transaction of its own, nsegd reads the table back and
 * keeps its digest (nft_digest.h): that is what it compiled. A change by
 * anyone else is noticed two ways: at once, from the namespace's nftables
 * notifications (nft_watch.h: a transaction from another socket that
 * touched the table), and by a full comparison of the digest every
 * `tamper_check` (spread over the interval, so hundreds of namespaces do
 * not all dump at once), which also catches what notifications lost.
 *
 * Either raises a "tamper" alert for the namespace's workload (peer "*";
 * the same tamper within the alert window counts into one alert), logs
 * what changed and who changed it, and repairs the table by compiling it
 * anew: at most once a second per namespace, so a fight with another tool
 * does not spin. A foreign transaction committed between nsegd's own
 * commit and its read-back is still reported: its notification names
 * another socket.
 *
 * tamper_check: 0 turns detection and repair off (digests are still kept,
 * so turning it on by SIGHUP finds what changed meanwhile).
 */
#ifndef NSEG_TAMPER_H
#define NSEG_TAMPER_H

#include <jansson.h>

struct daemon;
struct nsw;

/* Subscribes to w's nftables notifications (after w->nft is open).
 * Returns 0, or -1 (logged): w is then only compared periodically. */
int tamper_nsw_open(struct nsw *w);
/* Stops watching w: closes its subscription, cancels a pending repair. */
void tamper_nsw_close(struct nsw *w);
/* nsegd itself changed w's table: reads back the digest of what it
 * compiled. */
void tamper_applied(struct nsw *w);
/* Starts the periodic comparisons (one timer for all namespaces). */
int tamper_start(struct daemon *d);
/* {"check_interval_s", "checks", "found", "repairs", "repair_errors"} for
 * `nsegctl status` (new reference, NULL when out of memory). */
json_t *tamper_status_json(const struct daemon *d);

#endif
