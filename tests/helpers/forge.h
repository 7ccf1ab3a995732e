/* forge.h -- a front end gone bad, for the forged-verdict test only
 * (tests/integration/t-forge.sh): idgated built with IDGATE_TEST_FORGE
 * (tests/helpers/idgated-forge, never installed) lets a request's
 * X-Forge header say how to tamper with the head sent to the worker. */
#ifndef IDGATE_FORGE_H
#define IDGATE_FORGE_H

#include "reqmsg.h"

struct MHD_Connection;

/* Encode q into b as X-Forge says (or as it is, remembering the head and
 * its verdict for a later replay or swap). */
void forge_head(struct MHD_Connection *conn, struct wire_req *q, struct wbuf *b);

#endif
