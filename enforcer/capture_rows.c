/*
 * Capture rows reach the store from the capture tick (or a control
 * request), never from the packet path: a new alert's capture gets its
 * id and file at once, and a locked or full database delays its row, not
 * the verdict nor the capture. What the store refused is kept (bounded)
 * and written by a later tick.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"
#include "nseg/daemon.h"
#include "nseg/log.h"

/* Ended captures' rows, and evicted files, kept while the store refuses
 * them; past this the oldest goes (logged). */
#define CAP_ROWS_MAX 256

int cap_rows_init(struct capture_mgr *m)
{
	int64_t max;

	if (store_capture_max_id(m->d->store, &max) == -1)
		return -1;
	m->next_id = max + 1;
	return 0;
}

int64_t cap_rows_next_id(struct capture_mgr *m)
{
	return m->next_id++;
}

static void cap_rows_failed(struct capture_mgr *m)
{
	if (!m->rows_failing)
		log_warnx("capture: the database refuses capture records; "
			  "they are kept for the next try");
	m->rows_failing = 1;
}

void cap_row_put(struct capture_mgr *m, const struct store_capture *r)
{
	if (store_capture_put(m->d->store, r) == -1)
		cap_rows_failed(m);
}

static int cap_rows_push(void **arr, size_t *n, size_t size,
			 const void *item)
{
	char *a = *arr;

	if (*n == CAP_ROWS_MAX) {
		log_warnx("capture: more than %d records unwritten; the "
			  "oldest is lost", CAP_ROWS_MAX);
		memmove(a, a + size, (*n - 1) * size);
		(*n)--;
	} else if (!(a = realloc(a, (*n + 1) * size))) {
		log_warnx("capture: out of memory; a capture record is lost");
		return -1;
	}
	memcpy(a + *n * size, item, size);
	*arr = a;
	(*n)++;
	return 0;
}

void cap_row_final(struct capture_mgr *m, const struct store_capture *r)
{
	cap_rows_push((void **)&m->unwritten, &m->n_unwritten,
		      sizeof(*m->unwritten), r);
}

void cap_row_evicted(struct capture_mgr *m, const char *path)
{
	struct cap_evicted e;

	snprintf(e.path, sizeof(e.path), "%s", path);
	cap_rows_push((void **)&m->evicted, &m->n_evicted,
		      sizeof(*m->evicted), &e);
}

/* The first k of n items of size bytes were written: they go. */
static void cap_rows_shift(void *arr, size_t *n, size_t size, size_t k)
{
	if (!k)
		return; /* arr may be NULL: nothing was ever kept */
	memmove(arr, (char *)arr + k * size, (*n - k) * size);
	*n -= k;
}

void cap_rows_flush(struct capture_mgr *m)
{
	size_t i;

	for (i = 0; i < m->n_unwritten; i++)
		if (store_capture_put(m->d->store, &m->unwritten[i]) == -1)
			break;
	cap_rows_shift(m->unwritten, &m->n_unwritten, sizeof(*m->unwritten),
		       i);
	/* An eviction waits for its capture's row: it updates that row. */
	if (m->n_unwritten) {
		cap_rows_failed(m);
		return;
	}
	for (i = 0; i < m->n_evicted; i++)
		if (store_capture_evicted(m->d->store, m->evicted[i].path) == -1)
			break;
	cap_rows_shift(m->evicted, &m->n_evicted, sizeof(*m->evicted), i);
	if (m->n_evicted) {
		cap_rows_failed(m);
		return;
	}
	if (m->rows_failing)
		log_info("capture: records written again");
	m->rows_failing = 0;
}

size_t cap_rows_pending(const struct capture_mgr *m)
{
	return m->n_unwritten + m->n_evicted;
}

void cap_rows_free(struct capture_mgr *m)
{
	cap_rows_flush(m);
	if (cap_rows_pending(m))
		log_warnx("capture: %zu capture records could not be written",
			  cap_rows_pending(m));
	free(m->unwritten);
	free(m->evicted);
	m->unwritten = NULL;
	m->evicted = NULL;
	m->n_unwritten = m->n_evicted = 0;
}
