/*
 * nsegd's state, shared by its modules (enforcer/daemon.c, nsw.c,
 * discovery.c, attrib.c, ctl_handlers.c). Not used by the CLI.
 */
#ifndef NSEG_DAEMON_H
#define NSEG_DAEMON_H

#include <stdint.h>
#include <sys/types.h>

#include "nseg/config.h"
#include "nseg/edge.h"
#include "nseg/pkt.h"
#include "nseg/runtime_meta.h"

struct evloop;
struct ev_timer;
struct store;
struct learn_agg;
struct proc_cache;
struct proc_events;
struct ctl_server;
struct nfqueue;
struct addr_watch;
struct mnl_socket;
struct flow_memo;
struct policy;
struct usage;
struct alerts;
struct disc_retry;
struct nft_watch;

#define NSW_MAX_ADDRS 64

/* Why a packet's local process is "?" (counted, shown by `status`). */
enum attrib_reason {
	ATTRIB_NO_SOCKET,   /* sock_diag found no socket (closed port, gone) */
	ATTRIB_NO_PROCESS,  /* socket found, no process holds it */
	ATTRIB_ICMP,        /* ICMP: no per-socket lookup */
	ATTRIB_OTHER_PROTO, /* neither TCP, UDP nor ICMP */
	ATTRIB_BAD_PACKET,  /* unparsable: dropped only when enforcing */
	ATTRIB_MIDSTREAM,   /* TCP picked up mid-stream, a socket behind it */
	ATTRIB_TCP_NO_SOCKET, /* TCP without SYN nor socket: crafted */
	ATTRIB_REASONS
};

#define NSW_SERVERS 64

/* A server port's process, remembered for a moment (attrib.c). */
struct nsw_server {
	pid_t pid; /* 0: empty */
	uint16_t port;
	uint8_t proto;
	struct nseg_addr addr; /* the local address it was reached on */
	uint64_t when_ms;
};

/* A peer identity's address set in a namespace's table ("p0" -> p0_4,
 * p0_6). */
struct nsw_set {
	char identity[NSEG_NAME_MAX];
	char name[16];
	struct nseg_addr *cur; /* the addresses the kernel set holds */
	size_t n_cur;
};

/* A namespace's table against changes nsegd did not make (tamper.c). */
struct nsw_tamper {
	struct nft_watch *watch; /* nftables notifications, NULL if none */
	uint64_t digest;         /* the table as nsegd last left it */
	int digest_ok;           /* 0: unknown (reading it failed) */
	int readback;            /* sets changed: read the digest again */
	uint64_t next_check_ms;  /* next full comparison; 0: unscheduled */
	uint64_t repaired_ms;    /* last repair; 0: never */
	struct ev_timer *repair_timer; /* a repair held back by the rate */
};

/* A watched network namespace and the sockets the daemon holds in it. */
struct nsw {
	struct daemon *d;
	uint64_t ino;
	char name[256]; /* under /run/netns, "" for a process netns */
	int nsfd;
	struct nfqueue *q;
	int diag_fd;
	struct mnl_socket *nft;
	struct addr_watch *aw;
	struct nseg_addr addrs[NSW_MAX_ADDRS];
	size_t naddrs;
	char cid[65]; /* a container living in it, "" if none (yet) */
	struct nsw_server servers[NSW_SERVERS];
	int mode;             /* enum policy_mode its table was compiled for */
	int capture; /* its table follows connections NFQUEUE_CAPTURE marks */
	/* The next compile replaces the whole table: someone else changed
	 * it, and emptying it in place might keep what they added. */
	int replace_table;
	char compiled_for[NSEG_NAME_MAX]; /* the workload that table is for */
	struct nsw_set *sets; /* sets of that table (enforce.c) */
	uint64_t rate_limited_seen; /* rate-limit counter already alerted */
	uint64_t *edge_seen;        /* edge rule packets, bytes already counted */
	size_t n_edge_seen;
	size_t n_sets;
	uint64_t packets;
	struct nsw_tamper tamper;
	/* Queue overruns (queue_health.c): packets read when its table went
	 * in, loss already counted for that table, loss in all. */
	uint64_t q_base, q_unseen_seen, q_unseen;
	/* TCP segments without SYN nor socket (attrib.c), how many were
	 * logged, and the last one's addresses. */
	uint64_t orphans, orphans_logged;
	char orphan_last[2 * PKT_ADDR_STRLEN + 24];
	struct nsw *next;
};

/* A container seen in a watched netns. */
struct container {
	struct runtime_container meta; /* workload, version, name, runtime */
	uint64_t netns_ino;
	struct container *next;
};

struct daemon {
	struct config cfg;
	/* For SIGHUP: where cfg came from, and the command line to apply on
	 * top again (main.c's). */
	char config_path[4096];
	int config_required; /* given with -c: it must exist */
	int (*apply_overrides)(struct config *c, const void *overrides);
	const void *overrides;
	struct evloop *loop;
	struct store *store;
	struct learn_agg *agg;
	struct proc_cache *pc;
	struct flow_memo *memo;
	struct policy *policy;
	struct usage *usage;
	struct alerts *alerts;
	struct capture_mgr *cap; /* pcap files: alerts' and on-demand */
	struct proc_events *pe;
	struct runtime_paths rpaths;
	struct runtime_cache *rcache;
	struct ctl_server *ctl;
	struct nsw *nsws;
	struct container *containers;
	struct addr_watch *host_aw;
	struct nseg_addr host_addrs[NSW_MAX_ADDRS];
	size_t n_host_addrs;
	int inotify_fd;
	int sig_fd;
	int native_queue;
	int64_t started;
	struct ev_timer *flush_timer;
	struct ev_timer *sweep_timer;
	struct ev_timer *sets_timer; /* address sets to refill (enforce.c) */
	struct ev_timer *lw_timer;   /* learning windows (learn_window.c) */
	uint64_t counters_ms;        /* when rule counters were last read */
	struct disc_retry *retries; /* names waiting for their mount */
	size_t max_netns; /* watched namespaces at most (fds are the limit) */
	const char *netns_dir; /* /run/netns */
	uint64_t unattributed[ATTRIB_REASONS];
	uint64_t netns_errors;
	struct ev_timer *tamper_timer; /* full comparisons (tamper.c) */
	/* Tables compared in full, changes by others found, repairs. */
	uint64_t tamper_checks, tamper_found, tamper_repairs,
		tamper_repair_errors;
	/* Writes of what the loop keeps in memory (daemon_flush()). */
	uint64_t q_unseen_total; /* queue overruns, gone namespaces too */
	uint64_t flush_errors;	    /* failed flushes since start */
	int64_t flush_failing_since; /* first failure of the current run, 0 */
	char flush_error[256];	    /* its cause, "" when the last one worked */
};

/* --- nsw.c: one watched namespace --- */
/* Starts watching the namespace of nsfd (ownership of nsfd passes to the
 * nsw): installs the table, opens the queue, sock_diag and rtnetlink
 * sockets. Returns NULL (nsfd closed) on failure, logged. */
struct nsw *nsw_new(struct daemon *d, int nsfd, const char *name);
/* Stops watching: removes the table if remove_table, closes everything. */
void nsw_free(struct nsw *w, int remove_table);
struct nsw *nsw_by_ino(struct daemon *d, uint64_t ino);
struct nsw *nsw_by_name(struct daemon *d, const char *name);
/* The watched namespace holding address a (not loopback), or NULL. */
struct nsw *nsw_by_addr(struct daemon *d, const struct nseg_addr *a);
int nsw_has_addr(const struct nsw *w, const struct nseg_addr *a);
/* "netns NAME" (or "netns [INODE]" for one without a name) in buf, for
 * log lines; returns buf. */
const char *nsw_label(const struct nsw *w, char *buf, size_t len);

/* --- discovery.c: which namespaces and containers exist --- */
int discovery_start(struct daemon *d);
void discovery_stop(struct daemon *d);
/* Records the container of pid (a process of netns w) if it has one. */
void discovery_note_pid(struct daemon *d, struct nsw *w, pid_t pid);
struct container *discovery_container(struct daemon *d, const char *id);
/* Watches pid's namespace now (if in scope) and compiles its table for
 * pid's container's workload: what the OCI hook asks for. -1 if the
 * process is gone. */
int discovery_watch_pid(struct daemon *d, pid_t pid);

/* --- attrib.c: one queued packet -> learned edge and verdict --- */
/* Returns NF_ACCEPT or NF_DROP. */
/* ifindex: the interface the packet crosses (its sockets may be bound
 * to it). */
int attrib_packet(struct nsw *w, const uint8_t *pkt, size_t len, int hook,
		  uint32_t ifindex);
/* Logs, per namespace, the TCP segments without a socket since the last
 * call: one line each, however many there were. */
void attrib_log_orphans(struct daemon *d);
/* Workload identity of a namespace (its container's, else netns:NAME). */
void attrib_nsw_identity(struct daemon *d, struct nsw *w, char *workload,
			 size_t wlen, char *version, size_t vlen);

/* --- ctl_handlers.c, ctl_decide.c, ctl_policy.c --- */
int ctl_handlers_register(struct daemon *d);
int ctl_decide_register(struct daemon *d);
int ctl_policy_register(struct daemon *d);
int ctl_capture_register(struct daemon *d);
struct ctl_conn;
struct capture_mgr;
struct json_t;
/* args' "workload" (non-empty, short enough), or NULL after replying
 * an error naming cmd. */
const char *ctl_workload_arg(struct ctl_conn *c, const struct json_t *args,
			     const char *cmd);
/* "uid 0 (root)": who decided, as the kernel vouched for the peer. */
void ctl_who(struct ctl_conn *c, char *out, size_t len);
/* The workload's baseline changed in the store: reload it and recompile
 * its tables (a failed reload keeps the previous one, logged). */
void ctl_baseline_reload(struct daemon *d, const char *workload);

/* --- daemon.c --- */
/* Writes pending edges, usage and alerts to the store, each in one
 * transaction, waiting DAEMON_FLUSH_BUSY_MS at most for another process's
 * lock: what fails stays in memory for the next flush. 0 or -1. */
int daemon_flush(struct daemon *d);
int64_t daemon_now(void);

#endif
