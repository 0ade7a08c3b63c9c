/*
 * The capture directory: where alert and on-demand pcap files live, under
 * a total size quota with oldest-first eviction.
 *
 * The directory is created 0700 when missing (missing parents 0755, like
 * mkdir -p); an existing one must be a real directory (not a symlink),
 * owned by us and not writable by group or others, and writable by us.
 * Every regular *.pcap file in it counts against the quota, including
 * files left by an earlier run and files we did not write; anything else
 * (other names, symlinks, subdirectories) is ignored and never removed.
 *
 * The sizes are kept in memory: a scan at pcap_dir_new, then the writer
 * reports what it adds (pcap_dir_make_room before each write) and
 * pcap_dir_close re-reads a file's real size when it is done. Files
 * registered as open are never evicted.
 */
#ifndef NSEG_PCAP_DIR_H
#define NSEG_PCAP_DIR_H

#include <stddef.h>
#include <stdint.h>

/* Longest sanitised name part in a generated file name. */
#define PCAP_DIR_NAME_MAX 64

struct pcap_dir;
struct pcap_dir_file;

/*
 * Opens (creating if missing) the capture directory path with a quota of
 * quota bytes (0: no quota) and scans it. Returns the directory, owned by
 * the caller (pcap_dir_free), or NULL with the reason in err[errlen].
 */
struct pcap_dir *pcap_dir_new(const char *path, uint64_t quota, char *err,
			      size_t errlen);
/* Frees d (files stay on disk); pcap_dir_free(NULL) is a no-op. */
void pcap_dir_free(struct pcap_dir *d);

/*
 * Writes into buf[len] a path for a new file:
 * "<dir>/<kind>-<id>-<name>-<YYYYMMDDTHHMMSSZ>.pcap", where kind is
 * lower-case letters ("alert", "capture"), name (a workload) is cut to
 * PCAP_DIR_NAME_MAX characters with every character but [A-Za-z0-9._-]
 * replaced by '_' ("" or NULL gives "_"), and the time is unix_sec in
 * UTC. Returns 0, or -1 (errno EINVAL for a bad kind or time,
 * ENAMETOOLONG when buf is too small).
 */
int pcap_dir_path(const struct pcap_dir *d, const char *kind, uint64_t id,
		  const char *name, int64_t unix_sec, char *buf, size_t len);

/*
 * Registers path (a "<dir>/<file>.pcap" of d, normally from pcap_dir_path)
 * as being written: it counts against the quota from now on and is never
 * evicted until pcap_dir_close. Call it before creating the file. Returns
 * a handle owned by d, or NULL with the reason in err[errlen] (not in d,
 * a bad name, or a file of that name is known already).
 */
struct pcap_dir_file *pcap_dir_open(struct pcap_dir *d, const char *path,
				    char *err, size_t errlen);

/*
 * Called with each path pcap_dir_make_room removed, for the caller to log
 * it and drop references to it. It must not call back into d.
 */
typedef void (*pcap_dir_evict_fn)(const char *path, void *arg);

/*
 * Makes room for bytes more in the open file f and counts them against
 * it: while the total plus bytes exceeds the quota, removes the oldest
 * file that is not open (by modification time, i.e. its last write, then
 * by name) and calls
 * evicted (may be NULL) with its path. A file that cannot be removed is
 * logged (log_warn) and no longer counted. Returns 0, or -1 when the open
 * files alone leave no room for bytes more (nothing is removed then): the
 * caller refuses the write (pcap_file_refuse with PCAP_FILE_QUOTA).
 */
int pcap_dir_make_room(struct pcap_dir *d, struct pcap_dir_file *f,
		       uint64_t bytes, pcap_dir_evict_fn evicted, void *arg);

/*
 * The file f is complete (or was never created): its size is re-read
 * from disk, it becomes evictable, and f is freed. A file that does not
 * exist is forgotten.
 */
void pcap_dir_close(struct pcap_dir *d, struct pcap_dir_file *f);

/* Bytes counted against the quota, and the number of files counted. */
uint64_t pcap_dir_total(const struct pcap_dir *d);
size_t pcap_dir_count(const struct pcap_dir *d);

/* The directory's path as given, without trailing slashes (owned by d). */
const char *pcap_dir_name(const struct pcap_dir *d);

#endif
