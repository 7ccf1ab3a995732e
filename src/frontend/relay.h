/* relay.h -- the front end's event loops and its channels to pool workers.
 *
 * The front end runs one event loop per HTTP thread.  A loop owns
 * libmicrohttpd daemons (one per listener, in external-epoll mode) and a
 * share of every pool's channels, all in one epoll set: the worker's answer
 * wakes the very thread that parses the connection, and nothing else.
 * Loop i, and the worker threads behind its channels, run on CPU i, so a
 * request's wakeups never cross CPUs (on a VM a cross-CPU wakeup costs
 * about ten times a local one).
 *
 * Each pool worker thread owns one channel (a SOCK_SEQPACKET socket); a
 * request borrows a free channel, preferring one of its own loop, and
 * waits in the pool's queue when all are busy (IIS's per-pool queue).  An
 * HTTP callback never blocks on a worker: it sends without waiting and,
 * when it would have to wait, suspends the libmicrohttpd connection; the
 * loop that reads the channel resumes it.
 *
 * Locking: one mutex per pool guards its channels, queue, and the relay
 * state of requests bound to it.  Suspend and resume both happen under
 * that mutex, so a resume never overtakes its suspend.
 */
#ifndef IDGATE_RELAY_H
#define IDGATE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reqmsg.h"
#include "rlstate.h"

struct config;
struct MHD_Connection;
struct rl_chan;
struct rl_pool;
struct rl_loop;

struct rl_chunk {
	struct rl_chunk *next;
	size_t len, off;
	uint8_t data[];
};

/* While a complete request waits for its worker, its client's socket is
 * watched for a hang-up (libmicrohttpd does not watch a suspended
 * connection), so that a handler working for a client that left is told.
 * Only once it has waited RL_WATCH_AFTER_MS: most answers come sooner,
 * and an epoll_ctl to add the watch and one to drop it would cost each of
 * them two system calls. */
struct rl_peer {
	int kind;                  /* first: the loop's event source kind */
	struct rl_state *rl;
	int fd, epfd;              /* watched in epfd; -1: not watched */
	struct rl_peer *prev, *next; /* in its loop's list of waits not yet watched */
	struct rl_loop *loop;      /* whose list */
	uint64_t since_ms;         /* in that list since; 0: not in it */
};

/* What the front end knows of one request while the relay works on it. */
struct rl_state {
	struct rl_pool *pool;
	struct rl_chan *chan;      /* bound channel, or NULL */
	struct MHD_Connection *conn;
	struct rl_loop *home;      /* the loop that runs conn (set by relay_submit) */
	struct rl_state *qnext;    /* in the pool's wait queue */
	struct rl_proto st;        /* how far each side is (rlstate.h) */
	bool suspended;            /* the libmicrohttpd connection is */
	bool no_body;              /* the head says REQ_END_TOO */
	int fail_status;           /* 502, 503 or 504 when failed before a head; 408: the
	                              body did not come in within request_timeout */
	unsigned retry_after;      /* seconds, with 503 for a disabled pool */
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
	char reason[512];          /* from RESP_END, for the audit log */
	struct rl_peer peer;
	bool late_abort;           /* the worker was told the client left */
	bool peer_gone;            /* the client's socket hung up */
};

enum rl_result {
	RL_OK = 0,       /* done; go on */
	RL_SUSPENDED,    /* the connection was suspended; it will be resumed */
	RL_READY,        /* the response head is here */
	RL_FAILED,       /* the worker failed: answer rl->fail_status */
	RL_UNAVAILABLE,  /* no worker can take it: 503 */
};

/* ---- loops ---- */

/* Create `nloops` loops and the pools; `ctl` is the supervisor's socket
 * (channels, the PAM helper's socket), read by loop 0. */
int relay_init(const struct config *c, int ctl, unsigned nloops);
struct rl_loop *relay_loop(unsigned i);
unsigned relay_nloops(void);
/* The event loop the calling thread runs (0 for any other thread). */
unsigned relay_current_loop(void);
/* Wake the loop when fd is readable (e.g. libmicrohttpd's epoll fd): the
 * tick then finds relay_watch_fired() true.  NULL on failure. */
struct rl_watch *relay_loop_watch(struct rl_loop *l, int fd);
/* Whether epoll reported w's descriptor since the last call (and clears it). */
bool relay_watch_fired(struct rl_watch *w);
/* This loop resumed a connection (or gave libmicrohttpd one): its tick
 * runs libmicrohttpd even if no descriptor of it fired. */
void relay_kick(void);
/* Whether relay_kick() was called on loop l since the last call (clears it). */
bool relay_loop_kicked(struct rl_loop *l);
/* After every batch of events the loop calls tick(arg); it returns how
 * long the loop may sleep at most, in ms (-1: no limit). */
void relay_loop_set_tick(struct rl_loop *l, int (*tick)(void *arg), void *arg);
/* Run loop l in the calling thread until relay_stop(). */
void relay_loop_run(struct rl_loop *l);
/* Wake every loop (to look at a flag, e.g. draining). */
void relay_wake_all(void);
void relay_stop(void);
/* Requests bound or queued right now, over all pools. */
size_t relay_active(void);
/* A pool's worker threads serving a request now, and requests waiting. */
void relay_pool_load(unsigned pool, uint32_t *busy, uint32_t *queued);
/* Called (on loop 0) with W_CTL_STATS_QUERY and W_CTL_LOGS, the messages
 * the relay does not take itself; `ctl` is the supervisor's socket, for
 * answers.  0, or -1 for a malformed message (the front end exits). */
typedef int (*relay_ctl_hook)(int ctl, const struct wire_frame *f);
void relay_set_ctl_hook(relay_ctl_hook hook);
/* Take every message the supervisor has queued already, before the loops
 * run: the channels of the workers and the PAM helper's socket, sent
 * before this process was started, are there before the first request. */
void relay_take_ctl_backlog(void);

/* ---- requests (from libmicrohttpd callbacks) ---- */

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
/* The whole body, when it has all come (RL_RECV_END), has the announced
 * length and that is at most max: the buffered chunks joined in one
 * allocation (the caller frees it), and they are gone; else NULL. */
void *relay_take_body(struct rl_state *rl, size_t max, size_t *len);
/* The request is over (any way): release the channel, free buffers. */
void relay_done(struct rl_state *rl);

#endif
