/*
 * The control protocol between nsegd and nsegctl, over a unix stream socket.
 * One definition here so daemon and CLI cannot drift.
 *
 * Every message is a fixed header followed by `len` bytes of payload, a
 * UTF-8 JSON document. The client sends one request (type = a command
 * below, payload = a JSON object of arguments, `{}` when none) and reads
 * RECORDs until END or ERROR. RECORD payloads are JSON objects; list
 * commands stream one record per row. Every payload is a JSON object
 * (END carries {}); replies echo the request's seq. An ERROR payload is
 * {"code": N, "message": "..."}; the client prints the message and exits
 * non-zero.
 *
 * The header carries the protocol version; a daemon answers a request of
 * another version with ERROR code NSEG_CTL_E_VERSION naming both versions.
 * Header fields are in host byte order (the socket is local).
 */
#ifndef NSEG_CTL_H
#define NSEG_CTL_H

#include <stddef.h>
#include <stdint.h>

#define NSEG_CTL_MAGIC 0x6e736567u /* "nseg" */
#define NSEG_CTL_VERSION 1
#define NSEG_CTL_MAX_PAYLOAD (4u << 20)
#define NSEG_CTL_DEFAULT_SOCKET "/run/nseg/nsegd.sock"

struct nseg_ctl_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t seq;
	uint32_t len;
};

enum nseg_ctl_type {
	/* replies */
	NSEG_CTL_RECORD = 1,
	NSEG_CTL_END = 2,
	NSEG_CTL_ERROR = 3,
	/* requests */
	NSEG_CTL_STATUS = 100,        /* {} -> one record */
	NSEG_CTL_WORKLOADS = 101,     /* {} -> one record per workload */
	NSEG_CTL_BASELINE_SHOW = 102, /* {"workload":W[,"version":V]} -> edges */
};

enum nseg_ctl_errcode {
	NSEG_CTL_E_INTERNAL = 1,
	NSEG_CTL_E_VERSION = 2,  /* protocol version mismatch */
	NSEG_CTL_E_BADREQ = 3,   /* malformed request or arguments */
	NSEG_CTL_E_UNKNOWN = 4,  /* unknown command */
	NSEG_CTL_E_NOTFOUND = 5, /* e.g. no such workload */
	NSEG_CTL_E_DENIED = 6,   /* peer not authorised */
	NSEG_CTL_E_BUSY = 7,     /* too many clients; retry later */
};

#endif
