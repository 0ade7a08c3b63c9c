/*
 * The messages of a policy load: "file:line:col: text", errors and
 * warnings, kept up to POLICY_DOC_MAX_DIAGS so that a hostile file with a
 * million mistakes costs a bounded amount of memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nseg/policy_doc_rule.h"

static int diags_vadd(struct policy_doc_diags *d, int warning, const char *fmt,
		      va_list ap)
{
	struct policy_doc_diag *item;

	/* counted even when not kept, so that a full list or a failed
	 * allocation can never turn an error into success */
	if (!warning)
		d->n_errors++;
	if (d->n >= POLICY_DOC_MAX_DIAGS)
		return 0;
	item = reallocarray(d->items, d->n + 1, sizeof(*d->items));
	if (item == NULL)
		return -1;
	d->items = item;
	item = &d->items[d->n++];
	item->warning = warning;
	if (d->n == POLICY_DOC_MAX_DIAGS)
		snprintf(item->msg, sizeof(item->msg),
			 "too many messages: the rest are not shown");
	else
		vsnprintf(item->msg, sizeof(item->msg), fmt, ap);
	return 0;
}

int policy_doc_diag_add(struct policy_doc_diags *diags, int warning,
			const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = diags_vadd(diags, warning, fmt, ap);
	va_end(ap);
	return rc;
}

void policy_doc_diags_free(struct policy_doc_diags *diags)
{
	if (diags == NULL)
		return;
	free(diags->items);
	*diags = (struct policy_doc_diags){0};
}

void policy_doc_error_at(struct policy_doc_diags *diags,
			 const struct yaml_node *node, const char *fmt, ...)
{
	char msg[sizeof(diags->items->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	policy_doc_diag_add(diags, 0, "%s:%d:%d: %s", yaml_tree_file(node),
			    yaml_tree_line(node), yaml_tree_col(node), msg);
}

void policy_doc_error_yaml(struct policy_doc_diags *diags, const char *key,
			   const struct yaml_error *err)
{
	if (err->line > 0)
		policy_doc_diag_add(diags, 0, "%s:%d:%d: %s%s%s", err->file,
				    err->line, err->col, key ? key : "",
				    key ? ": " : "", err->msg);
	else
		policy_doc_diag_add(diags, 0, "%s: %s", err->file, err->msg);
}
