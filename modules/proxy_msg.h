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

enum proxy_body { PROXY_BODY_NONE = 0, PROXY_BODY_LENGTH, PROXY_BODY_CHUNKED };

struct proxy_head_opts {
	const struct proxy_backend *backend;
	bool preserve_host;         /* send the client's Host rather than the backend's */
	const char *authorization;  /* "Negotiate ..." for the backend, or NULL */
	const char *signature;      /* X-Identity-Signature value, or NULL */
};

/* The head for the backend: the request line, the client's headers that
 * pass, and the gateway's own: Host, X-Forwarded-For/-Proto/-Host,
 * X-Remote-User, X-Remote-Principal, X-Impersonation-Level, X-Request-Id.
 * Says how the body goes (*body, and *length for PROXY_BODY_LENGTH).
 * 0, or -1 with err (a malformed Content-Length). */
int proxy_build_head(struct sbuf *out, struct idg_request *req, const char *target,
		     const struct proxy_head_opts *o, enum proxy_body *body, uint64_t *length,
		     char *err, size_t errlen);

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

/* The text an identity signature covers: "idgate-identity-v1", then the
 * user, principal, level, request id and timestamp, each on its own line
 * (a missing value is empty).  Caller frees. */
char *proxy_sign_input(const char *user, const char *principal, const char *level,
		       const char *request_id, long long timestamp);

#endif
