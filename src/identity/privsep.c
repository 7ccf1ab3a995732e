/* privsep.c -- what a child process does about its privileges besides
 * changing its identity (that is iddrop.c's and idswitch.c's): whether it
 * may, the groups of a user, the capabilities a root process keeps, its
 * signals and its descriptors. */
#include "privsep.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

bool privsep_privileged(void)
{
	return geteuid() == 0;
}

int privsep_user_groups(const char *user, gid_t gid, gid_t **groups, size_t *n)
{
	int count = 32;
	gid_t *g = xcalloc((size_t)count, sizeof(*g));

	while (getgrouplist(user, gid, g, &count) < 0) {
		if (count > 65536) {
			free(g);
			return -1;
		}
		g = xreallocarray(g, (size_t)count, sizeof(*g));
	}
	*groups = g;
	*n = (size_t)count;
	return 0;
}

void block_child_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static bool in_list(int cap, const int *caps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (caps[i] == cap)
			return true;
	return false;
}

int privsep_keep_caps(const int *caps, size_t n, char *err, size_t errlen)
{
	cap_t c = cap_init();
	int rc = -1;

	for (int cap = 0; cap < (int)cap_max_bits(); cap++) {
		if (!in_list(cap, caps, n) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL) {
			snprintf(err, errlen, "dropping capability %d: %s", cap, strerror(errno));
			goto done;
		}
	}
	if (n && (cap_set_flag(c, CAP_PERMITTED, (int)n, (const cap_value_t *)caps, CAP_SET) < 0 ||
		  cap_set_flag(c, CAP_EFFECTIVE, (int)n, (const cap_value_t *)caps, CAP_SET) < 0)) {
		snprintf(err, errlen, "cap_set_flag: %s", strerror(errno));
		goto done;
	}
	if (cap_set_proc(c) < 0) {
		snprintf(err, errlen, "cap_set_proc: %s", strerror(errno));
		goto done;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		goto done;
	}
	rc = 0;
done:
	cap_free(c);
	return rc;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

void close_fds_except(const int *keep, size_t n)
{
	int *k = xcalloc(n + 1, sizeof(*k));
	unsigned lo = 3;

	memcpy(k, keep, n * sizeof(*k));
	qsort(k, n, sizeof(*k), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (k[i] < (int)lo)
			continue;
		if ((unsigned)k[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)k[i] - 1, 0);
		lo = (unsigned)k[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0u, 0);
	free(k);
}
