/* test_silentclose.c -- when the front end answers a connection that
 * libmicrohttpd closed without a word (silentclose.h): each close it must
 * stay silent on, and the request lines it answers; then the answer
 * itself, on a real socket pair.  t-strict.sh sends the same shapes to a
 * real idgated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "silentclose.h"

/* A socket as the probe would find it; counts the questions asked. */
struct fake {
	enum sc_peek peek;
	bool tcp_ok;
	struct sc_tcp tcp;
	int peeks, tcps;
};

static enum sc_peek fake_peek(void *ctx)
{
	struct fake *f = ctx;

	f->peeks++;
	return f->peek;
}

static bool fake_tcp(void *ctx, struct sc_tcp *t)
{
	struct fake *f = ctx;

	f->tcps++;
	*t = f->tcp;
	return f->tcp_ok;
}

#define NOW 100000

static bool due(const struct sc_conn *c, struct fake *f, uint64_t answers)
{
	struct sc_probe p = { .peek = fake_peek, .tcp = fake_tcp, .ctx = f };

	return sc_answer_due(c, &p, NOW, answers);
}

/* A new connection: the client sent a line, the library wrote nothing. */
static const struct sc_conn fresh = { .plain = true, .kept_alive = true };
static const struct fake garbage = { .peek = SC_PEEK_OPEN, .tcp_ok = true,
				     .tcp = { .received = 11, .written = 0, .last_recv_ms = 2 } };

static void test_first_line(void **state)
{
	struct fake f = garbage;
	struct sc_conn c = fresh;

	(void)state;
	assert_true(due(&c, &f, 0));
	f = garbage;
	f.peek = SC_PEEK_EOF; /* sent it, then closed its side: still answered */
	assert_true(due(&c, &f, 0));
	f = garbage;
	f.peek = SC_PEEK_GONE; /* reset */
	assert_false(due(&c, &f, 0));
	f = garbage;
	f.tcp.received = 0; /* connected and left, or timed out without a byte */
	assert_false(due(&c, &f, 0));
	f = garbage;
	f.tcp.written = 300; /* the library answered (400, 505, 414) */
	assert_false(due(&c, &f, 0));
	f = garbage;
	f.tcp.last_recv_ms = SC_RECENT_MS; /* a partial line, then the timeout */
	assert_false(due(&c, &f, 0));
	f = garbage;
	f.tcp_ok = false;
	assert_false(due(&c, &f, 0));
	c = fresh;
	c.in_request = true; /* closed during a request: its completion logged it */
	assert_false(due(&c, &f, 0));
}

/* After an answer that kept the connection open, 300 ms ago. */
static const struct sc_conn after = { .plain = true, .kept_alive = true, .completed = 3,
				      .completed_ms = NOW - 300, .mhd_answers = 7 };

static void test_after_answer(void **state)
{
	struct fake f = garbage;
	struct sc_conn c = after;

	(void)state;
	/* pipelined behind the last request: closed just after its answer */
	f.tcp.last_recv_ms = 300;
	assert_true(due(&c, &f, 7));
	assert_int_equal(f.tcps, 0);
	/* later: data just came */
	c.completed_ms = NOW - 5000;
	f.tcp.last_recv_ms = 1;
	assert_true(due(&c, &f, 7));
	/* the idle timeout */
	f.tcp.last_recv_ms = 5000;
	assert_false(due(&c, &f, 7));
	c = after;
	f = garbage;
	f.peek = SC_PEEK_EOF; /* the client closed: nothing to tell from its last bytes */
	assert_false(due(&c, &f, 7));
	f.peek = SC_PEEK_GONE;
	assert_false(due(&c, &f, 7));
	f = garbage;
	assert_false(due(&c, &f, 8)); /* the library answered a malformed request meanwhile */
	c.kept_alive = false; /* closed after its answer (Connection: close, HTTP/1.0...) */
	assert_false(due(&c, &f, 7));
	assert_int_equal(f.peeks + f.tcps, 0);
}

/* On a TLS listener (tlsclose.h: asked just before the library ends the
 * session): the handshake was written, so only the library's log line
 * says whether it answered; a client that closed is not answered. */
static void test_tls(void **state)
{
	struct fake f = garbage;
	struct sc_conn c = { .kept_alive = true, .mhd_answers = 7 };

	(void)state;
	f.tcp.written = 1500; /* the handshake */
	f.tcp.received = 600;
	assert_true(due(&c, &f, 7)); /* the first line, just now */
	assert_false(due(&c, &f, 8)); /* the library answered it (400, 505, 414) */
	f.peek = SC_PEEK_EOF;         /* a FIN after the handshake */
	assert_false(due(&c, &f, 7));
	f.peek = SC_PEEK_GONE;
	assert_false(due(&c, &f, 7));
	f.peek = SC_PEEK_OPEN;
	f.tcp.last_recv_ms = 5000; /* the idle timeout */
	assert_false(due(&c, &f, 7));
	f.tcp_ok = false;
	assert_false(due(&c, &f, 7));
	/* after an answer that kept it open: pipelined behind it */
	c.completed = 1;
	c.completed_ms = NOW - 100;
	assert_true(due(&c, &f, 7));
	c.kept_alive = false;
	assert_false(due(&c, &f, 7));
	c.kept_alive = true;
	c.in_request = true;
	assert_false(due(&c, &f, 7));
}

/* The probe and the answer on a real connected pair (a socketpair: no
 * TCP_INFO, so the probe says it cannot tell). */
static void test_send(void **state)
{
	int sv[2];
	char buf[4096];
	const char *body = "<p>bad</p>";
	struct sc_tcp t;
	ssize_t n;
	size_t sent;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(sc_peek_fd(&sv[0]), SC_PEEK_OPEN);
	assert_false(sc_tcp_fd(&sv[0], &t));
	assert_int_equal(write(sv[1], "GARBAGE\r\n\r\nGET / HTTP/1.1\r\n\r\n", 29), 29);
	assert_int_equal(sc_peek_fd(&sv[0]), SC_PEEK_OPEN);
	sent = sc_send_400(sv[0], "abc", body, strlen(body));
	assert_int_equal(sc_peek_fd(&sv[0]), SC_PEEK_OPEN); /* what the client sent: dropped */
	n = read(sv[1], buf, sizeof(buf) - 1);
	assert_int_equal((size_t)n, sent);
	buf[n] = '\0';
	assert_true(strncmp(buf, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nDate: ", 51) == 0);
	assert_non_null(strstr(buf, "\r\nX-Request-Id: abc\r\nContent-Length: 10\r\n\r\n<p>bad</p>"));
	assert_int_equal(strlen(buf), sent);
	close(sv[1]);
	assert_int_equal(sc_peek_fd(&sv[0]), SC_PEEK_EOF);
	close(sv[0]);
}

static void test_mhd_answers(void **state)
{
	uint64_t before = sc_mhd_answers();

	(void)state;
	sc_note_mhd_answer();
	assert_int_equal(sc_mhd_answers(), before + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_after_answer),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_mhd_answers),
	};
	return cmocka_run_group_tests_name("silentclose", tests, NULL, NULL);
}
