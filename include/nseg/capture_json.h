/*
 * The public JSON form of one capture: what `nsegctl capture list/show
 * --json` print. Add keys, never rename or drop one.
 *
 * {"id":7, "kind":"ondemand", "workload":"web", "container":"",
 *  "filter":"tcp port 443", "path":"/var/lib/nseg/pcap/capture-7-web-...pcap",
 *  "started":"2026-11-22T14:28:27Z", "ended":"2026-11-22T14:29:27Z",
 *  "packets":120, "bytes":48213, "state":"done"}
 *
 * kind is "alert" (an alert's packets) or "ondemand" (nsegctl capture
 * start). ended is absent while the capture runs; "note" is present when
 * there is one (why it was truncated or failed); "alert" is the alert's id
 * for an alert capture once the alert is stored.
 */
#ifndef NSEG_CAPTURE_JSON_H
#define NSEG_CAPTURE_JSON_H

#include <jansson.h>

#include "nseg/store_capture.h"

/* A new reference the caller owns, or NULL (allocation, bad time). */
json_t *capture_json(const struct store_capture *c);

#endif
