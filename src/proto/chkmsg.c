/* chkmsg.c -- see chkmsg.h. */
#include "chkmsg.h"

#include <string.h>

void chkm_begin_encode(struct wbuf *b, uint32_t vdir)
{
	wb_u32(b, vdir);
}

int chkm_begin_decode(const struct wire_frame *f, uint32_t nvdirs, uint32_t *vdir)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_CHK_BEGIN, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	*vdir = rb_u32(&r);
	return r.bad || r.left || *vdir >= nvdirs ? -1 : 0;
}

void chkm_error_encode(struct wbuf *b, const struct chkm_error *m)
{
	wb_u32(b, m->vdir);
	wb_str(b, m->key);
	wb_str(b, m->message);
}

int chkm_error_decode(const struct wire_frame *f, uint32_t nvdirs, struct chkm_error *m)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_CHK_ERROR, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	m->vdir = rb_u32(&r);
	m->key = rb_str(&r);
	m->message = rb_str(&r);
	return r.bad || r.left || m->vdir >= nvdirs || !m->message ? -1 : 0;
}

void chkm_done_encode(struct wbuf *b, const struct chkm_done *m)
{
	wb_u32(b, m->vdir);
	wb_u32(b, m->passed);
	wb_u32(b, m->flags);
	wb_str(b, m->target);
}

/* An S4U2Proxy target: a GSS name of printable ASCII, none without s4u. */
static bool target_ok(const char *t, bool s4u)
{
	if (!s4u)
		return !*t;
	if (!*t || strlen(t) > CHK_TARGET_MAX)
		return false;
	for (const char *p = t; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return true;
}

int chkm_done_decode(const struct wire_frame *f, uint32_t nvdirs, struct chkm_done *m)
{
	struct rbuf r;
	uint32_t passed;

	if (!wire_frame_is(f, W_CHK_DONE, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	m->vdir = rb_u32(&r);
	passed = rb_u32(&r);
	m->flags = rb_u32(&r);
	m->target = rb_str(&r);
	m->passed = passed == 1;
	if (r.bad || r.left || m->vdir >= nvdirs || passed > 1 ||
	    (m->flags & ~(CHK_CREDS | CHK_S4U)) || !m->target ||
	    !target_ok(m->target, m->flags & CHK_S4U))
		return -1;
	return 0;
}

void chkm_failed_encode(struct wbuf *b, const char *message)
{
	wb_str(b, message);
}

int chkm_failed_decode(const struct wire_frame *f, const char **message)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_CHK_FAILED, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	*message = rb_str(&r);
	return r.bad || r.left || !*message ? -1 : 0;
}
