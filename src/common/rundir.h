/* rundir.h -- [server] runtime_dir, the one directory of an instance's
 * runtime state:
 *
 *   RUNTIME_DIR/idgated.pid   the instance's lock (flock) and its pid
 *   RUNTIME_DIR/ccache        where each impersonating worker mounts its
 *                             private tmpfs for delegated credentials
 *   RUNTIME_DIR/control       idgatectl's socket, unless control_socket
 *                             says otherwise
 *
 * Two instances never share one: the second one's lock fails. */
#ifndef IDGATE_RUNDIR_H
#define IDGATE_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Create the directory (and its parents, 0755) and the ccache mount point.
 * When we run as root: both must be root's and writable by nobody else.
 * With `impersonating`: every directory from / to the mount point must be
 * searchable by others, or a handler running as the caller could not
 * reach its own credentials below it.  0, or -1 with err. */
int rundir_make(const char *dir, bool impersonating, char *err, size_t len);

/* Take the instance lock: RUNTIME_DIR/idgated.pid, locked for as long as
 * this process lives (the descriptor is close-on-exec and no child keeps
 * it), holding our pid.  0, or -1 with err (another idgated holds it: its
 * pid is named). */
int rundir_lock(const char *dir, char *err, size_t len);

/* Every directory from / down to `path` is searchable by others (a
 * component that does not exist yet passes with `existing_only`).  0, or
 * -1 with err naming the first that is not. */
int rundir_check_searchable(const char *path, bool existing_only, char *err, size_t len);

/* A directory of one user's alone (mode 0700, owned by uid:gid when we are
 * root; parents made 0755): e.g. the front end's replay cache.  Refuses a
 * symbolic link or a directory owned by somebody else.  0, or -1 with err. */
int rundir_make_private(const char *dir, uid_t uid, gid_t gid, char *err, size_t len);

/* The mount point's path, for a runtime directory (caller frees). */
char *rundir_ccache_path(const char *dir);

#endif
