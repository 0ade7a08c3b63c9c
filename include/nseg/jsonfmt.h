/*
 * Builders shared by the public JSON forms (edge_json, alert_json), so
 * that an edge and an alert show a process, a protocol and a byte string
 * the same way.
 */
#ifndef NSEG_JSONFMT_H
#define NSEG_JSONFMT_H

#include <stddef.h>

#include <jansson.h>

#include "nseg/edge.h"

/* Room for a protocol's text: a name or a decimal number up to 255. */
#define JSONFMT_PROTO_LEN 8

/*
 * A JSON string of the fixed-size field s of max bytes (it need not be
 * NUL-terminated). Paths and comm are bytes, not UTF-8: a value that is not
 * valid UTF-8 is shown with each non-ASCII byte as '?' rather than failing.
 * Returns a new reference the caller owns, or NULL on allocation failure.
 */
json_t *jsonfmt_str(const char *s, size_t max);
#define JSONFMT_STR(field) jsonfmt_str((field), sizeof(field))

/*
 * {"exe":..,"comm":..} of p. Returns a new reference the caller owns, or
 * NULL on allocation failure.
 */
json_t *jsonfmt_proc(const struct nseg_proc_id *p);

/*
 * The protocol as shown: "tcp", "udp", "icmp", "icmpv6", else the decimal
 * number written into buf (JSONFMT_PROTO_LEN bytes). Returns a static
 * string or buf.
 */
const char *jsonfmt_proto(int proto, char *buf);

/* "egress" / "ingress", "unknown" for anything else. Static. */
const char *jsonfmt_dir(int dir);

#endif
