/* auth.h -- who is calling: Negotiate or Basic, the local account the
 * principal maps to, its PAM account check, and the vdir's `require`.
 * The authenticator runs it for each AUTHN_REQ of the front end. */
#ifndef IDGATE_AUTH_H
#define IDGATE_AUTH_H

#include <gssapi/gssapi.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "authnmsg.h"
#include "kdcq.h"
#include "pamq.h"
#include "verdict.h"

struct vdir_conf;
struct config;

#define AUTH_SUSPENDED (-1) /* waiting for the PAM helper or a fail delay */
#define AUTH_MAX_CHALLENGES AUTHN_MAX_HEADERS

/* Per connection of the front end: a Negotiate exchange that needs more
 * than one leg, and with connection_auth, the identity it established
 * (IIS's authPersistNonNTLM, mod_auth_gssapi's GssapiConnectionBound). */
struct auth_conn {
	gss_ctx_id_t partial;
	bool partial_apreq; /* a leg of `partial` passed an authenticator through the replay cache */
	char *principal;    /* NULL: none kept (or anonymous) */
	char *localname;
	bool anonymous;     /* the anonymous principal */
	int level;
	uint64_t expires_ms; /* 0: nothing kept */
};

struct auth_state {
	int phase;                /* internal progress, 0 at first */
	struct pamq_wait wait;
	/* the result */
	char *principal;          /* NULL: anonymous */
	bool anonymous;           /* the anonymous principal (or the ANON flag):
				   * not a valid-user, see authorize() */
	char *user;               /* mapped local account that exists, or NULL */
	uid_t uid;
	gid_t gid;
	char groups_left_out[200]; /* if impersonated: groups the handler lacks */
	int level;                /* enum idg_level */
	/* "Negotiate", "Basic", "Negotiate (session)" or "Basic (session)"
	 * (a session cookie first made by that scheme), or NULL */
	const char *scheme;
	bool by_session;          /* authenticated by a session cookie */
	uint64_t session_end_ms;  /* by_session: when it stops opening (now_ms()) */
	uint8_t session_digest[VERDICT_DIGEST_LEN]; /* by_session: SHA-256 of its value */
	bool by_connection;       /* by the identity kept for the connection */
	int64_t fresh_until;      /* Unix time until which the credentials this
				   * request brought are good; 0: it brought none */
	/* headers to send: challenges on 401, the mutual token on success */
	const char *hdr_name[AUTH_MAX_CHALLENGES];
	char *hdr_value[AUTH_MAX_CHALLENGES];
	int nhdr;
	char reason[1024];
	int outcome;              /* enum m_auth, once decided */
	unsigned basic_events;    /* 1 << enum m_basic */
	char *localname;          /* auth_to_local result (account not yet checked) */
	char *password;           /* Basic, until PAM has it; wiped */
	/* Basic's brake (throttle.h) */
	char attempt_from[64];    /* an attempt in flight from this address, to end */
	int held_status;          /* the answer, once the fail delay is over */
	/* delegated credentials, exported for the worker (gss_export_cred):
	 * the caller's TGT and its session key, a secret; wiped when freed */
	unsigned char *deleg;
	size_t deleg_len;
	/* constrained delegation: the accepted context's proxy credential
	 * until the KDC is asked (kdcq.h), and its answer */
	gss_cred_id_t s4u_proxy;
	struct kdcq_answer s4u;
};

struct auth_request {
	const struct authn_request *in;
	struct auth_conn *ac;
	const struct vdir_conf *v;
	bool tls;
	const char *client;
};

void auth_init(const struct config *c);
/* The session keys, read while the authenticator may still read the key
 * file (before it drops its privileges).  0 (also when no vdir uses
 * sessions), or -1 with err. */
int auth_load_session_keys(const struct config *c, char *err, size_t len);
/* 0 when the caller is established and authorized; AUTH_SUSPENDED; or the
 * status to answer (400, 401, 403, 429, 503) with a->reason and headers
 * set. */
int auth_run(struct auth_state *a, const struct auth_request *q);
void auth_state_free(struct auth_state *a);
/* Forget the delegated credentials (wiped). */
void auth_drop_delegated(struct auth_state *a);
void auth_conn_clear(struct auth_conn *ac);

#endif
