/* pamq.h -- the authenticator's questions to the PAM helper, asked
 * without blocking its loop, and Basic's fail delay: a question waits in a
 * list until its answer (or its time) comes, and its owner is resumed
 * through w->resume. */
#ifndef IDGATE_PAMQ_H
#define IDGATE_PAMQ_H

#include <stdbool.h>
#include <stdint.h>

struct pamq_wait {
	uint64_t tag;
	bool pending;       /* asked, not answered yet */
	bool held;          /* held by pamq_hold, not released yet */
	uint64_t until_ms;  /* held: when it is released */
	bool answered;      /* answered, or released */
	int code;           /* PAM result code; -1: the helper failed */
	char message[200];
	struct pamq_wait *next;
	void (*resume)(struct pamq_wait *w); /* called once answered or released */
};

/* The helper's socket, from the supervisor (replaces an earlier one: what
 * waited on that one fails). */
void pamq_set_socket(int fd);
int pamq_socket(void);
/* Send the question.  0, or -1 (helper unavailable).  password NULL: an
 * account check. */
int pamq_ask(struct pamq_wait *w, const char *user, const char *rhost, const char *password);
/* Release w after delay_ms (w->answered true again; code and message are
 * left as they are).  0. */
int pamq_hold(struct pamq_wait *w, unsigned delay_ms);
/* The owner goes away while waiting or held. */
void pamq_forget(struct pamq_wait *w);
/* The helper's socket is readable. */
void pamq_on_readable(void);
/* Release what is due; milliseconds until the next release, or -1. */
int pamq_run_timers(uint64_t now);

#endif
