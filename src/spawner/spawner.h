/* spawner.h -- starting programs (CGI and the like) for a pool worker. */
#ifndef IDGATE_SPAWNER_H
#define IDGATE_SPAWNER_H

#include <stddef.h>
#include <sys/types.h>

#include "idswitch.h"
#include "spawnmsg.h"

/* Fork the spawner from a worker that is still small and single-threaded.
 * Returns the worker's end of its socket (the spawner runs until that is
 * closed), or -1.  `self` is the pool's identity; `ids` what a child may
 * be otherwise (the configuration's, which the spawner inherits). */
struct id_policy;
int spawner_start(const struct ident *self, const struct id_policy *ids);

struct spawn_request {
	const struct ident *as;     /* the identity the child drops to for good */
	const char *path;           /* absolute */
	const char *cwd;            /* absolute, or NULL for "/" */
	char *const *argv;
	char *const *envp;          /* the whole environment; nothing is inherited */
	int fds[3];                 /* the child's stdin, stdout, stderr */
	int exec_fd;                /* > 2: execute this open file (the child's fd 3)
				       rather than `path`; otherwise none */
};

/* Ask the spawner (socket `sp`) to start a program.  On success returns
 * the reply socket (>= 0) and the pid; the caller reads the child's exit
 * from it with spawn_wait(), or kills it with spawn_kill().  -1 with errno
 * and a reason on failure (e.g. exec failed). */
int spawn_start(int sp, const struct spawn_request *q, pid_t *pid, char *why, size_t len);
/* Wait for the child's end: 1 with the wait status, 0 if timeout_ms
 * passed first (-1: no limit), -1 on error.  Closes nothing. */
int spawn_wait(int reply, int timeout_ms, int *status);
/* Kill the child's whole process group. */
int spawn_kill(int reply);

/* The spawner's reading of a W_SPAWN frame: the codec (spawnmsg.h), then
 * absolute paths, and who the child may be -- `self` (the pool's uid, gid
 * and groups) or what `ids` allows.  NULL if the request may be served,
 * else why not.  (An entry point of its own for tests/fuzz/fuzz_proto_spawn.) */
const char *spawner_check_request(const struct wire_frame *f, const struct ident *self,
				  const struct id_policy *ids, struct spawnm_request *m);

#endif
