/* verdict.h -- who the caller is, as the authenticator says it to a pool
 * worker, through the front end that cannot read or forge it.
 *
 * The supervisor makes a random key for each generation and gives it to
 * the authenticator and the pool workers only (the front end and the PAM
 * helper wipe their inherited copy before they do anything else).  A
 * verdict is sealed with AES-256-GCM under that key: the front end passes
 * the sealed bytes along in REQ_HEAD and learns nothing from them (the
 * delegated credentials inside included), and any byte it changes makes
 * the worker's open fail.
 *
 * What a verdict is bound to, checked by the worker against the request
 * head it came with:
 *   VERDICT_REQUEST     one request: its id, vdir, method, path and the
 *                       SHA-256 of its Authorization header; usable once
 *                       (the worker remembers every id until it expires)
 *                       and for VERDICT_REQUEST_TTL_MS after it was made
 *   VERDICT_CONNECTION  connection_auth: later requests of one connection
 *                       to one vdir, without credentials of their own; it
 *                       names the connection and lasts until the
 *                       Kerberos context ends or the account check's
 *                       cache time (account_cache) is over, whichever is
 *                       first; it never carries credentials
 *   VERDICT_SESSION     a session cookie's caller, for later requests to
 *                       one vdir that bring the same cookie, on any
 *                       connection: it names the SHA-256 of the cookie's
 *                       value (in authz_digest, which the front end's
 *                       request head then carries) and lasts until the
 *                       cookie expires or account_cache is over, whichever
 *                       is first; it never carries credentials.  Whoever
 *                       holds the cookie could ask for it anyway.
 *
 * Sealed format: version (1 byte), nonce (12), ciphertext, tag (16); the
 * version is also the associated data.  */
#ifndef IDGATE_VERDICT_H
#define IDGATE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define VERDICT_KEY_LEN 32
#define VERDICT_ID_LEN 16
#define VERDICT_DIGEST_LEN 32
#define VERDICT_REQUEST_TTL_MS 60000u
#define VERDICT_OVERHEAD (1 + 12 + 16)

enum verdict_kind { VERDICT_REQUEST = 1, VERDICT_CONNECTION = 2, VERDICT_SESSION = 3 };

struct verdict {
	uint32_t kind;            /* enum verdict_kind */
	uint8_t id[VERDICT_ID_LEN];
	uint64_t issued_ms, expires_ms; /* CLOCK_MONOTONIC (now_ms()), one clock
					   for every process of the machine */
	/* bindings */
	uint32_t vdir;
	uint64_t conn_id;
	const char *request_id, *method, *path; /* VERDICT_REQUEST; else NULL */
	uint8_t authz_digest[VERDICT_DIGEST_LEN]; /* SHA-256 of the Authorization
						     value; zeros: none (of the
						     cookie: VERDICT_SESSION) */
	/* who */
	const char *principal, *user; /* NULL: anonymous / no local account */
	uint32_t uid, gid;            /* (uint32_t)-1 without an account */
	uint32_t level;               /* enum idg_level, the most the caller allows */
	uint32_t auth_type;           /* enum wire_auth_type */
	const void *creds;            /* delegated credentials, or NULL */
	size_t creds_len;
};

/* A fresh random key; 0 or -1. */
int verdict_new_key(uint8_t key[VERDICT_KEY_LEN]);
/* Fill v->id with a random id; 0 or -1. */
int verdict_new_id(struct verdict *v);
/* SHA-256 of an Authorization value (NULL: zeros). */
void verdict_digest(const char *authorization, uint8_t out[VERDICT_DIGEST_LEN]);
/* SHA-256 of a session cookie's value (VERDICT_SESSION). */
void verdict_digest_bytes(const void *p, size_t n, uint8_t out[VERDICT_DIGEST_LEN]);

/* Seal v into out (which the caller frees, wiping it: credentials).  0, or
 * -1 (too large, or the cipher failed). */
int verdict_seal(const uint8_t key[VERDICT_KEY_LEN], const struct verdict *v, struct wbuf *out);
/* Open `len` sealed bytes into plain (a buffer of at least `len` bytes
 * that v's strings and credentials then point into; wipe it after use).
 * 0, or -1 with why: not made with this key, altered, truncated, or
 * decoded to something that is not a verdict. */
int verdict_open(const uint8_t key[VERDICT_KEY_LEN], const void *sealed, size_t len,
		 uint8_t *plain, struct verdict *v, char *why, size_t whylen);

/* Where a worker whose predecessor died at `now` starts trusting request
 * verdicts (trust.h), the latest verdict a worker of its pool took being
 * made at `taken`: just after it, but never after `now` (no worker takes a
 * verdict made after its death; a bigger `taken` is a worker's lie). */
uint64_t verdict_trust_boundary(uint64_t taken, uint64_t now);

#endif
