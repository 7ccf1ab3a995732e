/* accesslog.c -- see accesslog.h. */
#include "accesslog.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sbuf.h"
#include "util.h"

static int access_fd = -1;

void access_log_init(int fd)
{
	access_fd = fd;
	tzset(); /* the time zone, read once: lines carry local time, as Apache's */
}

bool access_log_enabled(void)
{
	return access_fd >= 0;
}

int access_log_reopen(int fd)
{
	return access_fd < 0 ? -1 : fd_replace(access_fd, fd);
}

/* Bytes a client chose, as nginx writes them. */
static void put_escaped(struct sbuf *b, const char *s, bool escape_space)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = *p >= 0x20 && *p <= 0x7e && *p != '"' && *p != '\\';
		if (!plain || (escape_space && *p == ' '))
			sb_printf(b, "\\x%02X", *p);
		else
			sb_putc(b, (char)*p);
	}
}

static void put_quoted(struct sbuf *b, const char *s)
{
	sb_putc(b, '"');
	if (s)
		put_escaped(b, s, false);
	else
		sb_putc(b, '-');
	sb_putc(b, '"');
}

static void put_request_line(struct sbuf *b, const struct access_rec *a)
{
	sb_putc(b, '"');
	if (a->method) {
		put_escaped(b, a->method, false);
		sb_putc(b, ' ');
		put_escaped(b, a->target ? a->target : "", false);
		sb_putc(b, ' ');
		put_escaped(b, a->version ? a->version : "", false);
	} else {
		sb_putc(b, '-');
	}
	sb_putc(b, '"');
}

char *access_log_format(const struct access_rec *a)
{
	struct sbuf b;
	struct tm tm;
	char when[64];

	localtime_r(&a->when, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
	sb_init(&b);
	sb_printf(&b, "%s - ", a->client);
	if (a->user && *a->user)
		put_escaped(&b, a->user, true);
	else
		sb_putc(&b, '-');
	sb_printf(&b, " [%s] ", when);
	put_request_line(&b, a);
	if (a->bytes)
		sb_printf(&b, " %d %" PRIu64 " ", a->status, a->bytes);
	else
		sb_printf(&b, " %d - ", a->status);
	put_quoted(&b, a->referer);
	sb_putc(&b, ' ');
	put_quoted(&b, a->user_agent);
	return b.s;
}

void access_log_write(const struct access_rec *a)
{
	char *line;
	size_t len;

	if (access_fd < 0)
		return;
	line = access_log_format(a);
	len = strlen(line);
	line[len] = '\n'; /* sbuf keeps room for the terminator */
	if (write_all(access_fd, line, len + 1) < 0)
		log_msg(LOG_ERR, "access log: write: %m");
	free(line);
}
