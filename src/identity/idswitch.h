/* idswitch.h -- switching one thread's identity, and proving the result.
 * With iddrop.h (a drop for good), the only code that changes an
 * identity: no other file calls a set*id system call (t-layout checks). */
#ifndef IDGATE_IDSWITCH_H
#define IDGATE_IDSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define IDENT_MAX_GROUPS 256

struct ident {
	uid_t uid;
	gid_t gid;
	gid_t groups[IDENT_MAX_GROUPS];
	size_t ngroups;
};

/* The calling thread becomes `to` (groups, then gid, then uid: real,
 * effective and saved), with raw system calls: glibc's wrappers would
 * change every thread of the process.  The result is read back from the
 * kernel and must be exact; anything else aborts the process (a
 * half-switched thread must never serve).  The thread is left not
 * dumpable (the kernel made it dumpable again).  Switching back is the
 * same call with the old identity. */
void idswitch_thread(const struct ident *to);

/* The calling thread, which is exactly `self`, acts as `to`: `to`'s
 * groups, effective (and so file-system) gid and uid, while its real and
 * saved ids stay `self`'s -- as Samba's sec_ctx.c does.  Every access
 * check on files, sockets' peer credentials and what the thread's
 * programs become (the spawner drops them to `to` for good) follow the
 * effective ids; but the kernel lets a process signal, prlimit or
 * otherwise reach a thread whose real or saved uid is its own, and a
 * signal to a thread reaches its whole process: with all three ids the
 * caller's, the caller's own processes could kill the worker (and with
 * rapid_fail stop the pool for everyone) or set its limits.  Exact,
 * verified, not dumpable, aborting otherwise, as idswitch_thread; back
 * with idswitch_thread(self). */
void idswitch_thread_acting(const struct ident *to, const struct ident *self);

/* Who the calling thread acts as: its effective uid and gid and its
 * supplementary groups (idswitch_thread_acting's `to`). */
void idswitch_acting(struct ident *id);

/* Send `sig` to `pid` (kill(2)'s meaning: a negative pid is a process
 * group) with `uid` as the calling thread's effective uid for the moment:
 * signalling a process of another uid needs CAP_KILL otherwise, and `uid`
 * is one the thread may set anyway.  `self` is the thread's identity
 * (exactly, checked before and after): it is restored, or the process
 * aborts.  0, or -1 with errno: the switch was refused (nothing changed,
 * nothing sent) or kill failed. */
int idswitch_kill_as(uid_t uid, const struct ident *self, pid_t pid, int sig);

/* The calling thread's identity as the kernel reports it; a uid (gid)
 * whose real, effective and saved values differ reads as (uid_t)-2. */
void idswitch_current(struct ident *id);

/* Does the calling thread have exactly this identity (all three uids and
 * gids, and the same supplementary groups)? */
bool idswitch_is(const struct ident *id);

/* The three system calls and nothing else, for iddrop.c: NULL, or the one
 * that failed ("setgroups", "setresgid", "setresuid") with errno set.
 * Only system calls on the caller's stack: safe in a vfork child. */
const char *idswitch_raw(const struct ident *to);

/* An account's identity for impersonation: uid, primary gid and the
 * supplementary groups (getgrouplist) that the policy allows; the others
 * are left out.  -1 with a reason if the account cannot be impersonated:
 * missing, or its uid or primary gid outside the policy. */
struct id_policy;
int ident_for_user(const char *user, const struct id_policy *pol, struct ident *id, char *why,
		   size_t len);

#endif
