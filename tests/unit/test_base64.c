/* test_base64.c -- strict base64 (tokens and Basic credentials come from
 * the network).  User names: test_authhelper.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base64.h"

static void roundtrip(const char *in, const char *b64)
{
	char *e = base64_encode(in, strlen(in));
	size_t n;
	unsigned char *d;

	assert_string_equal(e, b64);
	d = base64_decode(e, &n);
	assert_non_null(d);
	assert_int_equal(n, strlen(in));
	assert_memory_equal(d, in, n);
	free(e);
	free(d);
}

static void test_roundtrips(void **state)
{
	(void)state;
	roundtrip("f", "Zg==");
	roundtrip("fo", "Zm8=");
	roundtrip("foo", "Zm9v");
	roundtrip("foob", "Zm9vYg==");
	roundtrip("fooba", "Zm9vYmE=");
	roundtrip("foobar", "Zm9vYmFy");
	roundtrip("alice:pa:ss", "YWxpY2U6cGE6c3M=");
}

static void test_binary(void **state)
{
	unsigned char all[256];
	size_t n;

	(void)state;
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	char *e = base64_encode(all, sizeof(all));
	unsigned char *d = base64_decode(e, &n);
	assert_int_equal(n, 256);
	assert_memory_equal(d, all, 256);
	free(e);
	free(d);
}

static void refused(const char *s)
{
	size_t n;
	unsigned char *d = base64_decode(s, &n);

	if (d)
		fail_msg("'%s' decoded", s);
}

static void test_strict(void **state)
{
	(void)state;
	refused("");
	refused("Zg");      /* no padding */
	refused("Zg=");     /* short padding */
	refused("Zh==");    /* non-zero pad bits */
	refused("Zm9=");    /* non-zero pad bits */
	refused("Zg==Zg==");/* padding inside */
	refused("Z===");
	refused("====");
	refused("Zm9v!");
	refused("Zm 9v");
	refused("Zm9v\n");
	refused("Zm-_");    /* the URL alphabet is not ours */
}

/* base64url without padding (session cookies): RFC 4648's vectors, the
 * other alphabet, and strictness. */
static void test_url(void **state)
{
	static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
	size_t n;
	unsigned char *d;
	char *e;

	(void)state;
	e = base64url_encode("fo", 2);
	assert_string_equal(e, "Zm8");
	free(e);
	e = base64url_encode(bytes, 3);
	assert_string_equal(e, "-_-_");
	d = base64url_decode(e, strlen(e), &n);
	assert_non_null(d);
	assert_int_equal(n, 3);
	assert_memory_equal(d, bytes, 3);
	free(d);
	free(e);
	d = base64url_decode("Zm9vYmE", 7, &n);
	assert_non_null(d);
	assert_string_equal((char *)d, "fooba");
	free(d);
	assert_null(base64url_decode("Zm8=", 4, &n));  /* padding */
	assert_null(base64url_decode("+/+/", 4, &n));  /* the standard alphabet */
	assert_null(base64url_decode("Zm9vY", 5, &n)); /* no byte string is 5 characters */
	assert_null(base64url_decode("Zm9", 3, &n));   /* pad bits set */
	assert_null(base64url_decode("", 0, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrips),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_url),
	};
	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
