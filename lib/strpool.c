#include <stdlib.h>
#include <string.h>

#include "nseg/strpool.h"

#define STRPOOL_CHUNK 4096
/* Recently added strings, by hash: a bounded way to share the copies of
 * the few distinct peers and executables a table repeats. */
#define STRPOOL_RECENT 64

struct strpool_chunk {
	struct strpool_chunk *next;
	size_t used, size;
	char data[];
};

struct strpool {
	struct strpool_chunk *head;
	const char *recent[STRPOOL_RECENT];
};

struct strpool *strpool_new(void)
{
	return calloc(1, sizeof(struct strpool));
}

void strpool_free(struct strpool *p)
{
	if (!p)
		return;
	while (p->head) {
		struct strpool_chunk *c = p->head;

		p->head = c->next;
		free(c);
	}
	free(p);
}

/* A chunk with room for n bytes: the head, or a new one. Strings longer
 * than a chunk get a chunk of their own. */
static struct strpool_chunk *strpool_room(struct strpool *p, size_t n)
{
	struct strpool_chunk *c = p->head;
	size_t size;

	if (c && c->size - c->used >= n)
		return c;
	size = n > STRPOOL_CHUNK ? n : STRPOOL_CHUNK;
	c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->used = 0;
	c->size = size;
	c->next = p->head;
	p->head = c;
	return c;
}

static unsigned strpool_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % STRPOOL_RECENT;
}

const char *strpool_add(struct strpool *p, const char *s)
{
	size_t n = strlen(s) + 1;
	unsigned h = strpool_hash(s);
	struct strpool_chunk *c;
	char *copy;

	if (p->recent[h] && strcmp(p->recent[h], s) == 0)
		return p->recent[h];
	c = strpool_room(p, n);
	if (!c)
		return NULL;
	copy = c->data + c->used;
	memcpy(copy, s, n);
	c->used += n;
	p->recent[h] = copy;
	return copy;
}
