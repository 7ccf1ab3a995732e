/* spool_msg.h -- the pure parts of the spool module: a message's id and
 * time, its metadata as JSON, the queue a request path names, the body's
 * announced length against max_size, and what an errno means to a client.
 * Nothing here touches the file system or the request. */
#ifndef IDGATE_SPOOL_MSG_H
#define IDGATE_SPOOL_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sbuf.h"

/* "20250102T030405.123456789Z-" + a tag of at most SPOOL_TAG_MAX bytes. */
#define SPOOL_TAG_MAX 64
#define SPOOL_ID_MAX (27 + SPOOL_TAG_MAX + 1)
/* "2025-01-02T03:04:05.123456789Z" */
#define SPOOL_TIME_MAX 31

/* The stamp (nanoseconds since the epoch) of the next message: `now`, or
 * just after `last` when the clock has not moved on (or stepped back), so
 * that the ids one process hands out always increase. */
uint64_t spool_next_stamp(uint64_t now_ns, uint64_t last_ns);

/* Can `tag` end an id (and so a file name)?  1 to 64 of [A-Za-z0-9_-]. */
int spool_tag_ok(const char *tag);

/* The id of a message: its stamp in UTC as a fixed-width basic ISO 8601
 * time, then the tag -- "20250102T030405.123456789Z-3f2a...".  Ids sort
 * by stamp as plain strings (until the year 9999).  0, or -1 if the tag
 * is not spool_tag_ok() or the stamp cannot be shown. */
int spool_make_id(char out[SPOOL_ID_MAX], uint64_t stamp_ns, const char *tag);

/* RFC 3339 in UTC with nanoseconds: "2025-01-02T03:04:05.123456789Z". */
int spool_rfc3339(char out[SPOOL_TIME_MAX], uint64_t stamp_ns);

/* What the .meta file of a message says.  NULL strings are JSON null. */
struct spool_meta {
	const char *id;
	const char *queue;        /* "/" or "/orders" */
	uint64_t stamp_ns;
	const char *request_id;
	const char *method;
	const char *path;
	const char *vdir;
	const char *principal;    /* NULL: anonymous */
	const char *user;         /* NULL: no local account (or anonymous) */
	uid_t uid;                /* (uid_t)-1: none */
	gid_t gid;
	int level;                /* enum idg_level */
	const char *auth_type;
	const char *client_addr;
	unsigned client_port;
	const char *content_type;
	uint64_t length;
	const char *sha256;       /* 64 hex digits */
};

/* The metadata as one JSON object and a newline.  Every string is
 * escaped; bytes that are not UTF-8 become U+FFFD: never invalid JSON. */
void spool_meta_json(struct sbuf *b, const struct spool_meta *m);

/* The queue that path_info names, as a path relative to root: "." for
 * root itself ("" or "/"), "orders/eu" for "/orders/eu/".  NULL when a
 * segment starts with '.': hidden directories are the consumers' own
 * (work in progress, failures), never a queue a client may post to. */
const char *spool_queue_rel(const char *path_info, char *buf, size_t len);

/* The request's Content-Length against max_size: 0 (absent or within),
 * 413 (over), 400 (not a number). */
int spool_length_status(const char *content_length, uint64_t max_size, uint64_t *length);

/* The status an errno from writing into a queue means, and a short
 * lower-case description of it for the audit reason. */
int spool_errno_status(int err);
const char *spool_errno_text(int err);

#endif
