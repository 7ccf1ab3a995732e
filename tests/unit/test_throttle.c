/* test_throttle.c -- Basic's brake (throttle.h) with the clock in hand:
 * limits per address and per account, the locks and their doubling, the
 * cap, attempts in flight, IPv6 /64s, forgetting, and what a success
 * resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "throttle.h"

#define T0 1000000000ull /* an arbitrary monotonic time */

static int setup(void **state)
{
	(void)state;
	throttle_init();
	return 0;
}

/* One whole attempt that fails; the counts after it. */
static struct throttle_counts fail_once(const char *addr, const char *user, uint64_t now)
{
	struct throttle_verdict v;
	struct throttle_counts c;

	throttle_begin(addr, user, now, &v);
	assert_int_equal(v.by, THROTTLE_NONE);
	throttle_end(addr, user, THROTTLE_FAILED, now, &c);
	return c;
}

static enum throttle_by verdict(const char *addr, const char *user, uint64_t now,
				struct throttle_verdict *v)
{
	throttle_begin(addr, user, now, v);
	if (v->by == THROTTLE_NONE)
		throttle_end(addr, user, THROTTLE_ABANDONED, now, NULL);
	return v->by;
}

static void test_lock_lengths(void **state)
{
	(void)state;
	assert_int_equal(throttle_lock_ms(0, 5), 0);
	assert_int_equal(throttle_lock_ms(4, 5), 0);
	assert_int_equal(throttle_lock_ms(5, 5), 30000);
	assert_int_equal(throttle_lock_ms(6, 5), 60000);
	assert_int_equal(throttle_lock_ms(9, 5), 480000);
	assert_int_equal(throttle_lock_ms(10, 5), 900000); /* 960 s, capped at 15 min */
	assert_int_equal(throttle_lock_ms(4000000000u, 5), 900000);
}

static void test_address_limit(void **state)
{
	struct throttle_verdict v;
	struct throttle_counts c;
	char user[32];

	(void)state;
	for (int i = 1; i <= THROTTLE_ADDR_LIMIT; i++) { /* a different account each time */
		snprintf(user, sizeof(user), "u%d", i);
		c = fail_once("192.0.2.7", user, T0 + (uint64_t)i);
		assert_int_equal(c.addr_failures, i);
		assert_int_equal(c.acct_failures, 1);
		assert_int_equal(c.addr_lock_s, i == THROTTLE_ADDR_LIMIT ? 30 : 0);
		assert_int_equal(c.acct_lock_s, 0);
	}
	assert_int_equal(verdict("192.0.2.7", "fresh", T0 + 10, &v), THROTTLE_BY_ADDRESS);
	assert_false(v.in_flight);
	assert_int_equal(v.failures, 10);
	assert_int_equal(v.lock_s, 30);
	assert_int_equal(v.retry_after_s, 30);
	assert_string_equal(v.key, "192.0.2.7");
	assert_int_equal(verdict("192.0.2.7", "fresh", T0 + 10 + 29001, &v), THROTTLE_BY_ADDRESS);
	assert_int_equal(v.retry_after_s, 1);
	/* another address is not concerned */
	assert_int_equal(verdict("192.0.2.8", "fresh", T0 + 11, &v), THROTTLE_NONE);
	/* the lock ends 30 s after the last failure; the next failure doubles it */
	c = fail_once("192.0.2.7", "fresh", T0 + 10 + 30000);
	assert_int_equal(c.addr_failures, 11);
	assert_int_equal(c.addr_lock_s, 60);
	assert_int_equal(verdict("192.0.2.7", "x", T0 + 10 + 30000 + 59999, &v), THROTTLE_BY_ADDRESS);
	assert_int_equal(verdict("192.0.2.7", "x", T0 + 10 + 30000 + 60000, &v), THROTTLE_NONE);
}

static void test_account_limit_and_success(void **state)
{
	struct throttle_verdict v;
	struct throttle_counts c;
	char addr[32];

	(void)state;
	for (int i = 1; i <= THROTTLE_ACCT_LIMIT; i++) { /* a different address each time */
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		c = fail_once(addr, "dave", T0);
		assert_int_equal(c.acct_failures, i);
		assert_int_equal(c.acct_lock_s, i == THROTTLE_ACCT_LIMIT ? 30 : 0);
	}
	assert_int_equal(verdict("198.51.100.99", "dave", T0 + 1000, &v), THROTTLE_BY_ACCOUNT);
	assert_int_equal(v.failures, 5);
	assert_int_equal(v.retry_after_s, 29);
	assert_string_equal(v.key, "dave");
	assert_int_equal(verdict("198.51.100.99", "erin", T0 + 1000, &v), THROTTLE_NONE);
	/* after the lock, dave logs in: his failures are forgotten ... */
	throttle_begin("198.51.100.99", "dave", T0 + 30000, &v);
	assert_int_equal(v.by, THROTTLE_NONE);
	throttle_end("198.51.100.99", "dave", THROTTLE_OK, T0 + 30000, NULL);
	c = fail_once("198.51.100.99", "dave", T0 + 30001);
	assert_int_equal(c.acct_failures, 1);
	/* ... but not an address's: a success there buys no guesses */
	for (int i = 0; i < THROTTLE_ADDR_LIMIT - 1; i++) {
		char user[16];
		snprintf(user, sizeof(user), "target%d", i);
		fail_once("203.0.113.5", user, T0 + (uint64_t)i);
	}
	throttle_begin("203.0.113.5", "mallory", T0 + 20, &v);
	throttle_end("203.0.113.5", "mallory", THROTTLE_OK, T0 + 20, NULL);
	c = fail_once("203.0.113.5", "other", T0 + 21);
	assert_int_equal(c.addr_failures, THROTTLE_ADDR_LIMIT);
	assert_int_equal(c.addr_lock_s, 30);
}

static void test_in_flight(void **state)
{
	struct throttle_verdict v;

	(void)state;
	/* 3 failures: 2 more may be tried for the account, at once or not */
	for (int i = 0; i < 3; i++)
		fail_once("192.0.2.50", "frank", T0);
	throttle_begin("192.0.2.51", "frank", T0, &v);
	assert_int_equal(v.by, THROTTLE_NONE);
	throttle_begin("192.0.2.52", "frank", T0, &v);
	assert_int_equal(v.by, THROTTLE_NONE);
	throttle_begin("192.0.2.53", "frank", T0, &v);
	assert_int_equal(v.by, THROTTLE_BY_ACCOUNT);
	assert_true(v.in_flight);
	assert_int_equal(v.retry_after_s, 1);
	/* an abandoned attempt frees its place and is no failure */
	throttle_end("192.0.2.51", "frank", THROTTLE_ABANDONED, T0, NULL);
	throttle_begin("192.0.2.53", "frank", T0, &v);
	assert_int_equal(v.by, THROTTLE_NONE);
	throttle_end("192.0.2.52", "frank", THROTTLE_ABANDONED, T0, NULL);
	throttle_end("192.0.2.53", "frank", THROTTLE_ABANDONED, T0, NULL);
	assert_int_equal(fail_once("192.0.2.54", "frank", T0).acct_failures, 4);
}

static void test_ipv6_by_64(void **state)
{
	struct throttle_verdict v;
	struct throttle_counts c;

	(void)state;
	for (int i = 0; i < THROTTLE_ADDR_LIMIT; i++) {
		char addr[64], user[16];
		snprintf(addr, sizeof(addr), "2001:db8:1:2::%x", i + 1);
		snprintf(user, sizeof(user), "v6u%d", i);
		c = fail_once(addr, user, T0);
	}
	assert_string_equal(c.addr_key, "2001:db8:1:2::/64");
	assert_int_equal(c.addr_failures, THROTTLE_ADDR_LIMIT);
	assert_int_equal(verdict("2001:db8:1:2:ffff::1", "new", T0 + 1, &v), THROTTLE_BY_ADDRESS);
	assert_string_equal(v.key, "2001:db8:1:2::/64");
	assert_int_equal(verdict("2001:db8:1:3::1", "new", T0 + 1, &v), THROTTLE_NONE);
	/* an IPv4-mapped address is an IPv4 address, alone */
	assert_int_equal(fail_once("::ffff:192.0.2.1", "new", T0).addr_failures, 1);
	assert_int_equal(fail_once("::ffff:192.0.2.2", "new2", T0).addr_failures, 1);
}

static void test_forgetting(void **state)
{
	struct throttle_verdict v;

	(void)state;
	for (int i = 0; i < THROTTLE_ACCT_LIMIT + 3; i++) /* locked for 4 min */
		fail_once("192.0.2.90", "grace", T0 + (uint64_t)i * 240000);
	uint64_t last = T0 + (THROTTLE_ACCT_LIMIT + 2) * 240000ull;
	assert_int_equal(verdict("192.0.2.91", "grace", last + 1000, &v), THROTTLE_BY_ACCOUNT);
	assert_int_equal(v.lock_s, 240);
	/* past the lock: one attempt at a time, and another failure locks again */
	assert_int_equal(verdict("192.0.2.91", "grace", last + 240000, &v), THROTTLE_NONE);
	/* an hour after the last failure: all forgotten */
	assert_int_equal(fail_once("192.0.2.91", "grace", last + THROTTLE_FORGET_MS).acct_failures, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lock_lengths, setup),
		cmocka_unit_test_setup(test_address_limit, setup),
		cmocka_unit_test_setup(test_account_limit_and_success, setup),
		cmocka_unit_test_setup(test_in_flight, setup),
		cmocka_unit_test_setup(test_ipv6_by_64, setup),
		cmocka_unit_test_setup(test_forgetting, setup),
	};
	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
