/* proxy_auth.h -- the proxy's own credentials on the way to a backend:
 * Negotiate as the caller with the caller's delegated credentials (the
 * double hop), and an HMAC over the identity headers. */
#ifndef IDGATE_PROXY_AUTH_H
#define IDGATE_PROXY_AUTH_H

#include <gssapi/gssapi.h>
#include <stddef.h>

/* The backend's service name, e.g. "HTTP@backend.example" (hostbased). */
int proxy_service_name(const char *service, gss_name_t *name, char *err, size_t errlen);

struct proxy_gss {
	gss_ctx_id_t ctx;
	gss_name_t service;  /* not owned */
	char *header;       /* "Negotiate <base64>" for the backend */
};

/* A fresh context with `creds` (the caller's) for `service`; on success
 * g->header holds the Authorization value.  0, or -1 with err (both GSSAPI
 * status texts). */
int proxy_gss_start(struct proxy_gss *g, gss_cred_id_t creds, gss_name_t service, char *err,
		    size_t errlen);
/* The backend's answer (base64 from WWW-Authenticate: Negotiate) must
 * complete the context: mutual authentication.  0, or -1 with err. */
int proxy_gss_finish(struct proxy_gss *g, const char *b64, char *err, size_t errlen);
void proxy_gss_free(struct proxy_gss *g);

/* "VERSION; t=TIMESTAMP; sig=BASE64(HMAC-SHA256(key, input))", caller
 * frees; NULL on failure. */
char *proxy_sign(const unsigned char *key, size_t keylen, const char *version,
		 const char *input, long long ts);
/* "sha-256=BASE64(SHA-256(body))" for a v2 signature, caller frees. */
char *proxy_body_digest(const void *body, size_t len);

/* Read a signing key: a regular file of 32 to 4096 bytes, readable by no
 * one but its owner and group.  0, or -1 with err. */
int proxy_read_key(const char *path, unsigned char **key, size_t *len, char *err, size_t errlen);

#endif
