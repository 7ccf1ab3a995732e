/* test_levels.c -- impersonation levels: from the GSSAPI context, lowered
 * by the Allowed-Impersonation-Level header, and SPEC's table of what a
 * vdir does at each level (every cell). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <gssapi/gssapi_ext.h>
#include <cmocka.h>

#include "config.h"
#include "levels.h"

enum { ANON = IDG_LEVEL_ANONYMOUS, IDENT = IDG_LEVEL_IDENTIFICATION,
       IMP = IDG_LEVEL_IMPERSONATION, DELEG = IDG_LEVEL_DELEGATION };

static void test_from_context(void **state)
{
	(void)state;
	assert_int_equal(level_from_context(false, 0, false), IMP);
	assert_int_equal(level_from_context(false, GSS_C_MUTUAL_FLAG, false), IMP);
	assert_int_equal(level_from_context(false, GSS_C_DELEG_FLAG, true), DELEG);
	/* the DELEG flag without credentials (TGT not forwardable) is not delegation */
	assert_int_equal(level_from_context(false, GSS_C_DELEG_FLAG, false), IMP);
	assert_int_equal(level_from_context(false, GSS_C_IDENTIFY_FLAG, false), IDENT);
	/* MIT delegates even with IDENTIFY: identification wins */
	assert_int_equal(level_from_context(false, GSS_C_IDENTIFY_FLAG | GSS_C_DELEG_FLAG, true),
			 IDENT);
	assert_int_equal(level_from_context(true, 0, false), ANON);
	assert_int_equal(level_from_context(false, GSS_C_ANON_FLAG, false), ANON);
	assert_int_equal(level_from_context(false, GSS_C_ANON_FLAG | GSS_C_IDENTIFY_FLAG, true),
			 ANON);
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(level_parse("anonymous"), ANON);
	assert_int_equal(level_parse("identification"), IDENT);
	assert_int_equal(level_parse("impersonation"), IMP);
	assert_int_equal(level_parse("delegation"), DELEG);
	assert_int_equal(level_parse("Delegation"), DELEG);
	assert_int_equal(level_parse("  IDENTIFICATION\t"), IDENT);
	assert_int_equal(level_parse("delegation, identification"), IDENT);
	assert_int_equal(level_parse("impersonation,anonymous,delegation"), ANON);
	assert_int_equal(level_parse(""), -1);
	assert_int_equal(level_parse(" "), -1);
	assert_int_equal(level_parse("delegate"), -1);
	assert_int_equal(level_parse("impersonation,"), -1);
	assert_int_equal(level_parse(",impersonation"), -1);
	assert_int_equal(level_parse("impersonation;q=1"), -1);
	assert_int_equal(level_parse("identificationx"), -1);
	assert_int_equal(level_parse("identificatio"), -1);
	assert_int_equal(level_parse("2"), -1);
	assert_int_equal(level_parse(NULL), -1);
}

static void test_header_only_lowers(void **state)
{
	const char *deleg[] = { "delegation" };
	const char *ident[] = { "identification" };
	const char *two[] = { "impersonation", "anonymous" };
	const char *bad[] = { "impersonation", "root" };
	int level;

	(void)state;
	level = IDENT; /* the IDENTIFY flag, then a header asking for more */
	assert_int_equal(level_apply_header(&level, deleg, 1), 0);
	assert_int_equal(level, IDENT);
	level = DELEG;
	assert_int_equal(level_apply_header(&level, ident, 1), 0);
	assert_int_equal(level, IDENT);
	level = DELEG;
	assert_int_equal(level_apply_header(&level, two, 2), 0);
	assert_int_equal(level, ANON);
	level = DELEG;
	assert_int_equal(level_apply_header(&level, bad, 2), -1);
	level = IMP;
	assert_int_equal(level_apply_header(&level, NULL, 0), 0);
	assert_int_equal(level, IMP);
}

/* SPEC's table, every cell, with and without a local account. */
static void test_table(void **state)
{
	(void)state;
	for (int l = ANON; l <= DELEG; l++) {
		assert_int_equal(level_decide(IMPERSONATE_FALSE, l, true), RUN_AS_POOL);
		assert_int_equal(level_decide(IMPERSONATE_FALSE, l, false), RUN_AS_POOL);
	}
	assert_int_equal(level_decide(IMPERSONATE_ALLOWED, DELEG, true), RUN_AS_CALLER);
	assert_int_equal(level_decide(IMPERSONATE_ALLOWED, IMP, true), RUN_AS_CALLER);
	assert_int_equal(level_decide(IMPERSONATE_ALLOWED, IDENT, true), RUN_AS_POOL);
	assert_int_equal(level_decide(IMPERSONATE_ALLOWED, ANON, true), RUN_AS_POOL);
	assert_int_equal(level_decide(IMPERSONATE_ALLOWED, IMP, false), RUN_AS_POOL);
	assert_int_equal(level_decide(IMPERSONATE_TRUE, DELEG, true), RUN_AS_CALLER);
	assert_int_equal(level_decide(IMPERSONATE_TRUE, IMP, true), RUN_AS_CALLER);
	assert_int_equal(level_decide(IMPERSONATE_TRUE, IDENT, true), REFUSE_LEVEL);
	assert_int_equal(level_decide(IMPERSONATE_TRUE, ANON, true), REFUSE_LEVEL);
	assert_int_equal(level_decide(IMPERSONATE_TRUE, IDENT, false), REFUSE_LEVEL);
	assert_int_equal(level_decide(IMPERSONATE_TRUE, IMP, false), REFUSE_NO_ACCOUNT);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(level_name(ANON), "anonymous");
	assert_string_equal(level_name(IDENT), "identification");
	assert_string_equal(level_name(IMP), "impersonation");
	assert_string_equal(level_name(DELEG), "delegation");
	assert_string_equal(level_name(7), "unknown");
	assert_string_equal(level_name(-1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_context), cmocka_unit_test(test_parse),
		cmocka_unit_test(test_header_only_lowers), cmocka_unit_test(test_table),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("levels", tests, NULL, NULL);
}
