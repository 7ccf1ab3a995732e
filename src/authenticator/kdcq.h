/* kdcq.h -- the authenticator's questions to the KDC (S4U2Proxy), asked on
 * threads of their own so that a slow or hung KDC holds only the requests
 * that need it: the loop goes on accepting tokens, and a question the KDC
 * leaves unanswered fails at its deadline (504) while its thread still
 * waits for MIT krb5's own timeout.  The owner waits with a pamq_wait (the
 * same resumption as a PAM question): w->resume is called, on the loop,
 * once the answer is in *ans or the deadline has passed. */
#ifndef IDGATE_KDCQ_H
#define IDGATE_KDCQ_H

#include <gssapi/gssapi.h>
#include <stddef.h>
#include <stdint.h>

#include "pamq.h"

#define KDCQ_THREADS 4          /* questions the KDC can hold at once */
#define KDCQ_TIMEOUT_MS 10000   /* a question unanswered this long fails */

struct kdcq_answer {
	int status;          /* 0; 502: the KDC refused or failed; 504: no answer in time */
	char why[400];       /* unless 0 */
	uint8_t *blob;       /* status 0: gss_export_cred of the caller's ticket; the
				owner wipes and frees it */
	size_t len;
};

/* The descriptor the loop watches (an eventfd: answers are in), or -1
 * with errno. */
int kdcq_init(void);
/* The caller's ticket to `target`, with `proxy` (the accepted context's
 * proxy credential: kdcq takes it and releases it).  0: asked (w waits);
 * -1: no thread could be started (ans says why, w does not wait). */
int kdcq_s4u(struct pamq_wait *w, struct kdcq_answer *ans, gss_cred_id_t proxy,
	     const char *target);
/* The owner goes away: its question is forgotten (the thread's work, when
 * it ends, is thrown away). */
void kdcq_forget(struct pamq_wait *w);
/* The eventfd is readable: hand the answers in. */
void kdcq_on_readable(void);
/* Fail the questions past their deadline; milliseconds until the next
 * deadline, or -1. */
int kdcq_run_timers(uint64_t now);

#endif
