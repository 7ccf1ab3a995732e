/* session.h -- session cookies (a vdir's `session = cookie`): after a
 * Negotiate or Basic authentication the response sets a cookie that
 * authenticates the client's later requests to the same vdir without a
 * Kerberos exchange or a password, until it expires (mod_auth_gssapi's
 * GssapiUseSessions).
 *
 * The cookie is sealed with AES-256-GCM (GnuTLS) under a key derived with
 * HKDF-SHA256 from a key of [server] session_key_file, which several
 * gateways may share.  Its value, base64url without padding:
 *
 *   u8 version (1) | key id (4) | scope id (4) | nonce (12) | ciphertext | tag (16)
 *
 * The associated data is the header (version .. nonce), the cookie's name
 * and the vdir's path: a cookie opens only under the name and for the vdir
 * it was made for, on any gateway that has the key.  The key id and the
 * scope id (the first bytes of SHA-256 of the name and the vdir) are in
 * the clear so that a cookie from an unknown key, or one a browser sends
 * for another vdir of the same name (nested paths), is told apart from a
 * forged one without trying to open it.
 *
 * The plaintext holds who authenticated and until when -- never delegated
 * credentials, never a password:
 *
 *   u8 flags (1: anonymous principal, 2: first authenticated by Basic)
 *   u8 level (anonymous .. impersonation; never delegation)
 *   u64 issued, u64 expires (Unix seconds, big-endian)
 *   u16 length + principal, u16 length + local name (length 0: none)
 *
 * A cookie is a bearer token: whoever has it is the caller until it
 * expires, as often as they like (no replay detection, like
 * mod_auth_gssapi).  Pure functions over memory: the front end (auth.c)
 * gives the time and the keys, and the unit test walks every case. */
#ifndef IDGATE_SESSION_H
#define IDGATE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_KEY_MIN 32        /* bytes of a key in the key file */
#define SESSION_KEY_MAX 64
#define SESSION_MAX_KEYS 8
#define SESSION_KEY_FILE_MAX 16384
#define SESSION_PRINCIPAL_MAX 512 /* longer ones get no cookie */
#define SESSION_LOCALNAME_MAX 256
#define SESSION_VALUE_MAX 1200    /* characters of a cookie value we look at */
#define SESSION_CLOCK_SKEW 300    /* s a cookie may have been issued "in the future" */
#define SESSION_COOKIE_NAME_MAX 64

struct session_keys;

/* Who a cookie says authenticated, and when. */
struct session_claims {
	char *principal;    /* NULL: none (the anonymous principal) */
	char *localname;    /* auth_to_local's answer, or NULL */
	bool anonymous;
	bool basic;         /* first authenticated by Basic, else Negotiate */
	int level;          /* IDG_LEVEL_ANONYMOUS .. IDG_LEVEL_IMPERSONATION */
	int64_t issued;     /* Unix seconds */
	int64_t expires;
};

/* A cookie belongs to a cookie name and a vdir. */
struct session_scope {
	const char *cookie_name;
	const char *vdir;
};

enum session_verdict {
	SESSION_OK = 0,
	SESSION_MALFORMED,    /* not base64url, too short, or a bad payload */
	SESSION_OVERSIZED,    /* longer than SESSION_VALUE_MAX */
	SESSION_VERSION,      /* a version we do not know */
	SESSION_OTHER_SCOPE,  /* made for another vdir or cookie name */
	SESSION_UNKNOWN_KEY,  /* sealed with a key not in our key file */
	SESSION_FORGED,       /* does not authenticate: tampered, or forged */
	SESSION_EXPIRED,
	SESSION_FUTURE,       /* issued later than now + SESSION_CLOCK_SKEW */
};

/* The key file: a regular file, root's (or the running user's), neither
 * readable nor writable by group or others, at most SESSION_KEY_FILE_MAX
 * bytes; one key per line as 64 to 128 hexadecimal digits (32 to 64
 * bytes), '#' comments and blank lines ignored; at most SESSION_MAX_KEYS.
 * The first key seals, every key opens.  NULL with why (never a key's
 * text). */
struct session_keys *session_keys_load(const char *file, char *why, size_t len);
/* The same from memory, without the file checks (unit tests). */
struct session_keys *session_keys_parse(const char *text, size_t n, char *why, size_t len);
size_t session_keys_count(const struct session_keys *k);
void session_keys_free(struct session_keys *k);

/* The cookie value for `c` (base64url, NUL-terminated, caller frees), or
 * NULL with why: a principal or name too long, a level above
 * impersonation, a failure of GnuTLS. */
char *session_seal(const struct session_keys *k, const struct session_scope *s,
		   const struct session_claims *c, char *why, size_t len);

/* Open the value `v` (n characters) at time `now` for scope `s`.  A cookie
 * is good until its expiry and at most max_lifetime seconds after it was
 * issued (a lifetime shortened since takes effect at once).  SESSION_OK
 * with *out filled (session_claims_free), or why not; on SESSION_EXPIRED
 * and SESSION_FUTURE *out is filled too (for the log). */
enum session_verdict session_open(const struct session_keys *k, const struct session_scope *s,
				  const char *v, size_t n, int64_t now, int64_t max_lifetime,
				  struct session_claims *out);
const char *session_verdict_text(enum session_verdict v);
/* The Unix second at which a cookie that opened stops opening (its
 * expiry, or max_lifetime after it was issued if that is sooner). */
int64_t session_good_until(const struct session_claims *c, int64_t max_lifetime);
void session_claims_free(struct session_claims *c);

/* The values of the cookies called `name` in one Cookie header (RFC 6265
 * 4.2.1: "a=1; b=2"; blanks around pairs tolerated): up to `max` of them,
 * as pointers into `header` with their lengths.  Returns how many. */
size_t session_cookie_values(const char *header, const char *name, const char **vals,
			     size_t *lens, size_t max);

/* `header` without the cookies called `name`: NULL when it has none (keep
 * the header as it is), else a new string (caller frees), "" when nothing
 * is left.  The session cookie is a credential for the gateway, never for
 * the handler or a backend. */
char *session_cookie_strip(const char *header, const char *name);

/* A cookie name: an RFC 6265 token (RFC 9110 tchar), 1 to
 * SESSION_COOKIE_NAME_MAX characters. */
bool session_cookie_name_ok(const char *name);

#endif
