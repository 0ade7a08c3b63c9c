/*
 * Socket inode -> process, per network namespace, without scanning /proc
 * on every connection.
 *
 * The cache knows every process's netns (filled once from /proc, then kept
 * current by fork/exec/exit events from the proc connector) and which
 * socket inodes each process held when its fd table was last read. A
 * lookup that misses re-reads the fd tables of that namespace's processes
 * only, most recently matched first: a client that opens many connections
 * is found by re-reading one process (~20 µs).
 */
#ifndef NSEG_PROC_CACHE_H
#define NSEG_PROC_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nseg/edge.h"

struct proc_cache;

struct proc_info {
	pid_t pid;
	struct nseg_proc_id id;  /* exe (without " (deleted)") and comm */
	char container_id[65];   /* from the cgroup path, "" if none */
};

struct proc_cache_stats {
	uint64_t hits, misses, fd_scans, proc_scans;
	uint64_t fd_reads; /* readlink()s of /proc/PID/fd/N */
	uint64_t cheap_misses; /* cheap lookups that gave up */
	size_t procs, sockets;
};

/* proc_root is "/proc" except in tests. Caller owns the result. */
struct proc_cache *proc_cache_new(const char *proc_root);
void proc_cache_free(struct proc_cache *c);

/* Declares that fork/exec/exit events reach the cache (the proc connector
 * works). Only then are a process's exe/comm and a socket's holder kept
 * between lookups; otherwise they are re-read each time. */
void proc_cache_set_events_live(struct proc_cache *c, int live);
int proc_cache_events_live(const struct proc_cache *c);

/* Forgets every cached socket holder and process identity (after lost
 * events); the process list itself stays. */
void proc_cache_invalidate(struct proc_cache *c);

/* Reads every process of /proc once (start-up, and after events were
 * lost). */
int proc_cache_rescan(struct proc_cache *c);

/* Process events (from the proc connector). */
void proc_cache_fork(struct proc_cache *c, pid_t pid);
void proc_cache_exec(struct proc_cache *c, pid_t pid);
void proc_cache_exit(struct proc_cache *c, pid_t pid);
/* pid renamed itself (prctl(PR_SET_NAME) on its main thread): its cached
 * exe and comm are forgotten and read again at its next lookup, so a
 * lookup names it as /proc does now, as it would without events. */
void proc_cache_comm(struct proc_cache *c, pid_t pid);

/* Finds the process holding socket sock_ino in netns netns_ino. Returns 0
 * and fills *out, or -1 with errno ENOENT. */
int proc_cache_find_socket(struct proc_cache *c, uint64_t netns_ino,
			   uint64_t sock_ino, struct proc_info *out);

/* Identity of a known process (from the cache while events flow).
 * Returns 0, or -1 with errno ENOENT for a pid the cache does not know. */
int proc_cache_info(struct proc_cache *c, pid_t pid, struct proc_info *out);
/* As proc_cache_info(), but a process that exited in the last seconds is
 * still named (as it was): for packets it sent just before its exit. */
int proc_cache_info_recent(struct proc_cache *c, pid_t pid,
			   struct proc_info *out);

/* As proc_cache_find_socket(), but when cheap it never walks /proc nor
 * the fd table of a process known to hold hundreds of fds. For packets
 * whose verdict does not depend on the process (a process with thousands
 * of sockets flooding would otherwise cost a full fd-table walk per
 * packet); ordinary processes are still named in the alert. */
int proc_cache_find_socket2(struct proc_cache *c, uint64_t netns_ino,
			    uint64_t sock_ino, int cheap, struct proc_info *out);

/* Calls fn for each known process of netns_ino (0: of every netns). fn
 * must not add or remove processes. */
void proc_cache_foreach_in_netns(struct proc_cache *c, uint64_t netns_ino,
				 void (*fn)(pid_t pid, void *arg), void *arg);
/* How many known processes live in netns_ino. */
size_t proc_cache_count_in_netns(struct proc_cache *c, uint64_t netns_ino);
/* Netns inode of pid as last read, 0 if unknown. */
uint64_t proc_cache_netns_of(struct proc_cache *c, pid_t pid);
/* Container id of pid ("" if none); reads and caches it. */
const char *proc_cache_container_of(struct proc_cache *c, pid_t pid);

/* Container id of pid if already read, "" otherwise (for exiting
 * processes, whose /proc entry may be gone). */
const char *proc_cache_cached_container(struct proc_cache *c, pid_t pid);

void proc_cache_get_stats(const struct proc_cache *c,
			  struct proc_cache_stats *out);

#endif
