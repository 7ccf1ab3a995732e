/* test_respawn.c -- the wait before a role process starts again: at once
 * after a long life and for the first deaths at once, then 1 s, 2 s, 4 s
 * ... up to 60 s, never given up; a long life starts the count afresh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "respawn.h"

/* A death `lived` ms after a start at t: the wait. */
static uint64_t die_after(struct respawn *r, uint64_t *t, uint64_t lived)
{
	uint64_t wait = respawn_delay(r, *t, *t + lived);

	*t += lived + wait;
	return wait;
}

static void test_long_life_restarts_at_once(void **state)
{
	struct respawn r = { 0 };
	uint64_t t = 1000;

	(void)state;
	for (int i = 0; i < 10; i++)
		assert_int_equal(die_after(&r, &t, RESPAWN_STABLE_MS), 0);
	assert_int_equal(r.fast, 0);
}

static void test_deaths_at_once_back_off(void **state)
{
	const uint64_t want[] = { 0, 0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
				  60000 };
	struct respawn r = { 0 };
	uint64_t t = 5;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(die_after(&r, &t, 50), want[i]);
		assert_int_equal(r.fast, i + 1);
	}
}

static void test_long_life_starts_afresh(void **state)
{
	struct respawn r = { 0 };
	uint64_t t = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		die_after(&r, &t, 1);
	assert_int_equal(die_after(&r, &t, 1), 8000);
	assert_int_equal(die_after(&r, &t, RESPAWN_STABLE_MS - 1), 16000);
	assert_int_equal(die_after(&r, &t, RESPAWN_STABLE_MS), 0);
	assert_int_equal(r.fast, 0);
	assert_int_equal(die_after(&r, &t, 1), 0);
	assert_int_equal(r.fast, 1);
}

static void test_clock_before_start(void **state)
{
	struct respawn r = { .fast = 4 };

	(void)state;
	assert_int_equal(respawn_delay(&r, 100, 50), 0);
	assert_int_equal(r.fast, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_life_restarts_at_once),
		cmocka_unit_test(test_deaths_at_once_back_off),
		cmocka_unit_test(test_long_life_starts_afresh),
		cmocka_unit_test(test_clock_before_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
