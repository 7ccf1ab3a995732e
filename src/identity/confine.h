/* confine.h -- the walls around a pool worker that impersonates callers. */
#ifndef IDGATE_CONFINE_H
#define IDGATE_CONFINE_H

#include <stddef.h>
#include <sys/types.h>

#include "idswitch.h"

struct id_policy;

/* What a worker may become: its own identity, or what `ids` allows. */
struct confine_plan {
	struct ident pool;            /* the pool's service identity */
	const struct id_policy *ids;  /* [server] min_uid, max_uid, ... */
};

/* The kernel takes at most 340 lines per map. */
#define CONFINE_MAX_MAP_LINES 340

/* Child, first thing after fork: enter a new user namespace (and a mount
 * namespace it owns) and wait until the supervisor has mapped it.  `to_parent` and `from_parent` are pipe
 * ends; both are closed.  0 or -1 with err. */
int confine_enter_userns(int to_parent, int from_parent, char *err, size_t len);

/* Child, inside the namespace, before confine_worker: a private tmpfs
 * over `dir` (an existing directory), owned by `owner`, mode 1733.  0 or
 * -1 with err. */
#define CONFINE_TMPFS_SIZE "64m"
#define CONFINE_TMPFS_INODES "8192"
int confine_private_tmpfs(const char *dir, const struct ident *owner, char *err, size_t len);

/* Supervisor: map the child's namespace: the pool's own ids and the ids
 * of the policy, nothing else -- so root, system accounts and system
 * groups cannot be reached from inside, whatever the child does. */
int confine_write_maps(pid_t child, const struct confine_plan *p, char *err, size_t len);

/* Child, inside the namespace, single-threaded: become the pool identity
 * (idswitch_thread: aborts unless exact), keep only CAP_SETUID and
 * CAP_SETGID, lock the securebits, set no_new_privs, and load the seccomp
 * filter.  Verifies the result.  0 or -1 with err. */
int confine_worker(const struct confine_plan *p, char *err, size_t len);

struct pool_conf;

/* The pool's service identity: its uid, gid and the user's groups. */
int confine_pool_ident(const struct pool_conf *pool, struct ident *id);

/* 0 when fs.suid_dumpable keeps an impersonating worker from ptrace
 * (0 or 2), else -1 with why in err. */
#define CONFINE_SUID_DUMPABLE "/proc/sys/fs/suid_dumpable"
int confine_check_dumpable(char *err, size_t len);

/* The seccomp filter alone (tests). */
int confine_seccomp(const struct confine_plan *p, char *err, size_t len);
/* The authenticator's filter: no exec, no set*id, no namespaces, no
 * ptrace or other processes' memory.  0, or -1 with err. */
int confine_authenticator(char *err, size_t len);

#endif
