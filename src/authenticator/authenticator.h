/* authenticator.h -- the process that alone holds the acceptor keys and
 * says who is calling (authenticator.c). */
#ifndef IDGATE_AUTHENTICATOR_H
#define IDGATE_AUTHENTICATOR_H

#include <stdint.h>

#include "verdict.h"

struct config;

struct authn_args {
	const struct config *c;
	const int *fe; /* the front end's channels, one per event loop (AUTHN_REQ,
			  AUTHN_CONN_END) */
	unsigned nfe;
	int ctl;       /* the supervisor's */
	const uint8_t *verdict_key; /* VERDICT_KEY_LEN bytes; wiped by the caller's
				       copy once taken */
};

/* Never returns. */
__attribute__((noreturn)) void authenticator_main(struct authn_args *a);

#endif
