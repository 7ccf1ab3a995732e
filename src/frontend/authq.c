/* authq.c -- see authq.h.  Answers are matched to questions by a tag;
 * anything the helper sends that matches no question is dropped.
 *
 * Answers arrive on loop 0, and the connection may belong to another
 * loop.  MHD_resume_connection from another thread signals the daemon's
 * ITC, but the owning loop can be inside MHD_run just then, past its
 * check for resumed connections, and drain the ITC: the resume then waits
 * for the loop's next tick, up to a second (measured: about half of all
 * PAM-checked requests took 1 s more).  So every batch of resumes is
 * followed by a wake-up of the loops (relay_wake_all), whose next MHD_run
 * is bound to see it. */
#include "authq.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "authmsg.h"
#include "log.h"
#include "peers.h"
#include "relay.h"
#include "util.h"
#include "wire.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int sock = -1;
static uint64_t next_tag = 1;
static struct authq_wait *pending;
static struct authq_wait *held;   /* authq_hold, in no order (a handful) */
static pthread_cond_t held_cond;  /* CLOCK_MONOTONIC, like now_ms() */
static pthread_once_t timer_once = PTHREAD_ONCE_INIT;
static bool timer_running;
static uint8_t buf[WIRE_MAX_FRAME];

int authq_socket(void)
{
	return sock;
}

static bool resumed; /* since the loops were last woken; under lock */

static void finish(struct authq_wait *w, int code, const char *message)
{
	w->pending = false;
	w->answered = true;
	w->code = code;
	snprintf(w->message, sizeof(w->message), "%s", message);
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

/* Everything outstanding fails: the helper is gone. */
static void fail_all(void)
{
	while (pending) {
		struct authq_wait *w = pending;
		pending = w->next;
		finish(w, -1, "PAM helper unavailable");
	}
}

void authq_set_socket(int fd)
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

int authq_ask(struct authq_wait *w, const char *user, const char *rhost, const char *password)
{
	struct authm_question q = { .op = password ? W_AUTH_PASS : W_AUTH_ACCT, .user = user,
				    .rhost = rhost, .password = password };
	struct wbuf b;
	int rc = -1;

	wb_init(&b);
	pthread_mutex_lock(&lock);
	w->tag = q.tag = next_tag++;
	w->answered = false;
	authm_question_encode(&b, &q);
	if (sock >= 0 && !b.overflow &&
	    wire_send(sock, q.op, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT) == 0) {
		w->pending = true;
		w->next = pending;
		pending = w;
		MHD_suspend_connection(w->conn);
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	explicit_bzero(b.p, b.cap);
	wb_free(&b);
	return rc;
}

static void unlink_wait(struct authq_wait **list, struct authq_wait *w)
{
	for (struct authq_wait **pp = list; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

void authq_forget(struct authq_wait *w)
{
	pthread_mutex_lock(&lock);
	if (w->pending)
		unlink_wait(&pending, w);
	if (w->held)
		unlink_wait(&held, w);
	w->pending = false;
	w->held = false;
	pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------- holds */

/* Resume what is due; the earliest deadline of the rest (0: none). */
static uint64_t release_due(uint64_t now)
{
	uint64_t next = 0;

	for (struct authq_wait **pp = &held; *pp;) {
		struct authq_wait *w = *pp;
		if (w->until_ms > now) {
			if (!next || w->until_ms < next)
				next = w->until_ms;
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->held = false;
		w->answered = true;
		MHD_resume_connection(w->conn);
		resumed = true;
	}
	return next;
}

static void wait_until(uint64_t when_ms)
{
	struct timespec ts;

	if (!when_ms) {
		pthread_cond_wait(&held_cond, &lock);
		return;
	}
	ts.tv_sec = (time_t)(when_ms / 1000);
	ts.tv_nsec = (long)(when_ms % 1000) * 1000000L;
	pthread_cond_timedwait(&held_cond, &lock, &ts);
}

static void *timer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		uint64_t next = release_due(now_ms());
		if (resumed) {
			pthread_mutex_unlock(&lock);
			wake_loops();
			pthread_mutex_lock(&lock);
			continue; /* (a hold may have come meanwhile) */
		}
		wait_until(next);
	}
	return NULL;
}

static void start_timer(void)
{
	pthread_condattr_t ca;
	pthread_t t;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&held_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t, NULL, timer_main, NULL) != 0) {
		log_msg(LOG_ERR, "cannot start the fail-delay timer thread: failures are "
			"answered without delay");
		return;
	}
	pthread_detach(t);
	timer_running = true;
}

int authq_hold(struct authq_wait *w, unsigned delay_ms)
{
	pthread_once(&timer_once, start_timer);
	if (!timer_running)
		return -1;
	pthread_mutex_lock(&lock);
	w->answered = false;
	w->held = true;
	w->until_ms = now_ms() + delay_ms;
	w->next = held;
	held = w;
	MHD_suspend_connection(w->conn);
	pthread_cond_signal(&held_cond);
	pthread_mutex_unlock(&lock);
	return 0;
}

static const uint16_t from_pamhelper[] = { W_AUTH_RESULT };
static const struct peer_table pamhelper_peer = PEER_TABLE("PAM helper", from_pamhelper);

/* An answer; -1 if the helper broke the protocol. */
static int on_answer(const struct wire_frame *f)
{
	struct authm_result m;
	char name[48];

	if (!peer_accepts(&pamhelper_peer, f->type)) {
		log_msg(LOG_ERR, "the PAM helper broke the protocol: unexpected message %s; "
			"dropping it", peer_type_name(f->type, name, sizeof(name)));
		return -1;
	}
	if (authm_result_decode(f, &m) < 0) {
		log_msg(LOG_ERR, "the PAM helper broke the protocol: a malformed answer; "
			"dropping it");
		return -1;
	}
	for (struct authq_wait *w = pending; w; w = w->next) {
		if (w->tag == m.tag) {
			unlink_wait(&pending, w);
			finish(w, m.code, m.message);
			break;
		}
	}
	return 0;
}

/* The helper is gone or dropped: every question waiting fails; the
 * supervisor starts a new helper and sends its socket. */
static void lose_helper(void)
{
	if (sock >= 0)
		close(sock);
	sock = -1;
	fail_all();
}

void authq_on_readable(void)
{
	struct wire_frame f;

	pthread_mutex_lock(&lock);
	for (;;) {
		int rc = sock >= 0 ? wire_recv(sock, buf, &f, MSG_DONTWAIT) : -1;
		if (rc < 0 && errno == EAGAIN)
			break;
		if (rc <= 0) {
			log_msg(LOG_ERR, "PAM helper connection lost");
			lose_helper();
			break;
		}
		rc = on_answer(&f);
		wire_close_fds(&f);
		if (rc < 0) {
			lose_helper();
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	wake_loops();
}
