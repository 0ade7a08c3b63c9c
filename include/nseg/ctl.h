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
 *
 * Requests marked "admin" below change state; the others only read it.
 * Every request passes the same peer check today (root or the control
 * group); the marking is what a stricter check or a read-only socket
 * keys on. Times are RFC 3339 strings in UTC (nseg/timefmt.h). A
 * workload W is a non-empty string; edge ids are positive integers.
 *
 * BASELINE_APPROVE args: {"workload":W, "all":true} (every learned
 * edge) or {"workload":W, "edges":[ID,...]}, never both, plus
 * "any_process":true to approve each edge for any process of W.
 * BASELINE_REJECT args: {"workload":W, "edges":[ID,...]}. Both reply
 * one record {"workload":W, "changed":N, "revision":R}: N edges
 * changed state, R is the baseline revision now in force.
 *
 * MODE args: {"workload":W, "mode":M}, M one of NSEG_CTL_MODES; one
 * record {"workload":W, "mode":M, "previous":P}.
 *
 * ALERTS args, each only when given: {"workload":W, "since":T,
 * "follow":true}: W's alerts only, those with last_seen >= T only.
 * One record per alert (the public alert object, nseg/alert_json.h and
 * README "nsegctl(8)"), in id order; without "follow", END after the
 * backlog. With "follow" the daemon keeps the connection after the
 * backlog and sends each new or updated alert as it happens (a record
 * whose id was sent before is an update of that alert); it ends the
 * stream with END only when it stops.
 *
 * POLICY_APPLY args: {"file":NAME, "text":YAML[, "dry_run":true]}: the
 * client reads the file and sends its text (nsegd opens no path a client
 * names); NAME is what messages and the edges' origin ("policy:NAME")
 * say. Records: {"diagnostic":{"severity":"error"|"warning",
 * "message":"NAME:LINE:COL: ..."}} for each problem found; when there
 * was an error, then ERROR code NSEG_CTL_E_INVALID and nothing changed.
 * Else one {"change":"add"|"remove"|"mode"|"learn_window",
 * "workload":W, "edge":EDGE} (add/remove; EDGE as in BASELINE_SHOW) or
 * {..., "from":X, "to":Y} (mode, learn_window in ms) per change, then
 * {"summary":{"file", "dry_run", "added", "removed", "settings",
 * "warnings"}} and END. With dry_run the changes are computed in a
 * transaction that is rolled back.
 *
 * POLICY_EXPORT args: {"workload":W[, "version":V][, "state":"approved"|
 * "learned"][, "format":"yaml"|"k8s"]}.
 *
 * DIFF args: {"a":{"workload":W,"version":V}, "b":{...}} (every edge of
 * each version) or {"workload":W, "learned":true} (a: the approved
 * baseline, b: every edge nsegd learned, whatever its state: "added" is
 * traffic nobody approved, "removed" an approval no traffic needed). The record's "diff" is
 * the object of nseg/edge_diff.h, "text" the same for people.
 *
 * CAPTURE_START args: {"workload":W[, "container":ID][, "duration_s":S]
 * [, "packets":N][, "filter":BPF]}; a bad filter is an ERROR (bad
 * request) with libpcap's message. Capture records are the objects of
 * nseg/capture_json.h.
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
	NSEG_CTL_BASELINE_APPROVE = 103, /* admin; -> one change record */
	NSEG_CTL_BASELINE_REJECT = 104,	 /* admin; -> one change record */
	NSEG_CTL_MODE = 105,		 /* admin; -> one mode record */
	NSEG_CTL_ALERTS = 106, /* -> alerts; "follow" keeps streaming */
	/* {"pid":N[,"id":C]}: watch the network namespace of process N (a
	 * container being created) and install its table before replying
	 * END. Sent by the OCI hook. */
	NSEG_CTL_WATCH_PID = 107,
	NSEG_CTL_POLICY_APPLY = 108,  /* admin; see above */
	NSEG_CTL_POLICY_EXPORT = 109, /* -> one {"workload","text"} record */
	NSEG_CTL_DIFF = 110,	      /* -> one {"diff","text"} record */
	NSEG_CTL_CAPTURE_START = 111, /* admin; -> one capture record */
	NSEG_CTL_CAPTURE_STOP = 112,  /* admin; {"id":N} -> one record */
	NSEG_CTL_CAPTURE_LIST = 113,  /* [{"workload":W}] -> captures */
	NSEG_CTL_CAPTURE_SHOW = 114,  /* {"id":N} or {"alert":N} -> one */
};

/* The workload modes, as MODE sends them and records carry them. */
#define NSEG_CTL_MODES "learn", "notify", "enforce"


enum nseg_ctl_errcode {
	NSEG_CTL_E_INTERNAL = 1,
	NSEG_CTL_E_VERSION = 2,  /* protocol version mismatch */
	NSEG_CTL_E_BADREQ = 3,   /* malformed request or arguments */
	NSEG_CTL_E_UNKNOWN = 4,  /* unknown command */
	NSEG_CTL_E_NOTFOUND = 5, /* e.g. no such workload */
	NSEG_CTL_E_DENIED = 6,   /* peer not authorised */
	NSEG_CTL_E_BUSY = 7,     /* too many clients; retry later */
	NSEG_CTL_E_INVALID = 8,  /* a policy with errors: nothing applied */
};

#endif
