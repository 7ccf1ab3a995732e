/* worker.h -- a pool worker: one process per [pool], running its handlers
 * as the pool's service identity. */
#ifndef IDGATE_WORKER_H
#define IDGATE_WORKER_H

#include <stdint.h>
#include <stddef.h>

struct config;
struct pool_conf;

struct worker_args {
	struct config *c;
	struct pool_conf *pool;
	int *channels;   /* pool->threads channel ends, one per thread */
	size_t nchannels;
	int ctl;         /* SEQPACKET to the supervisor */
	int ns_to_parent;   /* impersonating pools: the user namespace handshake */
	int ns_from_parent; /* (pipe ends), -1 otherwise */
	const uint8_t *verdict_key; /* VERDICT_KEY_LEN bytes: opens the authenticator's
				       verdicts (verdict.h) */
	uint64_t trust_since_ms;    /* request verdicts made before are refused (trust.h);
				       0: before this worker's start */
	int taken_fd;               /* the pool's mark of the verdicts its workers took
				       (trust.h): 8 bytes to map shared; -1: none */
};

__attribute__((noreturn)) void worker_main(struct worker_args *a);

#endif
