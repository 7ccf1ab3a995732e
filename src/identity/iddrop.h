/* iddrop.h -- dropping to an identity for good, and proving it.  With
 * idswitch.h (one thread, and back), the only code that changes an
 * identity. */
#ifndef IDGATE_IDDROP_H
#define IDGATE_IDDROP_H

#include <stddef.h>

#include "idswitch.h"

/* The calling process becomes `to` for good: groups, gid, uid (real,
 * effective and saved; skipped when it is exactly `to` already), then no
 * capability (effective, permitted, inheritable, ambient) and
 * no_new_privs.  Then it proves it: the ids and groups read back exact,
 * no capability left, and neither its old uids, gids and groups nor root
 * can be set again.  Never to uid or gid 0.
 *
 * For a process of one thread: a vfork child (it shares its parent's
 * memory until it execs, so nothing here allocates, locks or signals:
 * system calls on the caller's stack only), or iddrop_process.  NULL, or
 * the step that failed with errno set ("setgroups", "setresgid",
 * "setresuid", "dropping capabilities", "no_new_privs", "verifying the
 * identity", "the old identity could be regained", "root could be
 * regained", "a drop to root"); then the caller must not go on. */
const char *iddrop_child(const struct ident *to);

/* A whole process, before it starts a thread: iddrop_child, refused when
 * the process has more than one thread (the system calls change only the
 * calling one).  Started unprivileged (euid not 0): nothing to drop, only
 * no_new_privs.  Either way the process ends not dumpable (a drop makes
 * it dumpable again when fs.suid_dumpable is 1): no core dump, no ptrace
 * by its own uid.  0, or -1 with the step and errno in err. */
int iddrop_process(const struct ident *to, char *err, size_t len);

#endif
