/*
 * The store fixture the unit tests share: a database file of its own in a
 * fresh temporary directory, and a second, raw sqlite3 connection to it
 * through which a test plants triggers that make the store's writes fail.
 */
#ifndef NSEG_TEST_FIXTURE_STORE_H
#define NSEG_TEST_FIXTURE_STORE_H

#include "nseg/store.h"

struct fixture_store {
	char dir[64]; /* /tmp/nseg-test-NAME-XXXXXX */
	char db[128]; /* dir/nseg.db, not created until opened */
};

/* Makes f's directory for test NAME and sets its paths; fails the test on
 * error. */
void fixture_store_setup(struct fixture_store *f, const char *name);

/* Removes the database (with its -wal, -shm and -journal files) and the
 * directory; other files in it are the test's to remove first. */
void fixture_store_teardown(const struct fixture_store *f);

/* store_open(path) or fails the test; the caller owns (store_close) the
 * store. */
struct store *fixture_store_open(const char *path);

/* Runs sql on a second connection to the database file db, as another
 * process would (CREATE TRIGGER ... RAISE(ABORT) makes writes fail); fails
 * the test if sqlite refuses it. */
void fixture_store_exec(const char *db, const char *sql);

#endif
