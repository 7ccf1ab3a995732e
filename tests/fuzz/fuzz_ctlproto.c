/* fuzz_ctlproto.c -- the control socket between idgatectl and the
 * supervisor (src/proto/ctlproto.c): the supervisor, root, decodes
 * idgatectl's requests (any local user may connect; the supervisor checks
 * who after decoding); idgatectl decodes the supervisor's status, ok and
 * error replies.
 *
 * Input: fuzz_proto.h's frame; which % 4 picks the decoder (the replies'
 * decoders take the payload only).  Properties: an accepted request came
 * without flags or descriptors, is one the supervisor knows, without a
 * payload but for W_ADM_POOL, whose action is start, stop or recycle and
 * whose pool name is one the configuration allows; a status reply has at
 * most CTL_MAX_POOLS pools, each with a valid name, a known state and at
 * most CTL_MAX_DRAINING old workers, every string inside the payload, and
 * encodes back to exactly its bytes; an ok or error reply is its fields
 * and nothing more. */
#include "ctlproto.h"
#include "fuzz_proto.h"

static void request(const struct wire_frame *f, unsigned more)
{
	struct ctl_request q;
	struct wbuf b;

	(void)more;
	if (ctl_request_decode(f, &q) < 0)
		return;
	FZ_CHECK(!f->flags && !f->nfds && q.type == f->type);
	if (f->type != W_ADM_POOL) {
		FZ_CHECK(f->len == 0);
		FZ_CHECK(f->type == W_ADM_STATUS || f->type == W_ADM_RELOAD ||
			 f->type == W_ADM_CHECK || f->type == W_ADM_REOPEN);
		return;
	}
	FZ_CHECK(q.action >= CTL_POOL_START && q.action <= CTL_POOL_RECYCLE);
	FZ_CHECK(ctl_pool_name_ok(q.pool) && strlen(q.pool) <= CTL_NAME_MAX);
	/* what ctl_request_send writes */
	wb_init(&b);
	wb_u32(&b, q.action);
	wb_str(&b, q.pool);
	fzp_same(&b, f);
}

static void status(const struct wire_frame *f, unsigned more)
{
	struct ctl_status st;
	struct wbuf b;

	(void)more;
	if (ctl_status_decode(f->payload, f->len, &st) < 0)
		return;
	FZ_CHECK(st.npools <= CTL_MAX_POOLS);
	FZP_IN(f, st.version);
	FZP_IN(f, st.config);
	for (uint32_t i = 0; i < st.npools; i++) {
		FZ_CHECK(ctl_pool_name_ok(st.pools[i].name));
		FZP_IN(f, st.pools[i].name);
		FZP_IN(f, st.pools[i].user);
		FZ_CHECK(st.pools[i].state <= CTL_STATE_MAX);
		FZ_CHECK(st.pools[i].ndraining <= CTL_MAX_DRAINING);
	}
	wb_init(&b);
	ctl_status_encode(&b, &st);
	fzp_same(&b, f);
	free(st.pools);
}

static void ok(const struct wire_frame *f, unsigned more)
{
	const char *message;
	uint32_t pid, old_pid;
	struct wbuf b;

	(void)more;
	if (ctl_ok_decode(f->payload, f->len, &message, &pid, &old_pid) < 0)
		return;
	FZP_IN(f, message);
	/* what ctl_send_ok writes */
	wb_init(&b);
	wb_str(&b, message);
	wb_u32(&b, pid);
	wb_u32(&b, old_pid);
	fzp_same(&b, f);
}

static void error(const struct wire_frame *f, unsigned more)
{
	const char *message;
	uint32_t code;
	struct wbuf b;

	(void)more;
	if (ctl_error_decode(f->payload, f->len, &code, &message) < 0)
		return;
	FZP_IN(f, message);
	/* what ctl_send_error writes */
	wb_init(&b);
	wb_u32(&b, code);
	wb_str(&b, message);
	fzp_same(&b, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fzp_check checks[] = { request, status, ok, error };

	return fzp_run(data, size, checks, sizeof(checks) / sizeof(checks[0]));
}
