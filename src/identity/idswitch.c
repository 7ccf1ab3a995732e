/* idswitch.c -- per-thread credential switching, as Samba's sec_ctx.c does
 * it: Linux keeps credentials per thread, the raw system calls change only
 * the calling thread, and glibc's setresuid() would change them all (and
 * reset a switched thread behind our back).  Order matters: groups first
 * (setgroups needs the capability we may lose with the uid on other
 * systems), then the gid, then the uid.  Then we ask the kernel what we
 * got, and refuse to go on unless it is exactly what we asked for.
 *
 * idswitch_raw() is also the switch of iddrop.c's drop for good; with the
 * probes there (attempts that must fail), these are idgate's only set*id
 * system calls. */
#include "idswitch.h"

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

/* What the kernel says the calling thread is: its real, effective and
 * saved uids and gids, and its groups (into id->groups).  false if a call
 * failed (what it did not read is (uid_t)-2, or no groups). */
static bool read_ids(uid_t u[3], gid_t g[3], struct ident *id)
{
	long n;
	bool ok;

	memset(id, 0, sizeof(*id));
	u[0] = u[1] = u[2] = (uid_t)-2;
	g[0] = g[1] = g[2] = (gid_t)-2;
	ok = syscall(SYS_getresuid, &u[0], &u[1], &u[2]) == 0;
	ok = syscall(SYS_getresgid, &g[0], &g[1], &g[2]) == 0 && ok;
	n = syscall(SYS_getgroups, IDENT_MAX_GROUPS, id->groups);
	id->ngroups = n < 0 ? 0 : (size_t)n;
	return ok && n >= 0;
}

void idswitch_current(struct ident *id)
{
	uid_t u[3];
	gid_t g[3];

	(void)read_ids(u, g, id);
	/* the three ids must agree; report what is effective */
	id->uid = (u[0] == u[1] && u[1] == u[2]) ? u[1] : (uid_t)-2;
	id->gid = (g[0] == g[1] && g[1] == g[2]) ? g[1] : (gid_t)-2;
}

void idswitch_acting(struct ident *id)
{
	uid_t u[3];
	gid_t g[3];

	(void)read_ids(u, g, id);
	id->uid = u[1];
	id->gid = g[1];
}

static bool all_in(const gid_t *a, size_t na, const gid_t *b, size_t nb)
{
	for (size_t i = 0; i < na; i++) {
		bool found = false;
		for (size_t k = 0; k < nb && !found; k++)
			found = a[i] == b[k];
		if (!found)
			return false;
	}
	return true;
}

/* The same set, however ordered (the kernel sorts the list). */
static bool same_groups(const gid_t *a, size_t na, const gid_t *b, size_t nb)
{
	return na == nb && all_in(a, na, b, nb) && all_in(b, nb, a, na);
}

/* The thread's real, effective and saved uids are `u`'s three, its gids
 * `g`'s, and its supplementary groups exactly `groups` (however ordered). */
static bool ids_are(const uid_t u[3], const gid_t g[3], const struct ident *groups)
{
	uid_t gu[3];
	gid_t gg[3];
	struct ident got;

	return read_ids(gu, gg, &got) && memcmp(gu, u, sizeof(gu)) == 0 && memcmp(gg, g, sizeof(gg)) == 0 &&
	       same_groups(got.groups, got.ngroups, groups->groups, groups->ngroups);
}

bool idswitch_is(const struct ident *want)
{
	const uid_t u[3] = { want->uid, want->uid, want->uid };
	const gid_t g[3] = { want->gid, want->gid, want->gid };

	return ids_are(u, g, want);
}

/* Groups, then gids, then uids: NULL, or the call that failed. */
static const char *set_ids(const uid_t u[3], const gid_t g[3], const struct ident *groups)
{
	if (sys_setgroups(groups->ngroups, groups->groups) < 0)
		return "setgroups";
	if (sys_setresgid(g[0], g[1], g[2]) < 0)
		return "setresgid";
	if (sys_setresuid(u[0], u[1], u[2]) < 0)
		return "setresuid";
	return NULL;
}

const char *idswitch_raw(const struct ident *to)
{
	const uid_t u[3] = { to->uid, to->uid, to->uid };
	const gid_t g[3] = { to->gid, to->gid, to->gid };

	return set_ids(u, g, to);
}

__attribute__((noreturn)) static void fail(const char *what, uid_t uid, gid_t gid)
{
	log_msg(LOG_CRIT, "identity switch to %u:%u failed (%s: %s); the process stops",
		(unsigned)uid, (unsigned)gid, what, strerror(errno));
	abort();
}

/* The kernel made the process dumpable again (fs.suid_dumpable) when the
 * effective uid changed: nobody but root may ptrace a worker thread that
 * runs as a caller. */
static void stay_undumpable(const struct ident *to)
{
	if (syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("PR_SET_DUMPABLE", to->uid, to->gid);
}

/* The thread gets the ids u and g and to's groups, exactly and not
 * dumpable, or the process stops. */
static void switch_thread(const uid_t u[3], const gid_t g[3], const struct ident *to)
{
	const char *step = set_ids(u, g, to);

	if (step)
		fail(step, to->uid, to->gid);
	if (!ids_are(u, g, to)) {
		errno = EPERM;
		fail("verification", to->uid, to->gid);
	}
	stay_undumpable(to);
}

void idswitch_thread(const struct ident *to)
{
	const uid_t u[3] = { to->uid, to->uid, to->uid };
	const gid_t g[3] = { to->gid, to->gid, to->gid };

	switch_thread(u, g, to);
}

void idswitch_thread_acting(const struct ident *to, const struct ident *self)
{
	const uid_t u[3] = { self->uid, to->uid, self->uid };
	const gid_t g[3] = { self->gid, to->gid, self->gid };

	switch_thread(u, g, to);
}

int idswitch_kill_as(uid_t uid, const struct ident *self, pid_t pid, int sig)
{
	int rc, saved;

	if (uid == self->uid)
		return kill(pid, sig);
	if (!idswitch_is(self)) { /* what we would return to is not what we are */
		errno = EPERM;
		fail("verification before acting as another uid", self->uid, self->gid);
	}
	if (sys_setresuid((uid_t)-1, uid, (uid_t)-1) < 0) {
		saved = errno;
		if (!idswitch_is(self)) /* a refused setresuid changes nothing */
			fail("setresuid", uid, self->gid);
		errno = saved;
		return -1;
	}
	if (!ids_are((const uid_t[3]){ self->uid, uid, self->uid },
		     (const gid_t[3]){ self->gid, self->gid, self->gid }, self)) {
		errno = EPERM;
		fail("verification", uid, self->gid);
	}
	rc = kill(pid, sig);
	saved = errno;
	if (sys_setresuid((uid_t)-1, self->uid, (uid_t)-1) < 0)
		fail("setresuid back", self->uid, self->gid);
	if (!idswitch_is(self)) {
		errno = EPERM;
		fail("verification after returning", self->uid, self->gid);
	}
	errno = saved;
	return rc;
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
