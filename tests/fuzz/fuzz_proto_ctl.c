/* fuzz_proto_ctl.c -- the control channel between the supervisor and its
 * children (src/proto/ctlmsg.c): the front end decodes CTL_CHANNELS,
 * CTL_AUTHSOCK, CTL_POOL_STATE, CTL_POOL_RETIRE, CTL_STATS_QUERY and
 * CTL_LOGS from the supervisor; the supervisor (root) decodes CTL_READY
 * and CTL_STATS from children that may have been taken over.
 *
 * Input: fuzz_proto.h's frame; which % 9 picks the decoder, which / 9 % 5
 * the number of pools.  Properties: an accepted frame has the type, flags
 * and descriptors its decoder is for; a pool index is below the number of
 * pools, a state one of the enum's, a Retry-After exactly when the pool is
 * off, log bits W_LOG_AUDIT and W_LOG_ACCESS with one descriptor each; the
 * payload encodes back to exactly its bytes.  And the other way: a pool
 * state made of the payload's numbers, encoded, is accepted exactly when
 * those properties hold, and decodes to the same numbers. */
#include "ctlmsg.h"
#include "ctlproto.h"
#include "fuzz_proto.h"

#define MAX_POOLS 4

static void channels(const struct wire_frame *f, unsigned more)
{
	uint32_t npools = more % (MAX_POOLS + 1);
	struct ctlm_channels m;
	struct wbuf b;

	if (ctlm_channels_decode(f, npools, &m) < 0)
		return;
	FZ_CHECK(f->type == W_CTL_CHANNELS && !f->flags && f->nfds >= 1);
	FZ_CHECK(m.pool < npools);
	wb_init(&b);
	ctlm_channels_encode(&b, &m);
	fzp_same(&b, f);
}

static bool off(uint32_t state)
{
	return state == CTL_STATE_DISABLED || state == CTL_STATE_STOPPED;
}

static void pool_state(const struct wire_frame *f, unsigned more)
{
	uint32_t npools = more % (MAX_POOLS + 1);
	struct ctlm_pool_state m;
	struct wbuf b;

	if (ctlm_pool_state_decode(f, npools, &m) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_CTL_POOL_STATE, 0, 0));
	FZ_CHECK(m.pool < npools && m.state <= CTL_STATE_MAX && off(m.state) == (m.retry_after != 0));
	wb_init(&b);
	ctlm_pool_state_encode(&b, &m);
	fzp_same(&b, f);
}

/* Encoded from numbers, then decoded: accepted exactly when they are valid. */
static void pool_state_made(const struct wire_frame *f, unsigned more)
{
	uint32_t npools = more % (MAX_POOLS + 1);
	struct ctlm_pool_state in, out;
	struct wire_frame g = { .type = W_CTL_POOL_STATE };
	struct wbuf b;
	uint32_t v[5] = { 0 };

	memcpy(v, f->payload, f->len < sizeof(v) ? f->len : sizeof(v));
	in = (struct ctlm_pool_state){ .pool = v[0] % 8, .retry_after = v[1] % 3,
				       .state = v[2] % 6, .restarts = (uint64_t)v[3] << 32 | v[4] };
	wb_init(&b);
	ctlm_pool_state_encode(&b, &in);
	g.payload = b.p;
	g.len = (uint32_t)b.len;
	bool valid = in.pool < npools && in.state <= CTL_STATE_MAX &&
		     off(in.state) == (in.retry_after != 0);
	FZ_CHECK((ctlm_pool_state_decode(&g, npools, &out) == 0) == valid);
	if (valid)
		FZ_CHECK(out.pool == in.pool && out.retry_after == in.retry_after &&
			 out.state == in.state && out.restarts == in.restarts);
	wb_free(&b);
}

static void pool_retire(const struct wire_frame *f, unsigned more)
{
	uint32_t npools = more % (MAX_POOLS + 1);
	struct ctlm_pool_retire m;
	struct wbuf b;

	if (ctlm_pool_retire_decode(f, npools, &m) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_CTL_POOL_RETIRE, 0, 0) && m.pool < npools);
	wb_init(&b);
	ctlm_pool_retire_encode(&b, &m);
	fzp_same(&b, f);
}

static void stats_query(const struct wire_frame *f, unsigned more)
{
	uint32_t tag;
	struct wbuf b;

	(void)more;
	if (ctlm_stats_query_decode(f, &tag) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_CTL_STATS_QUERY, 0, 0));
	wb_init(&b);
	ctlm_stats_query_encode(&b, tag);
	fzp_same(&b, f);
}

static void stats(const struct wire_frame *f, unsigned more)
{
	uint32_t npools = more % (MAX_POOLS + 1);
	struct ctlm_pool_load load[MAX_POOLS + 1];
	uint32_t tag;
	struct wbuf b;

	load[npools].busy = 0xdeadbeef; /* past the pools: never written */
	if (ctlm_stats_decode(f, npools, &tag, load) < 0) {
		FZ_CHECK(load[npools].busy == 0xdeadbeef);
		return;
	}
	FZ_CHECK(fzp_frame_is(f, W_CTL_STATS, 0, 0) && load[npools].busy == 0xdeadbeef);
	FZ_CHECK(f->len == 8 + (size_t)npools * 16);
	wb_init(&b);
	ctlm_stats_encode(&b, tag, load, npools);
	fzp_same(&b, f);
}

static void logs(const struct wire_frame *f, unsigned more)
{
	uint32_t which;
	struct wbuf b;

	(void)more;
	if (ctlm_logs_decode(f, &which) < 0)
		return;
	FZ_CHECK(f->type == W_CTL_LOGS && !f->flags);
	FZ_CHECK(which && !(which & ~(W_LOG_AUDIT | W_LOG_ACCESS)));
	FZ_CHECK(f->nfds == (which == (W_LOG_AUDIT | W_LOG_ACCESS) ? 2u : 1u));
	wb_init(&b);
	ctlm_logs_encode(&b, which);
	fzp_same(&b, f);
}

/* CTL_AUTHSOCK names a loop below the number of loops (`more` of them);
 * CTL_PAMSOCK and CTL_KEYTAB carry a descriptor and nothing else */
static void authsock(const struct wire_frame *f, unsigned more)
{
	uint32_t loop, n = more % 64 + 1;
	struct wbuf b;

	if (ctlm_authsock_decode(f, n, &loop) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_CTL_AUTHSOCK, 0, 1) && loop < n);
	wb_init(&b);
	ctlm_authsock_encode(&b, loop);
	fzp_same(&b, f);
}

static void no_payload(const struct wire_frame *f, unsigned more)
{
	(void)more;
	if (ctlm_pamsock_decode(f) == 0)
		FZ_CHECK(fzp_frame_is(f, W_CTL_PAMSOCK, 0, 1) && f->len == 0);
	if (ctlm_keytab_decode(f) == 0)
		FZ_CHECK(fzp_frame_is(f, W_CTL_KEYTAB, 0, 1) && f->len == 0);
	if (ctlm_ready_decode(f) == 0)
		FZ_CHECK(fzp_frame_is(f, W_CTL_READY, 0, 0) && f->len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fzp_check checks[] = { channels, pool_state, pool_state_made, pool_retire, stats_query, stats, logs, no_payload, authsock };

	return fzp_run(data, size, checks, sizeof(checks) / sizeof(checks[0]));
}
