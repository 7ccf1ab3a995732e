/* modroot.c -- root directories of modules, and confined lookups in them. */
#include "modroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int modroot_openat(int dirfd, const char *path, int flags, bool no_symlinks)
{
	/* O_PATH takes no other open flags: openat2() would say EINVAL */
	int extra = (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
	struct open_how how = {
		.flags = (uint64_t)(flags | extra),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
			   (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int modroot_open(const struct idg_init *ini, const char *root, int probe_flags, bool strict)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), probe;

	if (fd < 0) {
		ini->ops->error(ini, "root", "%s: %s", root, strerror(errno));
		return -1;
	}
	probe = modroot_openat(fd, ".", probe_flags, false);
	if (probe >= 0) {
		close(probe);
		return fd;
	}
	if (errno == ENOSYS)
		ini->ops->error(ini, NULL, "this kernel has no openat2() (Linux 5.6 or later is "
				"needed to confine paths)");
	else if (strict)
		ini->ops->error(ini, "root", "%s: %s", root, strerror(errno));
	else
		return fd;
	close(fd);
	return -1;
}

char *modroot_name(const char *root)
{
	char *s = strdup(root);

	for (size_t n = s ? strlen(s) : 0; n > 1 && s[n - 1] == '/'; n--)
		s[n - 1] = '\0';
	return s;
}
