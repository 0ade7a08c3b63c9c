/*
 * The daemon's end of the control socket (protocol in nseg/ctl.h).
 *
 * A unix stream socket served from the event loop without ever blocking
 * it. Each client is authorised from SO_PEERCRED/SO_PEERGROUPS (never
 * from anything it claims): root, or a member of the configured group.
 * It then sends one request; the handler registered for the request's
 * type streams records and ends with END or ERROR; replies are buffered
 * and written as the client reads them; the connection closes once they
 * are out. Clients that are idle too long, exceed the output cap, or go
 * beyond the concurrent-client cap are dropped.
 *
 * A handler may instead keep its connection (ctl_conn_keep) to push
 * records later, as they happen (`nsegctl alerts --follow`); such a
 * client counts against the client cap until it leaves.
 */
#ifndef NSEG_CTL_SERVER_H
#define NSEG_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "nseg/evloop.h"

#define CTL_SERVER_MAX_CLIENTS 64
#define CTL_SERVER_IDLE_MS 10000
#define CTL_SERVER_MAX_OUTPUT (64u << 20)

struct ctl_server;
struct ctl_conn;

/*
 * Handles one request. args is the request's payload (a JSON object,
 * borrowed for the call). The handler must finish synchronously with
 * ctl_reply_end() or ctl_reply_error(), or keep the connection with
 * ctl_conn_keep(); otherwise the connection is not valid after it
 * returns. Reply functions return -1 once the client is gone or over
 * its output cap; the handler may stop early then.
 *
 * Every client passed the peer check (root or the configured group)
 * before its handler runs; a handler that needs more (admin requests,
 * see nseg/ctl.h) asks ctl_conn_uid().
 */
typedef void (*ctl_handler_fn)(struct ctl_conn *c, const json_t *args,
			       void *arg);

/* Told that a kept connection is going away; see ctl_conn_keep(). */
typedef void (*ctl_close_fn)(struct ctl_conn *c, void *arg);

/*
 * Listens on path: creates the parent directory (0755) if missing,
 * replaces a stale socket file only if nothing answers on it, sets mode
 * 0660 and, when group is not "" (nor NULL), that group. Returns the
 * server (free with ctl_server_free) or NULL with a message in err.
 */
struct ctl_server *ctl_server_new(struct evloop *l, const char *path,
				  const char *group, char *err, size_t errlen);
/*
 * Closes every client (writing what their sockets take without
 * waiting, so a follower just ended gets its END), the listener, and
 * unlinks the socket file. on_close runs for each kept connection.
 */
void ctl_server_free(struct ctl_server *s);

/*
 * Registers fn for requests of type (>= 100, each type once). Returns 0,
 * or -1 for a reply type, a duplicate, or no memory.
 */
int ctl_server_handle(struct ctl_server *s, uint16_t type, ctl_handler_fn fn,
		      void *arg);

/* Called with entering = 1 before each handler runs and 0 after it. */
typedef void (*ctl_wrap_fn)(int entering, void *arg);

/*
 * Sets fn to run around every handler (NULL: none), e.g. to let requests
 * wait longer for the database than the packet path may.
 */
void ctl_server_wrap(struct ctl_server *s, ctl_wrap_fn fn, void *arg);

/* Overrides the limits above (tests); 0 keeps a value unchanged. */
void ctl_server_set_limits(struct ctl_server *s, unsigned max_clients,
			   uint64_t idle_ms, size_t max_output);
/* Clients currently connected. */
unsigned ctl_server_nclients(const struct ctl_server *s);

/*
 * Queues one RECORD; obj (a JSON object) is stolen. Returns 0 or -1.
 * On a kept connection, outside its handler, the record is written at
 * once as far as the socket takes it.
 */
int ctl_reply_record(struct ctl_conn *c, json_t *obj);
/* Queues END; the connection closes once the replies are written. */
int ctl_reply_end(struct ctl_conn *c);
/* Queues ERROR {"code":code,"message":...} and closes like END. */
int ctl_reply_error(struct ctl_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The client's uid as the kernel reported it at accept time. */
uid_t ctl_conn_uid(const struct ctl_conn *c);

/*
 * Keeps c open after the handler returns, with no END yet: the daemon
 * may send records later with ctl_reply_record() from anywhere on the
 * event loop, and ends the reply with ctl_reply_end() or
 * ctl_reply_error() as usual. The idle timeout no longer applies; the
 * output cap does (a follower that does not read is dropped).
 *
 * Call it only from c's handler, before any END or ERROR. Returns 0, or
 * -1 (nothing registered, c as if never kept) when the client is
 * already gone or over its cap, the reply has ended, c is kept already,
 * or on_close is NULL.
 *
 * After 0, on_close(c, arg) runs exactly once, from the event loop or
 * from ctl_server_free(), when c closes for any reason: the client
 * left, shut down its sending side or sent more bytes (one request per
 * connection), it was dropped at the output cap, the reply
 * ended and was written, or the server is freed. It may run as soon as
 * the handler returns. Reply functions never run it themselves, so the
 * daemon may push to a list of followers while walking it; a reply
 * that returns -1 means c will close soon, not that it is gone. Inside
 * on_close, replies fail; after it, c is invalid.
 */
int ctl_conn_keep(struct ctl_conn *c, ctl_close_fn on_close, void *arg);

#endif
