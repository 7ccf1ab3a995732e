/* authjob.h -- one AUTHN_REQ of the front end, from its arrival to its
 * AUTHN_REPLY (it may wait for the PAM helper or a fail delay meanwhile),
 * and what the authenticator remembers per connection of the front end. */
#ifndef IDGATE_AUTHJOB_H
#define IDGATE_AUTHJOB_H

#include <stdint.h>

#include "verdict.h"
#include "wire.h"

struct config;

/* The key verdicts are sealed with. */
void authjob_init(const struct config *c, const uint8_t key[VERDICT_KEY_LEN]);
/* A frame from the front end on channel `fe`: an AUTHN_REQ is answered
 * there, now or later; an AUTHN_CONN_END forgets a connection.  -1: the
 * front end broke the protocol (the caller drops it). */
int authjob_on_frame(const struct wire_frame *f, int fe);
size_t authjob_count(void);

#endif
