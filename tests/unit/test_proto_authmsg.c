/* test_proto_authmsg.c -- the front end <-> PAM helper messages
 * (authmsg.h): round trips, and every truncation, trailing byte,
 * descriptor, missing string and impossible code refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "authmsg.h"
#include "prototest.h"

static int dec_question(const struct wire_frame *f, void *out)
{
	bool has_tag;

	return authm_question_decode(f, out, &has_tag);
}

static void test_acct(void **state)
{
	struct authm_question q = { .op = W_AUTH_ACCT, .tag = 12, .user = "alice",
				    .rhost = "192.0.2.1" }, d;
	struct wbuf b;
	bool has_tag;

	(void)state;
	wb_init(&b);
	authm_question_encode(&b, &q);
	proto_check_framing(dec_question, &d, W_AUTH_ACCT, 0, &b, 0);
	assert_int_equal(d.op, W_AUTH_ACCT);
	assert_int_equal(d.tag, 12);
	assert_string_equal(d.user, "alice");
	assert_string_equal(d.rhost, "192.0.2.1");
	assert_null(d.password);
	/* an ACCT question is not a PASS one: the password is missing */
	struct wire_frame f = proto_frame(W_AUTH_PASS, 0, b.p, b.len, 0);
	assert_int_equal(authm_question_decode(&f, &d, &has_tag), -1);
	assert_true(has_tag);
	/* a tag, and nothing else: refused, but the tag is known */
	f = proto_frame(W_AUTH_ACCT, 0, b.p, 8, 0);
	assert_int_equal(authm_question_decode(&f, &d, &has_tag), -1);
	assert_true(has_tag);
	assert_int_equal(d.tag, 12);
	f = proto_frame(W_AUTH_ACCT, 0, b.p, 7, 0);
	assert_int_equal(authm_question_decode(&f, &d, &has_tag), -1);
	assert_false(has_tag);
	wb_free(&b);
	/* a NULL user */
	q.user = NULL;
	wb_init(&b);
	authm_question_encode(&b, &q);
	f = proto_frame(W_AUTH_ACCT, 0, b.p, b.len, 0);
	assert_int_equal(authm_question_decode(&f, &d, &has_tag), -1);
	wb_free(&b);
}

static void test_pass(void **state)
{
	struct authm_question q = { .op = W_AUTH_PASS, .tag = 13, .user = "bob", .rhost = "",
				    .password = "secret" }, d;
	struct wbuf b;
	bool has_tag;

	(void)state;
	wb_init(&b);
	authm_question_encode(&b, &q);
	proto_check_framing(dec_question, &d, W_AUTH_PASS, 0, &b, 0);
	assert_string_equal(d.password, "secret");
	/* a PASS question is not an ACCT one: a string too many */
	struct wire_frame f = proto_frame(W_AUTH_ACCT, 0, b.p, b.len, 0);
	assert_int_equal(authm_question_decode(&f, &d, &has_tag), -1);
	/* nor an answer */
	f = proto_frame(W_AUTH_RESULT, 0, b.p, b.len, 0);
	assert_int_equal(authm_question_decode(&f, &d, &has_tag), -1);
	wb_free(&b);
	q.password = NULL;
	wb_init(&b);
	authm_question_encode(&b, &q);
	f = proto_frame(W_AUTH_PASS, 0, b.p, b.len, 0);
	assert_int_equal(authm_question_decode(&f, &d, &has_tag), -1);
	wb_free(&b);
}

static int dec_result(const struct wire_frame *f, void *out)
{
	return authm_result_decode(f, out);
}

static void test_result(void **state)
{
	struct authm_result r = { .tag = 99, .code = 7, .message = "Authentication failure" }, d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	authm_result_encode(&b, &r);
	proto_check_framing(dec_result, &d, W_AUTH_RESULT, 0, &b, 0);
	assert_int_equal(d.tag, 99);
	assert_int_equal(d.code, 7);
	assert_string_equal(d.message, "Authentication failure");
	/* codes: PAM's, and the helper's refusal; not the front end's own -1,
	 * nor anything else */
	assert_int_equal(proto_decode_with_u32(dec_result, &d, W_AUTH_RESULT, 0, &b, 0, 8,
					       (uint32_t)AUTH_ANSWER_INVALID), 0);
	assert_int_equal(proto_decode_with_u32(dec_result, &d, W_AUTH_RESULT, 0, &b, 0, 8,
					       (uint32_t)-1), -1);
	assert_int_equal(proto_decode_with_u32(dec_result, &d, W_AUTH_RESULT, 0, &b, 0, 8,
					       (uint32_t)-3), -1);
	assert_int_equal(proto_decode_with_u32(dec_result, &d, W_AUTH_RESULT, 0, &b, 0, 8,
					       AUTHM_MAX_CODE + 1), -1);
	/* a message string that claims more than there is, or no NUL */
	assert_int_equal(proto_decode_with_u32(dec_result, &d, W_AUTH_RESULT, 0, &b, 0, 12,
					       1000), -1);
	assert_int_equal(proto_decode_with_u32(dec_result, &d, W_AUTH_RESULT, 0, &b, 0, 12, 3),
			 -1);
	wb_free(&b);
	r.message = NULL;
	wb_init(&b);
	authm_result_encode(&b, &r);
	struct wire_frame f = proto_frame(W_AUTH_RESULT, 0, b.p, b.len, 0);
	assert_int_equal(authm_result_decode(&f, &d), -1);
	wb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acct),
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
