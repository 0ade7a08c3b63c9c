/*
 * The policy writer: struct policy_doc as the YAML the loader reads.
 *
 * The output is deterministic (same doc, same bytes), so exported policies
 * diff cleanly in git, and it loads back to the same rules: strings are
 * written plain only when no YAML reader could take them for anything but
 * that string, else double-quoted with every byte that YAML would fold,
 * drop or refuse escaped.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nseg/policy_doc_rule.h"

/* Port or type entries per line of a folded list. */
#define LIST_PER_LINE 10

static const char *const mode_names[] = {"learn", "notify", "enforce"};

/* Words YAML 1.1 readers turn into booleans or null when plain. */
static int yaml_special_word(const char *s)
{
	static const char *const words[] = {
	    "y", "n", "yes", "no", "on", "off", "true", "false", "null", NULL};

	for (size_t i = 0; words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}

/* Plain only for identifiers and paths: a letter, '_' or '/' first, then
 * [A-Za-z0-9_./:-], not ending in ':'. No number, bool or null. */
static int plain_ok(const char *s)
{
	size_t len = strlen(s);
	unsigned char c = (unsigned char)s[0];

	if (len == 0 || yaml_special_word(s) || s[len - 1] == ':')
		return 0;
	if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && c != '_' && c != '/')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_./:-") == len;
}

/* Decodes one UTF-8 sequence at s; returns its length and sets *cp, or 0
 * for an invalid, overlong or surrogate sequence. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	uint32_t c;

	if (len == 0 || s[0] >= 0xf8)
		return 0;
	c = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points YAML reads as line breaks or refuses as unprintable. */
static int needs_escape(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0x2028 ||
	       c == 0x2029 || c == 0xfeff || c == 0xfffe || c == 0xffff;
}

static int put_quoted(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p != '\0') {
		uint32_t c = *p;
		size_t len = 1;

		if (c >= 0x80 && (len = utf8_decode(p, &c)) == 0) {
			errno = EILSEQ;
			return -1;
		}
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", (int)c);
		else if (needs_escape(c))
			fprintf(f, "\\u%04" PRIx32, c);
		else
			fwrite(p, 1, len, f);
		p += len;
	}
	fputc('"', f);
	return 0;
}

/* Writes "KEY: VALUE\n" at indent, quoting VALUE when needed. */
static int put_kv(FILE *f, int indent, const char *key, const char *value)
{
	fprintf(f, "%*s%s: ", indent, "", key);
	if (plain_ok(value))
		fputs(value, f);
	else if (put_quoted(f, value) < 0)
		return -1;
	fputc('\n', f);
	return 0;
}

static void put_comment(FILE *f, const char *comment)
{
	const char *p = comment;

	for (;;) {
		size_t len = strcspn(p, "\n");

		fputs(len ? "# " : "#", f);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];

			fputc(c < 0x20 || c >= 0x7f ? '?' : c, f);
		}
		fputc('\n', f);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
}

/* The largest unit that says ms exactly. */
static void put_duration(FILE *f, int64_t ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms > 0 && ms % units[i].ms == 0) {
			fprintf(f, "learn_window: %" PRId64 "%s\n",
				ms / units[i].ms, units[i].unit);
			return;
		}
	}
	fprintf(f, "learn_window: %" PRId64 "ms\n", ms);
}

static int proto_icmp(int proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* What the schema can say: a known mode, a known protocol, TCP/UDP ports
 * 1-65535 in order, ICMP one type 0-255. */
static int rules_writable(const struct policy_doc *doc)
{
	if (doc->mode < -1 || doc->mode > 2)
		return 0;
	for (size_t i = 0; i < doc->n_rules; i++) {
		const struct policy_doc_rule *r = &doc->rules[i];

		if (r->dir != NSEG_EGRESS && r->dir != NSEG_INGRESS)
			return 0;
		if (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) {
			if (r->port_lo == 0 || r->port_lo > r->port_hi)
				return 0;
		} else if (!proto_icmp(r->proto) || r->port_lo != r->port_hi ||
			   r->port_lo > 255) {
			return 0;
		}
	}
	return 1;
}

static void put_entry(FILE *f, const struct policy_doc_rule *r)
{
	if (r->port_lo == r->port_hi)
		fprintf(f, "%u", r->port_lo);
	else
		fprintf(f, "\"%u-%u\"", r->port_lo, r->port_hi);
}

/* The entries of a group (linked by next[]) as port: N or ports: [..]. */
static void put_entries(FILE *f, const struct policy_doc *doc, size_t first,
			const size_t *next)
{
	const struct policy_doc_rule *r = &doc->rules[first];
	const char *key = proto_icmp(r->proto) ? "type" : "port";
	size_t k = 0;

	if (next[first] == SIZE_MAX) {
		fprintf(f, "    %s: ", key);
		put_entry(f, r);
		fputc('\n', f);
		return;
	}
	fprintf(f, "    %ss: [", key);
	for (size_t i = first; i != SIZE_MAX; i = next[i], k++) {
		if (k > 0)
			fputs(k % LIST_PER_LINE ? ", " : ",\n      ", f);
		put_entry(f, &doc->rules[i]);
	}
	fputs("]\n", f);
}

static int put_group(FILE *f, const struct policy_doc *doc, size_t first,
		     const size_t *next)
{
	const struct policy_doc_rule *r = &doc->rules[first];

	fputs("  -", f);
	if (put_kv(f, 1, "peer", r->peer) < 0)
		return -1;
	fprintf(f, "    protocol: %s\n", nseg_proto_name(r->proto));
	put_entries(f, doc, first, next);
	if (r->any_process)
		return 0;
	fputs("    process:\n", f);
	if (put_kv(f, 6, "exe", r->proc.exe) < 0)
		return -1;
	if (r->proc.comm[0] != '\0' && put_kv(f, 6, "comm", r->proc.comm) < 0)
		return -1;
	return 0;
}

static int subject_index_cmp(const void *x, const void *y, void *arg)
{
	const struct policy_doc_rule *rules = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = policy_doc_rule_subject_cmp(&rules[i], &rules[j]);

	if (c != 0)
		return c;
	return i < j ? -1 : i > j;
}

/*
 * Links the rules of each group (same subject) in their order: next[i]
 * is the following rule of i's group or SIZE_MAX; lead[i] is 1 for the
 * first rule of a group. Returns -1 when out of memory.
 */
static int groups_link(const struct policy_doc *doc, size_t *next,
		       unsigned char *lead)
{
	size_t *idx;

	if (doc->n_rules == 0)
		return 0;
	idx = calloc(doc->n_rules, sizeof(*idx));
	if (idx == NULL)
		return -1;
	for (size_t i = 0; i < doc->n_rules; i++)
		idx[i] = i;
	qsort_r(idx, doc->n_rules, sizeof(*idx), subject_index_cmp, doc->rules);
	for (size_t k = 0; k < doc->n_rules; k++) {
		const struct policy_doc_rule *r = &doc->rules[idx[k]];

		lead[idx[k]] = k == 0 || policy_doc_rule_subject_cmp(
					     &doc->rules[idx[k - 1]], r) != 0;
		next[idx[k]] = SIZE_MAX;
		if (!lead[idx[k]])
			next[idx[k - 1]] = idx[k];
	}
	free(idx);
	return 0;
}

static int put_rules(FILE *f, const struct policy_doc *doc, const size_t *next,
		     const unsigned char *lead)
{
	for (int dir = NSEG_EGRESS; dir <= NSEG_INGRESS; dir++) {
		int any = 0;

		for (size_t i = 0; i < doc->n_rules; i++) {
			if (!lead[i] || doc->rules[i].dir != dir)
				continue;
			if (!any++)
				fprintf(f, "%s:\n", nseg_dir_name(dir));
			if (put_group(f, doc, i, next) < 0)
				return -1;
		}
	}
	return 0;
}

static int put_doc(FILE *f, const struct policy_doc *doc, const char *comment,
		   const size_t *next, const unsigned char *lead)
{
	fputs("---\n", f);
	if (comment != NULL)
		put_comment(f, comment);
	if (put_kv(f, 0, "workload", doc->workload) < 0)
		return -1;
	if (doc->version[0] != '\0' &&
	    put_kv(f, 0, "version", doc->version) < 0)
		return -1;
	if (doc->mode >= 0)
		fprintf(f, "mode: %s\n", mode_names[doc->mode]);
	if (doc->learn_window_ms >= 0)
		put_duration(f, doc->learn_window_ms);
	return put_rules(f, doc, next, lead);
}

int policy_doc_write(FILE *f, const struct policy_doc *doc, const char *comment)
{
	size_t n = doc->n_rules ? doc->n_rules : 1;
	size_t *next = calloc(n, sizeof(*next));
	unsigned char *lead = calloc(n, 1);
	int rc = -1;

	if (next == NULL || lead == NULL)
		goto out;
	if (!rules_writable(doc)) {
		errno = EINVAL;
		goto out;
	}
	if (groups_link(doc, next, lead) < 0)
		goto out;
	errno = 0;
	if (put_doc(f, doc, comment, next, lead) < 0)
		goto out;
	if (fflush(f) != 0 || ferror(f)) {
		if (errno == 0)
			errno = EIO;
		goto out;
	}
	rc = 0;
out:
	free(next);
	free(lead);
	return rc;
}
