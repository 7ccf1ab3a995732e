/* test_ctlproto.c -- the control socket's messages: round trips, and every
 * truncated, overlong or lying message refused (the supervisor and
 * idgatectl trust nothing they receive); and the metrics text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "ctlproto.h"
#include "diag.h"
#include "metrics.h"
#include "sbuf.h"
#include "wire.h"

static struct ctl_status sample_status(struct ctl_pool *pools)
{
	memset(pools, 0, 2 * sizeof(*pools));
	pools[0] = (struct ctl_pool){ .name = "default", .user = "idgate", .state = 0,
				      .pid = 4242, .threads = 8, .since_s = 61, .restarts = 2,
				      .requests = 1520, .busy = 1, .queued = 0, .ndraining = 1,
				      .draining = { 4000 } };
	pools[1] = (struct ctl_pool){ .name = "files", .user = "www-data",
				      .state = CTL_STATE_DISABLED, .requests = CTL_UNKNOWN };
	return (struct ctl_status){ .version = "0.1.0", .config = "/etc/idgate/idgate.conf",
				    .pid = 1, .frontend_pid = 2, .generation = 3,
				    .uptime_s = 7384, .npools = 2, .pools = pools };
}

static void test_status_roundtrip(void **state)
{
	struct ctl_pool pools[2];
	struct ctl_status st = sample_status(pools), d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	ctl_status_encode(&b, &st);
	assert_int_equal(ctl_status_decode(b.p, b.len, &d), 0);
	assert_string_equal(d.config, "/etc/idgate/idgate.conf");
	assert_int_equal(d.generation, 3);
	assert_int_equal(d.npools, 2);
	assert_string_equal(d.pools[0].name, "default");
	assert_int_equal(d.pools[0].pid, 4242);
	assert_int_equal(d.pools[0].requests, 1520);
	assert_int_equal(d.pools[0].ndraining, 1);
	assert_int_equal(d.pools[0].draining[0], 4000);
	assert_int_equal(d.pools[1].state, CTL_STATE_DISABLED);
	assert_true(d.pools[1].requests == CTL_UNKNOWN);
	free(d.pools);
	wb_free(&b);
}

static void test_status_truncated_and_overlong(void **state)
{
	struct ctl_pool pools[2];
	struct ctl_status st = sample_status(pools), d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	ctl_status_encode(&b, &st);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(ctl_status_decode(b.p, n, &d), -1);
	uint8_t *longer = calloc(1, b.len + 1);
	memcpy(longer, b.p, b.len);
	assert_int_equal(ctl_status_decode(longer, b.len + 1, &d), -1);
	free(longer);
	wb_free(&b);
}

static void test_status_lies(void **state)
{
	struct ctl_pool pools[2];
	struct ctl_status st = sample_status(pools), d;
	struct wbuf b;

	(void)state;
	/* more pools than may ever be: refused before anything is allocated */
	st.npools = 0;
	wb_init(&b);
	ctl_status_encode(&b, &st);
	memcpy(b.p + b.len - 4, &(uint32_t){ CTL_MAX_POOLS + 1 }, 4);
	assert_int_equal(ctl_status_decode(b.p, b.len, &d), -1);
	wb_free(&b);
	st = sample_status(pools);
	pools[0].state = CTL_STATE_MAX + 1;
	wb_init(&b);
	ctl_status_encode(&b, &st);
	assert_int_equal(ctl_status_decode(b.p, b.len, &d), -1);
	wb_free(&b);
	st = sample_status(pools);
	pools[1].name = "bad name"; /* not a pool name */
	wb_init(&b);
	ctl_status_encode(&b, &st);
	assert_int_equal(ctl_status_decode(b.p, b.len, &d), -1);
	wb_free(&b);
}

/* A request frame through a real socket pair, as the supervisor reads it. */
static int roundtrip_request(const struct ctl_request *q, struct ctl_request *out)
{
	uint8_t *buf = malloc(WIRE_MAX_FRAME);
	struct wire_frame f;
	int sp[2], rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	assert_int_equal(ctl_request_send(sp[0], q), 0);
	assert_int_equal(wire_recv(sp[1], buf, &f, 0), 1);
	rc = ctl_request_decode(&f, out);
	close(sp[0]);
	close(sp[1]);
	free(buf);
	return rc;
}

static void test_requests(void **state)
{
	struct ctl_request q = { .type = W_ADM_POOL, .action = CTL_POOL_RECYCLE, .pool = "web" };
	struct ctl_request d;

	(void)state;
	assert_int_equal(roundtrip_request(&q, &d), 0);
	assert_int_equal(d.action, CTL_POOL_RECYCLE);
	assert_string_equal(d.pool, "web");
	q.action = 9; /* no such action */
	assert_int_equal(roundtrip_request(&q, &d), -1);
	q.action = CTL_POOL_STOP;
	strcpy(q.pool, "../etc"); /* not a pool name */
	assert_int_equal(roundtrip_request(&q, &d), -1);
	q = (struct ctl_request){ .type = W_ADM_STATUS };
	assert_int_equal(roundtrip_request(&q, &d), 0);
	q.type = W_ADM_REOPEN;
	assert_int_equal(roundtrip_request(&q, &d), 0);
	assert_int_equal(d.type, W_ADM_REOPEN);
	q.type = 99; /* unknown */
	assert_int_equal(roundtrip_request(&q, &d), -1);
}

static void test_request_payload_where_none_belongs(void **state)
{
	struct wire_frame f = { .type = W_ADM_STATUS, .len = 1, .payload = (const uint8_t *)"x" };
	struct ctl_request d;

	(void)state;
	assert_int_equal(ctl_request_decode(&f, &d), -1);
	f.type = W_ADM_REOPEN;
	assert_int_equal(ctl_request_decode(&f, &d), -1);
	f.type = W_ADM_STATUS;
	f.len = 0;
	f.flags = 1; /* no flag is defined */
	assert_int_equal(ctl_request_decode(&f, &d), -1);
}

static void test_ok_and_error(void **state)
{
	struct wbuf b;
	const char *msg;
	uint32_t pid, old, code;

	(void)state;
	wb_init(&b);
	wb_str(&b, "pool a: worker 5 serves");
	wb_u32(&b, 5);
	wb_u32(&b, 4);
	assert_int_equal(ctl_ok_decode(b.p, b.len, &msg, &pid, &old), 0);
	assert_int_equal(pid, 5);
	assert_int_equal(old, 4);
	assert_int_equal(ctl_ok_decode(b.p, b.len - 1, &msg, &pid, &old), -1);
	assert_int_equal(ctl_error_decode(b.p, b.len, &code, &msg), -1);
	wb_free(&b);
}

/* The exposition text: values of a known configuration after known counts. */
static void test_metrics_text(void **state)
{
	struct diag d = { 0 };
	struct config *c = config_load_string(
		"t.conf",
		"[server]\nuser = daemon\n[pool default]\nuser = nobody\n"
		"[vdir /a]\nauth = anonymous\nroot = /tmp\n[vdir /q\"x]\nauth = anonymous\nroot = /tmp\n",
		&d, false);
	struct m_live live = { .in_flight = 7 };
	struct m_request r = { .vdir = 0, .status = 200, .duration_us = 3000,
			       .ran = M_RAN_AS_POOL };
	struct sbuf b;

	(void)state;
	assert_non_null(c);
	metrics_init(c, 2);
	metrics_bind_loop(1);
	metrics_count(&r);
	metrics_count(&r);
	r = (struct m_request){ .vdir = -1, .status = 404, .duration_us = 2000000,
				.auth = M_AUTH_REPLAY };
	metrics_count(&r);
	sb_init(&b);
	metrics_render(&b, &live);
	/* vdirs are sorted longest first: index 0 is /q"x, its quote escaped */
	assert_non_null(strstr(b.s, "\nidgate_requests_total{vdir=\"/q\\\"x\",status=\"200\"} 2\n"));
	assert_non_null(strstr(b.s, "\nidgate_requests_total{vdir=\"(none)\",status=\"404\"} 1\n"));
	assert_non_null(strstr(b.s, "\nidgate_auth_total{result=\"replay\"} 1\n"));
	assert_non_null(strstr(b.s, "\nidgate_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
	assert_non_null(strstr(b.s, "\nidgate_request_duration_seconds_bucket{le=\"2.5\"} 3\n"));
	assert_non_null(strstr(b.s, "\nidgate_request_duration_seconds_sum 2.006000\n"));
	assert_non_null(strstr(b.s, "\nidgate_requests_in_flight 7\n"));
	assert_non_null(strstr(b.s, "\nidgate_pool_requests_total{pool=\"default\"} 2\n"));
	assert_non_null(strstr(b.s, "\\\"")); /* the quote of the vdir /q"x is escaped */
	assert_null(strstr(b.s, "/q\"x"));
	sb_free(&b);
	config_free(c);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_roundtrip),
		cmocka_unit_test(test_status_truncated_and_overlong),
		cmocka_unit_test(test_status_lies),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_request_payload_where_none_belongs),
		cmocka_unit_test(test_ok_and_error),
		cmocka_unit_test(test_metrics_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
