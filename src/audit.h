/* audit.h -- one JSON object per line per request. */
#ifndef IDGATE_AUDIT_H
#define IDGATE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

struct audit_rec {
	const char *request_id;
	const char *client;
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
	const char *reason;    /* NULL or "" when none */
	const char *groups_left_out; /* impersonated: groups the handler lacks, or NULL/"" */
};

/* fd < 0: no audit log. */
void audit_init(int fd);
void audit_write(const struct audit_rec *a);
/* The line audit_write() would write, without its newline; caller frees. */
char *audit_format(const struct audit_rec *a, int64_t now_ms_since_epoch);

#endif
