/* uidswap.c -- per-thread credential switching, as Samba's sec_ctx.c does
 * it: Linux keeps credentials per thread, the raw system calls change only
 * the calling thread, and glibc's setresuid() would change them all (and
 * reset a switched thread behind our back).  Order matters: groups first
 * (setgroups needs the capability we may lose with the uid on other
 * systems), then the gid, then the uid.  Then we ask the kernel what we
 * got, and refuse to go on unless it is exactly what we asked for. */
#include "uidswap.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "idpolicy.h"
#include "log.h"
#include "privsep.h"
#include "util.h"

static int sys_setgroups(size_t n, const gid_t *g)
{
	return (int)syscall(SYS_setgroups, n, g);
}

static int sys_setresgid(gid_t r, gid_t e, gid_t s)
{
	return (int)syscall(SYS_setresgid, r, e, s);
}

static int sys_setresuid(uid_t r, uid_t e, uid_t s)
{
	return (int)syscall(SYS_setresuid, r, e, s);
}

void uidswap_current(struct ident *id)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	long n;

	memset(id, 0, sizeof(*id));
	syscall(SYS_getresuid, &r, &e, &s);
	syscall(SYS_getresgid, &rg, &eg, &sg);
	n = syscall(SYS_getgroups, IDENT_MAX_GROUPS, id->groups);
	/* the three ids must agree; report what is effective */
	id->uid = (r == e && e == s) ? e : (uid_t)-2;
	id->gid = (rg == eg && eg == sg) ? eg : (gid_t)-2;
	id->ngroups = n < 0 ? 0 : (size_t)n;
}

static bool same_groups(const gid_t *a, size_t na, const gid_t *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		bool found = false;
		for (size_t k = 0; k < nb && !found; k++)
			found = a[i] == b[k];
		if (!found)
			return false;
	}
	return true;
}

bool uidswap_is(const struct ident *want)
{
	struct ident got;

	uidswap_current(&got);
	return got.uid == want->uid && got.gid == want->gid &&
	       same_groups(got.groups, got.ngroups, want->groups, want->ngroups);
}

__attribute__((noreturn)) static void fail(const char *what, const struct ident *to)
{
	log_msg(LOG_CRIT, "identity switch to %u:%u failed (%s: %s); the worker stops",
		(unsigned)to->uid, (unsigned)to->gid, what, strerror(errno));
	abort();
}

void uidswap_thread(const struct ident *to)
{
	if (sys_setgroups(to->ngroups, to->groups) < 0)
		fail("setgroups", to);
	if (sys_setresgid(to->gid, to->gid, to->gid) < 0)
		fail("setresgid", to);
	if (sys_setresuid(to->uid, to->uid, to->uid) < 0)
		fail("setresuid", to);
	if (!uidswap_is(to)) {
		errno = EPERM;
		fail("verification", to);
	}
	/* the kernel made the process dumpable again (fs.suid_dumpable);
	 * nobody but root may ptrace a worker thread that runs as a caller */
	if (syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("PR_SET_DUMPABLE", to);
}

int ident_for_user(const char *user, const struct id_policy *pol, struct ident *id, char *why,
		   size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	gid_t *groups = NULL;
	size_t n = 0;

	memset(id, 0, sizeof(*id));
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res) {
		snprintf(why, len, "no local account %s", user);
		return -1;
	}
	if (idpol_refuses_account(pol, user, pw.pw_uid, pw.pw_gid, why, len))
		return -1;
	id->uid = pw.pw_uid;
	id->gid = pw.pw_gid;
	if (privsep_user_groups(user, pw.pw_gid, &groups, &n) < 0) {
		snprintf(why, len, "cannot list the groups of %s", user);
		return -1;
	}
	n = idpol_filter_groups(pol, groups, n, NULL, 0);
	for (size_t i = 0; i < n && id->ngroups < IDENT_MAX_GROUPS; i++)
		id->groups[id->ngroups++] = groups[i];
	free(groups);
	return 0;
}
