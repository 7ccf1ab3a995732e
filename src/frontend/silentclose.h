/* silentclose.h -- the answer libmicrohttpd 0.9.75 does not give.
 *
 * It closes a connection without a word when the request line has no
 * space ("GARBAGE") or starts with one (parse_initial_message_line
 * returns MHD_NO before any callback of ours), and no callback tells why a
 * connection closed.  So the front end keeps a little per connection (the
 * callbacks it does get), asks the kernel about the socket when the
 * connection closes, and infers that case; then it writes a 400 itself.
 * On a TLS listener the library has ended the TLS session (close_notify,
 * gnutls_deinit) before the close is reported, so the front end asks just
 * before it ends the session instead (tlsclose.h), and writes the answer
 * through it. */
#ifndef IDGATE_SILENTCLOSE_H
#define IDGATE_SILENTCLOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Data arrived this recently when the library closed on it (a timeout
 * comes after a whole second, at least, without any). */
#define SC_RECENT_MS 500

/* One connection, as the callbacks saw it. */
struct sc_conn {
	bool plain;              /* a listener without TLS */
	bool in_request;         /* the URI callback came, the completion not yet */
	bool kept_alive;         /* the last answer left the connection open */
	unsigned completed;      /* requests completed */
	uint64_t completed_ms;   /* when the last one completed (now_ms()) */
	uint64_t mhd_answers;    /* sc_mhd_answers() then (or when it began) */
};

enum sc_peek { SC_PEEK_OPEN, SC_PEEK_EOF, SC_PEEK_GONE };

/* What the kernel says about the socket, asked only when needed. */
struct sc_tcp {
	uint64_t received, written; /* bytes, since the connection began */
	uint32_t last_recv_ms;      /* since the last data came in */
};

struct sc_probe {
	enum sc_peek (*peek)(void *ctx);
	bool (*tcp)(void *ctx, struct sc_tcp *t);
	void *ctx;
};

/* Whether the connection closing now, with no request in progress, was
 * closed on a request line the library could not parse: the first thing
 * a client sent (received some, nothing written, data just came), or what
 * followed an answer that kept the connection open (the client is still
 * there and sent it just after the answer or just now, and the library
 * answered no malformed request on this thread meanwhile: its own 400,
 * 505 or 414 are written without a callback).  On a TLS listener (its
 * handshake was written): the library answered nothing since the last
 * answer, or since the connection began, and the client is still there
 * and sent something just now or just after the last answer. */
bool sc_answer_due(const struct sc_conn *c, const struct sc_probe *p, uint64_t now_ms,
		   uint64_t mhd_answers);

/* The probe on a socket descriptor (ctx: a pointer to the int). */
enum sc_peek sc_peek_fd(void *ctx);
bool sc_tcp_fd(void *ctx, struct sc_tcp *t);

/* libmicrohttpd answered a malformed request itself (its log said so):
 * counted per thread, each event loop being one. */
void sc_note_mhd_answer(void);
uint64_t sc_mhd_answers(void);

/* Drop what the client sent that nobody will read (so that the close is a
 * FIN, not a reset that could destroy the answer on its way), then write
 * a 400 with Connection: close, `body` and the request id.  The bytes of
 * the answer, or 0 when the client could not take it. */
size_t sc_send_400(int fd, const char *request_id, const char *body, size_t body_len);

/* Its head alone (for a TLS session): its length, 0 if it did not fit. */
#define SC_HEAD_MAX 512
size_t sc_head_400(char *head, size_t cap, const char *request_id, size_t body_len);

/* Read and drop what the client sent, up to 256 KiB. */
void sc_drain(int fd);

#endif
