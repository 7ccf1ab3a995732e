/* wire.c -- framing over SOCK_SEQPACKET and the strict codec. */
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define NULL_STR 0xffffffffu

int wire_send(int sock, uint16_t type, uint16_t fflags, const void *payload, size_t len,
	      const int *fds, size_t nfds, int msgflags)
{
	uint8_t hdr[WIRE_HDR];
	uint32_t l32 = (uint32_t)len;
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)payload, len } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > WIRE_MAX_PAYLOAD || nfds > WIRE_MAX_FDS) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(hdr, &type, 2);
	memcpy(hdr + 2, &fflags, 2);
	memcpy(hdr + 4, &l32, 4);
	if (nfds) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &msg, msgflags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	return 0;
}

void wire_close_fds(struct wire_frame *f)
{
	for (size_t i = 0; i < f->nfds; i++)
		close(f->fds[i]);
	f->nfds = 0;
}

bool wire_frame_is(const struct wire_frame *f, uint16_t type, size_t nfds)
{
	return f->type == type && f->flags == 0 && f->nfds == nfds;
}

static void take_fds(struct msghdr *msg, struct wire_frame *f, bool *bad)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			*bad = true;
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[WIRE_MAX_FDS];
		memcpy(fds, CMSG_DATA(c), sizeof(int) * (n > WIRE_MAX_FDS ? WIRE_MAX_FDS : n));
		for (size_t i = 0; i < n && i < WIRE_MAX_FDS; i++) {
			if (f->nfds < WIRE_MAX_FDS)
				f->fds[f->nfds++] = fds[i];
			else
				close(fds[i]);
		}
		if (n > WIRE_MAX_FDS)
			*bad = true;
	}
}

/* On SOCK_SEQPACKET, recvmsg() returns 0 both at the end and for a
 * zero-length message: only the end leaves the socket shut for reading
 * (the kernel marks it when the peer closes or shuts down its side). */
static bool peer_has_shut_down(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

int wire_recv(int sock, uint8_t *buf, struct wire_frame *f, int msgflags)
{
	return wire_recv_small(sock, buf, WIRE_MAX_FRAME, f, msgflags);
}

int wire_recv_small(int sock, uint8_t *buf, size_t cap, struct wire_frame *f, int msgflags)
{
	struct iovec iov = { buf, cap };
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			      .msg_controllen = sizeof(cm.buf) };
	bool bad = false;
	ssize_t n;

	f->nfds = 0;
	do
		n = recvmsg(sock, &msg, msgflags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* descriptors first, on every path: one left in a cmsg is a leak */
	take_fds(&msg, f, &bad);
	if (n == 0 && !bad && f->nfds == 0 && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
	    peer_has_shut_down(sock))
		return 0;
	if (bad || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < WIRE_HDR)
		goto proto;
	memcpy(&f->type, buf, 2);
	memcpy(&f->flags, buf + 2, 2);
	memcpy(&f->len, buf + 4, 4);
	if ((size_t)f->len != (size_t)n - WIRE_HDR)
		goto proto;
	f->payload = buf + WIRE_HDR;
	return 1;
proto:
	wire_close_fds(f);
	errno = EPROTO;
	return -1;
}

/* ---------------------------------------------------------------- codec */

void wb_init(struct wbuf *b)
{
	b->cap = 1024;
	b->p = xmalloc(b->cap);
	b->len = 0;
	b->overflow = false;
}

/* A request head may carry delegated credentials: buffers are wiped
 * when they are freed or outgrown (a few hundred bytes, a few ns). */
void wb_free(struct wbuf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->len);
	free(b->p);
	b->p = NULL;
}

static void wb_grow(struct wbuf *b, size_t need)
{
	uint8_t *p;

	while (need > b->cap)
		b->cap *= 2;
	p = xmalloc(b->cap);
	memcpy(p, b->p, b->len);
	explicit_bzero(b->p, b->len);
	free(b->p);
	b->p = p;
}

void wb_bytes(struct wbuf *b, const void *p, size_t n)
{
	if (b->overflow || b->len + n > WIRE_MAX_PAYLOAD) {
		b->overflow = true;
		return;
	}
	if (b->len + n > b->cap)
		wb_grow(b, b->len + n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void wb_u32(struct wbuf *b, uint32_t v)
{
	wb_bytes(b, &v, 4);
}

void wb_u64(struct wbuf *b, uint64_t v)
{
	wb_bytes(b, &v, 8);
}

void wb_str(struct wbuf *b, const char *s)
{
	if (!s) {
		wb_u32(b, NULL_STR);
		return;
	}
	size_t n = strlen(s);
	wb_u32(b, (uint32_t)n);
	wb_bytes(b, s, n + 1);
}

void wb_blob(struct wbuf *b, const void *p, size_t n)
{
	if (!p) {
		wb_u32(b, NULL_STR);
		return;
	}
	wb_u32(b, (uint32_t)n);
	wb_bytes(b, p, n);
}

void rb_init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->left = len;
	r->bad = false;
}

static const uint8_t *rb_take(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint32_t rb_u32(struct rbuf *r)
{
	uint32_t v = 0;
	const uint8_t *p = rb_take(r, 4);
	if (p)
		memcpy(&v, p, 4);
	return v;
}

uint64_t rb_u64(struct rbuf *r)
{
	uint64_t v = 0;
	const uint8_t *p = rb_take(r, 8);
	if (p)
		memcpy(&v, p, 8);
	return v;
}

const char *rb_str(struct rbuf *r)
{
	uint32_t n = rb_u32(r);
	const uint8_t *p;

	if (r->bad)
		return "";
	if (n == NULL_STR)
		return NULL;
	if (n >= r->left) { /* also needs room for the NUL */
		r->bad = true;
		return "";
	}
	p = rb_take(r, (size_t)n + 1);
	if (!p || p[n] != '\0' || memchr(p, '\0', n)) {
		r->bad = true;
		return "";
	}
	return (const char *)p;
}

void rb_fixed(struct rbuf *r, void *out, size_t n)
{
	const void *p = rb_take(r, n);

	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

const void *rb_bytes(struct rbuf *r, size_t *n)
{
	uint32_t len = rb_u32(r);
	const void *p;

	*n = 0;
	if (r->bad || len == NULL_STR)
		return NULL;
	p = rb_take(r, len);
	if (p)
		*n = len;
	return p;
}

bool http_token_ok(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      strchr(extra, c)))
			return false;
	}
	return true;
}

bool http_value_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}
