/* accesslog.h -- the access log, in the NCSA Combined format that Apache's
 * and nginx's "combined" write, for the tools that read those (GoAccess,
 * AWStats, fail2ban):
 *
 *   127.0.0.1 - alice [21/Nov/2026:13:55:36 +0000] "GET /x?y HTTP/1.1" 200 2326 "REFERER" "AGENT"
 *
 * The user field is the local account the caller maps to, else the
 * principal, else "-".  The request line is the one received.  Whatever
 * a client chose (request line, user, Referer, User-Agent) is written with
 * '"', '\', control characters, DEL and bytes above 0x7e as \xHH, as nginx
 * does (and the user field's spaces too): a line cannot be split, forged
 * or made to move a terminal's cursor.  No other header is read: never an
 * Authorization.  Written like the audit log: one write() per line on an
 * O_APPEND descriptor the supervisor opened. */
#ifndef IDGATE_ACCESSLOG_H
#define IDGATE_ACCESSLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct access_rec {
	const char *client;
	const char *user;       /* NULL or "": "-" */
	time_t when;            /* when the request came */
	const char *method, *target, *version; /* NULL method: the request line is "-" */
	int status;
	uint64_t bytes;         /* of the body sent; 0: "-" */
	const char *referer, *user_agent; /* NULL: "-" */
};

/* fd < 0: no access log. */
void access_log_init(int fd);
bool access_log_enabled(void);
/* A new file after a rotation (see audit_reopen).  0 or -1. */
int access_log_reopen(int fd);
void access_log_write(const struct access_rec *a);
/* The line access_log_write() would write, without its newline, in the
 * local time zone; caller frees. */
char *access_log_format(const struct access_rec *a);

#endif
