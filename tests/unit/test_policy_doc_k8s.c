#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "nseg/policy.h"
#include "nseg/policy_doc.h"
#include "nseg/yaml_tree.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A rule as the tests write it; exe NULL: any process. */
struct rule_spec {
	int dir;
	const char *peer;
	int proto, lo, hi;
	const char *exe, *comm;
};

static struct policy_doc *doc_new(const char *workload, const char *version,
				  int mode, const struct rule_spec *rs,
				  size_t n)
{
	struct policy_doc *doc = calloc(1, sizeof(*doc));

	ck_assert_ptr_nonnull(doc);
	snprintf(doc->workload, sizeof(doc->workload), "%s", workload);
	snprintf(doc->version, sizeof(doc->version), "%s", version);
	doc->mode = mode;
	doc->learn_window_ms = -1;
	doc->rules = calloc(n + 1, sizeof(*doc->rules));
	ck_assert_ptr_nonnull(doc->rules);
	doc->n_rules = n;
	for (size_t i = 0; i < n; i++) {
		struct policy_doc_rule *r = &doc->rules[i];

		r->dir = (uint8_t)rs[i].dir;
		snprintf(r->peer, sizeof(r->peer), "%s", rs[i].peer);
		r->proto = (uint8_t)rs[i].proto;
		r->port_lo = (uint16_t)rs[i].lo;
		r->port_hi = (uint16_t)rs[i].hi;
		r->any_process = rs[i].exe == NULL;
		snprintf(r->proc.exe, sizeof(r->proc.exe), "%s",
			 rs[i].exe ? rs[i].exe : "");
		snprintf(r->proc.comm, sizeof(r->proc.comm), "%s",
			 rs[i].comm ? rs[i].comm : "");
	}
	return doc;
}

static void doc_free(struct policy_doc *doc)
{
	free(doc->rules);
	free(doc);
}

/* The NetworkPolicy text of doc; the caller frees it. */
static char *write_k8s(const struct policy_doc *doc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(policy_doc_write_k8s(f, doc), 0);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

static struct yaml_doc *parse(const char *text)
{
	struct yaml_error err;
	char buf[600];
	struct yaml_doc *y =
	    yaml_tree_load_buf("k8s.yaml", text, strlen(text), 0, &err);

	ck_assert_msg(y != NULL, "%s\n%s",
		      yaml_tree_strerror(&err, buf, sizeof(buf)), text);
	return y;
}

/* The node under the mapping keys given (NULL-terminated). */
static const struct yaml_node *at(const struct yaml_node *n, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, n);
	while (n != NULL && (key = va_arg(ap, const char *)) != NULL)
		n = yaml_tree_map_get(n, key);
	va_end(ap);
	return n;
}

static void assert_str(const struct yaml_node *n, const char *want)
{
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_nonnull(yaml_tree_scalar(n));
	ck_assert_str_eq(yaml_tree_scalar(n), want);
}

/* An integer must be written as a plain scalar, not a string. */
static void assert_int(const struct yaml_node *n, const char *want)
{
	assert_str(n, want);
	ck_assert_int_eq(yaml_tree_quoted(n), 0);
}

static const struct rule_spec web_rules[] = {
    {NSEG_EGRESS, "library/redis", IPPROTO_TCP, 6379, 6379,
     "/usr/bin/python3.11", "python3"},
    {NSEG_EGRESS, "library/redis", IPPROTO_TCP, 6380, 6380, NULL, NULL},
    {NSEG_EGRESS, "external:10.0.0.0/8", IPPROTO_UDP, 5353, 5354, NULL, NULL},
    {NSEG_EGRESS, "external:10.0.0.0/8", IPPROTO_UDP, 53, 53, NULL, NULL},
    {NSEG_EGRESS, "external:corp", IPPROTO_TCP, 443, 443, NULL, NULL},
    {NSEG_INGRESS, "host", IPPROTO_TCP, 8080, 8080, NULL, NULL},
    {NSEG_INGRESS, "netns:client", IPPROTO_ICMP, 8, 8, NULL, NULL},
    {NSEG_INGRESS, "client", IPPROTO_TCP, 8000, 8100, NULL, NULL},
    {NSEG_INGRESS, "client", IPPROTO_ICMP, 8, 8, NULL, NULL},
    {NSEG_INGRESS, "container:abc", IPPROTO_UDP, 9, 9, NULL, NULL},
};

START_TEST(test_k8s_structure)
{
	struct policy_doc *doc =
	    doc_new("web", "1.0", POLICY_ENFORCE, web_rules, N(web_rules));
	char *text = write_k8s(doc);
	struct yaml_doc *y = parse(text);
	const struct yaml_node *root = yaml_tree_root(y), *spec, *types, *in,
			       *eg, *e, *p;

	assert_str(at(root, "apiVersion", NULL), "networking.k8s.io/v1");
	assert_str(at(root, "kind", NULL), "NetworkPolicy");
	assert_str(at(root, "metadata", "name", NULL), "nseg-web");
	spec = at(root, "spec", NULL);
	assert_str(
	    at(spec, "podSelector", "matchLabels", "nseg.workload", NULL),
	    "web");
	types = at(spec, "policyTypes", NULL);
	ck_assert_int_eq(yaml_tree_len(types), 2);
	assert_str(yaml_tree_seq_item(types, 0), "Ingress");
	assert_str(yaml_tree_seq_item(types, 1), "Egress");

	/* Ingress: only client is expressible; its ICMP rule is not. */
	in = at(spec, "ingress", NULL);
	ck_assert_int_eq(yaml_tree_kind(in), YAML_TREE_SEQUENCE);
	ck_assert_int_eq(yaml_tree_len(in), 1);
	e = yaml_tree_seq_item(in, 0);
	ck_assert_ptr_null(at(e, "to", NULL));
	ck_assert_int_eq(yaml_tree_len(at(e, "from", NULL)), 1);
	assert_str(at(yaml_tree_seq_item(at(e, "from", NULL), 0), "podSelector",
		      "matchLabels", "nseg.workload", NULL),
		   "client");
	ck_assert_int_eq(yaml_tree_len(at(e, "ports", NULL)), 1);
	p = yaml_tree_seq_item(at(e, "ports", NULL), 0);
	assert_str(at(p, "protocol", NULL), "TCP");
	assert_int(at(p, "port", NULL), "8000");
	assert_int(at(p, "endPort", NULL), "8100");

	/* Egress, sorted by peer: the CIDR, then redis (corp skipped). */
	eg = at(spec, "egress", NULL);
	ck_assert_int_eq(yaml_tree_len(eg), 2);
	e = yaml_tree_seq_item(eg, 0);
	ck_assert_ptr_null(at(e, "from", NULL));
	assert_str(at(yaml_tree_seq_item(at(e, "to", NULL), 0), "ipBlock",
		      "cidr", NULL),
		   "10.0.0.0/8");
	ck_assert_int_eq(yaml_tree_len(at(e, "ports", NULL)), 2);
	p = yaml_tree_seq_item(at(e, "ports", NULL), 0);
	assert_str(at(p, "protocol", NULL), "UDP");
	assert_int(at(p, "port", NULL), "53");
	ck_assert_ptr_null(at(p, "endPort", NULL));
	p = yaml_tree_seq_item(at(e, "ports", NULL), 1);
	assert_int(at(p, "port", NULL), "5353");
	assert_int(at(p, "endPort", NULL), "5354");

	e = yaml_tree_seq_item(eg, 1);
	assert_str(at(yaml_tree_seq_item(at(e, "to", NULL), 0), "podSelector",
		      "matchLabels", "nseg.workload", NULL),
		   "library.redis");
	ck_assert_int_eq(yaml_tree_len(at(e, "ports", NULL)), 2);
	assert_int(
	    at(yaml_tree_seq_item(at(e, "ports", NULL), 0), "port", NULL),
	    "6379");
	assert_int(
	    at(yaml_tree_seq_item(at(e, "ports", NULL), 1), "port", NULL),
	    "6380");

	yaml_tree_free(y);
	free(text);
	doc_free(doc);
}
END_TEST

/* What the export cannot express must be said, each in a comment. */
static const char *const web_comments[] = {
    "# egress tcp/6379 library/redis: process /usr/bin/python3.11 "
    "(comm python3) not expressible: applies to every process of the pod",
    "# egress tcp/443 external:corp: skipped: the named network must be "
    "replaced by its CIDR",
    "# ingress tcp/8080 host: skipped: this peer cannot be expressed",
    "# ingress icmp type 8 netns:client: skipped",
    "# ingress icmp type 8 client: skipped: NetworkPolicy has no ICMP",
    "# ingress udp/9 container:abc: skipped",
    "# version pin 1.0 not expressible",
    "# peer library/redis has the label nseg.workload=library.redis",
    "# its pods must carry the label nseg.workload=web",
};

START_TEST(test_k8s_comments)
{
	struct policy_doc *doc =
	    doc_new("web", "1.0", POLICY_ENFORCE, web_rules, N(web_rules));
	char *text = write_k8s(doc);

	ck_assert_msg(strstr(text, web_comments[_i]) != NULL,
		      "missing '%s' in:\n%s", web_comments[_i], text);
	/* Enforce is what a NetworkPolicy does: no note on the mode. */
	ck_assert_ptr_null(strstr(text, "# mode"));
	free(text);
	doc_free(doc);
}
END_TEST

struct name_case {
	const char *workload, *name, *label;
};

static const struct name_case name_cases[] = {
    {"web", "nseg-web", "web"},
    {"library/redis", "nseg-library-redis", "library.redis"},
    {"Web:App_1", "nseg-web-app-1", "Web-App_1"},
    {"netns:client", "nseg-netns-client", "netns-client"},
    {"_x_", "nseg-x", "x"},
    {"reg.io:5000/team/api:v2.", "nseg-reg-io-5000-team-api-v2",
     "reg.io-5000.team.api-v2"},
    /* 70 characters: the label is cut to 54 and tagged with a hash. */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "nseg-"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     NULL},
};

static int k8s_label_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789._-",
			s[i]))
			return 0;
	return strchr("._-", s[0]) == NULL && strchr("._-", s[n - 1]) == NULL;
}

START_TEST(test_k8s_names)
{
	const struct name_case *c = &name_cases[_i];
	struct policy_doc *doc = doc_new(c->workload, "", -1, NULL, 0);
	char *text = write_k8s(doc);
	struct yaml_doc *y = parse(text);
	const struct yaml_node *root = yaml_tree_root(y);
	const char *label = yaml_tree_scalar(at(
	    root, "spec", "podSelector", "matchLabels", "nseg.workload", NULL));

	assert_str(at(root, "metadata", "name", NULL), c->name);
	ck_assert_ptr_nonnull(label);
	ck_assert_msg(k8s_label_ok(label), "bad label value '%s'", label);
	if (c->label != NULL)
		ck_assert_str_eq(label, c->label);
	else
		ck_assert_int_eq(strlen(label), 63);
	yaml_tree_free(y);
	free(text);
	doc_free(doc);
}
END_TEST

/* Long names that share a prefix must not share a name or label. */
START_TEST(test_k8s_long_names_apart)
{
	char w1[256], w2[256];
	const char *l1, *l2, *n1, *n2;
	struct policy_doc *d1, *d2;
	char *t1, *t2;
	struct yaml_doc *y1, *y2;

	memset(w1, 'b', 255);
	w1[255] = '\0';
	memcpy(w2, w1, sizeof(w2));
	w2[254] = 'c';
	d1 = doc_new(w1, "", -1, NULL, 0);
	d2 = doc_new(w2, "", -1, NULL, 0);
	t1 = write_k8s(d1);
	t2 = write_k8s(d2);
	y1 = parse(t1);
	y2 = parse(t2);
	n1 = yaml_tree_scalar(at(yaml_tree_root(y1), "metadata", "name", NULL));
	n2 = yaml_tree_scalar(at(yaml_tree_root(y2), "metadata", "name", NULL));
	l1 = yaml_tree_scalar(at(yaml_tree_root(y1), "spec", "podSelector",
				 "matchLabels", "nseg.workload", NULL));
	l2 = yaml_tree_scalar(at(yaml_tree_root(y2), "spec", "podSelector",
				 "matchLabels", "nseg.workload", NULL));
	ck_assert_int_le(strlen(n1), 253);
	ck_assert_int_le(strlen(n2), 253);
	ck_assert_str_ne(n1, n2);
	ck_assert_str_ne(l1, l2);
	ck_assert(k8s_label_ok(l1) && k8s_label_ok(l2));
	yaml_tree_free(y1);
	yaml_tree_free(y2);
	free(t1);
	free(t2);
	doc_free(d1);
	doc_free(d2);
}
END_TEST

/*
 * Peers or ports that cannot be expressed must not leave an entry behind:
 * a NetworkPolicy entry without ports allows every port, one without
 * peers every peer.
 */
static const struct rule_spec nothing_rules[] = {
    {NSEG_INGRESS, "host", IPPROTO_TCP, 22, 22, NULL, NULL},
    {NSEG_INGRESS, "api", IPPROTO_ICMP, 8, 8, NULL, NULL},
    {NSEG_EGRESS, "external:corp", IPPROTO_TCP, 443, 443, NULL, NULL},
    {NSEG_EGRESS, "external:10.1.2.3/8", IPPROTO_TCP, 1, 1, NULL, NULL},
    {NSEG_EGRESS, "db", IPPROTO_ICMPV6, 128, 128, NULL, NULL},
    {NSEG_EGRESS, "/:/", IPPROTO_TCP, 5432, 5432, NULL, NULL},
};

START_TEST(test_k8s_nothing_expressible)
{
	struct policy_doc *doc =
	    doc_new("web", "", POLICY_NOTIFY, nothing_rules, N(nothing_rules));
	char *text = write_k8s(doc);
	struct yaml_doc *y = parse(text);
	const struct yaml_node *spec = at(yaml_tree_root(y), "spec", NULL);

	ck_assert_int_eq(yaml_tree_kind(at(spec, "ingress", NULL)),
			 YAML_TREE_SEQUENCE);
	ck_assert_int_eq(yaml_tree_len(at(spec, "ingress", NULL)), 0);
	ck_assert_int_eq(yaml_tree_kind(at(spec, "egress", NULL)),
			 YAML_TREE_SEQUENCE);
	ck_assert_int_eq(yaml_tree_len(at(spec, "egress", NULL)), 0);
	ck_assert_ptr_nonnull(strstr(text, "# mode notify not expressible"));
	ck_assert_ptr_nonnull(strstr(text, "host bits set"));
	ck_assert_ptr_nonnull(strstr(text, "icmpv6 type 128 db: skipped"));
	ck_assert_ptr_nonnull(strstr(text, "/:/: skipped"));
	ck_assert_ptr_null(strstr(text, "version pin"));
	yaml_tree_free(y);
	free(text);
	doc_free(doc);
}
END_TEST

/* The output depends on the set of rules, not on their order. */
START_TEST(test_k8s_deterministic)
{
	struct rule_spec rev[N(web_rules)];
	struct policy_doc *d1, *d2;
	char *t1, *t2;

	for (size_t i = 0; i < N(web_rules); i++)
		rev[i] = web_rules[N(web_rules) - 1 - i];
	d1 = doc_new("web", "", -1, web_rules, N(web_rules));
	d2 = doc_new("web", "", -1, rev, N(rev));
	t1 = write_k8s(d1);
	t2 = write_k8s(d2);
	ck_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
	doc_free(d1);
	doc_free(d2);
}
END_TEST

/* Processes sharing a port: one port entry, a comment for each. */
static const struct rule_spec shared_rules[] = {
    {NSEG_EGRESS, "db", IPPROTO_TCP, 5432, 5432, "/usr/bin/b", "b"},
    {NSEG_EGRESS, "db", IPPROTO_TCP, 5432, 5432, "/usr/bin/a", ""},
    {NSEG_EGRESS, "db", IPPROTO_TCP, 5432, 5432, NULL, NULL},
};

START_TEST(test_k8s_shared_port)
{
	struct policy_doc *doc =
	    doc_new("web", "", -1, shared_rules, N(shared_rules));
	char *text = write_k8s(doc);
	struct yaml_doc *y = parse(text);
	const struct yaml_node *eg =
	    at(yaml_tree_root(y), "spec", "egress", NULL);

	ck_assert_int_eq(yaml_tree_len(eg), 1);
	ck_assert_int_eq(
	    yaml_tree_len(at(yaml_tree_seq_item(eg, 0), "ports", NULL)), 1);
	ck_assert_ptr_nonnull(strstr(text, "process /usr/bin/a (comm any)"));
	ck_assert_ptr_nonnull(strstr(text, "process /usr/bin/b (comm b)"));
	yaml_tree_free(y);
	free(text);
	doc_free(doc);
}
END_TEST

/* Names from a policy file cannot break out of a comment or a string. */
static const struct rule_spec hostile_rules[] = {
    {NSEG_EGRESS, "db\nkind: Pod", IPPROTO_TCP, 1, 1, "/bin/x\nkind: Pod\n\xff",
     "c\"\\"},
    {NSEG_EGRESS, "host", IPPROTO_TCP, 2, 2, "/bin/\r\x01y", "z"},
};

START_TEST(test_k8s_hostile_names)
{
	struct policy_doc *doc =
	    doc_new("web\"\\\n", "v\n1", -1, hostile_rules, N(hostile_rules));
	char *text = write_k8s(doc);
	struct yaml_doc *y = parse(text);
	const struct yaml_node *root = yaml_tree_root(y);

	assert_str(at(root, "kind", NULL), "NetworkPolicy");
	assert_str(at(root, "metadata", "name", NULL), "nseg-web");
	assert_str(at(root, "spec", "podSelector", "matchLabels",
		      "nseg.workload", NULL),
		   "web");
	assert_str(
	    at(yaml_tree_seq_item(
		   at(yaml_tree_seq_item(at(root, "spec", "egress", NULL), 0),
		      "to", NULL),
		   0),
	       "podSelector", "matchLabels", "nseg.workload", NULL),
	    "db-kind--Pod");
	yaml_tree_free(y);
	free(text);
	doc_free(doc);
}
END_TEST

START_TEST(test_k8s_errors)
{
	struct policy_doc *bad = doc_new("///", "", -1, NULL, 0);
	struct policy_doc *ok = doc_new("web", "", -1, web_rules, N(web_rules));
	FILE *f;

	f = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(policy_doc_write_k8s(f, bad), -1);
	fclose(f);
	f = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(policy_doc_write_k8s(f, ok), -1);
	fclose(f);
	doc_free(bad);
	doc_free(ok);
}
END_TEST

static Suite *policy_doc_k8s_suite(void)
{
	Suite *su = suite_create("policy_doc_k8s");
	TCase *tc = tcase_create("k8s");

	tcase_add_test(tc, test_k8s_structure);
	tcase_add_loop_test(tc, test_k8s_comments, 0, N(web_comments));
	tcase_add_loop_test(tc, test_k8s_names, 0, N(name_cases));
	tcase_add_test(tc, test_k8s_long_names_apart);
	tcase_add_test(tc, test_k8s_nothing_expressible);
	tcase_add_test(tc, test_k8s_deterministic);
	tcase_add_test(tc, test_k8s_shared_port);
	tcase_add_test(tc, test_k8s_hostile_names);
	tcase_add_test(tc, test_k8s_errors);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_doc_k8s_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
