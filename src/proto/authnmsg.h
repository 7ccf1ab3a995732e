/* authnmsg.h -- the front end asks the authenticator who is calling (one
 * SOCK_SEQPACKET socket, wire.h framing, no descriptors).
 *
 *   front end -> authenticator
 *     AUTHN_REQ       u64 tag, u64 connection id, u32 vdir, u32 tls,
 *                     str request id, str method, str path, str client
 *                     address, str Authorization (or NULL), u32 n + n str
 *                     Cookie header values
 *     AUTHN_CONN_END  u64 connection id: forget its exchange and identity
 *   authenticator -> front end
 *     AUTHN_REPLY     u64 tag, u32 status (0: established and authorized),
 *                     u32 outcome (enum m_auth), u32 Basic's events (bits of
 *                     enum m_basic), str reason, u32 n + n (str name, str
 *                     value) headers for the client, the caller as the
 *                     front end may know it (str principal, str user, u32
 *                     uid, u32 gid, u32 level, u32 anonymous, u32 scheme,
 *                     str groups left out), blob verdict, blob connection
 *                     verdict, u64 its end (now_ms() clock)
 *
 * The verdicts are sealed (verdict.h): the front end passes them to the
 * worker and cannot read them.  The decoders refuse every truncation,
 * trailing bytes, flags, descriptors, and values out of range.  */
#ifndef IDGATE_AUTHNMSG_H
#define IDGATE_AUTHNMSG_H

#include <stdbool.h>
#include <stdint.h>

#include "verdict.h"
#include "wire.h"

#define AUTHN_MAX_COOKIES 8   /* Cookie headers passed on; more are not looked at */
#define AUTHN_MAX_HEADERS 4   /* challenges, the mutual token, Set-Cookie, Retry-After */

/* Why a request was (not) authenticated, for the metrics. */
enum m_auth {
	M_AUTH_NONE = 0,        /* not counted (anonymous vdir, or not reached) */
	M_AUTH_OK,              /* authenticated and authorized */
	M_AUTH_NO_CREDENTIALS,  /* 401: no Authorization header */
	M_AUTH_CONTINUE,        /* 401: a multi-leg exchange goes on */
	M_AUTH_BAD_TOKEN,       /* 401: malformed, oversized, not base64, defective */
	M_AUTH_REPLAY,          /* 401: a token seen before */
	M_AUTH_EXPIRED,         /* 401: ticket expired or clock skew */
	M_AUTH_WRONG_SERVICE,   /* 401: for a service we have no key for */
	M_AUTH_SCHEME,          /* 401: a scheme not offered here (Basic on plain HTTP...) */
	M_AUTH_BAD_PASSWORD,    /* 401: Basic refused by PAM */
	M_AUTH_PAM_DENIED,      /* 403: pam_acct_mgmt refused the account */
	M_AUTH_REQUIRE_DENIED,  /* 403: require user/group */
	M_AUTH_UNAVAILABLE,     /* 503: the PAM helper could not answer */
	M_AUTH_INVALID_NAME,    /* 403: the account's name is not a valid user name */
	M_AUTH_THROTTLED,       /* 429: Basic refused before PAM (throttle.h) */
	M_AUTH_SESSION,         /* authenticated by a session cookie, and authorized */
	M_AUTH_COUNT
};

/* Basic's brake, counted by the front end's metrics. */
enum m_basic { M_BASIC_DELAYED = 0, M_BASIC_BY_ADDRESS, M_BASIC_BY_ACCOUNT, M_BASIC_COUNT };

enum authn_scheme {
	AUTHN_SCHEME_NONE = 0, AUTHN_SCHEME_NEGOTIATE, AUTHN_SCHEME_BASIC,
	AUTHN_SCHEME_NEGOTIATE_SESSION, AUTHN_SCHEME_BASIC_SESSION, AUTHN_SCHEME_COUNT
};

struct authn_request {
	uint64_t tag, conn_id;
	uint32_t vdir, tls;
	const char *request_id, *method, *path, *client;
	const char *authorization;          /* NULL: none */
	const char *cookies[AUTHN_MAX_COOKIES];
	uint32_t ncookies;
};

struct authn_header {
	const char *name, *value;
};

struct authn_reply {
	uint64_t tag;
	uint32_t status;
	uint32_t outcome;                   /* enum m_auth */
	uint32_t basic_events;              /* 1 << enum m_basic */
	const char *reason;
	struct authn_header hdrs[AUTHN_MAX_HEADERS];
	uint32_t nhdrs;
	const char *principal, *user;       /* NULL: none */
	uint32_t uid, gid, level, anonymous;
	uint32_t scheme;                    /* enum authn_scheme */
	const char *groups_left_out;
	const void *verdict, *conn_verdict; /* sealed, or NULL */
	size_t verdict_len, conn_verdict_len;
	uint64_t conn_expires_ms;
	/* NULL: conn_verdict is the connection's (VERDICT_CONNECTION); else it
	 * is the cookie's (VERDICT_SESSION) and this the SHA-256 of its value,
	 * VERDICT_DIGEST_LEN bytes */
	const uint8_t *session_digest;
};

void authn_request_encode(struct wbuf *b, const struct authn_request *q);
/* 0, or -1; *has_tag says whether the tag could be read (a refused
 * question still gets its answer).  nvdirs bounds the vdir. */
int authn_request_decode(const struct wire_frame *f, uint32_t nvdirs, struct authn_request *q,
			 bool *has_tag);
void authn_reply_encode(struct wbuf *b, const struct authn_reply *r);
int authn_reply_decode(const struct wire_frame *f, struct authn_reply *r);
void authn_conn_end_encode(struct wbuf *b, uint64_t conn_id);
int authn_conn_end_decode(const struct wire_frame *f, uint64_t *conn_id);
/* "Negotiate", "Basic (session)"..., NULL for none. */
const char *authn_scheme_name(uint32_t scheme);

#endif
