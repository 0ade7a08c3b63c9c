#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nseg/ctl_io.h"

void ctl_io_msg_clear(struct ctl_io_msg *m)
{
	json_decref(m->payload);
	memset(m, 0, sizeof(*m));
}

const char *ctl_io_strstatus(int status)
{
	static const char *const names[] = {
	    [CTL_IO_OK] = "ok",
	    [CTL_IO_AGAIN] = "incomplete message",
	    [CTL_IO_EMAGIC] = "bad magic",
	    [CTL_IO_EVERSION] = "protocol version mismatch",
	    [CTL_IO_ETOOBIG] = "message too large",
	    [CTL_IO_ETRUNC] = "truncated message",
	    [CTL_IO_ELENGTH] = "trailing bytes after message",
	    [CTL_IO_EJSON] = "payload is not JSON",
	    [CTL_IO_ENOTOBJ] = "payload is not a JSON object",
	    [CTL_IO_EOF] = "connection closed",
	    [CTL_IO_ETIMEDOUT] = "timed out",
	    [CTL_IO_ESYS] = "system error",
	    [CTL_IO_ENOMEM] = "out of memory",
	};

	if (status < 0 || (size_t)status >= sizeof(names) / sizeof(names[0]) ||
	    !names[status])
		return "unknown status";
	return names[status];
}

static int ctl_io_fail(int status, char *err, size_t errlen, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));

static int ctl_io_fail(int status, char *err, size_t errlen, const char *fmt,
		       ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

int ctl_io_encode(uint16_t type, uint32_t seq, const json_t *payload,
		  char **out, size_t *outlen)
{
	struct nseg_ctl_hdr h = {
	    .magic = NSEG_CTL_MAGIC,
	    .version = NSEG_CTL_VERSION,
	    .type = type,
	    .seq = seq,
	};
	char *json = NULL, *buf = NULL;
	size_t n;
	int rc = -1;

	if (!json_is_object(payload))
		goto out;
	json = json_dumps(payload, JSON_COMPACT);
	if (!json)
		goto out;
	n = strlen(json);
	if (n > NSEG_CTL_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		goto out;
	}
	buf = malloc(CTL_IO_HDR_LEN + n);
	if (!buf)
		goto out;
	h.len = (uint32_t)n;
	memcpy(buf, &h, CTL_IO_HDR_LEN);
	memcpy(buf + CTL_IO_HDR_LEN, json, n);
	*out = buf;
	*outlen = CTL_IO_HDR_LEN + n;
	rc = 0;
out:
	free(json);
	return rc;
}

int ctl_io_check_hdr(const struct nseg_ctl_hdr *h, char *err, size_t errlen)
{
	if (h->magic != NSEG_CTL_MAGIC)
		return ctl_io_fail(CTL_IO_EMAGIC, err, errlen,
				   "bad magic 0x%08x (expected 0x%08x)",
				   h->magic, NSEG_CTL_MAGIC);
	if (h->version != NSEG_CTL_VERSION)
		return ctl_io_fail(
		    CTL_IO_EVERSION, err, errlen,
		    "protocol version mismatch: expected %d, got %u",
		    NSEG_CTL_VERSION, h->version);
	if (h->len > NSEG_CTL_MAX_PAYLOAD)
		return ctl_io_fail(CTL_IO_ETOOBIG, err, errlen,
				   "payload length %u exceeds the limit of %u",
				   h->len, NSEG_CTL_MAX_PAYLOAD);
	return CTL_IO_OK;
}

static void ctl_io_hdr_to_msg(const struct nseg_ctl_hdr *h,
			      struct ctl_io_msg *m)
{
	m->version = h->version;
	m->type = h->type;
	m->seq = h->seq;
	m->payload = NULL;
}

/* Parses a payload whose length the header has already vouched for. */
static int ctl_io_parse_payload(const char *p, size_t n, struct ctl_io_msg *m,
				char *err, size_t errlen)
{
	json_error_t jerr;
	/* NUL in strings is refused: C consumers would truncate silently. */
	json_t *j =
	    json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);

	if (!j)
		return ctl_io_fail(CTL_IO_EJSON, err, errlen,
				   "payload is not JSON: %s at byte %d",
				   jerr.text, jerr.position);
	if (!json_is_object(j)) {
		json_decref(j);
		return ctl_io_fail(CTL_IO_ENOTOBJ, err, errlen,
				   "payload is JSON but not an object");
	}
	m->payload = j;
	return CTL_IO_OK;
}

int ctl_io_decode(const void *buf, size_t len, struct ctl_io_msg *m, char *err,
		  size_t errlen)
{
	struct nseg_ctl_hdr h;
	int st;

	memset(m, 0, sizeof(*m));
	if (len < CTL_IO_HDR_LEN)
		return ctl_io_fail(CTL_IO_ETRUNC, err, errlen,
				   "truncated header: %zu of %zu bytes", len,
				   CTL_IO_HDR_LEN);
	memcpy(&h, buf, CTL_IO_HDR_LEN);
	st = ctl_io_check_hdr(&h, err, errlen);
	if (st != CTL_IO_OK && st != CTL_IO_EVERSION)
		return st;
	ctl_io_hdr_to_msg(&h, m);
	if (st != CTL_IO_OK)
		return st;
	if (len - CTL_IO_HDR_LEN < h.len)
		return ctl_io_fail(CTL_IO_ETRUNC, err, errlen,
				   "truncated payload: %zu of %u bytes",
				   len - CTL_IO_HDR_LEN, h.len);
	if (len - CTL_IO_HDR_LEN > h.len)
		return ctl_io_fail(CTL_IO_ELENGTH, err, errlen,
				   "%zu trailing bytes after a %u-byte payload",
				   len - CTL_IO_HDR_LEN - h.len, h.len);
	return ctl_io_parse_payload((const char *)buf + CTL_IO_HDR_LEN, h.len,
				    m, err, errlen);
}

void ctl_io_dec_init(struct ctl_io_dec *d)
{
	memset(d, 0, sizeof(*d));
}

void ctl_io_dec_release(struct ctl_io_dec *d)
{
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

int ctl_io_dec_feed(struct ctl_io_dec *d, const void *data, size_t n)
{
	if (d->len + n > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		char *p;

		while (cap < d->len + n)
			cap *= 2;
		p = realloc(d->buf, cap);
		if (!p)
			return -1;
		d->buf = p;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, data, n);
	d->len += n;
	return 0;
}

int ctl_io_dec_next(struct ctl_io_dec *d, struct ctl_io_msg *m, char *err,
		    size_t errlen)
{
	struct nseg_ctl_hdr h;
	size_t total;
	int st;

	memset(m, 0, sizeof(*m));
	if (d->failed)
		return ctl_io_fail(d->failed, err, errlen,
				   "stream already failed: %s",
				   ctl_io_strstatus(d->failed));
	if (d->len < CTL_IO_HDR_LEN)
		return CTL_IO_AGAIN;
	memcpy(&h, d->buf, CTL_IO_HDR_LEN);
	st = ctl_io_check_hdr(&h, err, errlen);
	if (st == CTL_IO_EVERSION)
		ctl_io_hdr_to_msg(&h, m);
	if (st != CTL_IO_OK) {
		d->failed = st;
		return st;
	}
	total = CTL_IO_HDR_LEN + h.len;
	if (d->len < total)
		return CTL_IO_AGAIN;
	ctl_io_hdr_to_msg(&h, m);
	st = ctl_io_parse_payload(d->buf + CTL_IO_HDR_LEN, h.len, m, err,
				  errlen);
	if (st != CTL_IO_OK) {
		d->failed = st;
		return st;
	}
	memmove(d->buf, d->buf + total, d->len - total);
	d->len -= total;
	return CTL_IO_OK;
}

int ctl_io_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {
	    .tv_sec = timeout_ms / 1000,
	    .tv_usec = (timeout_ms % 1000) * 1000,
	};
	int fd, saved;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* A unix connect() blocks only while the listener's backlog is
	 * full, for at most the send timeout; it then fails with EAGAIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EAGAIN)
			errno = ETIMEDOUT;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int ctl_io_send(int fd, uint16_t type, uint32_t seq, const json_t *args)
{
	json_t *empty = args ? NULL : json_object();
	char *buf = NULL;
	size_t len, off = 0;
	int rc = -1;

	if (ctl_io_encode(type, seq, args ? args : empty, &buf, &len) == -1)
		goto out;
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno == EAGAIN)
				errno = ETIMEDOUT;
			goto out;
		}
		off += (size_t)n;
	}
	rc = 0;
out:
	free(buf);
	json_decref(empty);
	return rc;
}

static uint64_t ctl_io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads exactly n bytes before the deadline. *got says how many came. */
static int ctl_io_read_full(int fd, char *buf, size_t n, size_t *got,
			    uint64_t deadline)
{
	*got = 0;
	while (*got < n) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = ctl_io_now_ms();
		ssize_t r;
		int pr;

		if (now >= deadline)
			return CTL_IO_ETIMEDOUT;
		pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == -1)
			return CTL_IO_ESYS;
		if (pr == 0)
			return CTL_IO_ETIMEDOUT;
		r = read(fd, buf + *got, n - *got);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r == -1)
			return CTL_IO_ESYS;
		if (r == 0)
			return CTL_IO_EOF;
		*got += (size_t)r;
	}
	return CTL_IO_OK;
}

int ctl_io_recv(int fd, struct ctl_io_msg *m, int timeout_ms, char *err,
		size_t errlen)
{
	uint64_t deadline = ctl_io_now_ms() + (uint64_t)timeout_ms;
	struct nseg_ctl_hdr h;
	char *payload = NULL;
	size_t got;
	int st;

	memset(m, 0, sizeof(*m));
	st = ctl_io_read_full(fd, (char *)&h, CTL_IO_HDR_LEN, &got, deadline);
	if (st == CTL_IO_EOF && got > 0)
		st = ctl_io_fail(
		    CTL_IO_ETRUNC, err, errlen,
		    "connection closed after %zu of %zu header bytes", got,
		    CTL_IO_HDR_LEN);
	if (st != CTL_IO_OK)
		goto out;
	st = ctl_io_check_hdr(&h, err, errlen);
	if (st == CTL_IO_EVERSION)
		ctl_io_hdr_to_msg(&h, m);
	if (st != CTL_IO_OK)
		goto out;
	payload = malloc(h.len ? h.len : 1);
	if (!payload) {
		st = CTL_IO_ENOMEM;
		goto out;
	}
	st = ctl_io_read_full(fd, payload, h.len, &got, deadline);
	if (st == CTL_IO_EOF)
		st = ctl_io_fail(
		    CTL_IO_ETRUNC, err, errlen,
		    "connection closed after %zu of %u payload bytes", got,
		    h.len);
	if (st != CTL_IO_OK)
		goto out;
	ctl_io_hdr_to_msg(&h, m);
	st = ctl_io_parse_payload(payload, h.len, m, err, errlen);
out:
	if (st == CTL_IO_ESYS || st == CTL_IO_ETIMEDOUT || st == CTL_IO_EOF ||
	    st == CTL_IO_ENOMEM)
		ctl_io_fail(st, err, errlen, "%s%s%s", ctl_io_strstatus(st),
			    st == CTL_IO_ESYS ? ": " : "",
			    st == CTL_IO_ESYS ? strerror(errno) : "");
	free(payload);
	return st;
}
