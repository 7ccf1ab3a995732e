/* spool_msg.c -- see spool_msg.h. */
#include "spool_msg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define NS_PER_S 1000000000ull

uint64_t spool_next_stamp(uint64_t now_ns, uint64_t last_ns)
{
	return now_ns > last_ns ? now_ns : last_ns + 1;
}

int spool_tag_ok(const char *tag)
{
	size_t n = tag ? strlen(tag) : 0;

	if (n == 0 || n > SPOOL_TAG_MAX)
		return 0;
	return strspn(tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* The stamp's calendar time in UTC; -1 beyond what four digits can show. */
static int stamp_tm(uint64_t stamp_ns, struct tm *tm)
{
	time_t secs = (time_t)(stamp_ns / NS_PER_S);

	if (!gmtime_r(&secs, tm) || tm->tm_year + 1900 > 9999)
		return -1;
	return 0;
}

int spool_make_id(char out[SPOOL_ID_MAX], uint64_t stamp_ns, const char *tag)
{
	struct tm tm;
	int n;

	if (!spool_tag_ok(tag) || stamp_tm(stamp_ns, &tm) < 0)
		return -1;
	n = snprintf(out, SPOOL_ID_MAX, "%04d%02d%02dT%02d%02d%02d.%09lluZ-%s", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned long long)(stamp_ns % NS_PER_S), tag);
	return n > 0 && n < SPOOL_ID_MAX ? 0 : -1;
}

int spool_rfc3339(char out[SPOOL_TIME_MAX], uint64_t stamp_ns)
{
	struct tm tm;
	int n;

	if (stamp_tm(stamp_ns, &tm) < 0)
		return -1;
	n = snprintf(out, SPOOL_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned long long)(stamp_ns % NS_PER_S));
	return n > 0 && n < SPOOL_TIME_MAX ? 0 : -1;
}

static const char *level_name(int level)
{
	const char *n = idg_level_name(level);

	return n ? n : "anonymous"; /* never more than it is */
}

static void put_str(struct sbuf *b, const char *key, const char *value)
{
	sb_printf(b, ",\"%s\":", key);
	sb_json_str(b, value);
}

static void put_id(struct sbuf *b, const char *key, unsigned long id, int known)
{
	if (known)
		sb_printf(b, ",\"%s\":%lu", key, id);
	else
		sb_printf(b, ",\"%s\":null", key);
}

void spool_meta_json(struct sbuf *b, const struct spool_meta *m)
{
	/* uid and gid are the mapped account's: only with a user, as in whoami */
	int mapped = m->user != NULL && m->uid != (uid_t)-1;
	char when[SPOOL_TIME_MAX];

	if (spool_rfc3339(when, m->stamp_ns) < 0)
		snprintf(when, sizeof(when), "1970-01-01T00:00:00.000000000Z");
	sb_puts(b, "{\"id\":");
	sb_json_str(b, m->id);
	put_str(b, "queue", m->queue);
	put_str(b, "time", when);
	put_str(b, "request_id", m->request_id);
	put_str(b, "method", m->method);
	put_str(b, "path", m->path);
	put_str(b, "vdir", m->vdir);
	put_str(b, "principal", m->principal);
	put_str(b, "user", m->user);
	put_id(b, "uid", (unsigned long)m->uid, mapped);
	put_id(b, "gid", (unsigned long)m->gid, mapped);
	put_str(b, "level", level_name(m->level));
	put_str(b, "auth_type", m->auth_type);
	put_str(b, "client", m->client_addr);
	sb_printf(b, ",\"client_port\":%u", m->client_port);
	put_str(b, "content_type", m->content_type);
	sb_printf(b, ",\"length\":%llu", (unsigned long long)m->length);
	put_str(b, "sha256", m->sha256);
	sb_puts(b, "}\n");
}

const char *spool_queue_rel(const char *path_info, char *buf, size_t len)
{
	const char *p = path_info ? path_info : "";
	size_t n = 0;

	while (*p) {
		size_t seg;
		p += strspn(p, "/");
		seg = strcspn(p, "/");
		if (seg == 0)
			break;
		if (p[0] == '.')
			return NULL;
		if (n + (n ? 1 : 0) + seg + 1 > len)
			return NULL;
		if (n)
			buf[n++] = '/';
		memcpy(buf + n, p, seg);
		n += seg;
		p += seg;
	}
	if (n == 0) {
		if (len < 2)
			return NULL;
		buf[n++] = '.';
	}
	buf[n] = '\0';
	return buf;
}

int spool_length_status(const char *content_length, uint64_t max_size, uint64_t *length)
{
	uint64_t v = 0;
	const char *p = content_length;
	bool huge = false;

	*length = 0;
	if (!p)
		return 0;
	if (*p < '0' || *p > '9')
		return 400;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			huge = true; /* more digits than any disk: over max_size */
		else
			v = v * 10 + d;
	}
	if (*p)
		return 400; /* not a number, however many digits it starts with */
	if (huge)
		return 413;
	*length = v;
	return v > max_size ? 413 : 0;
}

int spool_errno_status(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return 507;
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return 404;
	case ELOOP:
	case EXDEV:
		return 403;
	default:
		/* EACCES, EROFS, EIO...: the administrator's to fix, not the client's */
		return 500;
	}
}

const char *spool_errno_text(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "permission denied";
	case ENOSPC:
		return "no space left on device";
	case EDQUOT:
		return "disk quota exceeded";
	case EROFS: /* most often systemd's ProtectSystem=, not the disk */
		return "read-only file system (under systemd, add the directory to the unit's "
		       "ReadWritePaths=: systemctl edit idgate)";
	case ENOENT:
		return "no such queue";
	case ENOTDIR:
		return "not a queue (not a directory)";
	case ENAMETOOLONG:
		return "name too long";
	case ELOOP:
		return "a symbolic link on the way";
	case EXDEV:
		return "resolves outside root";
	case EOPNOTSUPP:
	case EISDIR: /* kernels before O_TMPFILE took it for O_DIRECTORY */
		return "the file system cannot make unnamed temporary files (O_TMPFILE)";
	default:
		return strerror(err);
	}
}
