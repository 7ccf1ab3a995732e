/* acctcache.h -- local accounts (NSS) and PAM account results, cached for
 * [server] account_cache so that a busy user costs one lookup, not one
 * per request.  A PAM result belongs to an account AND the client
 * address it was asked for: the helper gives PAM the address (PAM_RHOST),
 * and a PAM stack may decide by it (pam_access, pam_time's rules by
 * host), so one address's answer must never serve another. */
#ifndef IDGATE_ACCTCACHE_H
#define IDGATE_ACCTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct account {
	bool exists;
	uid_t uid;
	gid_t gid;
	gid_t *groups;   /* supplementary groups, primary included (getgrouplist) */
	size_t ngroups;
	/* the groups impersonation leaves out (idpolicy.h), "name(gid) ..." */
	char groups_left_out[200];
};

struct id_policy;
/* `ids` (kept, not copied) says which groups impersonation leaves out. */
void acctcache_init(uint64_t ttl_ms, const struct id_policy *ids);
/* The account `name` (cached, or looked up now).  Caller frees with
 * account_free(). */
void account_get(const char *name, struct account *out);
void account_free(struct account *a);
/* The PAM account result cached for `name` asked from client address
 * `rhost`: true with *code and msg filled, or false. */
bool acctcache_get_pam(const char *name, const char *rhost, int *code, char *msg, size_t len);
/* Remember a PAM account result for `name` from `rhost`. */
void acctcache_set_pam(const char *name, const char *rhost, int code, const char *msg);
bool account_in_group(const struct account *a, gid_t gid);

#endif
