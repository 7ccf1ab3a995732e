/* test_trust.c -- the pool's mark of the verdicts its workers took, and
 * where a dead worker's successor starts trusting (trust.h): a request
 * verdict a worker takes raises the mark to its time (never lowers it); a
 * refused one leaves it; the successor refuses what the mark covers and
 * takes what was made after it, but never trusts past the death (a mark
 * beyond it is a worker's lie). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "config.h"
#include "idgate/module.h"
#include "trust.h"
#include "util.h"
#include "verdict.h"

static uint8_t key[VERDICT_KEY_LEN];
static uint8_t plain[WIRE_MAX_PAYLOAD];
static const struct vdir_conf vdir = { .auth = AUTH_NEGOTIATE };

/* The worker's answer to head q with verdict v, sealed. */
static int seal_and_check(const struct verdict *v, struct wire_req *q, char *why)
{
	struct wbuf b;
	int rc;

	assert_int_equal(verdict_seal(key, v, &b), 0);
	q->verdict = b.p;
	q->verdict_len = b.len;
	rc = trust_check(q, &vdir, plain, why, 200);
	wb_free(&b);
	return rc;
}

/* A request for / with a request verdict made at `issued`, whose id is
 * `id` repeated; its answer (0, or -1 and why). */
static int present(uint64_t issued, uint8_t id, char *why)
{
	struct verdict v = {
		.kind = VERDICT_REQUEST, .issued_ms = issued,
		.expires_ms = issued + VERDICT_REQUEST_TTL_MS, .request_id = "rid",
		.method = "GET", .path = "/", .principal = "alice@X.TEST", .user = "alice",
		.uid = 1000, .gid = 1000, .level = IDG_LEVEL_IDENTIFICATION,
		.auth_type = W_AUTH_NEGOTIATE,
	};
	struct wire_req q = { .method = "GET", .path = "/", .request_id = "rid",
			      .level = IDG_LEVEL_IDENTIFICATION };

	memset(v.id, id, sizeof(v.id));
	verdict_digest("Negotiate YII=", v.authz_digest);
	memcpy(q.authz_digest, v.authz_digest, sizeof(q.authz_digest));
	return seal_and_check(&v, &q, why);
}

static void test_the_mark_follows_what_is_taken(void **state)
{
	uint64_t now = now_ms(), taken = 0;
	char why[200] = "";

	(void)state;
	assert_int_equal(verdict_new_key(key), 0);
	trust_init(key, now - 1000, &taken);
	assert_int_equal(present(now - 500, 1, why), 0);
	assert_int_equal(taken, now - 500);
	assert_int_equal(present(now - 800, 2, why), 0); /* an older one: no lower */
	assert_int_equal(taken, now - 500);
	assert_int_equal(present(now - 100, 3, why), 0);
	assert_int_equal(taken, now - 100);
	/* refused ones leave it */
	assert_int_equal(present(now - 100, 3, why), -1);
	assert_string_equal(why, "verdict refused: used before (a replay)");
	assert_int_equal(present(now - 2000, 4, why), -1);
	assert_string_equal(why, "verdict refused: made before this worker started");
	assert_int_equal(taken, now - 100);

	/* the worker dies now: its successor refuses what it took, and takes
	 * what it did not take, made since */
	trust_init(key, verdict_trust_boundary(taken, now), &taken);
	assert_int_equal(present(now - 100, 5, why), -1);
	assert_string_equal(why, "verdict refused: made before this worker started");
	assert_int_equal(present(now - 99, 6, why), 0);
	assert_int_equal(taken, now - 99);
}

static void test_the_boundary(void **state)
{
	(void)state;
	assert_int_equal(verdict_trust_boundary(1000, 5000), 1001);
	assert_int_equal(verdict_trust_boundary(0, 5000), 1);             /* nothing taken yet */
	assert_int_equal(verdict_trust_boundary(4999, 5000), 5000);
	assert_int_equal(verdict_trust_boundary(7000, 5000), 5001);       /* a lie: not past the death */
	assert_int_equal(verdict_trust_boundary(UINT64_MAX, 5000), 5001); /* no mark: the death */
}

/* A session cookie's verdict: taken on any connection whose head names
 * the cookie it was made for, until it expires; never for another cookie. */
static int present_session(uint64_t expires, const char *cookie, char *why)
{
	struct verdict v = {
		.kind = VERDICT_SESSION, .issued_ms = expires - 5000, .expires_ms = expires,
		.conn_id = 1, .principal = "alice@X.TEST", .user = "alice", .uid = 1000,
		.gid = 1000, .level = IDG_LEVEL_IMPERSONATION, .auth_type = W_AUTH_NEGOTIATE,
	};
	struct wire_req q = { .method = "GET", .path = "/", .request_id = "rid", .conn_id = 2,
			      .level = IDG_LEVEL_IDENTIFICATION };

	verdict_digest_bytes("the-cookie", 10, v.authz_digest);
	verdict_digest_bytes(cookie, strlen(cookie), q.authz_digest);
	assert_int_equal(verdict_new_id(&v), 0);
	return seal_and_check(&v, &q, why);
}

static void test_a_session_verdict_names_its_cookie(void **state)
{
	uint64_t taken = 0;
	char why[200] = "";

	(void)state;
	assert_int_equal(verdict_new_key(key), 0);
	trust_init(key, now_ms() - 1000, &taken);
	assert_int_equal(present_session(now_ms() + 10000, "the-cookie", why), 0);
	assert_int_equal(present_session(now_ms() + 10000, "the-cookie", why), 0); /* again */
	assert_int_equal(present_session(now_ms() + 10000, "the-cookie2", why), -1);
	assert_string_equal(why, "verdict refused: made for another session cookie");
	assert_int_equal(present_session(now_ms() - 1, "the-cookie", why), -1);
	assert_string_equal(why, "verdict refused: expired");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_mark_follows_what_is_taken),
		cmocka_unit_test(test_the_boundary),
		cmocka_unit_test(test_a_session_verdict_names_its_cookie),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
