#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "nseg/log.h"

static const char *log_ident = "nseg";
static int log_syslog;
static int log_level = LOG_LVL_INFO;

void log_init(const char *ident, int to_syslog, int level)
{
	log_ident = ident;
	log_syslog = to_syslog;
	log_level = level;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int level)
{
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

static void log_vemit(int prio, int lvl, const char *err, const char *fmt,
		      va_list ap)
{
	char msg[1024];

	if (lvl > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		if (err)
			syslog(prio, "%s: %s", msg, err);
		else
			syslog(prio, "%s", msg);
		return;
	}
	if (err)
		fprintf(stderr, "%s: %s: %s\n", log_ident, msg, err);
	else
		fprintf(stderr, "%s: %s\n", log_ident, msg);
}

#define LOG_BODY(prio, lvl, err)                     \
	do {                                         \
		int saved = errno;                   \
		va_list ap;                          \
		va_start(ap, fmt);                   \
		log_vemit(prio, lvl, err, fmt, ap);  \
		va_end(ap);                          \
		errno = saved;                       \
	} while (0)

void log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, LOG_LVL_WARN, strerror(errno));
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, LOG_LVL_WARN, NULL);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, LOG_LVL_INFO, NULL);
}

void log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, LOG_LVL_DEBUG, NULL);
}

void fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, LOG_LVL_WARN, strerror(errno));
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, LOG_LVL_WARN, NULL);
	exit(1);
}
