/* confine.c -- three walls, each enforced by the kernel, so that even a
 * compromised handler inside an impersonating worker cannot become root,
 * a system account, or a member of a system group:
 *
 *  1. a user namespace whose maps hold only the pool's own ids and the ids
 *     >= min_uid: an unmapped id cannot be set at all (EINVAL), and that
 *     includes supplementary groups, which no seccomp filter can inspect
 *     (setgroups takes a pointer);
 *  2. capabilities: CAP_SETUID and CAP_SETGID only, in the bounding set
 *     too, with the securebits locked and no_new_privs;
 *  3. a seccomp filter (libseccomp) refusing every id setter with an id
 *     below min_uid other than the pool's own -- compared on the low 32
 *     bits, as the kernel truncates ids -- and refusing new namespaces. */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include "privsep.h"
#include "util.h"

#define ID_MAX 0xfffffffeu /* (uid_t)-1 means "unchanged" and is never mapped */

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

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* "ID ID 1" for each id below min, then "MIN MIN COUNT" for the rest. */
static void build_map(const uint32_t *low, size_t n, uint32_t min, char *buf, size_t len)
{
	uint32_t sorted[IDENT_MAX_GROUPS + 2];
	size_t off = 0, k = 0;

	memcpy(sorted, low, n * sizeof(*low));
	qsort(sorted, n, sizeof(*sorted), cmp_id);
	for (size_t i = 0; i < n; i++) {
		if (sorted[i] >= min || (k && sorted[i] == sorted[k - 1]))
			continue;
		sorted[k++] = sorted[i];
		off += (size_t)snprintf(buf + off, len - off, "%u %u 1\n", sorted[i], sorted[i]);
	}
	snprintf(buf + off, len - off, "%u %u %u\n", min, min, ID_MAX - min + 1);
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
	uint32_t ids[IDENT_MAX_GROUPS + 2];
	char map[8192];
	size_t n = 0;

	ids[n++] = p->pool.uid;
	build_map(ids, n, p->min_id, map, sizeof(map));
	if (write_file(child, "uid_map", map, err, len) < 0)
		return -1;
	n = 0;
	ids[n++] = p->pool.gid;
	for (size_t i = 0; i < p->pool.ngroups; i++)
		ids[n++] = p->pool.groups[i];
	build_map(ids, n, p->min_id, map, sizeof(map));
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

/* Refuse argument `arg` of `sys` when its low 32 bits lie in [lo, hi):
 * the interval is cut into aligned power-of-two blocks, one masked
 * comparison each (libseccomp allows one comparison per argument and
 * rule, and a masked one also ignores the upper half of the register). */
static int deny_interval(scmp_filter_ctx ctx, int sys, unsigned arg, uint64_t lo, uint64_t hi)
{
	while (lo < hi) {
		unsigned k = 0;
		while (k < 32 && (lo & ((1ull << (k + 1)) - 1)) == 0 && lo + (1ull << (k + 1)) <= hi)
			k++;
		uint32_t mask = (uint32_t)~((1ull << k) - 1);
		struct scmp_arg_cmp cmp = SCMP_CMP64(arg, SCMP_CMP_MASKED_EQ, mask, (uint32_t)lo);
		if (seccomp_rule_add_exact_array(ctx, SCMP_ACT_ERRNO(EPERM), sys, 1, &cmp) < 0)
			return -1;
		lo += 1ull << k;
	}
	return 0;
}

/* Ids allowed: `own`, and everything >= min (including (id_t)-1). */
static int deny_low_ids(scmp_filter_ctx ctx, int sys, unsigned nargs, uint32_t own, uint32_t min)
{
	for (unsigned a = 0; a < nargs; a++) {
		if (own < min) {
			if (deny_interval(ctx, sys, a, 0, own) < 0 ||
			    deny_interval(ctx, sys, a, (uint64_t)own + 1, min) < 0)
				return -1;
		} else if (deny_interval(ctx, sys, a, 0, min) < 0) {
			return -1;
		}
	}
	return 0;
}

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

int confine_seccomp(const struct confine_plan *p, char *err, size_t len)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	uint32_t u = p->pool.uid, g = p->pool.gid, min = p->min_id;
	int rc = -1;

	if (!ctx) {
		snprintf(err, len, "seccomp_init failed");
		return -1;
	}
	if (deny_low_ids(ctx, SCMP_SYS(setresuid), 3, u, min) < 0 ||
	    deny_low_ids(ctx, SCMP_SYS(setreuid), 2, u, min) < 0 ||
	    deny_low_ids(ctx, SCMP_SYS(setuid), 1, u, min) < 0 ||
	    deny_low_ids(ctx, SCMP_SYS(setfsuid), 1, u, min) < 0 ||
	    deny_low_ids(ctx, SCMP_SYS(setresgid), 3, g, min) < 0 ||
	    deny_low_ids(ctx, SCMP_SYS(setregid), 2, g, min) < 0 ||
	    deny_low_ids(ctx, SCMP_SYS(setgid), 1, g, min) < 0 ||
	    deny_low_ids(ctx, SCMP_SYS(setfsgid), 1, g, min) < 0 || deny_namespaces(ctx) < 0) {
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
					     SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0) < 0) {
		snprintf(err, len, "securebits: %s", strerror(errno));
		return -1;
	}
	/* single-threaded here: glibc's process-wide wrappers are right */
	if (setgroups(id->ngroups, id->groups) < 0 || setresgid(id->gid, id->gid, id->gid) < 0 ||
	    setresuid(id->uid, id->uid, id->uid) < 0) {
		snprintf(err, len, "becoming %u:%u: %s", (unsigned)id->uid, (unsigned)id->gid,
			 strerror(errno));
		return -1;
	}
	if (privsep_keep_caps(keep, 2, err, len) < 0 || confine_seccomp(p, err, len) < 0)
		return -1;
	if (!uidswap_is(id) || !caps_are_setid_only()) {
		snprintf(err, len, "identity or capabilities are not what was set");
		return -1;
	}
	return 0;
}
