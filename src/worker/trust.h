/* trust.h -- the worker believes the authenticator, never the front end:
 * who the caller is comes from the sealed verdict in REQ_HEAD (verdict.h),
 * checked against the head it came with, and a request verdict works once.
 * Anything else is refused (403) and logged with why. */
#ifndef IDGATE_TRUST_H
#define IDGATE_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "reqmsg.h"
#include "verdict.h"

struct vdir_conf;

/* The generation's key; request verdicts made before `started_ms` (by the
 * authenticator's clock, now_ms()) are refused: an earlier worker of the
 * pool may have taken them, and this one cannot know which.  It is the
 * worker's start, or, for a worker started because its predecessor died,
 * the moment after the latest verdict any worker of the pool took
 * (`taken`, below; the supervisor reads it when one dies,
 * verdict_trust_boundary):
 * a verdict made later was never presented to one, and the requests that
 * waited for the new worker are served.
 *
 * `taken` (NULL: not kept) is shared by the pool's workers and the
 * supervisor: each request verdict a worker takes raises it to the
 * verdict's time before its handler runs. */
void trust_init(const uint8_t key[VERDICT_KEY_LEN], uint64_t started_ms, uint64_t *taken);
/* Open q's verdict into plain (WIRE_MAX_PAYLOAD bytes; the caller wipes
 * it when the request ends) and fill q's caller from it: principal, user,
 * uid, gid, auth_type, creds, and the level (the lower of the head's and
 * the verdict's).  0, or -1 with why. */
int trust_check(struct wire_req *q, const struct vdir_conf *v, uint8_t *plain, char *why,
		size_t len);

#endif
