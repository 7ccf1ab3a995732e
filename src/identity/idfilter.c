/* idfilter.c -- the seccomp filter on id setters (see idfilter.h).
 *
 * The program:
 *
 *     arch != native                 -> kill the process
 *     nr has the x32 bit             -> kill the process
 *     for each id setter S:
 *         nr != S                    -> skip S's block
 *         for each id argument A:
 *             low 32 bits of A == -1 -> next argument
 *             for each allowed interval [lo, hi] (sorted):
 *                 A < lo             -> EPERM
 *                 A <= hi            -> next argument
 *             EPERM
 *         allow
 *     allow
 *
 * Every jump is forward and short: an interval test jumps at most to the
 * end of its own argument's block. */
#include "idfilter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "idpolicy.h"

#if defined(__x86_64__)
#define IDF_ARCH AUDIT_ARCH_X86_64
#define IDF_X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define IDF_ARCH AUDIT_ARCH_AARCH64
#define IDF_X32_BIT 0u
#else
#error "idfilter: add this architecture's AUDIT_ARCH"
#endif

#define MAX_INTERVALS 40 /* keeps every jump of a block under 256 */

struct setter {
	long nr;
	unsigned nargs;
	bool gid;
};

static const struct setter setters[] = {
	{ SYS_setuid, 1, false },   { SYS_setreuid, 2, false }, { SYS_setresuid, 3, false },
	{ SYS_setfsuid, 1, false }, { SYS_setgid, 1, true },    { SYS_setregid, 2, true },
	{ SYS_setresgid, 3, true }, { SYS_setfsgid, 1, true },
};

struct prog {
	struct sock_filter *f;
	size_t n, cap;
};

static void emit(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n < p->cap)
		p->f[p->n] = (struct sock_filter){ code, jt, jf, k };
	p->n++;
}

/* low 32 bits of argument `a` (little-endian: the first word) */
static uint32_t arg_low(unsigned a)
{
	return (uint32_t)(offsetof(struct seccomp_data, args) + a * sizeof(uint64_t));
}

static size_t arg_block_len(size_t nint)
{
	return 2 + 2 * nint + 1; /* load, -1 test, intervals, EPERM */
}

static void emit_arg(struct prog *p, unsigned a, const struct id_interval *iv, size_t nint)
{
	size_t len = arg_block_len(nint), start = p->n;

	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, arg_low(a));
	/* jump offsets count from the next instruction; "past" is the first
	 * instruction after this block, "deny" its last one */
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(len - 2), 0, UINT32_MAX);
	for (size_t i = 0; i < nint; i++) {
		size_t at = p->n - start; /* index of this jge within the block */
		emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, (uint8_t)(len - 1 - at - 1), iv[i].lo);
		emit(p, BPF_JMP | BPF_JGT | BPF_K, 0, (uint8_t)(len - 1 - at - 1), iv[i].hi);
	}
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
}

static void emit_setter(struct prog *p, const struct setter *s, const struct id_interval *iv,
			size_t nint)
{
	size_t body = s->nargs * arg_block_len(nint) + 1;

	emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)body, (uint32_t)s->nr);
	for (unsigned a = 0; a < s->nargs; a++)
		emit_arg(p, a, iv, nint);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
}

int idfilter_build(const struct id_policy *pol, uint32_t own_uid, uint32_t own_gid,
		   struct sock_fprog *out)
{
	struct id_interval uids[MAX_INTERVALS], gids[MAX_INTERVALS];
	int nu = idpol_intervals(pol, false, &own_uid, 1, uids, MAX_INTERVALS);
	int ng = idpol_intervals(pol, true, &own_gid, 1, gids, MAX_INTERVALS);
	struct prog p = { 0 };

	if (nu < 0 || ng < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++) { /* count, then fill */
		p.n = 0;
		emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
		emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, IDF_ARCH);
		emit(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
		emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
		emit(&p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, IDF_X32_BIT ? IDF_X32_BIT : UINT32_MAX);
		emit(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
		for (size_t i = 0; i < sizeof(setters) / sizeof(setters[0]); i++) {
			const struct setter *s = &setters[i];
			emit_setter(&p, s, s->gid ? gids : uids, (size_t)(s->gid ? ng : nu));
		}
		emit(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
		if (pass == 0) {
			p.cap = p.n;
			p.f = calloc(p.cap, sizeof(*p.f));
			if (!p.f)
				return -1;
		}
	}
	out->len = (unsigned short)p.n;
	out->filter = p.f;
	return 0;
}

int idfilter_load(const struct id_policy *p, uint32_t own_uid, uint32_t own_gid)
{
	struct sock_fprog prog;
	int rc;

	if (idfilter_build(p, own_uid, own_gid, &prog) < 0) {
		errno = E2BIG;
		return -1;
	}
	rc = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	free(prog.filter);
	return rc < 0 ? -1 : 0;
}
