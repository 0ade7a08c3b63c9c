/*
 * libFuzzer target for image references and /proc/PID/cgroup text. Checks
 * that results are NUL-terminated within their buffers, that a failure
 * leaves them empty, and that a found container id is 64 hex digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/image_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_image(const char *s)
{
	char w[256], v[128];

	if (image_id_parse(s, w, sizeof(w), v, sizeof(v)) < 0) {
		if (w[0] || v[0])
			abort();
		return;
	}
	if (!w[0] || !v[0] || strnlen(w, sizeof(w)) == sizeof(w) ||
	    strnlen(v, sizeof(v)) == sizeof(v) || w[0] == '/')
		abort();
	/* Tiny buffers must fail, never overflow. */
	image_id_parse(s, w, 2, v, 2);
}

static void fuzz_cgroup(const char *s)
{
	char id[IMAGE_ID_CONTAINER_LEN + 1];

	if (image_id_from_cgroup(s, id, sizeof(id)) < 0)
		return;
	if (strlen(id) != IMAGE_ID_CONTAINER_LEN ||
	    strspn(id, "0123456789abcdef") != IMAGE_ID_CONTAINER_LEN ||
	    strstr(s, id) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_image(s);
	fuzz_cgroup(s);
	free(s);
	return 0;
}
