/*
 * The public JSON form of one alert: what `nsegctl alerts --json` prints
 * and what the daemon writes as a JSON line per alert. This is a contract
 * with scripts and SIEMs: add keys, never rename or drop one.
 *
 * {"id":12, "time":"2026-11-22T14:28:27Z", "last_seen":"2026-11-22T14:30:00Z",
 *  "workload":"web", "version":"1.0", "container":"3f2a..", "pid":4242,
 *  "process":{"exe":"/bin/busybox","comm":"wget"}, "direction":"egress",
 *  "peer":{"identity":"external:0.0.0.0/0","address":"203.0.113.9"},
 *  "protocol":"tcp", "port":443, "action":"block", "kind":"deviation",
 *  "count":3, "baseline":7}
 *
 * time is when the alert was first raised, last_seen when it last
 * recurred (count occurrences in all). baseline is the workload's
 * revision at the time. protocol is shown as in edge_json.h. Every key
 * above is always present; container is "" when the flow had no
 * container.
 *
 * kind is "deviation" (traffic outside the approved baseline), "drift"
 * (the same, from a version of the workload that inherited a baseline
 * approved for another version: an upgrade that talks to something new)
 * "flood" (everything over the rate limit or past the distinct-alert
 * cap, peer "*") or "tamper" (someone other than nsegd changed the table
 * of one of the workload's namespaces, peer "*", one count per change;
 * the table was rebuilt; action is the namespace's mode: "block" when its
 * table enforces). A drift alert also has "baseline_version": the version
 * the baseline was approved for. An alert whose packets were captured has
 * "pcap": the path of its pcap file (nsegctl capture show ID); one that
 * should have and has none, "pcap_note": why (disk full, quota, ...).
 */
#ifndef NSEG_ALERT_JSON_H
#define NSEG_ALERT_JSON_H

#include <jansson.h>

#include "nseg/store.h"

/*
 * Builds the JSON object of a. Returns a new reference the caller owns
 * (json_decref), or NULL on allocation failure or a time outside the
 * RFC 3339 range (logged).
 */
json_t *alert_json(const struct store_alert *a);

#endif
