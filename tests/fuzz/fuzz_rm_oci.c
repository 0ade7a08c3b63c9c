/*
 * libFuzzer target for OCI runtime specs (a bundle's config.json, with
 * the CRI, CRI-O and podman annotations; runtime_meta_oci_config); the
 * checks are in fuzz_rm.h.
 */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_rm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_oci(struct runtime_meta_found *f, const char *buf, size_t len)
{
	runtime_meta_oci_config(f, buf, len, "config.json");
	/* Annotations alone do not say the runtime knows the container. */
	if (f->known)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_rm_twice("0123abcd", fuzz_oci, (const char *)data, size);
	return 0;
}
