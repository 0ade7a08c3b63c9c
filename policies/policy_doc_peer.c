/*
 * The peer: of a policy rule. Peers are identities, never bare addresses:
 * a local workload, "host", a network the daemon config names
 * ("external:NAME") or a CIDR ("external:10.0.0.0/8"). A CIDR is stored
 * in its canonical form, so that "external:2001:DB8::/32" in a file
 * matches the edges the learner recorded as "external:2001:db8::/32".
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/pkt.h"
#include "nseg/policy_doc_rule.h"

#define EXTERNAL "external:"

int policy_doc_identity_check(const char *s, char *why, size_t whylen)
{
	size_t len = strlen(s);

	if (len == 0) {
		snprintf(why, whylen, "is empty");
		return -1;
	}
	if (len >= NSEG_NAME_MAX) {
		snprintf(why, whylen, "is %zu bytes long, at most %d allowed",
			 len, NSEG_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ') {
			snprintf(why, whylen, "contains a space");
			return -1;
		}
		if (c < 0x21 || c > 0x7e) {
			snprintf(why, whylen,
				 "contains the byte 0x%02x (printable ASCII "
				 "only)",
				 c);
			return -1;
		}
	}
	if (strcmp(s, "host") == 0) {
		snprintf(why, whylen,
			 "is reserved for the host's own addresses");
		return -1;
	}
	if (strncmp(s, EXTERNAL, strlen(EXTERNAL)) == 0) {
		snprintf(why, whylen,
			 "names an external network, not a "
			 "workload");
		return -1;
	}
	return 0;
}

/* [A-Za-z0-9_.-]+ and not made only of digits and dots, which would be
 * a mistyped address rather than a name. */
static int network_name_ok(const char *s)
{
	size_t n =
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-");

	return n > 0 && s[n] == '\0' && s[strspn(s, "0123456789.")] != '\0';
}

/* Clears the host bits of c->addr beyond its prefix. */
static void cidr_mask(struct nseg_cidr *c)
{
	for (unsigned i = 0; i < sizeof(c->addr.a); i++) {
		unsigned start = i * 8, bits;

		bits = c->prefixlen <= start	   ? 0
		       : c->prefixlen - start >= 8 ? 8
						   : c->prefixlen - start;
		c->addr.a[i] &= (uint8_t)(0xff00u >> bits);
	}
}

/* "ADDR/LEN" whose address and length are well formed but has host bits
 * set: writes the network it probably meant into net. */
static int cidr_host_bits(const char *cidr, char *net, size_t netlen)
{
	char addr[PKT_ADDR_STRLEN];
	const char *slash = strchr(cidr, '/');
	struct nseg_cidr c;
	unsigned len = 0;
	size_t alen = slash ? (size_t)(slash - cidr) : 0;
	const char *p;

	if (slash == NULL || alen >= sizeof(addr) || slash[1] == '\0')
		return 0;
	for (p = slash + 1; *p >= '0' && *p <= '9' && len <= 128; p++)
		len = len * 10 + (unsigned)(*p - '0');
	memcpy(addr, cidr, alen);
	addr[alen] = '\0';
	if (*p != '\0' || pkt_addr_parse(addr, &c.addr) < 0)
		return 0;
	if (len > (c.addr.family == AF_INET ? 32u : 128u))
		return 0;
	c.prefixlen = (uint8_t)len;
	cidr_mask(&c);
	return pkt_cidr_to_str(&c, net, netlen) == 0;
}

static int peer_external(const struct yaml_node *node, const char *rest,
			 char *out, struct policy_doc_diags *diags)
{
	char q[YAML_TREE_QUOTE_LEN], net[PKT_CIDR_STRLEN];
	struct nseg_addr a;
	struct nseg_cidr c;
	const char *why;

	yaml_tree_quote(rest, q, sizeof(q));
	if (strchr(rest, '/') != NULL) {
		if (pkt_cidr_parse(rest, &c, &why) == 0) {
			pkt_cidr_to_str(&c, net, sizeof(net));
			snprintf(out, NSEG_NAME_MAX, EXTERNAL "%s", net);
			return 0;
		}
		if (cidr_host_bits(rest, net, sizeof(net)))
			policy_doc_error_at(diags, node,
					    "peer: host bits set in %s, did "
					    "you mean %s?",
					    q, net);
		else
			policy_doc_error_at(diags, node,
					    "peer: external:%s: %s", q, why);
		return -1;
	}
	if (pkt_addr_parse(rest, &a) == 0) {
		policy_doc_error_at(diags, node,
				    "peer: external:%s is an address, not a "
				    "network: write external:%s/%d",
				    q, q, strchr(rest, ':') ? 128 : 32);
		return -1;
	}
	if (!network_name_ok(rest)) {
		policy_doc_error_at(diags, node,
				    "peer: expected external:CIDR or "
				    "external:NAME (letters, digits, '_', '.', "
				    "'-'), got 'external:%s'",
				    q);
		return -1;
	}
	snprintf(out, NSEG_NAME_MAX, EXTERNAL "%s", rest);
	return 0;
}

int policy_doc_peer_parse(const struct yaml_node *node, char *out,
			  struct policy_doc_diags *diags)
{
	const char *v = yaml_tree_scalar(node);
	char q[YAML_TREE_QUOTE_LEN], why[128];

	if (v == NULL) {
		policy_doc_error_at(diags, node,
				    "peer: expected a value, got %s",
				    yaml_tree_kind_name(node));
		return -1;
	}
	if (yaml_tree_is_null(node)) {
		policy_doc_error_at(diags, node,
				    "peer: missing value (a workload, host or "
				    "external:CIDR)");
		return -1;
	}
	if (strncmp(v, EXTERNAL, strlen(EXTERNAL)) == 0)
		return peer_external(node, v + strlen(EXTERNAL), out, diags);
	if (strcmp(v, "host") != 0 &&
	    policy_doc_identity_check(v, why, sizeof(why)) < 0) {
		policy_doc_error_at(diags, node, "peer: '%s' %s",
				    yaml_tree_quote(v, q, sizeof(q)), why);
		return -1;
	}
	snprintf(out, NSEG_NAME_MAX, "%s", v);
	return 0;
}
