/* authn.h -- the front end's questions to the authenticator, asked
 * without blocking an HTTP thread: the connection is suspended until the
 * answer comes back through the relay thread. */
#ifndef IDGATE_AUTHN_H
#define IDGATE_AUTHN_H

#include <stdbool.h>
#include <stdint.h>

#include "authnmsg.h"

struct MHD_Connection;

/* The answer, copied out of the frame (strings and verdicts allocated;
 * authn_answer_free releases them). */
struct authn_answer {
	int status;             /* 0: established and authorized; else the HTTP status */
	int outcome;            /* enum m_auth */
	unsigned basic_events;
	char *reason;
	char *hdr_name[AUTHN_MAX_HEADERS], *hdr_value[AUTHN_MAX_HEADERS];
	int nhdr;
	char *principal, *user;
	uint32_t uid, gid;
	int level;
	bool anonymous;
	uint32_t scheme;        /* enum authn_scheme */
	char *groups_left_out;
	uint8_t *verdict, *conn_verdict;
	size_t verdict_len, conn_verdict_len;
	uint64_t conn_expires_ms;
	bool cookie_verdict;    /* conn_verdict is a session cookie's */
	uint8_t session_digest[VERDICT_DIGEST_LEN]; /* that cookie's */
};

struct authn_wait {
	struct MHD_Connection *conn;
	unsigned chan;      /* the loop whose channel asked */
	uint64_t tag;
	bool pending;       /* asked, not answered yet */
	bool answered;
	uint64_t deadline_ms; /* no answer by then: 503 */
	struct authn_answer ans;
	struct authn_wait *next;
};

/* One channel per event loop. */
void authn_init(unsigned nloops);
/* Loop `loop`'s channel to the authenticator, from the supervisor
 * (replaces an earlier one: what waited on that one fails with 503). */
void authn_set_socket(unsigned loop, int fd);
/* Send the question on the calling loop's channel and suspend w->conn.  0, or -1 (the authenticator is
 * unavailable: nothing suspended). */
int authn_ask(struct authn_wait *w, struct authn_request *q);
/* A connection ended that the authenticator may remember. */
void authn_conn_end(uint64_t conn_id);
/* The request ended while waiting. */
void authn_forget(struct authn_wait *w);
void authn_answer_free(struct authn_answer *a);
/* Called by loop `loop` when its channel is readable. */
void authn_on_readable(unsigned loop);
/* Called by the relay thread now and then: questions unanswered for
 * AUTHN_TIMEOUT_MS fail (a stuck authenticator must not hold connections
 * suspended for ever). */
void authn_check_deadlines(uint64_t now);

#define AUTHN_TIMEOUT_MS 30000u

#endif
