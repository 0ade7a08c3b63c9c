/*
 * libFuzzer target for podman's and CRI-O's containers.json
 * (runtime_meta_podman_buf): looked up by each of the first ids the
 * document holds (so entries are reached, not just searched) and by one
 * it most likely does not hold; the checks are in fuzz_rm.h.
 */
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "fuzz_rm.h"

#define FUZZ_PODMAN_IDS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_podman_found(struct runtime_meta_found *f, const char *buf,
			      size_t len)
{
	if (runtime_meta_podman_buf(f, buf, len, "containers.json") != 1 ||
	    !f->known)
		abort();
}

/* Any id: an entry was found exactly when the record says known, and
 * nothing is filled without one. */
static void fuzz_podman_any(struct runtime_meta_found *f, const char *buf,
			    size_t len)
{
	int r = runtime_meta_podman_buf(f, buf, len, "containers.json");

	if (r != f->known || (r == 0 && (f->out->name[0] || f->out->image[0] ||
					 f->out->runtime[0])))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	json_t *root = json_loadb(buf, size, 0, NULL), *ent;
	size_t i;
	int n = 0;

	json_array_foreach(root, i, ent)
	{
		const char *id = json_string_value(json_object_get(ent, "id"));

		if (id && n++ < FUZZ_PODMAN_IDS)
			fuzz_rm_twice(id, fuzz_podman_found, buf, size);
	}
	fuzz_rm_twice("nseg-fuzz-absent", fuzz_podman_any, buf, size);
	json_decref(root);
	return 0;
}
