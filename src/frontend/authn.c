/* authn.c -- see authn.h.  Answers are matched to questions by a tag;
 * anything the authenticator sends that matches no question is dropped.
 *
 * Each event loop has a channel of its own: a question is asked, and its
 * answer read, by the loop that owns the connection, so the resumed
 * connection is run by that loop's next MHD_run, on its CPU, with no other
 * thread involved.  (One channel read by one thread cost milliseconds a
 * request: with cpu_affinity, every answer waited for CPU 0.)  Only
 * failures that come from elsewhere -- a channel replaced or lost, a
 * deadline, seen by the relay's thread -- resume connections of other
 * loops, and wake them (relay_wake_all): MHD_resume_connection from
 * another thread may otherwise wait for that loop's next tick. */
#include "authn.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "peers.h"
#include "relay.h"
#include "util.h"
#include "wire.h"

struct chan {
	pthread_mutex_t lock;
	int sock;
	uint64_t next_tag;
	struct authn_wait *pending;
	bool resumed;        /* from another thread, since the loops were woken */
	uint8_t *buf;
};

static struct chan *chans;
static unsigned nchans;

void authn_init(unsigned nloops)
{
	nchans = nloops;
	chans = xcalloc(nloops, sizeof(*chans));
	for (unsigned i = 0; i < nloops; i++) {
		pthread_mutex_init(&chans[i].lock, NULL);
		chans[i].sock = -1;
		chans[i].next_tag = 1;
		chans[i].buf = xmalloc(WIRE_MAX_FRAME);
	}
}

/* The calling loop's channel (the relay's thread: loop 0's). */
static struct chan *my_chan(void)
{
	unsigned i = relay_current_loop();

	return &chans[i < nchans ? i : 0];
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
	return p ? xmemdup(p, n) : NULL;
}

static void take_answer(struct authn_answer *a, const struct authn_reply *m)
{
	a->status = (int)m->status;
	a->outcome = (int)m->outcome;
	a->basic_events = m->basic_events;
	a->reason = xstrdup(m->reason);
	a->nhdr = (int)m->nhdrs;
	for (int i = 0; i < a->nhdr; i++) {
		a->hdr_name[i] = xstrdup(m->hdrs[i].name);
		a->hdr_value[i] = xstrdup(m->hdrs[i].value);
	}
	a->principal = dup_or_null(m->principal);
	a->user = dup_or_null(m->user);
	a->uid = m->uid;
	a->gid = m->gid;
	a->level = (int)m->level;
	a->anonymous = m->anonymous;
	a->scheme = m->scheme;
	a->groups_left_out = xstrdup(m->groups_left_out);
	a->verdict = dup_bytes(m->verdict, m->verdict_len);
	a->verdict_len = m->verdict_len;
	a->conn_verdict = dup_bytes(m->conn_verdict, m->conn_verdict_len);
	a->conn_verdict_len = m->conn_verdict_len;
	a->conn_expires_ms = m->conn_expires_ms;
	a->cookie_verdict = m->session_digest != NULL;
	if (a->cookie_verdict)
		memcpy(a->session_digest, m->session_digest, VERDICT_DIGEST_LEN);
}

void authn_answer_free(struct authn_answer *a)
{
	free(a->reason);
	for (int i = 0; i < a->nhdr; i++) {
		free(a->hdr_name[i]);
		free(a->hdr_value[i]);
	}
	free(a->principal);
	free(a->user);
	free(a->groups_left_out);
	free(a->verdict);
	free(a->conn_verdict);
	memset(a, 0, sizeof(*a));
}

static void finish(struct chan *c, struct authn_wait *w, const struct authn_reply *m,
		   const char *why)
{
	w->pending = false;
	w->answered = true;
	if (m) {
		take_answer(&w->ans, m);
	} else {
		w->ans.status = 503;
		w->ans.outcome = M_AUTH_UNAVAILABLE;
		w->ans.reason = xstrdup(why);
	}
	MHD_resume_connection(w->conn);
	relay_kick();
	c->resumed = true;
}

/* After the lock: the loops pick up what finish() resumed from another
 * thread (see above). */
static void wake_loops(struct chan *c)
{
	bool wake;

	pthread_mutex_lock(&c->lock);
	wake = c->resumed;
	c->resumed = false;
	pthread_mutex_unlock(&c->lock);
	if (wake)
		relay_wake_all();
}

/* Everything outstanding fails: the authenticator is gone. */
static void fail_all(struct chan *c)
{
	while (c->pending) {
		struct authn_wait *w = c->pending;
		c->pending = w->next;
		finish(c, w, NULL, "the authenticator is unavailable");
	}
}

void authn_set_socket(unsigned loop, int fd)
{
	struct chan *c = &chans[loop];

	pthread_mutex_lock(&c->lock);
	if (c->sock >= 0)
		close(c->sock);
	c->sock = fd;
	set_nonblock(fd, true);
	fail_all(c);
	pthread_mutex_unlock(&c->lock);
	wake_loops(c);
}

int authn_ask(struct authn_wait *w, struct authn_request *q)
{
	struct chan *c = my_chan();
	struct wbuf b;
	int rc = -1;

	wb_init(&b);
	pthread_mutex_lock(&c->lock);
	w->chan = (unsigned)(c - chans);
	w->tag = q->tag = c->next_tag++;
	w->answered = false;
	w->deadline_ms = now_ms() + AUTHN_TIMEOUT_MS;
	authn_request_encode(&b, q);
	if (c->sock >= 0 && !b.overflow &&
	    wire_send(c->sock, W_AUTHN_REQ, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT) == 0) {
		w->pending = true;
		w->next = c->pending;
		c->pending = w;
		MHD_suspend_connection(w->conn);
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	explicit_bzero(b.p, b.cap); /* it held the client's credentials */
	wb_free(&b);
	return rc;
}

void authn_conn_end(uint64_t conn_id)
{
	struct chan *c = my_chan();
	struct wbuf b;

	wb_init(&b);
	authn_conn_end_encode(&b, conn_id);
	pthread_mutex_lock(&c->lock);
	if (c->sock >= 0)
		wire_send(c->sock, W_AUTHN_CONN_END, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT);
	pthread_mutex_unlock(&c->lock);
	wb_free(&b);
}

void authn_forget(struct authn_wait *w)
{
	struct chan *c = &chans[w->chan < nchans ? w->chan : 0];

	pthread_mutex_lock(&c->lock);
	if (w->pending) {
		for (struct authn_wait **pp = &c->pending; *pp; pp = &(*pp)->next) {
			if (*pp == w) {
				*pp = w->next;
				break;
			}
		}
	}
	w->pending = false;
	pthread_mutex_unlock(&c->lock);
	authn_answer_free(&w->ans);
}

static const uint16_t from_authenticator[] = { W_AUTHN_REPLY };
static const struct peer_table authenticator_peer =
	PEER_TABLE("authenticator", from_authenticator);

/* An answer; -1 if the authenticator broke the protocol. */
static int on_answer(struct chan *c, const struct wire_frame *f)
{
	struct authn_reply m;
	char name[48];

	if (!peer_accepts(&authenticator_peer, f->type)) {
		log_msg(LOG_ERR, "the authenticator broke the protocol: unexpected message %s; "
			"dropping it", peer_type_name(f->type, name, sizeof(name)));
		return -1;
	}
	if (authn_reply_decode(f, &m) < 0) {
		log_msg(LOG_ERR, "the authenticator broke the protocol: a malformed answer; "
			"dropping it");
		return -1;
	}
	for (struct authn_wait **pp = &c->pending; *pp; pp = &(*pp)->next) {
		struct authn_wait *w = *pp;
		if (w->tag == m.tag) {
			*pp = w->next;
			finish(c, w, &m, NULL);
			break;
		}
	}
	return 0;
}

static void check_chan_deadlines(struct chan *c, uint64_t now)
{
	pthread_mutex_lock(&c->lock);
	for (struct authn_wait **pp = &c->pending; *pp;) {
		struct authn_wait *w = *pp;
		if (w->deadline_ms > now) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		log_msg(LOG_ERR, "the authenticator did not answer question %llu in %u s",
			(unsigned long long)w->tag, AUTHN_TIMEOUT_MS / 1000);
		finish(c, w, NULL, "the authenticator did not answer in time");
	}
	pthread_mutex_unlock(&c->lock);
	wake_loops(c);
}

void authn_check_deadlines(uint64_t now)
{
	for (unsigned i = 0; i < nchans; i++)
		check_chan_deadlines(&chans[i], now);
}

/* The authenticator is gone or dropped: every question waiting fails
 * (503); the supervisor starts a new one and sends its channel. */
static void lose_authenticator(struct chan *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	fail_all(c);
}

/* (in the loop that owns the channel: its resumes need no wake-up, the
 * loop's MHD_run comes next) */
void authn_on_readable(unsigned loop)
{
	struct chan *c = &chans[loop];
	struct wire_frame f;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		int rc = c->sock >= 0 ? wire_recv(c->sock, c->buf, &f, MSG_DONTWAIT) : -1;
		if (rc < 0 && errno == EAGAIN)
			break;
		if (rc <= 0) {
			log_msg(LOG_ERR, "authenticator connection lost");
			lose_authenticator(c);
			break;
		}
		rc = on_answer(c, &f);
		explicit_bzero(c->buf, WIRE_HDR + f.len); /* sealed credentials; still */
		wire_close_fds(&f);
		if (rc < 0) {
			lose_authenticator(c);
			break;
		}
		/* nothing asked: a recvmsg now could only say EAGAIN (anything
		 * else the authenticator sent keeps the level-triggered channel
		 * readable, and comes at the next epoll_wait) */
		if (!c->pending)
			break;
	}
	c->resumed = false; /* this loop's own: its MHD_run comes next */
	pthread_mutex_unlock(&c->lock);
}
