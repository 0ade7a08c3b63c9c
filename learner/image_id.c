#include <string.h>

#include "nseg/image_id.h"

static const char *const image_id_cg_prefixes[] = {
	"", "libpod-", "docker-", "cri-containerd-", "crio-",
};

/* Printable ASCII without the space: what an image reference may hold. */
static int image_id_chars_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static int image_id_is_registry(const char *s, size_t n)
{
	if (n == 9 && memcmp(s, "localhost", 9) == 0)
		return 1;
	return memchr(s, '.', n) != NULL || memchr(s, ':', n) != NULL;
}

/* A repository path: non-empty components separated by single '/'; a
 * ':' can only have been a registry's port or the tag. */
static int image_id_path_ok(const char *s, size_t n)
{
	if (n == 0 || s[0] == '/' || s[n - 1] == '/' || memchr(s, ':', n))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (s[i] == '/' && s[i - 1] == '/')
			return 0;
	return 1;
}

static int image_id_copy(char *dst, size_t dlen, const char *src, size_t n)
{
	if (n >= dlen)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int image_id_parse(const char *image, char *workload, size_t wlen,
		   char *version, size_t vlen)
{
	const char *at, *name_end, *slash, *colon, *repo, *first;
	size_t n;
	int r;

	if (wlen)
		workload[0] = '\0';
	if (vlen)
		version[0] = '\0';
	if (image == NULL)
		return -1;
	n = strnlen(image, IMAGE_ID_REF_MAX + 1);
	if (n == 0 || n > IMAGE_ID_REF_MAX || !image_id_chars_ok(image, n))
		return -1;
	at = strchr(image, '@');
	if (at && (at[1] == '\0' || strpbrk(at + 1, "@/")))
		return -1;
	name_end = at ? at : image + n;
	slash = memrchr(image, '/', (size_t)(name_end - image));
	repo = slash ? slash + 1 : image;
	colon = memrchr(repo, ':', (size_t)(name_end - repo));
	if (colon && colon + 1 == name_end)
		return -1;
	repo = image;
	first = memchr(image, '/', (size_t)(name_end - image));
	if (first && image_id_is_registry(image, (size_t)(first - image)))
		repo = first + 1;
	n = (size_t)((colon ? colon : name_end) - repo);
	if (!image_id_path_ok(repo, n) ||
	    image_id_copy(workload, wlen, repo, n) < 0)
		goto fail;
	if (colon)
		r = image_id_copy(version, vlen, colon + 1,
				  (size_t)(name_end - colon - 1));
	else if (at)
		r = image_id_copy(version, vlen, at + 1, strlen(at + 1));
	else
		r = image_id_copy(version, vlen, "latest", 6);
	if (r == 0)
		return 0;
fail:
	if (wlen)
		workload[0] = '\0';
	if (vlen)
		version[0] = '\0';
	return -1;
}

/* Lowercase only: that is how every runtime writes ids. */
static int image_id_is_hex64(const char *s)
{
	for (size_t i = 0; i < IMAGE_ID_CONTAINER_LEN; i++)
		if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
			return 0;
	return 1;
}

/* The id inside one cgroup path component, or NULL. */
static const char *image_id_component(const char *s, size_t n)
{
	if (n >= 6 && memcmp(s + n - 6, ".scope", 6) == 0)
		n -= 6;
	for (size_t i = 0; i < sizeof(image_id_cg_prefixes) /
				       sizeof(image_id_cg_prefixes[0]);
	     i++) {
		size_t plen = strlen(image_id_cg_prefixes[i]);

		if (n == plen + IMAGE_ID_CONTAINER_LEN &&
		    memcmp(s, image_id_cg_prefixes[i], plen) == 0 &&
		    image_id_is_hex64(s + plen))
			return s + plen;
	}
	return NULL;
}

int image_id_from_cgroup(const char *cgroup_text, char *id, size_t idlen)
{
	const char *p = cgroup_text, *found;
	size_t n;

	if (idlen)
		id[0] = '\0';
	if (cgroup_text == NULL || idlen <= IMAGE_ID_CONTAINER_LEN)
		return -1;
	for (;;) {
		n = strcspn(p, "/:\n");
		found = image_id_component(p, n);
		if (found) {
			memcpy(id, found, IMAGE_ID_CONTAINER_LEN);
			id[IMAGE_ID_CONTAINER_LEN] = '\0';
			return 0;
		}
		if (p[n] == '\0')
			return -1;
		p += n + 1;
	}
}
