/*
 * Checks shared by the runtime metadata fuzz targets (fuzz_rm_*.c). Each
 * target parses its document twice into the same record: the second
 * parse must change nothing (a source fills only empty fields), every
 * string must end inside its buffer, an override must be a printable
 * word, and runtime_meta_finish() must name a workload exactly when it
 * says it does.
 */
#ifndef NSEG_FUZZ_RM_H
#define NSEG_FUZZ_RM_H

#include <stdlib.h>
#include <string.h>

#include "nseg/runtime_meta_parse.h"

#define FUZZ_RM_ENDS(a) (strnlen((a), sizeof(a)) < sizeof(a))

typedef void (*fuzz_rm_parse_fn)(struct runtime_meta_found *f, const char *buf,
				 size_t len);

static void fuzz_rm_strings(const struct runtime_meta_found *f)
{
	const struct runtime_container *o = f->out;

	if (!FUZZ_RM_ENDS(o->id) || !FUZZ_RM_ENDS(o->name) ||
	    !FUZZ_RM_ENDS(o->runtime) || !FUZZ_RM_ENDS(o->image) ||
	    !FUZZ_RM_ENDS(o->workload) || !FUZZ_RM_ENDS(o->version) ||
	    !FUZZ_RM_ENDS(f->override))
		abort();
	for (const char *p = f->override; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			abort();
}

static void fuzz_rm_finish(struct runtime_meta_found *f)
{
	struct runtime_container *o = f->out;
	int r = runtime_meta_finish(f);

	fuzz_rm_strings(f);
	if ((r == 0) != (o->workload[0] != '\0') || o->runtime[0] == '\0')
		abort();
	if (r == 0 && o->version[0] == '\0')
		abort();
	if (f->override[0] && strcmp(o->workload, f->override) != 0)
		abort();
}

/* Parses buf twice into a record for id, checks, then finishes it. */
static void fuzz_rm_twice(const char *id, fuzz_rm_parse_fn parse,
			  const char *buf, size_t len)
{
	struct runtime_container out = {0}, snap;
	struct runtime_meta_found f = {.id = id, .out = &out};
	char override[sizeof(f.override)];
	int known;

	snprintf(out.id, sizeof(out.id), "%s", id);
	parse(&f, buf, len);
	fuzz_rm_strings(&f);
	snap = out;
	memcpy(override, f.override, sizeof(override));
	known = f.known;
	parse(&f, buf, len);
	if (memcmp(&out, &snap, sizeof(out)) != 0 ||
	    strcmp(override, f.override) != 0 || known != f.known)
		abort();
	fuzz_rm_finish(&f);
}

#endif
