/* test_rlstate.c -- the relay's state tables (rlstate.h): every state and
 * event of a request and of a channel, the allowed transitions with their
 * new state, and every other one refused with nothing changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rlstate.h"

struct move {
	int from, ev, to;
};

/* The send side of a request: written out here, not derived from the code. */
static const struct move send_moves[] = {
	{ RL_SEND_NEW, RL_EV_QUEUE, RL_SEND_QUEUED },
	{ RL_SEND_NEW, RL_EV_BIND, RL_SEND_BOUND },
	{ RL_SEND_QUEUED, RL_EV_BIND, RL_SEND_BOUND },
	{ RL_SEND_QUEUED, RL_EV_UNQUEUE, RL_SEND_NEW },
	{ RL_SEND_BOUND, RL_EV_HEAD_SENT, RL_SEND_BODY },
	{ RL_SEND_BOUND, RL_EV_HEAD_SENT_ALL, RL_SEND_ENDED },
	{ RL_SEND_BODY, RL_EV_DISCARD, RL_SEND_DISCARD },
	{ RL_SEND_BODY, RL_EV_END_SENT, RL_SEND_ENDED },
	{ RL_SEND_DISCARD, RL_EV_END_SENT, RL_SEND_ENDED },
};

static const struct move recv_moves[] = {
	{ RL_RECV_WAIT, RL_EV_RESP_HEAD, RL_RECV_HEAD },
	{ RL_RECV_WAIT, RL_EV_RESP_HEAD_END, RL_RECV_END },
	{ RL_RECV_HEAD, RL_EV_RESP_END, RL_RECV_END },
	{ RL_RECV_HEAD, RL_EV_RESP_END_ERROR, RL_RECV_END_ERROR },
	{ RL_RECV_WAIT, RL_EV_FAIL, RL_RECV_FAILED },
	{ RL_RECV_HEAD, RL_EV_FAIL, RL_RECV_FAILED },
	{ RL_RECV_END, RL_EV_FAIL, RL_RECV_FAILED },
	{ RL_RECV_END_ERROR, RL_EV_FAIL, RL_RECV_FAILED },
	{ RL_RECV_FAILED, RL_EV_FAIL, RL_RECV_FAILED },
};

static const struct move chan_moves[] = {
	{ RL_CH_FREE, RL_CH_EV_BIND, RL_CH_OPEN_WAIT },
	{ RL_CH_OPEN_WAIT, RL_CH_EV_HEAD, RL_CH_OPEN_HEAD },
	{ RL_CH_OPEN_WAIT, RL_CH_EV_HEAD_END, RL_CH_OPEN_DONE },
	{ RL_CH_OPEN_WAIT, RL_CH_EV_END_SENT, RL_CH_ENDED_WAIT },
	{ RL_CH_OPEN_WAIT, RL_CH_EV_UNUSED, RL_CH_DONE },
	{ RL_CH_OPEN_HEAD, RL_CH_EV_BODY, RL_CH_OPEN_HEAD },
	{ RL_CH_OPEN_HEAD, RL_CH_EV_END, RL_CH_OPEN_DONE },
	{ RL_CH_OPEN_HEAD, RL_CH_EV_END_SENT, RL_CH_ENDED_HEAD },
	{ RL_CH_OPEN_DONE, RL_CH_EV_END_SENT, RL_CH_DONE },
	{ RL_CH_ENDED_WAIT, RL_CH_EV_HEAD, RL_CH_ENDED_HEAD },
	{ RL_CH_ENDED_WAIT, RL_CH_EV_HEAD_END, RL_CH_DONE },
	{ RL_CH_ENDED_HEAD, RL_CH_EV_BODY, RL_CH_ENDED_HEAD },
	{ RL_CH_ENDED_HEAD, RL_CH_EV_END, RL_CH_DONE },
	{ RL_CH_DONE, RL_CH_EV_RELEASE, RL_CH_FREE },
	{ RL_CH_FREE, RL_CH_EV_DIE, RL_CH_DEAD },
	{ RL_CH_OPEN_WAIT, RL_CH_EV_DIE, RL_CH_DEAD },
	{ RL_CH_OPEN_HEAD, RL_CH_EV_DIE, RL_CH_DEAD },
	{ RL_CH_OPEN_DONE, RL_CH_EV_DIE, RL_CH_DEAD },
	{ RL_CH_ENDED_WAIT, RL_CH_EV_DIE, RL_CH_DEAD },
	{ RL_CH_ENDED_HEAD, RL_CH_EV_DIE, RL_CH_DEAD },
	{ RL_CH_DONE, RL_CH_EV_DIE, RL_CH_DEAD },
};

/* The allowed move from `from` on `ev`, or -1. */
static int expected(const struct move *m, size_t n, int from, int ev)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].from == from && m[i].ev == ev)
			return m[i].to;
	return -1;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_request_table(void **state)
{
	size_t allowed = 0;

	(void)state;
	for (int send = 0; send < RL_SEND_N; send++) {
		for (int recv = 0; recv < RL_RECV_N; recv++) {
			for (int ev = 0; ev < RL_EV_N; ev++) {
				struct rl_proto s = { (enum rl_send)send, (enum rl_recv)recv };
				bool is_send = ev < RL_EV_RESP_HEAD;
				int to = is_send ? expected(send_moves, N(send_moves), send, ev)
						 : expected(recv_moves, N(recv_moves), recv, ev);
				int rc = rl_advance(&s, (enum rl_event)ev);
				if (to < 0) {
					assert_int_equal(rc, -1);
					assert_int_equal(s.send, send);
					assert_int_equal(s.recv, recv);
					continue;
				}
				allowed++;
				assert_int_equal(rc, 0);
				assert_int_equal(is_send ? (int)s.send : (int)s.recv, to);
				assert_int_equal(is_send ? (int)s.recv : (int)s.send,
						 is_send ? recv : send); /* the other side stays */
			}
		}
	}
	/* each listed move, once for every state of the other side */
	assert_int_equal(allowed, N(send_moves) * RL_RECV_N + N(recv_moves) * RL_SEND_N);
	/* out of range */
	struct rl_proto s = { RL_SEND_NEW, RL_RECV_WAIT };
	assert_int_equal(rl_advance(&s, RL_EV_N), -1);
	s.send = RL_SEND_N;
	assert_int_equal(rl_advance(&s, RL_EV_BIND), -1);
}

static void test_channel_table(void **state)
{
	size_t allowed = 0;

	(void)state;
	for (int st = 0; st < RL_CH_N; st++) {
		for (int ev = 0; ev < RL_CH_EV_N; ev++) {
			enum rl_chan_state s = (enum rl_chan_state)st;
			int to = expected(chan_moves, N(chan_moves), st, ev);
			int rc = rl_chan_advance(&s, (enum rl_chan_event)ev);
			if (to < 0) {
				assert_int_equal(rc, -1);
				assert_int_equal(s, st);
			} else {
				allowed++;
				assert_int_equal(rc, 0);
				assert_int_equal(s, to);
			}
		}
	}
	assert_int_equal(allowed, N(chan_moves));
	enum rl_chan_state s = RL_CH_FREE;
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_N), -1);
	s = RL_CH_N;
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_BIND), -1);
}

/* A worker that answers before the body is in, then our end: the channel
 * is done only when both ends are; what a worker may not send is refused. */
static void test_channel_exchange(void **state)
{
	enum rl_chan_state s = RL_CH_FREE;

	(void)state;
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_HEAD), -1); /* on an idle channel */
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_BIND), 0);
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_BODY), -1); /* before the head */
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_END), -1);
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_HEAD), 0);
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_HEAD), -1); /* a second head */
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_BODY), 0);
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_END), 0);
	assert_int_equal(s, RL_CH_OPEN_DONE);
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_BODY), -1); /* after its end */
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_RELEASE), -1); /* ours is not out */
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_END_SENT), 0);
	assert_int_equal(rl_chan_advance(&s, RL_CH_EV_RELEASE), 0);
	assert_int_equal(s, RL_CH_FREE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_table),
		cmocka_unit_test(test_channel_table),
		cmocka_unit_test(test_channel_exchange),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
