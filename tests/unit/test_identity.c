/* test_identity.c -- the two ways an identity changes, for real:
 * idswitch.c (a thread, exactly, and back; or abort) and iddrop.c (for
 * good, and proved: the old ids and root cannot be set again), also in a
 * vfork child as the spawner runs it.
 *
 * Each case runs in a forked child that may set any id: root (as in CI),
 * or -- not started as root -- root of a user namespace mapped over the
 * user's subordinate ids (newuidmap, /etc/subuid); cases that need an id
 * that cannot be set use a namespace too, where ids from NS_IDS up are
 * not mapped.  The child prints the first check that failed and exits
 * with its line (mod 256); the parent asserts how it ended. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iddrop.h"
#include "idswitch.h"

#define NS_IDS 65536u    /* ids 0 .. NS_IDS-1 exist in a test's namespace */
#define UNMAPPED 70000u  /* and this one does not */
#define POOL 2000u       /* a pool's service identity */
#define CALLER 1000u     /* a caller it impersonates */

/* a check in the child: its line becomes the child's exit code */
#define CHECK(c)                                                                  \
	do {                                                                      \
		if (!(c)) {                                                       \
			fprintf(stderr, "check failed at line %d: %s (errno %d)\n", \
				__LINE__, #c, errno);                             \
			return __LINE__;                                          \
		}                                                                 \
	} while (0)

static const struct ident ROOT = { .uid = 0, .gid = 0, .ngroups = 0 };
static const struct ident CALLER_ID = { .uid = CALLER, .gid = CALLER,
					.groups = { 100, 1002, CALLER }, .ngroups = 3 };
static const struct ident POOL_ID = { .uid = POOL, .gid = POOL, .groups = { POOL },
				      .ngroups = 1 };

/* ---------------------------------------------------------------- children */

/* The first line "NAME:START:COUNT" of `file` for this user (by name or
 * uid) with at least NS_IDS - 1 ids; START, or 0. */
static unsigned long subordinate_start(const char *file, const char *name, unsigned long id)
{
	char line[256], num[32];
	unsigned long start = 0, count;
	FILE *f = fopen(file, "re");

	snprintf(num, sizeof(num), "%lu", id);
	while (f && !start && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		if ((strcmp(line, name) == 0 || strcmp(line, num) == 0) &&
		    sscanf(colon + 1, "%lu:%lu", &start, &count) == 2 && count < NS_IDS - 1)
			start = 0;
	}
	if (f)
		fclose(f);
	return start;
}

/* newuidmap/newgidmap PID 0 OWN 1 1 START NS_IDS-1: 0 or -1 */
static int run_newidmap(const char *prog, pid_t pid, unsigned long own, unsigned long start)
{
	char a[4][32];
	int status;
	pid_t p;

	snprintf(a[0], sizeof(a[0]), "%d", (int)pid);
	snprintf(a[1], sizeof(a[1]), "%lu", own);
	snprintf(a[2], sizeof(a[2]), "%lu", start);
	snprintf(a[3], sizeof(a[3]), "%u", NS_IDS - 1);
	p = fork();
	if (p == 0) {
		execlp(prog, prog, a[0], "0", a[1], "1", "1", a[2], a[3], (char *)NULL);
		_exit(127);
	}
	return p > 0 && waitpid(p, &status, 0) == p && WIFEXITED(status) &&
		       WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int write_map(pid_t pid, const char *name)
{
	char path[64], map[32];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	n = snprintf(map, sizeof(map), "0 0 %u\n", NS_IDS);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, map, (size_t)n) != n) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Parent: map the child's fresh namespace -- ids 0 .. NS_IDS-1, the
 * child is 0 inside.  Root maps them onto its own; anybody else onto its
 * subordinate ids.  NULL, or why not. */
static const char *map_namespace(pid_t pid)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *name = pw ? pw->pw_name : "";
	unsigned long su, sg;

	if (geteuid() == 0)
		return write_map(pid, "uid_map") < 0 || write_map(pid, "gid_map") < 0 ?
			"root could not map the test's user namespace" : NULL;
	su = subordinate_start("/etc/subuid", name, geteuid());
	sg = subordinate_start("/etc/subgid", name, getegid());
	if (!su || !sg || run_newidmap("newuidmap", pid, geteuid(), su) < 0 ||
	    run_newidmap("newgidmap", pid, getegid(), sg) < 0)
		return "not root, and not enough subordinate ids to map a user namespace with "
		       "(newuidmap, newgidmap, /etc/subuid, /etc/subgid)";
	return NULL;
}

/* Run body() in a child that may set any id (in a user namespace when
 * asked, or when not root), as uid 0, gid 0 and no other group; its wait
 * status. */
static int run(int (*body)(void), bool userns)
{
	int up[2], down[2], status;
	const char *why = NULL;
	char c = 0;
	pid_t pid;

	userns = userns || geteuid() != 0;
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		if (userns && unshare(CLONE_NEWUSER) < 0)
			_exit(200);
		if (write(up[1], "U", 1) != 1 || read(down[0], &c, 1) != 1 || c != 'M')
			_exit(201);
		idswitch_thread(&ROOT); /* and no supplementary group */
		_exit(body());
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &c, 1) != 1)
		why = "the child did not start";
	else if (userns)
		why = map_namespace(pid);
	if (!why && write(down[1], "M", 1) != 1)
		why = "cannot tell the child to go on";
	close(up[0]);
	close(down[1]); /* on failure, the child reads the end and exits */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (why)
		fail_msg("%s", why);
	return status;
}

static void assert_passed(int status)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the child %s %d%s", WIFEXITED(status) ? "exited with" : "died of signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 WIFEXITED(status) ? " (the check that failed is printed above)" : "");
}

static void assert_aborted(int status)
{
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("the child went on: %s %d, not SIGABRT", WIFEXITED(status) ?
			 "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
			 WTERMSIG(status));
}

/* A case: its body, and whether it needs a user namespace (an id that
 * cannot be set). */
struct child_case {
	int (*body)(void);
	bool userns;
};

static void passes(void **state)
{
	const struct child_case *c = *state;

	assert_passed(run(c->body, c->userns));
}

static void aborts(void **state)
{
	const struct child_case *c = *state;

	assert_aborted(run(c->body, c->userns));
}

#define PASSES(name, body, userns) \
	{ name, passes, NULL, NULL, &(struct child_case){ body, userns } }
#define ABORTS(name, body, userns) \
	{ name, aborts, NULL, NULL, &(struct child_case){ body, userns } }

/* ---------------------------------------------------------------- helpers */

static bool uids_are(uid_t want)
{
	uid_t r, e, s;
	return getresuid(&r, &e, &s) == 0 && r == want && e == want && s == want;
}

static bool gids_are(gid_t want)
{
	gid_t r, e, s;
	return getresgid(&r, &e, &s) == 0 && r == want && e == want && s == want;
}

/* The thread's groups, in the kernel's (sorted) order, as "a,b,c". */
static const char *groups_text(void)
{
	static char text[256];
	gid_t g[64];
	int n = getgroups(64, g);
	size_t off = 0;

	text[0] = '\0';
	for (int i = 0; i < n && off < sizeof(text); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%u", i ? "," : "",
					(unsigned)g[i]);
	return text;
}

static bool no_capabilities(void)
{
	cap_t c = cap_get_proc(), none = cap_init();
	bool empty = c && none && cap_compare(c, none) == 0;

	cap_free(c);
	cap_free(none);
	return empty;
}

/* Keep exactly these capabilities, permitted and effective. */
static int keep_only(const cap_value_t *caps, int n)
{
	cap_t c = cap_init();
	int rc = -1;

	if (c && (n == 0 || (cap_set_flag(c, CAP_PERMITTED, n, caps, CAP_SET) == 0 &&
			     cap_set_flag(c, CAP_EFFECTIVE, n, caps, CAP_SET) == 0)))
		rc = cap_set_proc(c);
	cap_free(c);
	return rc;
}

/* What a confined worker and its spawner are: the pool's identity, with
 * CAP_SETUID and CAP_SETGID kept across the uid change. */
static int become_confined_pool(void)
{
	static const cap_value_t setid[] = { CAP_SETUID, CAP_SETGID };

	if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0)
		return -1;
	idswitch_thread(&POOL_ID);
	return keep_only(setid, 2);
}

/* ---------------------------------------------------------------- idswitch */

/* To the caller and back, each read back exactly: the three uids, the
 * three gids, the groups; not dumpable after the switch. */
static int switch_and_back(void)
{
	CHECK(prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) == 0);
	CHECK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
	idswitch_thread(&CALLER_ID);
	CHECK(uids_are(CALLER) && gids_are(CALLER));
	CHECK(strcmp(groups_text(), "100,1000,1002") == 0);
	CHECK(idswitch_is(&CALLER_ID));
	CHECK(!idswitch_is(&POOL_ID));
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	idswitch_thread(&ROOT);
	CHECK(uids_are(0) && gids_are(0) && strcmp(groups_text(), "") == 0);
	CHECK(idswitch_is(&ROOT));
	return 0;
}

static void *switch_this_thread(void *arg)
{
	idswitch_thread(&CALLER_ID);
	*(bool *)arg = idswitch_is(&CALLER_ID);
	return NULL;
}

/* Only the calling thread changes: the main one stays root. */
static int only_this_thread(void)
{
	pthread_t t;
	bool switched = false;

	CHECK(pthread_create(&t, NULL, switch_this_thread, &switched) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(switched);
	CHECK(idswitch_is(&ROOT));
	return 0;
}

/* setgroups and setresgid pass, setresuid is refused (no CAP_SETUID):
 * a half-switched thread must not go on. */
static int switch_refused(void)
{
	static const cap_value_t setgid_only[] = { CAP_SETGID };

	CHECK(keep_only(setgid_only, 1) == 0);
	idswitch_thread(&CALLER_ID);
	return 0; /* went on */
}

/* An id the kernel cannot set at all (not mapped: EINVAL). */
static int switch_unmapped(void)
{
	struct ident to = CALLER_ID;

	to.uid = UNMAPPED;
	idswitch_thread(&to);
	return 0;
}

/* uid -1 means "unchanged" to setresuid: every call succeeds, and only
 * the read-back sees that the thread is not what was asked. */
static int switch_unverifiable(void)
{
	struct ident to = CALLER_ID;

	to.uid = (uid_t)-1;
	idswitch_thread(&to);
	return 0;
}

/* A process of the caller's (all three ids) tries signal 0 on `pid`:
 * 0 if it could have signalled it, else its errno. */
static int caller_may_signal(pid_t pid)
{
	int status;
	pid_t child = fork();

	if (child == 0) {
		idswitch_thread(&CALLER_ID);
		_exit(kill(pid, 0) == 0 ? 0 : errno);
	}
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Acting as the caller: the caller's groups and effective ids, the pool's
 * real and saved ones -- so the caller's own processes, which may signal
 * a thread that is the caller through and through, cannot reach it; and
 * back to the pool exactly. */
static int act_and_back(void)
{
	struct ident acting;
	uid_t r, e, s;
	gid_t rg, eg, sg;

	CHECK(become_confined_pool() == 0);
	CHECK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
	idswitch_thread_acting(&CALLER_ID, &POOL_ID);
	CHECK(getresuid(&r, &e, &s) == 0 && r == POOL && e == CALLER && s == POOL);
	CHECK(getresgid(&rg, &eg, &sg) == 0 && rg == POOL && eg == CALLER && sg == POOL);
	CHECK(strcmp(groups_text(), "100,1000,1002") == 0);
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	idswitch_acting(&acting);
	CHECK(acting.uid == CALLER && acting.gid == CALLER && acting.ngroups == 3);
	CHECK(!idswitch_is(&CALLER_ID) && !idswitch_is(&POOL_ID));
	CHECK(caller_may_signal(getpid()) == EPERM);
	idswitch_thread(&POOL_ID);
	CHECK(idswitch_is(&POOL_ID));
	idswitch_thread(&CALLER_ID); /* what the thread did before: reachable */
	CHECK(caller_may_signal(getpid()) == 0);
	return 0;
}

/* uid -1 leaves the effective uid as it was: only the read-back sees it. */
static int act_unverifiable(void)
{
	struct ident to = CALLER_ID;

	CHECK(become_confined_pool() == 0);
	to.uid = (uid_t)-1;
	idswitch_thread_acting(&to, &POOL_ID);
	return 0;
}

/* A process of the caller's, in a group of its own, waiting to be killed
 * or for its parent to end (the end of `life`: a death signal would not
 * do, its parent's uid may not signal it). */
static pid_t start_victim(void)
{
	int ready[2], life[2];
	char c;
	pid_t pid;

	if (pipe(ready) < 0 || pipe(life) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(life[1]);
		setpgid(0, 0);
		idswitch_thread(&CALLER_ID);
		(void)!write(ready[1], "R", 1);
		(void)!read(life[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(life[0]); /* life[1] stays open until this process ends */
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		pid = -1;
	close(ready[0]);
	return pid;
}

/* The spawner's kill: its own uid may not signal the caller's process;
 * as the caller for the moment it may, and it is exactly itself after. */
static int kill_as_caller(void)
{
	pid_t victim = start_victim();
	int status;

	CHECK(victim > 0 && become_confined_pool() == 0);
	CHECK(kill(-victim, SIGKILL) < 0 && errno == EPERM);
	CHECK(idswitch_kill_as(CALLER, &POOL_ID, -victim, SIGKILL) == 0);
	CHECK(waitpid(victim, &status, 0) == victim);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(idswitch_is(&POOL_ID));
	return 0;
}

/* Without CAP_SETUID the switch is refused: -1, nothing sent, nothing
 * changed. */
static int kill_as_refused(void)
{
	static const cap_value_t none[] = { CAP_SETGID };
	pid_t victim = start_victim();

	CHECK(victim > 0 && become_confined_pool() == 0);
	CHECK(keep_only(none, 1) == 0);
	errno = 0;
	CHECK(idswitch_kill_as(CALLER, &POOL_ID, -victim, SIGKILL) == -1 && errno == EPERM);
	CHECK(idswitch_is(&POOL_ID));
	CHECK(kill(victim, 0) == -1 && errno == EPERM); /* still alive, still not ours */
	return 0;
}

/* What it would return to is not what it is: it stops rather than act. */
static int kill_as_wrong_self(void)
{
	struct ident wrong = POOL_ID;
	pid_t victim = start_victim();

	wrong.ngroups = 0; /* it has the pool's group */
	CHECK(victim > 0 && become_confined_pool() == 0);
	idswitch_kill_as(CALLER, &wrong, -victim, SIGKILL);
	return 0;
}

/* ---------------------------------------------------------------- iddrop */

/* Nothing of the old identity and nothing of root comes back. */
static int cannot_regain(uid_t old_uid, gid_t old_gid)
{
	CHECK(syscall(SYS_setresuid, 0, 0, 0) == -1 && errno == EPERM);
	CHECK(setuid(0) == -1 && seteuid(0) == -1);
	CHECK(syscall(SYS_setresgid, 0, 0, 0) == -1 && errno == EPERM);
	CHECK(syscall(SYS_setresuid, old_uid, old_uid, old_uid) == -1 && errno == EPERM);
	CHECK(syscall(SYS_setresuid, -1, old_uid, -1) == -1 && errno == EPERM);
	CHECK(syscall(SYS_setresgid, old_gid, old_gid, old_gid) == -1 && errno == EPERM);
	CHECK(syscall(SYS_setgroups, 0, NULL) == -1 && errno == EPERM);
	return 0;
}

/* A whole process, as the front end and a trusted worker drop. */
static int drop_process(void)
{
	char err[256] = "";
	int rc;

	CHECK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
	CHECK(iddrop_process(&CALLER_ID, err, sizeof(err)) == 0);
	CHECK(uids_are(CALLER) && gids_are(CALLER));
	CHECK(strcmp(groups_text(), "100,1000,1002") == 0);
	CHECK(no_capabilities());
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	rc = cannot_regain(0, 0);
	return rc;
}

static void *wait_forever(void *arg)
{
	char c;

	(void)!read(*(int *)arg, &c, 1);
	return NULL;
}

/* A second thread would keep root: refused, nothing changed. */
static int drop_with_threads(void)
{
	char err[256] = "";
	pthread_t t;
	int p[2];

	CHECK(pipe(p) == 0 && pthread_create(&t, NULL, wait_forever, &p[0]) == 0);
	CHECK(iddrop_process(&CALLER_ID, err, sizeof(err)) == -1);
	CHECK(strstr(err, "dropping to 1000:1000: more than one thread") == err);
	CHECK(uids_are(0) && gids_are(0));
	return 0;
}

/* As the spawner's child drops: from the pool's identity with
 * CAP_SETUID/CAP_SETGID to the caller's; the pool does not come back. */
static int drop_from_pool(void)
{
	const char *step;
	int rc;

	CHECK(become_confined_pool() == 0);
	CHECK(!no_capabilities());
	step = iddrop_child(&CALLER_ID);
	CHECK(step == NULL);
	CHECK(uids_are(CALLER) && gids_are(CALLER) && no_capabilities());
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	rc = cannot_regain(POOL, POOL);
	return rc;
}

/* A pool that does not impersonate starts a program as itself: nothing
 * to set (it could not), still no capability and no way to root. */
static int drop_already_there(void)
{
	char err[256];

	CHECK(iddrop_process(&POOL_ID, err, sizeof(err)) == 0);
	CHECK(iddrop_child(&POOL_ID) == NULL);
	CHECK(uids_are(POOL) && no_capabilities());
	return 0;
}

/* ---------------------------------------------------------------- vfork child */

/* What the vfork child reports in the memory it shares with its parent. */
struct vfork_result {
	struct ident to;
	const char *step;
	int err;
	uid_t uid[3];
};

static int vfork_child(void *arg)
{
	struct vfork_result *r = arg;

	r->step = iddrop_child(&r->to);
	r->err = errno;
	syscall(SYS_getresuid, &r->uid[0], &r->uid[1], &r->uid[2]);
	_exit(r->step ? 127 : 0);
}

/* Clone as the spawner does (CLONE_VM | CLONE_VFORK): the result is in
 * the parent's memory when clone returns. */
static int vfork_drop(struct vfork_result *r)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	int status;
	pid_t pid;

	r->step = "not run";
	pid = clone(vfork_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, r);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* One drop that works, one failure at each step the kernel can refuse
 * (an id not mapped: EINVAL) and a drop to root; the parent (as the
 * spawner) stays root throughout, and so does a child that failed. */
static int vfork_steps(void)
{
	static const struct {
		const char *step;
		uid_t uid;
		gid_t gid, group;
	} refused[] = {
		{ "setgroups", CALLER, CALLER, UNMAPPED },
		{ "setresgid", CALLER, UNMAPPED, CALLER },
		{ "setresuid", UNMAPPED, CALLER, CALLER },
		{ "a drop to root", 0, 0, 0 },
	};
	static struct vfork_result r;
	int status;

	r = (struct vfork_result){ .to = CALLER_ID };
	status = vfork_drop(&r);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && r.step == NULL);
	CHECK(r.uid[0] == CALLER && r.uid[1] == CALLER && r.uid[2] == CALLER);
	CHECK(idswitch_is(&ROOT));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		r = (struct vfork_result){ .to = { .uid = refused[i].uid, .gid = refused[i].gid,
						   .groups = { refused[i].group }, .ngroups = 1 } };
		status = vfork_drop(&r);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 127);
		CHECK(r.step && strcmp(r.step, refused[i].step) == 0 && r.err == EINVAL);
		CHECK(r.uid[0] == 0 && r.uid[1] == 0 && r.uid[2] == 0);
	}
	CHECK(idswitch_is(&ROOT) && !no_capabilities());
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PASSES("switch exactly and back", switch_and_back, false),
		PASSES("a switch changes only the thread", only_this_thread, false),
		ABORTS("a refused switch aborts", switch_refused, false),
		ABORTS("a switch to an unmapped id aborts", switch_unmapped, true),
		ABORTS("a switch that does not read back aborts", switch_unverifiable, false),
		PASSES("act as the caller, out of its processes' reach, and back", act_and_back,
		       false),
		ABORTS("acting that does not read back aborts", act_unverifiable, false),
		PASSES("kill as the child's uid, and back", kill_as_caller, false),
		PASSES("kill as: a refused switch changes nothing", kill_as_refused, false),
		ABORTS("kill as: a wrong self aborts", kill_as_wrong_self, false),
		PASSES("drop a process for good", drop_process, false),
		PASSES("a drop refuses a threaded process", drop_with_threads, false),
		PASSES("drop from the pool's identity", drop_from_pool, false),
		PASSES("drop to what it is", drop_already_there, false),
		PASSES("the vfork child's drop and its steps", vfork_steps, true),
	};
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
