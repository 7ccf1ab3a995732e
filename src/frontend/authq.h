/* authq.h -- the front end's questions to the PAM helper, asked without
 * blocking an HTTP thread: the connection is suspended until the answer
 * comes back through the relay thread.  Also the fail delay of Basic: a
 * connection held for a while, suspended, and resumed by a timer thread
 * (no HTTP thread sleeps, the loops keep serving). */
#ifndef IDGATE_AUTHQ_H
#define IDGATE_AUTHQ_H

#include <stdbool.h>
#include <stdint.h>

struct MHD_Connection;

struct authq_wait {
	struct MHD_Connection *conn;
	uint64_t tag;
	bool pending;       /* asked, not answered yet */
	bool held;          /* held by authq_hold, not released yet */
	uint64_t until_ms;  /* held: when it is released */
	bool answered;      /* answered, or released */
	int code;           /* PAM result code; -1: the helper failed */
	char message[200];
	struct authq_wait *next;
};

/* The helper's socket, from the supervisor (replaces an earlier one). */
void authq_set_socket(int fd);
/* Send the question and suspend w->conn.  0, or -1 (helper unavailable:
 * nothing suspended).  password NULL: an account check. */
int authq_ask(struct authq_wait *w, const char *user, const char *rhost, const char *password);
/* Suspend w->conn for delay_ms, then resume it (w->answered true again;
 * code and message are left as they are).  0, or -1 if the timer thread
 * cannot run (nothing suspended). */
int authq_hold(struct authq_wait *w, unsigned delay_ms);
/* The request ended while waiting or held. */
void authq_forget(struct authq_wait *w);
/* Called by the relay thread when the helper's socket is readable. */
void authq_on_readable(void);
int authq_socket(void);

#endif
