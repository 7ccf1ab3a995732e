/* test_proto_spawnmsg.c -- the worker <-> spawner messages (spawnmsg.h):
 * round trips, and every truncation, trailing byte, wrong descriptor
 * count, overlong list, NULL string and impossible value refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prototest.h"
#include "spawnmsg.h"

static struct spawnm_request req; /* 5 KiB */

static int dec_request(const struct wire_frame *f, void *out)
{
	return spawnm_request_decode(f, out);
}

static void encode_sample(struct wbuf *b, char *const *argv, char *const *envp)
{
	struct ident as = { .uid = 1000, .gid = 100, .groups = { 100, 27 }, .ngroups = 2 };

	wb_init(b);
	spawnm_request_encode(b, &as, "/usr/lib/cgi-bin/x.cgi", "/srv", argv, envp);
}

static void test_request(void **state)
{
	char *argv[] = { "x.cgi", "-v", NULL }, *envp[] = { "PATH=/bin", NULL };
	struct wbuf b;

	(void)state;
	encode_sample(&b, argv, envp);
	proto_check_framing_fds(dec_request, &req, W_SPAWN, 0, &b, SPAWNM_FDS, false);
	assert_int_equal(req.as.uid, 1000);
	assert_int_equal(req.as.ngroups, 2);
	assert_int_equal(req.as.groups[1], 27);
	assert_string_equal(req.path, "/usr/lib/cgi-bin/x.cgi");
	assert_string_equal(req.cwd, "/srv");
	assert_string_equal(req.argv[1], "-v");
	assert_null(req.argv[2]);
	assert_string_equal(req.envp[0], "PATH=/bin");
	assert_null(req.envp[1]);
	assert_false(req.exec_fd);
	/* 4 descriptors, or 5 with the program; nothing else */
	for (size_t n = 0; n <= WIRE_MAX_FDS; n++) {
		struct wire_frame f = proto_frame(W_SPAWN, 0, b.p, b.len, n);
		assert_int_equal(dec_request(&f, &req), n == 4 || n == 5 ? 0 : -1);
		if (n == 5)
			assert_true(req.exec_fd);
	}
	/* more groups than an identity holds */
	assert_int_equal(proto_decode_with_u32(dec_request, &req, W_SPAWN, 0, &b, 4, 8,
					       IDENT_MAX_GROUPS + 1), -1);
	assert_int_equal(proto_decode_with_u32(dec_request, &req, W_SPAWN, 0, &b, 4, 8, 3), -1);
	wb_free(&b);
}

static void test_request_lists(void **state)
{
	static char *many[SPAWN_MAX_ARGS + 2];
	char *argv[] = { "x.cgi", NULL }, *none[] = { NULL };
	struct wbuf b;
	struct wire_frame f;

	(void)state;
	/* no argv[0] */
	encode_sample(&b, none, none);
	f = proto_frame(W_SPAWN, 0, b.p, b.len, 4);
	assert_int_equal(dec_request(&f, &req), -1);
	wb_free(&b);
	/* no environment at all is fine */
	encode_sample(&b, argv, none);
	f = proto_frame(W_SPAWN, 0, b.p, b.len, 4);
	assert_int_equal(dec_request(&f, &req), 0);
	wb_free(&b);
	/* the limits, and one more */
	for (size_t i = 0; i < SPAWN_MAX_ARGS + 1; i++)
		many[i] = "a";
	encode_sample(&b, many, many);
	f = proto_frame(W_SPAWN, 0, b.p, b.len, 4);
	assert_int_equal(dec_request(&f, &req), -1);
	wb_free(&b);
	many[SPAWN_MAX_ARGS] = NULL;
	encode_sample(&b, many, many);
	f = proto_frame(W_SPAWN, 0, b.p, b.len, 4);
	assert_int_equal(dec_request(&f, &req), 0);
	assert_int_equal(req.argv[SPAWN_MAX_ARGS - 1][0], 'a');
	assert_null(req.argv[SPAWN_MAX_ARGS]);
	wb_free(&b);
	/* a NULL path */
	struct ident as = { .uid = 1 };
	wb_init(&b);
	spawnm_request_encode(&b, &as, NULL, "/", argv, none);
	f = proto_frame(W_SPAWN, 0, b.p, b.len, 4);
	assert_int_equal(dec_request(&f, &req), -1);
	wb_free(&b);
}

static int dec_answer(const struct wire_frame *f, void *out)
{
	return spawnm_answer_decode(f, out);
}

static void test_answers(void **state)
{
	struct spawnm_answer a;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	spawnm_started_encode(&b, 4242);
	proto_check_framing(dec_answer, &a, W_SPAWN_STARTED, 0, &b, 0);
	assert_true(a.started);
	assert_int_equal(a.pid, 4242);
	assert_int_equal(proto_decode_with_u32(dec_answer, &a, W_SPAWN_STARTED, 0, &b, 0, 0, 0),
			 -1);
	assert_int_equal(proto_decode_with_u32(dec_answer, &a, W_SPAWN_STARTED, 0, &b, 0, 0,
					       0x80000000u), -1);
	wb_free(&b);
	wb_init(&b);
	spawnm_failed_encode(&b, 2, "execve");
	proto_check_framing(dec_answer, &a, W_SPAWN_FAILED, 0, &b, 0);
	assert_false(a.started);
	assert_int_equal(a.err, 2);
	assert_string_equal(a.step, "execve");
	/* no errno, or one out of range */
	assert_int_equal(proto_decode_with_u32(dec_answer, &a, W_SPAWN_FAILED, 0, &b, 0, 0, 0),
			 -1);
	assert_int_equal(proto_decode_with_u32(dec_answer, &a, W_SPAWN_FAILED, 0, &b, 0, 0,
					       SPAWNM_MAX_ERRNO + 1), -1);
	/* a FAILED payload read as STARTED: trailing bytes */
	struct wire_frame f = proto_frame(W_SPAWN_STARTED, 0, b.p, b.len, 0);
	assert_int_equal(dec_answer(&f, &a), -1);
	/* neither answer */
	f = proto_frame(W_SPAWN_EXITED, 0, b.p, 4, 0);
	assert_int_equal(dec_answer(&f, &a), -1);
	wb_free(&b);
}

static int dec_exited(const struct wire_frame *f, void *out)
{
	return spawnm_exited_decode(f, out);
}

static void test_exited(void **state)
{
	static const uint32_t good[] = { 0, 1u << 8, 127u << 8, 255u << 8, 9, 11 | 0x80, 15,
					 64, 64 | 0x80 };
	/* found by fuzz_proto_spawn: no signal above 64 (SIGRTMAX), and 0x7f
	 * marks a stopped child, not one that ended */
	static const uint32_t bad[] = { 0x10000, (1u << 8) | 9, 0x80, 0xffffffffu, 65, 70,
					0x7f, 0xff, 70 | 0x80 };
	uint32_t st;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	spawnm_exited_encode(&b, 3u << 8);
	proto_check_framing(dec_exited, &st, W_SPAWN_EXITED, 0, &b, 0);
	assert_int_equal(st, 3u << 8);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(proto_decode_with_u32(dec_exited, &st, W_SPAWN_EXITED, 0, &b, 0,
						       0, good[i]), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (proto_decode_with_u32(dec_exited, &st, W_SPAWN_EXITED, 0, &b, 0, 0, bad[i]) != -1)
			fail_msg("wait status 0x%x accepted", bad[i]);
	wb_free(&b);
}

static int dec_kill(const struct wire_frame *f, void *out)
{
	(void)out;
	return spawnm_kill_decode(f);
}

static void test_kill(void **state)
{
	struct wbuf b;

	(void)state;
	wb_init(&b);
	proto_check_framing(dec_kill, NULL, W_SPAWN_KILL, 0, &b, 0);
	wb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request), cmocka_unit_test(test_request_lists),
		cmocka_unit_test(test_answers), cmocka_unit_test(test_exited),
		cmocka_unit_test(test_kill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
