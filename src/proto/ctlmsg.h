/* ctlmsg.h -- the control channel between the supervisor and its children
 * (one SOCK_SEQPACKET pair per child, wire.h framing).
 *
 *   supervisor -> front end   CTL_CHANNELS (u32 pool, u32 tag; 1-16 fds: the
 *                             front end's ends of one worker's channels, in
 *                             batches), CTL_AUTHSOCK (no payload; 1 fd: the
 *                             PAM helper's socket), CTL_POOL_STATE,
 *                             CTL_POOL_RETIRE, CTL_STATS_QUERY, CTL_LOGS (u32
 *                             which; one fd per bit, in bit order)
 *   front end -> supervisor   CTL_READY, CTL_STATS (answering a query)
 *   worker, PAM helper ->     CTL_READY (no payload, no fds)
 *
 * Encoders write the payload into a wbuf (the supervisor queues it with
 * msgq.c); decoders take the whole frame and refuse a wrong type, flags,
 * descriptor count, a truncated or overlong payload, and values out of
 * range: a pool index not below npools, a state the enum does not have, a
 * Retry-After that does not match the state, log bits other than
 * W_LOG_AUDIT and W_LOG_ACCESS.  */
#ifndef IDGATE_CTLMSG_H
#define IDGATE_CTLMSG_H

#include <stdint.h>

#include "wire.h"

struct ctlm_channels {
	uint32_t pool;
	uint32_t tag;     /* which worker of the pool: its channels begin */
};

struct ctlm_pool_state {
	uint32_t pool;
	uint32_t retry_after; /* seconds; 0 exactly when the pool serves or starts */
	uint32_t state;       /* enum ctl_pool_state */
	uint64_t restarts;
};

struct ctlm_pool_retire {
	uint32_t pool;
	uint32_t tag;     /* the retired worker's, from its CTL_CHANNELS */
};

struct ctlm_pool_load {
	uint64_t requests;
	uint32_t busy, queued;
};

void ctlm_channels_encode(struct wbuf *b, const struct ctlm_channels *m);
int ctlm_channels_decode(const struct wire_frame *f, uint32_t npools, struct ctlm_channels *m);
/* CTL_AUTHSOCK: no payload, exactly one descriptor.  0 or -1. */
/* CTL_AUTHSOCK: the authenticator's channel of front-end loop `loop`. */
void ctlm_authsock_encode(struct wbuf *b, uint32_t loop);
int ctlm_authsock_decode(const struct wire_frame *f, uint32_t nloops, uint32_t *loop);
int ctlm_pamsock_decode(const struct wire_frame *f);
int ctlm_keytab_decode(const struct wire_frame *f);
void ctlm_pool_state_encode(struct wbuf *b, const struct ctlm_pool_state *m);
int ctlm_pool_state_decode(const struct wire_frame *f, uint32_t npools,
			   struct ctlm_pool_state *m);
void ctlm_pool_retire_encode(struct wbuf *b, const struct ctlm_pool_retire *m);
int ctlm_pool_retire_decode(const struct wire_frame *f, uint32_t npools,
			    struct ctlm_pool_retire *m);
void ctlm_stats_query_encode(struct wbuf *b, uint32_t tag);
int ctlm_stats_query_decode(const struct wire_frame *f, uint32_t *tag);
/* CTL_STATS: the query's tag, then one load per pool; the decoder wants
 * exactly `npools` of them, into `load`. */
void ctlm_stats_encode(struct wbuf *b, uint32_t tag, const struct ctlm_pool_load *load,
		       uint32_t npools);
int ctlm_stats_decode(const struct wire_frame *f, uint32_t npools, uint32_t *tag,
		      struct ctlm_pool_load *load);
void ctlm_logs_encode(struct wbuf *b, uint32_t which);
int ctlm_logs_decode(const struct wire_frame *f, uint32_t *which);
/* CTL_READY: no payload, no descriptor.  0 or -1. */
int ctlm_ready_decode(const struct wire_frame *f);
/* Send CTL_READY (blocking).  0 or -1 with errno. */
int ctlm_send_ready(int ctl);

#endif
