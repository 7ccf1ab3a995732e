/* test_wire.c -- the frames between processes: round trips, and refusal
 * of every truncated or malformed input (the receiver trusts nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdcount.h"
#include "reqmsg.h"
#include "wire.h"

static struct wire_hdr hdrs[] = { { "Host", "localhost" }, { "X-Thing", "a, b" } };

static struct wire_req sample_req(void)
{
	struct wire_req q = {
		.vdir = 3, .method = "GET", .path = "/app/x", .query = "a=1", .version = "HTTP/1.1",
		.request_id = "abc", .client_addr = "::1", .host = "localhost", .client_port = 4242,
		.tls = 1, .level = 2, .impersonate = 1, .conn_id = 0x1122334455667788ull,
		.authz_digest = { 1, 2, 3 }, .verdict = "\x01\x02\x00\x03", .verdict_len = 4,
		.hdrs = hdrs, .nhdrs = 2,
	};
	return q;
}

static void test_req_roundtrip(void **state)
{
	struct wire_req q = sample_req(), d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	wire_req_encode(&b, &q);
	assert_false(b.overflow);
	assert_int_equal(wire_req_decode(b.p, b.len, &d), 0);
	assert_int_equal(d.vdir, 3);
	assert_string_equal(d.method, "GET");
	assert_string_equal(d.path, "/app/x");
	assert_string_equal(d.query, "a=1");
	assert_string_equal(d.request_id, "abc");
	assert_string_equal(d.client_addr, "::1");
	assert_int_equal(d.client_port, 4242);
	assert_int_equal(d.tls, 1);
	assert_int_equal(d.level, 2);
	assert_int_equal(d.impersonate, 1);
	assert_true(d.conn_id == 0x1122334455667788ull);
	assert_memory_equal(d.authz_digest, "\x01\x02\x03\x00", 4);
	assert_int_equal(d.verdict_len, 4);
	assert_memory_equal(d.verdict, "\x01\x02\x00\x03", 4);
	assert_int_equal(d.nhdrs, 2);
	assert_string_equal(d.hdrs[1].name, "X-Thing");
	assert_string_equal(d.hdrs[1].value, "a, b");
	free(d.hdrs);
	wb_free(&b);
}

static void test_req_truncated(void **state)
{
	struct wire_req q = sample_req(), d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	wire_req_encode(&b, &q);
	for (size_t n = 0; n < b.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, b.p, n);
		assert_int_equal(wire_req_decode(copy, n, &d), -1);
		free(copy);
	}
	/* and one byte too many */
	uint8_t *longer = malloc(b.len + 1);
	memcpy(longer, b.p, b.len);
	longer[b.len] = 0;
	assert_int_equal(wire_req_decode(longer, b.len + 1, &d), -1);
	free(longer);
	wb_free(&b);
}

/* Encode, damage the byte `off` past `needle`, and check decoding fails. */
static void damaged(struct wire_req q, const char *needle, size_t off, uint8_t byte)
{
	struct wire_req d;
	struct wbuf b;
	uint8_t *hit;

	wb_init(&b);
	wire_req_encode(&b, &q);
	hit = memmem(b.p, b.len, needle, strlen(needle));
	assert_non_null(hit);
	hit[off] = byte;
	assert_int_equal(wire_req_decode(b.p, b.len, &d), -1);
	wb_free(&b);
}

static void test_req_malformed(void **state)
{
	struct wire_req q = sample_req();
	struct wire_hdr bad[] = { { "Bad Name", "v" } };
	struct wire_hdr crlf[] = { { "X", "a\r\nInjected: 1" } };
	struct wbuf b;
	struct wire_req d;

	(void)state;
	damaged(q, "/app/x", 0, '\0'); /* a NUL inside a string */
	damaged(q, "abc", 3, 'x');     /* a string without its terminator */
	q.method = "G T";
	wb_init(&b);
	wire_req_encode(&b, &q);
	assert_int_equal(wire_req_decode(b.p, b.len, &d), -1);
	wb_free(&b);
	q = sample_req();
	q.path = "relative";
	wb_init(&b);
	wire_req_encode(&b, &q);
	assert_int_equal(wire_req_decode(b.p, b.len, &d), -1);
	wb_free(&b);
	q = sample_req();
	q.level = 4;
	wb_init(&b);
	wire_req_encode(&b, &q);
	assert_int_equal(wire_req_decode(b.p, b.len, &d), -1);
	wb_free(&b);
	q = sample_req();
	q.hdrs = bad;
	q.nhdrs = 1;
	wb_init(&b);
	wire_req_encode(&b, &q);
	assert_int_equal(wire_req_decode(b.p, b.len, &d), -1);
	wb_free(&b);
	q.hdrs = crlf;
	wb_init(&b);
	wire_req_encode(&b, &q);
	assert_int_equal(wire_req_decode(b.p, b.len, &d), -1);
	wb_free(&b);
}

static void test_string_length_lies(void **state)
{
	struct wire_req d;
	uint8_t buf[64];
	uint32_t v = 0, huge = 0xfffffff0u;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &v, 4);        /* vdir */
	memcpy(buf + 4, &huge, 4); /* method length far beyond the buffer */
	assert_int_equal(wire_req_decode(buf, sizeof(buf), &d), -1);
}

static void test_resp(void **state)
{
	struct wire_resp r = { .status = 206, .length = 10, .fd_offset = 5, .hdrs = hdrs,
			       .nhdrs = 2 }, d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	wire_resp_encode(&b, &r);
	assert_int_equal(wire_resp_decode(b.p, b.len, &d), 0);
	assert_int_equal(d.status, 206);
	assert_int_equal(d.length, 10);
	assert_int_equal(d.fd_offset, 5);
	assert_string_equal(d.hdrs[0].value, "localhost");
	free(d.hdrs);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(wire_resp_decode(b.p, n, &d), -1);
	wb_free(&b);
	r.status = 99;
	wb_init(&b);
	wire_resp_encode(&b, &r);
	assert_int_equal(wire_resp_decode(b.p, b.len, &d), -1);
	wb_free(&b);
	r.status = 600;
	wb_init(&b);
	wire_resp_encode(&b, &r);
	assert_int_equal(wire_resp_decode(b.p, b.len, &d), -1);
	wb_free(&b);
}

static void test_resp_inline_and_reason(void **state)
{
	struct wire_resp r = { .status = 200, .length = 5, .reason = "static: why",
			       .body = "hello", .body_len = 5, .hdrs = hdrs, .nhdrs = 1 }, d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	wire_resp_encode(&b, &r);
	assert_int_equal(wire_resp_decode(b.p, b.len, &d), 0);
	assert_string_equal(d.reason, "static: why");
	assert_int_equal(d.body_len, 5);
	assert_memory_equal(d.body, "hello", 5);
	free(d.hdrs);
	/* a body length beyond the frame is refused */
	uint32_t lie = 1000;
	memcpy(b.p + b.len - 5 - 4, &lie, 4);
	assert_int_equal(wire_resp_decode(b.p, b.len, &d), -1);
	wb_free(&b);
	/* no body and no reason decode as NULL */
	r.reason = NULL;
	r.body = NULL;
	r.body_len = 0;
	wb_init(&b);
	wire_resp_encode(&b, &r);
	assert_int_equal(wire_resp_decode(b.p, b.len, &d), 0);
	assert_null(d.reason);
	assert_null(d.body);
	free(d.hdrs);
	wb_free(&b);
}

static void test_overflow(void **state)
{
	struct wbuf b;
	char *big = malloc(WIRE_MAX_PAYLOAD + 1);

	(void)state;
	memset(big, 'a', WIRE_MAX_PAYLOAD);
	big[WIRE_MAX_PAYLOAD] = '\0';
	wb_init(&b);
	wb_str(&b, big);
	assert_true(b.overflow);
	wb_free(&b);
	free(big);
}

static void test_frames(void **state)
{
	int sv[2], fd;
	uint8_t *buf = malloc(WIRE_MAX_FRAME);
	struct wire_frame f;
	struct stat st;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(wire_send(sv[0], W_RESP_BODY, 7, "hello", 5, NULL, 0, 0), 0);
	assert_int_equal(wire_recv(sv[1], buf, &f, 0), 1);
	assert_int_equal(f.type, W_RESP_BODY);
	assert_int_equal(f.flags, 7);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.payload, "hello", 5);
	assert_int_equal(f.nfds, 0);

	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(wire_send(sv[0], W_RESP_HEAD, W_RESP_FD, "x", 1, &fd, 1, 0), 0);
	close(fd);
	assert_int_equal(wire_recv(sv[1], buf, &f, 0), 1);
	assert_int_equal(f.nfds, 1);
	assert_int_equal(fstat(f.fds[0], &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	wire_close_fds(&f);

	/* a payload over the limit is refused by the sender */
	assert_int_equal(wire_send(sv[0], W_RESP_BODY, 0, buf, WIRE_MAX_PAYLOAD + 1, NULL, 0, 0), -1);
	assert_int_equal(errno, EMSGSIZE);

	/* a header whose length lies, and a runt, are protocol errors */
	uint8_t lie[12] = { 17, 0, 0, 0, 99, 0, 0, 0, 'a', 'b', 'c', 'd' };
	assert_int_equal(send(sv[0], lie, sizeof(lie), 0), (ssize_t)sizeof(lie));
	assert_int_equal(wire_recv(sv[1], buf, &f, 0), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(send(sv[0], lie, 3, 0), 3);
	assert_int_equal(wire_recv(sv[1], buf, &f, 0), -1);
	assert_int_equal(errno, EPROTO);

	/* non-blocking receive on an empty channel, then the peer closes */
	assert_int_equal(wire_recv(sv[1], buf, &f, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	close(sv[0]);
	assert_int_equal(wire_recv(sv[1], buf, &f, 0), 0);
	close(sv[1]);
	free(buf);
}

/* A zero-length message is not the peer closing: the descriptors it
 * carries are taken and closed, and it is a protocol error (before, they
 * stayed open in the receiver, one table slot each). */
static void test_zero_length_with_fds(void **state)
{
	uint8_t *buf = malloc(WIRE_MAX_FRAME);
	struct wire_frame f;
	int sv[2], fds[WIRE_MAX_FDS], before;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (int i = 0; i < WIRE_MAX_FDS; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = count_open_fds();
	for (int round = 0; round < 3; round++) {
		char cm[CMSG_SPACE(sizeof(fds))] = { 0 };
		struct iovec iov = { buf, 0 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm,
				      .msg_controllen = sizeof(cm) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
		assert_int_equal(sendmsg(sv[0], &msg, 0), 0);
		errno = 0;
		assert_int_equal(wire_recv(sv[1], buf, &f, 0), -1);
		assert_int_equal(errno, EPROTO);
		assert_int_equal(f.nfds, 0);
		assert_int_equal(count_open_fds(), before);
	}
	for (int i = 0; i < WIRE_MAX_FDS; i++)
		close(fds[i]);
	/* without descriptors it is a protocol error too, not an end */
	assert_int_equal(send(sv[0], "", 0, 0), 0);
	errno = 0;
	assert_int_equal(wire_recv(sv[1], buf, &f, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EPROTO);
	/* and the channel still works afterwards; the real end is still 0 */
	assert_int_equal(wire_send(sv[0], W_CTL_READY, 0, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(wire_recv(sv[1], buf, &f, 0), 1);
	assert_int_equal(f.type, W_CTL_READY);
	close(sv[0]);
	assert_int_equal(wire_recv(sv[1], buf, &f, 0), 0);
	assert_int_equal(wire_recv(sv[1], buf, &f, MSG_DONTWAIT), 0);
	close(sv[1]);
	free(buf);
}

/* The end of a channel whose peer only shut its sending side is an end
 * too (poll says POLLRDHUP), not a zero-length message. */
static void test_shutdown_is_end(void **state)
{
	uint8_t *buf = malloc(WIRE_MAX_FRAME);
	struct wire_frame f;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
	assert_int_equal(wire_recv(sv[1], buf, &f, 0), 0);
	close(sv[0]);
	close(sv[1]);
	free(buf);
}

static void test_http_tokens(void **state)
{
	(void)state;
	assert_true(http_token_ok("Content-Type"));
	assert_true(http_token_ok("x!#$%&'*+-.^_`|~"));
	assert_false(http_token_ok(""));
	assert_false(http_token_ok("a b"));
	assert_false(http_token_ok("a:b"));
	assert_true(http_value_ok("text/html; q=\"x\"\tand tab"));
	assert_false(http_value_ok("a\rb"));
	assert_false(http_value_ok("a\nb"));
	assert_false(http_value_ok("del\x7f"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_roundtrip),
		cmocka_unit_test(test_req_truncated),
		cmocka_unit_test(test_req_malformed),
		cmocka_unit_test(test_string_length_lies),
		cmocka_unit_test(test_resp),
		cmocka_unit_test(test_resp_inline_and_reason),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_zero_length_with_fds),
		cmocka_unit_test(test_shutdown_is_end),
		cmocka_unit_test(test_http_tokens),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
