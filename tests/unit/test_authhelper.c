/* test_authhelper.c -- the user names idgate accepts (authhelper.h), and
 * the real PAM helper process, forked here on a socketpair, answering
 * questions it refuses with AUTH_ANSWER_INVALID instead of exiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authhelper.h"
#include "config.h"
#include "wire.h"

static void test_valid_names(void **state)
{
	static const char *const good[] = {
		"alice", "Alice", "a.b_c-d", "_svc", "host$", "9lives", "a1",
		"alice@example.com", "alice@EXAMPLE.COM", "first.last@ad.example-corp.com",
		"host$@example.com", "a",
		"abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcd",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!auth_user_name_ok(good[i]))
			fail_msg("refused '%s'", good[i]);
	}
}

static void test_invalid_names(void **state)
{
	static const char *const bad[] = {
		"", "-rf", "-", ".hidden", "..", "../etc", "a/b", "a b", " alice", "alice ",
		"a\\b", "a\tb", "a\nb", "a:b", "a'b", "a\"b", "a;b", "a$b", "$", "a$$",
		"\xc3\xa9t\xc3\xa9", "al\xc3\xa9", "12345", "0", "@example.com", "alice@",
		"alice@-x", "alice@.x", "alice@x_y", "alice@x@y", "alice@x y", "-alice@example.com",
		"abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcde",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (auth_user_name_ok(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	}
}

/* ---------------------------------------------------------------- the helper */

struct helper {
	pid_t pid;
	int sock, ctl;
};

static struct config cfg;

static void start_helper(struct helper *h)
{
	int sp[2], ctl[2];
	uint8_t *buf = malloc(WIRE_MAX_FRAME);
	struct wire_frame f;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl), 0);
	cfg.server.pam_service = (char *)"idgate-unit-test-no-such-service";
	h->pid = fork();
	assert_true(h->pid >= 0);
	if (h->pid == 0) {
		close(sp[0]);
		close(ctl[0]);
		authhelper_main(&cfg, sp[1], ctl[1]);
	}
	close(sp[1]);
	close(ctl[1]);
	h->sock = sp[0];
	h->ctl = ctl[0];
	assert_int_equal(wire_recv(h->ctl, buf, &f, 0), 1);
	assert_int_equal(f.type, W_CTL_READY);
	free(buf);
}

static void ask(int sock, uint16_t type, uint64_t tag, const char *user, const char *rhost,
		const char *password)
{
	struct wbuf b;

	wb_init(&b);
	wb_u64(&b, tag);
	wb_str(&b, user);
	wb_str(&b, rhost);
	if (password)
		wb_str(&b, password);
	assert_int_equal(wire_send(sock, type, 0, b.p, b.len, NULL, 0, 0), 0);
	wb_free(&b);
}

/* The next answer: its tag, code and message. */
static void answer(int sock, uint64_t *tag, int *code, char *msg, size_t len)
{
	uint8_t *buf = malloc(WIRE_MAX_FRAME);
	struct wire_frame f;
	struct rbuf r;
	const char *m;

	assert_int_equal(wire_recv(sock, buf, &f, 0), 1);
	assert_int_equal(f.type, W_AUTH_RESULT);
	rb_init(&r, f.payload, f.len);
	*tag = rb_u64(&r);
	*code = (int)rb_u32(&r);
	m = rb_str(&r);
	assert_false(r.bad);
	assert_non_null(m);
	snprintf(msg, len, "%s", m);
	free(buf);
}

static void expect_invalid(int sock, uint64_t tag, const char *why)
{
	uint64_t got;
	int code;
	char msg[300], want[300];

	answer(sock, &got, &code, msg, sizeof(msg));
	assert_int_equal(got, tag);
	assert_int_equal(code, AUTH_ANSWER_INVALID);
	snprintf(want, sizeof(want), "the PAM helper refused the question: %s", why);
	assert_string_equal(msg, want);
}

static void test_helper_refuses_and_stays(void **state)
{
	struct helper h;
	char long_rhost[80], long_password[1100];
	uint64_t tag;
	int code, status;
	char msg[300];

	(void)state;
	memset(long_rhost, 'h', sizeof(long_rhost) - 1);
	long_rhost[sizeof(long_rhost) - 1] = '\0';
	memset(long_password, 'p', sizeof(long_password) - 1);
	long_password[sizeof(long_password) - 1] = '\0';
	start_helper(&h);
	static const char *const odd[] = { "-rf", "a b", "a\\b", "\xc3\xa9t\xc3\xa9", "1000" };
	for (uint64_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		ask(h.sock, W_AUTH_ACCT, 100 + i, odd[i], "127.0.0.1", NULL);
		expect_invalid(h.sock, 100 + i, "not a valid user name");
	}
	ask(h.sock, W_AUTH_PASS, 200, "-rf", "::1", "secret");
	expect_invalid(h.sock, 200, "not a valid user name");
	ask(h.sock, W_AUTH_ACCT, 201, "alice", long_rhost, NULL);
	expect_invalid(h.sock, 201, "field out of bounds");
	ask(h.sock, W_AUTH_PASS, 202, "alice", "::1", long_password);
	expect_invalid(h.sock, 202, "field out of bounds");
	ask(h.sock, W_AUTH_PASS, 203, "alice", "::1", NULL); /* no password */
	expect_invalid(h.sock, 203, "malformed message");
	/* no tag at all: nothing to answer, and nothing to die of */
	assert_int_equal(wire_send(h.sock, W_AUTH_ACCT, 0, "abc", 3, NULL, 0, 0), 0);
	/* and still a PAM answer for a name that is one (whatever PAM says
	 * about an account that does not exist, it is a PAM code) */
	ask(h.sock, W_AUTH_ACCT, 300, "idgate-unit-nobody", "127.0.0.1", NULL);
	answer(h.sock, &tag, &code, msg, sizeof(msg));
	assert_int_equal(tag, 300);
	assert_true(code >= 0);
	assert_int_equal(kill(h.pid, 0), 0);
	/* the front end goes away: the helper exits 0 */
	close(h.sock);
	assert_int_equal(waitpid(h.pid, &status, 0), h.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(h.ctl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_helper_refuses_and_stays),
	};
	return cmocka_run_group_tests_name("authhelper", tests, NULL, NULL);
}
