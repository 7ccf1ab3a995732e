/* fuzz_proto_spawn.c -- the channel between a pool worker and its spawner
 * (src/proto/spawnmsg.c): the spawner, which may start a program as
 * another user, reads SPAWN (spawner_check_request: the codec, then
 * absolute paths and who the child may be) and SPAWN_KILL from a worker
 * thread that may run a handler as the caller; the worker decodes
 * SPAWN_STARTED, SPAWN_FAILED and SPAWN_EXITED.
 *
 * The pool runs as 990:990 with group 991; its policy lets callers
 * 1000-60000 be impersonated, with gids 1000-60000 and 100.
 *
 * Input: fuzz_proto.h's frame; which % 4 picks the decoder.  Properties:
 * an accepted request came with the reply socket and three standard
 * descriptors (and perhaps the program), has an argv[0], at most the
 * limits of groups, arguments and variables, absolute paths, only
 * identities the policy or the pool's own allow (read again here from the
 * payload's bytes, not from the decoder's answer), every string inside the
 * payload, and encodes back to exactly its bytes.  An answer has a pid of
 * 1 to INT32_MAX or an errno of 1 to 4095 with its step; an exit status is
 * one wait() gives (exited or killed by a signal). */
#include <sys/wait.h>

#include "fuzz_proto.h"
#include "idpolicy.h"
#include "spawner.h"

static const struct id_policy policy = { .min_uid = 1000, .max_uid = 60000, .min_gid = 1000,
					 .max_gid = 60000, .extra_gids = { 100 }, .nextra = 1 };
static const struct ident self = { .uid = 990, .gid = 990, .groups = { 991 }, .ngroups = 1 };

static bool gid_ok(uint32_t g)
{
	return g == 990 || g == 991 || g == 100 || (g >= 1000 && g <= 60000);
}

/* The identity as the payload's first bytes say it. */
static void check_identity(const struct wire_frame *f)
{
	uint32_t v[3];

	FZ_CHECK(f->len >= 12);
	memcpy(v, f->payload, 12);
	FZ_CHECK(v[0] == 990 || (v[0] >= 1000 && v[0] <= 60000));
	FZ_CHECK(gid_ok(v[1]) && v[2] <= IDENT_MAX_GROUPS && f->len >= 12 + 4 * (size_t)v[2]);
	for (uint32_t i = 0; i < v[2]; i++) {
		uint32_t g;
		memcpy(&g, f->payload + 12 + 4 * i, 4);
		FZ_CHECK(gid_ok(g));
	}
}

static size_t count(char *const *v, size_t max)
{
	size_t n = 0;

	while (n <= max && v[n])
		n++;
	return n;
}

static void request(const struct wire_frame *f, unsigned more)
{
	static struct spawnm_request q; /* 5 KiB */
	struct wbuf b;

	(void)more;
	if (spawner_check_request(f, &self, &policy, &q))
		return;
	FZ_CHECK(f->type == W_SPAWN && !f->flags && (f->nfds == 4 || f->nfds == 5));
	FZ_CHECK(q.exec_fd == (f->nfds == 5));
	check_identity(f);
	FZ_CHECK(q.path[0] == '/' && q.cwd[0] == '/');
	FZP_IN(f, q.path);
	FZP_IN(f, q.cwd);
	size_t argc = count(q.argv, SPAWN_MAX_ARGS), envc = count(q.envp, SPAWN_MAX_ENV);
	FZ_CHECK(argc >= 1 && argc <= SPAWN_MAX_ARGS && envc <= SPAWN_MAX_ENV);
	for (size_t i = 0; i < argc; i++)
		FZP_IN(f, q.argv[i]);
	for (size_t i = 0; i < envc; i++)
		FZP_IN(f, q.envp[i]);
	wb_init(&b);
	spawnm_request_encode(&b, &q.as, q.path, q.cwd, q.argv, q.envp);
	fzp_same(&b, f);
}

static void answer(const struct wire_frame *f, unsigned more)
{
	struct spawnm_answer a;
	struct wbuf b;

	(void)more;
	if (spawnm_answer_decode(f, &a) < 0)
		return;
	wb_init(&b);
	if (a.started) {
		FZ_CHECK(fzp_frame_is(f, W_SPAWN_STARTED, 0, 0));
		FZ_CHECK(a.pid >= 1 && a.pid <= INT32_MAX);
		spawnm_started_encode(&b, a.pid);
	} else {
		FZ_CHECK(fzp_frame_is(f, W_SPAWN_FAILED, 0, 0));
		FZ_CHECK(a.err >= 1 && a.err <= SPAWNM_MAX_ERRNO);
		FZP_IN(f, a.step);
		spawnm_failed_encode(&b, a.err, a.step);
	}
	fzp_same(&b, f);
}

/* What wait() says of a process that ended: it exited (a code), or a
 * signal of the kernel's (1 to 64) killed it, perhaps with a core. */
static bool ended(uint32_t st)
{
	int s = (int)st;

	if (st > 0xffff)
		return false;
	return WIFEXITED(s) || (WIFSIGNALED(s) && WTERMSIG(s) <= 64);
}

static void exited(const struct wire_frame *f, unsigned more)
{
	uint32_t st;
	struct wbuf b;

	(void)more;
	if (spawnm_exited_decode(f, &st) < 0)
		return;
	FZ_CHECK(fzp_frame_is(f, W_SPAWN_EXITED, 0, 0));
	FZ_CHECK(ended(st));
	wb_init(&b);
	spawnm_exited_encode(&b, st);
	fzp_same(&b, f);
}

static void kill_req(const struct wire_frame *f, unsigned more)
{
	(void)more;
	if (spawnm_kill_decode(f) == 0)
		FZ_CHECK(fzp_frame_is(f, W_SPAWN_KILL, 0, 0) && f->len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fzp_check checks[] = { request, answer, exited, kill_req };

	return fzp_run(data, size, checks, sizeof(checks) / sizeof(checks[0]));
}
