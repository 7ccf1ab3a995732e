/* test_json.c -- the exact log lines: JSON escaping, the audit line, and
 * the access log's NCSA Combined line with its escapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "accesslog.h"
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
		.duration_us = 1500, .host = "gw.example:8080", .user_agent = "curl/8 \"x\"",
		.auth = NULL, .tls = false, .reason = "static: x: not found",
	};
	char *line = audit_format(&a, 1795219200123LL);

	(void)state;
	assert_string_equal(line,
		"{\"ts\":\"2026-11-21T00:00:00.123Z\",\"request_id\":\"r1\","
		"\"client\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/x\\\"y\",\"vdir\":\"/\","
		"\"pool\":\"default\",\"principal\":null,\"user\":null,\"level\":\"anonymous\","
		"\"impersonated\":false,\"status\":404,\"bytes\":12,\"duration_ms\":1.500,"
		"\"host\":\"gw.example:8080\",\"user_agent\":\"curl/8 \\\"x\\\"\",\"auth\":null,"
		"\"tls\":false,\"reason\":\"static: x: not found\"}");
	free(line);
	a.reason = NULL;
	a.status = 200;
	a.host = a.user_agent = NULL;
	a.auth = "Negotiate";
	a.tls = true;
	line = audit_format(&a, 1795219200123LL);
	assert_non_null(strstr(line, ",\"host\":null,\"user_agent\":null,\"auth\":\"Negotiate\","
				     "\"tls\":true}"));
	assert_null(strstr(line, "reason"));
	assert_null(strstr(line, "proxy"));
	free(line);
	/* a client named by a PROXY header: who named it follows */
	a.client = "203.0.113.7";
	a.proxy = "10.0.0.2";
	line = audit_format(&a, 1795219200123LL);
	assert_non_null(strstr(line, ",\"client\":\"203.0.113.7\",\"proxy\":\"10.0.0.2\",\"method\""));
	free(line);
}

static void access_line(const struct access_rec *a, const char *want)
{
	char *line = access_log_format(a);

	assert_string_equal(line, want);
	free(line);
}

static void test_access_line(void **state)
{
	struct access_rec a = {
		.client = "192.0.2.7", .user = "alice", .when = 1795219200, .method = "GET",
		.target = "/x?y=1", .version = "HTTP/1.1", .status = 200, .bytes = 2326,
		.referer = "http://ref.example/", .user_agent = "curl/8.0",
	};

	(void)state;
	setenv("TZ", "UTC", 1);
	access_log_init(-1);
	access_line(&a, "192.0.2.7 - alice [21/Nov/2026:00:00:00 +0000] \"GET /x?y=1 HTTP/1.1\" 200 "
			"2326 \"http://ref.example/\" \"curl/8.0\"");
	/* what a client chose is escaped; nothing becomes "-" but what is missing */
	a.user = "a b\"c";
	a.target = "/p\x01\x1b[2J\"\\\x7f\xc3\xa9";
	a.user_agent = "ua \"q\" \\ \n";
	a.referer = NULL;
	a.bytes = 0;
	a.status = 304;
	access_line(&a, "192.0.2.7 - a\\x20b\\x22c [21/Nov/2026:00:00:00 +0000] "
			"\"GET /p\\x01\\x1B[2J\\x22\\x5C\\x7F\\xC3\\xA9 HTTP/1.1\" 304 - \"-\" "
			"\"ua \\x22q\\x22 \\x5C \\x0A\"");
	/* no caller, no request line (the client left before it was read) */
	a.user = NULL;
	a.method = NULL;
	a.user_agent = NULL;
	a.status = 499;
	access_line(&a, "192.0.2.7 - - [21/Nov/2026:00:00:00 +0000] \"-\" 499 - \"-\" \"-\"");
	/* local time, as Apache writes it */
	setenv("TZ", "EST5", 1);
	access_log_init(-1);
	a.user = "";
	access_line(&a, "192.0.2.7 - - [20/Nov/2026:19:00:00 -0500] \"-\" 499 - \"-\" \"-\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_audit_line),
		cmocka_unit_test(test_access_line),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
