/* modload.c -- dlopen of handler modules, with the checks sshd's
 * StrictModes applies to its own files: a module runs inside every
 * process of idgated, so the file, modules_dir and every directory above
 * it up to / must be owned by root (or the user running idgated) and
 * writable by nobody else -- or nobody but root could have put it there.
 * The path is walked one directory at a time from /, each opened without
 * following links and checked through its descriptor; the file is
 * checked through its descriptor too, and that very descriptor is what
 * dlopen() loads (/proc/self/fd/N): swapping a path after the checks
 * changes nothing. */
#include "modload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Every module file this process has loaded.  Its descriptor stays open
 * as long as the process (modules are never unloaded): the loader knows
 * an object by the name it was opened with, /proc/self/fd/N, and N must
 * never name another file while that object is loaded.  A file loaded
 * before (the same device and inode: a reload) is not loaded again. */
static struct loaded {
	dev_t dev;
	ino_t ino;
	int fd;
	void *dl;
} *loaded;
static size_t nloaded;

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static int check_owner_mode(const struct stat *st, const char *what, const char *path,
			    char *err, size_t errlen)
{
	if (!trusted_owner(st->st_uid)) {
		snprintf(err, errlen, "%s %s is owned by uid %u, not root", what, path,
			 (unsigned)st->st_uid);
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s %s is writable by group or others", what, path);
		return -1;
	}
	return 0;
}

/* A directory above modules_dir.  One that others may write is allowed
 * only when it is sticky (/tmp): there nobody can rename or remove an
 * entry of another's, and the entry we go on to is checked in turn. */
static int check_ancestor(const struct stat *st, const char *dir, const char *at, char *err,
			  size_t errlen)
{
	const char *why = NULL;
	char buf[64];

	if (!S_ISDIR(st->st_mode)) {
		why = "is not a directory";
	} else if (!trusted_owner(st->st_uid)) {
		snprintf(buf, sizeof(buf), "is owned by uid %u, not root", (unsigned)st->st_uid);
		why = buf;
	} else if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX)) {
		why = "is writable by group or others";
	}
	if (!why)
		return 0;
	snprintf(err, errlen, "modules_dir %s: directory %s %s", dir, at, why);
	return -1;
}

static int check_dir_itself(const struct stat *st, const char *dir, char *err, size_t errlen)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(err, errlen, "modules_dir %s is not a directory", dir);
		return -1;
	}
	return check_owner_mode(st, "modules_dir", dir, err, errlen);
}

/* Open the next directory below fd (closed), without following a link,
 * and check it; `at` is its whole path.  The new fd, or -1 with err. */
static int step_into(int fd, const char *name, const char *dir, const char *at, bool last,
		     char *err, size_t errlen)
{
	struct stat st;
	int next = *name ? openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			 : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (next < 0 || fstat(next, &st) < 0) {
		snprintf(err, errlen, "modules_dir %s: %s: %s", dir, at, strerror(errno));
		goto fail;
	}
	if (fd >= 0)
		close(fd);
	fd = -1;
	if ((last ? check_dir_itself(&st, dir, err, errlen)
		  : check_ancestor(&st, dir, at, err, errlen)) < 0)
		goto fail;
	return next;
fail:
	if (fd >= 0)
		close(fd);
	if (next >= 0)
		close(next);
	return -1;
}

/* modules_dir, resolved (links followed, as sshd does) and then walked
 * from / one checked directory at a time.  Its fd, or -1 with err. */
static int open_modules_dir(const char *dir, char *err, size_t errlen)
{
	char *real = realpath(dir, NULL), *p;
	int fd;

	if (!real) {
		snprintf(err, errlen, "modules_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	fd = step_into(-1, "", dir, "/", strcmp(real, "/") == 0, err, errlen);
	for (p = real + 1; fd >= 0 && *p; ) {
		char *slash = strchr(p, '/'), *name = p;
		if (slash)
			*slash = '\0';
		p = slash ? slash + 1 : p + strlen(p);
		fd = step_into(fd, name, dir, real, !*p, err, errlen);
		if (slash)
			*slash = '/';
	}
	free(real);
	return fd;
}

static int check_descriptor(const struct idg_module *d, const char *name, char *err,
			    size_t errlen)
{
	if (d->abi_version != IDG_MODULE_ABI_VERSION) {
		snprintf(err, errlen, "module ABI version %u, idgated needs %u", d->abi_version,
			 IDG_MODULE_ABI_VERSION);
		return -1;
	}
	if (!d->name || strcmp(d->name, name) != 0) {
		snprintf(err, errlen, "module calls itself '%s', expected '%s'",
			 d->name ? d->name : "(null)", name);
		return -1;
	}
	if (!d->handle || !d->keys || d->impersonation > IDG_IMPERSONATION_REQUIRED ||
	    d->methods == 0) {
		snprintf(err, errlen, "module descriptor is incomplete (handle, keys, methods)");
		return -1;
	}
	return 0;
}

/* modules_dir/NAME.so, opened beneath the checked directory and checked
 * itself.  Its fd, or -1 with err. */
static int open_module_file(const char *dir, const char *path, const char *name,
			    struct stat *st, char *err, size_t errlen)
{
	char file[NAME_MAX + 1];
	int dirfd = open_modules_dir(dir, err, errlen), fd = -1;

	if (dirfd < 0)
		return -1;
	snprintf(file, sizeof(file), "%s.so", name);
	fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	close(dirfd);
	if (fd < 0 || fstat(fd, st) < 0) {
		snprintf(err, errlen, "cannot load %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "cannot load %s: not a regular file", path);
		goto fail;
	}
	if (check_owner_mode(st, "module", path, err, errlen) < 0)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* dlopen() of the checked descriptor (see `loaded`).  Takes fd: it is
 * kept or closed.  The handle, or NULL with err. */
static void *load_checked_fd(int fd, const struct stat *st, const char *path, char *err,
			     size_t errlen)
{
	char name[64];
	const char *why;
	void *dl;

	for (size_t i = 0; i < nloaded; i++) {
		if (loaded[i].dev == st->st_dev && loaded[i].ino == st->st_ino) {
			close(fd);
			return loaded[i].dl;
		}
	}
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	dl = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		why = dlerror();
		if (strncmp(why, name, strlen(name)) == 0 && why[strlen(name)] == ':')
			why += strlen(name) + 1 + (why[strlen(name) + 1] == ' ');
		snprintf(err, errlen, "cannot load %s: %s", path, why);
		close(fd);
		return NULL;
	}
	loaded = xreallocarray(loaded, nloaded + 1, sizeof(*loaded));
	loaded[nloaded++] = (struct loaded){ .dev = st->st_dev, .ino = st->st_ino, .fd = fd,
					     .dl = dl };
	return dl;
}

struct module *module_load(const char *dir, const char *name, char *err, size_t errlen)
{
	struct module *m = NULL;
	char *path = NULL;
	struct stat st;
	void *dl;
	const struct idg_module *desc;
	int fd;

	if (!str_is_token(name)) {
		snprintf(err, errlen, "'%s' is not a module name", name);
		goto done;
	}
	path = xasprintf("%s/%s.so", dir, name);
	fd = open_module_file(dir, path, name, &st, err, errlen);
	if (fd < 0 || !(dl = load_checked_fd(fd, &st, path, err, errlen)))
		goto done;
	desc = dlsym(dl, IDG_MODULE_SYMBOL);
	if (!desc) {
		snprintf(err, errlen, "%s does not export '%s'", path, IDG_MODULE_SYMBOL);
		goto done;
	}
	if (check_descriptor(desc, name, err, errlen) < 0)
		goto done;
	m = xcalloc(1, sizeof(*m));
	m->name = xstrdup(name);
	m->path = path;
	m->dl = dl;
	m->desc = desc;
	path = NULL;
done:
	free(path);
	return m;
}

void module_unload(struct module *m)
{
	if (!m)
		return;
	/* Modules stay mapped: a forked child may still run their code, and
	 * unmapping buys nothing in a process that is about to exit. */
	free(m->name);
	free(m->path);
	free(m);
}

const struct idg_key *module_key(const struct module *m, const char *key)
{
	for (const struct idg_key *k = m->desc->keys; k->name; k++)
		if (strcmp(k->name, key) == 0)
			return k;
	return NULL;
}

const char *impersonation_option_name(enum idg_impersonation o)
{
	switch (o) {
	case IDG_IMPERSONATION_NOT_ALLOWED: return "not_allowed";
	case IDG_IMPERSONATION_ALLOWED: return "allowed";
	case IDG_IMPERSONATION_REQUIRED: return "required";
	}
	return "?";
}

static const struct { const char *name; unsigned bit; } methods[] = {
	{ "GET", IDG_METHOD_GET }, { "HEAD", IDG_METHOD_HEAD },
	{ "POST", IDG_METHOD_POST }, { "PUT", IDG_METHOD_PUT },
	{ "DELETE", IDG_METHOD_DELETE }, { "OPTIONS", IDG_METHOD_OPTIONS },
	{ "PATCH", IDG_METHOD_PATCH },
};

unsigned method_bit(const char *method)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

void methods_allow_header(unsigned bits, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		if (!(bits & methods[i].bit))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", methods[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}
