/* relay.h -- the front end's side of the channels to pool workers.
 *
 * Each pool worker thread owns one channel (a SOCK_SEQPACKET socket); the
 * front end lends a free channel to one request at a time and queues
 * requests when all are busy (IIS's per-pool request queue).  HTTP
 * threads never block on a worker: they send without waiting and, when
 * they would have to wait (no free channel, channel full, response not
 * here yet), suspend the libmicrohttpd connection.  One relay thread
 * reads every channel with epoll, buffers what the worker sent, and
 * resumes the connection.
 *
 * Locking: one mutex per pool guards its channels, its queue and the
 * relay state of requests bound to it.  Suspend and resume both happen
 * under that mutex, so a resume can never overtake its suspend.
 */
#ifndef IDGATE_RELAY_H
#define IDGATE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct config;
struct MHD_Connection;
struct rl_chan;
struct rl_pool;

struct rl_chunk {
	struct rl_chunk *next;
	size_t len, off;
	uint8_t data[];
};

/* What the front end knows of one request while the relay works on it. */
struct rl_state {
	struct rl_pool *pool;
	struct rl_chan *chan;      /* bound channel, or NULL */
	struct MHD_Connection *conn;
	struct rl_state *qnext;    /* in the pool's wait queue */
	bool queued;
	bool suspended;
	bool head_sent;            /* REQ_HEAD is on the channel */
	bool end_sent;             /* REQ_END or REQ_ABORT is on the channel */
	bool discard_body;         /* the worker answered: drop the rest */
	bool resp_head;            /* RESP_HEAD received */
	bool resp_end;             /* RESP_END received */
	bool resp_error;           /* worker reported failure after the head */
	bool failed;               /* channel died or timed out */
	int fail_status;           /* 502 or 504 when failed before a head */
	uint64_t deadline_ms;
	/* the encoded request head, until it is sent */
	uint8_t *head;
	size_t head_len;
	/* the response */
	uint8_t *resp_buf;         /* holds the RESP_HEAD payload */
	struct wire_resp resp;
	uint16_t resp_flags;
	int resp_fd;
	struct rl_chunk *first, *last;
	size_t buffered;
	uint64_t body_bytes;
	char reason[200];          /* from RESP_END, for the audit log */
};

enum rl_result {
	RL_OK = 0,       /* done; go on */
	RL_SUSPENDED,    /* the connection was suspended; it will be resumed */
	RL_READY,        /* the response head is here */
	RL_FAILED,       /* the worker failed: answer rl->fail_status */
	RL_UNAVAILABLE,  /* no worker can take it: 503 */
};

/* Start the relay: one pool per config pool; `ctl` is the supervisor's
 * socket, which brings channels.  Spawns the relay thread. */
int relay_start(const struct config *c, int ctl);
void relay_stop(void);
/* Requests bound or queued right now, over all pools. */
size_t relay_active(void);

/* Queue the request for its pool (head already encoded in rl->head).
 * RL_OK (bound or queued) or RL_UNAVAILABLE. */
enum rl_result relay_submit(struct rl_state *rl, unsigned pool);
/* Forward body bytes; consumes what it could from *len.  RL_OK or
 * RL_SUSPENDED (the caller returns to libmicrohttpd and is called again). */
enum rl_result relay_upload(struct rl_state *rl, const char *data, size_t *len);
/* All the body is in: send the end, then wait for the response head. */
enum rl_result relay_await_head(struct rl_state *rl);
/* Content reader: >0 bytes copied; 0 suspended; -1 end; -2 error. */
ssize_t relay_read(struct rl_state *rl, char *buf, size_t max);
/* The request is over (any way): release the channel, free buffers. */
void relay_done(struct rl_state *rl);

#endif
