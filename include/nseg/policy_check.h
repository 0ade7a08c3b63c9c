/*
 * What only the daemon can check of a policy the loader accepted: that a
 * named external network is one its config defines (an error: the rule
 * could not be compiled) and that a peer workload is one it has seen (a
 * warning: the rule waits for it).
 */
#ifndef NSEG_POLICY_CHECK_H
#define NSEG_POLICY_CHECK_H

#include "nseg/policy_doc.h"

struct store;
struct config;

/* Appends a "file:line:col: ..." message to diags per problem; s NULL
 * skips the peer workload check. Returns 0, or -1 when an error was
 * added (or memory ran out). */
int policy_check(const struct policy_doc_set *set, const char *file,
		 struct store *s, const struct config *cfg,
		 struct policy_doc_diags *diags);

#endif
