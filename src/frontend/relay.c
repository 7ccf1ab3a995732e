/* relay.c -- see relay.h.  A channel's life for one request:
 *
 *   free --bind--> busy: REQ_HEAD, REQ_BODY*, REQ_END|REQ_ABORT  (front end)
 *                        RESP_HEAD, RESP_BODY*, RESP_END         (worker)
 *        --both ends seen--> free          (the states and their tables: rlstate.h)
 *
 * If the request goes away first (client closed), the channel is
 * "draining": it sends REQ_ABORT and drops what the worker still sends
 * until RESP_END, so the next request starts on a clean stream. */
#include "relay.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authn.h"
#include "config.h"
#include "ctlmsg.h"
#include "ctlproto.h"
#include "log.h"
#include "metrics.h"
#include "peers.h"
#include "rlstate.h"
#include "util.h"

#define HIGH_WATER (256u * 1024u) /* stop reading a worker beyond this */
#define LOW_WATER (64u * 1024u)
#define FRAMES_PER_EVENT 16
#define MAX_WATCH 16

enum src_kind { SRC_CHAN = 1, SRC_CTL, SRC_WAKE, SRC_AUTH, SRC_WATCH, SRC_PEER };

struct src {
	enum src_kind kind;
};

struct rl_watch {
	enum src_kind kind; /* first: epoll data points here */
	bool fired;
};

struct rl_chan {
	enum src_kind kind;  /* first: epoll data points here */
	int fd;
	struct rl_pool *pool;
	struct rl_loop *loop; /* whose epoll watches it */
	struct rl_state *req;
	struct rl_chan *next_free;   /* free list, or graveyard once dead */
	enum rl_chan_state state;    /* the exchange on it (rlstate.h) */
	bool retiring;       /* its worker was recycled or stopped: close when free */
	uint32_t tag;        /* which worker of the pool (W_CTL_CHANNELS) */
	bool out_armed, in_paused; /* epoll interest, not protocol state */
};

struct rl_pool {
	pthread_mutex_t lock;
	unsigned index;
	const char *name;
	struct rl_chan **chans;
	size_t nchans;
	struct rl_chan **free_heads; /* one free list per loop */
	struct rl_chan *graveyard;   /* dead; each loop frees its own */
	atomic_size_t ndead;         /* in the graveyard: read unlocked, every loop turn */
	struct rl_state *q_head, *q_tail;
	size_t qlen, qmax;
	uint32_t gen;
	unsigned next_loop;          /* channel k of a generation: loop k % n */
	unsigned disabled;           /* rapid_fail or stopped: Retry-After seconds, or 0 */
	uint32_t state;              /* enum ctl_pool_state */
};

struct rl_loop {
	unsigned index;
	int epfd, wakefd;
	struct src wake_src, auth_src;
	bool kicked;   /* relay_kick() */
	int (*tick)(void *arg);
	void *tick_arg;
	uint8_t *buf;
	struct rl_peer *unwatched; /* waits to watch for a hang-up (watch_later) */
};

#define RL_WATCH_AFTER_MS 200

static struct {
	struct rl_loop *loops;
	unsigned nloops;
	struct rl_pool *pools;
	size_t npools;
	int ctl;
	struct src ctl_src;
	atomic_bool stop;
	uint64_t request_timeout_ms;
	atomic_size_t active;
	relay_ctl_hook hook;
} R = { .ctl = -1 };

static __thread struct rl_loop *cur_loop;

/* ---------------------------------------------------------------- states */

/* A transition of ours the table refuses is a bug here, not the worker's
 * (its frames are checked against the table in on_frame): said loudly. */
static void req_to(struct rl_state *rl, enum rl_event ev)
{
	if (rl_advance(&rl->st, ev) < 0)
		log_msg(LOG_ERR, "relay: request event %d refused in state %d/%d", (int)ev,
			(int)rl->st.send, (int)rl->st.recv);
}

static void chan_to(struct rl_chan *ch, enum rl_chan_event ev)
{
	if (rl_chan_advance(&ch->state, ev) < 0)
		log_msg(LOG_ERR, "relay: channel event %d refused in state %d", (int)ev,
			(int)ch->state);
}

/* A request is on it (or its exchange is not over). */
static bool chan_busy(const struct rl_chan *ch)
{
	return ch->state != RL_CH_FREE && ch->state != RL_CH_DEAD;
}

/* Busy, and our REQ_END or REQ_ABORT has not gone out. */
static bool chan_open(const struct rl_chan *ch)
{
	return ch->state == RL_CH_OPEN_WAIT || ch->state == RL_CH_OPEN_HEAD ||
	       ch->state == RL_CH_OPEN_DONE;
}

static bool head_sent(const struct rl_state *rl)
{
	return rl->st.send >= RL_SEND_BODY;
}

static bool has_resp_head(const struct rl_state *rl)
{
	return rl->st.recv == RL_RECV_HEAD || rl->st.recv == RL_RECV_END ||
	       rl->st.recv == RL_RECV_END_ERROR;
}

static bool resp_over(const struct rl_state *rl)
{
	return rl->st.recv == RL_RECV_END || rl->st.recv == RL_RECV_END_ERROR;
}

/* ---------------------------------------------------------------- helpers */

static void wake_loop(struct rl_loop *l)
{
	uint64_t one = 1;

	if (write(l->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "wake: %m");
}

/* The front end's daemons have no listening socket, and libmicrohttpd
 * then has no wakeup of its own for a resume: the loop that runs the
 * connection is kicked (when it is this one) or woken, and runs it.  (A
 * channel of another loop serves a request when its own loop has none
 * free; its answer used to wait for the home loop's next event.) */
static void resume(struct rl_state *rl)
{
	if (rl->suspended) {
		rl->suspended = false;
		MHD_resume_connection(rl->conn);
		if (rl->home && rl->home != cur_loop)
			wake_loop(rl->home);
		else
			relay_kick();
	}
}

static enum rl_result suspend(struct rl_state *rl)
{
	rl->suspended = true;
	MHD_suspend_connection(rl->conn);
	return RL_SUSPENDED;
}

/* A late REQ_ABORT (wire.h): the whole request reached the worker, which
 * still works, and the client is gone.  Best effort, once.  Pool locked. */
static void tell_worker_client_left(struct rl_state *rl, struct rl_chan *ch)
{
	if (rl->late_abort || !ch ||
	    (ch->state != RL_CH_ENDED_WAIT && ch->state != RL_CH_ENDED_HEAD))
		return;
	rl->late_abort = true;
	wire_send(ch->fd, W_REQ_ABORT, 0, NULL, 0, NULL, 0, MSG_DONTWAIT);
}

/* Watch the client's socket for a hang-up while the request waits for its
 * worker, in this loop's epoll set (this thread runs the connection, so
 * relay_done, which stops the watch, cannot race with an event). */
static void watch_peer(struct rl_state *rl)
{
	const union MHD_ConnectionInfo *ci;
	struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = &rl->peer };

	if (rl->peer.epfd >= 0 || rl->peer_gone || !cur_loop)
		return;
	ci = MHD_get_connection_info(rl->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	rl->peer.kind = SRC_PEER;
	rl->peer.rl = rl;
	rl->peer.fd = ci->connect_fd;
	if (epoll_ctl(cur_loop->epfd, EPOLL_CTL_ADD, rl->peer.fd, &ev) == 0)
		rl->peer.epfd = cur_loop->epfd;
}

/* Watch it for a hang-up if it still waits RL_WATCH_AFTER_MS from now
 * (watch_due, run by this loop); the loop's own thread, as watch_peer. */
static void watch_later(struct rl_state *rl)
{
	struct rl_peer *p = &rl->peer;

	if (p->epfd >= 0 || p->since_ms || rl->peer_gone || !cur_loop)
		return;
	p->rl = rl;
	p->loop = cur_loop;
	p->since_ms = now_ms();
	p->prev = NULL;
	p->next = cur_loop->unwatched;
	if (p->next)
		p->next->prev = p;
	cur_loop->unwatched = p;
}

static void unlist_peer(struct rl_state *rl)
{
	struct rl_peer *p = &rl->peer;

	if (!p->since_ms)
		return;
	if (p->prev)
		p->prev->next = p->next;
	else
		p->loop->unwatched = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	p->since_ms = 0;
}

/* The waits of loop l that are due for their watch; the epoll timeout
 * until the next one is (-1: none). */
static int watch_due(struct rl_loop *l)
{
	uint64_t now = now_ms();
	int timeout = -1;

	for (struct rl_peer *p = l->unwatched, *next; p; p = next) {
		next = p->next;
		if (now >= p->since_ms + RL_WATCH_AFTER_MS) {
			struct rl_state *rl = p->rl;
			unlist_peer(rl);
			watch_peer(rl);
		} else if (timeout < 0 || p->since_ms + RL_WATCH_AFTER_MS - now < (uint64_t)timeout) {
			timeout = (int)(p->since_ms + RL_WATCH_AFTER_MS - now);
		}
	}
	return timeout;
}

static void unwatch_peer(struct rl_state *rl)
{
	unlist_peer(rl);
	if (rl->peer.epfd < 0)
		return;
	epoll_ctl(rl->peer.epfd, EPOLL_CTL_DEL, rl->peer.fd, NULL);
	rl->peer.epfd = -1;
}

static void on_peer_hangup(struct rl_peer *peer)
{
	struct rl_state *rl = peer->rl;

	unwatch_peer(rl); /* the hang-up stays: it would fire again and again */
	rl->peer_gone = true;
	if (!rl->pool)
		return;
	pthread_mutex_lock(&rl->pool->lock);
	tell_worker_client_left(rl, rl->chan);
	pthread_mutex_unlock(&rl->pool->lock);
}

static void update_events(struct rl_chan *ch)
{
	struct epoll_event ev = { .data.ptr = ch };

	if (ch->state == RL_CH_DEAD)
		return;
	if (!ch->in_paused)
		ev.events |= EPOLLIN;
	if (ch->out_armed)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(ch->loop->epfd, EPOLL_CTL_MOD, ch->fd, &ev) < 0)
		log_msg(LOG_ERR, "pool %s: epoll_ctl: %m", ch->pool->name);
}

static void arm_out(struct rl_chan *ch)
{
	if (!ch->out_armed) {
		ch->out_armed = true;
		update_events(ch);
	}
}

static void set_paused(struct rl_chan *ch, bool paused)
{
	if (ch->in_paused != paused) {
		ch->in_paused = paused;
		update_events(ch);
	}
}

static void fail(struct rl_state *rl, int status, const char *reason)
{
	req_to(rl, RL_EV_FAIL);
	rl->fail_status = status;
	if (!rl->reason[0])
		snprintf(rl->reason, sizeof(rl->reason), "%s", reason);
	resume(rl);
}

static void free_chunks(struct rl_state *rl)
{
	struct rl_chunk *c = rl->first, *n;

	for (; c; c = n) {
		n = c->next;
		free(c);
	}
	rl->first = rl->last = NULL;
	rl->buffered = 0;
}

/* ---------------------------------------------------------------- channels */

static unsigned loop_index(void)
{
	return cur_loop ? cur_loop->index : 0;
}

unsigned relay_current_loop(void)
{
	return loop_index();
}

static void push_free(struct rl_pool *p, struct rl_chan *ch)
{
	ch->next_free = p->free_heads[ch->loop->index];
	p->free_heads[ch->loop->index] = ch;
}

/* A free channel, from the caller's loop if it has one. */
static struct rl_chan *pop_free(struct rl_pool *p)
{
	unsigned me = loop_index();

	for (unsigned k = 0; k < R.nloops; k++) {
		unsigned i = (me + k) % R.nloops;
		struct rl_chan *ch = p->free_heads[i];
		if (ch) {
			p->free_heads[i] = ch->next_free;
			return ch;
		}
	}
	return NULL;
}

/* Dead channels are unlinked at once but freed only by the relay thread
 * between two epoll batches: an event already fetched, or a caller up the
 * stack, may still hold the pointer (and sees it is dead). */
static void unlink_chan(struct rl_pool *p, struct rl_chan *ch)
{
	struct rl_chan **pp = &p->free_heads[ch->loop->index];

	for (; *pp; pp = &(*pp)->next_free) {
		if (*pp == ch) {
			*pp = ch->next_free;
			break;
		}
	}
	for (size_t i = 0; i < p->nchans; i++) {
		if (p->chans[i] == ch) {
			p->chans[i] = p->chans[--p->nchans];
			break;
		}
	}
	ch->next_free = p->graveyard;
	p->graveyard = ch;
	atomic_fetch_add(&p->ndead, 1);
}

/* Free the dead channels of loop l (between two of its epoll batches). */
static void reap_graveyards(struct rl_loop *l)
{
	for (size_t i = 0; i < R.npools; i++) {
		struct rl_pool *p = &R.pools[i];
		/* (a channel that dies meanwhile waits for the next turn) */
		if (atomic_load_explicit(&p->ndead, memory_order_relaxed) == 0)
			continue;
		pthread_mutex_lock(&p->lock);
		for (struct rl_chan **pp = &p->graveyard; *pp;) {
			struct rl_chan *ch = *pp;
			if (ch->loop == l) {
				*pp = ch->next_free;
				atomic_fetch_sub(&p->ndead, 1);
				free(ch);
			} else {
				pp = &ch->next_free;
			}
		}
		pthread_mutex_unlock(&p->lock);
	}
}

/* Stop watching and close the channel; its memory waits in the graveyard.
 * Pool locked. */
static void chan_close(struct rl_chan *ch)
{
	chan_to(ch, RL_CH_EV_DIE);
	epoll_ctl(ch->loop->epfd, EPOLL_CTL_DEL, ch->fd, NULL);
	close(ch->fd);
	ch->req = NULL;
	unlink_chan(ch->pool, ch);
}

/* The worker is gone (or broke the protocol): fail the bound request. */
static void chan_dead(struct rl_chan *ch, const char *why)
{
	struct rl_pool *p = ch->pool;
	struct rl_state *rl = ch->req;

	if (ch->state == RL_CH_DEAD)
		return;
	chan_close(ch);
	if (rl) {
		rl->chan = NULL;
		fail(rl, 502, why);
		log_msg(LOG_ERR, "pool %s: channel lost during a request: %s", p->name, why);
	}
}

/* The head may carry delegated credentials: wiped before it is freed. */
static void free_head(struct rl_state *rl)
{
	if (rl->head)
		explicit_bzero(rl->head, rl->head_len);
	free(rl->head);
	rl->head = NULL;
}

static void send_head(struct rl_chan *ch)
{
	struct rl_state *rl = ch->req;
	uint16_t flags = rl->no_body ? W_REQ_END_TOO : 0;

	if (wire_send(ch->fd, W_REQ_HEAD, flags, rl->head, rl->head_len, NULL, 0,
		      MSG_DONTWAIT) < 0) {
		if (errno == EAGAIN)
			arm_out(ch);
		else
			chan_dead(ch, "pool worker closed the channel");
		return;
	}
	req_to(rl, rl->no_body ? RL_EV_HEAD_SENT_ALL : RL_EV_HEAD_SENT);
	if (rl->no_body) /* the head was the whole request */
		chan_to(ch, RL_CH_EV_END_SENT);
	free_head(rl);
}

static void bind_chan(struct rl_chan *ch, struct rl_state *rl)
{
	chan_to(ch, RL_CH_EV_BIND);
	ch->req = rl;
	rl->chan = ch;
	req_to(rl, RL_EV_BIND);
	send_head(ch);
}

static void serve_queue(struct rl_pool *p)
{
	struct rl_chan *ch;

	while (p->q_head && (ch = pop_free(p))) {
		struct rl_state *rl = p->q_head;
		p->q_head = rl->qnext;
		if (!p->q_head)
			p->q_tail = NULL;
		p->qlen--;
		rl->qnext = NULL;
		bind_chan(ch, rl);
		resume(rl);
	}
}

/* Both ends of the exchange seen: the channel can serve the next request. */
static void maybe_release(struct rl_chan *ch)
{
	if (ch->state != RL_CH_DONE)
		return;
	if (ch->req)
		ch->req->chan = NULL;
	ch->req = NULL;
	chan_to(ch, RL_CH_EV_RELEASE);
	if (ch->retiring) { /* its worker was replaced: it ends when its channels do */
		chan_close(ch);
		return;
	}
	if (ch->in_paused)
		set_paused(ch, false);
	push_free(ch->pool, ch);
	serve_queue(ch->pool);
}

/* Send REQ_END, or REQ_ABORT when the body is being dropped. */
static int send_end(struct rl_chan *ch, bool abort)
{
	uint16_t type = abort ? W_REQ_ABORT : W_REQ_END;

	if (wire_send(ch->fd, type, 0, NULL, 0, NULL, 0, MSG_DONTWAIT) < 0) {
		if (errno == EAGAIN) {
			arm_out(ch);
			return 1;
		}
		chan_dead(ch, "pool worker closed the channel");
		return -1;
	}
	chan_to(ch, RL_CH_EV_END_SENT);
	if (ch->req)
		req_to(ch->req, RL_EV_END_SENT);
	maybe_release(ch);
	return 0;
}

/* ---------------------------------------------------------------- HTTP side */

static const char *unavailable_reason(const struct rl_pool *p)
{
	return p->state == CTL_STATE_STOPPED ? "pool stopped by idgatectl"
					     : "pool disabled by rapid_fail";
}

enum rl_result relay_submit(struct rl_state *rl, unsigned pool)
{
	struct rl_pool *p;
	struct rl_chan *ch;
	enum rl_result res = RL_OK;

	if (pool >= R.npools)
		return RL_UNAVAILABLE;
	p = &R.pools[pool];
	pthread_mutex_lock(&p->lock);
	if (p->disabled) {
		rl->retry_after = p->disabled;
		snprintf(rl->reason, sizeof(rl->reason), "%s", unavailable_reason(p));
		pthread_mutex_unlock(&p->lock);
		return RL_UNAVAILABLE;
	}
	rl->pool = p;
	rl->home = cur_loop;
	rl->resp_fd = -1;
	rl->deadline_ms = now_ms() + R.request_timeout_ms;
	ch = pop_free(p);
	if (ch) {
		bind_chan(ch, rl);
	} else if (p->qlen < p->qmax) {
		if (p->q_tail)
			p->q_tail->qnext = rl;
		else
			p->q_head = rl;
		p->q_tail = rl;
		p->qlen++;
		req_to(rl, RL_EV_QUEUE);
	} else {
		res = RL_UNAVAILABLE;
		rl->pool = NULL;
	}
	if (res == RL_OK)
		atomic_fetch_add(&R.active, 1);
	pthread_mutex_unlock(&p->lock);
	return res;
}

/* A worker that answers before reading the whole body, with our buffer
 * full, would deadlock against us pushing the body: drop the body then. */
static bool should_drop_body(const struct rl_state *rl)
{
	return resp_over(rl) || (has_resp_head(rl) && rl->buffered >= HIGH_WATER);
}

enum rl_result relay_upload(struct rl_state *rl, const char *data, size_t *len)
{
	struct rl_pool *p = rl->pool;
	enum rl_result res = RL_OK;

	pthread_mutex_lock(&p->lock);
	while (*len > 0) {
		struct rl_chan *ch = rl->chan;
		if (rl->st.recv == RL_RECV_FAILED || rl->st.send == RL_SEND_DISCARD ||
		    rl->st.send == RL_SEND_ENDED) {
			*len = 0;
			break;
		}
		if (!ch || !head_sent(rl)) {
			res = suspend(rl);
			break;
		}
		size_t n = *len < WIRE_MAX_PAYLOAD ? *len : WIRE_MAX_PAYLOAD;
		if (wire_send(ch->fd, W_REQ_BODY, 0, data, n, NULL, 0, MSG_DONTWAIT) == 0) {
			data += n;
			*len -= n;
			continue;
		}
		if (errno != EAGAIN) {
			chan_dead(ch, "pool worker closed the channel");
			continue;
		}
		if (should_drop_body(rl)) {
			req_to(rl, RL_EV_DISCARD);
			continue;
		}
		arm_out(ch);
		res = suspend(rl);
		break;
	}
	pthread_mutex_unlock(&p->lock);
	return res;
}

enum rl_result relay_await_head(struct rl_state *rl)
{
	struct rl_pool *p = rl->pool;
	enum rl_result res;

	pthread_mutex_lock(&p->lock);
	bool ended = rl->st.send == RL_SEND_ENDED;

	if (rl->st.recv == RL_RECV_FAILED) {
		res = RL_FAILED;
	} else if (!ended && (!rl->chan || !head_sent(rl))) {
		res = suspend(rl);
	} else if (!ended && send_end(rl->chan, rl->st.send == RL_SEND_DISCARD) != 0) {
		res = rl->st.recv == RL_RECV_FAILED ? RL_FAILED : suspend(rl);
	} else if (has_resp_head(rl)) {
		res = RL_READY;
	} else {
		watch_later(rl);
		res = suspend(rl);
	}
	pthread_mutex_unlock(&p->lock);
	return res;
}

ssize_t relay_read(struct rl_state *rl, char *buf, size_t max)
{
	struct rl_pool *p = rl->pool;
	ssize_t res;

	pthread_mutex_lock(&p->lock);
	if (rl->first) {
		struct rl_chunk *c = rl->first;
		size_t n = c->len - c->off;
		if (n > max)
			n = max;
		memcpy(buf, c->data + c->off, n);
		c->off += n;
		rl->buffered -= n;
		if (c->off == c->len) {
			rl->first = c->next;
			if (!rl->first)
				rl->last = NULL;
			free(c);
		}
		if (rl->chan && rl->chan->in_paused && rl->buffered < LOW_WATER)
			set_paused(rl->chan, false);
		res = (ssize_t)n;
	} else if (rl->st.recv == RL_RECV_FAILED || rl->st.recv == RL_RECV_END_ERROR) {
		res = -2;
	} else if (rl->st.recv == RL_RECV_END) {
		res = -1;
	} else {
		watch_later(rl); /* a handler that writes nothing for a while */
		suspend(rl);
		res = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return res;
}

void *relay_take_body(struct rl_state *rl, size_t max, size_t *len)
{
	struct rl_pool *p = rl->pool;
	uint8_t *body = NULL;
	size_t n = 0;

	pthread_mutex_lock(&p->lock);
	if (rl->st.recv != RL_RECV_END || rl->resp.length == WIRE_LEN_UNKNOWN ||
	    rl->resp.length > max || rl->buffered != rl->resp.length)
		goto done;
	body = xmalloc(rl->buffered ? rl->buffered : 1);
	for (struct rl_chunk *c = rl->first; c; c = c->next) {
		memcpy(body + n, c->data + c->off, c->len - c->off);
		n += c->len - c->off;
	}
	free_chunks(rl);
	*len = n;
done:
	pthread_mutex_unlock(&p->lock);
	return body;
}

static void unqueue(struct rl_pool *p, struct rl_state *rl)
{
	struct rl_state **pp = &p->q_head, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->qnext) {
		if (*pp == rl) {
			*pp = rl->qnext;
			if (p->q_tail == rl)
				p->q_tail = prev;
			p->qlen--;
			break;
		}
	}
	req_to(rl, RL_EV_UNQUEUE);
}

void relay_done(struct rl_state *rl)
{
	struct rl_pool *p = rl->pool;
	struct rl_chan *ch;

	unwatch_peer(rl);
	if (!p) {
		free_head(rl);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (rl->st.send == RL_SEND_QUEUED)
		unqueue(p, rl);
	ch = rl->chan;
	if (ch) {
		ch->req = NULL;
		rl->chan = NULL;
		if (ch->in_paused)
			set_paused(ch, false);
		if (chan_open(ch)) {
			if (!head_sent(rl)) /* nothing reached the worker: the channel is clean */
				chan_to(ch, RL_CH_EV_UNUSED);
			else /* when it would block, on_writable sends it */
				send_end(ch, true);
		} else {
			/* the worker skips a late abort that comes after its answer */
			tell_worker_client_left(rl, ch);
		}
		maybe_release(ch);
	}
	free_chunks(rl);
	free_head(rl);
	free(rl->resp.hdrs);
	rl->resp.hdrs = NULL;
	free(rl->resp_buf);
	rl->resp_buf = NULL;
	if (rl->resp_fd >= 0)
		close(rl->resp_fd);
	rl->resp_fd = -1;
	atomic_fetch_sub(&R.active, 1);
	pthread_mutex_unlock(&p->lock);
}

size_t relay_active(void)
{
	return atomic_load(&R.active);
}

/* ---------------------------------------------------------------- worker side */

static bool fd_response_ok(int fd, const struct wire_resp *r)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || r->length == WIRE_LEN_UNKNOWN)
		return false;
	return r->fd_offset <= (uint64_t)st.st_size &&
	       r->length <= (uint64_t)st.st_size - r->fd_offset;
}

static void append_body(struct rl_state *rl, struct rl_chan *ch, const void *p, size_t n)
{
	struct rl_chunk *c = xmalloc(sizeof(*c) + n);

	c->next = NULL;
	c->len = n;
	c->off = 0;
	memcpy(c->data, p, n);
	if (rl->last)
		rl->last->next = c;
	else
		rl->first = c;
	rl->last = c;
	rl->buffered += n;
	rl->body_bytes += n;
	if (rl->buffered >= HIGH_WATER)
		set_paused(ch, true);
}

/* Decode a RESP_HEAD into a copy of its payload (the loop's buffer is
 * reused), and check the file it may come with.  -1 if the worker broke
 * the protocol. */
static int decode_head(const struct wire_frame *f, uint8_t **copy, struct wire_resp *resp)
{
	struct wire_frame c = *f;

	*copy = xmalloc(f->len ? f->len : 1);
	memcpy(*copy, f->payload, f->len);
	c.payload = *copy;
	if (reqm_resp_head_decode(&c, resp) < 0) {
		free(*copy);
		return -1;
	}
	if ((f->flags & W_RESP_FD) && !fd_response_ok(f->fds[0], resp)) {
		free(resp->hdrs);
		free(*copy);
		return -1;
	}
	return 0;
}

static int on_resp_head(struct rl_chan *ch, struct wire_frame *f)
{
	struct rl_state *rl = ch->req;
	struct wire_resp resp;
	uint8_t *copy;

	bool ends = f->flags & (W_RESP_END_TOO | W_RESP_INLINE);

	if (decode_head(f, &copy, &resp) < 0)
		return -1;
	if (!rl || rl->st.recv == RL_RECV_FAILED) { /* draining, or too late: nobody wants it */
		free(resp.hdrs);
		free(copy);
		wire_close_fds(f);
	} else {
		rl->resp = resp;
		rl->resp_buf = copy;
		rl->resp_flags = f->flags;
		rl->resp_fd = (f->flags & W_RESP_FD) ? f->fds[0] : -1;
		f->nfds = 0;
		if (resp.reason && *resp.reason && !rl->reason[0])
			snprintf(rl->reason, sizeof(rl->reason), "%s", resp.reason);
		if (resp.body && resp.body_len)
			append_body(rl, ch, resp.body, resp.body_len);
		req_to(rl, ends ? RL_EV_RESP_HEAD_END : RL_EV_RESP_HEAD);
		resume(rl);
	}
	if (ends)
		maybe_release(ch);
	return 0;
}

static void on_resp_body(struct rl_chan *ch, struct wire_frame *f)
{
	struct rl_state *rl = ch->req;

	if (!rl || f->len == 0)
		return;
	append_body(rl, ch, f->payload, f->len);
	resume(rl);
}

static int on_resp_end(struct rl_chan *ch, struct wire_frame *f)
{
	struct rl_state *rl = ch->req;
	const char *reason;
	bool error;

	if (reqm_resp_end_decode(f, &reason, &error) < 0)
		return -1;
	if (rl && rl->st.recv != RL_RECV_FAILED) {
		req_to(rl, error ? RL_EV_RESP_END_ERROR : RL_EV_RESP_END);
		if (reason && *reason && !rl->reason[0])
			snprintf(rl->reason, sizeof(rl->reason), "%s", reason);
		resume(rl);
	}
	maybe_release(ch);
	return 0;
}

/* What a pool worker may send on a channel (frontend.c's Peers comment). */
static const uint16_t from_worker[] = { W_RESP_HEAD, W_RESP_BODY, W_RESP_END };
static const struct peer_table worker_peer = PEER_TABLE("pool worker", from_worker);

/* What a frame of the worker's means to its channel's state. */
static enum rl_chan_event chan_event(const struct wire_frame *f)
{
	if (f->type == W_RESP_HEAD)
		return f->flags & (W_RESP_END_TOO | W_RESP_INLINE) ? RL_CH_EV_HEAD_END
								   : RL_CH_EV_HEAD;
	return f->type == W_RESP_BODY ? RL_CH_EV_BODY : RL_CH_EV_END;
}

/* One frame from a worker; NULL, or how it broke the protocol.  The
 * channel's table says whether it may come now (nothing on an idle
 * channel, one head, a body or an end only after it). */
static const char *on_frame(struct rl_chan *ch, struct wire_frame *f)
{
	if (!peer_accepts(&worker_peer, f->type))
		return "unexpected message";
	if (rl_chan_advance(&ch->state, chan_event(f)) < 0)
		return "a message out of turn";
	switch (f->type) {
	case W_RESP_HEAD:
		return on_resp_head(ch, f) < 0 ? "malformed" : NULL;
	case W_RESP_BODY:
		if (reqm_resp_body_check(f) < 0)
			return "malformed";
		on_resp_body(ch, f);
		return NULL;
	default:
		return on_resp_end(ch, f) < 0 ? "malformed" : NULL;
	}
}

/* `hup`: the worker hung up; read what is left even past the high-water
 * mark, or a paused channel would report its hang-up forever. */
static void on_readable(struct rl_chan *ch, bool hup)
{
	struct rl_pool *p = ch->pool;
	struct wire_frame f;

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < FRAMES_PER_EVENT && ch->state != RL_CH_DEAD; i++) {
		if (ch->in_paused && ch->req && !hup)
			break;
		int rc = wire_recv(ch->fd, ch->loop->buf, &f, MSG_DONTWAIT);
		if (rc < 0 && errno == EAGAIN)
			break;
		if (rc <= 0) {
			/* a worker that dies with frames of ours unread resets
			 * the channel: closed all the same */
			chan_dead(ch, rc == 0 || errno == ECONNRESET ? "pool worker closed the channel"
								     : "bad frame from pool worker");
			break;
		}
		const char *bad = on_frame(ch, &f);
		if (bad) {
			char name[48];
			log_msg(LOG_ERR, "pool %s: the worker broke the protocol: %s %s; dropping "
				"its channel", p->name, bad,
				peer_type_name(f.type, name, sizeof(name)));
			wire_close_fds(&f);
			chan_dead(ch, "pool worker broke the protocol");
			break;
		}
		wire_close_fds(&f);
		/* the answer is over and the channel idle: the worker sends nothing
		 * before its next request, so no recvmsg that could only say
		 * EAGAIN (a worker breaking that keeps the level-triggered channel
		 * readable: the next epoll_wait brings it) */
		if (!ch->req)
			break;
	}
	pthread_mutex_unlock(&p->lock);
}

static void on_writable(struct rl_chan *ch)
{
	struct rl_pool *p = ch->pool;

	pthread_mutex_lock(&p->lock);
	if (ch->state == RL_CH_DEAD) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	ch->out_armed = false;
	update_events(ch);
	if (ch->req && ch->req->st.send == RL_SEND_BOUND)
		send_head(ch);
	else if (!ch->req && chan_open(ch)) /* the abort relay_done owes */
		send_end(ch, true);
	if (ch->state != RL_CH_DEAD && ch->req)
		resume(ch->req);
	pthread_mutex_unlock(&p->lock);
}

/* ---------------------------------------------------------------- control */

static void add_channels(uint32_t pool, uint32_t gen, struct wire_frame *f)
{
	struct rl_pool *p = &R.pools[pool];

	pthread_mutex_lock(&p->lock);
	if (gen != p->gen) { /* a new worker: its channels start at loop 0 again */
		p->gen = gen;
		p->next_loop = 0;
	}
	for (size_t i = 0; i < f->nfds; i++) {
		struct rl_chan *ch = xcalloc(1, sizeof(*ch));
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ch };
		ch->kind = SRC_CHAN;
		ch->fd = f->fds[i];
		ch->pool = p;
		ch->tag = gen;
		ch->loop = &R.loops[p->next_loop++ % R.nloops];
		set_nonblock(ch->fd, true);
		if (epoll_ctl(ch->loop->epfd, EPOLL_CTL_ADD, ch->fd, &ev) < 0) {
			log_msg(LOG_ERR, "pool %s: epoll_ctl: %m", p->name);
			close(ch->fd);
			free(ch);
			continue;
		}
		p->chans = xreallocarray(p->chans, p->nchans + 1, sizeof(*p->chans));
		p->chans[p->nchans++] = ch;
		push_free(p, ch);
	}
	f->nfds = 0;
	serve_queue(p);
	pthread_mutex_unlock(&p->lock);
}

/* Loop `loop` reads its own channel to the authenticator. */
static void set_auth_socket(uint32_t loop, int fd)
{
	struct rl_loop *l = &R.loops[loop];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->auth_src };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_msg(LOG_ERR, "epoll_ctl (authenticator): %m");
		close(fd);
		return;
	}
	authn_set_socket(loop, fd); /* closing the old one also drops it from epoll */
}

/* rapid_fail disabled the pool, or idgatectl stopped it (retry > 0):
 * queued requests fail now, new ones are refused until it is started. */
static void set_pool_state(uint32_t pool, uint32_t retry, uint32_t state)
{
	struct rl_pool *p = &R.pools[pool];
	bool was;

	pthread_mutex_lock(&p->lock);
	was = p->disabled != 0;
	p->disabled = retry;
	p->state = state;
	while (retry && p->q_head) {
		struct rl_state *rl = p->q_head;
		unqueue(p, rl);
		fail(rl, 503, unavailable_reason(p));
	}
	pthread_mutex_unlock(&p->lock);
	if (was != (retry != 0))
		log_msg(!retry ? LOG_INFO : state == CTL_STATE_STOPPED ? LOG_WARNING : LOG_ERR,
			"pool %s %s", p->name,
			!retry ? "serves again"
			: state == CTL_STATE_STOPPED ? "is stopped (idgatectl): 503 until started"
			: "is disabled (rapid_fail): 503 until started or reloaded");
}

/* A recycled or stopped worker: no new request goes to its channels; a
 * free one closes now, a busy one when its request is over.  The worker
 * exits once all its channels are closed. */
static void retire_channels(uint32_t pool, uint32_t tag)
{
	struct rl_pool *p = &R.pools[pool];
	size_t n = 0;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nchans;) {
		struct rl_chan *ch = p->chans[i];
		if (ch->tag != tag) {
			i++;
			continue;
		}
		ch->retiring = true;
		n++;
		if (ch->state == RL_CH_FREE)
			chan_close(ch); /* moves the last channel into slot i */
		else
			i++;
	}
	pthread_mutex_unlock(&p->lock);
	log_msg(LOG_INFO, "pool %s: %zu channels of the old worker retire", p->name, n);
}

void relay_pool_load(unsigned pool, uint32_t *busy, uint32_t *queued)
{
	struct rl_pool *p;

	*busy = *queued = 0;
	if (pool >= R.npools)
		return;
	p = &R.pools[pool];
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nchans; i++)
		*busy += chan_busy(p->chans[i]);
	*queued = (uint32_t)p->qlen;
	pthread_mutex_unlock(&p->lock);
}

void relay_set_ctl_hook(relay_ctl_hook hook)
{
	R.hook = hook;
}

/* What the supervisor may send us (frontend.c's Peers comment). */
static const uint16_t from_supervisor[] = {
	W_CTL_CHANNELS, W_CTL_AUTHSOCK, W_CTL_POOL_STATE, W_CTL_POOL_RETIRE, W_CTL_STATS_QUERY,
	W_CTL_LOGS,
};
static const struct peer_table supervisor_peer = PEER_TABLE("supervisor", from_supervisor);

/* The supervisor broke the protocol: nothing it says can be trusted to
 * keep the pools right, and only it restarts workers; stop (systemd
 * restarts idgated). */
__attribute__((noreturn)) static void drop_supervisor(const struct wire_frame *f, const char *why)
{
	char name[48];

	log_msg(LOG_ERR, "the supervisor broke the control protocol: %s %s; exiting", why,
		peer_type_name(f->type, name, sizeof(name)));
	_exit(1);
}

/* One control message from the supervisor (loop 0's thread); what is
 * ours is decoded here, the rest by the hook (frontend.c). */
static void on_ctl_frame(struct wire_frame *f)
{
	uint32_t npools = (uint32_t)R.npools;
	union {
		struct ctlm_channels ch;
		struct ctlm_pool_state st;
		struct ctlm_pool_retire rt;
		uint32_t loop;
	} m;

	if (!peer_accepts(&supervisor_peer, f->type))
		drop_supervisor(f, "unexpected message");
	if (f->type == W_CTL_CHANNELS) {
		if (ctlm_channels_decode(f, npools, &m.ch) < 0)
			drop_supervisor(f, "malformed");
		add_channels(m.ch.pool, m.ch.tag, f);
	} else if (f->type == W_CTL_POOL_STATE) {
		if (ctlm_pool_state_decode(f, npools, &m.st) < 0)
			drop_supervisor(f, "malformed");
		set_pool_state(m.st.pool, m.st.retry_after, m.st.state);
		metrics_pool_state(m.st.pool, m.st.state, m.st.restarts);
	} else if (f->type == W_CTL_POOL_RETIRE) {
		if (ctlm_pool_retire_decode(f, npools, &m.rt) < 0)
			drop_supervisor(f, "malformed");
		retire_channels(m.rt.pool, m.rt.tag);
	} else if (f->type == W_CTL_AUTHSOCK) {
		if (ctlm_authsock_decode(f, R.nloops, &m.loop) < 0)
			drop_supervisor(f, "malformed");
		set_auth_socket(m.loop, f->fds[0]);
		f->nfds = 0;
	} else if (R.hook && R.hook(R.ctl, f) < 0) {
		drop_supervisor(f, "malformed");
	}
}


static void on_ctl(struct rl_loop *l)
{
	struct wire_frame f;

	for (;;) {
		int rc = wire_recv(R.ctl, l->buf, &f, MSG_DONTWAIT);
		if (rc < 0 && errno == EAGAIN)
			return;
		if (rc <= 0) {
			/* the supervisor is gone: nobody restarts workers; stop */
			log_msg(LOG_ERR, "supervisor connection lost; exiting");
			_exit(1);
		}
		on_ctl_frame(&f);
		wire_close_fds(&f);
	}
}

void relay_take_ctl_backlog(void)
{
	on_ctl(&R.loops[0]);
}

/* A body still coming in at the deadline: the worker is let go now
 * (REQ_ABORT), or a client trickling its body a byte at a time would hold
 * it as long as it likes.  408 when the client is the slow one, 504 when
 * the worker stopped reading (we wait to write to it).  The front end
 * closes the connection at the client's next byte (or idle_timeout).
 * Pool locked. */
static void abandon_body(struct rl_state *rl, struct rl_chan *ch)
{
	bool worker_slow = rl->suspended && ch->out_armed;

	fail(rl, worker_slow ? 504 : 408,
	     worker_slow ? "pool worker did not read the request body within request_timeout"
			 : "request body not received within request_timeout");
	ch->req = NULL;
	rl->chan = NULL;
	if (ch->in_paused)
		set_paused(ch, false);
	send_end(ch, true); /* or on_writable sends it */
}

/* Requests nobody answered in time: 503 if still queued, 504 if a worker
 * has them (408 if the client still sends the body).  Loop 0 runs it about
 * once a second. */
static void check_deadlines(void)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < R.npools; i++) {
		struct rl_pool *p = &R.pools[i];
		pthread_mutex_lock(&p->lock);
		for (struct rl_state *rl = p->q_head, *next; rl; rl = next) {
			next = rl->qnext;
			if (now >= rl->deadline_ms) {
				unqueue(p, rl);
				fail(rl, 503, "no pool worker became free within request_timeout");
			}
		}
		for (size_t k = 0; k < p->nchans; k++) {
			struct rl_chan *ch = p->chans[k];
			struct rl_state *rl = ch->req;
			if (!rl || rl->st.recv != RL_RECV_WAIT || now < rl->deadline_ms)
				continue;
			if (rl->st.send == RL_SEND_BODY && chan_open(ch))
				abandon_body(rl, ch);
			else
				fail(rl, 504, "pool worker did not answer within request_timeout");
		}
		pthread_mutex_unlock(&p->lock);
	}
}

/* ---------------------------------------------------------------- loops */

static void handle_event(struct rl_loop *l, const struct epoll_event *ev)
{
	struct src *s = ev->data.ptr;
	struct rl_chan *ch;

	switch (s->kind) {
	case SRC_CTL:
		on_ctl(l);
		break;
	case SRC_AUTH:
		authn_on_readable(l->index);
		break;
	case SRC_WAKE: { /* another thread resumed a connection of ours */
		uint64_t v;
		if (read(l->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			log_msg(LOG_ERR, "wake: %m");
		l->kicked = true;
		break;
	}
	case SRC_WATCH:
		((struct rl_watch *)s)->fired = true; /* for the tick */
		break;
	case SRC_PEER:
		on_peer_hangup((struct rl_peer *)s);
		break;
	case SRC_CHAN:
		ch = (struct rl_chan *)s;
		if (ev->events & EPOLLOUT)
			on_writable(ch);
		if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(ch, ev->events & (EPOLLHUP | EPOLLERR));
		break;
	}
}

void relay_loop_run(struct rl_loop *l)
{
	struct epoll_event evs[64];
	uint64_t next_check = now_ms() + 1000;
	int timeout = 1000;

	cur_loop = l;
	while (!atomic_load(&R.stop)) {
		int n = epoll_wait(l->epfd, evs, 64, timeout);
		for (int i = 0; i < n; i++)
			handle_event(l, &evs[i]);
		reap_graveyards(l);
		timeout = l->tick ? l->tick(l->tick_arg) : -1;
		if (timeout < 0 || timeout > 1000)
			timeout = 1000;
		if (l->unwatched) {
			int w = watch_due(l);
			if (w >= 0 && w < timeout)
				timeout = w;
		}
		if (l->index == 0 && now_ms() >= next_check) {
			check_deadlines();
			authn_check_deadlines(now_ms());
			next_check = now_ms() + 1000;
		}
	}
}

static int add_src(struct rl_loop *l, int fd, struct src *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

struct rl_watch *relay_loop_watch(struct rl_loop *l, int fd)
{
	struct rl_watch *w = xcalloc(1, sizeof(*w)); /* for the process's life */

	w->kind = SRC_WATCH;
	if (add_src(l, fd, (struct src *)w) < 0) {
		free(w);
		return NULL;
	}
	return w;
}

bool relay_watch_fired(struct rl_watch *w)
{
	bool fired = w->fired;

	w->fired = false;
	return fired;
}

void relay_kick(void)
{
	if (cur_loop)
		cur_loop->kicked = true;
}

bool relay_loop_kicked(struct rl_loop *l)
{
	bool kicked = l->kicked;

	l->kicked = false;
	return kicked;
}

void relay_loop_set_tick(struct rl_loop *l, int (*tick)(void *), void *arg)
{
	l->tick = tick;
	l->tick_arg = arg;
}

struct rl_loop *relay_loop(unsigned i)
{
	return &R.loops[i];
}

unsigned relay_nloops(void)
{
	return R.nloops;
}

static int init_loop(struct rl_loop *l, unsigned i)
{
	l->index = i;
	l->buf = xmalloc(WIRE_MAX_FRAME);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->wake_src.kind = SRC_WAKE;
	l->auth_src.kind = SRC_AUTH;
	if (l->epfd < 0 || l->wakefd < 0 || add_src(l, l->wakefd, &l->wake_src) < 0)
		return -1;
	return 0;
}

int relay_init(const struct config *c, int ctl, unsigned nloops)
{
	R.nloops = nloops;
	R.loops = xcalloc(nloops, sizeof(*R.loops));
	for (unsigned i = 0; i < nloops; i++)
		if (init_loop(&R.loops[i], i) < 0)
			return -1;
	R.npools = c->npools;
	R.pools = xcalloc(c->npools, sizeof(*R.pools));
	pthread_mutexattr_t spin;
	pthread_mutexattr_init(&spin);
	pthread_mutexattr_settype(&spin, PTHREAD_MUTEX_ADAPTIVE_NP);
	for (size_t i = 0; i < c->npools; i++) {
		pthread_mutex_init(&R.pools[i].lock, &spin);
		R.pools[i].index = (unsigned)i;
		R.pools[i].name = c->pools[i].name;
		R.pools[i].qmax = c->server.queue;
		R.pools[i].free_heads = xcalloc(nloops, sizeof(struct rl_chan *));
	}
	pthread_mutexattr_destroy(&spin);
	R.request_timeout_ms = c->server.request_timeout_ms;
	R.ctl = ctl;
	set_nonblock(ctl, true);
	R.ctl_src.kind = SRC_CTL;
	return add_src(&R.loops[0], ctl, &R.ctl_src);
}

void relay_wake_all(void)
{
	for (unsigned i = 0; i < R.nloops; i++)
		wake_loop(&R.loops[i]);
}

void relay_stop(void)
{
	atomic_store(&R.stop, true);
	relay_wake_all();
}
