/* test_idpolicy.c -- who may be impersonated (idpolicy.c), and the seccomp
 * filter that enforces it inside a confined worker (idfilter.c), run for
 * real in a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idfilter.h"
#include "idpolicy.h"

/* the defaults, with "users" as gid 100 */
static const struct id_policy POL = {
	.min_uid = 1000, .max_uid = 60000, .min_gid = 1000, .max_gid = 60000,
	.extra_gids = { 100 }, .nextra = 1,
};

static void test_ranges(void **state)
{
	(void)state;
	assert_false(idpol_uid_ok(&POL, 0));
	assert_false(idpol_uid_ok(&POL, 999));
	assert_true(idpol_uid_ok(&POL, 1000));
	assert_true(idpol_uid_ok(&POL, 60000));
	assert_false(idpol_uid_ok(&POL, 60001));
	assert_false(idpol_uid_ok(&POL, 61184));  /* systemd DynamicUser */
	assert_false(idpol_uid_ok(&POL, 65534));  /* nobody */
	assert_false(idpol_uid_ok(&POL, 100000)); /* subordinate ids */
	assert_false(idpol_uid_ok(&POL, UINT32_MAX));
	assert_false(idpol_uid_ok(&POL, 100));    /* impersonate_groups is for gids */
	assert_true(idpol_gid_ok(&POL, 100));
	assert_false(idpol_gid_ok(&POL, 99));
	assert_false(idpol_gid_ok(&POL, 0));
	assert_true(idpol_gid_ok(&POL, 1000));
	assert_false(idpol_gid_ok(&POL, 65534));  /* nogroup */
	assert_false(idpol_gid_ok(&POL, UINT32_MAX));

	struct id_policy wide = { .min_uid = 1, .max_uid = UINT32_MAX - 1, .min_gid = 1,
				  .max_gid = UINT32_MAX - 1 };
	assert_false(idpol_uid_ok(&wide, 0));
	assert_true(idpol_uid_ok(&wide, UINT32_MAX - 1));
	assert_false(idpol_uid_ok(&wide, UINT32_MAX));
}

static void test_account_reasons(void **state)
{
	char why[300];

	(void)state;
	assert_false(idpol_refuses_account(&POL, "alice", 1001, 100, why, sizeof(why)));
	assert_false(idpol_refuses_account(&POL, "alice", 1001, 1001, why, sizeof(why)));
	assert_true(idpol_refuses_account(&POL, "root", 0, 0, why, sizeof(why)));
	assert_string_equal(why, "account root (uid 0) is below min_uid 1000: never impersonated");
	assert_true(idpol_refuses_account(&POL, "nobody", 65534, 65534, why, sizeof(why)));
	assert_string_equal(why, "account nobody (uid 65534) is above max_uid 60000: never impersonated");
	assert_true(idpol_refuses_account(&POL, "bob", 1002, 50, why, sizeof(why)));
	assert_string_equal(why, "primary group of bob (gid 50) is outside min_gid 1000 .. max_gid "
				 "60000 and not in impersonate_groups: never impersonated");
}

static void test_filter_groups(void **state)
{
	uint32_t g[] = { 1001, 0, 100, 65534, 2000, 4 };
	char left[200];
	size_t n;

	(void)state;
	n = idpol_filter_groups(&POL, g, 6, left, sizeof(left));
	assert_int_equal(n, 3);
	assert_int_equal(g[0], 1001);
	assert_int_equal(g[1], 100);
	assert_int_equal(g[2], 2000);
	/* named as the machine names them: root(0), nogroup(65534), adm(4) on Debian */
	char want[200];
	struct group *r = getgrgid(0), *ng = getgrgid(65534), *a = getgrgid(4);
	snprintf(want, sizeof(want), "%s%s%s%s%s", r ? "root(0)" : "0", " ",
		 ng ? "nogroup(65534)" : "65534", " ", a ? "adm(4)" : "4");
	assert_string_equal(left, want);
	/* a small buffer truncates, never overflows */
	uint32_t g2[] = { 0, 4, 65534 };
	char tiny[5];
	idpol_filter_groups(&POL, g2, 3, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), 4);
	/* nothing left out: empty */
	uint32_t g3[] = { 1001, 100 };
	assert_int_equal(idpol_filter_groups(&POL, g3, 2, left, sizeof(left)), 2);
	assert_string_equal(left, "");
}

static void test_intervals(void **state)
{
	struct id_interval iv[8];
	uint32_t own[] = { 997, 999, 1000, 60001, UINT32_MAX };
	int n;

	(void)state;
	/* uids: own 997, 999, 1000 (inside the range), 60001 (extends it) */
	n = idpol_intervals(&POL, false, own, 5, iv, 8);
	/* -1 is "unchanged" to the kernel: never an interval */
	assert_int_equal(n, 4);
	assert_int_equal(iv[0].lo, 997);
	assert_int_equal(iv[0].hi, 997);
	assert_int_equal(iv[1].lo, 999);
	assert_int_equal(iv[1].hi, 999);
	assert_int_equal(iv[2].lo, 1000);
	assert_int_equal(iv[2].hi, 60000);
	assert_int_equal(iv[3].lo, 60001);
	assert_int_equal(iv[3].hi, 60001);
	/* gids: impersonate_groups too */
	n = idpol_intervals(&POL, true, own, 1, iv, 8);
	assert_int_equal(n, 3);
	assert_int_equal(iv[0].lo, 100);
	assert_int_equal(iv[0].hi, 100);
	assert_int_equal(iv[1].lo, 997);
	assert_int_equal(iv[2].lo, 1000);
	assert_int_equal(iv[2].hi, 60000);
	/* too many for the room */
	assert_int_equal(idpol_intervals(&POL, true, own, 1, iv, 2), -1);
}

/* ---------------------------------------------------------------- the filter */

/* In a child: a fresh user namespace (so that nothing is mapped and every
 * id the filter lets through fails with EINVAL, where the filter's refusal
 * is EPERM), no_new_privs, the filter; then each probe's errno is written
 * to the pipe. */
struct probe {
	long nr;
	long a[3];
};

static int run_probes(const struct probe *p, size_t n, int *errs)
{
	int fds[2];
	pid_t pid;
	int status;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (unshare(CLONE_NEWUSER) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    idfilter_load(&POL, 990, 991) < 0)
			_exit(3);
		for (size_t i = 0; i < n; i++) {
			errno = 0;
			long rc = syscall(p[i].nr, p[i].a[0], p[i].a[1], p[i].a[2]);
			int e = rc < 0 ? errno : 0;
			if (write(fds[1], &e, sizeof(e)) != sizeof(e))
				_exit(4);
		}
		_exit(0);
	}
	close(fds[1]);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(read(fds[0], &errs[i], sizeof(int)), sizeof(int));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_filter_allows_exactly_the_policy(void **state)
{
	const long M = -1L & 0xffffffffL; /* (uid_t)-1 as glibc passes it */
	const struct probe p[] = {
		{ SYS_setresuid, { 0, M, M } },         /* root */
		{ SYS_setresuid, { M, 999, M } },       /* below min_uid */
		{ SYS_setresuid, { M, M, 65534 } },     /* nobody */
		{ SYS_setresuid, { 61184, M, M } },     /* DynamicUser */
		{ SYS_setresuid, { 100000, M, M } },    /* subordinate */
		{ SYS_setresuid, { 1000, 60000, 990 } },/* range and own: allowed */
		{ SYS_setresuid, { 0x100000000L, M, M } }, /* truncates to 0 */
		{ SYS_setresuid, { 0x1000003e8L, M, M } }, /* truncates to 1000 */
		{ SYS_setuid, { 100 } },                /* users is a gid, not a uid */
		{ SYS_setreuid, { M, 1 } },
		{ SYS_setfsuid, { 65534 } },
		{ SYS_setresgid, { 100, 100, 100 } },   /* impersonate_groups */
		{ SYS_setresgid, { 991, M, 1000 } },    /* own and range */
		{ SYS_setresgid, { M, 99, M } },
		{ SYS_setgid, { 65534 } },              /* nogroup */
		{ SYS_setregid, { 0, M } },
		{ SYS_setfsgid, { 4 } },
		{ SYS_setresuid, { M, M, M } },         /* changes nothing: allowed */
	};
	enum { N = sizeof(p) / sizeof(p[0]) };
	const int want[N] = { EPERM, EPERM, EPERM, EPERM, EPERM, EINVAL, EPERM, EINVAL, EPERM,
			      EPERM, EPERM, EINVAL, EINVAL, EPERM, EPERM, EPERM, EPERM, 0 };
	int got[N];

	(void)state;
	int status = run_probes(p, N, got);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (size_t i = 0; i < N; i++) {
		if (got[i] != want[i])
			fail_msg("probe %zu (nr %ld, %ld %ld %ld): errno %d, want %d", i, p[i].nr,
				 p[i].a[0], p[i].a[1], p[i].a[2], got[i], want[i]);
	}
}

/* setfsuid never fails in the kernel: -1/EPERM can only be the filter */
static void test_filter_setfsuid(void **state)
{
	const struct probe p[] = { { SYS_setfsuid, { 0 } }, { SYS_setfsuid, { 5000 } },
				   { SYS_setfsgid, { 100 } }, { SYS_setfsgid, { 99 } } };
	int got[4];

	(void)state;
	run_probes(p, 4, got);
	assert_int_equal(got[0], EPERM);
	assert_int_equal(got[1], 0);
	assert_int_equal(got[2], 0);
	assert_int_equal(got[3], EPERM);
}

#if defined(__x86_64__)
/* another ABI's system call (x32 on x86-64) kills the whole process */
static void test_filter_kills_other_abi(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || idfilter_load(&POL, 990, 991) < 0)
			_exit(3);
		syscall(0x40000000L | SYS_getpid);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}
#endif

static void test_filter_size(void **state)
{
	struct id_policy many = POL;
	struct sock_fprog prog;

	(void)state;
	for (size_t i = 0; i < IDPOL_MAX_EXTRA; i++)
		many.extra_gids[i] = (uint32_t)(10 + 2 * i);
	many.nextra = IDPOL_MAX_EXTRA;
	assert_int_equal(idfilter_build(&many, 990, 991, &prog), 0);
	assert_true(prog.len < 4096);
	free(prog.filter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_account_reasons),
		cmocka_unit_test(test_filter_groups),
		cmocka_unit_test(test_intervals),
		cmocka_unit_test(test_filter_allows_exactly_the_policy),
		cmocka_unit_test(test_filter_setfsuid),
#if defined(__x86_64__)
		cmocka_unit_test(test_filter_kills_other_abi),
#endif
		cmocka_unit_test(test_filter_size),
	};
	return cmocka_run_group_tests_name("idpolicy", tests, NULL, NULL);
}
