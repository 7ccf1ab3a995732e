/* authnmsg.c -- see authnmsg.h. */
#include "authnmsg.h"

#include <stddef.h>

#include "idgate/module.h"

void authn_request_encode(struct wbuf *b, const struct authn_request *q)
{
	wb_u64(b, q->tag);
	wb_u64(b, q->conn_id);
	wb_u32(b, q->vdir);
	wb_u32(b, q->tls);
	wb_str(b, q->request_id);
	wb_str(b, q->method);
	wb_str(b, q->path);
	wb_str(b, q->client);
	wb_str(b, q->authorization);
	wb_u32(b, q->ncookies);
	for (uint32_t i = 0; i < q->ncookies; i++)
		wb_str(b, q->cookies[i]);
}

int authn_request_decode(const struct wire_frame *f, uint32_t nvdirs, struct authn_request *q,
			 bool *has_tag)
{
	struct rbuf r;

	rb_init(&r, f->payload, f->len);
	q->tag = rb_u64(&r);
	*has_tag = !r.bad;
	if (!wire_frame_is(f, W_AUTHN_REQ, 0))
		return -1;
	q->conn_id = rb_u64(&r);
	q->vdir = rb_u32(&r);
	q->tls = rb_u32(&r);
	q->request_id = rb_str(&r);
	q->method = rb_str(&r);
	q->path = rb_str(&r);
	q->client = rb_str(&r);
	q->authorization = rb_str(&r);
	q->ncookies = rb_u32(&r);
	if (r.bad || q->ncookies > AUTHN_MAX_COOKIES)
		return -1;
	for (uint32_t i = 0; i < q->ncookies; i++)
		if (!(q->cookies[i] = rb_str(&r)))
			return -1;
	if (r.bad || r.left || q->vdir >= nvdirs || q->tls > 1 || !q->request_id ||
	    !q->method || !q->path || q->path[0] != '/' || !q->client)
		return -1;
	return 0;
}

void authn_reply_encode(struct wbuf *b, const struct authn_reply *r)
{
	wb_u64(b, r->tag);
	wb_u32(b, r->status);
	wb_u32(b, r->outcome);
	wb_u32(b, r->basic_events);
	wb_str(b, r->reason);
	wb_u32(b, r->nhdrs);
	for (uint32_t i = 0; i < r->nhdrs; i++) {
		wb_str(b, r->hdrs[i].name);
		wb_str(b, r->hdrs[i].value);
	}
	wb_str(b, r->principal);
	wb_str(b, r->user);
	wb_u32(b, r->uid);
	wb_u32(b, r->gid);
	wb_u32(b, r->level);
	wb_u32(b, r->anonymous);
	wb_u32(b, r->scheme);
	wb_str(b, r->groups_left_out);
	wb_blob(b, r->verdict, r->verdict_len);
	wb_blob(b, r->conn_verdict, r->conn_verdict_len);
	wb_u64(b, r->conn_expires_ms);
	wb_blob(b, r->session_digest, r->session_digest ? VERDICT_DIGEST_LEN : 0);
}

static int decode_headers(struct rbuf *r, struct authn_reply *m)
{
	m->nhdrs = rb_u32(r);
	if (r->bad || m->nhdrs > AUTHN_MAX_HEADERS)
		return -1;
	for (uint32_t i = 0; i < m->nhdrs; i++) {
		m->hdrs[i].name = rb_str(r);
		m->hdrs[i].value = rb_str(r);
		if (r->bad || !m->hdrs[i].name || !m->hdrs[i].value ||
		    !http_token_ok(m->hdrs[i].name) || !http_value_ok(m->hdrs[i].value))
			return -1;
	}
	return 0;
}

static bool status_ok(uint32_t st)
{
	return st == 0 || (st >= 400 && st <= 599);
}

int authn_reply_decode(const struct wire_frame *f, struct authn_reply *m)
{
	struct rbuf r;
	size_t digest_len = 0;

	if (!wire_frame_is(f, W_AUTHN_REPLY, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	m->tag = rb_u64(&r);
	m->status = rb_u32(&r);
	m->outcome = rb_u32(&r);
	m->basic_events = rb_u32(&r);
	m->reason = rb_str(&r);
	if (decode_headers(&r, m) < 0)
		return -1;
	m->principal = rb_str(&r);
	m->user = rb_str(&r);
	m->uid = rb_u32(&r);
	m->gid = rb_u32(&r);
	m->level = rb_u32(&r);
	m->anonymous = rb_u32(&r);
	m->scheme = rb_u32(&r);
	m->groups_left_out = rb_str(&r);
	m->verdict = rb_bytes(&r, &m->verdict_len);
	m->conn_verdict = rb_bytes(&r, &m->conn_verdict_len);
	m->conn_expires_ms = rb_u64(&r);
	m->session_digest = rb_bytes(&r, &digest_len);
	if (m->session_digest && (digest_len != VERDICT_DIGEST_LEN || !m->conn_verdict))
		return -1;
	if (r.bad || r.left || !status_ok(m->status) || m->outcome >= M_AUTH_COUNT ||
	    m->basic_events >= (1u << M_BASIC_COUNT) || !m->reason ||
	    m->level > IDG_LEVEL_DELEGATION || m->anonymous > 1 ||
	    m->scheme >= AUTHN_SCHEME_COUNT || !m->groups_left_out)
		return -1;
	return 0;
}

void authn_conn_end_encode(struct wbuf *b, uint64_t conn_id)
{
	wb_u64(b, conn_id);
}

int authn_conn_end_decode(const struct wire_frame *f, uint64_t *conn_id)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_AUTHN_CONN_END, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	*conn_id = rb_u64(&r);
	return r.bad || r.left ? -1 : 0;
}

const char *authn_scheme_name(uint32_t scheme)
{
	static const char *const names[AUTHN_SCHEME_COUNT] = {
		[AUTHN_SCHEME_NEGOTIATE] = "Negotiate", [AUTHN_SCHEME_BASIC] = "Basic",
		[AUTHN_SCHEME_NEGOTIATE_SESSION] = "Negotiate (session)",
		[AUTHN_SCHEME_BASIC_SESSION] = "Basic (session)",
	};
	return scheme < AUTHN_SCHEME_COUNT ? names[scheme] : NULL;
}
