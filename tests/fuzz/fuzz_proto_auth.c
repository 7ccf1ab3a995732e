/* fuzz_proto_auth.c -- the channel between the front end and the PAM
 * helper (src/proto/authmsg.c): the helper, root, reads the front end's
 * AUTH_ACCT and AUTH_PASS questions (authhelper_read_question: the codec,
 * then a valid user name and bounded fields); the front end decodes the
 * helper's AUTH_RESULT.
 *
 * Input: fuzz_proto.h's frame; which % 2 picks the side.  Properties: an
 * accepted question came without descriptors or flags, as AUTH_ACCT (no
 * password) or AUTH_PASS (a password), for a user name PAM may be given,
 * with a host and password within bounds, every string inside the
 * payload, and encodes back to exactly its bytes; a refused one still
 * reports its tag exactly when the payload holds one (it gets its answer).
 * An accepted answer has a PAM code or AUTH_ANSWER_INVALID and encodes
 * back to its bytes. */
#include "authhelper.h"
#include "fuzz_proto.h"

static void question(const struct wire_frame *f, unsigned more)
{
	struct authm_question q;
	bool has_tag = false;
	const char *bad = authhelper_read_question(f, &q, &has_tag);
	struct wbuf b;

	(void)more;
	FZ_CHECK(has_tag == (f->len >= 8));
	if (has_tag) {
		uint64_t tag;
		memcpy(&tag, f->payload, 8);
		FZ_CHECK(q.tag == tag);
	}
	if (bad)
		return;
	FZ_CHECK(fzp_frame_is(f, W_AUTH_ACCT, 0, 0) || fzp_frame_is(f, W_AUTH_PASS, 0, 0));
	FZ_CHECK(q.op == f->type && (q.password != NULL) == (f->type == W_AUTH_PASS));
	FZ_CHECK(auth_user_name_ok(q.user) && strlen(q.user) <= AUTH_MAX_USER);
	FZ_CHECK(strlen(q.rhost) <= AUTH_MAX_RHOST);
	FZ_CHECK(!q.password || strlen(q.password) <= AUTH_MAX_PASSWORD);
	FZP_IN(f, q.user);
	FZP_IN(f, q.rhost);
	FZP_IN_OR_NULL(f, q.password);
	wb_init(&b);
	authm_question_encode(&b, &q);
	fzp_same(&b, f);
}

static void answer(const struct wire_frame *f, unsigned more)
{
	struct authm_result r;
	struct wbuf b;

	(void)more;
	if (authm_result_decode(f, &r) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_AUTH_RESULT, 0, 0));
	FZ_CHECK(r.code == AUTH_ANSWER_INVALID || (r.code >= 0 && r.code <= AUTHM_MAX_CODE));
	FZP_IN(f, r.message);
	wb_init(&b);
	authm_result_encode(&b, &r);
	fzp_same(&b, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fzp_check checks[] = { question, answer };

	return fzp_run(data, size, checks, sizeof(checks) / sizeof(checks[0]));
}
