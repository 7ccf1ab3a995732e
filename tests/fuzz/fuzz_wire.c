/* fuzz_wire.c -- the framing every channel between idgated's processes
 * shares (src/proto/wire.c): wire_recv_small() reading one message of a
 * SOCK_SEQPACKET socket with the descriptors it carries, and the rbuf
 * primitives every decoder reads a payload with.
 *
 * Input: a mode byte.  Mode 0: a descriptor count (0-20, dups of
 * /dev/null), the receive buffer's size (8 + 0-255 * 64 bytes, or the
 * whole frame), whether the sender then shuts its side down, and the
 * message's bytes, sent as one message.  Mode 1: a leg of operations, then
 * the payload they read.
 * Properties: a message is taken exactly when it is at least a header,
 * its header's length is what came, it fit the buffer and it carried at
 * most WIRE_MAX_FDS descriptors; then the frame is the header's and the
 * payload the message's, with every descriptor, close-on-exec.  A refusal
 * is EPROTO and leaves no descriptor open; the end is told from an empty
 * message by the peer's shutdown.  The primitives never read past the end,
 * and once bad stay bad. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "wire.h"

static uint8_t buf[WIRE_MAX_FRAME];
static int devnull = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		fz_fail("cannot open /dev/null");
	return 0;
}

/* The lowest free descriptor number: one left open by a refusal would
 * take it. */
static int lowest_free(void)
{
	int fd = dup(devnull);

	if (fd < 0)
		fz_fail("dup: %s", strerror(errno));
	close(fd);
	return fd;
}

static void send_message(int s, const uint8_t *p, size_t len, size_t nfds)
{
	int fds[20];
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { (void *)p, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	for (size_t i = 0; i < nfds; i++)
		fds[i] = devnull;
	if (nfds) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.b;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	if (sendmsg(s, &msg, MSG_NOSIGNAL) != (ssize_t)len)
		fz_fail("sendmsg of %zu bytes: %s", len, strerror(errno));
}

static void check_frame(const struct wire_frame *f, const uint8_t *p, size_t len, size_t nfds)
{
	FZ_CHECK(len >= WIRE_HDR && f->len == len - WIRE_HDR && f->payload == buf + WIRE_HDR);
	FZ_CHECK(memcmp(&f->type, p, 2) == 0 && memcmp(&f->flags, p + 2, 2) == 0);
	FZ_CHECK(memcmp(f->payload, p + WIRE_HDR, f->len) == 0);
	FZ_CHECK(f->nfds == nfds);
	for (size_t i = 0; i < f->nfds; i++)
		FZ_CHECK(fcntl(f->fds[i], F_GETFD) == FD_CLOEXEC);
}

static void frame(struct fz *z)
{
	size_t nfds = fz_u8(z) % 21, cap = fz_u8(z), len;
	bool shut = fz_u8(z) & 1;
	uint8_t *p = fz_rest_exact(z, &len);
	struct wire_frame f;
	uint32_t said = 0;
	int s[2], free_fd, rc;

	cap = cap == 255 ? WIRE_MAX_FRAME : WIRE_HDR + cap * 64;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s) < 0)
		fz_fail("socketpair: %s", strerror(errno));
	free_fd = lowest_free();
	send_message(s[0], p, len, nfds);
	if (shut)
		shutdown(s[0], SHUT_WR);
	rc = wire_recv_small(s[1], buf, cap, &f, MSG_DONTWAIT);
	if (len >= WIRE_HDR)
		memcpy(&said, p + 4, 4);
	bool good = len >= WIRE_HDR && said == len - WIRE_HDR && len <= cap && nfds <= WIRE_MAX_FDS;
	if (rc == 1) {
		FZ_CHECK(good);
		check_frame(&f, p, len, nfds);
		wire_close_fds(&f);
	} else if (rc == 0) {
		FZ_CHECK(len == 0 && nfds == 0 && shut);
	} else {
		FZ_CHECK(!good && errno == EPROTO);
		FZ_CHECK(!(len == 0 && nfds == 0 && shut));
	}
	FZ_CHECK(lowest_free() == free_fd);
	close(s[0]);
	close(s[1]);
	free(p);
}

/* A script of reads: each byte of ops picks one primitive. */
static void primitives(const uint8_t *ops, size_t nops, const uint8_t *p, size_t len)
{
	struct rbuf r;
	size_t n;

	rb_init(&r, p, len);
	for (size_t i = 0; i < nops; i++) {
		size_t before = r.left;
		bool was_bad = r.bad;
		const void *v;
		switch (ops[i] % 4) {
		case 0:
			rb_u32(&r);
			break;
		case 1:
			rb_u64(&r);
			break;
		case 2:
			v = rb_str(&r);
			FZ_CHECK(r.bad || !v || fz_str_inside(v, p, len));
			break;
		default:
			v = rb_bytes(&r, &n);
			FZ_CHECK(!v || n == 0 ||
				 (fz_inside(v, p, len) && (const uint8_t *)v + n <= p + len));
			FZ_CHECK(v || n == 0);
			break;
		}
		FZ_CHECK(r.left <= before && (!was_bad || r.bad));
		FZ_CHECK(r.p + r.left == p + len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);

	if (fz_u8(&z) % 2 == 0) {
		frame(&z);
	} else {
		size_t nops, len;
		uint8_t *ops = fz_leg(&z, &nops), *p = fz_rest_exact(&z, &len);
		primitives(ops, nops, p, len);
		free(ops);
		free(p);
	}
	return 0;
}
