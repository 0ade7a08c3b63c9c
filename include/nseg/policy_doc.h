/*
 * Policies as code: the YAML form of a workload's approved baseline
 * (policies/README.md has the schema). A policy file holds one YAML
 * document per workload; the loader turns each into a struct policy_doc
 * with every rule expanded to one port range, and reports every error it
 * finds (not just the first) as "file:line:col: message".
 *
 * The loader checks everything it can without the daemon's state: keys,
 * types, ranges, peer syntax, duplicate and overlapping rules, duplicate
 * workloads. Whether a peer workload exists is the caller's question (a
 * warning, not an error).
 *
 * The writer emits a document the loader accepts unchanged; rules that
 * differ only in their ports are folded into one rule with a port list.
 */
#ifndef NSEG_POLICY_DOC_H
#define NSEG_POLICY_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nseg/edge.h"

/* Policy files larger than this are refused before parsing. */
#define POLICY_DOC_MAX_BYTES (1u << 20)
/* Rules (after port-list expansion) per document. */
#define POLICY_DOC_MAX_RULES 10000
/* Messages kept per struct policy_doc_diags; the last one kept says that
 * more were dropped (n_errors still counts them all). */
#define POLICY_DOC_MAX_DIAGS 100

struct policy_doc_rule {
	uint8_t dir;   /* NSEG_EGRESS / NSEG_INGRESS */
	uint8_t proto; /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	/* Inclusive. TCP/UDP: server ports 1-65535. ICMP: the type 0-255,
	 * port_lo == port_hi. */
	uint16_t port_lo, port_hi;
	char peer[NSEG_NAME_MAX];
	int any_process;	  /* no "process:" given */
	struct nseg_proc_id proc; /* comm "" = any comm of that exe */
	int line, col;		  /* of the rule's mapping in the file */
};

struct policy_doc {
	char workload[NSEG_NAME_MAX];
	char version[NSEG_VERSION_MAX]; /* "" = every version */
	int mode;		 /* enum policy_mode, or -1 when not given */
	int64_t learn_window_ms; /* -1 when not given */
	struct policy_doc_rule *rules;
	size_t n_rules;
	int line, col; /* of the document's root mapping */
};

struct policy_doc_set {
	struct policy_doc *docs;
	size_t n_docs;
};

/* One message of a load, already formatted "file:line:col: text". */
struct policy_doc_diag {
	int warning; /* 0: error */
	char msg[512];
};

/* Zero-initialise before the first use. */
struct policy_doc_diags {
	struct policy_doc_diag *items;
	size_t n;
	size_t n_errors; /* every error, kept in items or not */
};

/*
 * Parses len bytes of text (need not be NUL-terminated) loaded from file
 * (used in messages only). Every problem found is appended to diags; the
 * load goes on after an error where it can, to report them all. Returns 0
 * with *out filled when there were no errors, else -1 with *out empty.
 * Caller frees *out with policy_doc_set_free() and diags with
 * policy_doc_diags_free() in both cases.
 */
int policy_doc_parse(const char *file, const char *text, size_t len,
		     struct policy_doc_set *out, struct policy_doc_diags *diags);

/*
 * Reads path and parses it as policy_doc_parse() does. A regular file
 * larger than POLICY_DOC_MAX_BYTES is refused without being read; a file
 * that cannot be read is an error "path: strerror". Same ownership and
 * return value as policy_doc_parse().
 */
int policy_doc_load_file(const char *path, struct policy_doc_set *out,
			 struct policy_doc_diags *diags);

/* Free what the structures hold and empty them; NULL is a no-op. */
void policy_doc_set_free(struct policy_doc_set *set);
void policy_doc_diags_free(struct policy_doc_diags *diags);

/* Appends a message (printf-style) to diags; returns -1 when out of
 * memory. */
int policy_doc_diag_add(struct policy_doc_diags *diags, int warning,
			const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Writes doc as one YAML document ("---" first) that policy_doc_parse()
 * accepts and that loads back to the same rules. comment, when not NULL,
 * is written as "# " lines after the "---" (one per line of comment,
 * control characters and non-ASCII bytes replaced by '?').
 *
 * Rules of the same direction, peer, protocol and process are folded into
 * one rule with a port (type) list, at the place of the first of them;
 * egress rules come before ingress rules. The output loads back to the
 * same rules in that order (the same set as doc's), and writing what it
 * loads to gives the same bytes again. Returns 0, or -1 with errno set:
 * a write error, EINVAL for a rule the schema cannot express (another
 * protocol, an ICMP type range), EILSEQ for a string that is not valid
 * UTF-8.
 */
int policy_doc_write(FILE *f, const struct policy_doc *doc,
		     const char *comment);

/*
 * Writes doc as a Kubernetes networking.k8s.io/v1 NetworkPolicy selecting
 * pods labelled nseg.workload=<workload>; what it cannot express (process
 * identity, host peers, ICMP) is written as comments. Returns 0 or -1.
 */
int policy_doc_write_k8s(FILE *f, const struct policy_doc *doc);

#endif
