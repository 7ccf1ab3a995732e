/* fuzz_proto_chk.c -- a module check child's reports to idgated
 * (src/proto/chkmsg.c): the init() of a pool's vdirs runs as the pool's
 * user in a child, which a module's init() may have taken over, and its
 * parent (idgated -t, start-up, reload: root) decodes CHK_BEGIN,
 * CHK_ERROR, CHK_DONE and CHK_FAILED.
 *
 * Input: fuzz_proto.h's frame; which % 4 picks the decoder, which / 4 % 5
 * the number of vdirs.  Properties: an accepted report came without flags
 * or descriptors; a vdir index is below the number of vdirs; CHK_DONE's
 * passed is 0 or 1, its flags CHK_CREDS and CHK_S4U only, and its target
 * empty without CHK_S4U, else 1-255 bytes of visible ASCII; a message is
 * never NULL; every string is inside the payload; and the payload encodes
 * back to exactly its bytes. */
#include "chkmsg.h"
#include "fuzz_proto.h"

static void begin(const struct wire_frame *f, unsigned more)
{
	uint32_t nvdirs = more % 5;
	uint32_t vdir;
	struct wbuf b;

	if (chkm_begin_decode(f, nvdirs, &vdir) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_CHK_BEGIN, 0, 0) && vdir < nvdirs);
	wb_init(&b);
	chkm_begin_encode(&b, vdir);
	fzp_same(&b, f);
}

static void error(const struct wire_frame *f, unsigned more)
{
	uint32_t nvdirs = more % 5;
	struct chkm_error m;
	struct wbuf b;

	if (chkm_error_decode(f, nvdirs, &m) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_CHK_ERROR, 0, 0) && m.vdir < nvdirs);
	FZP_IN_OR_NULL(f, m.key);
	FZP_IN(f, m.message);
	wb_init(&b);
	chkm_error_encode(&b, &m);
	fzp_same(&b, f);
}

static bool visible_ascii(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

static void done(const struct wire_frame *f, unsigned more)
{
	uint32_t nvdirs = more % 5;
	struct chkm_done m;
	struct wbuf b;
	uint32_t passed;

	if (chkm_done_decode(f, nvdirs, &m) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_CHK_DONE, 0, 0) && m.vdir < nvdirs);
	memcpy(&passed, f->payload + 4, 4);
	FZ_CHECK(passed <= 1 && m.passed == (passed == 1));
	FZ_CHECK(!(m.flags & ~(CHK_CREDS | CHK_S4U)));
	FZP_IN(f, m.target);
	if (m.flags & CHK_S4U)
		FZ_CHECK(*m.target && strlen(m.target) <= CHK_TARGET_MAX && visible_ascii(m.target));
	else
		FZ_CHECK(!*m.target);
	wb_init(&b);
	chkm_done_encode(&b, &m);
	fzp_same(&b, f);
}

static void failed(const struct wire_frame *f, unsigned more)
{
	const char *message;
	struct wbuf b;

	(void)more;
	if (chkm_failed_decode(f, &message) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_CHK_FAILED, 0, 0));
	FZP_IN(f, message);
	wb_init(&b);
	chkm_failed_encode(&b, message);
	fzp_same(&b, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fzp_check checks[] = { begin, error, done, failed };

	return fzp_run(data, size, checks, sizeof(checks) / sizeof(checks[0]));
}
