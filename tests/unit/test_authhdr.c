/* test_authhdr.c -- the Authorization header's scheme and Basic's split
 * (authhdr.c, as auth.c uses them): where the credentials start, the
 * user and password, and the reason of each refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "authhdr.h"

static void expect_scheme(const char *h, enum authhdr_scheme want, const char *creds)
{
	const char *got = NULL;
	enum authhdr_scheme s = authhdr_scheme(h, &got);

	if (s != want || strcmp(got, creds) != 0)
		fail_msg("'%s': scheme %d, credentials '%s' (wanted %d, '%s')", h, s, got, want,
			 creds);
}

static void test_scheme(void **state)
{
	(void)state;
	expect_scheme("Negotiate YII=", AUTHHDR_NEGOTIATE, "YII=");
	expect_scheme("nEGOTIATE    YII=", AUTHHDR_NEGOTIATE, "YII=");
	expect_scheme("Basic YTpi", AUTHHDR_BASIC, "YTpi");
	expect_scheme("BASIC  ", AUTHHDR_BASIC, "");
	/* the scheme, then a space: nothing else is either */
	expect_scheme("Basic", AUTHHDR_OTHER, "Basic");
	expect_scheme("Basic\tYTpi", AUTHHDR_OTHER, "Basic\tYTpi");
	expect_scheme("Negotiat YII=", AUTHHDR_OTHER, "Negotiat YII=");
	expect_scheme(" Basic YTpi", AUTHHDR_OTHER, " Basic YTpi");
	expect_scheme("Bearer x", AUTHHDR_OTHER, "Bearer x");
	expect_scheme("", AUTHHDR_OTHER, "");
}

static void expect_basic(const char *b64, const char *user, const char *password)
{
	char *u = NULL, *p = NULL;
	const char *why = NULL;

	if (authhdr_basic(b64, &u, &p, &why) != 0)
		fail_msg("'%s' refused: %s", b64, why);
	if (strcmp(u, user) != 0 || strcmp(p, password) != 0)
		fail_msg("'%s': user '%s' password '%s' (wanted '%s' '%s')", b64, u, p, user,
			 password);
	free(u);
	free(p);
}

static void expect_refusal(const char *b64, const char *reason)
{
	char *u = (char *)1, *p = (char *)1;
	const char *why = NULL;

	if (authhdr_basic(b64, &u, &p, &why) != -1 || u || p || !why || strcmp(why, reason))
		fail_msg("'%s': user %p password %p reason '%s' (wanted '%s')", b64, (void *)u,
			 (void *)p, why ? why : "(none)", reason);
}

static void test_basic(void **state)
{
	char big[2048] = "YWxpY2U6"; /* "alice:" and 1,026 'x' */

	(void)state;
	expect_basic("YWxpY2U6c2VjcmV0", "alice", "secret");         /* alice:secret */
	expect_basic("YWxpY2U6cDphOnNz", "alice", "p:a:ss");         /* at the first ':' */
	expect_basic("YWxpY2VARVhBTVBMRS5DT006", "alice@EXAMPLE.COM", ""); /* empty password */
	expect_refusal("YWxpY2U6c2VjcmV0=", "basic: credentials are not valid base64");
	expect_refusal("", "basic: credentials are not valid base64");
	expect_refusal("YWxpY2U=", "basic: malformed credentials");       /* alice */
	expect_refusal("YWwAY2U6eA==", "basic: malformed credentials");   /* al NUL ce:x */
	expect_refusal("eDpwYXNzAHdvcmQ=", "basic: malformed credentials"); /* x:pass NUL word */
	expect_refusal("Og==", "basic: not a valid user name");           /* : */
	expect_refusal("LXJmOng=", "basic: not a valid user name");       /* -rf:x */
	for (size_t i = 0; i < 1026 / 3; i++)
		strcat(big, "eHh4");
	expect_refusal(big, "basic: not a valid user name"); /* a password over 1,024 bytes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheme),
		cmocka_unit_test(test_basic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
