/*
 * One egress:/ingress: list of a policy document into expanded rules.
 *
 * A rule mapping with a port list becomes one struct policy_doc_rule per
 * entry, which is what the daemon compiles and what the store keeps. A
 * rule with any error is left out whole (never half added) and the load
 * goes on with the next rule, so that one run reports every mistake.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/policy_doc_rule.h"

static const char *const rule_keys[] = {"peer", "protocol", "port",    "ports",
					"type", "types",    "process", NULL};
static const char *const process_keys[] = {"exe", "comm", NULL};
static const char *const proto_names[] = {"tcp", "udp", "icmp", "icmpv6", NULL};
static const uint8_t proto_numbers[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP,
					IPPROTO_ICMPV6};

/* One port or type entry of a rule, before expansion. */
struct entry {
	uint16_t lo, hi;
	const struct yaml_node *node;
};

/* "N" or "A-B" with 1 <= A <= B <= 65535. */
static int port_value(const struct yaml_node *node, const char *key,
		      struct entry *e, struct policy_doc_diags *diags)
{
	const char *v = yaml_tree_scalar(node), *p;
	char q[YAML_TREE_QUOTE_LEN];
	unsigned long n[2] = {0, 0};
	int k = 0, digits = 0;

	if (v == NULL) {
		policy_doc_error_at(diags, node, "%s: expected a port, got %s",
				    key, yaml_tree_kind_name(node));
		return -1;
	}
	for (p = v; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9' && digits < 6) {
			n[k] = n[k] * 10 + (unsigned long)(*p - '0');
			digits++;
		} else if (*p == '-' && k == 0 && digits > 0) {
			k = 1;
			digits = 0;
		} else {
			break;
		}
	}
	yaml_tree_quote(v, q, sizeof(q));
	if (*p != '\0' || digits == 0) {
		policy_doc_error_at(diags, node,
				    "%s: expected a port 1-65535 or a range "
				    "such as 8000-8100, got '%s'",
				    key, q);
		return -1;
	}
	if (k == 0)
		n[1] = n[0];
	if (n[0] < 1 || n[0] > 65535 || n[1] < 1 || n[1] > 65535) {
		policy_doc_error_at(diags, node,
				    "%s: '%s' is out of range: ports are "
				    "1-65535",
				    key, q);
		return -1;
	}
	if (n[0] > n[1]) {
		policy_doc_error_at(diags, node,
				    "%s: range '%s' is reversed, write %lu-%lu",
				    key, q, n[1], n[0]);
		return -1;
	}
	*e = (struct entry){(uint16_t)n[0], (uint16_t)n[1], node};
	return 0;
}

static int type_value(const struct yaml_node *node, const char *key,
		      struct entry *e, struct policy_doc_diags *diags)
{
	struct yaml_error err;
	uint64_t t;

	if (yaml_tree_get_uint(node, 0, 255, &t, &err) < 0) {
		policy_doc_error_yaml(diags, key, &err);
		return -1;
	}
	*e = (struct entry){(uint16_t)t, (uint16_t)t, node};
	return 0;
}

/*
 * The value of port/type (one entry) or ports/types (a list) into a new
 * array *out of *n entries. Returns 0, or -1 after reporting every bad
 * entry.
 */
static int entries_parse(const struct yaml_node *val, const char *key, int icmp,
			 struct entry **out, size_t *n,
			 struct policy_doc_diags *diags)
{
	int list = key[strlen(key) - 1] == 's', rc = 0;
	const char *one = icmp ? "type" : "port";
	size_t count = list ? yaml_tree_len(val) : 1;
	struct entry *e;

	if (!list && yaml_tree_kind(val) != YAML_TREE_SCALAR) {
		policy_doc_error_at(diags, val,
				    "%s: expected one %s, got %s (use %ss: "
				    "for several)",
				    key, one, yaml_tree_kind_name(val), one);
		return -1;
	}
	if (list && yaml_tree_kind(val) != YAML_TREE_SEQUENCE) {
		policy_doc_error_at(diags, val,
				    "%s: expected a list such as [%s], got %s "
				    "(use %s: for one)",
				    key, icmp ? "0, 8" : "80, 443",
				    yaml_tree_kind_name(val), one);
		return -1;
	}
	if (count == 0) {
		policy_doc_error_at(diags, val, "%s: empty list", key);
		return -1;
	}
	e = calloc(count, sizeof(*e));
	if (e == NULL) {
		policy_doc_error_at(diags, val, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		const struct yaml_node *item =
		    list ? yaml_tree_seq_item(val, i) : val;

		if ((icmp ? type_value : port_value)(item, key, &e[i], diags) <
		    0)
			rc = -1;
	}
	if (rc < 0) {
		free(e);
		return -1;
	}
	*out = e;
	*n = count;
	return 0;
}

/* Checks that a path or comm has no control bytes (they could not be
 * written back, and no kernel name has them). */
static int printable(const struct yaml_node *node, const char *key,
		     const char *v, struct policy_doc_diags *diags)
{
	char q[YAML_TREE_QUOTE_LEN];

	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			policy_doc_error_at(
			    diags, node, "%s: control character in '%s'", key,
			    yaml_tree_quote(v, q, sizeof(q)));
			return -1;
		}
	}
	return 0;
}

static int exe_parse(const struct yaml_node *node, char *exe,
		     struct policy_doc_diags *diags)
{
	struct yaml_error err;
	char q[YAML_TREE_QUOTE_LEN];

	if (yaml_tree_get_string(node, exe, NSEG_EXE_MAX, &err) < 0) {
		policy_doc_error_yaml(diags, "exe", &err);
		return -1;
	}
	if (strcmp(exe, "*") == 0) {
		policy_doc_error_at(diags, node,
				    "exe: '*' is not a path: omit process: "
				    "for any process");
		return -1;
	}
	/* the learner's names for the kernel and an unattributed socket */
	if (strcmp(exe, NSEG_PROC_KERNEL) == 0 ||
	    strcmp(exe, NSEG_PROC_UNKNOWN) == 0)
		return 0;
	if (exe[0] != '/') {
		policy_doc_error_at(diags, node,
				    "exe: expected an absolute path, got '%s'",
				    yaml_tree_quote(exe, q, sizeof(q)));
		return -1;
	}
	return printable(node, "exe", exe, diags);
}

static int process_parse(const struct yaml_node *node,
			 struct policy_doc_rule *r,
			 struct policy_doc_diags *diags)
{
	const struct yaml_node *exe, *comm;
	struct yaml_error err;
	int rc = 0;

	if (yaml_tree_kind(node) != YAML_TREE_MAPPING) {
		policy_doc_error_at(diags, node,
				    "process: expected a mapping with exe: "
				    "(and comm:), got %s",
				    yaml_tree_kind_name(node));
		return -1;
	}
	for (size_t i = 0; i < yaml_tree_len(node); i++) {
		if (yaml_tree_check_key(yaml_tree_map_key(node, i),
					process_keys, &err) < 0) {
			policy_doc_error_yaml(diags, NULL, &err);
			rc = -1;
		}
	}
	exe = yaml_tree_map_get(node, "exe");
	comm = yaml_tree_map_get(node, "comm");
	if (exe == NULL) {
		policy_doc_error_at(diags, node,
				    "process: exe: is required (omit process: "
				    "for any process)");
		rc = -1;
	} else if (exe_parse(exe, r->proc.exe, diags) < 0) {
		rc = -1;
	}
	if (comm != NULL && (yaml_tree_get_string(comm, r->proc.comm,
						  NSEG_COMM_MAX, &err) < 0)) {
		policy_doc_error_yaml(diags, "comm", &err);
		rc = -1;
	} else if (comm != NULL &&
		   printable(comm, "comm", r->proc.comm, diags) < 0) {
		rc = -1;
	}
	r->any_process = 0;
	return rc;
}

/* Reports key in node as not belonging to a protocol-proto rule. */
static void wrong_key(const struct yaml_node *node, const char *key,
		      const char *proto, const char *use,
		      struct policy_doc_diags *diags)
{
	policy_doc_error_at(diags, policy_doc_map_key(node, key),
			    "%s: not for %s rules, use %s", key, proto, use);
}

/* For a rule whose protocol is bad: the port and type values still get
 * their own errors reported. Returns -1. */
static int rule_entries_unchecked(const struct yaml_node *node,
				  struct policy_doc_diags *diags)
{
	static const char *const keys[] = {"port", "ports", "type", "types"};
	struct entry *e;
	size_t n;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct yaml_node *v = yaml_tree_map_get(node, keys[i]);

		if (v != NULL && entries_parse(v, keys[i], keys[i][0] == 't',
					       &e, &n, diags) == 0)
			free(e);
	}
	return -1;
}

/*
 * Finds the one port/ports (TCP, UDP) or type/types (ICMP) key of a rule
 * and parses its entries. proto < 0 (already reported as bad): checks the
 * values of whichever keys are there, for their own errors.
 */
static int rule_entries(const struct yaml_node *node, int proto,
			struct entry **e, size_t *n,
			struct policy_doc_diags *diags)
{
	int icmp = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
	const char *one = icmp ? "type" : "port";
	const char *many = icmp ? "types" : "ports";
	const char *other_one = icmp ? "port" : "type";
	const char *other_many = icmp ? "ports" : "types";
	const char *pname = proto < 0		    ? ""
			    : proto == IPPROTO_TCP  ? "tcp"
			    : proto == IPPROTO_UDP  ? "udp"
			    : proto == IPPROTO_ICMP ? "icmp"
						    : "icmpv6";
	const char *use = icmp ? "type: or types:" : "port: or ports:";
	const struct yaml_node *v1 = yaml_tree_map_get(node, one);
	const struct yaml_node *vn = yaml_tree_map_get(node, many);
	int rc = 0;

	if (proto < 0)
		return rule_entries_unchecked(node, diags);
	if (yaml_tree_map_get(node, other_one) != NULL) {
		wrong_key(node, other_one, pname, use, diags);
		rc = -1;
	}
	if (yaml_tree_map_get(node, other_many) != NULL) {
		wrong_key(node, other_many, pname, use, diags);
		rc = -1;
	}
	if (v1 != NULL && vn != NULL) {
		policy_doc_error_at(diags, policy_doc_map_key(node, many),
				    "%s: %s: is given too: use one of them",
				    many, one);
		return -1;
	}
	if (v1 == NULL && vn == NULL) {
		/* a wrong key already said what to use instead */
		if (rc == 0)
			policy_doc_error_at(diags, node, "%s rule needs %s",
					    pname, use);
		return -1;
	}
	if (entries_parse(v1 ? v1 : vn, v1 ? one : many, icmp, e, n, diags) < 0)
		return -1;
	return rc;
}

static int rules_add(struct policy_doc_rules *rs,
		     const struct policy_doc_rule *r, const struct entry *e,
		     struct policy_doc_diags *diags)
{
	if (rs->n == POLICY_DOC_MAX_RULES) {
		if (!rs->full)
			policy_doc_error_at(
			    diags, e->node,
			    "more than %d rules in one document "
			    "(port lists expanded)",
			    POLICY_DOC_MAX_RULES);
		rs->full = 1;
		return -1;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		void *p = reallocarray(rs->rules, cap, sizeof(*rs->rules));

		if (p == NULL)
			goto nomem;
		rs->rules = p;
		p = reallocarray(rs->pos, cap, sizeof(*rs->pos));
		if (p == NULL)
			goto nomem;
		rs->pos = p;
		rs->cap = cap;
	}
	rs->rules[rs->n] = *r;
	rs->rules[rs->n].port_lo = e->lo;
	rs->rules[rs->n].port_hi = e->hi;
	rs->pos[rs->n].line = yaml_tree_line(e->node);
	rs->pos[rs->n].col = yaml_tree_col(e->node);
	rs->n++;
	return 0;
nomem:
	policy_doc_error_at(diags, e->node, "out of memory");
	return -1;
}

static void rule_parse(struct policy_doc_rules *rs,
		       const struct yaml_node *node, int dir,
		       struct policy_doc_diags *diags)
{
	const struct yaml_node *peer, *proto, *proc;
	struct policy_doc_rule r = {.dir = (uint8_t)dir, .any_process = 1};
	size_t errors = diags->n_errors, n = 0;
	struct entry *e = NULL;
	struct yaml_error err;
	int p = -1;

	if (yaml_tree_kind(node) != YAML_TREE_MAPPING) {
		policy_doc_error_at(diags, node,
				    "expected a rule (a mapping with peer:, "
				    "protocol: and port: or type:), got %s",
				    yaml_tree_kind_name(node));
		return;
	}
	r.line = yaml_tree_line(node);
	r.col = yaml_tree_col(node);
	for (size_t i = 0; i < yaml_tree_len(node); i++)
		if (yaml_tree_check_key(yaml_tree_map_key(node, i), rule_keys,
					&err) < 0)
			policy_doc_error_yaml(diags, NULL, &err);
	peer = yaml_tree_map_get(node, "peer");
	if (peer == NULL)
		policy_doc_error_at(diags, node, "rule has no peer:");
	else
		policy_doc_peer_parse(peer, r.peer, diags);
	proto = yaml_tree_map_get(node, "protocol");
	if (proto == NULL)
		policy_doc_error_at(diags, node, "rule has no protocol:");
	else if (yaml_tree_get_enum(proto, proto_names, &p, &err) < 0)
		policy_doc_error_yaml(diags, "protocol", &err);
	else
		r.proto = proto_numbers[p];
	proc = yaml_tree_map_get(node, "process");
	if (proc != NULL)
		process_parse(proc, &r, diags);
	rule_entries(node, p < 0 ? -1 : r.proto, &e, &n, diags);
	for (size_t i = 0; diags->n_errors == errors && i < n; i++)
		if (rules_add(rs, &r, &e[i], diags) < 0)
			break;
	free(e);
}

void policy_doc_rules_parse(struct policy_doc_rules *rs,
			    const struct yaml_node *key,
			    const struct yaml_node *list, int dir,
			    struct policy_doc_diags *diags)
{
	const char *name = yaml_tree_scalar(key);

	if (yaml_tree_is_null(list))
		return;
	if (yaml_tree_kind(list) != YAML_TREE_SEQUENCE) {
		policy_doc_error_at(diags, list,
				    "%s: expected a list of rules (- peer: "
				    "...), got %s",
				    name, yaml_tree_kind_name(list));
		return;
	}
	for (size_t i = 0; i < yaml_tree_len(list) && !rs->full; i++)
		rule_parse(rs, yaml_tree_seq_item(list, i), dir, diags);
}

void policy_doc_rules_free(struct policy_doc_rules *rs)
{
	free(rs->rules);
	free(rs->pos);
	*rs = (struct policy_doc_rules){0};
}
