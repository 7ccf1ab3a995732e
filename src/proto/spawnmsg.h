/* spawnmsg.h -- a pool worker's requests to its spawner and the answers
 * (spawner.c; wire.h framing).
 *
 *   worker -> spawner, on the spawner's socket
 *       SPAWN  u32 uid, u32 gid, u32 n + n*u32 groups, str path, str cwd,
 *              u32 argc + strs, u32 envc + strs; descriptors: the reply
 *              socket, the child's stdin, stdout, stderr, and optionally
 *              the open program to execute (4 or 5)
 *   spawner -> worker, on that request's reply socket
 *       SPAWN_STARTED  u32 pid          SPAWN_FAILED  u32 errno, str step
 *       SPAWN_EXITED   u32 wait status (then the socket is shut)
 *   worker -> spawner, on a reply socket
 *       SPAWN_KILL     no payload: kill the child's process group
 *
 * The decoders refuse every truncation, trailing bytes, flags, a wrong
 * descriptor count, NULL strings, more groups, arguments or variables
 * than the limits, no argv[0], a pid of 0, an errno out of range and a
 * wait status no wait() gives.  Who may be spawned is the spawner's
 * policy, not the codec's. */
#ifndef IDGATE_SPAWNMSG_H
#define IDGATE_SPAWNMSG_H

#include <stdbool.h>
#include <stdint.h>

#include "idswitch.h"
#include "wire.h"

#define SPAWN_MAX_ARGS 256
#define SPAWN_MAX_ENV 256
#define SPAWNM_FDS 4           /* reply socket, stdin, stdout, stderr */
#define SPAWNM_MAX_ERRNO 4095
#define SPAWNM_MAX_SIGNAL 64    /* Linux's SIGRTMAX */

struct spawnm_request {
	struct ident as;
	const char *path, *cwd;
	char *argv[SPAWN_MAX_ARGS + 1];  /* NULL-terminated, into the frame */
	char *envp[SPAWN_MAX_ENV + 1];
	bool exec_fd;                    /* a fifth descriptor: the program */
};

/* The answer to SPAWN: started (pid) or failed (err, step). */
struct spawnm_answer {
	bool started;
	uint32_t pid;
	uint32_t err;
	const char *step;
};

void spawnm_request_encode(struct wbuf *b, const struct ident *as, const char *path,
			   const char *cwd, char *const *argv, char *const *envp);
int spawnm_request_decode(const struct wire_frame *f, struct spawnm_request *q);
void spawnm_started_encode(struct wbuf *b, uint32_t pid);
void spawnm_failed_encode(struct wbuf *b, uint32_t err, const char *step);
int spawnm_answer_decode(const struct wire_frame *f, struct spawnm_answer *a);
void spawnm_exited_encode(struct wbuf *b, uint32_t status);
int spawnm_exited_decode(const struct wire_frame *f, uint32_t *status);
/* SPAWN_KILL: no payload, no descriptor.  0 or -1. */
int spawnm_kill_decode(const struct wire_frame *f);

#endif
