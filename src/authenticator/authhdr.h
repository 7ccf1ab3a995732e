/* authhdr.h -- the Authorization header as auth.c reads it: its scheme,
 * where the credentials start, and Basic's user and password.  Pure
 * functions (taken out of auth.c's start() and parse_basic() for the
 * authhdr fuzz target, docs/FUZZING.md). */
#ifndef IDGATE_AUTHHDR_H
#define IDGATE_AUTHHDR_H

enum authhdr_scheme { AUTHHDR_OTHER = 0, AUTHHDR_NEGOTIATE, AUTHHDR_BASIC };

/* "Negotiate" or "Basic" in any case and a space, then the credentials,
 * after any more spaces: *creds points there (at h for AUTHHDR_OTHER). */
enum authhdr_scheme authhdr_scheme(const char *h, const char **creds);

/* Basic's credentials: the base64 (base64.h, strict) of USER ":" PASSWORD,
 * split at the first ':', with no NUL, a user name auth_user_name_ok()
 * takes and a password of at most AUTH_MAX_PASSWORD bytes.  0 with *user
 * and *password (caller frees; the password is a secret: wipe it), or -1
 * with *why, a constant that says which of those failed and holds nothing
 * of the input.  The decoded bytes are wiped before they are freed. */
int authhdr_basic(const char *b64, char **user, char **password, const char **why);

#endif
