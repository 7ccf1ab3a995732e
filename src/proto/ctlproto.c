/* ctlproto.c -- see ctlproto.h.  Both ends decode strictly: every field is
 * bounds-checked, nothing may follow the last field, strings carry their
 * terminator, and counts are capped before anything is allocated. */
#include "ctlproto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

bool ctl_pool_name_ok(const char *s)
{
	return s && strlen(s) <= CTL_NAME_MAX && str_is_token(s);
}

const char *ctl_state_name(uint32_t state)
{
	static const char *const names[] = { "serving", "starting", "disabled", "stopped" };

	return state <= CTL_STATE_MAX ? names[state] : "unknown";
}

const char *ctl_action_name(uint32_t action)
{
	switch (action) {
	case CTL_POOL_START: return "start";
	case CTL_POOL_STOP: return "stop";
	case CTL_POOL_RECYCLE: return "recycle";
	}
	return "?";
}

/* ---------------------------------------------------------------- requests */

int ctl_request_send(int fd, const struct ctl_request *q)
{
	struct wbuf b;
	int rc;

	wb_init(&b);
	if (q->type == W_ADM_POOL) {
		wb_u32(&b, q->action);
		wb_str(&b, q->pool);
	}
	rc = wire_send(fd, q->type, 0, b.p, b.len, NULL, 0, 0);
	wb_free(&b);
	return rc;
}

int ctl_request_decode(const struct wire_frame *f, struct ctl_request *q)
{
	struct rbuf r;
	const char *name;

	memset(q, 0, sizeof(*q));
	if (f->nfds || f->flags)
		return -1;
	q->type = f->type;
	switch (f->type) {
	case W_ADM_STATUS:
	case W_ADM_RELOAD:
	case W_ADM_CHECK:
	case W_ADM_REOPEN:
		return f->len == 0 ? 0 : -1;
	case W_ADM_POOL:
		rb_init(&r, f->payload, f->len);
		q->action = rb_u32(&r);
		name = rb_str(&r);
		if (r.bad || r.left || q->action < CTL_POOL_START || q->action > CTL_POOL_RECYCLE ||
		    !ctl_pool_name_ok(name))
			return -1;
		memcpy(q->pool, name, strlen(name) + 1);
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------------- replies */

int ctl_send_ok(int fd, const char *message, uint32_t pid, uint32_t old_pid)
{
	struct wbuf b;
	int rc;

	wb_init(&b);
	wb_str(&b, message ? message : "");
	wb_u32(&b, pid);
	wb_u32(&b, old_pid);
	rc = b.overflow ? -1 : wire_send(fd, W_ADM_OK, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT);
	wb_free(&b);
	return rc;
}

int ctl_send_error(int fd, enum ctl_error code, const char *fmt, ...)
{
	char msg[16384];
	struct wbuf b;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wb_init(&b);
	wb_u32(&b, code);
	wb_str(&b, msg);
	rc = wire_send(fd, W_ADM_ERROR, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT);
	wb_free(&b);
	return rc;
}

int ctl_ok_decode(const void *p, size_t len, const char **message, uint32_t *pid,
		  uint32_t *old_pid)
{
	struct rbuf r;

	rb_init(&r, p, len);
	*message = rb_str(&r);
	*pid = rb_u32(&r);
	*old_pid = rb_u32(&r);
	return r.bad || r.left || !*message ? -1 : 0;
}

int ctl_error_decode(const void *p, size_t len, uint32_t *code, const char **message)
{
	struct rbuf r;

	rb_init(&r, p, len);
	*code = rb_u32(&r);
	*message = rb_str(&r);
	return r.bad || r.left || !*message ? -1 : 0;
}

/* ---------------------------------------------------------------- status */

static void encode_pool(struct wbuf *b, const struct ctl_pool *p)
{
	uint32_t n = p->ndraining < CTL_MAX_DRAINING ? p->ndraining : CTL_MAX_DRAINING;

	wb_str(b, p->name);
	wb_str(b, p->user);
	wb_u32(b, p->state);
	wb_u32(b, p->pid);
	wb_u32(b, p->threads);
	wb_u32(b, p->impersonates);
	wb_u64(b, p->since_s);
	wb_u64(b, p->restarts);
	wb_u64(b, p->requests);
	wb_u32(b, p->busy);
	wb_u32(b, p->queued);
	wb_u32(b, n);
	for (uint32_t i = 0; i < n; i++)
		wb_u32(b, p->draining[i]);
}

void ctl_status_encode(struct wbuf *b, const struct ctl_status *st)
{
	wb_str(b, st->version);
	wb_str(b, st->config);
	wb_u32(b, st->pid);
	wb_u32(b, st->frontend_pid);
	wb_u32(b, st->generation);
	wb_u64(b, st->uptime_s);
	wb_u32(b, st->npools);
	for (uint32_t i = 0; i < st->npools; i++)
		encode_pool(b, &st->pools[i]);
}

static int decode_pool(struct rbuf *r, struct ctl_pool *p)
{
	p->name = rb_str(r);
	p->user = rb_str(r);
	p->state = rb_u32(r);
	p->pid = rb_u32(r);
	p->threads = rb_u32(r);
	p->impersonates = rb_u32(r);
	p->since_s = rb_u64(r);
	p->restarts = rb_u64(r);
	p->requests = rb_u64(r);
	p->busy = rb_u32(r);
	p->queued = rb_u32(r);
	p->ndraining = rb_u32(r);
	if (r->bad || p->ndraining > CTL_MAX_DRAINING)
		return -1;
	for (uint32_t i = 0; i < p->ndraining; i++)
		p->draining[i] = rb_u32(r);
	if (r->bad || !ctl_pool_name_ok(p->name) || !p->user || p->state > CTL_STATE_MAX)
		return -1;
	return 0;
}

int ctl_status_decode(const void *p, size_t len, struct ctl_status *st)
{
	struct rbuf r;

	memset(st, 0, sizeof(*st));
	rb_init(&r, p, len);
	st->version = rb_str(&r);
	st->config = rb_str(&r);
	st->pid = rb_u32(&r);
	st->frontend_pid = rb_u32(&r);
	st->generation = rb_u32(&r);
	st->uptime_s = rb_u64(&r);
	st->npools = rb_u32(&r);
	if (r.bad || !st->version || !st->config || st->npools > CTL_MAX_POOLS)
		return -1;
	st->pools = xcalloc(st->npools ? st->npools : 1, sizeof(*st->pools));
	for (uint32_t i = 0; i < st->npools; i++) {
		if (decode_pool(&r, &st->pools[i]) < 0)
			goto bad;
	}
	if (r.left)
		goto bad;
	return 0;
bad:
	free(st->pools);
	st->pools = NULL;
	return -1;
}
