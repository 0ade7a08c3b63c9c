/*
 * Logging: stderr in the foreground (systemd captures it), syslog otherwise.
 * The _warn variants append strerror(errno); the _warnx variants do not.
 * fatal()/fatalx() exit(1) and are for start-up only: a running daemon
 * degrades and keeps enforcing.
 */
#ifndef NSEG_LOG_H
#define NSEG_LOG_H

#include <stdarg.h>

#define NSEG_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };

/* ident: program name; to_syslog: 0 = stderr; level: highest level shown. */
void log_init(const char *ident, int to_syslog, int level);
void log_set_level(int level);
int log_get_level(void);

void log_warn(const char *fmt, ...) NSEG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) NSEG_PRINTF(1, 2);
void log_info(const char *fmt, ...) NSEG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) NSEG_PRINTF(1, 2);
void fatal(const char *fmt, ...) NSEG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) NSEG_PRINTF(1, 2) __attribute__((noreturn));

#endif
