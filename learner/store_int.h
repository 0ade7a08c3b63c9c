/*
 * What the store's other files (store_policy.c) need of store.c and no
 * caller outside learner/ should see.
 */
#ifndef NSEG_STORE_INT_H
#define NSEG_STORE_INT_H

#include <stdint.h>

#include <sqlite3.h>

struct store;

/* The connection, for statements prepared outside store.c. */
sqlite3 *store_sqlite(struct store *s);
/* The workload's id, creating the workload (mode learn) when missing;
 * -1 on a database error (logged). */
int64_t store_workload_ensure(struct store *s, const char *name, int64_t now);

#endif
