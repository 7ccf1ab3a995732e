/* test_proto_ctlmsg.c -- the supervisor <-> children control messages
 * (ctlmsg.h): round trips, and every truncation, trailing byte, wrong
 * descriptor count and out-of-range value refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctlmsg.h"
#include "ctlproto.h"
#include "prototest.h"

#define NPOOLS 3

static int dec_channels(const struct wire_frame *f, void *out)
{
	return ctlm_channels_decode(f, NPOOLS, out);
}

static void test_channels(void **state)
{
	struct ctlm_channels m = { .pool = 2, .tag = 77 }, d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	ctlm_channels_encode(&b, &m);
	proto_check_framing_fds(dec_channels, &d, W_CTL_CHANNELS, 0, &b, 3, false);
	assert_int_equal(d.pool, 2);
	assert_int_equal(d.tag, 77);
	/* one to sixteen channels per message: none is a lie, so is a 17th */
	struct wire_frame f = proto_frame(W_CTL_CHANNELS, 0, b.p, b.len, 0);
	assert_int_equal(dec_channels(&f, &d), -1);
	f = proto_frame(W_CTL_CHANNELS, 0, b.p, b.len, WIRE_MAX_FDS);
	assert_int_equal(dec_channels(&f, &d), 0);
	f.nfds = WIRE_MAX_FDS + 1;
	assert_int_equal(dec_channels(&f, &d), -1);
	/* a pool the front end does not have */
	assert_int_equal(proto_decode_with_u32(dec_channels, &d, W_CTL_CHANNELS, 0, &b, 1, 0,
					       NPOOLS), -1);
	assert_int_equal(proto_decode_with_u32(dec_channels, &d, W_CTL_CHANNELS, 0, &b, 1, 0,
					       UINT32_MAX), -1);
	wb_free(&b);
}

static int dec_authsock(const struct wire_frame *f, void *out)
{
	return ctlm_authsock_decode(f, 4, out);
}

/* One channel to the authenticator per front-end loop: the loop's index,
 * below the number of loops. */
static void test_authsock(void **state)
{
	uint32_t loop = 9;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	ctlm_authsock_encode(&b, 3);
	proto_check_framing(dec_authsock, &loop, W_CTL_AUTHSOCK, 0, &b, 1);
	assert_int_equal(loop, 3);
	wb_free(&b);
	wb_init(&b);
	ctlm_authsock_encode(&b, 4); /* there are 4 loops: 0..3 */
	struct wire_frame f = proto_frame(W_CTL_AUTHSOCK, 0, b.p, b.len, 1);
	assert_int_equal(ctlm_authsock_decode(&f, 4, &loop), -1);
	wb_free(&b);
}

static int dec_pamsock(const struct wire_frame *f, void *out)
{
	(void)out;
	return ctlm_pamsock_decode(f);
}

static int dec_keytab(const struct wire_frame *f, void *out)
{
	(void)out;
	return ctlm_keytab_decode(f);
}

/* The authenticator's: the PAM helper's socket, the keytab changed. */
static void test_pamsock_and_keytab(void **state)
{
	struct wbuf b;

	(void)state;
	wb_init(&b);
	proto_check_framing(dec_pamsock, NULL, W_CTL_PAMSOCK, 0, &b, 1);
	proto_check_framing(dec_keytab, NULL, W_CTL_KEYTAB, 0, &b, 1);
	wb_u32(&b, 0);
	struct wire_frame f = proto_frame(W_CTL_PAMSOCK, 0, b.p, b.len, 1);
	assert_int_equal(ctlm_pamsock_decode(&f), -1);
	f = proto_frame(W_CTL_KEYTAB, 0, b.p, b.len, 1);
	assert_int_equal(ctlm_keytab_decode(&f), -1);
	wb_free(&b);
}

static int dec_state(const struct wire_frame *f, void *out)
{
	return ctlm_pool_state_decode(f, NPOOLS, out);
}

static void test_pool_state(void **state)
{
	struct ctlm_pool_state m = { .pool = 1, .retry_after = 60, .state = CTL_STATE_DISABLED,
				     .restarts = 5 }, d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	ctlm_pool_state_encode(&b, &m);
	proto_check_framing(dec_state, &d, W_CTL_POOL_STATE, 0, &b, 0);
	assert_int_equal(d.pool, 1);
	assert_int_equal(d.retry_after, 60);
	assert_int_equal(d.state, CTL_STATE_DISABLED);
	assert_int_equal(d.restarts, 5);
	/* pool out of range, a state the enum lacks */
	assert_int_equal(proto_decode_with_u32(dec_state, &d, W_CTL_POOL_STATE, 0, &b, 0, 0,
					       NPOOLS), -1);
	assert_int_equal(proto_decode_with_u32(dec_state, &d, W_CTL_POOL_STATE, 0, &b, 0, 8,
					       CTL_STATE_MAX + 1), -1);
	/* Retry-After and the state must agree: off pools have one, others not */
	assert_int_equal(proto_decode_with_u32(dec_state, &d, W_CTL_POOL_STATE, 0, &b, 0, 4, 0),
			 -1);
	assert_int_equal(proto_decode_with_u32(dec_state, &d, W_CTL_POOL_STATE, 0, &b, 0, 8,
					       CTL_STATE_SERVING), -1);
	assert_int_equal(proto_decode_with_u32(dec_state, &d, W_CTL_POOL_STATE, 0, &b, 0, 8,
					       CTL_STATE_STOPPED), 0);
	wb_free(&b);
	m = (struct ctlm_pool_state){ .pool = 0, .state = CTL_STATE_STARTING };
	wb_init(&b);
	ctlm_pool_state_encode(&b, &m);
	proto_check_framing(dec_state, &d, W_CTL_POOL_STATE, 0, &b, 0);
	assert_int_equal(proto_decode_with_u32(dec_state, &d, W_CTL_POOL_STATE, 0, &b, 0, 4, 60),
			 -1);
	wb_free(&b);
}

static int dec_retire(const struct wire_frame *f, void *out)
{
	return ctlm_pool_retire_decode(f, NPOOLS, out);
}

static void test_pool_retire(void **state)
{
	struct ctlm_pool_retire m = { .pool = 0, .tag = 9 }, d;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	ctlm_pool_retire_encode(&b, &m);
	proto_check_framing(dec_retire, &d, W_CTL_POOL_RETIRE, 0, &b, 0);
	assert_int_equal(d.tag, 9);
	assert_int_equal(proto_decode_with_u32(dec_retire, &d, W_CTL_POOL_RETIRE, 0, &b, 0, 0,
					       NPOOLS), -1);
	wb_free(&b);
}

static int dec_query(const struct wire_frame *f, void *out)
{
	return ctlm_stats_query_decode(f, out);
}

static void test_stats_query(void **state)
{
	struct wbuf b;
	uint32_t tag = 0;

	(void)state;
	wb_init(&b);
	ctlm_stats_query_encode(&b, 4242);
	proto_check_framing(dec_query, &tag, W_CTL_STATS_QUERY, 0, &b, 0);
	assert_int_equal(tag, 4242);
	wb_free(&b);
}

struct stats_out {
	uint32_t tag;
	struct ctlm_pool_load load[NPOOLS];
};

static int dec_stats(const struct wire_frame *f, void *out)
{
	struct stats_out *o = out;

	return ctlm_stats_decode(f, NPOOLS, &o->tag, o->load);
}

static void test_stats(void **state)
{
	struct ctlm_pool_load load[NPOOLS] = { { 10, 1, 0 }, { 0, 0, 0 }, { 1ull << 40, 8, 3 } };
	struct stats_out o;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	ctlm_stats_encode(&b, 7, load, NPOOLS);
	proto_check_framing(dec_stats, &o, W_CTL_STATS, 0, &b, 0);
	assert_int_equal(o.tag, 7);
	assert_true(o.load[2].requests == 1ull << 40);
	assert_int_equal(o.load[2].busy, 8);
	assert_int_equal(o.load[2].queued, 3);
	/* a pool count other than ours: fewer, more, absurd */
	assert_int_equal(proto_decode_with_u32(dec_stats, &o, W_CTL_STATS, 0, &b, 0, 4, 2), -1);
	assert_int_equal(proto_decode_with_u32(dec_stats, &o, W_CTL_STATS, 0, &b, 0, 4, 4), -1);
	assert_int_equal(proto_decode_with_u32(dec_stats, &o, W_CTL_STATS, 0, &b, 0, 4,
					       UINT32_MAX), -1);
	wb_free(&b);
}

static int dec_logs(const struct wire_frame *f, void *out)
{
	return ctlm_logs_decode(f, out);
}

static void test_logs(void **state)
{
	uint32_t which = 0;
	struct wbuf b;

	(void)state;
	wb_init(&b);
	ctlm_logs_encode(&b, W_LOG_AUDIT | W_LOG_ACCESS);
	proto_check_framing(dec_logs, &which, W_CTL_LOGS, 0, &b, 2);
	assert_int_equal(which, W_LOG_AUDIT | W_LOG_ACCESS);
	/* one bit, one descriptor; no bit, or an unknown one, refused */
	assert_int_equal(proto_decode_with_u32(dec_logs, &which, W_CTL_LOGS, 0, &b, 1, 0,
					       W_LOG_ACCESS), 0);
	assert_int_equal(proto_decode_with_u32(dec_logs, &which, W_CTL_LOGS, 0, &b, 2, 0,
					       W_LOG_ACCESS), -1);
	assert_int_equal(proto_decode_with_u32(dec_logs, &which, W_CTL_LOGS, 0, &b, 0, 0, 0), -1);
	assert_int_equal(proto_decode_with_u32(dec_logs, &which, W_CTL_LOGS, 0, &b, 1, 0, 0x4),
			 -1);
	assert_int_equal(proto_decode_with_u32(dec_logs, &which, W_CTL_LOGS, 0, &b, 3, 0, 0x7),
			 -1);
	wb_free(&b);
}

static int dec_ready(const struct wire_frame *f, void *out)
{
	(void)out;
	return ctlm_ready_decode(f);
}

static void test_ready(void **state)
{
	struct wbuf b;

	(void)state;
	wb_init(&b);
	proto_check_framing(dec_ready, NULL, W_CTL_READY, 0, &b, 0);
	wb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channels),    cmocka_unit_test(test_authsock),
		cmocka_unit_test(test_pamsock_and_keytab),
		cmocka_unit_test(test_pool_state),  cmocka_unit_test(test_pool_retire),
		cmocka_unit_test(test_stats_query), cmocka_unit_test(test_stats),
		cmocka_unit_test(test_logs),        cmocka_unit_test(test_ready),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
