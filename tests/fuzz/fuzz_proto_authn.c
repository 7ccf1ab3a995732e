/* fuzz_proto_authn.c -- the channel between the front end and the
 * authenticator (src/proto/authnmsg.c), and the verdict it seals for the
 * pool workers (src/proto/verdict.c): the authenticator reads the front
 * end's AUTHN_REQ and AUTHN_CONN_END (the front end may have been taken
 * over), the front end reads the authenticator's AUTHN_REPLY, and a pool
 * worker opens whatever bytes a front end put in a request head.
 *
 * Input: fuzz_proto.h's frame; which % 4 picks the reader, which / 4 the
 * number of vdirs (1-16).  Properties: an accepted frame has its type, no
 * flags, no descriptor, every string inside the payload, values in range
 * (a vdir below the count, a path with its '/', at most AUTHN_MAX_COOKIES
 * cookies and AUTHN_MAX_HEADERS headers, each a token and a value), and
 * encodes back to exactly its bytes.  A verdict: bytes not sealed with
 * the worker's key never open (the key is random per run, as a
 * generation's), and a verdict sealed with it opens to what was sealed. */
#include <string.h>
#include <sys/random.h>

#include "authnmsg.h"
#include "fuzz_proto.h"
#include "idgate/module.h"
#include "verdict.h"

static void request(const struct wire_frame *f, unsigned more)
{
	uint32_t nvdirs = more % 16 + 1;
	struct authn_request q;
	bool has_tag;
	struct wbuf b;

	if (authn_request_decode(f, nvdirs, &q, &has_tag) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_AUTHN_REQ, 0, 0));
	FZ_CHECK(q.vdir < nvdirs && q.tls <= 1 && q.path[0] == '/');
	FZ_CHECK(q.ncookies <= AUTHN_MAX_COOKIES);
	FZP_IN(f, q.request_id);
	FZP_IN(f, q.method);
	FZP_IN(f, q.path);
	FZP_IN(f, q.client);
	FZP_IN_OR_NULL(f, q.authorization);
	for (uint32_t i = 0; i < q.ncookies; i++)
		FZP_IN(f, q.cookies[i]);
	wb_init(&b);
	authn_request_encode(&b, &q);
	fzp_same(&b, f);
}

static void reply(const struct wire_frame *f, unsigned more)
{
	struct authn_reply r;
	struct wbuf b;

	(void)more;
	if (authn_reply_decode(f, &r) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_AUTHN_REPLY, 0, 0));
	FZ_CHECK(r.status == 0 || (r.status >= 400 && r.status <= 599));
	FZ_CHECK(r.outcome < M_AUTH_COUNT && r.level <= IDG_LEVEL_DELEGATION &&
		 r.scheme < AUTHN_SCHEME_COUNT && r.nhdrs <= AUTHN_MAX_HEADERS);
	for (uint32_t i = 0; i < r.nhdrs; i++)
		FZ_CHECK(http_token_ok(r.hdrs[i].name) && http_value_ok(r.hdrs[i].value));
	FZP_IN(f, r.reason);
	FZP_IN_OR_NULL(f, r.principal);
	FZP_IN_OR_NULL(f, r.user);
	wb_init(&b);
	authn_reply_encode(&b, &r);
	fzp_same(&b, f);
}

static void conn_end(const struct wire_frame *f, unsigned more)
{
	uint64_t id;
	struct wbuf b;

	(void)more;
	if (authn_conn_end_decode(f, &id) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_AUTHN_CONN_END, 0, 0));
	wb_init(&b);
	authn_conn_end_encode(&b, id);
	fzp_same(&b, f);
}

/* A front end's bytes where a verdict goes: none opens without the key;
 * and the same bytes as the plaintext of a real seal open, when they
 * decode at all, to a verdict that seals and opens again the same. */
static void verdict(const struct wire_frame *f, unsigned more)
{
	static uint8_t key[VERDICT_KEY_LEN], plain[WIRE_MAX_PAYLOAD + 64];
	static bool keyed;
	struct verdict v, again;
	struct wbuf b;
	char why[200];

	(void)more;
	if (!keyed)
		keyed = verdict_new_key(key) == 0;
	FZ_CHECK(verdict_open(key, f->payload, f->len, plain, &v, why, sizeof(why)) < 0);
	v = (struct verdict){ .kind = VERDICT_REQUEST, .request_id = "r", .method = "GET",
			      .path = "/", .uid = (uint32_t)-1, .gid = (uint32_t)-1,
			      .creds = f->payload, .creds_len = f->len };
	if (f->len > WIRE_MAX_PAYLOAD - 512 || verdict_seal(key, &v, &b) < 0)
		return;
	FZ_CHECK(verdict_open(key, b.p, b.len, plain, &again, why, sizeof(why)) == 0);
	FZ_CHECK(again.creds_len == f->len && !memcmp(again.creds, f->payload, f->len));
	wb_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fzp_check checks[] = { request, reply, conn_end, verdict };

	return fzp_run(data, size, checks, sizeof(checks) / sizeof(checks[0]));
}
