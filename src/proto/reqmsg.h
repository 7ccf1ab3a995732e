/* reqmsg.h -- a request between the front end and a pool worker.  It uses
 * one channel (a SOCK_SEQPACKET pair, wire.h framing), exclusively, from
 * REQ_HEAD to the point where both sides have ended:
 *   front end -> worker: REQ_HEAD, REQ_BODY*, then REQ_END or REQ_ABORT,
 *                        and after REQ_END perhaps a late REQ_ABORT (the
 *                        client left while the handler works; a worker
 *                        that already answered skips it)
 *   worker -> front end: RESP_HEAD (optionally with a file fd), RESP_BODY*,
 *                        RESP_END
 *
 * The decoders take the whole frame and refuse a wrong type, flags they do
 * not know, a wrong descriptor count, every truncation, trailing bytes,
 * and values out of range (a method that is no token, a path without its
 * '/', a level, auth type or port the enums do not have, a header that is
 * not one, a status outside 100-599, an inline body whose length lies).
 * Which of them may come when is the relay's (front end) and the worker's
 * to check.  */
#ifndef IDGATE_REQMSG_H
#define IDGATE_REQMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* REQ_HEAD flags */
#define W_REQ_END_TOO 0x1u  /* the request has no body: no REQ_BODY/REQ_END follow */

/* RESP_HEAD flags (a head that ends the response saves the peer a wakeup) */
#define W_RESP_FD  0x1u     /* the body is the attached fd from fd_offset, `length` bytes */
#define W_RESP_END_TOO 0x2u /* no RESP_BODY/RESP_END follow: the response is complete */
#define W_RESP_INLINE 0x4u  /* the whole body is in the head (implies END_TOO) */
#define W_RESP_END_ERROR 0x1u /* RESP_END: the body is incomplete: cut the connection */

/* ---- request and response heads ---- */
struct wire_hdr {
	const char *name;
	const char *value;
};

enum wire_auth_type { W_AUTH_NONE = 0, W_AUTH_NEGOTIATE = 1, W_AUTH_BASIC = 2 };

struct wire_req {
	uint32_t vdir;
	const char *method, *path, *query, *version, *request_id, *client_addr, *host;
	uint32_t client_port;
	uint32_t tls;
	uint32_t level;               /* what the client allows (the front end applied
					 Allowed-Impersonation-Level); the worker takes
					 the lower of this and the verdict's */
	uint32_t impersonate;         /* run as the caller */
	uint64_t conn_id;             /* the front end's connection */
	uint8_t authz_digest[32];     /* SHA-256 of the Authorization header; zeros: none;
					 (of the session cookie, with a VERDICT_SESSION) */
	const void *verdict;          /* sealed by the authenticator (verdict.h), or NULL */
	size_t verdict_len;
	/* Not on the wire: who the caller is, from the verdict once the
	 * worker opened it (never what the front end says) */
	const char *principal, *user; /* NULL when anonymous / unmapped */
	uint32_t uid, gid;            /* (uint32_t)-1 when unmapped */
	uint32_t auth_type;           /* enum wire_auth_type */
	const void *creds;            /* delegated credentials (secret), or NULL */
	size_t creds_len;
	struct wire_hdr *hdrs;
	uint32_t nhdrs;
};

struct wire_resp {
	uint32_t status;
	uint64_t length;    /* WIRE_LEN_UNKNOWN: chunked */
	uint64_t fd_offset;
	const char *reason; /* for the audit log, or NULL (with END_TOO) */
	const void *body;   /* W_RESP_INLINE: the whole body, or NULL */
	size_t body_len;
	struct wire_hdr *hdrs;
	uint32_t nhdrs;
};

void wire_req_encode(struct wbuf *b, const struct wire_req *q);
/* Decodes in place (strings point into p); q->hdrs is allocated.  0 or -1. */
int wire_req_decode(const void *p, size_t len, struct wire_req *q);
void wire_resp_encode(struct wbuf *b, const struct wire_resp *r);
int wire_resp_decode(const void *p, size_t len, struct wire_resp *r);

/* The frames around the payloads: 0, or -1 for anything else. */
int reqm_head_decode(const struct wire_frame *f, struct wire_req *q);
int reqm_body_check(const struct wire_frame *f);        /* REQ_BODY */
int reqm_end_check(const struct wire_frame *f);         /* REQ_END, REQ_ABORT */
/* RESP_HEAD: the payload is decoded in place (copy it first if the frame's
 * buffer is reused); with W_RESP_FD exactly one descriptor comes. */
int reqm_resp_head_decode(const struct wire_frame *f, struct wire_resp *resp);
int reqm_resp_body_check(const struct wire_frame *f);   /* RESP_BODY */
/* RESP_END: str reason (or NULL); flags W_RESP_END_ERROR or none. */
void reqm_resp_end_encode(struct wbuf *b, const char *reason);
int reqm_resp_end_decode(const struct wire_frame *f, const char **reason, bool *error);

#endif
