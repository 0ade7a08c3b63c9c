/*
 * The policy loader and writer: good and bad files (each error at its
 * line:col), every error of a file reported, parse -> write -> parse
 * round trips, the writer's quoting and folding, hostile inputs, and the
 * example policies in policies/examples (tests run from the repo root).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nseg/policy.h"
#include "nseg/policy_doc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define EXAMPLES "policies/examples"

static struct policy_doc_set set;
static struct policy_doc_diags diags;

static void teardown(void)
{
	policy_doc_set_free(&set);
	policy_doc_diags_free(&diags);
}

static int parse(const char *text)
{
	policy_doc_set_free(&set);
	policy_doc_diags_free(&diags);
	return policy_doc_parse("t.yaml", text, strlen(text), &set, &diags);
}

/* All messages, one a line, for failure output. */
static const char *all_msgs(void)
{
	static char buf[8192];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < diags.n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\n",
					diags.items[i].msg);
	return buf;
}

static char *write_doc(const struct policy_doc *doc, const char *comment)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(policy_doc_write(f, doc, comment), 0);
	fclose(f);
	return out;
}

static const struct policy_doc_rule *rule(size_t doc, size_t i)
{
	ck_assert_uint_lt(doc, set.n_docs);
	ck_assert_uint_lt(i, set.docs[doc].n_rules);
	return &set.docs[doc].rules[i];
}

START_TEST(test_good_example)
{
	static const char text[] = "---\n"
				   "# nseg policy for web\n"
				   "workload: web\n"
				   "version: 1.0\n"
				   "mode: enforce\n"
				   "learn_window: 90m\n"
				   "egress:\n"
				   "  - peer: library/redis\n"
				   "    protocol: tcp\n"
				   "    port: 6379\n"
				   "    process:\n"
				   "      exe: /usr/bin/python3.11\n"
				   "      comm: python3\n"
				   "  - peer: external:2001:DB8::/32\n"
				   "    protocol: udp\n"
				   "    ports: [53, \"5353-5354\", 9000-9010]\n"
				   "ingress:\n"
				   "  - peer: netns:client\n"
				   "    protocol: icmp\n"
				   "    types: [0, 8]\n";
	const struct policy_doc_rule *r;

	ck_assert_msg(parse(text) == 0, "%s", all_msgs());
	ck_assert_uint_eq(diags.n, 0);
	ck_assert_uint_eq(set.n_docs, 1);
	ck_assert_str_eq(set.docs[0].workload, "web");
	ck_assert_str_eq(set.docs[0].version, "1.0");
	ck_assert_int_eq(set.docs[0].mode, POLICY_ENFORCE);
	ck_assert_int_eq(set.docs[0].learn_window_ms, 90 * 60 * 1000);
	ck_assert_int_eq(set.docs[0].line, 3);
	ck_assert_int_eq(set.docs[0].col, 1);
	ck_assert_uint_eq(set.docs[0].n_rules, 6);
	r = rule(0, 0);
	ck_assert_int_eq(r->dir, NSEG_EGRESS);
	ck_assert_int_eq(r->proto, IPPROTO_TCP);
	ck_assert_int_eq(r->port_lo, 6379);
	ck_assert_int_eq(r->port_hi, 6379);
	ck_assert_str_eq(r->peer, "library/redis");
	ck_assert_int_eq(r->any_process, 0);
	ck_assert_str_eq(r->proc.exe, "/usr/bin/python3.11");
	ck_assert_str_eq(r->proc.comm, "python3");
	ck_assert_int_eq(r->line, 8);
	ck_assert_int_eq(r->col, 5);
	/* CIDRs are kept in canonical form; each list entry is a rule */
	for (size_t i = 1; i <= 3; i++) {
		r = rule(0, i);
		ck_assert_str_eq(r->peer, "external:2001:db8::/32");
		ck_assert_int_eq(r->proto, IPPROTO_UDP);
		ck_assert_int_eq(r->any_process, 1);
		ck_assert_str_eq(r->proc.exe, "");
		ck_assert_int_eq(r->line, 14);
	}
	ck_assert_int_eq(rule(0, 1)->port_lo, 53);
	ck_assert_int_eq(rule(0, 2)->port_lo, 5353);
	ck_assert_int_eq(rule(0, 2)->port_hi, 5354);
	ck_assert_int_eq(rule(0, 3)->port_lo, 9000);
	ck_assert_int_eq(rule(0, 3)->port_hi, 9010);
	r = rule(0, 5);
	ck_assert_int_eq(r->dir, NSEG_INGRESS);
	ck_assert_int_eq(r->proto, IPPROTO_ICMP);
	ck_assert_int_eq(r->port_lo, 8);
	ck_assert_int_eq(r->port_hi, 8);
	ck_assert_int_eq(rule(0, 4)->port_lo, 0);
}
END_TEST

/* Small files that load, with what they load to. */
static const struct {
	const char *text;
	size_t n_docs, n_rules; /* of the last document */
	int mode;
	const char *version;
} good_cases[] = {
    {"workload: a\n", 1, 0, -1, ""},
    {"workload: a\nmode: learn\negress: []\ningress: []\n", 1, 0, POLICY_LEARN,
     ""},
    {"workload: a\negress:\ningress:\n", 1, 0, -1, ""},
    {"workload: a\nversion: sha256:0123abcd\n---\nworkload: a\n", 2, 0, -1, ""},
    {"workload: a\nversion: '1'\n---\nworkload: a\nversion: '2'\n---\n", 2, 0,
     -1, "2"},
    {"---\n---\nworkload: a\nmode: notify\n...\n", 1, 0, POLICY_NOTIFY, ""},
    {"{workload: \"x\", egress: [{peer: host, protocol: udp, port: 53}]}", 1, 1,
     -1, ""},
    /* same ports, different process or peer or direction: no overlap */
    {"workload: a\negress:\n"
     "  - {peer: b, protocol: tcp, port: 80}\n"
     "  - {peer: b, protocol: tcp, port: 80, process: {exe: /x}}\n"
     "  - {peer: b, protocol: tcp, port: 80, process: {exe: /x, comm: "
     "y}}\n"
     "  - {peer: c, protocol: tcp, port: 80}\n"
     "  - {peer: b, protocol: udp, port: 80}\n"
     "  - {peer: b, protocol: tcp, ports: [79, 81-90]}\n"
     "ingress:\n"
     "  - {peer: b, protocol: tcp, port: 80}\n",
     1, 8, -1, ""},
    {"workload: a\negress:\n"
     "  - {peer: external:corp-net_2.x, protocol: icmpv6, type: 128}\n"
     "  - {peer: external:0.0.0.0/0, protocol: tcp, port: 65535}\n"
     "  - {peer: external:::/0, protocol: tcp, port: 1-65535}\n"
     "  - {peer: k8s/ns:pod.x-1, protocol: tcp, port: 1, process: "
     "{exe: '[kernel]'}}\n",
     1, 4, -1, ""},
};

START_TEST(test_good_cases)
{
	const struct policy_doc *d;

	ck_assert_msg(parse(good_cases[_i].text) == 0, "%s", all_msgs());
	ck_assert_uint_eq(diags.n_errors, 0);
	ck_assert_uint_eq(set.n_docs, good_cases[_i].n_docs);
	d = &set.docs[set.n_docs - 1];
	ck_assert_uint_eq(d->n_rules, good_cases[_i].n_rules);
	ck_assert_int_eq(d->mode, good_cases[_i].mode);
	ck_assert_str_eq(d->version, good_cases[_i].version);
}
END_TEST

#define W "workload: w\n"
#define EG W "egress:\n"
#define R(peer, rest) "  - peer: " peer "\n    protocol: tcp\n" rest

/* One error each: where it is reported and what it says. */
static const struct {
	const char *text;
	int line, col;
	const char *msg;
} bad_cases[] = {
    {"", 0, 0, "t.yaml: no policy document"},
    {"# nothing\n---\n", 0, 0, "t.yaml: no policy document"},
    {"a: [1\n", 2, 1, "did not find expected ',' or ']'"},
    {"workload: a\n\tmode: learn\n", 2, 1, "found a tab character"},
    {"- a\n", 1, 1,
     "expected a policy (a mapping with workload:), got a "
     "list"},
    {"mode: learn\n", 1, 1, "missing workload:"},
    {"workload:\n", 1, 10,
     "workload: expected a workload name, got no "
     "value"},
    {"workload: [a]\n", 1, 11,
     "workload: expected a workload name, got "
     "a list"},
    {"workload: host\n", 1, 11, "'host' is reserved"},
    {"workload: external:x\n", 1, 11,
     "names an external network, not a workload"},
    {"workload: 'a b'\n", 1, 11, "workload: 'a b' contains a space"},
    {"workload: \"a\\tb\"\n", 1, 11, "contains the byte 0x09"},
    {"workload: w\nworklaod: x\n", 2, 1,
     "unknown key 'worklaod' (did you mean 'workload'?)"},
    {W "version: ~\n", 2, 10,
     "version: expected an image tag or digest, "
     "got no value"},
    {W "version: 'a b'\n", 2, 10, "version: 'a b' is not an image tag"},
    {W "mode: enforcing\n", 2, 7,
     "mode: expected learn, notify or enforce, got 'enforcing'"},
    {W "learn_window: 0\n", 2, 15, "learn_window: must be more than 0"},
    {W "learn_window: 3651d\n", 2, 15, "at most 3650d"},
    {W "learn_window: soon\n", 2, 15,
     "learn_window: expected a duration such as"},
    {W "egress: {peer: host}\n", 2, 9, "egress: expected a list of rules"},
    {W "ingress: [x]\n", 2, 11, "expected a rule (a mapping with peer:"},
    {EG "  - protocol: tcp\n    port: 1\n", 3, 5, "rule has no peer:"},
    {EG "  - peer: a\n    port: 1\n", 3, 5, "rule has no protocol:"},
    {EG "  - peer: a\n    protocl: tcp\n    protocol: tcp\n    port: 1\n", 4, 5,
     "unknown key 'protocl' (did you mean 'protocol'?)"},
    {EG "  - peer: a\n    protocol: tpc\n    port: 1\n", 4, 15,
     "protocol: expected tcp, udp, icmp or icmpv6, got 'tpc'"},
    {EG R("", "    port: 1\n"), 3, 10, "peer: missing value"},
    {EG R("[a]", "    port: 1\n"), 3, 11,
     "peer: expected a value, got a "
     "list"},
    {EG R("'x y'", "    port: 1\n"), 3, 11, "peer: 'x y' contains a space"},
    {EG R("external:10.0.0.1/8", "    port: 1\n"), 3, 11,
     "peer: host bits set in 10.0.0.1/8, did you mean 10.0.0.0/8?"},
    {EG R("external:fd00::1/8", "    port: 1\n"), 3, 11,
     "peer: host bits set in fd00::1/8, did you mean fd00::/8?"},
    {EG R("external:10.0.0.0/33", "    port: 1\n"), 3, 11, "bad prefix length"},
    {EG R("external:10.1.2.3", "    port: 1\n"), 3, 11,
     "external:10.1.2.3 is an address, not a network: write "
     "external:10.1.2.3/32"},
    {EG R("external:fd00::1", "    port: 1\n"), 3, 11,
     "write external:fd00::1/128"},
    {EG R("'external:'", "    port: 1\n"), 3, 11,
     "peer: expected external:CIDR or external:NAME"},
    {EG R("external:a+b", "    port: 1\n"), 3, 11, "got 'external:a+b'"},
    {EG R("external:10.0.0.256", "    port: 1\n"), 3, 11,
     "peer: expected external:CIDR or external:NAME"},
    {EG R("a", ""), 3, 5, "tcp rule needs port: or ports:"},
    {EG R("a", "    port: 0\n"), 5, 11,
     "port: '0' is out of range: ports are 1-65535"},
    {EG R("a", "    port: 65536\n"), 5, 11, "'65536' is out of range"},
    {EG R("a", "    port: 1234567\n"), 5, 11,
     "port: expected a port 1-65535 or a range such as 8000-8100, got "
     "'1234567'"},
    {EG R("a", "    port: -1\n"), 5, 11, "expected a port 1-65535"},
    {EG R("a", "    port: 80-\n"), 5, 11, "got '80-'"},
    {EG R("a", "    port: 9000-8000\n"), 5, 11,
     "port: range '9000-8000' is reversed, write 8000-9000"},
    {EG R("a", "    port: [80]\n"), 5, 11,
     "port: expected one port, got a list (use ports: for several)"},
    {EG R("a", "    ports: 80\n"), 5, 12,
     "ports: expected a list such as [80, 443], got a value (use port: "
     "for one)"},
    {EG R("a", "    ports: []\n"), 5, 12, "ports: empty list"},
    {EG R("a", "    ports: [80, {a: 1}]\n"), 5, 17,
     "ports: expected a port, got a mapping"},
    {EG R("a", "    port: 1\n    ports: [2]\n"), 6, 5,
     "ports: port: is given too: use one of them"},
    {EG R("a", "    type: 8\n"), 5, 5,
     "type: not for tcp rules, use port: or ports:"},
    {EG "  - peer: a\n    protocol: icmp\n    port: 8\n", 5, 5,
     "port: not for icmp rules, use type: or types:"},
    {EG "  - peer: a\n    protocol: icmpv6\n", 3, 5,
     "icmpv6 rule needs type: or types:"},
    {EG "  - peer: a\n    protocol: icmp\n    type: 256\n", 5, 11,
     "type: expected an integer from 0 to 255, got '256'"},
    {EG "  - peer: a\n    protocol: icmp\n    types: [0, 3-4]\n", 5, 16,
     "types: expected an integer from 0 to 255, got '3-4'"},
    {EG R("a", "    port: 1\n    process: /bin/sh\n"), 6, 14,
     "process: expected a mapping with exe:"},
    {EG R("a", "    port: 1\n    process: {comm: sh}\n"), 6, 14,
     "process: exe: is required (omit process: for any process)"},
    {EG R("a", "    port: 1\n    process: {exe: '*'}\n"), 6, 20,
     "exe: '*' is not a path: omit process: for any process"},
    {EG R("a", "    port: 1\n    process: {exe: bin/sh}\n"), 6, 20,
     "exe: expected an absolute path, got 'bin/sh'"},
    {EG R("a", "    port: 1\n    process: {exe: \"/a\\nb\"}\n"), 6, 20,
     "exe: control character in '/a\\x0ab'"},
    {EG R("a", "    port: 1\n    process: {exe: /a, comm: "
	       "sixteen-bytes-xx}\n"),
     6, 30, "comm: value is 16 bytes long, at most 15 allowed"},
    {EG R("a", "    port: 1\n    process: {exe: /a, cmd: x}\n"), 6, 24,
     "unknown key 'cmd' (did you mean 'comm'?)"},
    {EG R("a", "    port: 80\n") R("a", "    port: 80\n"), 8, 11,
     "duplicate rule: same as the rule at 3:5"},
    {EG R("a", "    port: 8000-8100\n") R("a", "    ports: [22, 8080]\n"), 8,
     17, "rule overlaps the rule at 3:5"},
    {EG R("a", "    ports: [443, 443]\n"), 5, 18,
     "duplicate rule: same as the rule at 3:5"},
    {W "---\n" W, 3, 11,
     "workload 'w' (every version) already has a "
     "policy in this file, at line 1"},
    {W "version: v1\n---\nversion: v1\n" W, 5, 11,
     "workload 'w' version 'v1' already has a policy in this file, at "
     "line 1"},
    {"a: &x 1\nb: *x\n", 2, 4, "aliases are not supported"},
    {"a: 1\na: 2\n", 2, 1, "duplicate key 'a'"},
};

START_TEST(test_bad_cases)
{
	const char *msg;
	char at[64];

	ck_assert_int_eq(parse(bad_cases[_i].text), -1);
	ck_assert_msg(diags.n_errors == 1 && diags.n == 1,
		      "expected one error, got:\n%s", all_msgs());
	ck_assert_uint_eq(set.n_docs, 0);
	ck_assert_ptr_null(set.docs);
	msg = diags.items[0].msg;
	ck_assert_int_eq(diags.items[0].warning, 0);
	if (bad_cases[_i].line > 0)
		snprintf(at, sizeof(at), "t.yaml:%d:%d: ", bad_cases[_i].line,
			 bad_cases[_i].col);
	else
		snprintf(at, sizeof(at), "t.yaml: ");
	ck_assert_msg(strncmp(msg, at, strlen(at)) == 0,
		      "'%s' does not start with '%s'", msg, at);
	ck_assert_msg(strstr(msg, bad_cases[_i].msg) != NULL,
		      "'%s' does not say '%s'", msg, bad_cases[_i].msg);
}
END_TEST

/* Every error of a file is reported, not just the first. */
START_TEST(test_all_errors)
{
	static const char text[] =
	    "workload: web\n"			      /* 1 */
	    "versoin: 1\n"			      /* 2 */
	    "mode: enforcing\n"			      /* 3 */
	    "egress:\n"				      /* 4 */
	    "  - peer: external:10.0.0.1/8\n"	      /* 5 */
	    "    protocol: tpc\n"		      /* 6 */
	    "    port: 80\n"			      /* 7 */
	    "  - peer: db\n"			      /* 8 */
	    "    protocol: tcp\n"		      /* 9 */
	    "    ports: [80, 0, 9000-8000, x]\n"      /* 10 */
	    "  - peer: db\n"			      /* 11 */
	    "    protocol: tcp\n"		      /* 12 */
	    "    port: 5432\n"			      /* 13 */
	    "  - peer: db\n"			      /* 14 */
	    "    protocol: tcp\n"		      /* 15 */
	    "    port: 5432\n"			      /* 16 */
	    "---\n"				      /* 17 */
	    "workload: host\n"			      /* 18 */
	    "ingress:\n"			      /* 19 */
	    "  - {peer: a, protocol: udp, type: 1}\n" /* 20 */
	    "---\n"				      /* 21 */
	    "workload: web\n";			      /* 22 */
	static const int where[][2] = {
	    {2, 1},   {3, 7},	{5, 11},  {6, 15},  {10, 17}, {10, 20},
	    {10, 31}, {16, 11}, {18, 11}, {20, 30}, {22, 11},
	};
	char at[64];

	ck_assert_int_eq(parse(text), -1);
	ck_assert_msg(diags.n == ARRAY_SIZE(where), "%s", all_msgs());
	ck_assert_uint_eq(diags.n_errors, ARRAY_SIZE(where));
	for (size_t i = 0; i < ARRAY_SIZE(where); i++) {
		snprintf(at, sizeof(at), "t.yaml:%d:%d: ", where[i][0],
			 where[i][1]);
		ck_assert_msg(strncmp(diags.items[i].msg, at, strlen(at)) == 0,
			      "message %zu is not at %s:\n%s", i, at,
			      all_msgs());
	}
	ck_assert_uint_eq(set.n_docs, 0);
}
END_TEST

/* The messages kept are capped; the count is not. */
START_TEST(test_many_errors)
{
	size_t n = 150, len = 0;
	char *s = malloc(n * 40 + 64);

	len += (size_t)sprintf(s, "workload: a\negress:\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "  - {peer: a, protocol: x}\n");
	ck_assert_int_eq(parse(s), -1);
	ck_assert_uint_eq(diags.n, POLICY_DOC_MAX_DIAGS);
	ck_assert_uint_eq(diags.n_errors, n);
	ck_assert_str_eq(diags.items[diags.n - 1].msg,
			 "too many messages: the rest are not shown");
	free(s);
}
END_TEST

static void rules_eq(const struct policy_doc *a, const struct policy_doc *b)
{
	ck_assert_str_eq(a->workload, b->workload);
	ck_assert_str_eq(a->version, b->version);
	ck_assert_int_eq(a->mode, b->mode);
	ck_assert_int_eq(a->learn_window_ms, b->learn_window_ms);
	ck_assert_uint_eq(a->n_rules, b->n_rules);
	for (size_t i = 0; i < a->n_rules; i++) {
		const struct policy_doc_rule *x = &a->rules[i],
					     *y = &b->rules[i];

		ck_assert_int_eq(x->dir, y->dir);
		ck_assert_int_eq(x->proto, y->proto);
		ck_assert_int_eq(x->port_lo, y->port_lo);
		ck_assert_int_eq(x->port_hi, y->port_hi);
		ck_assert_str_eq(x->peer, y->peer);
		ck_assert_int_eq(x->any_process, y->any_process);
		ck_assert_str_eq(x->proc.exe, y->proc.exe);
		ck_assert_str_eq(x->proc.comm, y->proc.comm);
	}
}

/*
 * Loads text, writes every document, loads that: the same documents and
 * rules field by field; and writing again gives the same bytes.
 */
static void round_trip(const char *name, const char *text, size_t len)
{
	struct policy_doc_set first = {0}, second = {0};
	struct policy_doc_diags d = {0};
	char *out = NULL, *again;
	size_t outlen = 0;
	FILE *f;

	ck_assert_msg(policy_doc_parse(name, text, len, &first, &d) == 0,
		      "%s: %s", name, d.n ? d.items[0].msg : "?");
	f = open_memstream(&out, &outlen);
	for (size_t i = 0; i < first.n_docs; i++)
		ck_assert_int_eq(policy_doc_write(f, &first.docs[i], "export"),
				 0);
	fclose(f);
	ck_assert_msg(policy_doc_parse("out.yaml", out, outlen, &second, &d) ==
			  0,
		      "reload: %s\n%s", d.n ? d.items[0].msg : "?", out);
	ck_assert_uint_eq(first.n_docs, second.n_docs);
	for (size_t i = 0; i < first.n_docs; i++) {
		rules_eq(&first.docs[i], &second.docs[i]);
		again = write_doc(&second.docs[i], NULL);
		ck_assert_ptr_nonnull(strstr(out, again + 4));
		free(again);
	}
	free(out);
	policy_doc_set_free(&first);
	policy_doc_set_free(&second);
	policy_doc_diags_free(&d);
}

START_TEST(test_round_trip)
{
	static const char text[] =
	    "workload: 'shop:frontend'\n"
	    "version: \"yes\"\n"
	    "mode: notify\n"
	    "learn_window: 1500ms\n"
	    "egress:\n"
	    "  - peer: library/redis\n"
	    "    protocol: tcp\n"
	    "    ports: [6379, 16379-16380]\n"
	    "    process: {exe: /usr/bin/python3.11, comm: python3}\n"
	    "  - peer: external:10.0.0.0/8\n"
	    "    protocol: udp\n"
	    "    ports: [53, \"5353-5354\"]\n"
	    "  - peer: external:fd00::/8\n"
	    "    protocol: icmpv6\n"
	    "    types: [128, 1]\n"
	    "  - peer: host\n"
	    "    protocol: tcp\n"
	    "    port: 22\n"
	    "    process:\n"
	    "      exe: \"/opt/we\\\"ird \\\\ dir/\xc3\xa9t\xc3\xa9 #1: x\"\n"
	    "      comm: \"a: b\"\n"
	    "  - peer: external:corp\n"
	    "    protocol: tcp\n"
	    "    port: 443\n"
	    "    process: {exe: \"/bin/\\u2028\\u0085x\"}\n"
	    "  - peer: null-peer\n"
	    "    protocol: icmp\n"
	    "    type: 0\n"
	    "    process: {exe: '[kernel]', comm: '[kernel]'}\n"
	    "ingress:\n"
	    "  - {peer: 'web:', protocol: tcp, port: 8080}\n"
	    "  - {peer: '-x', protocol: tcp, port: 8080}\n"
	    "  - {peer: 'Null', protocol: tcp, port: 1}\n"
	    "---\n"
	    "workload: '~'\n"
	    "version: '1.0'\n"
	    "learn_window: 2d\n"
	    "---\n"
	    "workload: \"#x\"\n"
	    "version: \"*a&b!c\"\n";

	round_trip("rich.yaml", text, strlen(text));
}
END_TEST

/* Strings a YAML reader would take for something else are quoted. */
START_TEST(test_write_quoting)
{
	static const struct {
		const char *workload, *version, *want;
	} cases[] = {
	    {"web", "1.0", "workload: web\nversion: \"1.0\"\n"},
	    {"web", "yes", "version: \"yes\"\n"},
	    {"web", "No", "version: \"No\"\n"},
	    {"web", "null", "version: \"null\"\n"},
	    {"web", "~", "version: \"~\"\n"},
	    {"web", "1e3", "version: \"1e3\"\n"},
	    {"web", "v1.2_rc", "version: v1.2_rc\n"},
	    {"a:b", "x", "workload: a:b\n"},
	    {"a:", "x", "workload: \"a:\"\n"},
	    {"-a", "x", "workload: \"-a\"\n"},
	    {"#a", "x", "workload: \"#a\"\n"},
	    {"a#b", "x", "workload: \"a#b\"\n"},
	    {"&a", "x", "workload: \"&a\"\n"},
	    {"a\"b\\c", "x", "workload: \"a\\\"b\\\\c\"\n"},
	};
	struct policy_doc doc = {.mode = -1, .learn_window_ms = -1};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *out;

		snprintf(doc.workload, sizeof(doc.workload), "%s",
			 cases[i].workload);
		snprintf(doc.version, sizeof(doc.version), "%s",
			 cases[i].version);
		out = write_doc(&doc, NULL);
		ck_assert_msg(strstr(out, cases[i].want) != NULL,
			      "want '%s' in:\n%s", cases[i].want, out);
		ck_assert_msg(parse(out) == 0, "%s\n%s", all_msgs(), out);
		ck_assert_str_eq(set.docs[0].workload, cases[i].workload);
		ck_assert_str_eq(set.docs[0].version, cases[i].version);
		free(out);
	}
}
END_TEST

static struct policy_doc_rule mkrule(int dir, const char *peer, int proto,
				     int lo, int hi, const char *exe)
{
	struct policy_doc_rule r = {.dir = (uint8_t)dir,
				    .proto = (uint8_t)proto,
				    .port_lo = (uint16_t)lo,
				    .port_hi = (uint16_t)hi,
				    .any_process = exe == NULL};

	snprintf(r.peer, sizeof(r.peer), "%s", peer);
	if (exe != NULL)
		snprintf(r.proc.exe, sizeof(r.proc.exe), "%s", exe);
	return r;
}

/* Rules differing only in ports become one rule with a list, at the place
 * of the first; one port stays port:. */
START_TEST(test_write_folding)
{
	struct policy_doc_rule rules[] = {
	    mkrule(NSEG_INGRESS, "b", IPPROTO_TCP, 22, 22, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_TCP, 80, 80, NULL),
	    mkrule(NSEG_EGRESS, "b", IPPROTO_TCP, 5432, 5432, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_TCP, 443, 443, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_TCP, 8000, 8100, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_TCP, 9000, 9000, "/bin/x"),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_ICMP, 8, 8, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_ICMP, 0, 0, NULL),
	};
	static const char want[] = "---\n"
				   "workload: w\n"
				   "mode: learn\n"
				   "learn_window: 90m\n"
				   "egress:\n"
				   "  - peer: a\n"
				   "    protocol: tcp\n"
				   "    ports: [80, 443, \"8000-8100\"]\n"
				   "  - peer: b\n"
				   "    protocol: tcp\n"
				   "    port: 5432\n"
				   "  - peer: a\n"
				   "    protocol: tcp\n"
				   "    port: 9000\n"
				   "    process:\n"
				   "      exe: /bin/x\n"
				   "  - peer: a\n"
				   "    protocol: icmp\n"
				   "    types: [8, 0]\n"
				   "ingress:\n"
				   "  - peer: b\n"
				   "    protocol: tcp\n"
				   "    port: 22\n";
	struct policy_doc doc = {.workload = "w",
				 .mode = POLICY_LEARN,
				 .learn_window_ms = 90 * 60000,
				 .rules = rules,
				 .n_rules = ARRAY_SIZE(rules)};
	char *out = write_doc(&doc, NULL);

	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

/* Long lists wrap, and still load back in order. */
START_TEST(test_write_long_list)
{
	struct policy_doc_rule rules[25];
	struct policy_doc doc = {.workload = "w",
				 .mode = -1,
				 .learn_window_ms = 3000,
				 .rules = rules,
				 .n_rules = ARRAY_SIZE(rules)};
	char *out;

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		rules[i] =
		    mkrule(NSEG_EGRESS, "external:10.0.0.0/8", IPPROTO_UDP,
			   (int)(1000 - i), (int)(1000 - i), NULL);
	out = write_doc(&doc, "line one\n\nline\tthree \xc3\xa9");
	ck_assert_ptr_nonnull(strstr(out, "---\n# line one\n#\n# line?three "
					  "??\nworkload: w\n"));
	ck_assert_ptr_nonnull(strstr(out, "learn_window: 3s\n"));
	ck_assert_ptr_nonnull(strstr(out, "991,\n      990, 989"));
	ck_assert_msg(parse(out) == 0, "%s\n%s", all_msgs(), out);
	ck_assert_uint_eq(set.docs[0].n_rules, ARRAY_SIZE(rules));
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		ck_assert_int_eq(set.docs[0].rules[i].port_lo, 1000 - (int)i);
	free(out);
}
END_TEST

/* What the schema cannot say is refused, not written wrong. */
START_TEST(test_write_refused)
{
	struct policy_doc_rule r[] = {
	    mkrule(NSEG_EGRESS, "a", IPPROTO_SCTP, 1, 1, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_ICMP, 1, 2, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_ICMP, 256, 256, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_TCP, 0, 0, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_TCP, 9, 8, NULL),
	    mkrule(7, "a", IPPROTO_TCP, 9, 9, NULL),
	    mkrule(NSEG_EGRESS, "a", IPPROTO_TCP, 9, 9, "/bin/\xff"),
	};
	struct policy_doc doc = {
	    .workload = "w", .mode = -1, .learn_window_ms = -1, .n_rules = 1};
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		doc.rules = &r[i];
		errno = 0;
		ck_assert_int_eq(policy_doc_write(f, &doc, NULL), -1);
		ck_assert_int_eq(errno,
				 i + 1 < ARRAY_SIZE(r) ? EINVAL : EILSEQ);
	}
	doc.n_rules = 0;
	doc.mode = 3;
	ck_assert_int_eq(policy_doc_write(f, &doc, NULL), -1);
	fclose(f);
	/* a full stream is a write error */
	f = fmemopen(buf, 8, "w");
	doc.mode = -1;
	ck_assert_int_eq(policy_doc_write(f, &doc, NULL), -1);
	fclose(f);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 2 MB is refused by its size, before any parsing. */
START_TEST(test_hostile_size)
{
	size_t len = 2u << 20;
	char *big = malloc(len), path[] = "/tmp/nseg-test-pdoc-XXXXXX";
	double t0;
	int fd;

	memset(big, '[', len);
	t0 = now_s();
	ck_assert_int_eq(policy_doc_parse("big.yaml", big, len, &set, &diags),
			 -1);
	ck_assert_double_lt(now_s() - t0, 0.05);
	ck_assert_str_eq(diags.items[0].msg,
			 "big.yaml: 2097152 bytes, larger than the 1048576 "
			 "allowed");
	free(big);
	policy_doc_diags_free(&diags);

	/* a 10 MB file is not even read */
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 10 << 20), 0);
	close(fd);
	t0 = now_s();
	ck_assert_int_eq(policy_doc_load_file(path, &set, &diags), -1);
	ck_assert_double_lt(now_s() - t0, 0.05);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_ptr_nonnull(strstr(diags.items[0].msg,
				     ": 10485760 bytes, larger than the "
				     "1048576 allowed"));
	unlink(path);
	policy_doc_diags_free(&diags);
	ck_assert_int_eq(
	    policy_doc_load_file("/nonexistent/p.yaml", &set, &diags), -1);
	ck_assert_str_eq(diags.items[0].msg,
			 "/nonexistent/p.yaml: No such file or directory");
}
END_TEST

START_TEST(test_hostile_alias_bomb)
{
	static const char bomb[] =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "workload: *e\n";
	double t0 = now_s();

	ck_assert_int_eq(parse(bomb), -1);
	ck_assert_double_lt(now_s() - t0, 0.05);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_str_eq(diags.items[0].msg,
			 "t.yaml:2:8: aliases are not supported");
}
END_TEST

START_TEST(test_hostile_depth)
{
	char *s = malloc(2 * 1000 + 64);
	size_t len;

	len = (size_t)sprintf(s, "workload: a\negress: ");
	for (int i = 0; i < 1000; i++)
		s[len++] = '[';
	for (int i = 0; i < 1000; i++)
		s[len++] = ']';
	s[len] = '\0';
	ck_assert_int_eq(parse(s), -1);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_str_eq(diags.items[0].msg,
			 "t.yaml:2:72: nesting deeper than 64 levels");
	free(s);
}
END_TEST

/* Ten documents for web@1.0: nine errors, each naming the first. */
START_TEST(test_hostile_same_workload)
{
	char text[1024], at[64];
	size_t len = 0;

	for (int i = 0; i < 10; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"---\nworkload: web\nversion: '1.0'\n");
	ck_assert_int_eq(parse(text), -1);
	ck_assert_uint_eq(diags.n_errors, 9);
	for (size_t i = 0; i < 9; i++) {
		snprintf(at, sizeof(at), "t.yaml:%zu:11: ", 3 * (i + 1) + 2);
		ck_assert_msg(strncmp(diags.items[i].msg, at, strlen(at)) == 0,
			      "%s", all_msgs());
		ck_assert_ptr_nonnull(strstr(diags.items[i].msg,
					     "workload 'web' version '1.0' "
					     "already has a policy in this "
					     "file, at line 2"));
	}
}
END_TEST

START_TEST(test_max_rules)
{
	size_t n = POLICY_DOC_MAX_RULES + 1, len = 0;
	char *s = malloc(n * 8 + 128);

	len += (size_t)sprintf(s, "workload: a\negress:\n  - peer: b\n"
				  "    protocol: tcp\n    ports: [");
	for (size_t i = 1; i <= n; i++)
		len +=
		    (size_t)sprintf(s + len, "%zu%s", i, i < n ? "," : "]\n");
	ck_assert_int_eq(parse(s), -1);
	ck_assert_uint_eq(diags.n, 1);
	ck_assert_ptr_nonnull(strstr(diags.items[0].msg,
				     "more than 10000 rules in one document"));
	/* exactly the cap is fine */
	strcpy(strrchr(s, ','), "]\n");
	ck_assert_msg(parse(s) == 0, "%s", all_msgs());
	ck_assert_uint_eq(set.docs[0].n_rules, POLICY_DOC_MAX_RULES);
	free(s);
}
END_TEST

/* Each example policy loads and round-trips. */
START_TEST(test_examples)
{
	DIR *dir = opendir(EXAMPLES);
	struct dirent *de;
	int n = 0;

	ck_assert_msg(dir != NULL, EXAMPLES ": %s (run from the repo root)",
		      strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		char path[512];
		const char *dot = strrchr(de->d_name, '.');
		FILE *f;
		char buf[1 << 16];
		size_t len;

		if (dot == NULL || strcmp(dot, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), EXAMPLES "/%s", de->d_name);
		ck_assert_msg(policy_doc_load_file(path, &set, &diags) == 0,
			      "%s", all_msgs());
		ck_assert_uint_ge(set.n_docs, 1);
		policy_doc_set_free(&set);
		f = fopen(path, "r");
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		round_trip(path, buf, len);
		n++;
	}
	closedir(dir);
	ck_assert_int_ge(n, 3);
}
END_TEST

START_TEST(test_diags)
{
	struct policy_doc_diags d = {0};

	ck_assert_int_eq(policy_doc_diag_add(&d, 1, "%s: peer %s unknown",
					     "f.yaml:3:5", "x"),
			 0);
	ck_assert_int_eq(policy_doc_diag_add(&d, 0, "boom"), 0);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_uint_eq(d.n_errors, 1);
	ck_assert_int_eq(d.items[0].warning, 1);
	ck_assert_str_eq(d.items[0].msg, "f.yaml:3:5: peer x unknown");
	policy_doc_diags_free(&d);
	ck_assert_uint_eq(d.n, 0);
	policy_doc_diags_free(NULL);
	policy_doc_set_free(NULL);
}
END_TEST

static Suite *policy_doc_suite(void)
{
	Suite *s = suite_create("policy_doc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_good_example);
	tcase_add_loop_test(tc, test_good_cases, 0, ARRAY_SIZE(good_cases));
	tcase_add_loop_test(tc, test_bad_cases, 0, ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, test_all_errors);
	tcase_add_test(tc, test_many_errors);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_write_quoting);
	tcase_add_test(tc, test_write_folding);
	tcase_add_test(tc, test_write_long_list);
	tcase_add_test(tc, test_write_refused);
	tcase_add_test(tc, test_hostile_size);
	tcase_add_test(tc, test_hostile_alias_bomb);
	tcase_add_test(tc, test_hostile_depth);
	tcase_add_test(tc, test_hostile_same_workload);
	tcase_add_test(tc, test_max_rules);
	tcase_add_test(tc, test_examples);
	tcase_add_test(tc, test_diags);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_doc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
