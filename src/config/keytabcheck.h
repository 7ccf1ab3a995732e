/* keytabcheck.h -- idgated -t: the acceptor keys Negotiate will use. */
#ifndef IDGATE_KEYTABCHECK_H
#define IDGATE_KEYTABCHECK_H

#include <stdio.h>

struct config;
struct diag;

/* When a vdir uses Negotiate: open [server] keytab (krb5's default when
 * empty) as the front end will, print each entry to `out` as
 * "keytab NAME: PRINCIPAL kvno N ENCTYPE" (never a key's bytes), and report
 * to `d`, as FILE:LINE at the keytab or acceptor line: a keytab that cannot
 * be read or holds no key, no key for the acceptor name -- or, when
 * acceptor is empty, for HTTP/<the name clients use> of each listener --
 * (errors), and keys with only weak enctypes (warnings).  Returns the
 * number of errors added. */
int keytab_check(const struct config *c, struct diag *d, FILE *out);

#endif
