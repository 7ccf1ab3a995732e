/* authhelper.h -- the PAM process: root, and it answers nothing but
 * "may this account log in now?" and "is this its password?". */
#ifndef IDGATE_AUTHHELPER_H
#define IDGATE_AUTHHELPER_H

#include <stdbool.h>

#include "authmsg.h"

struct config;

#define AUTH_MAX_USER 64
#define AUTH_MAX_PASSWORD 1024
#define AUTH_MAX_RHOST 64

/* Never returns.  `sock` carries requests from the authenticator, `ctl` goes
 * to the supervisor. */
__attribute__((noreturn)) void authhelper_main(const struct config *c, int sock, int ctl);

/* A user name idgate accepts from a mapping or from Basic, and the only
 * kind it passes to PAM: LOCAL or LOCAL@DOMAIN, ASCII, at most
 * AUTH_MAX_USER bytes.
 *   LOCAL   a letter, digit or '_', then letters, digits, '_', '.', '-',
 *           and an optional final '$' (Samba machine accounts); not only
 *           digits (a number reads as a uid to chown, id, ps...)
 *   DOMAIN  a letter or digit, then letters, digits, '.', '-': SSSD's
 *           fully qualified names (use_fully_qualified_names = true)
 * So never a leading '-' (an option to whatever the name reaches), a
 * blank, a backslash, a quote, a control character or a non-ASCII byte. */
bool auth_user_name_ok(const char *name);

/* The helper's reading of one question from the authenticator: the codec
 * (authmsg.h), then what its strings may be -- a valid user name, a host
 * and a password within bounds.  NULL if it is well-formed, else why not.
 * *has_tag says whether the frame carried a tag: a refused question still
 * gets its answer, so that the authenticator does not wait for it forever.
 * (An entry point of its own for tests/fuzz/fuzz_proto_auth.) */
const char *authhelper_read_question(const struct wire_frame *f, struct authm_question *q,
				     bool *has_tag);

#endif
