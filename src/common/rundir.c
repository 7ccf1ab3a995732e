/* rundir.c -- the runtime directory of an instance (see rundir.h). */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char *rundir_ccache_path(const char *dir)
{
	return xasprintf("%s/ccache", dir);
}

static int mkdir_parents(const char *path, char *err, size_t len)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
			snprintf(err, len, "cannot create %s: %s", buf, strerror(errno));
			return -1;
		}
		if (!c)
			return 0;
		*p = c;
	}
}

/* root's, a directory, not writable by group or others */
static int check_owned(const char *path, char *err, size_t len)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		snprintf(err, len, "runtime_dir: %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(err, len, "runtime_dir: %s must be a directory of root's, not writable "
			 "by others", path);
		return -1;
	}
	return 0;
}

int rundir_check_searchable(const char *path, bool existing_only, char *err, size_t len)
{
	char buf[PATH_MAX];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		if (stat(buf, &st) < 0) {
			if (existing_only && errno == ENOENT)
				return 0; /* what does not exist yet, we create 0755 */
			snprintf(err, len, "runtime_dir: %s: %s", buf, strerror(errno));
			return -1;
		}
		if (!(st.st_mode & S_IXOTH)) {
			snprintf(err, len, "runtime_dir: %s (mode %04o) is not searchable by others: "
				 "an impersonated handler could not reach its delegated credentials "
				 "below it; choose a runtime_dir whose parents are",
				 buf, (unsigned)(st.st_mode & 07777));
			return -1;
		}
		if (!c)
			return 0;
		*p = c;
	}
}

int rundir_make(const char *dir, bool impersonating, char *err, size_t len)
{
	char *cc = rundir_ccache_path(dir);
	int rc = -1;

	if (mkdir_parents(cc, err, len) < 0)
		goto done;
	if (geteuid() == 0 && (check_owned(dir, err, len) < 0 || check_owned(cc, err, len) < 0))
		goto done;
	if (impersonating && rundir_check_searchable(cc, false, err, len) < 0)
		goto done;
	rc = 0;
done:
	free(cc);
	return rc;
}

int rundir_make_private(const char *dir, uid_t uid, gid_t gid, char *err, size_t len)
{
	struct stat st;
	bool root = geteuid() == 0;

	if (mkdir_parents(dir, err, len) < 0)
		return -1;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, len, "%s: not a directory", dir);
		return -1;
	}
	if (root && (st.st_uid != uid || st.st_gid != gid) && chown(dir, uid, gid) < 0) {
		snprintf(err, len, "%s: chown: %s", dir, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0) {
		snprintf(err, len, "%s: chmod 0700: %s", dir, strerror(errno));
		return -1;
	}
	if (!root && st.st_uid != geteuid()) {
		snprintf(err, len, "%s: owned by uid %u, not us", dir, (unsigned)st.st_uid);
		return -1;
	}
	return 0;
}

static long holder_pid(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int rundir_lock(const char *dir, char *err, size_t len)
{
	char *path = xasprintf("%s/idgated.pid", dir), pid[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	int rc = -1;

	if (fd < 0) {
		snprintf(err, len, "runtime_dir: %s: %s", path, strerror(errno));
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, len, "runtime_dir %s is in use by another idgated (pid %ld): give "
			 "each instance its own runtime_dir", dir, holder_pid(fd));
		close(fd);
		goto done;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid)) {
		snprintf(err, len, "runtime_dir: writing %s: %s", path, strerror(errno));
		close(fd);
		goto done;
	}
	rc = 0; /* fd stays open: the lock lives as long as we do */
done:
	free(path);
	return rc;
}
