/* iddrop.c -- a drop for good, proved as OpenSSH's permanently_set_uid()
 * proves it: after the switch, setting the old ids or root again has to
 * fail -- a return code is not trusted, the kernel is asked.  The switch
 * itself is idswitch_raw's (raw system calls, the only set*id calls of
 * idgate); the probes below are attempts that must be refused.
 *
 * Everything here runs in the spawner's vfork child, which shares the
 * spawner's memory until it execs: system calls and the caller's stack
 * only, no malloc, no lock, and none of glibc's id setters (they signal
 * every thread of the process to change them too). */
#include "iddrop.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privsep.h"

/* What the process was before the drop: what must not come back. */
struct old_ids {
	uid_t uid[3];
	gid_t gid[3];
	gid_t groups[IDENT_MAX_GROUPS];
	long ngroups;
};

static void read_old(struct old_ids *o)
{
	memset(o, 0, sizeof(*o));
	syscall(SYS_getresuid, &o->uid[0], &o->uid[1], &o->uid[2]);
	syscall(SYS_getresgid, &o->gid[0], &o->gid[1], &o->gid[2]);
	o->ngroups = syscall(SYS_getgroups, IDENT_MAX_GROUPS, o->groups);
	if (o->ngroups < 0)
		o->ngroups = 0;
}

static int drop_capabilities(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct none[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

	if (syscall(SYS_capset, &h, none) < 0)
		return -1;
	return (int)syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

/* Ambient capabilities are a subset of the permitted ones: none either. */
static bool no_capabilities_left(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return false;
	return true;
}

/* Each probe would change the identity if it worked: the caller gives up
 * (exits) on any step this returns. */
static const char *prove_no_way_back(const struct ident *to, const struct old_ids *o)
{
	for (int i = 0; i < 3; i++) {
		if ((o->uid[i] != to->uid &&
		     syscall(SYS_setresuid, o->uid[i], o->uid[i], o->uid[i]) == 0) ||
		    (o->gid[i] != to->gid &&
		     syscall(SYS_setresgid, o->gid[i], o->gid[i], o->gid[i]) == 0))
			return "the old identity could be regained";
	}
	/* setgroups needs CAP_SETGID whatever the list */
	if (syscall(SYS_setgroups, (size_t)o->ngroups, o->groups) == 0)
		return "the old identity could be regained";
	if (syscall(SYS_setresuid, 0, 0, 0) == 0 || syscall(SYS_setresgid, 0, 0, 0) == 0)
		return "root could be regained";
	return NULL;
}

const char *iddrop_child(const struct ident *to)
{
	struct old_ids old;
	const char *step;

	errno = EINVAL;
	if (to->uid == 0 || to->gid == 0)
		return "a drop to root";
	read_old(&old);
	/* a process without CAP_SETUID that already is `to` (a pool that does
	 * not impersonate starting a program as itself) could not set it */
	if (!idswitch_is(to) && (step = idswitch_raw(to)) != NULL)
		return step;
	if (drop_capabilities() < 0)
		return "dropping capabilities";
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return "no_new_privs";
	errno = EPERM;
	if (!idswitch_is(to) || !no_capabilities_left() ||
	    syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return "verifying the identity";
	return prove_no_way_back(to, &old);
}

/* /proc/self/task has a link for each thread, besides "." and "..". */
static bool single_threaded(void)
{
	struct stat st;

	return stat("/proc/self/task", &st) == 0 && st.st_nlink == 3;
}

int iddrop_process(const struct ident *to, char *err, size_t len)
{
	const char *step = NULL;

	if (!privsep_privileged()) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			step = "no_new_privs";
	} else if (!single_threaded()) {
		errno = EBUSY;
		step = "more than one thread (or no /proc)";
	} else {
		step = iddrop_child(to);
	}
	if (!step && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		step = "PR_SET_DUMPABLE";
	if (step) {
		snprintf(err, len, "dropping to %u:%u: %s: %s", (unsigned)to->uid, (unsigned)to->gid,
			 step, strerror(errno));
		return -1;
	}
	return 0;
}
