/* static.c -- serves files under `root`.
 *
 * Confinement is the kernel's job: every file is opened with openat2()
 * relative to the root directory with RESOLVE_BENEATH, so "..", absolute
 * symlinks and symlinks that climb out are refused by path resolution
 * itself, whatever the request path looked like.  Files are opened by the
 * handler thread, so under impersonation the permission checks are the
 * caller's (EACCES -> 403).  The body leaves through send_fd(): the front
 * end sends from the descriptor, and the bytes never cross our IPC
 * (files up to 16 KiB go with the response head: see worker.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httputil.h"
#include "idgate/module.h"
#include "modroot.h"
#include "static_cond.h"
#include "static_mime.h"
#include "uri.h"

struct static_ctx {
	int rootfd;
	char *root;
	char *index;
};

static int static_init(const struct idg_init *ini, void **ctxp)
{
	const char *root = ini->ops->get(ini, "root");
	const char *index = ini->ops->get(ini, "index");
	struct static_ctx *ctx;
	int fd = modroot_open(ini, root, O_PATH, false);

	if (fd < 0)
		return -1;
	if (strchr(index, '/')) {
		ini->ops->error(ini, "index", "'%s' must be a file name, not a path", index);
		close(fd);
		return -1;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		close(fd);
		return -1;
	}
	ctx->rootfd = fd;
	ctx->root = strdup(root);
	ctx->index = strdup(index);
	*ctxp = ctx;
	return 0;
}

static void static_cleanup(void *p)
{
	struct static_ctx *ctx = p;

	if (!ctx)
		return;
	close(ctx->rootfd);
	free(ctx->root);
	free(ctx->index);
	free(ctx);
}

/* An errno from opening a request path, as a status with a reason. */
static int open_error(struct idg_request *req, const char *path, int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		req->ops->set_reason(req, "static: %s: not found", path);
		return 404;
	case EACCES:
	case EPERM:
		req->ops->set_reason(req, "static: %s: permission denied", path);
		return 403;
	case EXDEV:
	case ELOOP:
		req->ops->set_reason(req, "static: %s: resolves outside root", path);
		return 403;
	default:
		req->ops->set_reason(req, "static: %s: %s", path, strerror(err));
		return 500;
	}
}

/* ---------------------------------------------------------------- validators */

struct validators {
	char etag[64];
	char last_modified[40];
	time_t mtime;
};

static void make_validators(const struct stat *st, struct validators *v)
{
	snprintf(v->etag, sizeof(v->etag), "\"%llx-%llx-%llx\"",
		 (unsigned long long)st->st_ino, (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
			 (unsigned long long)st->st_mtim.tv_nsec);
	v->mtime = st->st_mtim.tv_sec;
	http_date(v->mtime, v->last_modified, sizeof(v->last_modified));
}

/* RFC 9110 13.2.2 order: If-Match, If-Unmodified-Since, If-None-Match,
 * If-Modified-Since.  Returns 0 (go on), 304 or 412. */
static int preconditions(struct idg_request *req, const struct validators *v)
{
	const char *im = req->ops->header(req, "If-Match");
	const char *ius = req->ops->header(req, "If-Unmodified-Since");
	const char *inm = req->ops->header(req, "If-None-Match");
	const char *ims = req->ops->header(req, "If-Modified-Since");
	time_t t;

	if (im && !static_etag_listed(im, v->etag, 0))
		return 412;
	if (!im && ius && (t = http_date_parse(ius)) != (time_t)-1 && v->mtime > t)
		return 412;
	if (inm)
		return static_etag_listed(inm, v->etag, 1) ? 304 : 0;
	if (ims && (t = http_date_parse(ims)) != (time_t)-1 && v->mtime <= t)
		return 304;
	return 0;
}

/* If-Range: the range applies only to the representation named. */
static int if_range_holds(struct idg_request *req, const struct validators *v)
{
	const char *ir = req->ops->header(req, "If-Range");

	if (!ir)
		return 1;
	if (ir[0] == '"')
		return strcmp(ir, v->etag) == 0;
	return http_date_parse(ir) == v->mtime;
}

/* ---------------------------------------------------------------- responses */

static void common_headers(struct idg_request *req, const struct validators *v)
{
	req->ops->add_header(req, "ETag", v->etag);
	req->ops->add_header(req, "Last-Modified", v->last_modified);
	req->ops->add_header(req, "Accept-Ranges", "bytes");
}

static int send_file(struct idg_request *req, int fd, const struct stat *st, const char *name)
{
	struct validators v;
	uint64_t size = (uint64_t)st->st_size, off = 0, len = size;
	const char *range = req->ops->header(req, "Range");
	int status = 200, pre;
	char cr[96];

	make_validators(st, &v);
	pre = preconditions(req, &v);
	if (pre) {
		req->ops->set_status(req, pre);
		common_headers(req, &v);
		/* a 304's Content-Length, if any, is the full representation's */
		req->ops->set_length(req, pre == 304 ? (int64_t)size : 0);
		return IDG_OK;
	}
	if (range && strcmp(req->method, "GET") == 0 && if_range_holds(req, &v)) {
		switch (static_range_parse(range, size, &off, &len)) {
		case STATIC_RANGE_ONE:
			status = 206;
			snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)off,
				 (unsigned long long)(off + len - 1), (unsigned long long)size);
			req->ops->add_header(req, "Content-Range", cr);
			break;
		case STATIC_RANGE_UNSATISFIABLE:
			snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
			req->ops->set_status(req, 416);
			req->ops->add_header(req, "Content-Range", cr);
			req->ops->set_length(req, 0);
			return IDG_OK;
		}
	}
	req->ops->set_status(req, status);
	req->ops->add_header(req, "Content-Type", static_mime_type(name));
	common_headers(req, &v);
	if (req->ops->send_fd(req, fd, off, len) < 0) {
		req->ops->set_reason(req, "static: cannot send %s: %s", name, strerror(errno));
		return IDG_ERROR;
	}
	return IDG_OK;
}

/* A directory: redirect to the slash form, else serve its index file. */
static int serve_directory(struct static_ctx *ctx, struct idg_request *req, const char *rel)
{
	size_t len = strlen(req->path);
	char *loc, *idx;
	int fd, rc;
	struct stat st;

	if (len == 0 || req->path[len - 1] != '/') {
		char *enc = uri_encode_path(req->path);
		if (asprintf(&loc, "%s/%s%s", enc, req->query[0] ? "?" : "", req->query) < 0)
			loc = NULL;
		free(enc);
		if (!loc)
			return IDG_ERROR;
		req->ops->set_status(req, 301);
		req->ops->add_header(req, "Location", loc);
		req->ops->set_length(req, 0);
		free(loc);
		return IDG_OK;
	}
	if (asprintf(&idx, "%s%s", strcmp(rel, ".") == 0 ? "" : rel, ctx->index) < 0)
		return IDG_ERROR;
	fd = modroot_openat(ctx->rootfd, idx, O_RDONLY | O_NONBLOCK, false);
	if (fd < 0) {
		rc = errno == ENOENT ? 403 : open_error(req, idx, errno);
		if (errno == ENOENT)
			req->ops->set_reason(req, "static: %s: no %s and listings are off", rel,
					     ctx->index);
		free(idx);
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		req->ops->set_reason(req, "static: %s is not a regular file", idx);
		rc = 403;
	} else {
		rc = send_file(req, fd, &st, idx);
	}
	close(fd);
	free(idx);
	return rc;
}

static int static_handle(void *p, struct idg_request *req)
{
	struct static_ctx *ctx = p;
	const char *rel = req->path_info;
	struct stat st;
	int fd, rc;

	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	fd = modroot_openat(ctx->rootfd, rel, O_RDONLY | O_NONBLOCK, false);
	if (fd < 0)
		return open_error(req, rel, errno);
	if (fstat(fd, &st) < 0) {
		rc = open_error(req, rel, errno);
	} else if (S_ISDIR(st.st_mode)) {
		rc = serve_directory(ctx, req, rel);
	} else if (!S_ISREG(st.st_mode)) {
		req->ops->set_reason(req, "static: %s is not a regular file", rel);
		rc = 403;
	} else {
		rc = send_file(req, fd, &st, rel);
	}
	close(fd);
	return rc;
}

static const struct idg_key static_keys[] = {
	{ "root", IDG_KEY_PATH, IDG_KEY_REQUIRED, NULL, "directory whose files are served" },
	{ "index", IDG_KEY_STRING, 0, "index.html", "file served for a directory" },
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "static",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET | IDG_METHOD_HEAD,
	.keys = static_keys,
	.init = static_init,
	.handle = static_handle,
	.cleanup = static_cleanup,
};
