/* negotiate.h -- the GSSAPI acceptor of the front end (HTTP Negotiate). */
#ifndef IDGATE_NEGOTIATE_H
#define IDGATE_NEGOTIATE_H

#include <gssapi/gssapi.h>
#include <krb5.h>
#include <stdbool.h>
#include <stddef.h>

#include "gsstext.h"

struct config;


enum neg_status { NEG_OK = 0, NEG_CONTINUE = 1, NEG_FAILED = -1 };

/* AP-REQs a token may hold (one is what clients send) */
#define NEG_MAX_APREQ 8

/* Why a token was refused, as a small fixed class (for metrics). */
enum neg_failure {
	NEG_FAIL_TOKEN = 0,     /* malformed, oversized, defective, anything else */
	NEG_FAIL_REPLAY,        /* seen before */
	NEG_FAIL_EXPIRED,       /* ticket expired, not yet valid, or clock skew */
	NEG_FAIL_WRONG_SERVICE, /* for a principal or key we do not have */
	NEG_FAIL_INTERNAL,      /* our own credential could not be acquired */
};

struct neg_result {
	enum neg_status status;
	char *principal;     /* "alice@EXAMPLE.TEST" */
	char *localname;     /* auth_to_local result, or NULL (account not checked) */
	char *out_token;     /* base64 for WWW-Authenticate, or NULL */
	OM_uint32 flags;     /* ret_flags */
	bool anonymous;      /* anonymous principal or GSS_C_ANON_FLAG */
	gss_cred_id_t deleg; /* delegated credentials (or, with s4u, a proxy
				credential), or GSS_C_NO_CREDENTIAL */
	bool proxy_cred;     /* deleg is a constrained-delegation proxy credential,
				not credentials the client delegated */
	OM_uint32 lifetime;  /* seconds the context stays valid */
	char reason[1024];   /* on failure: what it means, major and minor status texts */
	enum neg_failure failure; /* on failure */
};

/* Copy the acceptor keys into a private MEMORY: keytab.  Called while the
 * front end may still read the keytab file, before it drops privileges.
 * 0, or -1 with err. */
int negotiate_load_keys(const struct config *c, char *err, size_t errlen);

/* Accept one token (base64 as sent, at most max_b64 characters).  *ctx
 * carries a multi-leg context between requests of one connection: pass
 * GSS_C_NO_CONTEXT first; it is kept on NEG_CONTINUE and cleared
 * otherwise; *saw_apreq goes with it (a leg passed a Kerberos
 * authenticator through the replay cache: no context completes without
 * one).  `s4u`: accept with credentials that can also initiate, so that a
 * forwardable ticket yields a constrained-delegation proxy credential in
 * res->deleg. */
void negotiate_accept(gss_ctx_id_t *ctx, bool *saw_apreq, const char *b64, size_t max_b64,
		      bool s4u, struct neg_result *res);
/* The replay cache (replay.c) in dir, its entries kept two clock skews
 * (krb5.conf's clockskew); MIT's own is not used.  0 or -1 with err. */
int negotiate_open_replay_cache(const char *dir, char *err, size_t errlen);
void neg_result_free(struct neg_result *res);

/* Constrained delegation where the keys are: with the proxy credential of
 * an accepted context (the gateway's TGT, the caller's ticket as evidence),
 * obtain the caller's ticket to `target` (S4U2Proxy) and export a
 * credential holding that ticket alone into *blob (gss_export_cred's
 * buffer; the caller wipes and releases it).  Whoever imports it can reach
 * `target` as the caller and nothing else: never the gateway's TGT.  0, or
 * -1 with why.  It talks to the KDC, and so runs on a thread of kdcq.c
 * with a krb5 context `k` of that thread's own. */
int negotiate_s4u_ticket(krb5_context k, gss_cred_id_t proxy, const char *target,
			 gss_buffer_t blob, char *why, size_t len);
void negotiate_delete_context(gss_ctx_id_t *ctx);

/* The keytab changed (fd: the file, open for reading): the acceptor's
 * keys it has that we lack are added, the others kept.  How many were
 * added, or -1 with err. */
int negotiate_add_keys(int fd, char *err, size_t errlen);


#endif
