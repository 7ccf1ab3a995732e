/* test_route.c -- longest-prefix vdir matching on segment boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "route.h"

static const char conf[] =
	"[server]\nuser = daemon\npam_service =\n"
	"[pool default]\nuser = nobody\ngroup = nogroup\n"
	"[vdir /]\nauth = anonymous\n"
	"[vdir /app]\nauth = anonymous\n"
	"[vdir /app/admin/]\nauth = anonymous\n"
	"[vdir /apple]\nauth = anonymous\n";

static void test_covers(void **state)
{
	(void)state;
	assert_true(vdir_covers("/app", 4, "/app"));
	assert_true(vdir_covers("/app", 4, "/app/"));
	assert_true(vdir_covers("/app", 4, "/app/x"));
	assert_false(vdir_covers("/app", 4, "/apple"));
	assert_false(vdir_covers("/app", 4, "/ap"));
	assert_false(vdir_covers("/app", 4, "/"));
	assert_true(vdir_covers("/", 1, "/"));
	assert_true(vdir_covers("/", 1, "/anything/at/all"));
}

static void expect_route(const struct config *c, const char *path, const char *vdir,
			 const char *info)
{
	const char *pi;
	const struct vdir_conf *v = route_match(c, path, &pi);

	assert_non_null(v);
	assert_string_equal(v->path, vdir);
	assert_string_equal(pi, info);
}

static void test_match(void **state)
{
	struct diag d = { 0 };
	struct config *c = config_load_string("route.conf", conf, &d, false);

	(void)state;
	diag_print(&d, stderr);
	assert_non_null(c);
	expect_route(c, "/", "/", "/");
	expect_route(c, "/index.html", "/", "/index.html");
	expect_route(c, "/app", "/app", "");
	expect_route(c, "/app/", "/app", "/");
	expect_route(c, "/app/x/y", "/app", "/x/y");
	expect_route(c, "/app/admin", "/app/admin", "");
	expect_route(c, "/app/admin/users", "/app/admin", "/users");
	expect_route(c, "/app/administrator", "/app", "/administrator");
	expect_route(c, "/apple", "/apple", "");
	expect_route(c, "/apples", "/", "/apples");
	config_free(c);
	diag_free(&d);
}

static void test_no_root_vdir(void **state)
{
	struct diag d = { 0 };
	const char *pi;
	struct config *c = config_load_string(
		"route.conf",
		"[server]\nuser = daemon\npam_service =\n[pool default]\nuser = nobody\n"
		"[vdir /only]\nauth = anonymous\n", &d, false);

	(void)state;
	assert_non_null(c);
	assert_null(route_match(c, "/", &pi));
	assert_null(route_match(c, "/onlyx", &pi));
	assert_non_null(route_match(c, "/only/x", &pi));
	config_free(c);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_covers),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_no_root_vdir),
	};
	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
