/* wire.h -- frames between idgated's processes.
 *
 * Every socket between processes is AF_UNIX SOCK_SEQPACKET, so one
 * message is one frame: an 8-byte header (type, flags, payload length)
 * and the payload, with at most WIRE_MAX_FDS descriptors attached.  A
 * receiver checks that the message length equals the header's, that
 * nothing was truncated, and then decodes the payload with bounds checks
 * on every field: it trusts nothing the sender says.
 *
 * A request between the front end and a pool worker uses one channel,
 * exclusively, from REQ_HEAD to the point where both sides have ended:
 *   front end -> worker: REQ_HEAD, REQ_BODY*, then REQ_END or REQ_ABORT,
 *                        and after REQ_END perhaps a late REQ_ABORT (the
 *                        client left while the handler works; a worker
 *                        that already answered skips it)
 *   worker -> front end: RESP_HEAD (optionally with a file fd), RESP_BODY*,
 *                        RESP_END
 */
#ifndef IDGATE_WIRE_H
#define IDGATE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WIRE_HDR 8u
#define WIRE_MAX_PAYLOAD (64u * 1024u)
#define WIRE_MAX_FRAME (WIRE_HDR + WIRE_MAX_PAYLOAD)
#define WIRE_MAX_FDS 16
#define WIRE_MAX_HEADERS 200
#define WIRE_LEN_UNKNOWN UINT64_MAX

enum wire_type {
	/* front end <-> pool worker */
	W_REQ_HEAD = 1,
	W_REQ_BODY = 2,
	W_REQ_END = 3,
	W_REQ_ABORT = 4,
	W_RESP_HEAD = 16,
	W_RESP_BODY = 17,
	W_RESP_END = 18,
	/* supervisor <-> children */
	W_CTL_READY = 32,    /* child -> supervisor: started */
	W_CTL_CHANNELS = 33, /* supervisor -> front end: u32 pool, u32 generation, fds */
	W_CTL_AUTHSOCK = 34, /* supervisor -> front end: the auth helper's socket (fd) */
	W_CTL_POOL_STATE = 35, /* supervisor -> front end: u32 pool, u32 retry-after
	                          seconds (0: the pool serves), u32 state
	                          (enum ctl_pool_state), u64 worker restarts */
	W_CTL_POOL_RETIRE = 36, /* supervisor -> front end: u32 pool, u32 channel tag:
	                           stop using that worker's channels; close each
	                           when its request is over (a recycle) */
	W_CTL_STATS_QUERY = 37, /* supervisor -> front end: u32 query tag */
	W_CTL_STATS = 38,    /* front end -> supervisor: u32 query tag, u32 npools, then
	                        per pool u64 requests, u32 busy channels, u32 queued */
	W_CTL_LOGS = 39,     /* supervisor -> front end: u32 which (W_LOG_*), then one fd
	                        per bit, in bit order: the log files opened anew
	                        after a rotation (SIGUSR1, idgatectl reopen) */
	/* front end <-> auth helper (PAM) */
	W_AUTH_ACCT = 40,    /* u64 tag, str user, str rhost: pam_acct_mgmt */
	W_AUTH_PASS = 41,    /* u64 tag, str user, str rhost, str password:
	                        pam_authenticate + pam_acct_mgmt */
	W_AUTH_RESULT = 42,  /* u64 tag, u32 PAM result code, str message */
	/* worker thread <-> spawner (the fds: reply socket, stdin, stdout, stderr,
	 * and optionally the open program to execute) */
	W_SPAWN = 48,        /* u32 uid, u32 gid, u32 n + n*u32 groups, str path, str cwd,
	                        u32 argc + strs, u32 envc + strs */
	W_SPAWN_STARTED = 49, /* u32 pid */
	W_SPAWN_FAILED = 50,  /* u32 errno, str what failed */
	W_SPAWN_EXITED = 51,  /* u32 wait status */
	W_SPAWN_KILL = 52,    /* worker -> spawner on the reply socket: kill it */
	/* idgatectl <-> supervisor, on the control socket (ctlproto.h) */
	W_ADM_STATUS = 64,   /* no payload */
	W_ADM_POOL = 65,     /* u32 action (enum ctl_pool_action), str pool */
	W_ADM_RELOAD = 66,   /* no payload */
	W_ADM_CHECK = 67,    /* no payload */
	W_ADM_REOPEN = 68,   /* no payload: reopen the log files (as SIGUSR1) */
	W_ADM_OK = 72,       /* str message, u32 pid, u32 old pid */
	W_ADM_ERROR = 73,    /* u32 code (enum ctl_error), str message */
	W_ADM_STATUS_REPLY = 74, /* see ctl_status_encode() */
	/* module check child -> idgated: init() of one pool's vdirs (modinit.c) */
	W_CHK_BEGIN = 80,    /* u32 vdir: its init() starts */
	W_CHK_ERROR = 81,    /* u32 vdir, str key (or NULL), str message */
	W_CHK_DONE = 82,     /* u32 vdir, u32 passed, u32 flags (what init() asked for) */
	W_CHK_FAILED = 83,   /* str message: the checks could not start */
};

/* W_CTL_LOGS: which log files come */
#define W_LOG_AUDIT 0x1u
#define W_LOG_ACCESS 0x2u

/* REQ_HEAD flags */
#define W_REQ_END_TOO 0x1u  /* the request has no body: no REQ_BODY/REQ_END follow */

/* RESP_HEAD flags (a head that ends the response saves the peer a wakeup) */
#define W_RESP_FD  0x1u     /* the body is the attached fd from fd_offset, `length` bytes */
#define W_RESP_END_TOO 0x2u /* no RESP_BODY/RESP_END follow: the response is complete */
#define W_RESP_INLINE 0x4u  /* the whole body is in the head (implies END_TOO) */

struct wire_frame {
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	const uint8_t *payload; /* inside the receive buffer */
	int fds[WIRE_MAX_FDS];
	size_t nfds;
};

/* Send one frame; flags for sendmsg (MSG_DONTWAIT).  0, or -1 with errno
 * (EAGAIN when a non-blocking send would block). */
int wire_send(int sock, uint16_t type, uint16_t fflags, const void *payload, size_t len,
	      const int *fds, size_t nfds, int msgflags);
/* Receive one frame into buf (WIRE_MAX_FRAME bytes).  1: a frame; 0: the
 * peer closed; -1: errno (EAGAIN, or EPROTO for a malformed frame -- a
 * zero-length message included, which SOCK_SEQPACKET would otherwise pass
 * off as the end; the fds any malformed message carried are closed).
 * The caller checks f->nfds where it expects none. */
int wire_recv(int sock, uint8_t *buf, struct wire_frame *f, int msgflags);
void wire_close_fds(struct wire_frame *f);

/* ---- encoding ---- */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool overflow; /* more than WIRE_MAX_PAYLOAD was written */
};
void wb_init(struct wbuf *b);
void wb_free(struct wbuf *b);
void wb_u32(struct wbuf *b, uint32_t v);
void wb_u64(struct wbuf *b, uint64_t v);
void wb_str(struct wbuf *b, const char *s); /* NULL allowed */
void wb_bytes(struct wbuf *b, const void *p, size_t n);

struct rbuf {
	const uint8_t *p;
	size_t left;
	bool bad;
};
void rb_init(struct rbuf *r, const void *p, size_t len);
uint32_t rb_u32(struct rbuf *r);
uint64_t rb_u64(struct rbuf *r);
/* A string inside the buffer (NUL-terminated by the encoding), NULL for a
 * NULL string; on malformed input sets r->bad and returns "". */
const char *rb_str(struct rbuf *r);
const void *rb_bytes(struct rbuf *r, size_t *n);

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
	const char *principal, *user; /* NULL when anonymous / unmapped */
	uint32_t uid, gid;            /* (uint32_t)-1 when unmapped */
	uint32_t level;
	uint32_t auth_type;           /* enum wire_auth_type */
	uint32_t impersonate;         /* run as the caller */
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

/* RFC 9110 token / field-value checks, applied to everything that becomes
 * a header. */
bool http_token_ok(const char *s);
bool http_value_ok(const char *s);

#endif
