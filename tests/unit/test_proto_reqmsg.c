/* test_proto_reqmsg.c -- the front end <-> pool worker frames (reqmsg.h):
 * each decoder takes the frame, so flags, descriptors and the payload are
 * checked together; every truncation, trailing byte, unknown flag, extra
 * or missing descriptor and value out of range is refused.  (test_wire.c
 * checks the head payloads themselves in more detail.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "idgate/module.h"
#include "prototest.h"
#include "reqmsg.h"

static struct wire_hdr req_hdrs[] = { { "Accept", "*/*" }, { "X-A", "1" } };

static struct wire_req sample_req(void)
{
	return (struct wire_req){
		.vdir = 1, .method = "POST", .path = "/app/x", .query = "a=1", .version = "HTTP/1.1",
		.request_id = "r1", .client_addr = "192.0.2.7", .host = "h", .client_port = 50000,
		.tls = 1, .level = IDG_LEVEL_DELEGATION, .impersonate = 1, .conn_id = 77,
		.authz_digest = { 9, 8, 7 }, .verdict = "\x01\x02", .verdict_len = 2,
		.hdrs = req_hdrs, .nhdrs = 2,
	};
}

static int dec_head(const struct wire_frame *f, void *out)
{
	struct wire_req *q = out;

	free(q->hdrs);
	q->hdrs = NULL;
	return reqm_head_decode(f, q);
}

/* Encode q and decode it as a REQ_HEAD frame: 0 or -1. */
static int head_roundtrip(const struct wire_req *q)
{
	struct wire_req d = { 0 };
	struct wbuf b;
	int rc;

	wb_init(&b);
	wire_req_encode(&b, q);
	struct wire_frame f = proto_frame(W_REQ_HEAD, 0, b.p, b.len, 0);
	rc = dec_head(&f, &d);
	free(d.hdrs);
	wb_free(&b);
	return rc;
}

static void test_req_head(void **state)
{
	struct wire_req q = sample_req(), d = { 0 };
	struct wbuf b;

	(void)state;
	wb_init(&b);
	wire_req_encode(&b, &q);
	proto_check_framing(dec_head, &d, W_REQ_HEAD, 0, &b, 0);
	proto_check_framing(dec_head, &d, W_REQ_HEAD, W_REQ_END_TOO, &b, 0);
	assert_string_equal(d.path, "/app/x");
	assert_int_equal(d.level, IDG_LEVEL_DELEGATION);
	assert_int_equal(d.nhdrs, 2);
	assert_int_equal(d.verdict_len, 2);
	assert_memory_equal(d.verdict, "\x01\x02", 2);
	assert_int_equal(d.conn_id, 77);
	assert_int_equal(d.authz_digest[2], 7);
	/* who the caller is is not on the wire: only the verdict says it */
	assert_null(d.principal);
	assert_null(d.user);
	assert_int_equal(d.uid, (uint32_t)-1);
	assert_null(d.creds);
	free(d.hdrs);
	wb_free(&b);
	/* each field out of range, one at a time */
	q = sample_req(); q.level = IDG_LEVEL_DELEGATION + 1;
	assert_int_equal(head_roundtrip(&q), -1);
	q = sample_req(); q.impersonate = 2;
	assert_int_equal(head_roundtrip(&q), -1);
	q = sample_req(); q.tls = 2;
	assert_int_equal(head_roundtrip(&q), -1);
	q = sample_req(); q.client_port = 65536;
	assert_int_equal(head_roundtrip(&q), -1);
	q = sample_req(); q.method = "GE T";
	assert_int_equal(head_roundtrip(&q), -1);
	q = sample_req(); q.path = "app";
	assert_int_equal(head_roundtrip(&q), -1);
	q = sample_req(); q.host = NULL;
	assert_int_equal(head_roundtrip(&q), -1);
	struct wire_hdr bad_name[] = { { "X A", "1" } }, bad_value[] = { { "X-A", "1\r\n2" } };
	q = sample_req(); q.hdrs = bad_name; q.nhdrs = 1;
	assert_int_equal(head_roundtrip(&q), -1);
	q = sample_req(); q.hdrs = bad_value; q.nhdrs = 1;
	assert_int_equal(head_roundtrip(&q), -1);
	/* anonymous: no principal, user, credentials */
	q = sample_req(); q.principal = q.user = NULL; q.creds = NULL; q.level = 0;
	assert_int_equal(head_roundtrip(&q), 0);
}

static int dec_end(const struct wire_frame *f, void *out)
{
	(void)out;
	return reqm_end_check(f);
}

static int dec_body(const struct wire_frame *f, void *out)
{
	(void)out;
	return reqm_body_check(f);
}

static void test_req_body_and_end(void **state)
{
	struct wbuf b;

	(void)state;
	wb_init(&b);
	proto_check_framing(dec_end, NULL, W_REQ_END, 0, &b, 0);
	proto_check_framing(dec_end, NULL, W_REQ_ABORT, 0, &b, 0);
	wb_bytes(&b, "body", 4);
	/* a body frame: any payload, nothing else */
	struct wire_frame f = proto_frame(W_REQ_BODY, 0, b.p, b.len, 0);
	assert_int_equal(dec_body(&f, NULL), 0);
	f = proto_frame(W_REQ_BODY, 0, b.p, 0, 0);
	assert_int_equal(dec_body(&f, NULL), 0);
	f = proto_frame(W_REQ_BODY, 1, b.p, b.len, 0);
	assert_int_equal(dec_body(&f, NULL), -1);
	f = proto_frame(W_REQ_BODY, 0, b.p, b.len, 1);
	assert_int_equal(dec_body(&f, NULL), -1);
	f = proto_frame(W_RESP_BODY, 0, b.p, b.len, 0);
	assert_int_equal(dec_body(&f, NULL), -1);
	/* an end with a payload */
	f = proto_frame(W_REQ_END, 0, b.p, b.len, 0);
	assert_int_equal(dec_end(&f, NULL), -1);
	wb_free(&b);
}

static struct wire_hdr resp_hdrs[] = { { "Content-Type", "text/plain" } };

static int dec_resp(const struct wire_frame *f, void *out)
{
	struct wire_resp *r = out;

	free(r->hdrs);
	r->hdrs = NULL;
	return reqm_resp_head_decode(f, r);
}

/* Encode r and decode it as a RESP_HEAD with flags and nfds: 0 or -1. */
static int resp_roundtrip(const struct wire_resp *r, uint16_t flags, size_t nfds)
{
	struct wire_resp d = { 0 };
	struct wbuf b;
	int rc;

	wb_init(&b);
	wire_resp_encode(&b, r);
	struct wire_frame f = proto_frame(W_RESP_HEAD, flags, b.p, b.len, nfds);
	rc = dec_resp(&f, &d);
	free(d.hdrs);
	wb_free(&b);
	return rc;
}

static void test_resp_head(void **state)
{
	struct wire_resp r = { .status = 200, .length = 5, .hdrs = resp_hdrs, .nhdrs = 1,
			       .body = "hello", .body_len = 5 }, d = { 0 };
	struct wbuf b;

	(void)state;
	wb_init(&b);
	wire_resp_encode(&b, &r);
	proto_check_framing(dec_resp, &d, W_RESP_HEAD, W_RESP_INLINE, &b, 0);
	assert_int_equal(d.body_len, 5);
	free(d.hdrs);
	d.hdrs = NULL;
	wb_free(&b);
	/* inline: the flag and the body go together, the length is the body's */
	assert_int_equal(resp_roundtrip(&r, 0, 0), -1);
	r.length = 6;
	assert_int_equal(resp_roundtrip(&r, W_RESP_INLINE, 0), -1);
	r.length = 5;
	assert_int_equal(resp_roundtrip(&r, W_RESP_INLINE | W_RESP_FD, 1), -1);
	/* a file: one descriptor with the flag, none without; a known length */
	r.body = NULL;
	r.body_len = 0;
	assert_int_equal(resp_roundtrip(&r, W_RESP_FD | W_RESP_END_TOO, 1), 0);
	assert_int_equal(resp_roundtrip(&r, W_RESP_FD | W_RESP_END_TOO, 0), -1);
	assert_int_equal(resp_roundtrip(&r, W_RESP_FD | W_RESP_END_TOO, 2), -1);
	assert_int_equal(resp_roundtrip(&r, W_RESP_END_TOO, 1), -1);
	assert_int_equal(resp_roundtrip(&r, 0x8, 0), -1);
	r.length = WIRE_LEN_UNKNOWN;
	assert_int_equal(resp_roundtrip(&r, W_RESP_FD, 1), -1);
	assert_int_equal(resp_roundtrip(&r, 0, 0), 0); /* chunked */
	/* statuses */
	r.status = 99;
	assert_int_equal(resp_roundtrip(&r, 0, 0), -1);
	r.status = 600;
	assert_int_equal(resp_roundtrip(&r, 0, 0), -1);
	r.status = 599;
	assert_int_equal(resp_roundtrip(&r, 0, 0), 0);
	/* headers: more than the limit */
	static struct wire_hdr many[WIRE_MAX_HEADERS + 1];
	for (size_t i = 0; i < WIRE_MAX_HEADERS + 1; i++)
		many[i] = (struct wire_hdr){ "X-A", "1" };
	r.hdrs = many;
	r.nhdrs = WIRE_MAX_HEADERS + 1;
	assert_int_equal(resp_roundtrip(&r, 0, 0), -1);
	r.nhdrs = WIRE_MAX_HEADERS;
	assert_int_equal(resp_roundtrip(&r, 0, 0), 0);
}

struct end_out {
	const char *reason;
	bool error;
};

static int dec_resp_end(const struct wire_frame *f, void *out)
{
	struct end_out *o = out;

	return reqm_resp_end_decode(f, &o->reason, &o->error);
}

static void test_resp_body_and_end(void **state)
{
	struct end_out o;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	reqm_resp_end_encode(&b, "cgi: exit status 1");
	proto_check_framing(dec_resp_end, &o, W_RESP_END, 0, &b, 0);
	assert_string_equal(o.reason, "cgi: exit status 1");
	assert_false(o.error);
	proto_check_framing(dec_resp_end, &o, W_RESP_END, W_RESP_END_ERROR, &b, 0);
	assert_true(o.error);
	struct wire_frame f = proto_frame(W_RESP_END, 0x2, b.p, b.len, 0);
	assert_int_equal(dec_resp_end(&f, &o), -1);
	wb_free(&b);
	wb_init(&b);
	reqm_resp_end_encode(&b, NULL);
	proto_check_framing(dec_resp_end, &o, W_RESP_END, 0, &b, 0);
	assert_null(o.reason);
	/* a body: any bytes, no flag, no descriptor */
	f = proto_frame(W_RESP_BODY, 0, b.p, b.len, 0);
	assert_int_equal(reqm_resp_body_check(&f), 0);
	f = proto_frame(W_RESP_BODY, 0, b.p, b.len, 1);
	assert_int_equal(reqm_resp_body_check(&f), -1);
	f = proto_frame(W_RESP_BODY, W_RESP_END_TOO, b.p, b.len, 0);
	assert_int_equal(reqm_resp_body_check(&f), -1);
	wb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_head),  cmocka_unit_test(test_req_body_and_end),
		cmocka_unit_test(test_resp_head), cmocka_unit_test(test_resp_body_and_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
