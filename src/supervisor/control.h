/* control.h -- the supervisor's end of the control socket (idgatectl).
 *
 * A local SOCK_SEQPACKET socket, mode 0600, owned by the user idgated
 * runs as (root).  Every connection is checked with SO_PEERCRED: only
 * uid 0 (or idgated's own uid, when it was not started as root) may talk;
 * anyone else gets an error and is hung up on, even if the file mode was
 * loosened.  A connection carries one request; it is read with a short
 * timeout so that a silent peer cannot hold the supervisor. */
#ifndef IDGATE_CONTROL_H
#define IDGATE_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "ctlproto.h"

/* Create the socket at path (its directory too, root's 0755).  A stale
 * socket is replaced; a live one too, with a warning.  Listening fd, or
 * -1 with err. */
int control_open(const char *path, char *err, size_t errlen);
/* Close and remove it, unless another process has put its own there. */
void control_close(int fd, const char *path);

/* Accept one connection and read its request.  Returns the connection
 * (the caller answers and closes it) with *q filled, or -1 when there was
 * nothing to accept or the peer was refused (answered and closed here). */
int control_accept(int lfd, struct ctl_request *q);

#endif
