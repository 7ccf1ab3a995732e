/* rlstate.c -- see rlstate.h.  The tables list the allowed transitions;
 * every other entry is 0, which the functions read as "refused" (each
 * next state is stored plus one). */
#include "rlstate.h"

#define TO(s) ((s) + 1)

static const unsigned char send_table[RL_SEND_N][RL_EV_N] = {
	[RL_SEND_NEW] = { [RL_EV_QUEUE] = TO(RL_SEND_QUEUED), [RL_EV_BIND] = TO(RL_SEND_BOUND) },
	[RL_SEND_QUEUED] = { [RL_EV_BIND] = TO(RL_SEND_BOUND), [RL_EV_UNQUEUE] = TO(RL_SEND_NEW) },
	[RL_SEND_BOUND] = { [RL_EV_HEAD_SENT] = TO(RL_SEND_BODY),
			    [RL_EV_HEAD_SENT_ALL] = TO(RL_SEND_ENDED) },
	[RL_SEND_BODY] = { [RL_EV_DISCARD] = TO(RL_SEND_DISCARD),
			   [RL_EV_END_SENT] = TO(RL_SEND_ENDED) },
	[RL_SEND_DISCARD] = { [RL_EV_END_SENT] = TO(RL_SEND_ENDED) },
};

static const unsigned char recv_table[RL_RECV_N][RL_EV_N] = {
	[RL_RECV_WAIT] = { [RL_EV_RESP_HEAD] = TO(RL_RECV_HEAD),
			   [RL_EV_RESP_HEAD_END] = TO(RL_RECV_END),
			   [RL_EV_FAIL] = TO(RL_RECV_FAILED) },
	[RL_RECV_HEAD] = { [RL_EV_RESP_END] = TO(RL_RECV_END),
			   [RL_EV_RESP_END_ERROR] = TO(RL_RECV_END_ERROR),
			   [RL_EV_FAIL] = TO(RL_RECV_FAILED) },
	[RL_RECV_END] = { [RL_EV_FAIL] = TO(RL_RECV_FAILED) },
	[RL_RECV_END_ERROR] = { [RL_EV_FAIL] = TO(RL_RECV_FAILED) },
	[RL_RECV_FAILED] = { [RL_EV_FAIL] = TO(RL_RECV_FAILED) },
};

int rl_advance(struct rl_proto *s, enum rl_event ev)
{
	unsigned next;

	if ((unsigned)ev >= RL_EV_N || (unsigned)s->send >= RL_SEND_N ||
	    (unsigned)s->recv >= RL_RECV_N)
		return -1;
	if (ev < RL_EV_RESP_HEAD) {
		next = send_table[s->send][ev];
		if (!next)
			return -1;
		s->send = (enum rl_send)(next - 1);
	} else {
		next = recv_table[s->recv][ev];
		if (!next)
			return -1;
		s->recv = (enum rl_recv)(next - 1);
	}
	return 0;
}

static const unsigned char chan_table[RL_CH_N][RL_CH_EV_N] = {
	[RL_CH_FREE] = { [RL_CH_EV_BIND] = TO(RL_CH_OPEN_WAIT), [RL_CH_EV_DIE] = TO(RL_CH_DEAD) },
	[RL_CH_OPEN_WAIT] = { [RL_CH_EV_HEAD] = TO(RL_CH_OPEN_HEAD),
			      [RL_CH_EV_HEAD_END] = TO(RL_CH_OPEN_DONE),
			      [RL_CH_EV_END_SENT] = TO(RL_CH_ENDED_WAIT),
			      [RL_CH_EV_UNUSED] = TO(RL_CH_DONE),
			      [RL_CH_EV_DIE] = TO(RL_CH_DEAD) },
	[RL_CH_OPEN_HEAD] = { [RL_CH_EV_BODY] = TO(RL_CH_OPEN_HEAD),
			      [RL_CH_EV_END] = TO(RL_CH_OPEN_DONE),
			      [RL_CH_EV_END_SENT] = TO(RL_CH_ENDED_HEAD),
			      [RL_CH_EV_DIE] = TO(RL_CH_DEAD) },
	[RL_CH_OPEN_DONE] = { [RL_CH_EV_END_SENT] = TO(RL_CH_DONE),
			      [RL_CH_EV_DIE] = TO(RL_CH_DEAD) },
	[RL_CH_ENDED_WAIT] = { [RL_CH_EV_HEAD] = TO(RL_CH_ENDED_HEAD),
			       [RL_CH_EV_HEAD_END] = TO(RL_CH_DONE),
			       [RL_CH_EV_DIE] = TO(RL_CH_DEAD) },
	[RL_CH_ENDED_HEAD] = { [RL_CH_EV_BODY] = TO(RL_CH_ENDED_HEAD),
			       [RL_CH_EV_END] = TO(RL_CH_DONE),
			       [RL_CH_EV_DIE] = TO(RL_CH_DEAD) },
	[RL_CH_DONE] = { [RL_CH_EV_RELEASE] = TO(RL_CH_FREE), [RL_CH_EV_DIE] = TO(RL_CH_DEAD) },
};

int rl_chan_advance(enum rl_chan_state *s, enum rl_chan_event ev)
{
	unsigned next;

	if ((unsigned)ev >= RL_CH_EV_N || (unsigned)*s >= RL_CH_N)
		return -1;
	next = chan_table[*s][ev];
	if (!next)
		return -1;
	*s = (enum rl_chan_state)(next - 1);
	return 0;
}
