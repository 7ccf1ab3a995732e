/* ctlproto.h -- the messages of the control socket, between idgatectl and
 * the supervisor, framed like every other socket of idgated (wire.h: one
 * SOCK_SEQPACKET message per frame, the length checked against the
 * header), and decoded with a bounds check on every field, like OpenBSD's
 * imsg.  A connection carries one request and one reply.
 *
 *   idgatectl -> supervisor   W_ADM_STATUS | W_ADM_POOL | W_ADM_RELOAD | W_ADM_CHECK |
 *                             W_ADM_REOPEN
 *   supervisor -> idgatectl   W_ADM_STATUS_REPLY | W_ADM_OK | W_ADM_ERROR
 */
#ifndef IDGATE_CTLPROTO_H
#define IDGATE_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define CTL_MAX_POOLS 1024
#define CTL_MAX_DRAINING 16     /* old workers listed per pool */
#define CTL_NAME_MAX 64         /* pool names: [A-Za-z0-9._-], 1-64 bytes */
#define CTL_UNKNOWN UINT64_MAX  /* a count the front end did not give */
#define CTL_TIMEOUT_MS 60000    /* idgatectl waits this long for an answer */

enum ctl_pool_action { CTL_POOL_START = 1, CTL_POOL_STOP = 2, CTL_POOL_RECYCLE = 3 };

/* What a pool does now; the front end learns it with W_CTL_POOL_STATE. */
enum ctl_pool_state {
	CTL_STATE_SERVING = 0,   /* its worker is ready */
	CTL_STATE_STARTING = 1,  /* a worker was started and is not ready yet */
	CTL_STATE_DISABLED = 2,  /* rapid_fail: 503 until started or reloaded */
	CTL_STATE_STOPPED = 3,   /* idgatectl pool stop: 503 until started */
};
#define CTL_STATE_MAX CTL_STATE_STOPPED

enum ctl_error {
	CTL_ERR_BAD_REQUEST = 1, /* malformed or unknown request */
	CTL_ERR_DENIED = 2,      /* the peer is not root */
	CTL_ERR_NO_POOL = 3,     /* no such pool */
	CTL_ERR_FAILED = 4,      /* the action failed (invalid configuration, ...) */
	CTL_ERR_BUSY = 5,        /* something else is under way (a reload) */
};

struct ctl_request {
	uint16_t type;           /* W_ADM_* */
	uint32_t action;         /* W_ADM_POOL */
	char pool[CTL_NAME_MAX + 1];
};

struct ctl_pool {
	const char *name, *user;
	uint32_t state;          /* enum ctl_pool_state */
	uint32_t pid;            /* 0: no worker */
	uint32_t threads;
	uint32_t impersonates;
	uint64_t since_s;        /* seconds the worker has run */
	uint64_t restarts;       /* workers restarted after a failure */
	uint64_t requests;       /* answered, CTL_UNKNOWN if the front end did not say */
	uint32_t busy, queued;   /* requests on a worker thread, waiting for one */
	uint32_t ndraining;
	uint32_t draining[CTL_MAX_DRAINING]; /* recycled or stopped workers finishing */
};

struct ctl_status {
	const char *version, *config;
	uint32_t pid, frontend_pid, generation;
	uint64_t uptime_s;
	uint32_t npools;
	struct ctl_pool *pools;
};

/* Requests.  Decode: 0, or -1 for anything malformed or unknown. */
int ctl_request_send(int fd, const struct ctl_request *q);
int ctl_request_decode(const struct wire_frame *f, struct ctl_request *q);

/* Replies. */
int ctl_send_ok(int fd, const char *message, uint32_t pid, uint32_t old_pid);
int ctl_send_error(int fd, enum ctl_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ctl_status_encode(struct wbuf *b, const struct ctl_status *st);
/* Decodes in place (strings point into the frame); st->pools is
 * allocated.  0 or -1. */
int ctl_status_decode(const void *p, size_t len, struct ctl_status *st);
/* W_ADM_OK: 0 or -1. */
int ctl_ok_decode(const void *p, size_t len, const char **message, uint32_t *pid,
		  uint32_t *old_pid);
int ctl_error_decode(const void *p, size_t len, uint32_t *code, const char **message);

const char *ctl_state_name(uint32_t state);
const char *ctl_action_name(uint32_t action);
/* A pool name as the configuration allows it. */
bool ctl_pool_name_ok(const char *s);

#endif
