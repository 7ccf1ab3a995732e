/* proxy_msg.h -- the pure parts of the proxy module: the backend address,
 * the request head sent to the backend (which headers pass, which the
 * gateway sets), the backend's response head, chunked bodies, and the
 * text that the identity signature covers.  No I/O here: unit-tested. */
#ifndef IDGATE_PROXY_MSG_H
#define IDGATE_PROXY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "idgate/module.h"
#include "sbuf.h"

#define PROXY_HEAD_MAX (64 * 1024)  /* a backend's response head */
#define PROXY_MAX_HEADERS 100

enum proxy_kind { PROXY_TCP = 0, PROXY_UNIX = 1 };

struct proxy_backend {
	enum proxy_kind kind;
	char host[256];      /* TCP: a name or an address (no brackets) */
	char port[6];
	char hostport[270];  /* the Host header: "host", "host:port", "[::1]:8080" */
	char sockpath[108];  /* UNIX: the socket's path */
	char *prefix;        /* the URL's path ("/" or "/api"), or NULL: send the
				client's path as it is */
};

/* "http://HOST[:PORT][/PATH]" or "unix:/PATH".  0, or -1 with err. */
int proxy_backend_parse(const char *spec, struct proxy_backend *b, char *err, size_t len);
void proxy_backend_free(struct proxy_backend *b);

/* The request-target for the backend, percent-encoded: the backend's
 * prefix followed by the path below the vdir, or the client's whole path;
 * then "?query".  Caller frees. */
char *proxy_target(const struct proxy_backend *b, const char *path, const char *path_info,
		   const char *query);

/* Header names the gateway owns on the way to the backend: hop-by-hop
 * ones, those it sets itself (identity, forwarding, request id, Host), and
 * any named in the client's Connection header (`connection`, may be NULL). */
bool proxy_request_header_dropped(const char *name, const char *connection);

/* Headers a client may send but a backend must not believe, as a gateway
 * in front of it would set them (strip_headers); names in any case, '_'
 * for '-'.  Forwarded among them: the gateway's own is then the only one,
 * else the client's elements go first and the gateway's is appended. */
#define PROXY_STRIP_DEFAULT                                                              \
	"Forwarded X-Real-IP X-Forwarded-Port X-Forwarded-Prefix X-Forwarded-Server "     \
	"X-Original-URL X-Rewrite-URL X-Forwarded-User Remote-User"

struct proxy_strip {
	size_t n;
	char **names;
};

/* Names separated by blanks or commas, or "none".  0, or -1 with err. */
int proxy_strip_parse(const char *list, struct proxy_strip *s, char *err, size_t errlen);
void proxy_strip_free(struct proxy_strip *s);

enum proxy_body { PROXY_BODY_NONE = 0, PROXY_BODY_LENGTH, PROXY_BODY_CHUNKED };

struct proxy_head_opts {
	const struct proxy_backend *backend;
	const struct proxy_strip *strip; /* the client's headers not to pass */
	bool preserve_host;         /* send the client's Host rather than the backend's */
	const char *authorization;  /* "Negotiate ..." for the backend, or NULL */
	const char *signature;      /* X-Identity-Signature value, or NULL */
};

/* The head for the backend: the request line, the client's headers that
 * pass, and the gateway's own: Host, X-Forwarded-For/-Proto/-Host,
 * Forwarded, X-Remote-User, X-Remote-Principal, X-Impersonation-Level,
 * X-Request-Id.  Says how the body goes (*body, and *length for
 * PROXY_BODY_LENGTH).  0, or -1 with err (a malformed Content-Length, a
 * target with a byte that may not stand in a request line). */
int proxy_build_head(struct sbuf *out, struct idg_request *req, const char *target,
		     const struct proxy_head_opts *o, enum proxy_body *body, uint64_t *length,
		     char *err, size_t errlen);
/* How the request's body goes (as proxy_build_head says it).  0, or -1
 * with err (a malformed Content-Length). */
int proxy_request_body(struct idg_request *req, enum proxy_body *body, uint64_t *length,
		       char *err, size_t errlen);
/* The Host the head carries: the backend's, or with preserve_host the client's. */
const char *proxy_head_host(const struct idg_request *req, const struct proxy_head_opts *o);

/* A header value the gateway sets from an identity: bytes outside
 * printable ASCII, and '%', are percent-encoded, so that no principal can
 * break a header or smuggle a second one. */
void proxy_identity_value(struct sbuf *b, const char *s);

/* "anonymous", "identification", "impersonation", "delegation". */
const char *proxy_level_name(enum idg_level l);

/* ---- the response head ---- */

struct proxy_resp {
	int status;
	int minor;                 /* HTTP/1.minor */
	int64_t length;            /* Content-Length, or -1 */
	bool chunked;
	bool close;                /* the backend closes after this response */
	bool no_body;              /* 1xx, 204, 304, or a HEAD request */
	char *negotiate;           /* the token of "WWW-Authenticate: Negotiate X", or NULL */
	size_t nhdrs;
	struct { char *name, *value; } hdrs[PROXY_MAX_HEADERS]; /* end-to-end ones */
	char *buf;                 /* owns the strings */
};

/* Where the head ends (after its empty line) in buf, 0 if not yet, -1 if
 * it is longer than PROXY_HEAD_MAX. */
ssize_t proxy_head_length(const char *buf, size_t len);
/* Parse a complete head.  `head_request`: the request was HEAD.  0, or -1
 * with err saying what is wrong. */
int proxy_resp_parse(const char *head, size_t len, bool head_request, struct proxy_resp *r,
		     char *err, size_t errlen);
void proxy_resp_free(struct proxy_resp *r);

/* ---- chunked bodies (RFC 9112 7.1) ---- */

struct proxy_chunks {
	int state;
	uint64_t left;        /* bytes of data left in the current chunk */
	unsigned line;        /* bytes of the current size or trailer line */
	bool done;
};

/* Decode what arrived: copies data bytes to out (at most *outn, set to
 * what was written) and returns how many input bytes were consumed, or
 * -1 for malformed framing.  ch->done after the last chunk and trailers. */
ssize_t proxy_chunks_decode(struct proxy_chunks *ch, const char *in, size_t n, char *out,
			    size_t *outn);

/* ---- the identity signature ---- */

/* A body of known length up to this is read whole before the head goes,
 * so that a v2 signature covers its digest. */
#define PROXY_DIGEST_MAX 65536

/* The text a v1 identity signature covers: "idgate-identity-v1", then the
 * user, principal, level, request id and timestamp, each on its own line
 * (a missing value is empty), the identity values as the headers carry
 * them (proxy_identity_value).  Caller frees. */
char *proxy_sign_input(const char *user, const char *principal, const char *level,
		       const char *request_id, long long timestamp);

struct proxy_sign_fields {
	const char *audience;    /* identity_audience: whom the request is for */
	const char *method, *target, *host; /* as the head carries them */
	const char *user, *principal, *level, *request_id; /* NULL: empty */
	const char *body;        /* "none", "sha-256=B64", "length=N" or "chunked" */
	long long timestamp;
};

/* The text a v2 signature covers: "idgate-identity-v2", the audience,
 * method, target, Host, the four identity lines as in v1, the body and
 * the timestamp, each on its own line.  NULL when a value is missing or
 * has a line break (or out of memory).  Caller frees. */
char *proxy_sign_input_v2(const struct proxy_sign_fields *f);

#endif
