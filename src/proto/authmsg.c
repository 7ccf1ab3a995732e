/* authmsg.c -- see authmsg.h. */
#include "authmsg.h"

void authm_question_encode(struct wbuf *b, const struct authm_question *q)
{
	wb_u64(b, q->tag);
	wb_str(b, q->user);
	wb_str(b, q->rhost);
	if (q->op == W_AUTH_PASS)
		wb_str(b, q->password);
}

int authm_question_decode(const struct wire_frame *f, struct authm_question *q, bool *has_tag)
{
	struct rbuf r;
	bool pass = f->type == W_AUTH_PASS;

	rb_init(&r, f->payload, f->len);
	q->op = f->type;
	q->tag = rb_u64(&r);
	*has_tag = !r.bad;
	if (!wire_frame_is(f, pass ? W_AUTH_PASS : W_AUTH_ACCT, 0))
		return -1;
	q->user = rb_str(&r);
	q->rhost = rb_str(&r);
	q->password = pass ? rb_str(&r) : NULL;
	if (r.bad || r.left || !q->user || !q->rhost || (pass && !q->password))
		return -1;
	return 0;
}

void authm_result_encode(struct wbuf *b, const struct authm_result *r)
{
	wb_u64(b, r->tag);
	wb_u32(b, (uint32_t)r->code);
	wb_str(b, r->message);
}

int authm_result_decode(const struct wire_frame *f, struct authm_result *res)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_AUTH_RESULT, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	res->tag = rb_u64(&r);
	res->code = (int32_t)rb_u32(&r);
	res->message = rb_str(&r);
	if (r.bad || r.left || !res->message ||
	    (res->code != AUTH_ANSWER_INVALID && (res->code < 0 || res->code > AUTHM_MAX_CODE)))
		return -1;
	return 0;
}
