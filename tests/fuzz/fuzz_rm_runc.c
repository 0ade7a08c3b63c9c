/*
 * libFuzzer target for runc's state.json (runtime_meta_runc_state): the
 * bundle path it returns is absolute and fits, a buffer too small is
 * refused rather than overrun; the common checks are in fuzz_rm.h.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_rm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_runc(struct runtime_meta_found *f, const char *buf, size_t len)
{
	char bundle[PATH_MAX], small[8];

	memset(small, 'x', sizeof(small));
	if (runtime_meta_runc_state(f, buf, len, "state.json", bundle,
				    sizeof(bundle)) == 0) {
		if (bundle[0] != '/' || !FUZZ_RM_ENDS(bundle) || !f->known)
			abort();
		if (runtime_meta_runc_state(f, buf, len, "state.json", small,
					    sizeof(small)) == 0 &&
		    strcmp(small, bundle) != 0)
			abort();
	}
	/* runc state names no image: only the bundle's config.json does. */
	if (f->out->image[0] || f->out->runtime[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_rm_twice("0123abcd", fuzz_runc, (const char *)data, size);
	return 0;
}
