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

struct store;

enum policy_mode { POLICY_LEARN = 0, POLICY_NOTIFY = 1, POLICY_ENFORCE = 2 };

struct policy_rule {
	uint8_t dir;
	uint8_t proto;
	uint16_t port;
	int any_process;
	char peer[NSEG_NAME_MAX];
	struct nseg_proc_id proc; /* unused when any_process */
};

struct policy_workload {
	char name[NSEG_NAME_MAX];
	enum policy_mode mode;
	int64_t revision;
	struct policy_rule *rules;
	size_t n_rules;
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
int policy_names_port(const struct policy_workload *w, uint8_t dir,
		      const char *peer, uint8_t proto, uint16_t port);

const char *policy_mode_name(enum policy_mode m);
/* Returns the mode, or -1 for an unknown name. */
int policy_mode_parse(const char *s);

#endif
