/* privsep.h -- privileges besides the identity (iddrop.h and idswitch.h
 * change that). */
#ifndef IDGATE_PRIVSEP_H
#define IDGATE_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <sys/types.h>

/* True when idgated started as root and may switch identities. */
bool privsep_privileged(void);

/* The supplementary groups of `user` with primary group `gid`
 * (getgrouplist).  Caller frees *groups.  0 or -1. */
int privsep_user_groups(const char *user, gid_t gid, gid_t **groups, size_t *n);

/* Keep only the listed capabilities (permitted and effective), empty the
 * bounding set of every other, and set no_new_privs.  For processes that
 * keep uid 0 or need one capability: they hold nothing else.  Needs
 * CAP_SETPCAP (so: before dropping it).  0 or -1. */
int privsep_keep_caps(const int *caps, size_t n, char *err, size_t errlen);

/* In a child, before any thread starts: block SIGTERM, SIGINT and SIGHUP
 * (the main thread takes them with sigwait(set)) and ignore SIGPIPE. */
void block_child_signals(sigset_t *set);

/* Close every fd >= 3 except those in keep[]. */
void close_fds_except(const int *keep, size_t n);

#endif
