/* sesscache.h -- the session cookies' verdicts (verdict.h,
 * VERDICT_SESSION) the front end keeps, so that a cookie the
 * authenticator has opened once is not sent to it again, on this
 * connection or another from the same client address, until that verdict
 * expires (the cookie's expiry or account_cache, whichever is first).  The
 * address is part of the key because the PAM result behind the verdict is
 * (account_cache: PAM sees PAM_RHOST, pam_access rules by host).
 *
 * It is a cache of what the front end could ask for again at any time
 * with the cookie it holds: it learns nothing new from it and can forge
 * nothing with it (a worker takes the verdict only with the digest of
 * the cookie it names).  A fixed table, one entry per slot: a new verdict
 * replaces whatever its slot held, so memory stays bounded whatever
 * clients send, and a collision only costs a question. */
#ifndef IDGATE_SESSCACHE_H
#define IDGATE_SESSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "verdict.h"

#define SESSCACHE_SLOTS 4096u

/* Who the caller is, as the authenticator told the front end: what a kept
 * verdict (a connection's, a session cookie's) names. */
struct fe_who {
	char *principal, *user;   /* NULL: none */
	uid_t uid;
	gid_t gid;
	int level;
	bool anonymous;
	uint32_t scheme;          /* enum authn_scheme */
	char *groups_left_out;
};

void fe_who_copy(struct fe_who *dst, const struct fe_who *src);
void fe_who_free(struct fe_who *w);

/* Which cookie, for which vdir, from which client address. */
struct sesscache_key {
	uint32_t vdir;
	const uint8_t *digest;    /* VERDICT_DIGEST_LEN bytes: the cookie's value */
	const char *client;
};

/* Keep the verdict for `k` until end_ms (now_ms() clock); its bytes and
 * `who` are copied. */
void sesscache_put(const struct sesscache_key *k, const uint8_t *verdict, size_t len,
		   uint64_t end_ms, const struct fe_who *who);
/* The verdict kept for `k`, if still in time at `now`: copies into
 * *verdict (free) and *who (fe_who_free).  true when found. */
bool sesscache_get(const struct sesscache_key *k, uint64_t now, uint8_t **verdict,
		   size_t *len, struct fe_who *who);
/* Forget everything (the unit tests). */
void sesscache_clear(void);

#endif
