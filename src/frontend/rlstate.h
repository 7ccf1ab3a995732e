/* rlstate.h -- the protocol state of a request and of a channel in the
 * relay (relay.c), as enums with one transition function each: an event
 * the table does not allow in the current state is refused (-1) and
 * changes nothing, so a worker that sends out of turn is caught by the
 * table, not by a combination of flags.
 *
 * A request has two sides that move independently (a worker may answer
 * before the whole body is sent):
 *   send  NEW -queue-> QUEUED -bind-> BOUND -head sent-> BODY -end sent-> ENDED
 *         (NEW -bind-> BOUND; QUEUED -unqueue-> NEW when the pool goes off;
 *          BOUND -head sent, no body-> ENDED; BODY -discard-> DISCARD (the
 *          worker answered: the rest of the body is dropped) -end sent-> ENDED)
 *   recv  WAIT -head-> HEAD -end-> END | END_ERROR;  WAIT -head+end-> END;
 *         any -fail-> FAILED (channel lost, timeout, pool off; a later
 *         failure replaces the status, as a lost channel after a timeout)
 *
 * A channel, for the request bound to it:
 *   FREE -bind-> OPEN_WAIT, then the worker's side (head, head+end, end)
 *   and ours (end sent) in either order, through OPEN_HEAD, OPEN_DONE,
 *   ENDED_WAIT, ENDED_HEAD to DONE -release-> FREE; OPEN_WAIT -unused->
 *   DONE when the request left before its head went out; any -die-> DEAD.
 *   Body frames are allowed only while a head is in and the end is not. */
#ifndef IDGATE_RLSTATE_H
#define IDGATE_RLSTATE_H

enum rl_send { RL_SEND_NEW, RL_SEND_QUEUED, RL_SEND_BOUND, RL_SEND_BODY, RL_SEND_DISCARD,
	       RL_SEND_ENDED, RL_SEND_N };
enum rl_recv { RL_RECV_WAIT, RL_RECV_HEAD, RL_RECV_END, RL_RECV_END_ERROR, RL_RECV_FAILED,
	       RL_RECV_N };

enum rl_event {
	/* send side */
	RL_EV_QUEUE, RL_EV_UNQUEUE, RL_EV_BIND, RL_EV_HEAD_SENT, RL_EV_HEAD_SENT_ALL,
	RL_EV_DISCARD, RL_EV_END_SENT,
	/* recv side */
	RL_EV_RESP_HEAD, RL_EV_RESP_HEAD_END, RL_EV_RESP_END, RL_EV_RESP_END_ERROR, RL_EV_FAIL,
	RL_EV_N
};

struct rl_proto {
	enum rl_send send;
	enum rl_recv recv;
};

/* 0 with the new state, or -1 (refused, nothing changed). */
int rl_advance(struct rl_proto *s, enum rl_event ev);

enum rl_chan_state { RL_CH_FREE, RL_CH_OPEN_WAIT, RL_CH_OPEN_HEAD, RL_CH_OPEN_DONE,
		     RL_CH_ENDED_WAIT, RL_CH_ENDED_HEAD, RL_CH_DONE, RL_CH_DEAD, RL_CH_N };

enum rl_chan_event { RL_CH_EV_BIND, RL_CH_EV_HEAD, RL_CH_EV_HEAD_END, RL_CH_EV_BODY,
		     RL_CH_EV_END, RL_CH_EV_END_SENT, RL_CH_EV_UNUSED, RL_CH_EV_RELEASE,
		     RL_CH_EV_DIE, RL_CH_EV_N };

int rl_chan_advance(enum rl_chan_state *s, enum rl_chan_event ev);

#endif
