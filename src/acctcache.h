/* acctcache.h -- local accounts (NSS) and PAM account results, cached for
 * [server] account_cache so that a busy user costs one lookup, not one
 * per request. */
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
	bool pam_known;  /* a PAM account result is cached */
	int pam_code;
	char pam_msg[160];
};

struct id_policy;
/* `ids` (kept, not copied) says which groups impersonation leaves out. */
void acctcache_init(uint64_t ttl_ms, const struct id_policy *ids);
/* The account `name` (cached, or looked up now).  Caller frees with
 * account_free(). */
void account_get(const char *name, struct account *out);
void account_free(struct account *a);
/* Remember a PAM account result for `name`. */
void acctcache_set_pam(const char *name, int code, const char *msg);
bool account_in_group(const struct account *a, gid_t gid);

#endif
