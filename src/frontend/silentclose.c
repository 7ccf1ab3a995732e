/* silentclose.c -- the answer libmicrohttpd 0.9.75 does not give
 * (silentclose.h).  What each close of a connection with no request in
 * progress means, in that library (connection.c, daemon.c of 0.9.75):
 *   the client closed or reset it          the socket is at EOF, or gone
 *   the idle timeout                       no data for a second at least
 *   after an answer that closes it         our own bookkeeping (kept_alive)
 *   its own 400/505/414 on the request line  written (a first request), or
 *                                          its log line on this thread
 *   a request line without a space, or starting with one: none of these,
 *                                          and data came just now
 * On a TLS listener the answer goes out through the session, from
 * tlsclose.h's hook, before the library ends it. */
#include "silentclose.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "httputil.h"

#define DRAIN_MAX (256 * 1024)

static __thread uint64_t mhd_answers;

void sc_note_mhd_answer(void)
{
	mhd_answers++;
}

uint64_t sc_mhd_answers(void)
{
	return mhd_answers;
}

/* The first request line of the connection: the library wrote nothing,
 * the client sent something, and just now (not a timeout). */
static bool first_line_refused(const struct sc_probe *p)
{
	struct sc_tcp t;

	if (!p->tcp(p->ctx, &t) || p->peek(p->ctx) == SC_PEEK_GONE)
		return false;
	return t.received > 0 && t.written == 0 && t.last_recv_ms < SC_RECENT_MS;
}

/* On a TLS listener the library wrote its handshake, so the bytes written
 * say nothing: its log line says whether it answered; and the client is
 * still there (a client that closed, with close_notify or a FIN, is not
 * answered), and sent something just now or just after the last answer. */
static bool tls_line_refused(const struct sc_conn *c, const struct sc_probe *p, uint64_t now_ms,
			     uint64_t mhd_answers_now)
{
	struct sc_tcp t;

	if (mhd_answers_now != c->mhd_answers || p->peek(p->ctx) != SC_PEEK_OPEN)
		return false;
	if (c->completed && now_ms - c->completed_ms < SC_RECENT_MS)
		return true;
	return p->tcp(p->ctx, &t) && t.last_recv_ms < SC_RECENT_MS;
}

bool sc_answer_due(const struct sc_conn *c, const struct sc_probe *p, uint64_t now_ms,
		   uint64_t mhd_answers_now)
{
	struct sc_tcp t;

	if (c->in_request || !c->kept_alive)
		return false;
	if (!c->plain)
		return tls_line_refused(c, p, now_ms, mhd_answers_now);
	if (c->completed == 0)
		return first_line_refused(p);
	/* after an answer: what the client sent next (pipelined behind the
	 * request, or later); a client that closed its side is not answered:
	 * the bytes behind its last request cannot be told from none */
	if (mhd_answers_now != c->mhd_answers || p->peek(p->ctx) != SC_PEEK_OPEN)
		return false;
	if (now_ms - c->completed_ms < SC_RECENT_MS)
		return true;
	return p->tcp(p->ctx, &t) && t.last_recv_ms < SC_RECENT_MS;
}

enum sc_peek sc_peek_fd(void *ctx)
{
	char b;
	ssize_t n = recv(*(const int *)ctx, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
		return SC_PEEK_OPEN;
	return n == 0 ? SC_PEEK_EOF : SC_PEEK_GONE;
}

/* Written: sent (less what was sent again) and still waiting to be sent. */
bool sc_tcp_fd(void *ctx, struct sc_tcp *t)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof(ti);

	if (getsockopt(*(const int *)ctx, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return false;
	t->received = ti.tcpi_bytes_received;
	t->written = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans + ti.tcpi_notsent_bytes;
	t->last_recv_ms = ti.tcpi_last_data_recv;
	return true;
}

void sc_drain(int fd)
{
	char buf[16384];
	size_t total = 0;
	ssize_t n;

	while (total < DRAIN_MAX && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

size_t sc_head_400(char *head, size_t cap, const char *request_id, size_t body_len)
{
	char date[64];
	int n;

	http_date(time(NULL), date, sizeof(date));
	n = snprintf(head, cap,
		     "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nDate: %s\r\n"
		     "Content-Type: text/html; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n"
		     "X-Request-Id: %s\r\nContent-Length: %zu\r\n\r\n",
		     date, request_id, body_len);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

size_t sc_send_400(int fd, const char *request_id, const char *body, size_t body_len)
{
	char head[SC_HEAD_MAX];
	size_t n;
	ssize_t sent;

	sc_drain(fd);
	if (!(n = sc_head_400(head, sizeof(head), request_id, body_len)))
		return 0;
	struct iovec iov[2] = { { head, n }, { (void *)body, body_len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	sent = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	return sent > 0 ? (size_t)sent : 0;
}
