/* reqmsg.c -- see reqmsg.h. */
#include "reqmsg.h"

#include <stdlib.h>
#include <string.h>

#include "idgate/module.h"
#include "util.h"

static void wb_hdrs(struct wbuf *b, const struct wire_hdr *h, uint32_t n)
{
	wb_u32(b, n);
	for (uint32_t i = 0; i < n; i++) {
		wb_str(b, h[i].name);
		wb_str(b, h[i].value);
	}
}

static int rb_hdrs(struct rbuf *r, struct wire_hdr **out, uint32_t *nout)
{
	uint32_t n = rb_u32(r);

	*out = NULL;
	*nout = 0;
	if (r->bad || n > WIRE_MAX_HEADERS)
		return -1;
	struct wire_hdr *h = xcalloc(n ? n : 1, sizeof(*h));
	for (uint32_t i = 0; i < n; i++) {
		h[i].name = rb_str(r);
		h[i].value = rb_str(r);
		if (r->bad || !h[i].name || !h[i].value || !http_token_ok(h[i].name) ||
		    !http_value_ok(h[i].value)) {
			free(h);
			return -1;
		}
	}
	*out = h;
	*nout = n;
	return 0;
}

void wire_req_encode(struct wbuf *b, const struct wire_req *q)
{
	wb_u32(b, q->vdir);
	wb_str(b, q->method);
	wb_str(b, q->path);
	wb_str(b, q->query);
	wb_str(b, q->version);
	wb_str(b, q->request_id);
	wb_str(b, q->client_addr);
	wb_str(b, q->host);
	wb_u32(b, q->client_port);
	wb_u32(b, q->tls);
	wb_u32(b, q->level);
	wb_u32(b, q->impersonate);
	wb_u64(b, q->conn_id);
	wb_bytes(b, q->authz_digest, sizeof(q->authz_digest));
	wb_blob(b, q->verdict, q->verdict_len);
	wb_hdrs(b, q->hdrs, q->nhdrs);
}

int wire_req_decode(const void *p, size_t len, struct wire_req *q)
{
	struct rbuf r;

	memset(q, 0, sizeof(*q));
	rb_init(&r, p, len);
	q->vdir = rb_u32(&r);
	q->method = rb_str(&r);
	q->path = rb_str(&r);
	q->query = rb_str(&r);
	q->version = rb_str(&r);
	q->request_id = rb_str(&r);
	q->client_addr = rb_str(&r);
	q->host = rb_str(&r);
	q->client_port = rb_u32(&r);
	q->tls = rb_u32(&r);
	q->level = rb_u32(&r);
	q->impersonate = rb_u32(&r);
	q->conn_id = rb_u64(&r);
	rb_fixed(&r, q->authz_digest, sizeof(q->authz_digest));
	q->verdict = rb_bytes(&r, &q->verdict_len);
	q->uid = q->gid = (uint32_t)-1; /* who: the verdict's (the worker opens it) */
	if (r.bad || !q->method || !q->path || !q->query || !q->version || !q->request_id ||
	    !q->client_addr || !q->host || !http_token_ok(q->method) || q->path[0] != '/' ||
	    q->level > IDG_LEVEL_DELEGATION || q->impersonate > 1 ||
	    q->tls > 1 || q->client_port > 65535)
		return -1;
	if (rb_hdrs(&r, &q->hdrs, &q->nhdrs) < 0)
		return -1;
	if (r.left != 0) {
		free(q->hdrs);
		q->hdrs = NULL;
		return -1;
	}
	return 0;
}

void wire_resp_encode(struct wbuf *b, const struct wire_resp *r)
{
	wb_u32(b, r->status);
	wb_u64(b, r->length);
	wb_u64(b, r->fd_offset);
	wb_str(b, r->reason);
	wb_hdrs(b, r->hdrs, r->nhdrs);
	wb_blob(b, r->body, r->body_len);
}

int wire_resp_decode(const void *p, size_t len, struct wire_resp *resp)
{
	struct rbuf r;

	memset(resp, 0, sizeof(*resp));
	rb_init(&r, p, len);
	resp->status = rb_u32(&r);
	resp->length = rb_u64(&r);
	resp->fd_offset = rb_u64(&r);
	resp->reason = rb_str(&r);
	if (r.bad || resp->status < 100 || resp->status > 599)
		return -1;
	if (rb_hdrs(&r, &resp->hdrs, &resp->nhdrs) < 0)
		return -1;
	resp->body = rb_bytes(&r, &resp->body_len);
	if (r.bad || r.left != 0) {
		free(resp->hdrs);
		resp->hdrs = NULL;
		return -1;
	}
	return 0;
}

int reqm_head_decode(const struct wire_frame *f, struct wire_req *q)
{
	if (f->type != W_REQ_HEAD || (f->flags & ~W_REQ_END_TOO) || f->nfds)
		return -1;
	return wire_req_decode(f->payload, f->len, q);
}

int reqm_body_check(const struct wire_frame *f)
{
	return wire_frame_is(f, W_REQ_BODY, 0) ? 0 : -1;
}

int reqm_end_check(const struct wire_frame *f)
{
	return (f->type == W_REQ_END || f->type == W_REQ_ABORT) && !f->flags && !f->nfds &&
			       f->len == 0 ? 0 : -1;
}

int reqm_resp_head_decode(const struct wire_frame *f, struct wire_resp *resp)
{
	bool has_fd = f->flags & W_RESP_FD, inline_body = f->flags & W_RESP_INLINE;

	if (f->type != W_RESP_HEAD || f->nfds != (has_fd ? 1u : 0u) || (has_fd && inline_body) ||
	    (f->flags & ~(W_RESP_FD | W_RESP_END_TOO | W_RESP_INLINE)))
		return -1;
	if (wire_resp_decode(f->payload, f->len, resp) < 0)
		return -1;
	if (inline_body != (resp->body != NULL) ||
	    (inline_body && resp->length != resp->body_len) ||
	    (has_fd && resp->length == WIRE_LEN_UNKNOWN)) {
		free(resp->hdrs);
		resp->hdrs = NULL;
		return -1;
	}
	return 0;
}

int reqm_resp_body_check(const struct wire_frame *f)
{
	return wire_frame_is(f, W_RESP_BODY, 0) ? 0 : -1;
}

void reqm_resp_end_encode(struct wbuf *b, const char *reason)
{
	wb_str(b, reason);
}

int reqm_resp_end_decode(const struct wire_frame *f, const char **reason, bool *error)
{
	struct rbuf r;

	if (f->type != W_RESP_END || (f->flags & ~W_RESP_END_ERROR) || f->nfds)
		return -1;
	rb_init(&r, f->payload, f->len);
	*reason = rb_str(&r);
	*error = f->flags & W_RESP_END_ERROR;
	return r.bad || r.left ? -1 : 0;
}
