/*
 * An append-only pool of strings that are freed all at once: for tables
 * of many small records (tens of thousands of policy rules) whose strings
 * would otherwise sit in fixed-size buffers sized for the longest path.
 * Strings never move, so pointers into the pool stay valid until
 * strpool_free().
 */
#ifndef NSEG_STRPOOL_H
#define NSEG_STRPOOL_H

struct strpool;

/* Caller owns the result (strpool_free). NULL when out of memory. */
struct strpool *strpool_new(void);
/* Frees the pool and every string in it; NULL is a no-op. */
void strpool_free(struct strpool *p);
/* A copy of s owned by p, or NULL when out of memory. A string equal to
 * a recently added one usually shares its copy. */
const char *strpool_add(struct strpool *p, const char *s);

#endif
