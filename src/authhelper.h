/* authhelper.h -- the PAM process: root, and it answers nothing but
 * "may this account log in now?" and "is this its password?". */
#ifndef IDGATE_AUTHHELPER_H
#define IDGATE_AUTHHELPER_H

struct config;

#define AUTH_MAX_USER 64
#define AUTH_MAX_PASSWORD 1024

/* Never returns.  `sock` carries requests from the front end, `ctl` goes
 * to the supervisor. */
__attribute__((noreturn)) void authhelper_main(const struct config *c, int sock, int ctl);

/* A name we pass to PAM: letters, digits, '.', '_', '-' (not first), '$'
 * last, at most AUTH_MAX_USER bytes. */
int auth_user_name_ok(const char *name);

#endif
