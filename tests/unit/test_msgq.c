/* test_msgq.c -- frames for a peer that stops reading: never a blocked
 * sender, the peer gets every frame in order once it reads again, the
 * queue is bounded in frames and descriptors, and no descriptor leaks. */
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
#include <unistd.h>

#include "fdcount.h"
#include "msgq.h"
#include "wire.h"

/* Send numbered frames until one is queued; returns how many went out. */
static uint32_t fill(struct msgq *q, int sock)
{
	uint32_t i = 0;

	while (msgq_send(q, sock, W_CTL_POOL_STATE, &i, sizeof(i), NULL, 0) == 0)
		i++;
	assert_true(msgq_pending(q));
	return i;
}

/* Read frames and check they are numbered from `from` on; how many. */
static uint32_t drain(int sock, uint32_t from, uint8_t *buf)
{
	struct wire_frame f;
	uint32_t n = 0, v;

	while (wire_recv(sock, buf, &f, MSG_DONTWAIT) == 1) {
		assert_int_equal(f.len, 4);
		memcpy(&v, f.payload, 4);
		assert_int_equal(v, from + n);
		wire_close_fds(&f);
		n++;
	}
	return n;
}

static void test_order_kept(void **state)
{
	uint8_t *buf = malloc(WIRE_MAX_FRAME);
	struct msgq q;
	int sv[2];
	uint32_t sent, more = 0, got = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	msgq_init(&q, 100, 100);
	sent = fill(&q, sv[0]);
	assert_true(sent > 10);
	/* later frames queue behind the first, even when the socket has room */
	got = drain(sv[1], 0, buf);
	assert_int_equal(got, sent);
	for (uint32_t i = sent + 1; i < sent + 5; i++)
		assert_int_equal(msgq_send(&q, sv[0], W_CTL_POOL_STATE, &i, 4, NULL, 0), 1);
	assert_int_equal(q.n, 5);
	/* the peer reads: every frame, in order */
	assert_int_equal(msgq_flush(&q, sv[0]), 0);
	assert_false(msgq_pending(&q));
	more = drain(sv[1], sent, buf);
	assert_int_equal(more, 5);
	close(sv[0]);
	close(sv[1]);
	free(buf);
}

static void test_bounds_and_fds(void **state)
{
	uint8_t *buf = malloc(WIRE_MAX_FRAME);
	struct msgq q;
	int sv[2], fds[3], before;
	uint32_t sent;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	msgq_init(&q, 3, 5);
	sent = fill(&q, sv[0]);
	before = count_open_fds();
	/* the caller's descriptors stay its own: the queue keeps copies */
	assert_int_equal(msgq_send(&q, sv[0], W_CTL_CHANNELS, "x", 1, fds, 3), 1);
	assert_int_equal(count_open_fds(), before + 3);
	assert_int_equal(q.nfds, 3);
	/* 3 + 3 descriptors would be more than 5 */
	errno = 0;
	assert_int_equal(msgq_send(&q, sv[0], W_CTL_CHANNELS, "x", 1, fds, 3), -1);
	assert_int_equal(errno, ENOBUFS);
	/* and a fourth frame more than 3 */
	assert_int_equal(msgq_send(&q, sv[0], W_CTL_POOL_STATE, "y", 1, NULL, 0), 1);
	errno = 0;
	assert_int_equal(msgq_send(&q, sv[0], W_CTL_POOL_STATE, "z", 1, NULL, 0), -1);
	assert_int_equal(errno, ENOBUFS);
	/* delivered: the copies went to the peer and are closed here */
	assert_int_equal(drain(sv[1], 0, buf), sent);
	assert_int_equal(msgq_flush(&q, sv[0]), 0);
	assert_int_equal(count_open_fds(), before);
	/* a peer that is gone: the queue is dropped, copies closed */
	fill(&q, sv[0]);
	assert_int_equal(msgq_send(&q, sv[0], W_CTL_CHANNELS, "x", 1, fds, 3), 1);
	close(sv[1]);
	errno = 0;
	assert_int_equal(msgq_flush(&q, sv[0]), -1);
	assert_true(errno == ECONNRESET || errno == EPIPE); /* unread frames: reset */
	assert_false(msgq_pending(&q));
	assert_int_equal(count_open_fds(), before - 1); /* sv[1] is closed too */
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(sv[0]);
	free(buf);
}

static void test_idle_time(void **state)
{
	struct msgq q;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	msgq_init(&q, 10, 10);
	assert_int_equal(msgq_idle_ms(&q, q.progress_ms + 5000), 0); /* nothing waits */
	fill(&q, sv[0]);
	assert_int_equal(msgq_idle_ms(&q, q.progress_ms + 5000), 5000);
	msgq_clear(&q);
	assert_false(msgq_pending(&q));
	assert_int_equal(msgq_idle_ms(&q, q.progress_ms + 5000), 0);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_kept),
		cmocka_unit_test(test_bounds_and_fds),
		cmocka_unit_test(test_idle_time),
	};
	return cmocka_run_group_tests_name("msgq", tests, NULL, NULL);
}
