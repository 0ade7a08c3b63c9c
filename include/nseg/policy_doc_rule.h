/*
 * The rule half of the policy loader (policies/policy_doc_rule.c): one
 * egress: or ingress: list of a document into expanded struct
 * policy_doc_rule, and the checks across them. Shared by policy_doc.c and
 * its tests only; callers of the loader use nseg/policy_doc.h.
 */
#ifndef NSEG_POLICY_DOC_RULE_H
#define NSEG_POLICY_DOC_RULE_H

#include <stddef.h>

#include "nseg/log.h"
#include "nseg/policy_doc.h"
#include "nseg/yaml_tree.h"

/* Where in the file an expanded rule came from: its port or type entry,
 * which is more precise than the rule mapping for messages. */
struct policy_doc_pos {
	int line, col;
};

/* The rules of one document while it is loaded. */
struct policy_doc_rules {
	struct policy_doc_rule *rules;
	struct policy_doc_pos *pos;
	size_t n, cap;
	int full; /* POLICY_DOC_MAX_RULES reached and reported */
};

/*
 * Parses list (the value of egress: or ingress:, key naming it) into rs
 * as rules of direction dir. A null value is an empty list. Each rule with
 * an error is reported to diags and left out; the others are added.
 */
void policy_doc_rules_parse(struct policy_doc_rules *rs,
			    const struct yaml_node *key,
			    const struct yaml_node *list, int dir,
			    struct policy_doc_diags *diags);

/* Reports every rule of rs that duplicates or overlaps an earlier one
 * (same direction, peer, protocol and process, port ranges meeting), at
 * the later one's port entry in file. */
void policy_doc_rules_check(const struct policy_doc_rules *rs, const char *file,
			    struct policy_doc_diags *diags);

/* Orders rules by what they are about: direction, protocol, peer,
 * process (not ports). 0: rules the writer folds into one port list. */
int policy_doc_rule_subject_cmp(const struct policy_doc_rule *a,
				const struct policy_doc_rule *b);

/* Frees what rs holds (rs itself is the caller's) and empties it. */
void policy_doc_rules_free(struct policy_doc_rules *rs);

/*
 * Checks a workload identity: 1..255 bytes of printable ASCII without
 * spaces, not "host" and not "external:...". Returns 0, or -1 with why
 * (whylen bytes) saying what is wrong.
 */
int policy_doc_identity_check(const char *s, char *why, size_t whylen);

/* Parses a rule's peer: value into out[NSEG_NAME_MAX] (CIDRs in their
 * canonical form). Returns 0, or -1 with the error added to diags. */
int policy_doc_peer_parse(const struct yaml_node *node, char *out,
			  struct policy_doc_diags *diags);

/* Appends the error "file:line:col: text" at node's position. */
void policy_doc_error_at(struct policy_doc_diags *diags,
			 const struct yaml_node *node, const char *fmt, ...)
    NSEG_PRINTF(3, 4);

/* Appends a yaml_tree error as "file:line:col: key: message" (no "key: "
 * when key is NULL). */
void policy_doc_error_yaml(struct policy_doc_diags *diags, const char *key,
			   const struct yaml_error *err);

/* The key node of key in map (for messages about the key itself), or
 * NULL when absent. */
const struct yaml_node *policy_doc_map_key(const struct yaml_node *map,
					   const char *key);

#endif
