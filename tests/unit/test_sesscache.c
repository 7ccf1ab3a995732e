/* test_sesscache.c -- the session cookies' verdicts the front end keeps
 * (sesscache.h): found for the same cookie, vdir and client only, never after
 * their end, copied out (the caller owns what it gets, whatever the table
 * does next), and a verdict replaces the one its slot held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesscache.h"

static void digest_of(const char *cookie, uint8_t d[VERDICT_DIGEST_LEN])
{
	verdict_digest_bytes(cookie, strlen(cookie), d);
}

static const struct fe_who alice = {
	.principal = "alice@X.TEST", .user = "alice", .uid = 1000, .gid = 100, .level = 3,
	.groups_left_out = "",
};

static const char *client = "192.0.2.1";

static void put(uint32_t vdir, const char *cookie, const char *verdict, uint64_t end)
{
	uint8_t d[VERDICT_DIGEST_LEN];
	const struct sesscache_key k = { vdir, d, client };

	digest_of(cookie, d);
	sesscache_put(&k, (const uint8_t *)verdict, strlen(verdict), end, &alice);
}

/* The verdict kept for cookie on vdir at `now`, as a new string; NULL: none. */
static char *get(uint32_t vdir, const char *cookie, uint64_t now, struct fe_who *who)
{
	uint8_t d[VERDICT_DIGEST_LEN], *v = NULL;
	const struct sesscache_key k = { vdir, d, client };
	size_t len = 0;
	char *s;

	digest_of(cookie, d);
	if (!sesscache_get(&k, now, &v, &len, who))
		return NULL;
	s = calloc(1, len + 1);
	memcpy(s, v, len);
	free(v);
	return s;
}

static void test_found_for_its_cookie_and_vdir(void **state)
{
	struct fe_who w;
	char *v;

	(void)state;
	sesscache_clear();
	put(2, "cookie-a", "verdict-a", 1000);
	v = get(2, "cookie-a", 999, &w);
	assert_string_equal(v, "verdict-a");
	assert_string_equal(w.principal, "alice@X.TEST");
	assert_string_equal(w.user, "alice");
	assert_int_equal(w.uid, 1000);
	assert_int_equal(w.level, 3);
	assert_ptr_not_equal(w.principal, alice.principal); /* a copy */
	free(v);
	fe_who_free(&w);
	assert_null(get(3, "cookie-a", 999, &w));  /* another vdir */
	assert_null(get(2, "cookie-b", 999, &w));  /* another cookie */
	assert_null(get(2, "cookie-a ", 999, &w)); /* one byte more */
	client = "192.0.2.10";                      /* another client address */
	assert_null(get(2, "cookie-a", 999, &w));
	client = "192.0.2.1";
	assert_non_null(v = get(2, "cookie-a", 999, &w));
	free(v);
	fe_who_free(&w);
}

static void test_never_after_its_end(void **state)
{
	struct fe_who w;

	(void)state;
	sesscache_clear();
	put(0, "c", "v", 1000);
	assert_null(get(0, "c", 1000, &w));
	assert_null(get(0, "c", 1, &w)); /* gone: an expired one is dropped */
}

static void test_a_new_verdict_replaces(void **state)
{
	struct fe_who w;
	char *v;

	(void)state;
	sesscache_clear();
	put(1, "c", "old", 1000);
	put(1, "c", "new", 2000);
	v = get(1, "c", 1500, &w);
	assert_string_equal(v, "new");
	free(v);
	fe_who_free(&w);
}

/* However many cookies open, the table holds at most one per slot; each
 * of the latest SESSCACHE_SLOTS / 4 is still there unless a later one
 * took its slot -- never a wrong one. */
static void test_bounded(void **state)
{
	char cookie[32], want[32], *v;
	struct fe_who w;
	size_t found = 0;

	(void)state;
	sesscache_clear();
	for (unsigned i = 0; i < 4 * SESSCACHE_SLOTS; i++) {
		snprintf(cookie, sizeof(cookie), "c%u", i);
		snprintf(want, sizeof(want), "v%u", i);
		put(0, cookie, want, 1000);
	}
	for (unsigned i = 0; i < 4 * SESSCACHE_SLOTS; i++) {
		snprintf(cookie, sizeof(cookie), "c%u", i);
		snprintf(want, sizeof(want), "v%u", i);
		if (!(v = get(0, cookie, 1, &w)))
			continue;
		assert_string_equal(v, want);
		free(v);
		fe_who_free(&w);
		found++;
	}
	assert_true(found <= SESSCACHE_SLOTS);
	assert_true(found > SESSCACHE_SLOTS / 2);
	sesscache_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_for_its_cookie_and_vdir),
		cmocka_unit_test(test_never_after_its_end),
		cmocka_unit_test(test_a_new_verdict_replaces),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
