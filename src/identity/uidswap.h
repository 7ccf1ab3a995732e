/* uidswap.h -- switching one thread's identity, and proving the result. */
#ifndef IDGATE_UIDSWAP_H
#define IDGATE_UIDSWAP_H

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

/* The calling thread becomes `to` (groups, then gid, then uid), with raw
 * system calls: glibc's wrappers would change every thread of the process.
 * The result is read back from the kernel and must be exact; anything
 * else aborts the process (a half-switched thread must never serve). */
void uidswap_thread(const struct ident *to);

/* The calling thread's identity as the kernel reports it. */
void uidswap_current(struct ident *id);

/* Does the calling thread have exactly this identity? */
bool uidswap_is(const struct ident *id);

/* An account's identity for impersonation: uid, primary gid and the
 * supplementary groups (getgrouplist) that the policy allows; the others
 * are left out.  -1 with a reason if the account cannot be impersonated:
 * missing, or its uid or primary gid outside the policy. */
struct id_policy;
int ident_for_user(const char *user, const struct id_policy *pol, struct ident *id, char *why,
		   size_t len);

#endif
