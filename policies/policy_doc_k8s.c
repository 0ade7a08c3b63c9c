/*
 * A policy document as a Kubernetes NetworkPolicy. NetworkPolicy knows
 * pods (by label), CIDRs and TCP/UDP ports; everything else nseg enforces
 * (process identity, the host, namespaces outside Kubernetes, ICMP, named
 * networks, version pins) is written as a comment where it would have
 * applied, so the reader sees what the export lost.
 *
 * A NetworkPolicy rule without "ports" allows every port and one without
 * "from"/"to" allows every peer, so a rule whose peer or ports cannot be
 * expressed is left out entirely, never written half: the export can only
 * be narrower than the nseg policy, never wider.
 *
 * Rules are grouped by direction and peer (one entry per peer, its ports
 * listed) and sorted, so the output depends only on the set of rules, not
 * on their order in the YAML file.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/log.h"
#include "nseg/pkt.h"
#include "nseg/policy.h"
#include "nseg/policy_doc.h"

#define K8S_NAME_MAX 253 /* DNS-1123 subdomain */
#define K8S_LABEL_MAX 63 /* label value */
#define K8S_LABEL_KEY "nseg.workload"

enum k8s_peer_kind {
	K8S_PEER_POD,	/* a workload: podSelector */
	K8S_PEER_CIDR,	/* external:CIDR: ipBlock */
	K8S_PEER_NAMED, /* external:NAME: needs its CIDR */
	K8S_PEER_NONE,	/* host, netns:, container:, bad values */
};

static int k8s_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* FNV-1a: a short, stable tag for names that had to be shortened. */
static uint32_t k8s_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Drops characters that may not begin or end a label value or name. */
static void k8s_trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && !k8s_is_alnum(s[n - 1]))
		s[--n] = '\0';
	while (i < n && !k8s_is_alnum(s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/*
 * Fits s into max characters; a shortened value ends in "-" and eight hex
 * digits of the whole name's hash so that two long names sharing a prefix
 * stay apart.
 */
static void k8s_shorten(char *s, size_t max, const char *whole)
{
	size_t keep = max - 9;

	if (strlen(s) <= max)
		return;
	s[keep] = '\0';
	k8s_trim(s);
	snprintf(s + strlen(s), 10, "-%08x", k8s_hash(whole));
}

/*
 * The label value standing for workload: [A-Za-z0-9._-], '/' as '.',
 * other characters as '-', alphanumeric at both ends, at most 63. Returns
 * -1 when nothing is left.
 */
static int k8s_label_value(const char *workload, char out[K8S_LABEL_MAX + 1])
{
	char buf[NSEG_NAME_MAX];
	size_t i;

	for (i = 0; workload[i] != '\0' && i < sizeof(buf) - 1; i++) {
		char c = workload[i];

		buf[i] = k8s_is_alnum(c) || c == '.' || c == '_' || c == '-' ? c
			 : c == '/' ? '.'
				    : '-';
	}
	buf[i] = '\0';
	k8s_trim(buf);
	k8s_shorten(buf, K8S_LABEL_MAX, workload);
	snprintf(out, K8S_LABEL_MAX + 1, "%s", buf);
	return out[0] == '\0' ? -1 : 0;
}

/* metadata.name: "nseg-" and the workload, lowercase alnum and '-'. */
static void k8s_object_name(const char *workload, char out[K8S_NAME_MAX + 1])
{
	char buf[8 + NSEG_NAME_MAX];
	size_t i;

	for (i = 0; workload[i] != '\0' && i < NSEG_NAME_MAX - 1; i++) {
		char c = workload[i];

		buf[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a')
			 : k8s_is_alnum(c)    ? c
					      : '-';
	}
	buf[i] = '\0';
	k8s_trim(buf);
	memmove(buf + 5, buf, strlen(buf) + 1);
	memcpy(buf, "nseg-", 5);
	k8s_trim(buf);
	k8s_shorten(buf, K8S_NAME_MAX, workload);
	snprintf(out, K8S_NAME_MAX + 1, "%s", buf);
}

/* A double-quoted YAML scalar: every value the output carries. */
static void k8s_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/*
 * A "# " comment line at indent. Names and paths come from the policy
 * file: a newline in one must not end the comment, and a byte that is
 * not ASCII could make the output invalid UTF-8.
 */
static void k8s_comment(FILE *f, int indent, const char *fmt, ...)
    NSEG_PRINTF(3, 4);

static void k8s_comment(FILE *f, int indent, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	fprintf(f, "%*s# %s\n", indent, "", buf);
}

static const char *k8s_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP   ? "TCP"
	       : proto == IPPROTO_UDP ? "UDP"
				      : NULL;
}

/* "tcp/80", "tcp/8000-8100", "icmp type 8" for comments. */
static const char *k8s_rule_ports(const struct policy_doc_rule *r, char *buf,
				  size_t len)
{
	const char *name = nseg_proto_name(r->proto);

	if (name == NULL)
		snprintf(buf, len, "protocol %u", r->proto);
	else if (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6)
		snprintf(buf, len, "%s type %u", name, r->port_lo);
	else if (r->port_lo == r->port_hi)
		snprintf(buf, len, "%s/%u", name, r->port_lo);
	else
		snprintf(buf, len, "%s/%u-%u", name, r->port_lo, r->port_hi);
	return buf;
}

static int k8s_rule_cmp(const void *x, const void *y)
{
	const struct policy_doc_rule *a =
	    *(const struct policy_doc_rule *const *)x;
	const struct policy_doc_rule *b =
	    *(const struct policy_doc_rule *const *)y;
	int c;

	if ((c = strcmp(a->peer, b->peer)) != 0)
		return c;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->port_lo != b->port_lo)
		return a->port_lo < b->port_lo ? -1 : 1;
	if (a->port_hi != b->port_hi)
		return a->port_hi < b->port_hi ? -1 : 1;
	if (a->any_process != b->any_process)
		return a->any_process ? -1 : 1;
	if ((c = strcmp(a->proc.exe, b->proc.exe)) != 0)
		return c;
	return strcmp(a->proc.comm, b->proc.comm);
}

static int k8s_same_ports(const struct policy_doc_rule *a,
			  const struct policy_doc_rule *b)
{
	return a->proto == b->proto && a->port_lo == b->port_lo &&
	       a->port_hi == b->port_hi;
}

/* The rules of dir, sorted; *n their number. NULL with *n 0 is "none". */
static const struct policy_doc_rule **k8s_rules_of(const struct policy_doc *doc,
						   uint8_t dir, size_t *n)
{
	const struct policy_doc_rule **v;

	*n = 0;
	if ((v = calloc(doc->n_rules + 1, sizeof(*v))) == NULL)
		return NULL;
	for (size_t i = 0; i < doc->n_rules; i++)
		if (doc->rules[i].dir == dir)
			v[(*n)++] = &doc->rules[i];
	qsort(v, *n, sizeof(*v), k8s_rule_cmp);
	return v;
}

static enum k8s_peer_kind k8s_peer_kind(const char *peer, char *cidr,
					size_t len, const char **why)
{
	struct nseg_cidr c;
	const char *rest;

	*why = NULL;
	if (strcmp(peer, "host") == 0 || strncmp(peer, "netns:", 6) == 0 ||
	    strncmp(peer, "container:", 10) == 0)
		return K8S_PEER_NONE;
	if (strncmp(peer, "external:", 9) != 0)
		return K8S_PEER_POD;
	rest = peer + 9;
	if (pkt_cidr_parse(rest, &c, why) == 0 &&
	    pkt_cidr_to_str(&c, cidr, len) == 0)
		return K8S_PEER_CIDR;
	if (rest[0] != '\0' && strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "abcdefghijklmnopqrstuvwxyz"
					    "0123456789_.-") == strlen(rest))
		return K8S_PEER_NAMED;
	return K8S_PEER_NONE;
}

/* Comments for a peer that gets no entry: one line per rule. */
static void k8s_write_skipped(FILE *f, const struct policy_doc_rule **r,
			      size_t n, enum k8s_peer_kind kind,
			      const char *why)
{
	const char *dir = nseg_dir_name(r[0]->dir);
	char ports[64];

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && k8s_same_ports(r[i - 1], r[i]))
			continue;
		k8s_rule_ports(r[i], ports, sizeof(ports));
		if (kind == K8S_PEER_NAMED)
			k8s_comment(f, 4,
				    "%s %s %s: skipped: the named network must "
				    "be replaced by its CIDR (ipBlock)",
				    dir, ports, r[i]->peer);
		else
			k8s_comment(f, 4,
				    "%s %s %s: skipped: this peer cannot be "
				    "expressed in a NetworkPolicy%s%s",
				    dir, ports, r[i]->peer, why ? ": " : "",
				    why ? why : "");
	}
}

/*
 * The comments of an entry: ICMP rules (no ICMP in NetworkPolicy) and
 * process identities (NetworkPolicy selects pods, not processes). Returns
 * the number of TCP/UDP port entries the peer will have.
 */
static size_t k8s_write_notes(FILE *f, const struct policy_doc_rule **r,
			      size_t n)
{
	const char *dir = nseg_dir_name(r[0]->dir);
	char ports[64];
	size_t n_ports = 0;

	for (size_t i = 0; i < n; i++) {
		int first = i == 0 || !k8s_same_ports(r[i - 1], r[i]);

		k8s_rule_ports(r[i], ports, sizeof(ports));
		if (k8s_proto_name(r[i]->proto) == NULL) {
			if (first)
				k8s_comment(f, 4,
					    "%s %s %s: skipped: NetworkPolicy "
					    "has no ICMP",
					    dir, ports, r[i]->peer);
			continue;
		}
		n_ports += first;
		if (!r[i]->any_process)
			k8s_comment(f, 4,
				    "%s %s %s: process %s (comm %s) not "
				    "expressible: applies to every process "
				    "of the pod",
				    dir, ports, r[i]->peer, r[i]->proc.exe,
				    r[i]->proc.comm[0] ? r[i]->proc.comm
						       : "any");
	}
	return n_ports;
}

static void k8s_write_peer(FILE *f, enum k8s_peer_kind kind, const char *label,
			   const char *cidr)
{
	if (kind == K8S_PEER_CIDR) {
		fputs("        - ipBlock:\n            cidr: ", f);
		k8s_quoted(f, cidr);
	} else {
		fputs("        - podSelector:\n            matchLabels:\n"
		      "              " K8S_LABEL_KEY ": ",
		      f);
		k8s_quoted(f, label);
	}
	fputc('\n', f);
}

static void k8s_write_ports(FILE *f, const struct policy_doc_rule **r, size_t n)
{
	fputs("      ports:\n", f);
	for (size_t i = 0; i < n; i++) {
		const char *proto = k8s_proto_name(r[i]->proto);

		if (proto == NULL || (i > 0 && k8s_same_ports(r[i - 1], r[i])))
			continue;
		fprintf(f, "        - protocol: \"%s\"\n          port: %u\n",
			proto, r[i]->port_lo);
		if (r[i]->port_hi != r[i]->port_lo)
			fprintf(f, "          endPort: %u\n", r[i]->port_hi);
	}
}

/* One peer's rules r[0..n) (same dir, same peer) as one entry. */
static void k8s_write_group(FILE *f, const struct policy_doc_rule **r, size_t n)
{
	char cidr[PKT_CIDR_STRLEN], label[K8S_LABEL_MAX + 1];
	const char *why;
	enum k8s_peer_kind kind;

	kind = k8s_peer_kind(r[0]->peer, cidr, sizeof(cidr), &why);
	if (kind == K8S_PEER_POD && k8s_label_value(r[0]->peer, label) == -1) {
		kind = K8S_PEER_NONE;
		why = "no valid label value";
	}
	if (kind == K8S_PEER_NAMED || kind == K8S_PEER_NONE) {
		k8s_write_skipped(f, r, n, kind, why);
		return;
	}
	if (kind == K8S_PEER_POD && strcmp(label, r[0]->peer) != 0)
		k8s_comment(f, 4, "peer %s has the label %s=%s", r[0]->peer,
			    K8S_LABEL_KEY, label);
	if (k8s_write_notes(f, r, n) == 0)
		return;
	fprintf(f, "    - %s:\n", r[0]->dir == NSEG_INGRESS ? "from" : "to");
	k8s_write_peer(f, kind, label, cidr);
	k8s_write_ports(f, r, n);
}

/* Whether any rule of r[0..n) will become an entry. */
static int k8s_any_entry(const struct policy_doc_rule **r, size_t n)
{
	char cidr[PKT_CIDR_STRLEN], label[K8S_LABEL_MAX + 1];
	const char *why;

	for (size_t i = 0; i < n; i++) {
		enum k8s_peer_kind kind =
		    k8s_peer_kind(r[i]->peer, cidr, sizeof(cidr), &why);

		if (k8s_proto_name(r[i]->proto) == NULL)
			continue;
		if (kind == K8S_PEER_CIDR ||
		    (kind == K8S_PEER_POD &&
		     k8s_label_value(r[i]->peer, label) == 0))
			return 1;
	}
	return 0;
}

static int k8s_write_dir(FILE *f, const struct policy_doc *doc, uint8_t dir)
{
	const struct policy_doc_rule **r;
	size_t n, start = 0;

	if ((r = k8s_rules_of(doc, dir, &n)) == NULL) {
		log_warnx("%s: out of memory", __func__);
		errno = ENOMEM;
		return -1;
	}
	fprintf(f, "  %s:%s\n", dir == NSEG_INGRESS ? "ingress" : "egress",
		k8s_any_entry(r, n) ? "" : " []");
	for (size_t i = 1; i <= n; i++) {
		if (i < n && strcmp(r[i]->peer, r[start]->peer) == 0)
			continue;
		k8s_write_group(f, r + start, i - start);
		start = i;
	}
	free(r);
	return 0;
}

static void k8s_write_header(FILE *f, const struct policy_doc *doc,
			     const char *label)
{
	char name[K8S_NAME_MAX + 1];

	k8s_object_name(doc->workload, name);
	k8s_comment(f, 0, "nseg policy of workload %s as a NetworkPolicy",
		    doc->workload);
	k8s_comment(f, 0, "its pods must carry the label %s=%s", K8S_LABEL_KEY,
		    label);
	if (doc->version[0] != '\0')
		k8s_comment(f, 0,
			    "version pin %s not expressible: applies to every "
			    "version of the workload",
			    doc->version);
	if (doc->mode == POLICY_LEARN || doc->mode == POLICY_NOTIFY)
		k8s_comment(f, 0,
			    "mode %s not expressible: a NetworkPolicy always "
			    "enforces",
			    policy_mode_name(doc->mode));
	fputs("---\napiVersion: \"networking.k8s.io/v1\"\n"
	      "kind: \"NetworkPolicy\"\nmetadata:\n  name: ",
	      f);
	k8s_quoted(f, name);
	fputs("\nspec:\n  podSelector:\n    matchLabels:\n"
	      "      " K8S_LABEL_KEY ": ",
	      f);
	k8s_quoted(f, label);
	/* Both types always: the baseline denies by default both ways. */
	fputs("\n  policyTypes:\n    - \"Ingress\"\n    - \"Egress\"\n", f);
}

int policy_doc_write_k8s(FILE *f, const struct policy_doc *doc)
{
	char label[K8S_LABEL_MAX + 1];

	if (k8s_label_value(doc->workload, label) == -1) {
		log_warnx("workload '%s': no valid Kubernetes label value",
			  doc->workload);
		errno = EINVAL;
		return -1;
	}
	k8s_write_header(f, doc, label);
	if (k8s_write_dir(f, doc, NSEG_INGRESS) == -1 ||
	    k8s_write_dir(f, doc, NSEG_EGRESS) == -1)
		return -1;
	if (fflush(f) == EOF || ferror(f)) {
		log_warn("%s: write", __func__);
		return -1;
	}
	return 0;
}
