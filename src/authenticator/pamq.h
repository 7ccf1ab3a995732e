/* pamq.h -- the authenticator's questions to the PAM helper, asked
 * without blocking its loop, and Basic's fail delay: a question waits in a
 * list until its answer (or its time) comes, and its owner is resumed
 * through w->resume.
 *
 * A helper that dies fails the questions it held (code -1): they were its
 * in-flight requests.  A question asked while there is no helper -- it
 * died, and the supervisor is starting the next one, whose socket comes
 * with pamq_set_socket -- waits for that one, at most
 * PAMQ_HELPER_WAIT_MS, rather than failing at once: a restart fails only
 * what was in flight.  A question the helper has not answered within
 * PAMQ_ANSWER_MS fails (code -1, 503 for its request): a PAM stack that
 * waits for a hung KDC (pam_krb5) or directory holds its request that
 * long, not the front end's 30 s. */
#ifndef IDGATE_PAMQ_H
#define IDGATE_PAMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAMQ_HELPER_WAIT_MS 5000
#define PAMQ_ANSWER_MS 10000

struct pamq_wait {
	uint64_t tag;
	bool pending;       /* asked, not answered yet */
	bool held;          /* held by pamq_hold, not released yet */
	bool parked;        /* asked while there was no helper: waits for one */
	uint64_t until_ms;  /* held: when it is released; parked or pending: when it fails */
	uint8_t *question;  /* parked: the encoded question (wiped: a password) */
	size_t question_len;
	uint16_t question_op;
	bool answered;      /* answered, or released */
	int code;           /* PAM result code; -1: the helper failed */
	char message[200];
	struct pamq_wait *next;
	void (*resume)(struct pamq_wait *w); /* called once answered or released */
};

/* The helper's socket, from the supervisor (replaces an earlier one: what
 * waited on that one fails; the parked questions are sent on it). */
void pamq_set_socket(int fd);
int pamq_socket(void);
/* Send the question, or park it while there is no helper.  0, or -1 (the
 * helper is busy: its socket is full).  password NULL: an account check. */
int pamq_ask(struct pamq_wait *w, const char *user, const char *rhost, const char *password);
/* Release w after delay_ms (w->answered true again; code and message are
 * left as they are).  0. */
int pamq_hold(struct pamq_wait *w, unsigned delay_ms);
/* The owner goes away while waiting or held. */
void pamq_forget(struct pamq_wait *w);
/* The helper's socket is readable. */
void pamq_on_readable(void);
/* Release what is due, and fail the parked questions no helper came for;
 * milliseconds until the next of those, or -1. */
int pamq_run_timers(uint64_t now);

#endif
