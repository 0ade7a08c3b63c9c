/*
 * Least privilege: once nsegd has set up what only full root can (its
 * control socket and group, the database, the capture directory, the
 * queue probe), it keeps only the capabilities its work needs:
 *
 *   CAP_NET_ADMIN        nftables, NFQUEUE, NFLOG, ctnetlink and the proc
 *                        connector, in every watched namespace
 *   CAP_SYS_ADMIN        setns() into the namespaces it watches
 *   CAP_SYS_PTRACE       /proc/PID/ns/net, /proc/PID/fd and exe of other
 *                        users' processes (which process owns a socket)
 *   CAP_DAC_READ_SEARCH  container runtimes' state files, rootless ones
 *                        included
 *   CAP_NET_RAW          on-demand captures (packet sockets)
 *
 * Everything else goes from the effective, permitted, inheritable,
 * ambient and bounding sets, and no_new_privs is set, so nothing nsegd
 * might run could get them back.
 */
#ifndef NSEG_PRIVS_H
#define NSEG_PRIVS_H

#include <stddef.h>

/*
 * Drops every capability but those above, for the whole process: call it
 * while nsegd has a single thread. Not root: nothing to drop (returns 0).
 * Returns 0, or -1 with the reason in err.
 */
int privs_drop(char *err, size_t errlen);

#endif
