/* authn.c -- see authn.h.  Answers are matched to questions by a tag;
 * anything the authenticator sends that matches no question is dropped.
 *
 * Answers arrive on the relay thread, and the connection may belong to
 * any loop.  MHD_resume_connection from another thread signals the
 * daemon's ITC, but the owning loop can be inside MHD_run just then, past
 * its check for resumed connections, and drain the ITC: the resume then
 * waits for the loop's next tick, up to a second.  So every batch of
 * resumes is followed by a wake-up of the loops (relay_wake_all), whose
 * next MHD_run is bound to see it. */
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

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int sock = -1;
static uint64_t next_tag = 1;
static struct authn_wait *pending;
static bool resumed; /* since the loops were last woken; under lock */
static uint8_t buf[WIRE_MAX_FRAME];

int authn_socket(void)
{
	return sock;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *d;

	if (!p)
		return NULL;
	d = xmalloc(n ? n : 1);
	memcpy(d, p, n);
	return d;
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

static void finish(struct authn_wait *w, const struct authn_reply *m, const char *why)
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
	resumed = true;
}

/* After the lock: the loops pick up what finish() resumed (see above). */
static void wake_loops(void)
{
	bool wake;

	pthread_mutex_lock(&lock);
	wake = resumed;
	resumed = false;
	pthread_mutex_unlock(&lock);
	if (wake)
		relay_wake_all();
}

/* Everything outstanding fails: the authenticator is gone. */
static void fail_all(void)
{
	while (pending) {
		struct authn_wait *w = pending;
		pending = w->next;
		finish(w, NULL, "the authenticator is unavailable");
	}
}

void authn_set_socket(int fd)
{
	pthread_mutex_lock(&lock);
	if (sock >= 0)
		close(sock);
	sock = fd;
	set_nonblock(fd, true);
	fail_all();
	pthread_mutex_unlock(&lock);
	wake_loops();
}

int authn_ask(struct authn_wait *w, struct authn_request *q)
{
	struct wbuf b;
	int rc = -1;

	wb_init(&b);
	pthread_mutex_lock(&lock);
	w->tag = q->tag = next_tag++;
	w->answered = false;
	w->deadline_ms = now_ms() + AUTHN_TIMEOUT_MS;
	authn_request_encode(&b, q);
	if (sock >= 0 && !b.overflow &&
	    wire_send(sock, W_AUTHN_REQ, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT) == 0) {
		w->pending = true;
		w->next = pending;
		pending = w;
		MHD_suspend_connection(w->conn);
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	explicit_bzero(b.p, b.cap); /* it held the client's credentials */
	wb_free(&b);
	return rc;
}

void authn_conn_end(uint64_t conn_id)
{
	struct wbuf b;

	wb_init(&b);
	authn_conn_end_encode(&b, conn_id);
	pthread_mutex_lock(&lock);
	if (sock >= 0)
		wire_send(sock, W_AUTHN_CONN_END, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT);
	pthread_mutex_unlock(&lock);
	wb_free(&b);
}

void authn_forget(struct authn_wait *w)
{
	pthread_mutex_lock(&lock);
	if (w->pending) {
		for (struct authn_wait **pp = &pending; *pp; pp = &(*pp)->next) {
			if (*pp == w) {
				*pp = w->next;
				break;
			}
		}
	}
	w->pending = false;
	pthread_mutex_unlock(&lock);
	authn_answer_free(&w->ans);
}

static const uint16_t from_authenticator[] = { W_AUTHN_REPLY };
static const struct peer_table authenticator_peer =
	PEER_TABLE("authenticator", from_authenticator);

/* An answer; -1 if the authenticator broke the protocol. */
static int on_answer(const struct wire_frame *f)
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
	for (struct authn_wait **pp = &pending; *pp; pp = &(*pp)->next) {
		struct authn_wait *w = *pp;
		if (w->tag == m.tag) {
			*pp = w->next;
			finish(w, &m, NULL);
			break;
		}
	}
	return 0;
}

void authn_check_deadlines(uint64_t now)
{
	pthread_mutex_lock(&lock);
	for (struct authn_wait **pp = &pending; *pp;) {
		struct authn_wait *w = *pp;
		if (w->deadline_ms > now) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		log_msg(LOG_ERR, "the authenticator did not answer question %llu in %u s",
			(unsigned long long)w->tag, AUTHN_TIMEOUT_MS / 1000);
		finish(w, NULL, "the authenticator did not answer in time");
	}
	pthread_mutex_unlock(&lock);
	wake_loops();
}

/* The authenticator is gone or dropped: every question waiting fails
 * (503); the supervisor starts a new one and sends its channel. */
static void lose_authenticator(void)
{
	if (sock >= 0)
		close(sock);
	sock = -1;
	fail_all();
}

void authn_on_readable(void)
{
	struct wire_frame f;

	pthread_mutex_lock(&lock);
	for (;;) {
		int rc = sock >= 0 ? wire_recv(sock, buf, &f, MSG_DONTWAIT) : -1;
		if (rc < 0 && errno == EAGAIN)
			break;
		if (rc <= 0) {
			log_msg(LOG_ERR, "authenticator connection lost");
			lose_authenticator();
			break;
		}
		rc = on_answer(&f);
		explicit_bzero(buf, WIRE_HDR + f.len); /* sealed credentials; still */
		wire_close_fds(&f);
		if (rc < 0) {
			lose_authenticator();
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	wake_loops();
}
