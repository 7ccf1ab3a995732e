/* idpolicy.h -- which ids impersonation may use.  One rule, read by every
 * process that decides or enforces it: the front end (403 before a worker
 * is asked), the worker (the identity it switches to), the spawner (what a
 * program may run as), and the walls of an impersonating worker (its user
 * namespace's maps and its seccomp filter).
 *
 *   uids:  [min_uid, max_uid]
 *   gids:  [min_gid, max_gid], plus the groups of impersonate_groups
 *          (e.g. "users", gid 100: the primary group of many sites)
 *
 * never 0, never (id_t)-1.  The ceiling keeps out nobody/nogroup (65534),
 * systemd's dynamic users (61184-65519) and subordinate id ranges
 * (100000+), the root of users' rootless containers. */
#ifndef IDGATE_IDPOLICY_H
#define IDGATE_IDPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IDPOL_MAX_EXTRA 32 /* impersonate_groups */

struct id_policy {
	uint32_t min_uid, max_uid;
	uint32_t min_gid, max_gid;
	uint32_t extra_gids[IDPOL_MAX_EXTRA];
	size_t nextra;
};

bool idpol_uid_ok(const struct id_policy *p, uint32_t uid);
bool idpol_gid_ok(const struct id_policy *p, uint32_t gid);

/* Why `uid` (primary `gid`) of `user` cannot be impersonated, in `why`;
 * false when it can. */
bool idpol_refuses_account(const struct id_policy *p, const char *user, uint32_t uid,
			   uint32_t gid, char *why, size_t len);

/* Keep in groups[] only what the policy allows (order kept); the others
 * are listed in `left_out` as "name(gid) ..." (may be NULL).  Returns the
 * new count. */
size_t idpol_filter_groups(const struct id_policy *p, uint32_t *groups, size_t n, char *left_out,
			   size_t len);

/* The ids a confined worker may hold: `own` (its own ids, any value) and
 * the policy's.  As sorted, disjoint intervals [lo, hi] (overlapping ones
 * merged); at most max.  Returns the count, or -1 if max is too small. */
struct id_interval {
	uint32_t lo, hi;
};
int idpol_intervals(const struct id_policy *p, bool gids, const uint32_t *own, size_t nown,
		    struct id_interval *out, size_t max);

#endif
