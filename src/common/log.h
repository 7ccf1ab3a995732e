/* log.h -- messages to stderr, one write() each, journald-friendly. */
#ifndef IDGATE_LOG_H
#define IDGATE_LOG_H

#include <stdarg.h>
#include <syslog.h> /* LOG_ERR ... LOG_DEBUG */

/* Name this process's role in every line: "supervisor", "frontend",
 * "pool default".  The string is copied. */
void log_set_role(const char *role);
void log_set_level(int max_priority);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int prio, const char *fmt, va_list ap);
/* log_msg(LOG_ERR) and exit(1). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
