#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nseg/image_id.h"
#include "nseg/log.h"
#include "nseg/proc_cache.h"

#define PC_PROC_BUCKETS 4096
#define PC_SOCK_BUCKETS 16384
/* The socket map is a cache: past this size it is dropped and refilled. */
#define PC_SOCK_MAX 65536
/* Cheap lookups skip processes holding more fds than this. */
#define PC_CHEAP_MAX_FDS 256
/* A /proc walk costs milliseconds; never more often than this. */
#define PC_RESCAN_MIN_MS 100
/* Processes that exited, remembered for packets they sent just before
 * (a SYN retransmitted as connect() gives up): how many, how long. */
#define PC_GONE_MAX 64
#define PC_GONE_TTL_MS 5000

struct pc_proc {
	pid_t pid;
	uint64_t netns;
	uint64_t mru;
	uint64_t scan_gen; /* lookup that last read its fds */
	int hot[8];        /* fds where wanted sockets were found lately */
	unsigned nfds;     /* fds at its last table walk */
	unsigned nhot;
	int have_id;       /* id holds exe and comm as of the last exec or rename */
	struct nseg_proc_id id;
	int have_cid;
	char cid[65];
	struct pc_proc *next;
};

struct pc_sock {
	uint64_t ino;
	pid_t pid;
	int fd;
	struct pc_sock *next;
};

struct proc_cache {
	char root[256];
	struct pc_proc *procs[PC_PROC_BUCKETS];
	struct pc_sock *socks[PC_SOCK_BUCKETS];
	size_t nprocs, nsocks;
	uint64_t tick;
	uint64_t last_rescan_ms;
	int events_live; /* exec/exit events arrive: cached facts stay true */
	struct {
		uint64_t netns;
		pid_t pid;
	} recent[16]; /* last process matched per namespace */
	struct {
		uint64_t ino;
		uint64_t when_ms;
	} unowned[64]; /* sockets no process held a moment ago */
	struct {
		pid_t pid;
		uint64_t when_ms;
		struct nseg_proc_id id;
		char cid[65];
	} gone[PC_GONE_MAX]; /* ring of the last exits with a known identity */
	size_t gone_next;
	struct proc_cache_stats st;
};

static uint64_t pc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t pc_proc_bucket(pid_t pid)
{
	return (size_t)pid % PC_PROC_BUCKETS;
}

static size_t pc_sock_bucket(uint64_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 40) % PC_SOCK_BUCKETS;
}

void proc_cache_set_events_live(struct proc_cache *c, int live)
{
	c->events_live = live;
}

int proc_cache_events_live(const struct proc_cache *c)
{
	return c->events_live;
}

struct proc_cache *proc_cache_new(const char *proc_root)
{
	struct proc_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->root, sizeof(c->root), "%s", proc_root);
	return c;
}

static void pc_clear_socks(struct proc_cache *c)
{
	for (size_t i = 0; i < PC_SOCK_BUCKETS; i++) {
		while (c->socks[i]) {
			struct pc_sock *s = c->socks[i];
			c->socks[i] = s->next;
			free(s);
		}
	}
	c->nsocks = 0;
}

void proc_cache_invalidate(struct proc_cache *c)
{
	pc_clear_socks(c);
	for (size_t i = 0; i < PC_PROC_BUCKETS; i++) {
		for (struct pc_proc *p = c->procs[i]; p; p = p->next) {
			p->have_id = 0;
			p->have_cid = 0;
		}
	}
}

void proc_cache_free(struct proc_cache *c)
{
	if (!c)
		return;
	pc_clear_socks(c);
	for (size_t i = 0; i < PC_PROC_BUCKETS; i++) {
		while (c->procs[i]) {
			struct pc_proc *p = c->procs[i];
			c->procs[i] = p->next;
			free(p);
		}
	}
	free(c);
}

static struct pc_proc *pc_find(struct proc_cache *c, pid_t pid)
{
	for (struct pc_proc *p = c->procs[pc_proc_bucket(pid)]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static uint64_t pc_read_netns(struct proc_cache *c, pid_t pid)
{
	char path[320];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%d/ns/net", c->root, (int)pid);
	if (stat(path, &st) == -1)
		return 0;
	return (uint64_t)st.st_ino;
}

/* Adds or refreshes pid; returns NULL when the process is already gone. */
static struct pc_proc *pc_update(struct proc_cache *c, pid_t pid)
{
	struct pc_proc *p = pc_find(c, pid);
	uint64_t ns = pc_read_netns(c, pid);

	if (!ns) {
		if (p)
			proc_cache_exit(c, pid);
		return NULL;
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->pid = pid;
		p->next = c->procs[pc_proc_bucket(pid)];
		c->procs[pc_proc_bucket(pid)] = p;
		c->nprocs++;
	}
	p->netns = ns;
	p->have_cid = 0;
	p->have_id = 0;
	return p;
}

static int pc_is_pid(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int proc_cache_rescan(struct proc_cache *c)
{
	DIR *d = opendir(c->root);
	struct dirent *de;
	if (!d)
		return -1;
	c->st.proc_scans++;
	c->last_rescan_ms = pc_now_ms();
	while ((de = readdir(d))) {
		pid_t pid;

		if (!pc_is_pid(de->d_name))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (!pc_find(c, pid))
			pc_update(c, pid);
	}
	closedir(d);
	/* Processes whose exit event was lost. */
	for (size_t i = 0; i < PC_PROC_BUCKETS; i++) {
		for (struct pc_proc **pp = &c->procs[i]; *pp;) {
			char path[320];
			struct pc_proc *p = *pp;

			snprintf(path, sizeof(path), "%s/%d", c->root,
				 (int)p->pid);
			if (access(path, F_OK) == 0) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			free(p);
			c->nprocs--;
		}
	}
	return 0;
}

void proc_cache_fork(struct proc_cache *c, pid_t pid)
{
	pc_update(c, pid);
}

void proc_cache_exec(struct proc_cache *c, pid_t pid)
{
	/* exec may come after setns (ip netns exec, runc): re-read. */
	pc_update(c, pid);
}

void proc_cache_comm(struct proc_cache *c, pid_t pid)
{
	struct pc_proc *p = pc_find(c, pid);

	if (p)
		p->have_id = 0;
}

static void pc_gone_put(struct proc_cache *c, const struct pc_proc *p)
{
	size_t i = c->gone_next++ % PC_GONE_MAX;

	c->gone[i].pid = p->pid;
	c->gone[i].when_ms = pc_now_ms();
	c->gone[i].id = p->id;
	snprintf(c->gone[i].cid, sizeof(c->gone[i].cid), "%s",
		 p->have_cid ? p->cid : "");
}

void proc_cache_exit(struct proc_cache *c, pid_t pid)
{
	for (struct pc_proc **pp = &c->procs[pc_proc_bucket(pid)]; *pp;
	     pp = &(*pp)->next) {
		struct pc_proc *p = *pp;
		if (p->pid != pid)
			continue;
		*pp = p->next;
		if (p->have_id)
			pc_gone_put(c, p);
		free(p);
		c->nprocs--;
		return;
	}
}

static void pc_sock_put(struct proc_cache *c, uint64_t ino, pid_t pid, int fd)
{
	size_t b = pc_sock_bucket(ino);
	struct pc_sock *s;

	for (s = c->socks[b]; s; s = s->next) {
		if (s->ino == ino) {
			s->pid = pid;
			s->fd = fd;
			return;
		}
	}
	if (c->nsocks >= PC_SOCK_MAX)
		pc_clear_socks(c);
	s = malloc(sizeof(*s));
	if (!s)
		return;
	s->ino = ino;
	s->pid = pid;
	s->fd = fd;
	s->next = c->socks[b];
	c->socks[b] = s;
	c->nsocks++;
}

static void pc_sock_del(struct proc_cache *c, uint64_t ino)
{
	for (struct pc_sock **pp = &c->socks[pc_sock_bucket(ino)]; *pp;
	     pp = &(*pp)->next) {
		if ((*pp)->ino == ino) {
			struct pc_sock *s = *pp;
			*pp = s->next;
			free(s);
			c->nsocks--;
			return;
		}
	}
}

/* "socket:[12345]" -> 12345, 0 if the link is not a socket. */
static uint64_t pc_link_socket(const char *link)
{
	if (strncmp(link, "socket:[", 8) != 0)
		return 0;
	return strtoull(link + 8, NULL, 10);
}

static uint64_t pc_fd_socket(struct proc_cache *c, pid_t pid, int fd)
{
	char path[320], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/fd/%d", c->root, (int)pid, fd);
	c->st.fd_reads++;
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	return pc_link_socket(link);
}

/* A client that connects in a loop gets the lowest free fd each time,
 * usually one it used before: remember where sockets turned up. */
static void pc_hot_add(struct pc_proc *p, int fd)
{
	unsigned n = p->nhot < 8 ? p->nhot : 8;

	for (unsigned i = 0; i < n; i++)
		if (p->hot[i] == fd)
			return;
	p->hot[p->nhot++ % 8] = fd;
}

/* Reads only p's hot fds; returns 1 if want is among them. */
static int pc_probe_hot(struct proc_cache *c, struct pc_proc *p, uint64_t want)
{
	unsigned n = p->nhot < 8 ? p->nhot : 8;

	int found = 0;

	/* Every socket read is kept: the next lookup is often for one of
	 * them (another thread's connection). */
	for (unsigned i = 0; i < n; i++) {
		uint64_t ino = pc_fd_socket(c, p->pid, p->hot[i]);

		if (!ino)
			continue;
		pc_sock_put(c, ino, p->pid, p->hot[i]);
		if (ino == want)
			found = 1;
	}
	return found;
}

/* Reads pid's fd table into the socket map; returns 1 if want was seen. */
static int pc_scan_fds(struct proc_cache *c, struct pc_proc *p, uint64_t want)
{
	pid_t pid = p->pid;
	char path[320];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", c->root, (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	c->st.fd_scans++;
	p->nfds = 0;
	while ((de = readdir(d))) {
		uint64_t ino;
		int fd;

		if (!pc_is_pid(de->d_name))
			continue;
		p->nfds++;
		fd = atoi(de->d_name);
		ino = pc_fd_socket(c, pid, fd);
		if (!ino)
			continue;
		pc_sock_put(c, ino, pid, fd);
		if (ino == want) {
			found = 1;
			pc_hot_add(p, fd);
		}
	}
	closedir(d);
	return found;
}

/* Reads a small /proc file into buf, NUL-terminated ("" on error). */
static void pc_read_all(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd == -1)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n > 0)
		buf[n] = '\0';
}

static void pc_read_line(const char *path, char *buf, size_t len)
{
	pc_read_all(path, buf, len);
	buf[strcspn(buf, "\n")] = '\0';
}

static void pc_read_id(struct proc_cache *c, pid_t pid,
		       struct nseg_proc_id *id)
{
	static const char deleted[] = " (deleted)";
	char path[320];
	ssize_t n;
	size_t len;

	snprintf(path, sizeof(path), "%s/%d/exe", c->root, (int)pid);
	n = readlink(path, id->exe, sizeof(id->exe) - 1);
	if (n <= 0) {
		/* Kernel threads and zombies have no exe. */
		snprintf(id->exe, sizeof(id->exe), "%s", NSEG_PROC_UNKNOWN);
	} else {
		id->exe[n] = '\0';
		len = (size_t)n;
		if (len > sizeof(deleted) - 1 &&
		    strcmp(id->exe + len - (sizeof(deleted) - 1), deleted) == 0)
			id->exe[len - (sizeof(deleted) - 1)] = '\0';
	}
	snprintf(path, sizeof(path), "%s/%d/comm", c->root, (int)pid);
	pc_read_line(path, id->comm, sizeof(id->comm));
}

/* exe and comm change only at exec and at a rename, both reported as
 * events, so while events arrive they are read once per process and
 * rename, not per packet. */
static int pc_fill_info(struct proc_cache *c, struct pc_proc *p,
			struct proc_info *out)
{
	memset(out, 0, sizeof(*out));
	out->pid = p->pid;
	if (!p->have_id || !c->events_live) {
		pc_read_id(c, p->pid, &p->id);
		p->have_id = 1;
	}
	out->id = p->id;
	snprintf(out->container_id, sizeof(out->container_id), "%s",
		 proc_cache_container_of(c, p->pid));
	return 0;
}

/* A cached socket -> pid entry is trusted only if the fd still is it. */
static struct pc_proc *pc_lookup_cached(struct proc_cache *c,
					uint64_t netns_ino, uint64_t ino)
{
	for (struct pc_sock *s = c->socks[pc_sock_bucket(ino)]; s;
	     s = s->next) {
		struct pc_proc *p;

		if (s->ino != ino)
			continue;
		p = pc_find(c, s->pid);
		/* The socket exists (sock_diag just returned it) and its
		 * holder has not exited (we would have seen the event): the
		 * fd need not be read again. Without events, check it. */
		if (p && p->netns == netns_ino &&
		    (c->events_live || pc_fd_socket(c, s->pid, s->fd) == ino))
			return p;
		pc_sock_del(c, ino);
		return NULL;
	}
	return NULL;
}

static int pc_mru_cmp(const void *a, const void *b)
{
	const struct pc_proc *pa = *(struct pc_proc *const *)a;
	const struct pc_proc *pb = *(struct pc_proc *const *)b;

	return pa->mru < pb->mru ? 1 : pa->mru > pb->mru ? -1 : 0;
}

/* Scans the fd tables of netns_ino's processes, most recent match first,
 * skipping those already read during this lookup. */
static struct pc_proc *pc_search(struct proc_cache *c, uint64_t netns_ino,
				 uint64_t ino, uint64_t gen, int cheap)
{
	struct pc_proc **cand = NULL;
	struct pc_proc *hit = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < PC_PROC_BUCKETS; i++) {
		for (struct pc_proc *p = c->procs[i]; p; p = p->next) {
			if (p->netns != netns_ino || p->scan_gen == gen)
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 32;
				void *t = realloc(cand, ncap * sizeof(*cand));
				if (!t)
					goto out;
				cand = t;
				cap = ncap;
			}
			cand[n++] = p;
		}
	}
	if (n)
		qsort(cand, n, sizeof(*cand), pc_mru_cmp);
	/* A few readlinks of likely fds before whole fd tables. */
	for (size_t i = 0; i < n && i < 4 && !hit; i++)
		if (pc_probe_hot(c, cand[i], ino))
			hit = cand[i];
	for (size_t i = 0; i < n && !hit; i++) {
		/* Cheap: a process known to hold a huge fd table is not
		 * walked again (a flooder opening thousands of sockets). */
		if (cheap && cand[i]->nfds > PC_CHEAP_MAX_FDS)
			continue;
		cand[i]->scan_gen = gen;
		if (pc_scan_fds(c, cand[i], ino))
			hit = cand[i];
	}
out:
	free(cand);
	return hit;
}

#define PC_UNOWNED_TTL_MS 1000

static int pc_unowned_recently(struct proc_cache *c, uint64_t ino)
{
	size_t slot = ino % 64;

	return c->unowned[slot].ino == ino &&
	       pc_now_ms() - c->unowned[slot].when_ms < PC_UNOWNED_TTL_MS;
}

static void pc_set_unowned(struct proc_cache *c, uint64_t ino)
{
	size_t slot = ino % 64;

	c->unowned[slot].ino = ino;
	c->unowned[slot].when_ms = pc_now_ms();
}

static struct pc_proc *pc_recent(struct proc_cache *c, uint64_t netns_ino)
{
	size_t slot = netns_ino % 16;
	struct pc_proc *p;

	if (c->recent[slot].netns != netns_ino)
		return NULL;
	p = pc_find(c, c->recent[slot].pid);
	return p && p->netns == netns_ino ? p : NULL;
}

static void pc_set_recent(struct proc_cache *c, struct pc_proc *p)
{
	size_t slot = p->netns % 16;

	c->recent[slot].netns = p->netns;
	c->recent[slot].pid = p->pid;
}

int proc_cache_find_socket(struct proc_cache *c, uint64_t netns_ino,
			   uint64_t sock_ino, struct proc_info *out)
{
	return proc_cache_find_socket2(c, netns_ino, sock_ino, 0, out);
}

int proc_cache_find_socket2(struct proc_cache *c, uint64_t netns_ino,
			    uint64_t sock_ino, int cheap, struct proc_info *out)
{
	struct pc_proc *p = pc_lookup_cached(c, netns_ino, sock_ino);
	uint64_t gen;

	if (p) {
		c->st.hits++;
		p->mru = ++c->tick;
		return pc_fill_info(c, p, out);
	}
	c->st.misses++;
	/* A socket nobody holds (in flight, or held from another namespace)
	 * would cost a full search per packet: remember the failure. */
	if (pc_unowned_recently(c, sock_ino)) {
		errno = ENOENT;
		return -1;
	}
	gen = ++c->tick;
	/* The process that opened the namespace's last connection likely
	 * opened this one, in an fd it used before. */
	p = pc_recent(c, netns_ino);
	if (p && !pc_probe_hot(c, p, sock_ino))
		p = NULL;
	if (!p)
		p = pc_search(c, netns_ino, sock_ino, gen, cheap);
	if (!p && !cheap &&
	    pc_now_ms() - c->last_rescan_ms >= PC_RESCAN_MIN_MS) {
		proc_cache_rescan(c);
		p = pc_search(c, netns_ino, sock_ino, gen, cheap);
	}
	if (!p && cheap)
		c->st.cheap_misses++;
	if (!p) {
		pc_set_unowned(c, sock_ino);
		errno = ENOENT;
		return -1;
	}
	p->mru = ++c->tick;
	pc_set_recent(c, p);
	return pc_fill_info(c, p, out);
}

int proc_cache_info(struct proc_cache *c, pid_t pid, struct proc_info *out)
{
	struct pc_proc *p = pc_find(c, pid);

	if (!p) {
		errno = ENOENT;
		return -1;
	}
	return pc_fill_info(c, p, out);
}

int proc_cache_info_recent(struct proc_cache *c, pid_t pid,
			   struct proc_info *out)
{
	uint64_t now = pc_now_ms();

	if (proc_cache_info(c, pid, out) == 0)
		return 0;
	/* Newest first: a reused pid names its latest holder. */
	for (size_t n = 1; n <= PC_GONE_MAX && n <= c->gone_next; n++) {
		size_t i = (c->gone_next - n) % PC_GONE_MAX;

		if (c->gone[i].pid != pid ||
		    now - c->gone[i].when_ms > PC_GONE_TTL_MS)
			continue;
		memset(out, 0, sizeof(*out));
		out->pid = pid;
		out->id = c->gone[i].id;
		snprintf(out->container_id, sizeof(out->container_id), "%s",
			 c->gone[i].cid);
		return 0;
	}
	errno = ENOENT;
	return -1;
}

void proc_cache_foreach_in_netns(struct proc_cache *c, uint64_t netns_ino,
				 void (*fn)(pid_t pid, void *arg), void *arg)
{
	for (size_t i = 0; i < PC_PROC_BUCKETS; i++)
		for (struct pc_proc *p = c->procs[i]; p; p = p->next)
			if (netns_ino == 0 || p->netns == netns_ino)
				fn(p->pid, arg);
}

size_t proc_cache_count_in_netns(struct proc_cache *c, uint64_t netns_ino)
{
	size_t n = 0;

	for (size_t i = 0; i < PC_PROC_BUCKETS; i++)
		for (struct pc_proc *p = c->procs[i]; p; p = p->next)
			n += p->netns == netns_ino;
	return n;
}

uint64_t proc_cache_netns_of(struct proc_cache *c, pid_t pid)
{
	struct pc_proc *p = pc_find(c, pid);

	return p ? p->netns : 0;
}

const char *proc_cache_container_of(struct proc_cache *c, pid_t pid)
{
	struct pc_proc *p = pc_find(c, pid);
	char path[320], text[4096];

	if (!p)
		return "";
	if (!p->have_cid) {
		snprintf(path, sizeof(path), "%s/%d/cgroup", c->root,
			 (int)pid);
		pc_read_all(path, text, sizeof(text));
		if (image_id_from_cgroup(text, p->cid, sizeof(p->cid)) == -1)
			p->cid[0] = '\0';
		p->have_cid = 1;
	}
	return p->cid;
}

const char *proc_cache_cached_container(struct proc_cache *c, pid_t pid)
{
	struct pc_proc *p = pc_find(c, pid);

	return p && p->have_cid ? p->cid : "";
}

void proc_cache_get_stats(const struct proc_cache *c,
			  struct proc_cache_stats *out)
{
	*out = c->st;
	out->procs = c->nprocs;
	out->sockets = c->nsocks;
}
