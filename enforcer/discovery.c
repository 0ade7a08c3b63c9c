/*
 * Which namespaces to watch and which containers live in them.
 *
 * Named namespaces (/run/netns) are seen through inotify; the namespaces
 * of processes (containers, when no --netns limits the daemon) through the
 * proc connector's exec events: a container's first process execs inside
 * its namespace, so a container that lives one second is seen at its start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nseg/daemon.h"
#include "nseg/enforce.h"
#include "nseg/evloop.h"
#include "nseg/log.h"
#include "nseg/netns.h"
#include "nseg/proc_cache.h"
#include "nseg/proc_events.h"
#include "nseg/store.h"

/* `ip netns add` creates the file, then bind-mounts the namespace on it:
 * retry opening for up to this long. */
#define DISC_MOUNT_RETRY_MS 10
#define DISC_MOUNT_RETRIES 200
#define DISC_SWEEP_MS 5000

/* A name under /run/netns waiting for its bind mount; owned by the
 * daemon's list until it is watched, given up, or the daemon stops. */
struct disc_retry {
	struct daemon *d;
	char name[NAME_MAX + 1];
	int tries;
	struct ev_timer *timer;
	struct disc_retry *next;
};

static void disc_retry_done(struct disc_retry *r)
{
	for (struct disc_retry **pp = &r->d->retries; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	free(r);
}

static int disc_name_wanted(struct daemon *d, const char *name)
{
	if (d->cfg.n_netns == 0)
		return d->cfg.n_cgroups == 0;
	for (size_t i = 0; i < d->cfg.n_netns; i++)
		if (fnmatch(d->cfg.netns[i], name, 0) == 0)
			return 1;
	return 0;
}

/* Is path (a line's path of /proc/PID/cgroup) at or below prefix? */
static int disc_cgroup_under(const char *path, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	if (plen == 1)
		return 1; /* "/" */
	return len >= plen && strncmp(path, prefix, plen) == 0 &&
	       (len == plen || path[plen] == '/');
}

static int disc_pid_in_cgroups(struct daemon *d, pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Lines are "ID:CONTROLLERS:PATH" (v1) or "0::PATH" (v2). */
	for (char *line = buf, *end; *line; line = end + 1) {
		char *p = strchr(line, ':');

		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		p = p && p < end ? strchr(p + 1, ':') : NULL;
		if (p && p < end)
			for (size_t i = 0; i < d->cfg.n_cgroups; i++)
				if (disc_cgroup_under(p + 1, (size_t)(end - p - 1),
						      d->cfg.cgroups[i]))
					return 1;
		if (!*end)
			break;
	}
	return 0;
}

/* Process namespaces: all when nothing limits us, only those of processes
 * under the configured cgroups when some are, none with only --netns. */
static int disc_pid_wanted(struct daemon *d, pid_t pid)
{
	if (d->cfg.n_cgroups > 0)
		return disc_pid_in_cgroups(d, pid);
	return d->cfg.n_netns == 0;
}

static int disc_pids_wanted(struct daemon *d)
{
	return d->cfg.n_netns == 0 || d->cfg.n_cgroups > 0;
}

struct container *discovery_container(struct daemon *d, const char *id)
{
	for (struct container *c = d->containers; c; c = c->next)
		if (strcmp(c->meta.id, id) == 0)
			return c;
	return NULL;
}

static struct container *disc_add_container(struct daemon *d, const char *id,
					    uint64_t netns_ino)
{
	struct container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (runtime_meta_lookup_cached(d->rcache, &d->rpaths, id, &c->meta) ==
	    -1) {
		/* Unknown runtime: the id itself names the workload. */
		memset(&c->meta, 0, sizeof(c->meta));
		snprintf(c->meta.id, sizeof(c->meta.id), "%s", id);
		snprintf(c->meta.runtime, sizeof(c->meta.runtime), "unknown");
		snprintf(c->meta.workload, sizeof(c->meta.workload),
			 "container:%.12s", id);
		snprintf(c->meta.version, sizeof(c->meta.version), "-");
	}
	c->netns_ino = netns_ino;
	c->next = d->containers;
	d->containers = c;
	if (store_workload_touch(d->store, c->meta.workload, c->meta.version,
				 daemon_now()) == -1)
		log_warnx("%s: recording workload %s", __func__,
			  c->meta.workload);
	log_info("container %.12s (%s): workload %s version %s", id,
		 c->meta.runtime, c->meta.workload, c->meta.version);
	return c;
}

void discovery_note_pid(struct daemon *d, struct nsw *w, pid_t pid)
{
	const char *id = proc_cache_container_of(d->pc, pid);
	struct container *c;

	if (!id[0])
		return;
	c = discovery_container(d, id);
	if (!c)
		c = disc_add_container(d, id, w->ino);
	if (c && !w->cid[0]) {
		snprintf(w->cid, sizeof(w->cid), "%s", id);
		enforce_check_identity(w);
	}
}

static void disc_note_cb(pid_t pid, void *arg)
{
	struct nsw *w = arg;

	discovery_note_pid(w->d, w, pid);
}

static size_t disc_nsw_count(struct daemon *d)
{
	size_t n = 0;

	for (struct nsw *w = d->nsws; w; w = w->next)
		n++;
	return n;
}

static struct nsw *disc_watch(struct daemon *d, int nsfd, const char *name)
{
	struct nsw *w = nsw_by_ino(d, netns_inode(nsfd));

	if (w) {
		/* Already watched through a process: adopt the name. */
		if (name && !w->name[0])
			snprintf(w->name, sizeof(w->name), "%s", name);
		close(nsfd);
		return w;
	}
	if (disc_nsw_count(d) >= d->max_netns) {
		log_warnx("not watching %s: already watching %zu namespaces "
			  "(the limit follows RLIMIT_NOFILE)",
			  name ? name : "a process namespace", d->max_netns);
		close(nsfd);
		return NULL;
	}
	w = nsw_new(d, nsfd, name);
	if (!w)
		return NULL;
	/* A namespace without a container gets its stand-in workload
	 * (netns:NAME) only once traffic is learned for it: a namespace
	 * that a container joins a moment later leaves no stray row. */
	proc_cache_foreach_in_netns(d->pc, w->ino, disc_note_cb, w);
	return w;
}

static void disc_retry_cb(void *arg)
{
	struct disc_retry *r = arg;
	struct daemon *d = r->d;
	int fd;

	r->timer = NULL;
	if (nsw_by_name(d, r->name)) {
		disc_retry_done(r);
		return;
	}
	fd = netns_open_name(d->netns_dir, r->name);
	if (fd != -1) {
		disc_watch(d, fd, r->name);
		disc_retry_done(r);
		return;
	}
	if (errno != EINVAL || ++r->tries >= DISC_MOUNT_RETRIES) {
		if (errno != ENOENT)
			log_warn("netns %s", r->name);
		disc_retry_done(r);
		return;
	}
	r->timer = evloop_timer_add(d->loop, DISC_MOUNT_RETRY_MS,
				    disc_retry_cb, r);
	if (!r->timer)
		disc_retry_done(r);
}

static void disc_named_added(struct daemon *d, const char *name)
{
	struct disc_retry *r;

	if (!disc_name_wanted(d, name) || nsw_by_name(d, name))
		return;
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	r->d = d;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->next = d->retries;
	d->retries = r;
	disc_retry_cb(r);
}

static void disc_forget_containers(struct daemon *d, uint64_t ino)
{
	for (struct container **pp = &d->containers; *pp;) {
		struct container *c = *pp;
		if (c->netns_ino != ino) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		free(c);
	}
}

static void disc_unwatch(struct daemon *d, struct nsw *w)
{
	char label[300];

	snprintf(label, sizeof(label), "%s", w->name[0] ? w->name : "(process netns)");
	log_info("netns %s: gone, no longer watched", label);
	disc_forget_containers(d, w->ino);
	/* Processes may still live in it (a name unmounted, a bind mount
	 * elsewhere): a table nobody reads would stall them (fail closed)
	 * or linger, so it goes. Our socket keeps the namespace reachable. */
	nsw_free(w, 1);
}

/* Every name under /run/netns: at start, and after inotify overflowed. */
static void disc_named_scan(struct daemon *d)
{
	struct dirent *de;
	DIR *dir = opendir(d->netns_dir);

	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			disc_named_added(d, de->d_name);
	closedir(dir);
}

static void disc_on_inotify(int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			struct nsw *w;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_warnx("%s: inotify overflow, rescanning",
					  d->netns_dir);
				disc_named_scan(d);
				continue;
			}
			if (!ev->len)
				continue;
			if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
				disc_named_added(d, ev->name);
			} else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
				w = nsw_by_name(d, ev->name);
				if (w)
					disc_unwatch(d, w);
			}
		}
	}
}

static int disc_named_start(struct daemon *d)
{
	if (mkdir(d->netns_dir, 0755) == -1 && errno != EEXIST)
		log_warn("mkdir %s", d->netns_dir);
	d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->inotify_fd == -1 ||
	    inotify_add_watch(d->inotify_fd, d->netns_dir,
			      IN_CREATE | IN_DELETE | IN_MOVED_TO |
				      IN_MOVED_FROM) == -1 ||
	    evloop_add_fd(d->loop, d->inotify_fd, EPOLLIN, disc_on_inotify,
			  d) == -1) {
		log_warn("inotify on %s", d->netns_dir);
		return -1;
	}
	disc_named_scan(d);
	return 0;
}

/* A process appeared in, or moved to, a namespace: watch it if wanted. */
static void disc_pid_seen(struct daemon *d, pid_t pid)
{
	uint64_t ino = proc_cache_netns_of(d->pc, pid);
	struct nsw *w;
	int fd;

	if (!ino)
		return;
	w = nsw_by_ino(d, ino);
	if (w) {
		discovery_note_pid(d, w, pid);
		return;
	}
	if (ino == netns_self_inode() || !disc_pid_wanted(d, pid))
		return;
	fd = netns_open_pid(pid);
	if (fd == -1)
		return; /* already gone */
	if (netns_inode(fd) != ino) {
		close(fd);
		return;
	}
	disc_watch(d, fd, NULL);
}

struct disc_cid_scan {
	struct daemon *d;
	const char *cid;
	int alive;
};

static void disc_cid_cb(pid_t pid, void *arg)
{
	struct disc_cid_scan *x = arg;

	if (strcmp(proc_cache_container_of(x->d->pc, pid), x->cid) == 0)
		x->alive = 1;
}

/* A container whose last process exited is gone, even when its namespace
 * stays (a pod's, or a named one). */
static void disc_container_exited(struct daemon *d, struct nsw *w,
				  const char *cid)
{
	struct disc_cid_scan x = { d, cid, 0 };

	proc_cache_foreach_in_netns(d->pc, w->ino, disc_cid_cb, &x);
	if (x.alive)
		return;
	for (struct container **pp = &d->containers; *pp; pp = &(*pp)->next) {
		struct container *c = *pp;
		if (strcmp(c->meta.id, cid) != 0)
			continue;
		log_info("container %.12s (%s) exited", cid, c->meta.workload);
		*pp = c->next;
		free(c);
		break;
	}
	if (strcmp(w->cid, cid) == 0) {
		w->cid[0] = '\0';
		enforce_check_identity(w);
	}
}

static void disc_on_exit(pid_t pid, void *arg)
{
	struct daemon *d = arg;
	uint64_t ino = proc_cache_netns_of(d->pc, pid);
	struct nsw *w = ino ? nsw_by_ino(d, ino) : NULL;
	char cid[65] = "";

	if (w)
		snprintf(cid, sizeof(cid), "%s",
			 proc_cache_cached_container(d->pc, pid));
	proc_cache_exit(d->pc, pid);
	if (!w)
		return;
	/* An unnamed namespace lives as long as its processes. */
	if (!w->name[0] && proc_cache_count_in_netns(d->pc, ino) == 0) {
		disc_unwatch(d, w);
		return;
	}
	if (cid[0])
		disc_container_exited(d, w, cid);
}

static void disc_on_fork(pid_t pid, void *arg)
{
	struct daemon *d = arg;

	proc_cache_fork(d->pc, pid);
}

static void disc_on_exec(pid_t pid, void *arg)
{
	struct daemon *d = arg;

	proc_cache_exec(d->pc, pid);
	disc_pid_seen(d, pid);
}

static void disc_on_comm(pid_t pid, void *arg)
{
	struct daemon *d = arg;

	proc_cache_comm(d->pc, pid);
}

static void disc_scan_all(void *arg);

static void disc_on_lost(void *arg)
{
	struct daemon *d = arg;

	log_warnx("process events lost: rescanning /proc");
	/* Missed exits and execs: nothing cached can be trusted. */
	proc_cache_invalidate(d->pc);
	disc_scan_all(d);
}

static const struct proc_events_ops disc_proc_ops = {
	.fork = disc_on_fork,
	.exec = disc_on_exec,
	.exit = disc_on_exit,
	.comm = disc_on_comm,
	.lost = disc_on_lost,
};

static void disc_on_proc_events(int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;

	proc_events_dispatch(d->pe);
}

static void disc_seen_cb(pid_t pid, void *arg)
{
	disc_pid_seen(arg, pid);
}

static void disc_scan_all(void *arg)
{
	struct daemon *d = arg;

	proc_cache_rescan(d->pc);
	/* Every known process, whatever its namespace. */
	for (struct nsw *w = d->nsws; w; w = w->next)
		proc_cache_foreach_in_netns(d->pc, w->ino, disc_note_cb, w);
	if (disc_pids_wanted(d))
		proc_cache_foreach_in_netns(d->pc, 0, disc_seen_cb, d);
}

int discovery_watch_pid(struct daemon *d, pid_t pid)
{
	/* The hook may come before the exec event: read the pid now. */
	proc_cache_exec(d->pc, pid);
	if (!proc_cache_netns_of(d->pc, pid))
		return -1;
	disc_pid_seen(d, pid);
	return 0;
}

/* Exit events can be missed (connector overrun, a /proc rescan that
 * dropped a pid before its event was read): every few seconds, forget
 * process namespaces with no process left and containers with none. */
static void disc_sweep(void *arg)
{
	struct daemon *d = arg;
	struct nsw *next;

	d->sweep_timer = NULL;
	if (!d->pe)
		proc_cache_rescan(d->pc);
	for (struct nsw *w = d->nsws; w; w = next) {
		next = w->next;
		if (!w->name[0] && w->ino != netns_self_inode() &&
		    proc_cache_count_in_netns(d->pc, w->ino) == 0)
			disc_unwatch(d, w);
	}
	for (struct container *c = d->containers, *cn; c; c = cn) {
		struct nsw *w = nsw_by_ino(d, c->netns_ino);
		char cid[sizeof(c->meta.id)];

		cn = c->next;
		snprintf(cid, sizeof(cid), "%s", c->meta.id);
		if (w)
			disc_container_exited(d, w, cid);
	}
	d->sweep_timer = evloop_timer_add(d->loop, DISC_SWEEP_MS, disc_sweep, d);
}

int discovery_start(struct daemon *d)
{
	d->pe = proc_events_open(&disc_proc_ops, d);
	if (d->pe && evloop_add_fd(d->loop, proc_events_fd(d->pe), EPOLLIN,
				   disc_on_proc_events, d) == -1) {
		proc_events_close(d->pe);
		d->pe = NULL;
	}
	if (!d->pe)
		log_warnx("no proc connector: new containers are found only "
			  "when their traffic is");
	proc_cache_set_events_live(d->pc, d->pe != NULL);
	proc_cache_rescan(d->pc);
	if (d->cfg.host) {
		int fd = netns_open_pid(getpid());
		if (fd == -1 || !disc_watch(d, fd, NULL))
			return -1;
	}
	if (disc_named_start(d) == -1)
		return -1;
	disc_scan_all(d);
	d->sweep_timer = evloop_timer_add(d->loop, DISC_SWEEP_MS, disc_sweep, d);
	return 0;
}

void discovery_stop(struct daemon *d)
{
	while (d->retries) {
		if (d->retries->timer)
			evloop_timer_cancel(d->loop, d->retries->timer);
		disc_retry_done(d->retries);
	}
	if (d->sweep_timer) {
		evloop_timer_cancel(d->loop, d->sweep_timer);
		d->sweep_timer = NULL;
	}
	if (d->pe) {
		evloop_del_fd(d->loop, proc_events_fd(d->pe));
		proc_events_close(d->pe);
		d->pe = NULL;
	}
	if (d->inotify_fd != -1) {
		evloop_del_fd(d->loop, d->inotify_fd);
		close(d->inotify_fd);
		d->inotify_fd = -1;
	}
	while (d->containers) {
		struct container *c = d->containers;
		d->containers = c->next;
		free(c);
	}
}
