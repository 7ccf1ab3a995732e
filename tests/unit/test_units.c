/* test_units.c -- sizes, durations, counts, booleans, rapid_fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "units.h"

static void test_sizes(void **state)
{
	uint64_t v;
	const char *why;

	(void)state;
	assert_int_equal(parse_size("512", &v, &why), 0);
	assert_int_equal(v, 512);
	assert_int_equal(parse_size("64k", &v, &why), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size("64K", &v, &why), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size("2m", &v, &why), 0);
	assert_int_equal(v, 2 * 1024 * 1024);
	assert_int_equal(parse_size("1g", &v, &why), 0);
	assert_int_equal(v, 1024ull * 1024 * 1024);
	assert_int_equal(parse_size("10kb", &v, &why), 0);
	assert_int_equal(v, 10240);
	assert_int_equal(parse_size("", &v, &why), -1);
	assert_string_equal(why, "expected a number");
	assert_int_equal(parse_size("-1k", &v, &why), -1);
	assert_int_equal(parse_size("1x", &v, &why), -1);
	assert_string_equal(why, "unknown size unit (use k, m or g)");
	assert_int_equal(parse_size("1 k", &v, &why), -1);
	assert_int_equal(parse_size("99999999999999999999", &v, &why), -1);
	assert_string_equal(why, "number too large");
	assert_int_equal(parse_size("18014398509481984g", &v, &why), -1);
	assert_string_equal(why, "number too large");
}

static void test_durations(void **state)
{
	uint64_t v;
	const char *why;

	(void)state;
	assert_int_equal(parse_duration_ms("30s", &v, &why), 0);
	assert_int_equal(v, 30000);
	assert_int_equal(parse_duration_ms("5m", &v, &why), 0);
	assert_int_equal(v, 300000);
	assert_int_equal(parse_duration_ms("250ms", &v, &why), 0);
	assert_int_equal(v, 250);
	assert_int_equal(parse_duration_ms("2h", &v, &why), 0);
	assert_int_equal(v, 7200000);
	assert_int_equal(parse_duration_ms("1d", &v, &why), 0);
	assert_int_equal(v, 86400000);
	assert_int_equal(parse_duration_ms("7", &v, &why), 0);
	assert_int_equal(v, 7000);
	assert_int_equal(parse_duration_ms("5M", &v, &why), -1);
	assert_string_equal(why, "unknown duration unit (use ms, s, m, h or d)");
	assert_int_equal(parse_duration_ms("s", &v, &why), -1);
	assert_int_equal(parse_duration_ms("1.5s", &v, &why), -1);
}

static void test_uint_bool(void **state)
{
	uint64_t v;
	bool b;
	const char *why;

	(void)state;
	assert_int_equal(parse_uint("0", 10, &v, &why), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_uint("10", 10, &v, &why), 0);
	assert_int_equal(parse_uint("11", 10, &v, &why), -1);
	assert_string_equal(why, "number too large");
	assert_int_equal(parse_uint("+1", 10, &v, &why), -1);
	assert_int_equal(parse_uint("1k", 10, &v, &why), -1);
	assert_string_equal(why, "expected a whole number");
	assert_int_equal(parse_bool("true", &b, &why), 0);
	assert_true(b);
	assert_int_equal(parse_bool("Off", &b, &why), 0);
	assert_false(b);
	assert_int_equal(parse_bool("maybe", &b, &why), -1);
	assert_string_equal(why, "expected true or false");
}

static void test_rapid_fail(void **state)
{
	unsigned n;
	uint64_t ms;
	const char *why;

	(void)state;
	assert_int_equal(parse_rapid_fail("5/5m", &n, &ms, &why), 0);
	assert_int_equal(n, 5);
	assert_int_equal(ms, 300000);
	assert_int_equal(parse_rapid_fail("1/30s", &n, &ms, &why), 0);
	assert_int_equal(parse_rapid_fail("5", &n, &ms, &why), -1);
	assert_string_equal(why, "expected FAILURES/DURATION, e.g. 5/5m");
	assert_int_equal(parse_rapid_fail("0/5m", &n, &ms, &why), -1);
	assert_int_equal(parse_rapid_fail("5/0s", &n, &ms, &why), -1);
	assert_string_equal(why, "duration must be positive");
	assert_int_equal(parse_rapid_fail("5/x", &n, &ms, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_uint_bool),
		cmocka_unit_test(test_rapid_fail),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
