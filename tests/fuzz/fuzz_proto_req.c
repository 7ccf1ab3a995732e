/* fuzz_proto_req.c -- the request channel between the front end and a pool
 * worker (src/proto/reqmsg.c): a worker decodes REQ_HEAD and checks
 * REQ_BODY, REQ_END and REQ_ABORT; the front end decodes RESP_HEAD and
 * RESP_END and checks RESP_BODY from a worker, which may run a
 * compromised handler.
 *
 * Input: fuzz_proto.h's frame; which % 6 picks the decoder.  Properties:
 * an accepted frame has the type, flags and descriptors its decoder is
 * for; every string is inside the payload; a head's fields are in range
 * (method a token, path absolute, level, auth type, TLS, impersonation and
 * port as the enums and TCP allow, at most WIRE_MAX_HEADERS headers, each
 * a token and a field value; a status 100-599, an inline body exactly as
 * long as the length says, a descriptor's body of known length); and the
 * payload encodes back to exactly its bytes. */
#include "fuzz_proto.h"
#include "idgate/module.h"
#include "reqmsg.h"

static void check_hdrs(const struct wire_frame *f, const struct wire_hdr *h, uint32_t n)
{
	FZ_CHECK(n <= WIRE_MAX_HEADERS);
	for (uint32_t i = 0; i < n; i++) {
		FZP_IN(f, h[i].name);
		FZP_IN(f, h[i].value);
		FZ_CHECK(http_token_ok(h[i].name) && http_value_ok(h[i].value));
	}
}

static void req_head(const struct wire_frame *f, unsigned more)
{
	struct wire_req q;
	struct wbuf b;

	(void)more;
	if (reqm_head_decode(f, &q) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_REQ_HEAD, W_REQ_END_TOO, 0));
	FZ_CHECK(http_token_ok(q.method) && q.path[0] == '/');
	FZ_CHECK(q.level <= IDG_LEVEL_DELEGATION && q.auth_type <= W_AUTH_BASIC);
	FZ_CHECK(q.tls <= 1 && q.impersonate <= 1 && q.client_port <= 65535);
	FZP_IN(f, q.method);
	FZP_IN(f, q.path);
	FZP_IN(f, q.query);
	FZP_IN(f, q.version);
	FZP_IN(f, q.request_id);
	FZP_IN(f, q.client_addr);
	FZP_IN(f, q.host);
	FZP_IN_OR_NULL(f, q.principal);
	FZP_IN_OR_NULL(f, q.user);
	FZ_CHECK(!q.creds || q.creds_len == 0 ||
		 ((const uint8_t *)q.creds >= f->payload &&
		  (const uint8_t *)q.creds + q.creds_len <= f->payload + f->len));
	check_hdrs(f, q.hdrs, q.nhdrs);
	wb_init(&b);
	wire_req_encode(&b, &q);
	fzp_same(&b, f);
	free(q.hdrs);
}

static void resp_head(const struct wire_frame *f, unsigned more)
{
	struct wire_resp r;
	struct wbuf b;
	bool has_fd = f->flags & W_RESP_FD, inline_body = f->flags & W_RESP_INLINE;

	(void)more;
	if (reqm_resp_head_decode(f, &r) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_RESP_HEAD, W_RESP_FD | W_RESP_END_TOO | W_RESP_INLINE,
			      has_fd ? 1 : 0));
	FZ_CHECK(!(has_fd && inline_body));
	FZ_CHECK(r.status >= 100 && r.status <= 599);
	FZ_CHECK(inline_body == (r.body != NULL));
	FZ_CHECK(!inline_body || r.length == r.body_len);
	FZ_CHECK(!has_fd || r.length != WIRE_LEN_UNKNOWN);
	FZ_CHECK(!r.body || ((const uint8_t *)r.body >= f->payload &&
			     (const uint8_t *)r.body + r.body_len <= f->payload + f->len));
	FZP_IN_OR_NULL(f, r.reason);
	check_hdrs(f, r.hdrs, r.nhdrs);
	wb_init(&b);
	wire_resp_encode(&b, &r);
	fzp_same(&b, f);
	free(r.hdrs);
}

static void resp_end(const struct wire_frame *f, unsigned more)
{
	const char *reason;
	bool error;
	struct wbuf b;

	(void)more;
	if (reqm_resp_end_decode(f, &reason, &error) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_RESP_END, W_RESP_END_ERROR, 0));
	FZ_CHECK(error == ((f->flags & W_RESP_END_ERROR) != 0));
	FZP_IN_OR_NULL(f, reason);
	wb_init(&b);
	reqm_resp_end_encode(&b, reason);
	fzp_same(&b, f);
}

/* The frames without a payload of their own to decode. */
static void req_body(const struct wire_frame *f, unsigned more)
{
	(void)more;
	if (reqm_body_check(f) == 0)
		FZ_CHECK(fzp_frame_is(f, W_REQ_BODY, 0, 0));
}

static void req_end(const struct wire_frame *f, unsigned more)
{
	(void)more;
	if (reqm_end_check(f) == 0)
		FZ_CHECK((fzp_frame_is(f, W_REQ_END, 0, 0) || fzp_frame_is(f, W_REQ_ABORT, 0, 0)) &&
			 f->len == 0);
}

static void resp_body(const struct wire_frame *f, unsigned more)
{
	(void)more;
	if (reqm_resp_body_check(f) == 0)
		FZ_CHECK(fzp_frame_is(f, W_RESP_BODY, 0, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fzp_check checks[] = { req_head, resp_head, resp_end,
					    req_body, req_end, resp_body };

	return fzp_run(data, size, checks, sizeof(checks) / sizeof(checks[0]));
}
