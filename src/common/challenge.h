/* challenge.h -- the challenges of a 401: what a vdir offers on a
 * listener (Basic only over TLS).  One place for the authenticator, which
 * challenges every refusal that asks for credentials, and the front end,
 * which answers a request that brings none at all on a connection that
 * never brought any without asking the authenticator: there is nothing to
 * decide, and a round trip to another process would cost every
 * Negotiate client's first leg. */
#ifndef IDGATE_CHALLENGE_H
#define IDGATE_CHALLENGE_H

#include <stdbool.h>

#define CHALLENGE_HEADER "WWW-Authenticate"
#define CHALLENGE_NEGOTIATE "Negotiate"
#define CHALLENGE_BASIC "Basic realm=\"idgate\", charset=\"UTF-8\""
#define CHALLENGE_MAX 2

/* The challenge values, in order, into out; how many. */
static inline int challenges(bool negotiate, bool basic, bool tls,
			     const char *out[CHALLENGE_MAX])
{
	int n = 0;

	if (negotiate)
		out[n++] = CHALLENGE_NEGOTIATE;
	if (basic && tls)
		out[n++] = CHALLENGE_BASIC;
	return n;
}

#endif
