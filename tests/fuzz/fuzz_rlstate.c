/* fuzz_rlstate.c -- the relay's protocol state (src/frontend/rlstate.c):
 * the tables that decide, frame by frame, whether what a pool worker sends
 * on a channel (a head, a head that ends the response, body frames, the
 * end) and what the front end does (bind, send, release) may come now.  A
 * worker that runs a compromised handler sends whatever it likes in any
 * order; the tables are what catches it.
 *
 * Input: a sequence of events, a byte each (the low bit picks the machine:
 * a request's or a channel's).  Properties: a refused event changes
 * nothing; a state is always one of the enum's; on a channel, between a
 * bind and its release, the worker's accepted frames are one response --
 * a head, body frames only after it, one end, nothing after the end --
 * and the front end's end comes once; a dead channel takes nothing but
 * death again; a request takes one response head, sends one head and one
 * end, and once failed takes no response frame but another failure. */
#include <string.h>

#include "fuzz.h"
#include "rlstate.h"

/* What the channel's worker side has done since the bind. */
struct chan_model {
	bool bound, head, end, end_sent, dead;
};

static void channel_event(enum rl_chan_state *s, struct chan_model *m, enum rl_chan_event ev)
{
	enum rl_chan_state before = *s;
	int rc = rl_chan_advance(s, ev);

	FZ_CHECK(*s < RL_CH_N);
	if (rc < 0) {
		FZ_CHECK(*s == before);
		return;
	}
	FZ_CHECK(!m->dead || ev == RL_CH_EV_DIE);
	switch (ev) {
	case RL_CH_EV_BIND:
		FZ_CHECK(!m->bound);
		*m = (struct chan_model){ .bound = true };
		break;
	case RL_CH_EV_HEAD:
	case RL_CH_EV_HEAD_END:
		FZ_CHECK(m->bound && !m->head && !m->end);
		m->head = true;
		m->end = ev == RL_CH_EV_HEAD_END;
		break;
	case RL_CH_EV_BODY:
		FZ_CHECK(m->bound && m->head && !m->end);
		break;
	case RL_CH_EV_END:
		FZ_CHECK(m->bound && m->head && !m->end);
		m->end = true;
		break;
	case RL_CH_EV_END_SENT:
		FZ_CHECK(m->bound && !m->end_sent);
		m->end_sent = true;
		break;
	case RL_CH_EV_UNUSED:
		FZ_CHECK(m->bound && !m->head && !m->end_sent);
		m->head = m->end = m->end_sent = true;
		break;
	case RL_CH_EV_RELEASE:
		FZ_CHECK(m->bound && m->head && m->end && m->end_sent);
		*m = (struct chan_model){ .bound = false };
		break;
	default:
		m->dead = true;
		break;
	}
}

struct req_model {
	bool head_in, head_out, end_out, failed, ended;
};

static void request_event(struct rl_proto *s, struct req_model *m, enum rl_event ev)
{
	struct rl_proto before = *s;
	int rc = rl_advance(s, ev);

	FZ_CHECK(s->send < RL_SEND_N && s->recv < RL_RECV_N);
	if (rc < 0) {
		FZ_CHECK(s->send == before.send && s->recv == before.recv);
		return;
	}
	FZ_CHECK(!m->failed || ev == RL_EV_FAIL || ev < RL_EV_RESP_HEAD);
	switch (ev) {
	case RL_EV_RESP_HEAD:
	case RL_EV_RESP_HEAD_END:
		FZ_CHECK(!m->head_in);
		m->head_in = true;
		m->ended = ev == RL_EV_RESP_HEAD_END;
		break;
	case RL_EV_RESP_END:
	case RL_EV_RESP_END_ERROR:
		FZ_CHECK(m->head_in && !m->ended);
		m->ended = true;
		break;
	case RL_EV_FAIL:
		m->failed = true;
		break;
	case RL_EV_HEAD_SENT:
	case RL_EV_HEAD_SENT_ALL:
		FZ_CHECK(!m->head_out);
		m->head_out = true;
		m->end_out = ev == RL_EV_HEAD_SENT_ALL;
		break;
	case RL_EV_END_SENT:
		FZ_CHECK(m->head_out && !m->end_out);
		m->end_out = true;
		break;
	case RL_EV_DISCARD:
		FZ_CHECK(m->head_out && !m->end_out);
		break;
	default:
		FZ_CHECK(!m->head_out);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum rl_chan_state ch = RL_CH_FREE;
	struct chan_model cm = { .bound = false };
	struct rl_proto rq = { RL_SEND_NEW, RL_RECV_WAIT };
	struct req_model rm = { .head_in = false };

	for (size_t i = 0; i < size; i++) {
		if (data[i] & 1)
			channel_event(&ch, &cm, (enum rl_chan_event)(data[i] / 2 % (RL_CH_EV_N + 1)));
		else
			request_event(&rq, &rm, (enum rl_event)(data[i] / 2 % (RL_EV_N + 1)));
	}
	return 0;
}
