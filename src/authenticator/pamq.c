/* pamq.c -- see pamq.h.  Answers are matched to questions by a tag;
 * anything the helper sends that matches no question is dropped.  One
 * thread: the authenticator's loop. */
#include "pamq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authmsg.h"
#include "log.h"
#include "peers.h"
#include "util.h"
#include "wire.h"

static int sock = -1;
static uint64_t next_tag = 1;
static struct pamq_wait *pending;
static struct pamq_wait *held;   /* in no order (a handful) */
static struct pamq_wait *parked; /* asked while there was no helper; in no order */
static uint8_t buf[WIRE_MAX_FRAME];

int pamq_socket(void)
{
	return sock;
}

static void finish(struct pamq_wait *w, int code, const char *message)
{
	w->pending = false;
	w->answered = true;
	w->code = code;
	snprintf(w->message, sizeof(w->message), "%s", message);
	w->resume(w);
}

/* Everything outstanding fails: the helper is gone.  (The list is taken
 * first: a resumed owner may ask again, of the next helper.) */
static void fail_all(void)
{
	struct pamq_wait *list = pending;

	pending = NULL;
	while (list) {
		struct pamq_wait *w = list;
		list = w->next;
		finish(w, -1, "PAM helper unavailable");
	}
}

static void add_pending(struct pamq_wait *w)
{
	w->pending = true;
	w->until_ms = now_ms() + PAMQ_ANSWER_MS;
	w->next = pending;
	pending = w;
}

/* A parked question's copy holds the password of a Basic question. */
static void drop_question(struct pamq_wait *w)
{
	if (w->question)
		explicit_bzero(w->question, w->question_len);
	free(w->question);
	w->question = NULL;
	w->question_len = 0;
	w->parked = false;
}

/* No helper to ask: the question waits for the next one (pamq.h). */
static void park(struct pamq_wait *w, uint16_t op, const struct wbuf *b)
{
	w->question = xmalloc(b->len);
	memcpy(w->question, b->p, b->len);
	w->question_len = b->len;
	w->question_op = op;
	w->parked = true;
	w->until_ms = now_ms() + PAMQ_HELPER_WAIT_MS;
	w->next = parked;
	parked = w;
}

/* A helper has come: the questions that waited for one are asked of it
 * (one it cannot take fails, as if it had been asked of it). */
static void send_parked(void)
{
	struct pamq_wait *list = parked;

	parked = NULL;
	while (list) {
		struct pamq_wait *w = list;
		int rc = wire_send(sock, w->question_op, 0, w->question, w->question_len, NULL, 0,
				   MSG_DONTWAIT);
		list = w->next;
		drop_question(w);
		if (rc == 0)
			add_pending(w);
		else
			finish(w, -1, "PAM helper unavailable");
	}
}

void pamq_set_socket(int fd)
{
	if (sock >= 0)
		close(sock);
	sock = fd;
	set_nonblock(fd, true);
	fail_all();
	send_parked();
}

/* A question that cannot be sent waits for the next helper, unless this
 * one is merely busy (EAGAIN): there is none, or it has died and its
 * hang-up is read next (then the supervisor starts another). */
int pamq_ask(struct pamq_wait *w, const char *user, const char *rhost, const char *password)
{
	struct authm_question q = { .op = password ? W_AUTH_PASS : W_AUTH_ACCT, .user = user,
				    .rhost = rhost, .password = password };
	struct wbuf b;
	int rc = -1;

	wb_init(&b);
	w->tag = q.tag = next_tag++;
	w->answered = false;
	authm_question_encode(&b, &q);
	if (b.overflow)
		goto done;
	if (sock >= 0 && wire_send(sock, q.op, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT) == 0) {
		add_pending(w);
		rc = 0;
	} else if (sock < 0 || errno != EAGAIN) {
		park(w, q.op, &b);
		rc = 0;
	}
done:
	explicit_bzero(b.p, b.cap);
	wb_free(&b);
	return rc;
}

static void unlink_wait(struct pamq_wait **list, struct pamq_wait *w)
{
	for (struct pamq_wait **pp = list; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

void pamq_forget(struct pamq_wait *w)
{
	if (w->pending)
		unlink_wait(&pending, w);
	if (w->held)
		unlink_wait(&held, w);
	if (w->parked)
		unlink_wait(&parked, w);
	drop_question(w);
	w->pending = false;
	w->held = false;
}

int pamq_hold(struct pamq_wait *w, unsigned delay_ms)
{
	w->answered = false;
	w->held = true;
	w->until_ms = now_ms() + delay_ms;
	w->next = held;
	held = w;
	return 0;
}

/* Move the entries of *list that are due at `now` to *due; *next: the
 * earliest time of those left, if earlier (0: none yet). */
static void take_due(struct pamq_wait **list, uint64_t now, struct pamq_wait **due,
		     uint64_t *next)
{
	for (struct pamq_wait **pp = list; *pp;) {
		struct pamq_wait *w = *pp;
		if (w->until_ms > now) {
			if (!*next || w->until_ms < *next)
				*next = w->until_ms;
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->next = *due;
		*due = w;
	}
}

/* The due ones are taken off their lists first: resuming one may end it,
 * or hold or park another. */
int pamq_run_timers(uint64_t now)
{
	struct pamq_wait *due = NULL, *expired = NULL, *late = NULL, *w;
	uint64_t next = 0;
	bool resumed = false;

	take_due(&held, now, &due, &next);
	take_due(&parked, now, &expired, &next);
	take_due(&pending, now, &late, &next); /* (their answers, if they come, match nothing) */
	while (due) {
		w = due;
		due = w->next;
		w->held = false;
		w->answered = true;
		resumed = true;
		w->resume(w);
	}
	while (expired) {
		w = expired;
		expired = w->next;
		drop_question(w);
		resumed = true;
		finish(w, -1, "no PAM helper came in time");
	}
	while (late) {
		char why[64];
		w = late;
		late = w->next;
		resumed = true;
		snprintf(why, sizeof(why), "PAM did not answer within %u s", PAMQ_ANSWER_MS / 1000);
		log_msg(LOG_WARNING, "question %llu: %s", (unsigned long long)w->tag, why);
		finish(w, -1, why);
	}
	if (resumed)
		return 0; /* what a resume above held or parked: look again at once */
	return next ? (int)(next - now) : -1;
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
	for (struct pamq_wait *w = pending; w; w = w->next) {
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

void pamq_on_readable(void)
{
	struct wire_frame f;

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
}
