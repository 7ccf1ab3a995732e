/* test_proto_authnmsg.c -- the front end <-> authenticator messages
 * (authnmsg.h): round trips, and every truncation, trailing byte, flag,
 * descriptor and value out of range refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "authnmsg.h"
#include "prototest.h"

static int dec_request(const struct wire_frame *f, void *out)
{
	bool has_tag;

	return authn_request_decode(f, 4, out, &has_tag);
}

static int dec_reply(const struct wire_frame *f, void *out)
{
	return authn_reply_decode(f, out);
}

static int dec_end(const struct wire_frame *f, void *out)
{
	return authn_conn_end_decode(f, out);
}

static struct authn_request sample_request(void)
{
	return (struct authn_request){
		.tag = 7, .conn_id = 0x100000002ull, .vdir = 3, .tls = 1, .request_id = "r1",
		.method = "GET", .path = "/app", .client = "192.0.2.1",
		.authorization = "Negotiate YII=", .cookies = { "a=1", "idgate_session=x" },
		.ncookies = 2,
	};
}

static int request_roundtrip(const struct authn_request *q)
{
	struct authn_request d;
	struct wbuf b;
	bool has_tag;
	int rc;

	wb_init(&b);
	authn_request_encode(&b, q);
	struct wire_frame f = proto_frame(W_AUTHN_REQ, 0, b.p, b.len, 0);
	rc = authn_request_decode(&f, 4, &d, &has_tag);
	wb_free(&b);
	return rc;
}

static void test_request(void **state)
{
	struct authn_request q = sample_request(), d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	authn_request_encode(&b, &q);
	proto_check_framing(dec_request, &d, W_AUTHN_REQ, 0, &b, 0);
	assert_int_equal(d.tag, 7);
	assert_true(d.conn_id == 0x100000002ull);
	assert_int_equal(d.vdir, 3);
	assert_string_equal(d.path, "/app");
	assert_string_equal(d.authorization, "Negotiate YII=");
	assert_int_equal(d.ncookies, 2);
	assert_string_equal(d.cookies[1], "idgate_session=x");
	wb_free(&b);
	q.authorization = NULL; /* none: fine */
	assert_int_equal(request_roundtrip(&q), 0);
	/* lies, one at a time */
	q = sample_request(); q.vdir = 4;
	assert_int_equal(request_roundtrip(&q), -1);
	q = sample_request(); q.tls = 2;
	assert_int_equal(request_roundtrip(&q), -1);
	q = sample_request(); q.path = "app";
	assert_int_equal(request_roundtrip(&q), -1);
	q = sample_request(); q.method = NULL;
	assert_int_equal(request_roundtrip(&q), -1);
	q = sample_request(); q.client = NULL;
	assert_int_equal(request_roundtrip(&q), -1);
	q = sample_request(); q.cookies[1] = NULL;
	assert_int_equal(request_roundtrip(&q), -1);
}

static void test_request_too_many_cookies(void **state)
{
	struct authn_request q = sample_request(), d;
	struct wbuf b;
	bool has_tag;

	(void)state;
	wb_init(&b);
	authn_request_encode(&b, &q);
	/* the count says 9: more than anybody sends */
	size_t at = b.len - (strlen("a=1") + 5) - (strlen("idgate_session=x") + 5) - 4;
	uint32_t nine = AUTHN_MAX_COOKIES + 1;
	memcpy(b.p + at, &nine, 4);
	struct wire_frame f = proto_frame(W_AUTHN_REQ, 0, b.p, b.len, 0);
	assert_int_equal(authn_request_decode(&f, 4, &d, &has_tag), -1);
	assert_true(has_tag);
	wb_free(&b);
}

static struct authn_reply sample_reply(void)
{
	return (struct authn_reply){
		.tag = 9, .status = 0, .outcome = M_AUTH_OK, .basic_events = 1u << M_BASIC_DELAYED,
		.reason = "", .hdrs = { { "WWW-Authenticate", "Negotiate oYG=" } }, .nhdrs = 1,
		.principal = "alice@X.TEST", .user = "alice", .uid = 1000, .gid = 1000,
		.level = 3, .anonymous = 0, .scheme = AUTHN_SCHEME_NEGOTIATE,
		.groups_left_out = "", .verdict = "\x01\x02\x03", .verdict_len = 3,
		.conn_verdict = NULL, .conn_expires_ms = 0, .session_digest = NULL,
	};
}

static int reply_roundtrip(const struct authn_reply *r)
{
	struct authn_reply d;
	struct wbuf b;
	int rc;

	wb_init(&b);
	authn_reply_encode(&b, r);
	struct wire_frame f = proto_frame(W_AUTHN_REPLY, 0, b.p, b.len, 0);
	rc = authn_reply_decode(&f, &d);
	wb_free(&b);
	return rc;
}

static void test_reply(void **state)
{
	struct authn_reply r = sample_reply(), d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	authn_reply_encode(&b, &r);
	proto_check_framing(dec_reply, &d, W_AUTHN_REPLY, 0, &b, 0);
	assert_int_equal(d.tag, 9);
	assert_int_equal(d.nhdrs, 1);
	assert_string_equal(d.hdrs[0].value, "Negotiate oYG=");
	assert_string_equal(d.user, "alice");
	assert_int_equal(d.verdict_len, 3);
	assert_null(d.conn_verdict);
	wb_free(&b);
	r.status = 401;
	assert_int_equal(reply_roundtrip(&r), 0);
	/* lies, one at a time */
	r = sample_reply(); r.status = 200;
	assert_int_equal(reply_roundtrip(&r), -1);
	r = sample_reply(); r.outcome = M_AUTH_COUNT;
	assert_int_equal(reply_roundtrip(&r), -1);
	r = sample_reply(); r.basic_events = 1u << M_BASIC_COUNT;
	assert_int_equal(reply_roundtrip(&r), -1);
	r = sample_reply(); r.level = 4;
	assert_int_equal(reply_roundtrip(&r), -1);
	r = sample_reply(); r.anonymous = 2;
	assert_int_equal(reply_roundtrip(&r), -1);
	r = sample_reply(); r.scheme = AUTHN_SCHEME_COUNT;
	assert_int_equal(reply_roundtrip(&r), -1);
	r = sample_reply(); r.reason = NULL;
	assert_int_equal(reply_roundtrip(&r), -1);
	r = sample_reply(); r.hdrs[0].name = "WWW Authenticate"; /* not a token */
	assert_int_equal(reply_roundtrip(&r), -1);
	r = sample_reply(); r.hdrs[0].value = "Negotiate\r\nX: y"; /* a header more */
	assert_int_equal(reply_roundtrip(&r), -1);
	/* a header count above the most there may be (after tag, status,
	 * outcome, events and the empty reason) */
	r = sample_reply();
	wb_init(&b);
	authn_reply_encode(&b, &r);
	assert_int_equal(proto_decode_with_u32(dec_reply, &d, W_AUTHN_REPLY, 0, &b, 0,
					       8 + 3 * 4 + 5, AUTHN_MAX_HEADERS + 1), -1);
	wb_free(&b);
}

/* A session cookie's verdict comes with the cookie's digest: exactly
 * VERDICT_DIGEST_LEN bytes, and only with a verdict to keep. */
static void test_reply_session_digest(void **state)
{
	static const uint8_t digest[VERDICT_DIGEST_LEN] = { 1, 2, 3, [31] = 0x7f };
	struct authn_reply r = sample_reply(), d;
	struct wbuf b;

	(void)state;
	r.conn_verdict = "\x04\x05";
	r.conn_verdict_len = 2;
	r.conn_expires_ms = 12345;
	r.session_digest = digest;
	wb_init(&b);
	authn_reply_encode(&b, &r);
	proto_check_framing(dec_reply, &d, W_AUTHN_REPLY, 0, &b, 0);
	assert_non_null(d.session_digest);
	assert_memory_equal(d.session_digest, digest, VERDICT_DIGEST_LEN);
	assert_int_equal(d.conn_verdict_len, 2);
	wb_free(&b);
	/* a digest of another length: the last field, cut short */
	wb_init(&b);
	authn_reply_encode(&b, &r);
	b.p[b.len - VERDICT_DIGEST_LEN - 4] = VERDICT_DIGEST_LEN - 1;
	b.len--;
	struct wire_frame f = proto_frame(W_AUTHN_REPLY, 0, b.p, b.len, 0);
	assert_int_equal(authn_reply_decode(&f, &d), -1);
	wb_free(&b);
	/* a digest without a verdict to keep */
	r.conn_verdict = NULL;
	r.conn_verdict_len = 0;
	assert_int_equal(reply_roundtrip(&r), -1);
}

static void test_conn_end(void **state)
{
	uint64_t id = 0;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	authn_conn_end_encode(&b, 0xabcdef0123ull);
	proto_check_framing(dec_end, &id, W_AUTHN_CONN_END, 0, &b, 0);
	assert_true(id == 0xabcdef0123ull);
	wb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_too_many_cookies),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_reply_session_digest),
		cmocka_unit_test(test_conn_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
