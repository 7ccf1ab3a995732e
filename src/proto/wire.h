/* wire.h -- frames between idgated's processes.
 *
 * Every socket between processes is AF_UNIX SOCK_SEQPACKET, so one
 * message is one frame: an 8-byte header (type, flags, payload length)
 * and the payload, with at most WIRE_MAX_FDS descriptors attached.  A
 * receiver checks that the message length equals the header's, that
 * nothing was truncated, and then decodes the payload with bounds checks
 * on every field: it trusts nothing the sender says.
 *
 * Each channel has its codec here (docs/ARCHITECTURE.md, "Channels and
 * the request protocol"): ctlmsg.h (supervisor <-> children), reqmsg.h
 * (front end <-> pool worker), authnmsg.h (front end <-> authenticator),
 * verdict.h (authenticator -> pool worker, sealed), authmsg.h
 * (authenticator <-> PAM helper),
 * spawnmsg.h (worker <-> spawner), chkmsg.h (module check child ->
 * idgated), ctlproto.h (idgatectl <-> supervisor); peers.h is how each
 * process checks which of them a peer may send it.
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
	W_CTL_AUTHSOCK = 34, /* supervisor -> front end: u32 loop, and the fd of that
	                        event loop's channel to the authenticator */
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
	/* front end <-> authenticator (authnmsg.h) */
	W_AUTHN_REQ = 88,    /* a request's credentials: who is calling? */
	W_AUTHN_REPLY = 89,  /* what to answer the client, and the sealed verdict */
	W_AUTHN_CONN_END = 90, /* u64 connection id: it closed */
	/* supervisor -> authenticator */
	W_CTL_PAMSOCK = 91,  /* the PAM helper's socket (fd) */
	W_CTL_KEYTAB = 92,   /* the keytab, changed (fd, read-only): keys to add */
};

/* W_CTL_LOGS: which log files come */
#define W_LOG_AUDIT 0x1u
#define W_LOG_ACCESS 0x2u

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
/* The same into a buffer of `cap` bytes, for a peer whose messages are
 * small: a longer one is malformed (EPROTO). */
int wire_recv_small(int sock, uint8_t *buf, size_t cap, struct wire_frame *f, int msgflags);
void wire_close_fds(struct wire_frame *f);
/* The frame is `type`, without flags, with exactly `nfds` descriptors:
 * what every decoder checks first. */
bool wire_frame_is(const struct wire_frame *f, uint16_t type, size_t nfds);

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
/* u32 length and the bytes, or NULL: what rb_bytes() reads. */
void wb_blob(struct wbuf *b, const void *p, size_t n);

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
/* Exactly n bytes into out (zeros and r->bad when they are not there). */
void rb_fixed(struct rbuf *r, void *out, size_t n);

/* RFC 9110 token / field-value checks, applied to everything that becomes
 * a header. */
bool http_token_ok(const char *s);
bool http_value_ok(const char *s);

#endif
