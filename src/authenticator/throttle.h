/* throttle.h -- the brake on password guessing over Basic.
 *
 * What sshd, pam_faildelay and fail2ban (or pam_faillock) do together:
 * - every failed attempt is answered only after THROTTLE_FAIL_DELAY_MS,
 *   the same for a wrong password and an unknown user (the front end
 *   suspends the connection meanwhile: no thread waits, authq_hold);
 * - an address or an account with THROTTLE_ADDR_LIMIT or
 *   THROTTLE_ACCT_LIMIT failures is locked: for THROTTLE_LOCK_MS after its
 *   last failure, doubled by each failure past the limit, up to
 *   THROTTLE_LOCK_MAX_MS.  While locked, an attempt is refused (429 with
 *   Retry-After) before PAM is asked: a locked account's right password
 *   is refused too, or the lock would be a password oracle.
 * An IPv6 address counts by its /64 (one host usually holds a whole /64).
 * Failures are forgotten THROTTLE_FORGET_MS after the last one; an
 * account's also when it logs in (its owner knows the password); an
 * address's never by a success, or one valid account would buy its
 * address guesses at all the others.  Attempts in flight count: a burst
 * of parallel guesses cannot pass the limit while PAM still thinks.
 *
 * The tables are fixed (a cache): a new entry takes the place of the one
 * whose last failure is oldest in its set, and the hash is seeded at
 * random, so nobody can aim collisions at one account's entry.
 *
 * Pure logic with the time passed in: the unit tests drive it. */
#ifndef IDGATE_THROTTLE_H
#define IDGATE_THROTTLE_H

#include <stdint.h>

#define THROTTLE_FAIL_DELAY_MS 2000 /* pam_unix's own default delay */
#define THROTTLE_ADDR_LIMIT 10
#define THROTTLE_ACCT_LIMIT 5
#define THROTTLE_LOCK_MS 30000
#define THROTTLE_LOCK_MAX_MS (15 * 60 * 1000)
#define THROTTLE_FORGET_MS (60 * 60 * 1000)

enum throttle_by { THROTTLE_NONE = 0, THROTTLE_BY_ADDRESS, THROTTLE_BY_ACCOUNT };

struct throttle_verdict {
	enum throttle_by by;    /* NONE: go ahead, the attempt is in flight */
	int in_flight;          /* refused for attempts in flight, not a lock */
	unsigned failures;      /* of what refused */
	unsigned lock_s;        /* its lock */
	unsigned retry_after_s; /* from now */
	char key[72];           /* the address (IPv6: its /64) or the account */
};

enum throttle_result { THROTTLE_OK, THROTTLE_FAILED, THROTTLE_ABANDONED };

/* A failed attempt's counts, after it. */
struct throttle_counts {
	unsigned addr_failures, acct_failures;
	unsigned addr_lock_s, acct_lock_s; /* the lock this failure set, 0: none */
	char addr_key[72];
};

/* Empty tables, a fresh random seed. */
void throttle_init(void);
/* Before PAM is asked for `user`'s password from `addr`. */
void throttle_begin(const char *addr, const char *user, uint64_t now_ms,
		    struct throttle_verdict *v);
/* The end of an attempt that began (ABANDONED: PAM gave no answer, the
 * client left or the helper failed: neither a failure nor a success). */
void throttle_end(const char *addr, const char *user, enum throttle_result r, uint64_t now_ms,
		  struct throttle_counts *out);
/* The lock after `failures` when `limit` of them start one; 0: none. */
uint64_t throttle_lock_ms(unsigned failures, unsigned limit);

#endif
