/*
 * ICMP has no 5-tuple sock_diag lookup (and this kernel has no raw_diag),
 * so the sender of an echo request is found from the namespace's socket
 * tables instead: ping sockets whose local port is the echo identifier,
 * then raw ICMP sockets. Only ICMP egress pays this, and it is rare.
 */
#ifndef NSEG_ICMP_SOCKS_H
#define NSEG_ICMP_SOCKS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Fills inodes[] with the sockets that may have sent an ICMP (family
 * AF_INET) or ICMPv6 (AF_INET6) echo with identifier echo_id, exact ping
 * socket matches first. Reads proc_net_dir ("/proc/self/net" inside the
 * namespace). Returns how many were found (at most max).
 */
size_t icmp_socks_candidates(const char *proc_net_dir, int family,
			     uint16_t echo_id, uint64_t *inodes, size_t max);

/* Parses one line of /proc/net/{raw,icmp}[6]: the local "port" (protocol
 * for raw sockets, identifier for ping sockets) and the inode. Returns 0,
 * or -1 for the header line or garbage. Exposed for tests. */
int icmp_socks_parse_line(const char *line, unsigned *port, uint64_t *inode);

#endif
