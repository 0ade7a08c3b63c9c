#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nseg/ctl_io.h"
#include "nseg/ctl_server.h"
#include "nseg/log.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* Read at most this much per wake-up so one client cannot starve others. */
#define CTL_SERVER_READ_CHUNK 65536
/* Flush from inside a handler once this much output is pending, so a
 * long listing to a fast client is not held in memory all at once. */
#define CTL_SERVER_FLUSH_AT 65536
#define CTL_SERVER_ACCEPT_BATCH 32

struct ctl_handler {
	uint16_t type;
	ctl_handler_fn fn;
	void *arg;
};

struct ctl_conn {
	struct ctl_server *s;
	int fd;
	uid_t uid;
	uint32_t seq;
	int reading;	/* still waiting for the request */
	int in_handler; /* the handler holds c: free only after it returns */
	int done;	/* END or ERROR queued */
	int dead;	/* peer gone or over a cap: drop without writing */
	int kept;	/* ctl_conn_keep(): outlives its handler */
	ctl_close_fn on_close;
	void *close_arg;
	uint32_t events;
	struct ctl_io_dec dec;
	char *out;
	size_t out_off;
	size_t out_len;
	size_t out_cap;
	struct ev_timer *timer; /* idle timeout; none once kept */
	struct ev_timer *later; /* settles a kept connection from the loop */
	struct ctl_conn *next;
};

struct ctl_server {
	struct evloop *l;
	int fd;
	char *path;
	char *group; /* NULL: root only */
	gid_t gid;
	struct ctl_handler *handlers;
	size_t nhandlers;
	struct ctl_conn *conns;
	unsigned nconns;
	unsigned max_clients;
	uint64_t idle_ms;
	size_t max_output;
	ctl_wrap_fn wrap;
	void *wrap_arg;
};

static void ctl_conn_cb(int fd, uint32_t events, void *arg);
static void ctl_conn_flush(struct ctl_conn *c);

/* ---- connection lifetime ---- */

static void ctl_conn_free(struct ctl_conn *c)
{
	struct ctl_server *s = c->s;

	/* dead first: a reply from on_close fails instead of queueing */
	c->dead = 1;
	if (c->kept)
		c->on_close(c, c->close_arg);
	for (struct ctl_conn **pp = &s->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->nconns--;
	if (c->timer)
		evloop_timer_cancel(s->l, c->timer);
	if (c->later)
		evloop_timer_cancel(s->l, c->later);
	evloop_del_fd(s->l, c->fd);
	close(c->fd);
	ctl_io_dec_release(&c->dec);
	free(c->out);
	free(c);
}

static void ctl_conn_idle(void *arg)
{
	struct ctl_conn *c = arg;

	c->timer = NULL;
	log_debug("control: client uid %u idle for %llu ms, dropped",
		  (unsigned)c->uid, (unsigned long long)c->s->idle_ms);
	ctl_conn_free(c);
}

/* Restarts the idle clock; called on every bit of progress. A kept
 * connection waits for the daemon, not the client: it has no clock. */
static void ctl_conn_arm(struct ctl_conn *c)
{
	if (c->timer)
		evloop_timer_cancel(c->s->l, c->timer);
	c->timer = NULL;
	if (c->kept)
		return;
	c->timer = evloop_timer_add(c->s->l, c->s->idle_ms, ctl_conn_idle, c);
	if (!c->timer)
		log_warnx("control: cannot arm the idle timer");
}

static void ctl_conn_watch(struct ctl_conn *c, uint32_t events)
{
	if (events == c->events)
		return;
	if (evloop_mod_fd(c->s->l, c->fd, events) == -1)
		log_warn("control: epoll mod");
	c->events = events;
}

/* Output to write, the request to read, or, on a kept connection,
 * the client's hang-up to notice. */
static uint32_t ctl_conn_events(const struct ctl_conn *c)
{
	uint32_t events = 0;

	if (c->out_off < c->out_len)
		events |= EPOLLOUT;
	if (c->reading || (c->kept && !c->done))
		events |= EPOLLIN;
	return events;
}

/*
 * Decides what a connection waits for next, or frees it. Called
 * whenever the handler is not running and something changed.
 */
static void ctl_conn_settle(struct ctl_conn *c)
{
	if (c->in_handler)
		return;
	if (!c->dead && c->out_off < c->out_len)
		ctl_conn_flush(c);
	if (c->dead || (c->done && c->out_off == c->out_len)) {
		ctl_conn_free(c);
		return;
	}
	ctl_conn_watch(c, ctl_conn_events(c));
}

static void ctl_conn_later_cb(void *arg)
{
	struct ctl_conn *c = arg;

	c->later = NULL;
	ctl_conn_settle(c);
}

static void ctl_conn_later(struct ctl_conn *c)
{
	if (c->later)
		return;
	c->later = evloop_timer_add(c->s->l, 0, ctl_conn_later_cb, c);
	if (!c->later)
		log_warnx("control: cannot schedule closing a kept client");
}

/* A kept connection outside its handler: the daemon pushes to it. */
static int ctl_conn_pushed(const struct ctl_conn *c)
{
	return c->kept && !c->in_handler;
}

/*
 * Nothing but the reply functions drives a pushed connection, so after
 * each one (which has written what the socket took: a follower wants
 * its records now) this waits for EPOLLOUT if output is left, and has
 * a connection that ended or died freed from the loop, never here: the
 * caller may be walking its list of followers, and on_close would
 * change that list under it.
 */
static void ctl_conn_kick(struct ctl_conn *c)
{
	if (!ctl_conn_pushed(c))
		return;
	if (c->dead || c->done)
		ctl_conn_later(c);
	else
		ctl_conn_watch(c, ctl_conn_events(c));
}

/* ---- output ---- */

static void ctl_conn_flush(struct ctl_conn *c)
{
	int progress = 0;

	while (c->out_off < c->out_len) {
		ssize_t n =
		    send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1) {
			log_debug("control: client uid %u: send: %s",
				  (unsigned)c->uid, strerror(errno));
			c->dead = 1;
			return;
		}
		c->out_off += (size_t)n;
		progress = 1;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (progress)
		ctl_conn_arm(c);
}

static int ctl_conn_append(struct ctl_conn *c, const char *buf, size_t len)
{
	size_t pending = c->out_len - c->out_off;

	if (pending + len > c->s->max_output) {
		log_warnx("control: client uid %u did not read %zu bytes of "
			  "replies (cap %zu), dropped",
			  (unsigned)c->uid, pending + len, c->s->max_output);
		c->dead = 1;
		return -1;
	}
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			log_warnx("control: out of memory for replies");
			c->dead = 1;
			return -1;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

/* Queues one reply; payload is borrowed. */
static int ctl_conn_queue(struct ctl_conn *c, uint16_t type, json_t *payload)
{
	char *buf = NULL;
	size_t len;
	int rc = -1;

	if (c->dead)
		goto out;
	if (c->done) {
		log_warnx("control: reply type %u after END/ERROR ignored",
			  type);
		goto out;
	}
	if (ctl_io_encode(type, c->seq, payload, &buf, &len) == -1) {
		log_warnx("control: cannot encode a reply of type %u", type);
		goto out;
	}
	if (ctl_conn_append(c, buf, len) == -1)
		goto out;
	if (c->out_len - c->out_off >= CTL_SERVER_FLUSH_AT ||
	    ctl_conn_pushed(c))
		ctl_conn_flush(c);
	rc = c->dead ? -1 : 0;
out:
	free(buf);
	return rc;
}

int ctl_reply_record(struct ctl_conn *c, json_t *obj)
{
	int rc = -1;

	if (!json_is_object(obj)) {
		log_warnx("control: a record must be a JSON object");
		goto out;
	}
	rc = ctl_conn_queue(c, NSEG_CTL_RECORD, obj);
	ctl_conn_kick(c);
out:
	json_decref(obj);
	return rc;
}

int ctl_reply_end(struct ctl_conn *c)
{
	json_t *empty = json_object();
	int rc = empty ? ctl_conn_queue(c, NSEG_CTL_END, empty) : -1;

	json_decref(empty);
	c->done = 1;
	ctl_conn_kick(c);
	return rc;
}

static int ctl_reply_verror(struct ctl_conn *c, int code, const char *fmt,
			    va_list ap)
{
	char msg[1024];
	json_t *o;
	int rc;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	o = json_pack("{s:i, s:s}", "code", code, "message", msg);
	rc = o ? ctl_conn_queue(c, NSEG_CTL_ERROR, o) : -1;
	json_decref(o);
	c->done = 1;
	ctl_conn_kick(c);
	return rc;
}

int ctl_reply_error(struct ctl_conn *c, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ctl_reply_verror(c, code, fmt, ap);
	va_end(ap);
	return rc;
}

uid_t ctl_conn_uid(const struct ctl_conn *c)
{
	return c->uid;
}

int ctl_conn_keep(struct ctl_conn *c, ctl_close_fn on_close, void *arg)
{
	if (!c->in_handler || c->kept || c->done || c->dead || !on_close)
		return -1;
	c->kept = 1;
	c->on_close = on_close;
	c->close_arg = arg;
	ctl_conn_arm(c); /* cancels the idle clock */
	return 0;
}

/* ---- requests ---- */

static const struct ctl_handler *ctl_server_find(const struct ctl_server *s,
						 uint16_t type)
{
	for (size_t i = 0; i < s->nhandlers; i++)
		if (s->handlers[i].type == type)
			return &s->handlers[i];
	return NULL;
}

static void ctl_conn_dispatch(struct ctl_conn *c, struct ctl_io_msg *m)
{
	const struct ctl_handler *h = ctl_server_find(c->s, m->type);

	c->seq = m->seq;
	c->reading = 0;
	if (!h) {
		ctl_reply_error(c, NSEG_CTL_E_UNKNOWN, "unknown command %u",
				m->type);
		return;
	}
	c->in_handler = 1;
	if (c->s->wrap)
		c->s->wrap(1, c->s->wrap_arg);
	h->fn(c, m->payload, h->arg);
	if (c->s->wrap)
		c->s->wrap(0, c->s->wrap_arg);
	c->in_handler = 0;
	if (!c->done && !c->dead && !c->kept) {
		log_warnx("control: handler for command %u did not end its "
			  "reply",
			  m->type);
		ctl_reply_error(c, NSEG_CTL_E_INTERNAL,
				"internal error: incomplete reply");
	}
}

/* Answers a request that did not decode, then the connection closes. */
static void ctl_conn_reject(struct ctl_conn *c, int st, struct ctl_io_msg *m,
			    const char *err)
{
	c->reading = 0;
	if (st == CTL_IO_EVERSION) {
		c->seq = m->seq;
		ctl_reply_error(c, NSEG_CTL_E_VERSION,
				"protocol version mismatch: daemon speaks %d, "
				"client sent %u",
				NSEG_CTL_VERSION, m->version);
		return;
	}
	log_debug("control: client uid %u: bad request: %s", (unsigned)c->uid,
		  err);
	ctl_reply_error(c, NSEG_CTL_E_BADREQ, "bad request: %s", err);
}

static void ctl_conn_read(struct ctl_conn *c)
{
	char buf[CTL_SERVER_READ_CHUNK];
	struct ctl_io_msg m;
	char err[256];
	ssize_t n;
	int st;

	n = read(c->fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Gone before a complete request: nothing to answer. */
		c->dead = 1;
		return;
	}
	ctl_conn_arm(c);
	if (ctl_io_dec_feed(&c->dec, buf, (size_t)n) == -1) {
		c->dead = 1;
		return;
	}
	st = ctl_io_dec_next(&c->dec, &m, err, sizeof(err));
	if (st == CTL_IO_OK)
		ctl_conn_dispatch(c, &m);
	else if (st != CTL_IO_AGAIN)
		ctl_conn_reject(c, st, &m, err);
	ctl_io_msg_clear(&m);
	if (!c->reading)
		ctl_io_dec_release(&c->dec);
}

/*
 * A kept client has nothing more to say: readable means it left, or it
 * broke the one-request rule, and either way it is dropped.
 */
static void ctl_conn_hangup(struct ctl_conn *c)
{
	char buf[256];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		log_debug("control: client uid %u sent data after its "
			  "request, dropped",
			  (unsigned)c->uid);
	c->dead = 1;
}

static void ctl_conn_cb(int fd, uint32_t events, void *arg)
{
	struct ctl_conn *c = arg;
	uint32_t in = events & (EPOLLIN | EPOLLHUP | EPOLLERR);

	if (c->reading && in)
		ctl_conn_read(c);
	else if (c->kept && in)
		ctl_conn_hangup(c);
	else if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		ctl_conn_flush(c);
	ctl_conn_settle(c);
}

/* ---- accepting and authorising ---- */

static int ctl_peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	int found = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		if (errno != ERANGE)
			return 0;
		groups = malloc(len);
		if (!groups)
			return 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) ==
		    -1)
			goto out;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			found = 1;
out:
	if (groups != small)
		free(groups);
	return found;
}

/* Returns 1 if the peer may use the socket; fills *uid either way. */
static int ctl_server_authorise(struct ctl_server *s, int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	*uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		return 0;
	}
	*uid = cred.uid;
	if (cred.uid == 0)
		return 1;
	if (!s->group)
		return 0;
	return cred.gid == s->gid || ctl_peer_in_group(fd, s->gid);
}

static void ctl_server_busy(struct ctl_server *s, int fd)
{
	char *buf = NULL;
	size_t len;
	json_t *o = json_pack("{s:i, s:s}", "code", NSEG_CTL_E_BUSY, "message",
			      "too many control clients, try again later");

	/* Best effort: a fresh socket's buffer always has room for this. */
	if (o && ctl_io_encode(NSEG_CTL_ERROR, 0, o, &buf, &len) == 0 &&
	    send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_debug("control: busy reply: %s", strerror(errno));
	log_warnx("control: %u clients connected, refused one more", s->nconns);
	free(buf);
	json_decref(o);
	close(fd);
}

static void ctl_server_add_conn(struct ctl_server *s, int fd)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));
	int ok;

	if (!c) {
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	c->reading = 1;
	c->events = EPOLLIN;
	ctl_io_dec_init(&c->dec);
	if (evloop_add_fd(s->l, fd, EPOLLIN, ctl_conn_cb, c) == -1) {
		log_warn("control: epoll add");
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	ctl_conn_arm(c);
	ok = ctl_server_authorise(s, fd, &c->uid);
	if (ok)
		return;
	c->reading = 0;
	log_warnx("control: refused client uid %d", (int)c->uid);
	if (s->group)
		ctl_reply_error(c, NSEG_CTL_E_DENIED,
				"permission denied: uid %d is not root and "
				"not in group %s",
				(int)c->uid, s->group);
	else
		ctl_reply_error(c, NSEG_CTL_E_DENIED,
				"permission denied: uid %d is not root",
				(int)c->uid);
	ctl_conn_settle(c);
}

static void ctl_server_accept_cb(int fd, uint32_t events, void *arg)
{
	struct ctl_server *s = arg;

	for (int i = 0; i < CTL_SERVER_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("control: accept");
			return;
		}
		if (s->nconns >= s->max_clients)
			ctl_server_busy(s, cfd);
		else
			ctl_server_add_conn(s, cfd);
	}
}

/* ---- set-up ---- */

static int ctl_server_mkdirs(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; p <= slash; p++) {
		char saved = *p;
		struct stat st;

		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir,
				 strerror(errno));
			return -1;
		}
		if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen,
				 "%s exists and is not a directory", dir);
			return -1;
		}
		*p = saved;
	}
	return 0;
}

/* Removes path if it is a socket nobody answers on. */
static int ctl_server_clear_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
			 "%s exists and is not a socket; not removing it",
			 path);
		return -1;
	}
	fd = ctl_io_connect(path, 1000);
	if (fd != -1) {
		close(fd);
		snprintf(err, errlen,
			 "%s: another nsegd is already listening on it", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		snprintf(err, errlen,
			 "%s: cannot tell whether another daemon uses it: %s",
			 path, strerror(errno));
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path,
			 strerror(errno));
		return -1;
	}
	log_info("control: removed stale socket %s", path);
	return 0;
}

static int ctl_server_lookup_group(struct ctl_server *s, const char *group,
				   char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char buf[16384];
	int rc;

	if (!group || !*group)
		return 0;
	rc = getgrnam_r(group, &gr, buf, sizeof(buf), &res);
	if (!res) {
		snprintf(err, errlen, "unknown group '%s'%s%s", group,
			 rc ? ": " : "", rc ? strerror(rc) : "");
		return -1;
	}
	s->gid = gr.gr_gid;
	s->group = strdup(group);
	if (!s->group) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int ctl_server_listen(struct ctl_server *s, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	strcpy(sun.sun_path, s->path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		goto fail;
	if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		goto fail;
	/* Until listen() nobody can connect, so the mode and group are
	 * right before the first client can reach the socket. */
	if (s->group && chown(s->path, (uid_t)-1, s->gid) == -1)
		goto fail_bound;
	if (chmod(s->path, 0660) == -1)
		goto fail_bound;
	if (listen(s->fd, 64) == -1)
		goto fail_bound;
	if (evloop_add_fd(s->l, s->fd, EPOLLIN, ctl_server_accept_cb, s) == -1)
		goto fail_bound;
	return 0;
fail_bound:
	snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
	unlink(s->path);
	return -1;
fail:
	snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
	return -1;
}

struct ctl_server *ctl_server_new(struct evloop *l, const char *path,
				  const char *group, char *err, size_t errlen)
{
	struct ctl_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->l = l;
	s->fd = -1;
	s->max_clients = CTL_SERVER_MAX_CLIENTS;
	s->idle_ms = CTL_SERVER_IDLE_MS;
	s->max_output = CTL_SERVER_MAX_OUTPUT;
	if (!path || !*path ||
	    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "socket path '%s' is empty or too long",
			 path ? path : "");
		goto fail;
	}
	s->path = strdup(path);
	if (!s->path) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ctl_server_lookup_group(s, group, err, errlen) == -1 ||
	    ctl_server_mkdirs(path, err, errlen) == -1 ||
	    ctl_server_clear_stale(path, err, errlen) == -1 ||
	    ctl_server_listen(s, err, errlen) == -1)
		goto fail;
	return s;
fail:
	if (s->fd != -1)
		close(s->fd);
	free(s->path);
	free(s->group);
	free(s);
	return NULL;
}

void ctl_server_free(struct ctl_server *s)
{
	if (!s)
		return;
	/* What the sockets take without waiting still goes out, so a
	 * follower ended just before shutdown gets its END. */
	while (s->conns) {
		if (!s->conns->dead)
			ctl_conn_flush(s->conns);
		ctl_conn_free(s->conns);
	}
	evloop_del_fd(s->l, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s->group);
	free(s->handlers);
	free(s);
}

void ctl_server_wrap(struct ctl_server *s, ctl_wrap_fn fn, void *arg)
{
	s->wrap = fn;
	s->wrap_arg = arg;
}

int ctl_server_handle(struct ctl_server *s, uint16_t type, ctl_handler_fn fn,
		      void *arg)
{
	struct ctl_handler *h;

	if (type < NSEG_CTL_STATUS || !fn || ctl_server_find(s, type))
		return -1;
	h = realloc(s->handlers, (s->nhandlers + 1) * sizeof(*h));
	if (!h)
		return -1;
	s->handlers = h;
	h[s->nhandlers++] = (struct ctl_handler){type, fn, arg};
	return 0;
}

void ctl_server_set_limits(struct ctl_server *s, unsigned max_clients,
			   uint64_t idle_ms, size_t max_output)
{
	if (max_clients)
		s->max_clients = max_clients;
	if (idle_ms)
		s->idle_ms = idle_ms;
	if (max_output)
		s->max_output = max_output;
}

unsigned ctl_server_nclients(const struct ctl_server *s)
{
	return s->nconns;
}
