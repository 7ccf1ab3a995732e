/* proxy_conn.h -- connections to a backend: connecting with a timeout
 * (as the handler thread's identity, so that a unix: backend sees the
 * caller when the vdir impersonates), a small pool of idle keep-alive
 * connections, and reads and writes that wait at most a timeout. */
#ifndef IDGATE_PROXY_CONN_H
#define IDGATE_PROXY_CONN_H

#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxy_msg.h"

#define PROXY_IDLE_MAX_MS 30000 /* an idle connection older than this is closed */

struct proxy_pool {
	pthread_mutex_t lock;
	unsigned max;            /* idle connections kept; 0: none */
	size_t n;
	struct { int fd; uint64_t since_ms; } *idle;
};

void proxy_pool_init(struct proxy_pool *p, unsigned max);
void proxy_pool_destroy(struct proxy_pool *p);
/* An idle connection with nothing readable on it (no stray byte, no EOF),
 * or -1; the others are closed. */
int proxy_pool_take(struct proxy_pool *p);
/* Keep fd for the next request -- only if nothing is readable on it now --
 * else, or when the pool is full, close it. */
void proxy_pool_give(struct proxy_pool *p, int fd);

/* Connect within timeout_ms.  Returns the fd, or -1 with errno
 * (ETIMEDOUT when the time ran out) and err naming the step. */
int proxy_connect(const struct proxy_backend *b, const struct addrinfo *ai, uint64_t timeout_ms,
		  char *err, size_t errlen);

/* Wait until fd is readable (or, with abort_fd >= 0, until that one is:
 * returns 2), at most timeout_ms.  1 readable, 0 timed out, -1 error. */
int proxy_wait_readable(int fd, int abort_fd, uint64_t timeout_ms);
/* Write all of buf within timeout_ms of no progress; stops early when the
 * backend has something to say first (returns 1: *sent bytes went out).
 * 0 when all went out, -1 with errno (ETIMEDOUT) on failure. */
int proxy_send_all(int fd, const void *buf, size_t len, uint64_t timeout_ms, size_t *sent);

#endif
