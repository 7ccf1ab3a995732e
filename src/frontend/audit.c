/* audit.c -- the audit trail.  Each line is written with one write() on
 * an O_APPEND descriptor opened by the supervisor, so lines from many
 * threads never interleave.  After a rotation the supervisor sends a
 * descriptor of the new file, and the same descriptor number refers to it
 * from then on (audit_reopen).  Only names and reasons go in: never a token,
 * a password or credentials. */
#include "audit.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sbuf.h"
#include "util.h"

static int audit_fd = -1;

/* A write that failed (a full disk, a quota, an I/O error) makes the log
 * "failing" until a later write succeeds; with [server] audit_failure =
 * refuse the front end refuses requests meanwhile (audit_refusing): a
 * gateway that cannot say who did what does not serve.  The refusals'
 * own lines keep trying, so the first one that is written ends it. */
static atomic_bool failing, refuse_when_failing;
static atomic_uint_fast64_t write_failures;
static atomic_int last_errno;
static atomic_bool cut_line; /* a failed write may have left half a line */

void audit_init(int fd)
{
	audit_fd = fd;
}

void audit_set_policy(bool refuse)
{
	atomic_store(&refuse_when_failing, refuse);
}

bool audit_refusing(int *err)
{
	if (!atomic_load(&failing) || !atomic_load(&refuse_when_failing))
		return false;
	*err = atomic_load(&last_errno);
	return true;
}

uint64_t audit_write_failures(void)
{
	return atomic_load(&write_failures);
}

bool audit_failing(void)
{
	return atomic_load(&failing);
}

static void note_failure(int err)
{
	atomic_fetch_add(&write_failures, 1);
	atomic_store(&last_errno, err);
	atomic_store(&cut_line, true);
	if (!atomic_exchange(&failing, true))
		log_msg(LOG_CRIT, "audit log: write: %s%s", strerror(err),
			atomic_load(&refuse_when_failing) ? ": refusing requests until it can be "
							    "written (audit_failure = refuse)"
							  : "");
}

static void note_success(void)
{
	if (atomic_exchange(&failing, false))
		log_msg(LOG_NOTICE, "audit log: written again after %llu failed lines",
			(unsigned long long)atomic_load(&write_failures));
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
	if (a->proxy && *a->proxy)
		put_key(&b, "proxy", a->proxy);
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
	/* after a failure, a newline first: never glue a line to half of one */
	if (atomic_exchange(&cut_line, false) && write_all(audit_fd, "\n", 1) < 0)
		note_failure(errno);
	else if (write_all(audit_fd, line, len + 1) < 0)
		note_failure(errno);
	else
		note_success();
	free(line);
}
