/* test_proto_chkmsg.c -- a module check child's reports (chkmsg.h): round
 * trips, and every truncation, trailing byte, descriptor, vdir out of
 * range, verdict, flag and target that lies refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chkmsg.h"
#include "prototest.h"

#define NVDIRS 4

static int dec_begin(const struct wire_frame *f, void *out)
{
	return chkm_begin_decode(f, NVDIRS, out);
}

static void test_begin(void **state)
{
	uint32_t vdir;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	chkm_begin_encode(&b, 3);
	proto_check_framing(dec_begin, &vdir, W_CHK_BEGIN, 0, &b, 0);
	assert_int_equal(vdir, 3);
	assert_int_equal(proto_decode_with_u32(dec_begin, &vdir, W_CHK_BEGIN, 0, &b, 0, 0, NVDIRS),
			 -1);
	wb_free(&b);
}

static int dec_error(const struct wire_frame *f, void *out)
{
	return chkm_error_decode(f, NVDIRS, out);
}

static void test_error(void **state)
{
	struct chkm_error m = { .vdir = 1, .key = "root", .message = "no such directory" }, d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	chkm_error_encode(&b, &m);
	proto_check_framing(dec_error, &d, W_CHK_ERROR, 0, &b, 0);
	assert_int_equal(d.vdir, 1);
	assert_string_equal(d.key, "root");
	assert_string_equal(d.message, "no such directory");
	assert_int_equal(proto_decode_with_u32(dec_error, &d, W_CHK_ERROR, 0, &b, 0, 0, NVDIRS),
			 -1);
	wb_free(&b);
	/* no key is fine; no message is not */
	m.key = NULL;
	wb_init(&b);
	chkm_error_encode(&b, &m);
	proto_check_framing(dec_error, &d, W_CHK_ERROR, 0, &b, 0);
	assert_null(d.key);
	wb_free(&b);
	m.message = NULL;
	wb_init(&b);
	chkm_error_encode(&b, &m);
	struct wire_frame f = proto_frame(W_CHK_ERROR, 0, b.p, b.len, 0);
	assert_int_equal(dec_error(&f, &d), -1);
	wb_free(&b);
}

static int dec_done(const struct wire_frame *f, void *out)
{
	return chkm_done_decode(f, NVDIRS, out);
}

/* Encode m and decode it: 0 or -1. */
static int done_roundtrip(const struct chkm_done *m)
{
	struct chkm_done d;
	struct wbuf b;
	int rc;

	wb_init(&b);
	chkm_done_encode(&b, m);
	struct wire_frame f = proto_frame(W_CHK_DONE, 0, b.p, b.len, 0);
	rc = dec_done(&f, &d);
	wb_free(&b);
	return rc;
}

static void test_done(void **state)
{
	struct chkm_done m = { .vdir = 2, .passed = true, .flags = CHK_CREDS | CHK_S4U,
			       .target = "HTTP@backend.example" }, d;
	char long_target[CHK_TARGET_MAX + 2];
	struct wbuf b;

	(void)state;
	wb_init(&b);
	chkm_done_encode(&b, &m);
	proto_check_framing(dec_done, &d, W_CHK_DONE, 0, &b, 0);
	assert_int_equal(d.vdir, 2);
	assert_true(d.passed);
	assert_int_equal(d.flags, CHK_CREDS | CHK_S4U);
	assert_string_equal(d.target, "HTTP@backend.example");
	/* vdir out of range, a verdict neither 0 nor 1, an unknown flag */
	assert_int_equal(proto_decode_with_u32(dec_done, &d, W_CHK_DONE, 0, &b, 0, 0, NVDIRS), -1);
	assert_int_equal(proto_decode_with_u32(dec_done, &d, W_CHK_DONE, 0, &b, 0, 4, 2), -1);
	assert_int_equal(proto_decode_with_u32(dec_done, &d, W_CHK_DONE, 0, &b, 0, 8, 0x4), -1);
	/* a target without S4U */
	assert_int_equal(proto_decode_with_u32(dec_done, &d, W_CHK_DONE, 0, &b, 0, 8, CHK_CREDS),
			 -1);
	wb_free(&b);
	/* S4U without a target, a blank, a control character, too long */
	m.target = "";
	assert_int_equal(done_roundtrip(&m), -1);
	m.target = "HTTP@a b";
	assert_int_equal(done_roundtrip(&m), -1);
	m.target = "HTTP@a\x01";
	assert_int_equal(done_roundtrip(&m), -1);
	memset(long_target, 'a', sizeof(long_target) - 1);
	long_target[sizeof(long_target) - 1] = '\0';
	m.target = long_target;
	assert_int_equal(done_roundtrip(&m), -1);
	long_target[CHK_TARGET_MAX] = '\0';
	assert_int_equal(done_roundtrip(&m), 0);
	m.target = NULL;
	assert_int_equal(done_roundtrip(&m), -1);
	/* failed, asking for nothing */
	m = (struct chkm_done){ .vdir = 0, .passed = false, .target = "" };
	assert_int_equal(done_roundtrip(&m), 0);
}

static int dec_failed(const struct wire_frame *f, void *out)
{
	return chkm_failed_decode(f, out);
}

static void test_failed(void **state)
{
	const char *msg;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	chkm_failed_encode(&b, "cannot become user www: no such user");
	proto_check_framing(dec_failed, &msg, W_CHK_FAILED, 0, &b, 0);
	assert_string_equal(msg, "cannot become user www: no such user");
	wb_free(&b);
	wb_init(&b);
	chkm_failed_encode(&b, NULL);
	struct wire_frame f = proto_frame(W_CHK_FAILED, 0, b.p, b.len, 0);
	assert_int_equal(dec_failed(&f, &msg), -1);
	wb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin), cmocka_unit_test(test_error),
		cmocka_unit_test(test_done), cmocka_unit_test(test_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
