/* audit.c -- the audit trail.  Each line is written with one write() on
 * an O_APPEND descriptor opened by the supervisor, so lines from many
 * threads never interleave.  After a rotation the supervisor sends a
 * descriptor of the new file, and the same descriptor number refers to it
 * from then on (audit_reopen).  Only names and reasons go in: never a token,
 * a password or credentials. */
#include "audit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sbuf.h"
#include "util.h"

static int audit_fd = -1;

void audit_init(int fd)
{
	audit_fd = fd;
}

int audit_reopen(int fd)
{
	return audit_fd < 0 ? -1 : fd_replace(audit_fd, fd);
}

static void put_key(struct sbuf *b, const char *key, const char *value)
{
	sb_printf(b, ",\"%s\":", key);
	sb_json_str(b, value);
}

char *audit_format(const struct audit_rec *a, int64_t ms)
{
	struct sbuf b;
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char ts[40];

	gmtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	sb_init(&b);
	sb_printf(&b, "{\"ts\":\"%s.%03dZ\"", ts, (int)(ms % 1000));
	put_key(&b, "request_id", a->request_id);
	if (a->client_request_id && *a->client_request_id)
		put_key(&b, "client_request_id", a->client_request_id);
	put_key(&b, "client", a->client);
	put_key(&b, "method", a->method);
	put_key(&b, "path", a->path);
	put_key(&b, "vdir", a->vdir);
	put_key(&b, "pool", a->pool);
	put_key(&b, "principal", a->principal);
	put_key(&b, "user", a->user);
	put_key(&b, "level", a->level);
	sb_printf(&b, ",\"impersonated\":%s,\"status\":%d,\"bytes\":%llu,\"duration_ms\":%llu.%03u",
		  a->impersonated ? "true" : "false", a->status, (unsigned long long)a->bytes,
		  (unsigned long long)(a->duration_us / 1000), (unsigned)(a->duration_us % 1000));
	put_key(&b, "host", a->host);
	put_key(&b, "user_agent", a->user_agent);
	put_key(&b, "auth", a->auth);
	sb_printf(&b, ",\"tls\":%s", a->tls ? "true" : "false");
	if (a->reason && *a->reason)
		put_key(&b, "reason", a->reason);
	if (a->groups_left_out && *a->groups_left_out)
		put_key(&b, "groups_left_out", a->groups_left_out);
	sb_putc(&b, '}');
	return b.s;
}

void audit_write(const struct audit_rec *a)
{
	struct timespec now;
	char *line;
	size_t len;

	if (audit_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	line = audit_format(a, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	len = strlen(line);
	line[len] = '\n'; /* sbuf keeps room for the terminator */
	if (write_all(audit_fd, line, len + 1) < 0)
		log_msg(LOG_ERR, "audit log: write: %m");
	free(line);
}
