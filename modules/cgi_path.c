/* cgi_path.c -- finding a CGI program under `root`, with suexec's checks.
 *
 * Apache's suexec refuses to run a program that someone other than its
 * target user (or root) could have changed: a program or directory
 * writable by group or others, or owned by somebody else.  We do the same,
 * and close the race suexec has between its checks and execve(): every
 * check is an fstat() of an fd we opened, and that fd is what gets
 * executed (idg_spawn.exec_fd), so nothing can be swapped in between. */
#include "cgi_path.h"
#include "modroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
	const char *root;      /* for messages; "" when root is "/" */
	const char *path_info;
	const struct cgi_owner *own;
	char *why;
	size_t len;
};

static int refuse(struct walk *w, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct walk *w, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->why, w->len, fmt, ap);
	va_end(ap);
	return status;
}

/* One name, beneath dirfd: no symlink, no magic link, no way out. */
static int open_segment(int dirfd, const char *name)
{
	return modroot_openat(dirfd, name, O_PATH, true);
}

static int open_error(struct walk *w, size_t shown, int err)
{
	const char *r = w->root, *p = w->path_info;
	int n = (int)shown;

	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return refuse(w, 404, "cgi: %s%.*s: not found", r, n, p);
	case EACCES:
	case EPERM:
		return refuse(w, 403, "cgi: %s%.*s: permission denied", r, n, p);
	case ELOOP:
		return refuse(w, 403, "cgi: %s%.*s is a symbolic link", r, n, p);
	case EXDEV:
		return refuse(w, 403, "cgi: %s%.*s resolves outside root", r, n, p);
	default:
		return refuse(w, 500, "cgi: %s%.*s: %s", r, n, p, strerror(err));
	}
}

static int owner_ok(const struct walk *w, const struct stat *st)
{
	return st->st_uid == w->own->root || st->st_uid == w->own->target;
}

/* What suexec asks of every directory on the way and of the program;
 * `what` is "directory " or "". */
static int check_common(struct walk *w, const struct stat *st, size_t shown, const char *what)
{
	const char *r = w->root, *p = w->path_info;
	int n = (int)shown;

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return refuse(w, 403, "cgi: %s%s%.*s is writable by group or others", what, r, n,
			      p);
	if (!owner_ok(w, st))
		return refuse(w, 403, "cgi: %s%s%.*s is owned by uid %u, not by root or uid %u",
			      what, r, n, p, (unsigned)st->st_uid, (unsigned)w->own->target);
	return 0;
}

static int check_program(struct walk *w, int fd, const struct stat *st, size_t shown)
{
	const char *r = w->root, *p = w->path_info;
	int n = (int)shown, rc = check_common(w, st, shown, "");

	if (rc)
		return rc;
	if (st->st_mode & (S_ISUID | S_ISGID))
		return refuse(w, 403, "cgi: %s%.*s has the setuid or setgid bit", r, n, p);
	/* as this thread: the caller when impersonated, else the pool */
	if (faccessat(fd, "", X_OK, AT_EMPTY_PATH | AT_EACCESS) < 0)
		return errno == EACCES
			? refuse(w, 403, "cgi: %s%.*s is not executable by uid %u", r, n,
				 p, (unsigned)w->own->target)
			: refuse(w, 500, "cgi: %s%.*s: %s", r, n, p, strerror(errno));
	return 0;
}

/* The next segment of the path, at *at: its length, after the slashes
 * before it; 0 at the end. */
static size_t next_segment(const char *path, size_t *at)
{
	while (path[*at] == '/')
		(*at)++;
	return strcspn(path + *at, "/");
}

/* Open the segment of length n at `at` beneath dirfd and check it.  The
 * fd (>= 0) and its stat, or an HTTP status (< 0, negated). */
static int step(struct walk *w, int dirfd, size_t at, size_t n, struct stat *st)
{
	char name[NAME_MAX + 1];
	int fd;

	if ((n == 1 && w->path_info[at] == '.') || (n == 2 && !strncmp(w->path_info + at, "..", 2)))
		return -refuse(w, 403, "cgi: %s%.*s: a dot segment", w->root, (int)(at + n),
			       w->path_info);
	if (n > NAME_MAX)
		return -open_error(w, at + n, ENAMETOOLONG);
	memcpy(name, w->path_info + at, n);
	name[n] = '\0';
	fd = open_segment(dirfd, name);
	if (fd < 0)
		return -open_error(w, at + n, errno);
	if (fstat(fd, st) < 0) {
		int err = errno;
		close(fd);
		return -open_error(w, at + n, err);
	}
	return fd;
}

static int walk_down(struct walk *w, int rootfd, struct cgi_program *p)
{
	int dirfd = rootfd, rc = 0;
	size_t at = 0, n;
	struct stat st;

	while ((n = next_segment(w->path_info, &at)) > 0) {
		int fd = step(w, dirfd, at, n, &st);
		if (fd < 0) {
			rc = -fd;
			break;
		}
		if (dirfd != rootfd)
			close(dirfd);
		dirfd = fd;
		if (S_ISREG(st.st_mode)) {
			rc = check_program(w, fd, &st, at + n);
			p->name_len = at + n;
			p->dir_len = at ? at - 1 : 0;
			break;
		}
		rc = S_ISDIR(st.st_mode) ? check_common(w, &st, at + n, "directory ")
					 : refuse(w, 403, "cgi: %s%.*s is not a regular file",
						  w->root, (int)(at + n), w->path_info);
		if (rc)
			break;
		at += n;
	}
	if (n == 0 && rc == 0)
		rc = refuse(w, 404, "cgi: %s%s names a directory, not a program", w->root,
			    w->path_info);
	if (rc == 0)
		p->fd = dirfd;
	else if (dirfd != rootfd)
		close(dirfd);
	return rc;
}

int cgi_find_program(int rootfd, const char *root, const char *path_info,
		     const struct cgi_owner *own, struct cgi_program *p, char *why, size_t len)
{
	struct walk w = { .root = strcmp(root, "/") == 0 ? "" : root, .path_info = path_info,
			  .own = own, .why = why, .len = len };
	struct stat st;

	p->fd = -1;
	if (fstat(rootfd, &st) < 0)
		return refuse(&w, 500, "cgi: %s: %s", root, strerror(errno));
	if (st.st_mode & (S_IWGRP | S_IWOTH) || !owner_ok(&w, &st))
		return check_common(&w, &st, 0, "directory ");
	return walk_down(&w, rootfd, p);
}
