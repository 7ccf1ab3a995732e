/* confine.c -- three walls, each enforced by the kernel, so that even a
 * compromised handler inside an impersonating worker cannot become root,
 * a system account, or a member of a system group:
 *
 *  1. a user namespace whose maps hold only the pool's own ids and the ids
 *     the impersonation policy allows (idpolicy.h: [min_uid, max_uid],
 *     [min_gid, max_gid], impersonate_groups): an unmapped id cannot be
 *     set at all (EINVAL), and that includes supplementary groups, which
 *     no seccomp filter can inspect (setgroups takes a pointer);
 *  2. capabilities: CAP_SETUID and CAP_SETGID only, in the bounding set
 *     too, with the securebits locked and no_new_privs;
 *  3. seccomp: every id setter may name only the pool's own id or one the
 *     policy allows (idfilter.c), and no new namespace (libseccomp). */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/securebits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "idfilter.h"
#include "idpolicy.h"
#include "privsep.h"
#include "util.h"

int confine_pool_ident(const struct pool_conf *pool, struct ident *id)
{
	gid_t *groups = NULL;
	size_t n = 0;

	memset(id, 0, sizeof(*id));
	id->uid = pool->uid;
	id->gid = pool->gid;
	if (privsep_user_groups(pool->user, pool->gid, &groups, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && id->ngroups < IDENT_MAX_GROUPS; i++)
		id->groups[id->ngroups++] = groups[i];
	free(groups);
	return 0;
}

/* ---------------------------------------------------------------- namespace */

int confine_enter_userns(int to_parent, int from_parent, char *err, size_t len)
{
	char c = 'E';
	int rc = -1;

	/* a mount namespace too, owned by the user namespace: the worker's
	 * private tmpfs for delegated credentials lives there */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		snprintf(err, len, "unshare(CLONE_NEWUSER|CLONE_NEWNS): %s", strerror(errno));
		goto done;
	}
	c = 'U';
	if (write(to_parent, &c, 1) != 1 || read(from_parent, &c, 1) != 1 || c != 'M') {
		snprintf(err, len, "the supervisor did not map the user namespace");
		goto done;
	}
	rc = 0;
done:
	if (rc < 0) {
		c = 'E';
		(void)!write(to_parent, &c, 1);
	}
	close(to_parent);
	close(from_parent);
	return rc;
}

/* One "ID ID COUNT" line per interval: the ids inside the namespace are
 * those outside, so what a handler sees is what the kernel checks. */
static int build_map(const struct confine_plan *p, bool gids, char *buf, size_t len, char *err,
		     size_t errlen)
{
	uint32_t own[IDENT_MAX_GROUPS + 1];
	struct id_interval iv[CONFINE_MAX_MAP_LINES];
	size_t n = 0, off = 0;
	int k;

	if (!gids) {
		own[n++] = p->pool.uid;
	} else {
		own[n++] = p->pool.gid;
		for (size_t i = 0; i < p->pool.ngroups; i++)
			own[n++] = p->pool.groups[i];
	}
	k = idpol_intervals(p->ids, gids, own, n, iv, CONFINE_MAX_MAP_LINES);
	if (k < 0) {
		snprintf(err, errlen, "more than %d %s intervals to map", CONFINE_MAX_MAP_LINES,
			 gids ? "gid" : "uid");
		return -1;
	}
	buf[0] = '\0';
	for (int i = 0; i < k && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%u %u %u\n", iv[i].lo, iv[i].lo,
					iv[i].hi - iv[i].lo + 1);
	return 0;
}

static int write_file(pid_t pid, const char *name, const char *text, char *err, size_t len)
{
	char path[64];
	int fd;
	ssize_t w;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	w = fd < 0 ? -1 : write(fd, text, strlen(text));
	if (w != (ssize_t)strlen(text)) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int confine_write_maps(pid_t child, const struct confine_plan *p, char *err, size_t len)
{
	char map[CONFINE_MAX_MAP_LINES * 36];

	if (build_map(p, false, map, sizeof(map), err, len) < 0 ||
	    write_file(child, "uid_map", map, err, len) < 0)
		return -1;
	if (build_map(p, true, map, sizeof(map), err, len) < 0)
		return -1;
	return write_file(child, "gid_map", map, err, len);
}

/* A tmpfs over `dir`, seen only inside this mount namespace (the worker,
 * its spawner and their children): no other process of the machine can
 * reach what is stored there, and it vanishes with the namespace, also
 * when the worker crashes.  Sticky and not listable (1733): a handler
 * running as one caller can neither list nor remove another's entries. */
int confine_private_tmpfs(const char *dir, const struct ident *owner, char *err, size_t len)
{
	char opts[128];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(err, len, "making mounts private: %s", strerror(errno));
		return -1;
	}
	snprintf(opts, sizeof(opts), "mode=1733,uid=%u,gid=%u,size=%s,nr_inodes=%s",
		 (unsigned)owner->uid, (unsigned)owner->gid, CONFINE_TMPFS_SIZE,
		 CONFINE_TMPFS_INODES);
	if (mount("idgate-ccache", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
		snprintf(err, len, "mounting a private tmpfs on %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- seccomp */

static int deny_namespaces(scmp_filter_ctx ctx)
{
	static const uint64_t ns[] = { CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET,
				       CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP };

	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 0) < 0 ||
	    /* clone3 passes its flags in memory: make glibc fall back to clone */
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0_64(SCMP_CMP_MASKED_EQ, ns[i], ns[i])) < 0)
			return -1;
	return 0;
}

/* What a handler running as a caller must not reach, beyond ids:
 *  - another process's memory: ptrace, process_vm_readv/writev (the
 *    worker's other threads run as other callers, with CAP_SETUID);
 *  - io_uring, whose operations are system calls seccomp never sees;
 *  - the kernel's keyrings: running as alice opens alice's user and
 *    persistent keyrings (SSSD's KEYRING:persistent Kerberos caches: her
 *    TGT), which impersonation must not hand over.  Only joining a fresh
 *    anonymous session keyring stays allowed: the spawner gives each
 *    program its own (KEYCTL_JOIN_SESSION_KEYRING with no name). */
static int deny_process_access(scmp_filter_ctx ctx)
{
	static const int denied[] = { SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
				      SCMP_SYS(process_vm_writev), SCMP_SYS(add_key),
				      SCMP_SYS(request_key) };
	static const int nosys[] = { SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
				     SCMP_SYS(io_uring_register) };

	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0) < 0)
			return -1;
	for (size_t i = 0; i < ARRAY_SIZE(nosys); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nosys[i], 0) < 0)
			return -1;
	/* keyctl: anything but (JOIN_SESSION_KEYRING, NULL) */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(keyctl), 1,
			     SCMP_A0_64(SCMP_CMP_NE, KEYCTL_JOIN_SESSION_KEYRING)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(keyctl), 1,
			     SCMP_A1_64(SCMP_CMP_NE, 0)) < 0)
		return -1;
	return 0;
}

/* fs.suid_dumpable = 1 makes the kernel mark a process dumpable again at
 * every identity switch, which would let any process of the caller ptrace
 * the worker (CAP_SETUID in its namespace) in the moment between the switch
 * and our PR_SET_DUMPABLE.  0 (the default) and 2 (systemd-coredump's)
 * keep it from ptrace.  So an impersonating pool refuses to start at 1. */
int confine_check_dumpable(char *err, size_t len)
{
	char v[8] = "";
	FILE *f = fopen(CONFINE_SUID_DUMPABLE, "re");

	if (!f || !fgets(v, sizeof(v), f)) {
		snprintf(err, len, "cannot read %s: %s", CONFINE_SUID_DUMPABLE, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	if (v[0] != '0' && v[0] != '2') {
		snprintf(err, len, "fs.suid_dumpable is %c: any process of an impersonated caller "
			 "could ptrace the worker while it switches; set it to 0 (or 2)", v[0]);
		return -1;
	}
	return 0;
}

/* The authenticator executes nothing and becomes nobody after its drop:
 * exec and every set*id call fail, besides what no process of ours does
 * (namespaces, other processes' memory, keyrings, io_uring). */
static int deny_exec_and_ids(scmp_filter_ctx ctx)
{
	static const int denied[] = {
		SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(setuid), SCMP_SYS(setgid),
		SCMP_SYS(setreuid), SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
		SCMP_SYS(setfsuid), SCMP_SYS(setfsgid), SCMP_SYS(setgroups),
	};

	for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0) < 0)
			return -1;
	return 0;
}

/* Namespaces, other processes' memory, keyrings and io_uring refused;
 * with `exec_and_ids`, exec and every set*id call too. */
static int load_daemon_filter(bool exec_and_ids, char *err, size_t len)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = -1;

	if (!ctx) {
		snprintf(err, len, "seccomp_init failed");
		return -1;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    deny_namespaces(ctx) < 0 || deny_process_access(ctx) < 0 ||
	    (exec_and_ids && deny_exec_and_ids(ctx) < 0)) {
		snprintf(err, len, "cannot build the seccomp filter");
		goto done;
	}
	if (seccomp_load(ctx) < 0) {
		snprintf(err, len, "seccomp_load: %s", strerror(errno));
		goto done;
	}
	rc = 0;
done:
	seccomp_release(ctx);
	return rc;
}

int confine_seccomp(const struct confine_plan *p, char *err, size_t len)
{
	if (load_daemon_filter(false, err, len) < 0)
		return -1;
	/* the ids: a filter of its own (idfilter.c) */
	if (idfilter_load(p->ids, p->pool.uid, p->pool.gid) < 0) {
		snprintf(err, len, "loading the id filter: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int confine_authenticator(char *err, size_t len)
{
	return load_daemon_filter(true, err, len);
}

/* ---------------------------------------------------------------- the worker */

static bool caps_are_setid_only(void)
{
	cap_t c = cap_get_proc();
	cap_flag_value_t v;
	bool ok = c != NULL;

	for (int cap = 0; ok && cap < (int)cap_max_bits(); cap++) {
		bool want = cap == CAP_SETUID || cap == CAP_SETGID;
		cap_get_flag(c, cap, CAP_EFFECTIVE, &v);
		ok = (v == CAP_SET) == want;
		cap_get_flag(c, cap, CAP_INHERITABLE, &v);
		ok = ok && v == CAP_CLEAR;
	}
	cap_free(c);
	return ok;
}

int confine_worker(const struct confine_plan *p, char *err, size_t len)
{
	static const int keep[] = { CAP_SETUID, CAP_SETGID };
	const struct ident *id = &p->pool;

	/* uid changes never touch capabilities, and uid 0 means nothing */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
					     SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
					     SECBIT_NO_CAP_AMBIENT_RAISE |
					     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0) < 0) {
		snprintf(err, len, "securebits: %s", strerror(errno));
		return -1;
	}
	/* single-threaded here, so switching this thread switches the process
	 * (and aborts it if the result is not exact); the securebits keep the
	 * capabilities across the uid change */
	idswitch_thread(id);
	if (privsep_keep_caps(keep, 2, err, len) < 0 || confine_seccomp(p, err, len) < 0)
		return -1;
	if (!idswitch_is(id) || !caps_are_setid_only()) {
		snprintf(err, len, "identity or capabilities are not what was set");
		return -1;
	}
	return 0;
}
