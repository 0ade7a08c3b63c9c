#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nseg/log.h"
#include "nseg/pcap_dir.h"
#include "nseg/timefmt.h"

#define PCAP_DIR_SUFFIX ".pcap"
#define PCAP_DIR_KIND_MAX 16

/* A complete file: evictable. */
struct pcap_dir_ent {
	char *name;
	uint64_t size;
	struct timespec mtime;
};

/* A file being written (a handle of the caller's). */
struct pcap_dir_file {
	struct pcap_dir_file *next, *prev;
	uint64_t size;
	char name[];
};

/*
 * ents is sorted oldest first (mtime, then name): eviction takes from the
 * front. total is the sum of both lists' sizes, open_bytes that of the
 * open files.
 */
struct pcap_dir {
	int fd;
	uint64_t quota, total, open_bytes;
	struct pcap_dir_ent *ents;
	size_t n, cap;
	struct pcap_dir_file *open;
	char path[];
};

/* ---- checking and creating the directory ---- */

/* mkdir -p of path's parents, 0755. */
static int pcap_dir_mkparents(char *path, char *err, size_t errlen)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path,
				 strerror(errno));
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int pcap_dir_create(char *path, int *created, char *err, size_t errlen)
{
	struct stat st;

	*created = 0;
	if (lstat(path, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		snprintf(err, errlen, "capture directory %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (pcap_dir_mkparents(path, err, errlen) == -1)
		return -1;
	if (mkdir(path, 0700) == 0)
		*created = 1;
	else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* The checks on an open directory fd, which cannot be swapped under us. */
static int pcap_dir_check(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "capture directory %s is owned by uid %u, not by us "
			 "(uid %u)",
			 path, (unsigned int)st.st_uid,
			 (unsigned int)geteuid());
		return -1;
	}
	if (st.st_mode & 022) {
		snprintf(err, errlen,
			 "capture directory %s is writable by group or others "
			 "(mode %04o); chmod go-w it",
			 path, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) == -1) {
		snprintf(err, errlen,
			 "capture directory %s is not writable: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int pcap_dir_open_fd(char *path, char *err, size_t errlen)
{
	int created, fd;
	struct stat st;

	if (pcap_dir_create(path, &created, err, errlen) == -1)
		return -1;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(err, errlen,
			 "capture directory %s is a symlink; refusing it",
			 path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "capture directory %s: %s", path,
			 errno == ENOTDIR ? "not a directory"
					  : strerror(errno));
		return -1;
	}
	/* Exactly 0700 whatever the umask. */
	if (created && fchmod(fd, 0700) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (pcap_dir_check(fd, path, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the list of complete files ---- */

static int pcap_dir_cmp(const struct pcap_dir_ent *a,
			const struct pcap_dir_ent *b)
{
	if (a->mtime.tv_sec != b->mtime.tv_sec)
		return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
	if (a->mtime.tv_nsec != b->mtime.tv_nsec)
		return a->mtime.tv_nsec < b->mtime.tv_nsec ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int pcap_dir_qcmp(const void *a, const void *b)
{
	return pcap_dir_cmp(a, b);
}

/* Appends e (taking its name) to the list, unsorted. */
static int pcap_dir_append(struct pcap_dir *d, const struct pcap_dir_ent *e)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct pcap_dir_ent *n = reallocarray(d->ents, cap, sizeof(*n));

		if (!n)
			return -1;
		d->ents = n;
		d->cap = cap;
	}
	d->ents[d->n++] = *e;
	d->total += e->size;
	return 0;
}

/* Adds e (taking its name) at its place in the sorted list. */
static int pcap_dir_insert(struct pcap_dir *d, const struct pcap_dir_ent *e)
{
	size_t i;

	if (pcap_dir_append(d, e) == -1)
		return -1;
	/* A file just closed is normally the newest: search from the end. */
	for (i = d->n - 1; i > 0 && pcap_dir_cmp(&d->ents[i - 1], e) > 0; i--)
		;
	memmove(&d->ents[i + 1], &d->ents[i], (d->n - 1 - i) * sizeof(*e));
	d->ents[i] = *e;
	return 0;
}

static void pcap_dir_remove(struct pcap_dir *d, size_t i)
{
	d->total -= d->ents[i].size;
	free(d->ents[i].name);
	memmove(&d->ents[i], &d->ents[i + 1],
		(d->n - i - 1) * sizeof(d->ents[0]));
	d->n--;
}

static int pcap_dir_is_pcap(const char *name)
{
	size_t n = strlen(name), s = strlen(PCAP_DIR_SUFFIX);

	return n > s && strcmp(name + n - s, PCAP_DIR_SUFFIX) == 0;
}

/* Fills e from the regular file name in d; 0, or -1 if not one. */
static int pcap_dir_stat(const struct pcap_dir *d, const char *name,
			 struct pcap_dir_ent *e)
{
	struct stat st;

	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode))
		return -1;
	e->size = (uint64_t)st.st_size;
	e->mtime = st.st_mtim;
	return 0;
}

/* Adds the regular file name in d, sorted or appended; not a regular file
 * is not an error. */
static int pcap_dir_add(struct pcap_dir *d, const char *name, int sorted)
{
	struct pcap_dir_ent e;

	if (pcap_dir_stat(d, name, &e) == -1)
		return 0;
	e.name = strdup(name);
	if (!e.name ||
	    (sorted ? pcap_dir_insert(d, &e) : pcap_dir_append(d, &e)) == -1) {
		free(e.name);
		return -1;
	}
	return 0;
}

static int pcap_dir_scan(struct pcap_dir *d, char *err, size_t errlen)
{
	int fd = dup(d->fd);
	DIR *dir = fd == -1 ? NULL : fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!dir) {
		snprintf(err, errlen, "cannot read %s: %s", d->path,
			 strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while (rc == 0 && (errno = 0, de = readdir(dir)))
		if (pcap_dir_is_pcap(de->d_name))
			rc = pcap_dir_add(d, de->d_name, 0);
	if (rc == -1 || errno) {
		snprintf(err, errlen, "cannot read %s: %s", d->path,
			 strerror(errno ? errno : ENOMEM));
		rc = -1;
	}
	closedir(dir);
	if (d->n > 1)
		qsort(d->ents, d->n, sizeof(d->ents[0]), pcap_dir_qcmp);
	return rc;
}

/* ---- the directory ---- */

struct pcap_dir *pcap_dir_new(const char *path, uint64_t quota, char *err,
			      size_t errlen)
{
	size_t n = strlen(path);
	struct pcap_dir *d;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || n >= PATH_MAX) {
		snprintf(err, errlen, "capture directory '%s': bad path", path);
		return NULL;
	}
	d = calloc(1, sizeof(*d) + n + 1);
	if (!d) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	memcpy(d->path, path, n);
	d->quota = quota;
	d->fd = pcap_dir_open_fd(d->path, err, errlen);
	if (d->fd == -1 || pcap_dir_scan(d, err, errlen) == -1) {
		pcap_dir_free(d);
		return NULL;
	}
	return d;
}

void pcap_dir_free(struct pcap_dir *d)
{
	struct pcap_dir_file *f, *next;

	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	for (f = d->open; f; f = next) {
		next = f->next;
		free(f);
	}
	if (d->fd != -1)
		close(d->fd);
	free(d);
}

uint64_t pcap_dir_total(const struct pcap_dir *d)
{
	return d->total;
}

size_t pcap_dir_count(const struct pcap_dir *d)
{
	size_t n = d->n;

	for (const struct pcap_dir_file *f = d->open; f; f = f->next)
		n++;
	return n;
}

const char *pcap_dir_name(const struct pcap_dir *d)
{
	return d->path;
}

/* ---- files being written ---- */

static int pcap_dir_known(const struct pcap_dir *d, const char *name)
{
	for (const struct pcap_dir_file *f = d->open; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return 1;
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->ents[i].name, name) == 0)
			return 1;
	return 0;
}

/* The file name of path if path is "<d->path>/<name>.pcap", or NULL. */
static const char *pcap_dir_base(const struct pcap_dir *d, const char *path)
{
	size_t n = strlen(d->path);
	const char *name = path + n + 1;

	if (strncmp(path, d->path, n) != 0 || path[n] != '/' ||
	    strchr(name, '/') || !pcap_dir_is_pcap(name) || name[0] == '.')
		return NULL;
	return name;
}

struct pcap_dir_file *pcap_dir_open(struct pcap_dir *d, const char *path,
				    char *err, size_t errlen)
{
	const char *name = pcap_dir_base(d, path);
	struct pcap_dir_file *f;

	if (!name) {
		snprintf(err, errlen, "%s: not a .pcap file directly in %s",
			 path, d->path);
		return NULL;
	}
	if (pcap_dir_known(d, name)) {
		snprintf(err, errlen, "%s: exists already", path);
		return NULL;
	}
	f = calloc(1, sizeof(*f) + strlen(name) + 1);
	if (!f) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	strcpy(f->name, name);
	f->next = d->open;
	if (d->open)
		d->open->prev = f;
	d->open = f;
	return f;
}

void pcap_dir_close(struct pcap_dir *d, struct pcap_dir_file *f)
{
	if (!f)
		return;
	if (f->prev)
		f->prev->next = f->next;
	else
		d->open = f->next;
	if (f->next)
		f->next->prev = f->prev;
	d->total -= f->size;
	d->open_bytes -= f->size;
	if (pcap_dir_add(d, f->name, 1) == -1)
		log_warnx("%s/%s: out of memory; no longer counted in the "
			  "quota",
			  d->path, f->name);
	free(f);
}

/*
 * Removes the oldest complete file. A file that cannot be removed is
 * logged and no longer counted, so that one stuck file cannot stop every
 * capture.
 */
static void pcap_dir_evict_one(struct pcap_dir *d, pcap_dir_evict_fn evicted,
			       void *arg)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", d->path, d->ents[0].name);
	if (unlinkat(d->fd, d->ents[0].name, 0) == -1 && errno != ENOENT)
		log_warn("cannot remove %s to keep the capture quota; no "
			 "longer counted",
			 path);
	else if (evicted)
		evicted(path, arg);
	pcap_dir_remove(d, 0);
}

int pcap_dir_make_room(struct pcap_dir *d, struct pcap_dir_file *f,
		       uint64_t bytes, pcap_dir_evict_fn evicted, void *arg)
{
	if (d->quota && (bytes > d->quota || d->open_bytes > d->quota - bytes))
		return -1;
	while (d->quota && d->total + bytes > d->quota && d->n > 0)
		pcap_dir_evict_one(d, evicted, arg);
	f->size += bytes;
	d->open_bytes += bytes;
	d->total += bytes;
	return 0;
}

/* ---- names ---- */

static void pcap_dir_sanitise(const char *name, char *out)
{
	size_t n = 0;

	for (; name && name[n] && n < PCAP_DIR_NAME_MAX; n++) {
		char c = name[n];

		out[n] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '.' ||
				 c == '_' || c == '-'
			     ? c
			     : '_';
	}
	if (n == 0)
		out[n++] = '_';
	out[n] = '\0';
}

static int pcap_dir_kind_ok(const char *kind)
{
	size_t n = 0;

	for (; kind[n]; n++)
		if (kind[n] < 'a' || kind[n] > 'z')
			return 0;
	return n > 0 && n <= PCAP_DIR_KIND_MAX;
}

/* "2026-11-22T14:28:27Z" into "20261122T142827Z". */
static int pcap_dir_time(int64_t unix_sec, char *out)
{
	char buf[TIMEFMT_RFC3339_LEN];
	size_t n = 0;

	if (timefmt_rfc3339(unix_sec, buf, sizeof(buf)) == -1)
		return -1;
	for (const char *p = buf; *p; p++)
		if (*p != '-' && *p != ':')
			out[n++] = *p;
	out[n] = '\0';
	return 0;
}

int pcap_dir_path(const struct pcap_dir *d, const char *kind, uint64_t id,
		  const char *name, int64_t unix_sec, char *buf, size_t len)
{
	char safe[PCAP_DIR_NAME_MAX + 1], when[TIMEFMT_RFC3339_LEN];
	int n;

	if (len > 0)
		buf[0] = '\0';
	if (!kind || !pcap_dir_kind_ok(kind) ||
	    pcap_dir_time(unix_sec, when) == -1) {
		errno = EINVAL;
		return -1;
	}
	pcap_dir_sanitise(name, safe);
	n = snprintf(buf, len, "%s/%s-%llu-%s-%s" PCAP_DIR_SUFFIX, d->path,
		     kind, (unsigned long long)id, safe, when);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
