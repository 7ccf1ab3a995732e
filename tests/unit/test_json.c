/* test_json.c -- JSON escaping and the exact audit line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audit.h"
#include "sbuf.h"

static void json(const char *in, const char *want)
{
	struct sbuf b;
	sb_init(&b);
	sb_json_str(&b, in);
	assert_string_equal(b.s, want);
	sb_free(&b);
}

static void test_escape(void **state)
{
	(void)state;
	json(NULL, "null");
	json("", "\"\"");
	json("plain", "\"plain\"");
	json("q\"b\\s", "\"q\\\"b\\\\s\"");
	json("nl\nx\x01", "\"nl\\u000ax\\u0001\"");
	json("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	json("bad\xff" "x", "\"bad\\ufffdx\"");
	json("\xc0\xaf", "\"\\ufffd\\ufffd\""); /* overlong '/' */
	json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
}

static void test_audit_line(void **state)
{
	struct audit_rec a = {
		.request_id = "r1", .client = "127.0.0.1", .method = "GET", .path = "/x\"y",
		.vdir = "/", .pool = "default", .principal = NULL, .user = NULL,
		.level = "anonymous", .impersonated = false, .status = 404, .bytes = 12,
		.duration_us = 1500, .reason = "static: x: not found",
	};
	char *line = audit_format(&a, 1795219200123LL);

	(void)state;
	assert_string_equal(line,
		"{\"ts\":\"2026-11-21T00:00:00.123Z\",\"request_id\":\"r1\","
		"\"client\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/x\\\"y\",\"vdir\":\"/\","
		"\"pool\":\"default\",\"principal\":null,\"user\":null,\"level\":\"anonymous\","
		"\"impersonated\":false,\"status\":404,\"bytes\":12,\"duration_ms\":1.500,"
		"\"reason\":\"static: x: not found\"}");
	free(line);
	a.reason = NULL;
	a.status = 200;
	line = audit_format(&a, 1795219200123LL);
	assert_null(strstr(line, "reason"));
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_audit_line),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
