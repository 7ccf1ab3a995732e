/* replay.h -- the authenticator's replay cache: the Kerberos authenticators
 * it has accepted, until no clock could take them again.
 *
 * MIT's own cache (file2) costs about 25 system calls and 30 µs of CPU an
 * accept on the project's standard box (it opens, locks, probes and
 * rewrites a file each time); this one is a hash table in a file mapped by
 * every authenticator that uses replay_cache_dir (the one serving and, in
 * a reload, the one draining), locked with a process-shared robust mutex:
 * an accept costs no system call.  It lives in a file so that a restart
 * (kill -9, a reload, a crash) forgets nothing: a token captured before is
 * still refused after.
 *
 * A token is reserved before MIT decrypts it and confirmed after (or
 * released when MIT refuses it): two authenticators cannot both take the
 * same one, and nobody can fill the cache with authenticators that MIT
 * would refuse (a reservation that is neither confirmed nor released --
 * its process died -- lapses after REPLAY_PENDING_S).
 *
 * An entry lives two clock skews: an authenticator MIT accepted at t0 had
 * |ctime - t0| < skew, so no clock after t0 + 2 skew takes it again
 * (MIT checks |ctime - now| < skew against the same wall clock). */
#ifndef IDGATE_REPLAY_H
#define IDGATE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define REPLAY_TAG_LEN 16
#define REPLAY_PENDING_S 60
#define REPLAY_FILE "idgate.rcache"

struct replay_tag {
	uint8_t b[REPLAY_TAG_LEN];
};

/* The tag of one authenticator ciphertext (a truncated SHA-256). */
void replay_tag_of(const uint8_t *cipher, size_t len, struct replay_tag *out);

/* Open (or make) dir/REPLAY_FILE; entries live 2 * skew_s seconds.  The
 * process keeps it mapped.  0, or -1 with err. */
int replay_open(const char *dir, unsigned skew_s, char *err, size_t len);
void replay_close(void);

enum replay_answer {
	REPLAY_FRESH = 0,  /* reserved (or confirmed, released) */
	REPLAY_SEEN = 1,   /* one of the tags was accepted before, or is being */
	REPLAY_FULL = -1,  /* no room (the table is at its largest), or cannot grow */
};

/* Reserve every tag, atomically: REPLAY_SEEN (nothing reserved) if any is
 * there already, live or reserved.  A tag may come twice in t (the same
 * ciphertext at two places of a token): it is one entry. */
enum replay_answer replay_reserve(const struct replay_tag *t, size_t n, char *err, size_t len);
/* MIT accepted the token: the reserved tags live their full time. */
void replay_confirm(const struct replay_tag *t, size_t n);
/* MIT refused it: the reservations go. */
void replay_release(const struct replay_tag *t, size_t n);

/* For tests and metrics: slots in use (live, reserved or lapsed) and the
 * table's size. */
void replay_stats(uint64_t *used, uint64_t *slots);

#endif
