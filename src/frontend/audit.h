/* audit.h -- one JSON object per line per request. */
#ifndef IDGATE_AUDIT_H
#define IDGATE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

struct audit_rec {
	const char *request_id;
	const char *client_request_id; /* X-Request-Id of an untrusted client, or NULL/"" */
	const char *client;
	const char *proxy;     /* the sender of the PROXY header that named client, or NULL/"" */
	const char *method;
	const char *path;
	const char *vdir;      /* NULL: none matched */
	const char *pool;
	const char *principal; /* NULL: anonymous */
	const char *user;
	const char *level;
	bool impersonated;
	int status;
	uint64_t bytes;
	uint64_t duration_us;
	const char *host;      /* the Host header as received, or NULL */
	const char *user_agent; /* the User-Agent header, or NULL */
	const char *auth;      /* the scheme that authenticated the caller
	                          ("Negotiate", "Basic"), or NULL */
	bool tls;
	const char *reason;    /* NULL or "" when none */
	const char *groups_left_out; /* impersonated: groups the handler lacks, or NULL/"" */
};

/* fd < 0: no audit log. */
void audit_init(int fd);
/* A new file after a rotation: the audit descriptor refers to fd's file
 * from now on (fd_replace); fd stays open.  0, or -1 (no audit log, or
 * dup3 failed). */
int audit_reopen(int fd);
void audit_write(const struct audit_rec *a);
/* [server] audit_failure: refuse requests while the log cannot be written. */
void audit_set_policy(bool refuse);
/* True while the last write failed and the policy refuses; *err its errno. */
bool audit_refusing(int *err);
bool audit_failing(void);
uint64_t audit_write_failures(void);
/* The line audit_write() would write, without its newline; caller frees. */
char *audit_format(const struct audit_rec *a, int64_t now_ms_since_epoch);

#endif
