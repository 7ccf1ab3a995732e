/* listeners.h -- the supervisor's listening sockets, kept across reloads. */
#ifndef IDGATE_LISTENERS_H
#define IDGATE_LISTENERS_H

#include <stddef.h>

struct config;

/* The sockets for c's listeners, `loops` per listener, as
 * fds[listener * loops + loop]: those already open for the same address
 * are reused (a reload loses no connection), others are opened.  Returns
 * a new array (caller frees), or NULL with the reason in err. */
int *listeners_open(const struct config *c, unsigned loops, char *err, size_t errlen);

/* The admin listener's socket (reused across reloads like the others), or
 * -1: with err set when it could not be opened, with err untouched when
 * there is none. */
int listeners_open_admin(const struct config *c, char *err, size_t errlen);

/* Close every socket that is not in fds[0..n). */
void listeners_keep_only(const int *fds, size_t n);

#endif
