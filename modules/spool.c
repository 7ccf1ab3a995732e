/* spool.c -- a queued service: POST and PUT bodies become files under
 * `root` for a later consumer, with the caller's identity beside each.
 *
 * A message is two files in its queue directory, ID.body and ID.meta
 * (JSON).  Each is written into an unnamed file (O_TMPFILE) and given its
 * name with linkat() only once complete -- and, with fsync on, durable --
 * the body first, the meta last.  So a consumer never sees a partial
 * file, and the rule for it is simple: a message exists once its .meta
 * does.  Whatever fails before that (a body over max_size, a full disk, a
 * client that leaves mid-upload, a crash of the worker) leaves nothing
 * behind: an unnamed file vanishes with its descriptor.
 *
 * The impersonation option is not_allowed: the message is processed
 * after the caller is gone, so nobody can act as the caller then; the
 * identity travels as data in the .meta file, and the files are the
 * pool's.  Queues are directories below root, reached with openat2()
 * beneath it without symlinks, as in static.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "idgate/module.h"
#include "modroot.h"
#include "sbuf.h"
#include "spool_msg.h"
#include "util.h"

#define FILE_MODE 0640           /* the pool's user writes, its group may consume */
#define READ_CHUNK (64 * 1024)
#define ID_ATTEMPTS 16           /* names taken already: try the next stamp */

struct spool_ctx {
	int rootfd;        /* O_PATH | O_DIRECTORY */
	char *root;        /* without trailing slashes, for messages */
	uint64_t max_size;
	bool fsync;
};

/* The stamp of the last id this worker handed out (see spool_next_stamp). */
static _Atomic uint64_t last_stamp;

/* An unnamed regular file in dirfd, mode FILE_MODE whatever the umask. */
static int open_unnamed(int dirfd)
{
	int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, FILE_MODE);

	if (fd >= 0 && fchmod(fd, FILE_MODE) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* ---------------------------------------------------------------- init */

/* Can this process make messages in rootfd?  Creating an unnamed file
 * proves write and search permission and O_TMPFILE support, and leaves
 * nothing.  0, or -1 after reporting why. */
static int probe_writable(const struct idg_init *ini, int rootfd, const char *root)
{
	int fd = open_unnamed(rootfd);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	switch (errno) {
	case ENOSPC:
	case EDQUOT: /* a full disk is answered with 507 until it is not */
		ini->ops->log(ini, IDG_LOG_WARNING, "%s: %s", root, spool_errno_text(errno));
		return 0;
	case EACCES:
	case EPERM:
		/* init() always runs as the pool's user, checks included */
		ini->ops->error(ini, "root", "%s: uid %u cannot create files in it (the pool's user)",
				root, (unsigned)geteuid());
		return -1;
	default:
		ini->ops->error(ini, "root", "%s: %s", root, spool_errno_text(errno));
		return -1;
	}
}

/* root, opened O_PATH; also checks that a request could open it, and
 * make messages in it. */
static int open_root(const struct idg_init *ini, const char *root)
{
	int fd = modroot_open(ini, root, O_RDONLY | O_DIRECTORY, true);

	if (fd >= 0 && probe_writable(ini, fd, root) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int spool_init(const struct idg_init *ini, void **ctxp)
{
	const char *root = ini->ops->get(ini, "root");
	struct spool_ctx *ctx;
	int fd = open_root(ini, root);

	if (fd < 0)
		return -1;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->root = modroot_name(root))) {
		free(ctx);
		close(fd);
		return -1;
	}
	ctx->rootfd = fd;
	ctx->max_size = ini->ops->get_uint(ini, "max_size");
	ctx->fsync = ini->ops->get_bool(ini, "fsync");
	*ctxp = ctx;
	return 0;
}

static void spool_cleanup(void *p)
{
	struct spool_ctx *ctx = p;

	if (!ctx)
		return;
	close(ctx->rootfd);
	free(ctx->root);
	free(ctx);
}

/* ---------------------------------------------------------------- one message */

struct msg {
	struct idg_request *req;
	const struct spool_ctx *ctx;
	char rel[PATH_MAX];           /* the queue below root: "." or "orders" */
	char queue[PATH_MAX + 1];     /* "/" or "/orders", as the client sees it */
	char where[2 * PATH_MAX];     /* "ROOT/orders", in messages */
	int qfd;                      /* the queue directory, O_RDONLY (for fsync) */
	int body_fd, meta_fd;         /* unnamed until linked */
	uint64_t announced;           /* Content-Length, if any */
	bool has_length;
	uint64_t length;              /* bytes received */
	struct sha256_ctx sha;
	uint64_t stamp;
	char id[SPOOL_ID_MAX];
	char body_name[SPOOL_ID_MAX + 8];
	bool body_linked, meta_linked;
	bool committed;               /* both named and durable: it is queued */
};

/* A failure from the file system, as its status with the audit reason
 * "spool: ROOT/orders: permission denied"; the administrator's problems
 * also go to idgated's log. */
static int fail_errno(struct msg *m, int err)
{
	int status = spool_errno_status(err);
	const char *text = spool_errno_text(err);

	m->req->ops->set_reason(m->req, "spool: %s: %s", m->where, text);
	if (status >= 500)
		m->req->ops->log(m->req, status == 507 ? IDG_LOG_WARNING : IDG_LOG_ERR,
				 "spool: %s: %s", m->where, text);
	return status;
}

static int fail_too_large(struct msg *m)
{
	m->req->ops->set_reason(m->req, "spool: the body is over max_size (%llu bytes)",
				(unsigned long long)m->ctx->max_size);
	return 413;
}

/* Which queue, and open it.  0 or a status. */
static int open_queue(struct msg *m)
{
	const char *pi = m->req->path_info;

	if (!spool_queue_rel(pi, m->rel, sizeof(m->rel))) {
		m->req->ops->set_reason(m->req, "spool: %s: not a queue (hidden or too long)", pi);
		return 404;
	}
	if (strcmp(m->rel, ".") == 0) {
		snprintf(m->queue, sizeof(m->queue), "/");
		snprintf(m->where, sizeof(m->where), "%s", m->ctx->root);
	} else {
		snprintf(m->queue, sizeof(m->queue), "/%s", m->rel);
		snprintf(m->where, sizeof(m->where), "%s/%s", m->ctx->root, m->rel);
	}
	m->qfd = modroot_openat(m->ctx->rootfd, m->rel, O_RDONLY | O_DIRECTORY, true);
	return m->qfd < 0 ? fail_errno(m, errno) : 0;
}

/* Content-Length, before a byte is read: over max_size is refused now.
 * 0 or a status. */
static int check_announced(struct msg *m)
{
	const char *cl = m->req->ops->header(m->req, "Content-Length");
	int st = spool_length_status(cl, m->ctx->max_size, &m->announced);

	if (st == 413)
		return fail_too_large(m);
	if (st) {
		m->req->ops->set_reason(m->req, "spool: malformed Content-Length");
		return st;
	}
	m->has_length = cl != NULL;
	return 0;
}

/* With a Content-Length, take the space now: a full disk is found before
 * the body is read, not after.  0 or a status. */
static int reserve_space(struct msg *m)
{
	if (!m->has_length || m->announced == 0)
		return 0;
	if (fallocate(m->body_fd, 0, 0, (off_t)m->announced) == 0)
		return 0;
	if (errno == ENOSPC || errno == EDQUOT)
		return fail_errno(m, errno);
	return 0; /* not supported here: the writes will tell */
}

/* Stream the request body into the unnamed body file.  0 or a status;
 * IDG_ERROR when the client went away. */
static int receive_body(struct msg *m, char *buf)
{
	for (;;) {
		ssize_t n = m->req->ops->read(m->req, buf, READ_CHUNK);
		if (n == 0)
			break;
		if (n < 0) {
			int gone = errno == ECONNRESET;
			m->req->ops->set_reason(m->req, "spool: %s after %llu bytes; nothing queued",
						gone ? "the client went away"
						     : "cannot read the request body",
						(unsigned long long)m->length);
			return gone ? IDG_ERROR : 500;
		}
		if ((uint64_t)n > m->ctx->max_size - m->length)
			return fail_too_large(m);
		if (write_all(m->body_fd, buf, (size_t)n) < 0)
			return fail_errno(m, errno);
		sha256_update(&m->sha, (size_t)n, (const uint8_t *)buf);
		m->length += (uint64_t)n;
	}
	/* a reservation beyond what came (it cannot, with HTTP framing) */
	if (m->has_length && m->announced != m->length && ftruncate(m->body_fd, (off_t)m->length) < 0)
		return fail_errno(m, errno);
	return 0;
}

/* Give an unnamed file its name in the queue; never replaces anything. */
static int link_unnamed(struct msg *m, int fd, const char *name)
{
	char proc[64];

	/* linkat(fd, "", AT_EMPTY_PATH) would need CAP_DAC_READ_SEARCH */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, m->qfd, name, AT_SYMLINK_FOLLOW);
}

/* linkat() failed: ENOENT is a queue removed meanwhile -- or no /proc. */
static int fail_link(struct msg *m, int err)
{
	if (err == ENOENT && access("/proc/self/fd", F_OK) < 0) {
		m->req->ops->set_reason(m->req, "spool: %s: cannot name the message: /proc is not "
					"mounted", m->where);
		m->req->ops->log(m->req, IDG_LOG_ERR, "spool: %s: cannot name the message: /proc "
				 "is not mounted", m->where);
		return 500;
	}
	return fail_errno(m, err);
}

static int sync_fd(const struct msg *m, int fd)
{
	return m->ctx->fsync ? fsync(fd) : 0;
}

/* The tag that makes ids unique: the request id, else random. */
static void make_tag(const struct msg *m, char tag[SPOOL_TAG_MAX + 1])
{
	unsigned char r[16];

	if (spool_tag_ok(m->req->request_id)) {
		snprintf(tag, SPOOL_TAG_MAX + 1, "%s", m->req->request_id);
		return;
	}
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(tag + 2 * i, 3, "%02x", r[i]);
}

/* Now, or just after the last id this worker gave. */
static uint64_t take_stamp(void)
{
	struct timespec ts;
	uint64_t now, last, next;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	last = atomic_load(&last_stamp);
	do
		next = spool_next_stamp(now, last);
	while (!atomic_compare_exchange_weak(&last_stamp, &last, next));
	return next;
}

/* Name the body ID.body under a fresh id; 0 or a status. */
static int link_body(struct msg *m)
{
	char tag[SPOOL_TAG_MAX + 1];

	make_tag(m, tag);
	for (int i = 0; i < ID_ATTEMPTS; i++) {
		m->stamp = take_stamp();
		if (spool_make_id(m->id, m->stamp, tag) < 0) {
			m->req->ops->set_reason(m->req, "spool: the clock is out of range");
			return 500;
		}
		snprintf(m->body_name, sizeof(m->body_name), "%s.body", m->id);
		if (link_unnamed(m, m->body_fd, m->body_name) == 0) {
			m->body_linked = true;
			return 0;
		}
		if (errno != EEXIST)
			return fail_link(m, errno);
	}
	m->req->ops->set_reason(m->req, "spool: %s: no free message name after %d tries",
				m->where, ID_ATTEMPTS);
	return 500;
}

static void hex_digest(struct sha256_ctx *sha, char out[2 * SHA256_DIGEST_SIZE + 1])
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_digest(sha, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void build_meta(struct msg *m, struct sbuf *b)
{
	struct idg_request *req = m->req;
	char sha[2 * SHA256_DIGEST_SIZE + 1];
	struct spool_meta meta = {
		.id = m->id, .queue = m->queue, .stamp_ns = m->stamp,
		.request_id = req->request_id, .method = req->method, .path = req->path,
		.vdir = req->vdir, .principal = req->principal, .user = req->user,
		.uid = req->uid, .gid = req->gid, .level = (int)req->level,
		.auth_type = req->auth_type, .client_addr = req->client_addr,
		.client_port = req->client_port,
		.content_type = req->ops->header(req, "Content-Type"),
		.length = m->length, .sha256 = sha,
	};

	hex_digest(&m->sha, sha);
	spool_meta_json(b, &meta);
}

/* Write ID.meta, which makes the message exist; 0 or a status. */
static int link_meta(struct msg *m)
{
	char name[SPOOL_ID_MAX + 8];
	struct sbuf b;
	int rc = 0;

	sb_init(&b);
	build_meta(m, &b);
	m->meta_fd = open_unnamed(m->qfd);
	if (m->meta_fd < 0 || write_all(m->meta_fd, b.s, b.len) < 0 ||
	    sync_fd(m, m->meta_fd) < 0) {
		rc = fail_errno(m, errno);
		goto done;
	}
	snprintf(name, sizeof(name), "%s.meta", m->id);
	if (link_unnamed(m, m->meta_fd, name) < 0) {
		rc = fail_link(m, errno);
		goto done;
	}
	m->meta_linked = true;
	if (sync_fd(m, m->qfd) < 0)
		rc = fail_errno(m, errno);
done:
	sb_free(&b);
	return rc;
}

/* Body durable, then named and that durable, then the meta likewise: a
 * .meta on disk always has its whole .body.  0 or a status. */
static int commit(struct msg *m)
{
	int rc;

	if (sync_fd(m, m->body_fd) < 0)
		return fail_errno(m, errno);
	rc = link_body(m);
	if (rc)
		return rc;
	if (sync_fd(m, m->qfd) < 0)
		return fail_errno(m, errno);
	return link_meta(m);
}

static int answer_accepted(struct msg *m)
{
	struct sbuf b;
	int rc;

	sb_init(&b);
	sb_puts(&b, "{\"id\":");
	sb_json_str(&b, m->id);
	sb_puts(&b, ",\"queue\":");
	sb_json_str(&b, m->queue);
	sb_puts(&b, "}\n");
	m->req->ops->set_status(m->req, 202);
	m->req->ops->add_header(m->req, "Content-Type", "application/json");
	m->req->ops->set_length(m->req, (int64_t)b.len);
	rc = m->req->ops->write(m->req, b.s, b.len);
	sb_free(&b);
	/* queued either way: a client that left before the answer may retry */
	return rc == 0 ? IDG_OK : IDG_ERROR;
}

/* Take back the names of a message that did not make it, meta first. */
static void discard(struct msg *m)
{
	char name[SPOOL_ID_MAX + 8];

	if (m->meta_linked) {
		snprintf(name, sizeof(name), "%s.meta", m->id);
		if (unlinkat(m->qfd, name, 0) < 0)
			m->req->ops->log(m->req, IDG_LOG_ERR, "spool: %s/%s: cannot remove it: %s",
					 m->where, name, strerror(errno));
	}
	if (m->body_linked && unlinkat(m->qfd, m->body_name, 0) < 0)
		m->req->ops->log(m->req, IDG_LOG_ERR, "spool: %s/%s: cannot remove it: %s",
				 m->where, m->body_name, strerror(errno));
}

static void close_msg(struct msg *m)
{
	if (m->meta_fd >= 0)
		close(m->meta_fd);
	if (m->body_fd >= 0)
		close(m->body_fd);
	if (m->qfd >= 0)
		close(m->qfd);
}

static int spool_handle(void *p, struct idg_request *req)
{
	struct msg *m = calloc(1, sizeof(*m));
	char *buf = malloc(READ_CHUNK);
	int rc = 500;

	if (!m || !buf) {
		req->ops->set_reason(req, "spool: out of memory");
		goto done;
	}
	m->req = req;
	m->ctx = p;
	m->qfd = m->body_fd = m->meta_fd = -1;
	sha256_init(&m->sha);

	if ((rc = open_queue(m)) != 0 || (rc = check_announced(m)) != 0)
		goto done;
	m->body_fd = open_unnamed(m->qfd);
	if (m->body_fd < 0) {
		rc = fail_errno(m, errno);
		goto done;
	}
	if ((rc = reserve_space(m)) != 0 || (rc = receive_body(m, buf)) != 0 ||
	    (rc = commit(m)) != 0)
		goto done;
	m->committed = true;
	rc = answer_accepted(m);
done:
	if (m) {
		if (!m->committed)
			discard(m);
		close_msg(m);
	}
	free(buf);
	free(m);
	return rc;
}

static const struct idg_key spool_keys[] = {
	{ "root", IDG_KEY_PATH, IDG_KEY_REQUIRED, NULL,
	  "directory of queues, writable by the pool's user" },
	{ "max_size", IDG_KEY_SIZE, 0, "10m", "largest body accepted (413 beyond)" },
	{ "fsync", IDG_KEY_BOOL, 0, "true", "make each message durable before 202" },
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "spool",
	.impersonation = IDG_IMPERSONATION_NOT_ALLOWED,
	.methods = IDG_METHOD_POST | IDG_METHOD_PUT,
	.keys = spool_keys,
	.init = spool_init,
	.handle = spool_handle,
	.cleanup = spool_cleanup,
};
