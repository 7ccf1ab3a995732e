/* ctlmsg.c -- see ctlmsg.h. */
#include "ctlmsg.h"

#include "ctlproto.h"

void ctlm_channels_encode(struct wbuf *b, const struct ctlm_channels *m)
{
	wb_u32(b, m->pool);
	wb_u32(b, m->tag);
}

int ctlm_channels_decode(const struct wire_frame *f, uint32_t npools, struct ctlm_channels *m)
{
	struct rbuf r;

	if (f->type != W_CTL_CHANNELS || f->flags || f->nfds < 1 || f->nfds > WIRE_MAX_FDS)
		return -1;
	rb_init(&r, f->payload, f->len);
	m->pool = rb_u32(&r);
	m->tag = rb_u32(&r);
	return r.bad || r.left || m->pool >= npools ? -1 : 0;
}

void ctlm_authsock_encode(struct wbuf *b, uint32_t loop)
{
	wb_u32(b, loop);
}

int ctlm_authsock_decode(const struct wire_frame *f, uint32_t nloops, uint32_t *loop)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_CTL_AUTHSOCK, 1))
		return -1;
	rb_init(&r, f->payload, f->len);
	*loop = rb_u32(&r);
	return r.bad || r.left || *loop >= nloops ? -1 : 0;
}

int ctlm_pamsock_decode(const struct wire_frame *f)
{
	return wire_frame_is(f, W_CTL_PAMSOCK, 1) && f->len == 0 ? 0 : -1;
}

int ctlm_keytab_decode(const struct wire_frame *f)
{
	return wire_frame_is(f, W_CTL_KEYTAB, 1) && f->len == 0 ? 0 : -1;
}

void ctlm_pool_state_encode(struct wbuf *b, const struct ctlm_pool_state *m)
{
	wb_u32(b, m->pool);
	wb_u32(b, m->retry_after);
	wb_u32(b, m->state);
	wb_u64(b, m->restarts);
}

/* A pool that is off (disabled, stopped) answers 503 with Retry-After;
 * one that serves or starts has none. */
static bool off_state(uint32_t state)
{
	return state == CTL_STATE_DISABLED || state == CTL_STATE_STOPPED;
}

int ctlm_pool_state_decode(const struct wire_frame *f, uint32_t npools,
			   struct ctlm_pool_state *m)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_CTL_POOL_STATE, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	m->pool = rb_u32(&r);
	m->retry_after = rb_u32(&r);
	m->state = rb_u32(&r);
	m->restarts = rb_u64(&r);
	if (r.bad || r.left || m->pool >= npools || m->state > CTL_STATE_MAX ||
	    off_state(m->state) != (m->retry_after != 0))
		return -1;
	return 0;
}

void ctlm_pool_retire_encode(struct wbuf *b, const struct ctlm_pool_retire *m)
{
	wb_u32(b, m->pool);
	wb_u32(b, m->tag);
}

int ctlm_pool_retire_decode(const struct wire_frame *f, uint32_t npools,
			    struct ctlm_pool_retire *m)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_CTL_POOL_RETIRE, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	m->pool = rb_u32(&r);
	m->tag = rb_u32(&r);
	return r.bad || r.left || m->pool >= npools ? -1 : 0;
}

void ctlm_stats_query_encode(struct wbuf *b, uint32_t tag)
{
	wb_u32(b, tag);
}

int ctlm_stats_query_decode(const struct wire_frame *f, uint32_t *tag)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_CTL_STATS_QUERY, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	*tag = rb_u32(&r);
	return r.bad || r.left ? -1 : 0;
}

void ctlm_stats_encode(struct wbuf *b, uint32_t tag, const struct ctlm_pool_load *load,
		       uint32_t npools)
{
	wb_u32(b, tag);
	wb_u32(b, npools);
	for (uint32_t i = 0; i < npools; i++) {
		wb_u64(b, load[i].requests);
		wb_u32(b, load[i].busy);
		wb_u32(b, load[i].queued);
	}
}

int ctlm_stats_decode(const struct wire_frame *f, uint32_t npools, uint32_t *tag,
		      struct ctlm_pool_load *load)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_CTL_STATS, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	*tag = rb_u32(&r);
	if (rb_u32(&r) != npools || r.bad)
		return -1;
	for (uint32_t i = 0; i < npools; i++) {
		load[i].requests = rb_u64(&r);
		load[i].busy = rb_u32(&r);
		load[i].queued = rb_u32(&r);
	}
	return r.bad || r.left ? -1 : 0;
}

void ctlm_logs_encode(struct wbuf *b, uint32_t which)
{
	wb_u32(b, which);
}

int ctlm_logs_decode(const struct wire_frame *f, uint32_t *which)
{
	struct rbuf r;

	if (f->type != W_CTL_LOGS || f->flags)
		return -1;
	rb_init(&r, f->payload, f->len);
	*which = rb_u32(&r);
	if (r.bad || r.left || *which == 0 || (*which & ~(W_LOG_AUDIT | W_LOG_ACCESS)) ||
	    f->nfds != (size_t)__builtin_popcount(*which))
		return -1;
	return 0;
}

int ctlm_ready_decode(const struct wire_frame *f)
{
	return wire_frame_is(f, W_CTL_READY, 0) && f->len == 0 ? 0 : -1;
}

int ctlm_send_ready(int ctl)
{
	return wire_send(ctl, W_CTL_READY, 0, NULL, 0, NULL, 0, 0);
}
