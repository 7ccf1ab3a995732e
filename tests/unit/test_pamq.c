/* test_pamq.c -- the authenticator's questions to the PAM helper across
 * the helper's death: the questions it held fail (-1), one asked while
 * there is no helper -- or of one that has died unnoticed -- waits for
 * the next helper and is asked of it, and fails only when none comes
 * within PAMQ_HELPER_WAIT_MS; a parked question its owner forgets is
 * never asked.  The helper is the other end of a socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authmsg.h"
#include "pamq.h"
#include "util.h"
#include "wire.h"

struct waiter {
	struct pamq_wait w; /* first: resume gets &w */
	int resumed;
};

static void on_resume(struct pamq_wait *w)
{
	((struct waiter *)w)->resumed++;
}

static void waiter_init(struct waiter *x)
{
	memset(x, 0, sizeof(*x));
	x->w.resume = on_resume;
}

/* A new helper: pamq gets one end, the test keeps the other. */
static int new_helper(void)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pamq_set_socket(sv[0]);
	return sv[1];
}

/* The helper reads the next question: "USER" for an account check,
 * "USER:PASSWORD" for a password, into `what`; its tag (0: none waiting). */
static uint64_t helper_takes(int helper, char *what, size_t len)
{
	static uint8_t buf[WIRE_MAX_FRAME];
	struct wire_frame f;
	struct authm_question q;
	bool has_tag;

	if (wire_recv(helper, buf, &f, MSG_DONTWAIT) != 1)
		return 0;
	assert_int_equal(authm_question_decode(&f, &q, &has_tag), 0);
	assert_int_equal(f.type, q.password ? W_AUTH_PASS : W_AUTH_ACCT);
	snprintf(what, len, "%s%s%s", q.user, q.password ? ":" : "", q.password ? q.password : "");
	return q.tag;
}

/* The next question must be `want`: its tag. */
static uint64_t helper_reads(int helper, const char *want)
{
	char what[200];
	uint64_t tag = helper_takes(helper, what, sizeof(what));

	assert_int_not_equal(tag, 0);
	assert_string_equal(what, want);
	return tag;
}

static bool nothing_asked(int helper)
{
	char what[200];

	return helper_takes(helper, what, sizeof(what)) == 0;
}

static void helper_answers(int helper, uint64_t tag, int code)
{
	struct authm_result r = { .tag = tag, .code = code, .message = "ok" };
	struct wbuf b;

	wb_init(&b);
	authm_result_encode(&b, &r);
	assert_int_equal(wire_send(helper, W_AUTH_RESULT, 0, b.p, b.len, NULL, 0, 0), 0);
	wb_free(&b);
	pamq_on_readable();
}

static void test_a_dead_helper_fails_what_it_held(void **state)
{
	struct waiter a;
	int helper = new_helper();

	(void)state;
	waiter_init(&a);
	assert_int_equal(pamq_ask(&a.w, "alice", "127.0.0.1", NULL), 0);
	helper_reads(helper, "alice");
	close(helper); /* kill -9 */
	pamq_on_readable();
	assert_int_equal(a.resumed, 1);
	assert_int_equal(a.w.code, -1);
	assert_string_equal(a.w.message, "PAM helper unavailable");
	assert_int_equal(pamq_socket(), -1);
}

static void test_asked_meanwhile_waits_for_the_next_helper(void **state)
{
	struct waiter a, b;
	char what[2][200];
	uint64_t tag[2];
	int helper;

	(void)state;
	waiter_init(&a);
	waiter_init(&b);
	/* no helper now (the last test's died): both wait, neither fails */
	assert_int_equal(pamq_ask(&a.w, "alice", "127.0.0.1", NULL), 0);
	assert_int_equal(pamq_ask(&b.w, "bob", "127.0.0.1", "pw-bob"), 0);
	assert_int_equal(pamq_run_timers(now_ms()) > 0, 1);
	assert_int_equal(a.resumed + b.resumed, 0);
	helper = new_helper();
	/* asked of the new helper (in no order), the password too */
	for (int i = 0; i < 2; i++)
		assert_int_not_equal(tag[i] = helper_takes(helper, what[i], sizeof(what[i])), 0);
	assert_true(nothing_asked(helper));
	assert_string_equal(strcmp(what[0], "alice") == 0 ? what[1] : what[0], "bob:pw-bob");
	assert_true(strcmp(what[0], "alice") == 0 || strcmp(what[1], "alice") == 0);
	helper_answers(helper, tag[0], 0);
	helper_answers(helper, tag[1], 0);
	assert_int_equal(a.resumed, 1);
	assert_int_equal(b.resumed, 1);
	assert_int_equal(a.w.code, 0);
	assert_int_equal(b.w.code, 0);
	assert_null(b.w.question); /* the copy of the password is gone */
	close(helper);
	pamq_on_readable();
}

static void test_a_dead_helper_not_yet_noticed(void **state)
{
	struct waiter a;
	int helper = new_helper();

	(void)state;
	waiter_init(&a);
	close(helper); /* dead, and pamq has not read its hang-up yet */
	assert_int_equal(pamq_ask(&a.w, "alice", "127.0.0.1", NULL), 0);
	assert_int_equal(a.resumed, 0);
	pamq_on_readable(); /* its hang-up */
	assert_int_equal(a.resumed, 0);
	helper = new_helper();
	helper_answers(helper, helper_reads(helper, "alice"), 0);
	assert_int_equal(a.resumed, 1);
	assert_int_equal(a.w.code, 0);
	close(helper);
	pamq_on_readable();
}

static void test_no_helper_in_time(void **state)
{
	struct waiter a;
	uint64_t t = now_ms();

	(void)state;
	waiter_init(&a);
	assert_int_equal(pamq_ask(&a.w, "alice", "127.0.0.1", "secret"), 0);
	assert_int_equal(pamq_run_timers(t + PAMQ_HELPER_WAIT_MS - 1000) > 0, 1);
	assert_int_equal(a.resumed, 0);
	pamq_run_timers(t + PAMQ_HELPER_WAIT_MS + 1000);
	assert_int_equal(a.resumed, 1);
	assert_int_equal(a.w.code, -1);
	assert_string_equal(a.w.message, "no PAM helper came in time");
	assert_null(a.w.question);
	assert_int_equal(pamq_run_timers(t + PAMQ_HELPER_WAIT_MS + 2000), -1);
}

static void test_forgotten_is_never_asked(void **state)
{
	struct waiter a;
	int helper;

	(void)state;
	waiter_init(&a);
	assert_int_equal(pamq_ask(&a.w, "alice", "127.0.0.1", "secret"), 0);
	pamq_forget(&a.w); /* its request ended */
	assert_null(a.w.question);
	helper = new_helper();
	assert_true(nothing_asked(helper));
	assert_int_equal(a.resumed, 0);
	assert_int_equal(pamq_run_timers(now_ms() + PAMQ_HELPER_WAIT_MS + 1000), -1);
	close(helper);
	pamq_on_readable();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_dead_helper_fails_what_it_held),
		cmocka_unit_test(test_asked_meanwhile_waits_for_the_next_helper),
		cmocka_unit_test(test_a_dead_helper_not_yet_noticed),
		cmocka_unit_test(test_no_helper_in_time),
		cmocka_unit_test(test_forgotten_is_never_asked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
