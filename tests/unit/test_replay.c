/* test_replay.c -- the authenticator's replay cache (replay.c): what is
 * accepted once is refused after, across processes, restarts and the
 * table's growth; what MIT refused is forgotten; a process killed while
 * holding the lock stops nobody. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "replay.h"

static char dir[] = "/tmp/test_replay.XXXXXX";

static struct replay_tag tag_n(unsigned n)
{
	uint8_t cipher[64];
	struct replay_tag t;

	memset(cipher, 0, sizeof(cipher));
	memcpy(cipher, &n, sizeof(n));
	replay_tag_of(cipher, sizeof(cipher), &t);
	return t;
}

static enum replay_answer accept_n(unsigned n)
{
	struct replay_tag t = tag_n(n);
	char err[200];
	enum replay_answer a = replay_reserve(&t, 1, err, sizeof(err));

	if (a == REPLAY_FRESH)
		replay_confirm(&t, 1);
	return a;
}

static int setup(void **state)
{
	char err[200];
	char path[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, REPLAY_FILE);
	unlink(path);
	if (replay_open(dir, 300, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	replay_close();
	return 0;
}

static void once_then_replay(void **state)
{
	(void)state;
	assert_int_equal(accept_n(1), REPLAY_FRESH);
	assert_int_equal(accept_n(1), REPLAY_SEEN);
	assert_int_equal(accept_n(2), REPLAY_FRESH);
}

static void reserved_is_seen_and_released_is_free(void **state)
{
	struct replay_tag t = tag_n(7), two[2] = { tag_n(8), tag_n(7) };
	char err[200];

	(void)state;
	assert_int_equal(replay_reserve(&t, 1, err, sizeof(err)), REPLAY_FRESH);
	/* another request with the same authenticator while MIT decrypts it */
	assert_int_equal(replay_reserve(&t, 1, err, sizeof(err)), REPLAY_SEEN);
	/* a token with a fresh one and the reserved one: nothing reserved */
	assert_int_equal(replay_reserve(two, 2, err, sizeof(err)), REPLAY_SEEN);
	assert_int_equal(replay_reserve(&two[0], 1, err, sizeof(err)), REPLAY_FRESH);
	replay_release(&two[0], 1);
	/* MIT refused it: it may come again (and be refused by MIT again) */
	replay_release(&t, 1);
	assert_int_equal(replay_reserve(&t, 1, err, sizeof(err)), REPLAY_FRESH);
	replay_confirm(&t, 1);
	assert_int_equal(replay_reserve(&t, 1, err, sizeof(err)), REPLAY_SEEN);
}

/* The same ciphertext twice in one token is one authenticator, not a
 * replay of itself. */
static void a_tag_twice_in_one_token(void **state)
{
	struct replay_tag same[2] = { tag_n(9), tag_n(9) };
	char err[200];

	(void)state;
	assert_int_equal(replay_reserve(same, 2, err, sizeof(err)), REPLAY_FRESH);
	replay_confirm(same, 2);
	assert_int_equal(replay_reserve(&same[0], 1, err, sizeof(err)), REPLAY_SEEN);
}

static void survives_a_restart(void **state)
{
	char err[200];

	(void)state;
	assert_int_equal(accept_n(11), REPLAY_FRESH);
	replay_close();
	assert_int_equal(replay_open(dir, 300, err, sizeof(err)), 0);
	assert_int_equal(accept_n(11), REPLAY_SEEN);
}

static void expires_after_two_skews(void **state)
{
	char err[200];

	(void)state;
	replay_close();
	assert_int_equal(replay_open(dir, 1, err, sizeof(err)), 0); /* kept 3 s */
	assert_int_equal(accept_n(21), REPLAY_FRESH);
	sleep(1);
	assert_int_equal(accept_n(21), REPLAY_SEEN);
	sleep(3);
	assert_int_equal(accept_n(21), REPLAY_FRESH);
}

/* A child (another authenticator: a reload's old and new) sees what the
 * parent accepted, and the parent what the child did. */
static void shared_between_processes(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(accept_n(31), REPLAY_FRESH);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[200];
		/* opened anew while the parent maps it (its flock must be gone) */
		alarm(5);
		replay_close();
		if (replay_open(dir, 300, err, sizeof(err)) < 0)
			_exit(2);
		_exit(accept_n(31) == REPLAY_SEEN && accept_n(32) == REPLAY_FRESH ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(accept_n(32), REPLAY_SEEN);
}

/* The table grows past its first size; a process that still maps the old
 * file follows the move and sees what was accepted after it. */
static void grows_and_others_follow(void **state)
{
	uint64_t used, slots, slots0;
	int go[2], status;
	pid_t pid;
	char c = 0;

	(void)state;
	replay_stats(&used, &slots0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(accept_n(1000000 + 39999) == REPLAY_SEEN && accept_n(5) == REPLAY_FRESH ? 0 : 1);
	}
	for (unsigned i = 0; i < 40000; i++)
		assert_int_equal(accept_n(1000000 + i), REPLAY_FRESH);
	replay_stats(&used, &slots);
	assert_true(slots > slots0);
	assert_true(used >= 40000);
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* and everything from before the growth is still there */
	for (unsigned i = 0; i < 40000; i += 997)
		assert_int_equal(accept_n(1000000 + i), REPLAY_SEEN);
	assert_int_equal(accept_n(5), REPLAY_SEEN);
	close(go[0]);
	close(go[1]);
}

/* Children killed at random points of their work, some holding the lock:
 * the next one gets it (robust mutex), and what they accepted stays. */
static void killed_holder_stops_nobody(void **state)
{
	int first[2];
	char c = 0;

	(void)state;
	assert_int_equal(pipe(first), 0);
	for (int round = 0; round < 10; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (unsigned i = 0;; i++) {
				accept_n(2000000 + (unsigned)round * 100000 + i);
				if (i == 0 && write(first[1], &c, 1) != 1)
					_exit(2);
			}
		}
		/* its first one is in, then it is killed somewhere in the others */
		assert_int_equal(read(first[0], &c, 1), 1);
		usleep(2000 + (useconds_t)round * 700);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		assert_int_equal(accept_n(2000000 + (unsigned)round * 100000), REPLAY_SEEN);
		assert_int_equal(accept_n(3000000 + (unsigned)round), REPLAY_FRESH);
	}
	close(first[0]);
	close(first[1]);
}

static void not_ours_is_made_anew(void **state)
{
	char path[64], err[200];
	FILE *f;

	(void)state;
	replay_close();
	snprintf(path, sizeof(path), "%s/%s", dir, REPLAY_FILE);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a replay cache\n", f);
	fclose(f);
	assert_int_equal(replay_open(dir, 300, err, sizeof(err)), 0);
	assert_int_equal(accept_n(41), REPLAY_FRESH);
	assert_int_equal(accept_n(41), REPLAY_SEEN);
}

static void missing_directory_is_an_error(void **state)
{
	char err[200] = "";

	(void)state;
	replay_close();
	assert_int_equal(replay_open("/nonexistent/idgate-rcache", 300, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/idgate-rcache/" REPLAY_FILE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(once_then_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(reserved_is_seen_and_released_is_free, setup, teardown),
		cmocka_unit_test_setup_teardown(a_tag_twice_in_one_token, setup, teardown),
		cmocka_unit_test_setup_teardown(survives_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(expires_after_two_skews, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_between_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(grows_and_others_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(killed_holder_stops_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(not_ours_is_made_anew, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_directory_is_an_error, setup, teardown),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
