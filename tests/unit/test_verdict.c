/* test_verdict.c -- the authenticator's sealed verdicts (verdict.h): what
 * is sealed opens as it was; another key, any changed byte, any
 * truncation, another version, and a sealed plaintext that is not a
 * verdict are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "idgate/module.h"
#include "reqmsg.h"
#include "verdict.h"

static uint8_t key[VERDICT_KEY_LEN], other[VERDICT_KEY_LEN];

static struct verdict sample(void)
{
	struct verdict v = {
		.kind = VERDICT_REQUEST, .issued_ms = 1000, .expires_ms = 61000, .vdir = 2,
		.conn_id = 77, .request_id = "rid", .method = "GET", .path = "/app/x",
		.principal = "alice@X.TEST", .user = "alice", .uid = 1000, .gid = 1001,
		.level = IDG_LEVEL_DELEGATION, .auth_type = W_AUTH_NEGOTIATE,
		.creds = "\x05\x00\x06", .creds_len = 3,
	};
	memset(v.id, 0x42, sizeof(v.id));
	verdict_digest("Negotiate YII=", v.authz_digest);
	return v;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(verdict_new_key(key), 0);
	assert_int_equal(verdict_new_key(other), 0);
	assert_memory_not_equal(key, other, sizeof(key));
	return 0;
}

/* the plaintext of the last verdict opened: v points into it */
static uint8_t plain[WIRE_MAX_PAYLOAD];

static int open_it(const uint8_t *k, const struct wbuf *b, struct verdict *v, char *why)
{
	return verdict_open(k, b->p, b->len, plain, v, why, 200);
}

static void test_roundtrip(void **state)
{
	struct verdict v = sample(), d;
	uint8_t digest[VERDICT_DIGEST_LEN];
	struct wbuf b;
	char why[200];

	(void)state;
	assert_int_equal(verdict_seal(key, &v, &b), 0);
	assert_int_equal(open_it(key, &b, &d, why), 0);
	assert_int_equal(d.kind, VERDICT_REQUEST);
	assert_memory_equal(d.id, v.id, VERDICT_ID_LEN);
	assert_true(d.issued_ms == 1000 && d.expires_ms == 61000);
	assert_int_equal(d.vdir, 2);
	assert_true(d.conn_id == 77);
	assert_string_equal(d.request_id, "rid");
	assert_string_equal(d.method, "GET");
	assert_string_equal(d.path, "/app/x");
	verdict_digest("Negotiate YII=", digest);
	assert_memory_equal(d.authz_digest, digest, VERDICT_DIGEST_LEN);
	assert_string_equal(d.principal, "alice@X.TEST");
	assert_string_equal(d.user, "alice");
	assert_int_equal(d.uid, 1000);
	assert_int_equal(d.gid, 1001);
	assert_int_equal(d.level, IDG_LEVEL_DELEGATION);
	assert_int_equal(d.creds_len, 3);
	assert_memory_equal(d.creds, "\x05\x00\x06", 3);
	/* the credentials are not in the sealed bytes as they are */
	assert_null(memmem(b.p, b.len, "alice", 5));
	wb_free(&b);
}

static void test_other_key_and_changes(void **state)
{
	struct verdict v = sample(), d;
	struct wbuf b;
	char why[200];

	(void)state;
	assert_int_equal(verdict_seal(key, &v, &b), 0);
	assert_int_equal(open_it(other, &b, &d, why), -1);
	assert_string_equal(why, "not sealed by this generation's authenticator (or altered)");
	for (size_t i = 0; i < b.len; i++) { /* any bit of any byte */
		b.p[i] ^= 0x01;
		assert_int_equal(open_it(key, &b, &d, why), -1);
		b.p[i] ^= 0x01;
	}
	b.p[0] = 2;
	assert_int_equal(open_it(key, &b, &d, why), -1);
	assert_string_equal(why, "not a verdict (unknown version)");
	b.p[0] = 1;
	for (size_t n = 0; n < b.len; n++) { /* every truncation */
		size_t len = b.len;
		b.len = n;
		assert_int_equal(open_it(key, &b, &d, why), -1);
		b.len = len;
	}
	assert_int_equal(open_it(key, &b, &d, why), 0);
	wb_free(&b);
}

static void expect_malformed(struct verdict v)
{
	struct verdict d;
	struct wbuf b;
	char why[200];

	assert_int_equal(verdict_seal(key, &v, &b), 0);
	assert_int_equal(open_it(key, &b, &d, why), -1);
	assert_string_equal(why, "sealed, but malformed");
	wb_free(&b);
}

static void test_sealed_lies(void **state)
{
	struct verdict v;

	(void)state;
	v = sample(); v.kind = VERDICT_SESSION + 1;
	expect_malformed(v);
	v = sample(); v.kind = VERDICT_SESSION; /* with a request's binding */
	expect_malformed(v);
	v = sample(); v.kind = VERDICT_SESSION; v.request_id = v.method = v.path = NULL;
	expect_malformed(v); /* with credentials */
	v = sample(); v.request_id = NULL;
	expect_malformed(v);
	v = sample(); v.path = NULL;
	expect_malformed(v);
	v = sample(); v.kind = VERDICT_CONNECTION; /* with a request's binding */
	expect_malformed(v);
	v = sample(); v.kind = VERDICT_CONNECTION; v.request_id = v.method = v.path = NULL;
	expect_malformed(v); /* with credentials */
	v = sample(); v.level = IDG_LEVEL_DELEGATION + 1;
	expect_malformed(v);
	v = sample(); v.auth_type = W_AUTH_BASIC + 1;
	expect_malformed(v);
	v = sample(); v.uid = (uint32_t)-1; /* an account without its uid */
	expect_malformed(v);
	v = sample(); v.user = NULL; /* a uid without an account */
	expect_malformed(v);
	v = sample(); v.expires_ms = v.issued_ms - 1;
	expect_malformed(v);
}

/* A verdict of `kind` without a request's binding or credentials, as the
 * worker opens it. */
static void kept_kind_roundtrip(uint32_t kind, const uint8_t digest[VERDICT_DIGEST_LEN])
{
	struct verdict v = sample(), d;
	struct wbuf b;
	char why[200];

	v.kind = kind;
	v.request_id = v.method = v.path = NULL;
	v.creds = NULL;
	v.creds_len = 0;
	memcpy(v.authz_digest, digest, VERDICT_DIGEST_LEN);
	assert_int_equal(verdict_seal(key, &v, &b), 0);
	assert_int_equal(open_it(key, &b, &d, why), 0);
	assert_int_equal(d.kind, kind);
	assert_null(d.request_id);
	assert_null(d.creds);
	assert_memory_equal(d.authz_digest, digest, VERDICT_DIGEST_LEN);
	wb_free(&b);
}

static void test_connection_kind(void **state)
{
	static const uint8_t none[VERDICT_DIGEST_LEN];

	(void)state;
	kept_kind_roundtrip(VERDICT_CONNECTION, none);
}

static void test_session_kind(void **state)
{
	uint8_t cookie[VERDICT_DIGEST_LEN];

	(void)state;
	verdict_digest_bytes("cookie-value", 12, cookie);
	kept_kind_roundtrip(VERDICT_SESSION, cookie);
}

static void test_digest(void **state)
{
	uint8_t a[VERDICT_DIGEST_LEN], b[VERDICT_DIGEST_LEN], zero[VERDICT_DIGEST_LEN] = { 0 };

	(void)state;
	verdict_digest(NULL, a);
	assert_memory_equal(a, zero, sizeof(zero));
	verdict_digest("Negotiate a", a);
	verdict_digest("Negotiate b", b);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_other_key_and_changes),
		cmocka_unit_test(test_sealed_lies),
		cmocka_unit_test(test_connection_kind),
		cmocka_unit_test(test_session_kind),
		cmocka_unit_test(test_digest),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
