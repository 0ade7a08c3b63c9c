/*
 * The approved baselines, in memory: what nsegd compiles into nftables and
 * checks queued packets against. Loaded from SQLite at start and reloaded
 * for one workload whenever an operator decides edges or switches modes.
 *
 * Enforcement ignores the image version (a new version inherits the
 * approved baseline) and the peer's process (the peer's own namespace
 * enforces its end): a rule is (direction, peer identity, protocol, port,
 * local process or any process of the workload).
 */
#ifndef NSEG_POLICY_H
#define NSEG_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "nseg/edge.h"
#include "nseg/pkt.h"

struct store;
struct strpool;

enum policy_mode { POLICY_LEARN = 0, POLICY_NOTIFY = 1, POLICY_ENFORCE = 2 };

/*
 * Tens of thousands of these live at once (500 workloads of 100 edges), so
 * the strings sit in the workload's pool rather than in buffers sized for
 * the longest path.
 */
struct policy_rule {
	uint8_t dir;
	uint8_t proto;
	uint8_t any_process;
	uint8_t peer_is_cidr; /* peer is "external:ADDR/LEN": cidr holds it */
	uint16_t port, port_hi; /* inclusive; ICMP: the type, port == port_hi */
	const char *peer;
	const char *exe;  /* "" when any_process */
	const char *comm; /* "" when any_process, or any comm of exe */
	struct nseg_cidr cidr;
};

struct policy_workload {
	char name[NSEG_NAME_MAX];
	enum policy_mode mode;
	int64_t revision;
	struct policy_rule *rules;
	size_t n_rules, cap_rules;
	struct strpool *strs; /* owns the rules' strings */
	/* The image versions edges were approved for (not a policy's rules
	 * for every version), and the newest of them. */
	const char **versions;
	size_t n_versions;
	const char *baseline_version; /* NULL when none */
	int64_t baseline_seen;	      /* its newest edge's first_seen */
	struct policy_workload *next;
};

struct policy;

/* Caller owns the result (policy_free). */
struct policy *policy_new(void);
void policy_free(struct policy *p);

/* (Re)loads one workload's mode, revision and approved rules from s.
 * A workload the store does not know is dropped from p (mode learn).
 * Returns 0, or -1 with p unchanged for that workload. */
int policy_load(struct policy *p, struct store *s, const char *workload);
/* Loads every workload the store knows. */
int policy_load_all(struct policy *p, struct store *s);

/* The workload's entry, or NULL (learn mode, nothing approved). The
 * pointer is valid until the next policy_load of that workload. */
const struct policy_workload *policy_get(const struct policy *p,
					 const char *workload);
enum policy_mode policy_mode_of(const struct policy *p, const char *workload);

/* The index of w's approved rule that allows this edge (its local process
 * included), or -1. */
int policy_match(const struct policy_workload *w,
		 const struct nseg_edge_key *k);

/* Does any approved rule of w (for any process) name this direction, peer,
 * protocol and port? If not, no process can make such a flow approved. */
/* A version of w that inherited a baseline approved for others drifts:
 * returns the version the baseline was approved for (the newest), or
 * NULL when version is one of those or the baseline names no version. */
const char *policy_drift_from(const struct policy_workload *w,
			      const char *version);

int policy_names_port(const struct policy_workload *w, uint8_t dir,
		      const char *peer, uint8_t proto, uint16_t port);

const char *policy_mode_name(enum policy_mode m);
/* Returns the mode, or -1 for an unknown name. */
int policy_mode_parse(const char *s);

#endif
