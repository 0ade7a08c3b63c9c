/*
 * libFuzzer target for Docker's containers/<id>/config.v2.json
 * (runtime_meta_docker); the checks are in fuzz_rm.h.
 */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_rm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_docker(struct runtime_meta_found *f, const char *buf,
			size_t len)
{
	runtime_meta_docker(f, buf, len, "config.v2.json");
	/* Any document that parses is Docker's, even with nothing in it. */
	if (f->known && strcmp(f->out->runtime, "docker") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_rm_twice("0123abcd", fuzz_docker, (const char *)data, size);
	return 0;
}
