/*
 * Policies as code, on the store's side: applying a workload's policy
 * documents (policy_doc.h) to its approved baseline, and reading that
 * baseline back as a policy document.
 *
 * Applying makes the workload's approved set exactly the documents' rules:
 * - a rule an approved edge already expresses (same direction, peer,
 *   protocol, ports and process; of the pinned version, when the document
 *   pins one) keeps that edge as it is;
 * - any other rule becomes an approved edge with origin "policy:FILE":
 *   in the pinned version, or in version STORE_VERSION_ANY;
 * - an approved edge no rule expresses goes back to 'learned' when it was
 *   learned, and is deleted when it came from a policy.
 * Mode and learning window change only when a document sets them.
 */
#ifndef NSEG_STORE_POLICY_H
#define NSEG_STORE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "nseg/policy_doc.h"
#include "nseg/store.h"

enum store_policy_change_kind {
	STORE_POLICY_ADD,    /* an edge is now approved */
	STORE_POLICY_REMOVE, /* an edge is no longer approved */
	STORE_POLICY_MODE,   /* from, to: mode names */
	STORE_POLICY_WINDOW, /* from, to: learning window in ms ("" unset) */
};

struct store_policy_change {
	enum store_policy_change_kind kind;
	const char *workload;
	const struct store_edge *edge; /* ADD, REMOVE */
	const char *from, *to;	       /* MODE, WINDOW */
};

typedef int (*store_policy_cb)(const struct store_policy_change *c,
			       void *arg);

/*
 * Applies docs[0..n) (all of one workload, n >= 1) with origin
 * STORE_ORIGIN_POLICY + file, decided by who at now. Must run inside the
 * caller's transaction (store_begin): the caller commits, or rolls back
 * for a dry run or when anything fails. cb (may be NULL) hears of every
 * change before it is made; a non-zero return fails the apply. Bumps the
 * workload's revision when an edge changed. Returns the number of
 * changes, or -1 (errno EINVAL: not in a transaction or docs of several
 * workloads; ECANCELED: cb refused; EIO: database error, logged).
 */
int store_policy_apply(struct store *s, const struct policy_doc *docs,
		       size_t n, const char *file, const char *who,
		       int64_t now, store_policy_cb cb, void *arg);

/* store_policy_apply() for every workload of set (its documents grouped
 * by workload), in the caller's transaction. Returns the number of
 * changes or -1 as store_policy_apply(). */
int store_policy_apply_set(struct store *s, const struct policy_doc_set *set,
			   const char *file, const char *who, int64_t now,
			   store_policy_cb cb, void *arg);

/*
 * The workload's baseline as a policy document: its approved edges (or,
 * with learned != 0, those still waiting for a decision), of version
 * (and, for approved edges, of every version: STORE_VERSION_ANY) when
 * version is not NULL, pinned to it; its mode (approved only) and its own
 * learning window. Edges that differ only in version or peer process make
 * one rule. Returns 0 with *out filled (the caller frees it with
 * policy_doc_clear()), or -1 with errno ENOENT (no such workload) or EIO.
 */
int store_policy_export(struct store *s, const char *workload,
			const char *version, int learned,
			struct policy_doc *out);

/* Frees the rules of one document and empties it; NULL is a no-op. */
void policy_doc_clear(struct policy_doc *doc);

/* The workload's own learning window in ms, or 0 when it has none;
 * -1 on error (errno ENOENT: no such workload). */
int64_t store_workload_learn_window(struct store *s, const char *workload);

#endif
