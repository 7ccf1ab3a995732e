/* test_uri.c -- request-target decoding and normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "uri.h"

static void norm(const char *in, const char *want)
{
	char *p = strdup(in);
	assert_int_equal(path_normalize(p, 0), 0);
	assert_string_equal(p, want);
	free(p);
}

static void test_normalize(void **state)
{
	(void)state;
	norm("/", "/");
	norm("//", "/");
	norm("/a//b", "/a/b");
	norm("/a/./b", "/a/b");
	norm("/a/b/..", "/a/");
	norm("/a/b/../c", "/a/c");
	norm("/a/.", "/a/");
	norm("/a/b/", "/a/b/");
	norm("/a/b//", "/a/b/");
	norm("/..a/.b/...", "/..a/.b/...");
}

static void test_normalize_refuses(void **state)
{
	char p1[] = "/..", p2[] = "/a/../..", p3[] = "/a/./b", p4[] = "relative", p5[] = "/a/../../";

	(void)state;
	assert_int_equal(path_normalize(p1, 0), -1);
	assert_int_equal(path_normalize(p2, 0), -1);
	assert_int_equal(path_normalize(p3, PATH_KEEP_DOTS_ERROR), -1);
	assert_int_equal(path_normalize(p4, 0), -1);
	assert_int_equal(path_normalize(p5, 0), -1);
}

static void parse_ok(const char *raw, const char *path, const char *query)
{
	char *p, *q;
	const char *why = NULL;

	assert_int_equal(uri_parse(raw, &p, &q, &why), 0);
	assert_string_equal(p, path);
	assert_string_equal(q, query);
	free(p);
	free(q);
}

static void parse_bad(const char *raw, const char *reason)
{
	char *p, *q;
	const char *why = NULL;

	assert_int_equal(uri_parse(raw, &p, &q, &why), 400);
	assert_null(p);
	assert_string_equal(why, reason);
}

static void test_parse(void **state)
{
	(void)state;
	parse_ok("/", "/", "");
	parse_ok("/a%20b?x=%2F&y", "/a b", "x=%2F&y");
	parse_ok("/a/%2e%2e/b", "/b", "");
	parse_ok("/%41%62c", "/Abc", "");
	parse_ok("http://host:80/x/y?z", "/x/y", "z");
	parse_ok("/caf%C3%A9", "/caf\xc3\xa9", "");
	parse_bad("*", "request-target is not an absolute path");
	parse_bad("x/y", "request-target is not an absolute path");
	parse_bad("/..", "path climbs above the root");
	parse_bad("/%2e%2e/etc/passwd", "path climbs above the root");
	parse_bad("/a/..%2f..%2fetc", "encoded '/' in path");
	parse_bad("/a%2Fb", "encoded '/' in path");
	parse_bad("/a%00b", "control character in path");
	parse_bad("/a%0d%0aX: y", "control character in path");
	parse_bad("/a%", "bad percent-encoding in path");
	parse_bad("/a%4", "bad percent-encoding in path");
	parse_bad("/a%zz", "bad percent-encoding in path");
	parse_bad("/a#frag", "fragment in request-target");
	parse_bad("http://host", "absolute-form request-target without a path");
}

static void test_encode(void **state)
{
	char *e = uri_encode_path("/a b/caf\xc3\xa9/%/ok-._~");

	(void)state;
	assert_string_equal(e, "/a%20b/caf%C3%A9/%25/ok-._~");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_refuses),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_encode),
	};
	return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
