/* modroot.h -- what the modules that serve a directory (static, cgi,
 * spool) share: `root` opened once at init, and every path below it
 * resolved by the kernel with openat2(RESOLVE_BENEATH), so that no "..",
 * absolute symlink or magic link leads out of it. */
#ifndef IDGATE_MODROOT_H
#define IDGATE_MODROOT_H

#include <stdbool.h>

#include "idgate/module.h"

/* openat2() of `path` beneath dirfd, close-on-exec (and no controlling
 * terminal, unless O_PATH); `no_symlinks` refuses symlinks on the way as
 * well.  An fd, or -1 with errno (ENOSYS: a kernel before 5.6). */
int modroot_openat(int dirfd, const char *path, int flags, bool no_symlinks);

/* `root` as a directory (O_PATH), after a probe that opens "." beneath it
 * with probe_flags: a kernel without openat2() is refused, and so is any
 * other failure of the probe when `strict`.  The fd, or -1 after
 * ini->ops->error(). */
int modroot_open(const struct idg_init *ini, const char *root, int probe_flags, bool strict);

/* A copy of root without trailing slashes ("/" stays), for messages and
 * names; NULL when out of memory. */
char *modroot_name(const char *root);

#endif
