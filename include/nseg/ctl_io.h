/*
 * Framing of the control protocol (nseg/ctl.h), shared by nsegd and
 * nsegctl: encoding, strict decoding, an incremental decoder for the
 * daemon's non-blocking sockets and blocking helpers for the client.
 *
 * Decoding is strict because the bytes come from another process: the
 * magic, the version, the length cap and the exact length are checked
 * before the payload is parsed, and the payload must be a JSON object.
 * Every decoding function returns one of enum ctl_io_status and, on
 * failure, writes a message naming what was wrong into err.
 */
#ifndef NSEG_CTL_IO_H
#define NSEG_CTL_IO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "nseg/ctl.h"

#define CTL_IO_HDR_LEN sizeof(struct nseg_ctl_hdr)

enum ctl_io_status {
	CTL_IO_OK = 0,
	CTL_IO_AGAIN,	  /* incremental decoder: message not complete yet */
	CTL_IO_EMAGIC,	  /* not an nseg control message */
	CTL_IO_EVERSION,  /* other protocol version; header fields are valid */
	CTL_IO_ETOOBIG,	  /* length above NSEG_CTL_MAX_PAYLOAD */
	CTL_IO_ETRUNC,	  /* fewer bytes than the header announces */
	CTL_IO_ELENGTH,	  /* more bytes than the header announces */
	CTL_IO_EJSON,	  /* payload is not valid JSON */
	CTL_IO_ENOTOBJ,	  /* payload is JSON but not an object */
	CTL_IO_EOF,	  /* client: peer closed before a message started */
	CTL_IO_ETIMEDOUT, /* client: no complete message in time */
	CTL_IO_ESYS,	  /* client: system call failed, errno is set */
	CTL_IO_ENOMEM,
};

/*
 * One decoded message. payload is owned by the message (NULL after a
 * header-only failure) and released by ctl_io_msg_clear().
 */
struct ctl_io_msg {
	uint16_t version;
	uint16_t type;
	uint32_t seq;
	json_t *payload;
};

/* Drops the payload reference and zeroes m. m may hold no payload. */
void ctl_io_msg_clear(struct ctl_io_msg *m);

/* A short English name of a status, for logs ("bad magic", ...). */
const char *ctl_io_strstatus(int status);

/*
 * Encodes one message of the current protocol version: header followed
 * by payload (a JSON object) serialised compactly. On success returns 0
 * and *out is a malloc'ed buffer of *outlen bytes that the caller frees.
 * Returns -1 if payload is not an object, does not serialise, or exceeds
 * NSEG_CTL_MAX_PAYLOAD.
 */
int ctl_io_encode(uint16_t type, uint32_t seq, const json_t *payload,
		  char **out, size_t *outlen);

/*
 * Checks a header: magic, then version, then length. On CTL_IO_EVERSION
 * the caller may still trust the type and seq to answer the peer.
 */
int ctl_io_check_hdr(const struct nseg_ctl_hdr *h, char *err, size_t errlen);

/*
 * Decodes exactly one message from buf[0..len). Fills m (header fields
 * too on CTL_IO_EVERSION) and returns CTL_IO_OK or a failure status.
 */
int ctl_io_decode(const void *buf, size_t len, struct ctl_io_msg *m, char *err,
		  size_t errlen);

/*
 * Incremental decoder: feed it whatever read() returned, then take the
 * complete messages out one by one. The header is checked as soon as it
 * is complete, so an oversized length fails before its payload arrives.
 * A failure is sticky: the stream cannot be resynchronised.
 */
struct ctl_io_dec {
	char *buf;
	size_t len;
	size_t cap;
	int failed; /* the status of the first failure, 0 if none */
};

void ctl_io_dec_init(struct ctl_io_dec *d);
/* Frees the buffered bytes; d may be reused after ctl_io_dec_init(). */
void ctl_io_dec_release(struct ctl_io_dec *d);
/* Appends n bytes. Returns 0, or -1 when out of memory. */
int ctl_io_dec_feed(struct ctl_io_dec *d, const void *data, size_t n);
/*
 * Takes the next complete message into m (the caller clears it).
 * Returns CTL_IO_OK, CTL_IO_AGAIN when more bytes are needed, or a
 * failure status (header fields of m are filled on CTL_IO_EVERSION).
 */
int ctl_io_dec_next(struct ctl_io_dec *d, struct ctl_io_msg *m, char *err,
		    size_t errlen);

/*
 * Client side, blocking.
 *
 * ctl_io_connect() returns a connected socket (the caller closes it)
 * or -1 with errno set (ENAMETOOLONG for a path that does not fit a
 * sockaddr_un, ETIMEDOUT when the daemon's backlog stays full). The
 * timeout also bounds each later send.
 */
int ctl_io_connect(const char *path, int timeout_ms);
/* Sends one request; args may be NULL for {}. Returns 0 or -1 (errno). */
int ctl_io_send(int fd, uint16_t type, uint32_t seq, const json_t *args);
/*
 * Reads the next message, waiting at most timeout_ms in total. Returns
 * CTL_IO_OK with m filled (the caller clears it), or a failure status.
 */
int ctl_io_recv(int fd, struct ctl_io_msg *m, int timeout_ms, char *err,
		size_t errlen);

#endif
