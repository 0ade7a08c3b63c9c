/*
 * The identity model shared by daemon, learner, store and CLI: what an edge
 * of a baseline is. See DESIGN.md "Identity, not addresses".
 */
#ifndef NSEG_EDGE_H
#define NSEG_EDGE_H

#include <stdint.h>

#define NSEG_NAME_MAX 256    /* workload names and peer identities */
#define NSEG_VERSION_MAX 128 /* image tag or digest */
#define NSEG_EXE_MAX 512     /* executable path (longer ones are truncated) */
#define NSEG_COMM_MAX 16     /* TASK_COMM_LEN, with the NUL */

/* Process of an edge whose socket could not be attributed. */
#define NSEG_PROC_UNKNOWN "?"
/* Packets the kernel answers itself (ICMP echo, TCP RST). */
#define NSEG_PROC_KERNEL "[kernel]"

enum nseg_dir {
	NSEG_EGRESS = 0, /* this workload opened the connection */
	NSEG_INGRESS = 1 /* this workload accepted it */
};

struct nseg_proc_id {
	char exe[NSEG_EXE_MAX];
	char comm[NSEG_COMM_MAX];
};

/*
 * One baseline edge. Peer identities: a local workload name ("web",
 * "library/redis", "netns:NAME"), "host" for the host's own addresses, or
 * "external:CIDR" / "external:NAME" for a configured named network.
 * peer_proc.exe is empty unless the peer is a local workload whose socket
 * was found. port: the server port for TCP/UDP, the ICMP type for ICMP.
 */
struct nseg_edge_key {
	char workload[NSEG_NAME_MAX];
	char version[NSEG_VERSION_MAX];
	struct nseg_proc_id proc;
	uint8_t dir;
	char peer[NSEG_NAME_MAX];
	struct nseg_proc_id peer_proc;
	uint8_t proto;
	uint16_t port;
};

/* "egress" / "ingress"; NULL for anything else. */
const char *nseg_dir_name(int dir);
/* Returns NSEG_EGRESS/NSEG_INGRESS or -1. */
int nseg_dir_parse(const char *s);
/* "tcp", "udp", "icmp", "icmpv6"; NULL for other protocols. */
const char *nseg_proto_name(int proto);
/* Returns the IPPROTO_ number or -1. */
int nseg_proto_parse(const char *s);

#endif
