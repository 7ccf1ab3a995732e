/* spawner.c -- the small process that forks programs for a pool worker.
 *
 * A worker grows (modules, buffers, threads), and fork() from a large
 * process is slow; so each worker forks this process at start, while it is
 * small and single-threaded, and asks it for every child.  It inherits the
 * worker's walls (user namespace, capabilities, seccomp) and keeps nothing
 * else: no channel, no module state.
 *
 * A child drops to its identity for good (iddrop.c): groups, gid, uid
 * (real, effective and saved), then every capability; it checks that the
 * pool's identity and root cannot be regained, sets no_new_privs, gets
 * only the environment it was given and only fds 0-2, becomes a process
 * group of its own (so it can be killed whole), and execs.  What fails before exec
 * is reported with errno and the step.
 *
 * The worker may send the program as an open file rather than a path
 * (after checking that very file, e.g. its owner and mode): the child gets
 * it as fd 3, not close-on-exec, and execveat()s it, so nothing can be
 * swapped in between the check and the exec.
 *
 * Peers: what it accepts from each (a malformed SPAWN: answered FAILED; a
 * message of another type: logged, and the peer dropped -- on its socket,
 * the spawner kills its children and exits; on a reply socket, that child
 * is killed and the socket closed)
 *   its worker  SPAWN (with 4 or 5 descriptors) on its socket; SPAWN_KILL on
 *               a child's reply socket
 * It answers SPAWN_STARTED, SPAWN_FAILED and SPAWN_EXITED.  */
#include "spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "iddrop.h"
#include "peers.h"
#include "spawnmsg.h"
#include "idpolicy.h"
#include "privsep.h"
#include "util.h"
#include "wire.h"

struct kid {
	pid_t pid;
	uid_t uid;
	int reply;  /* -1: nobody listens any more; the child is only reaped */
	bool ended; /* it exited and the worker was told; a zombie until the
		       worker lets go, so that its process group's id cannot
		       be reused before what is left in it is killed */
};

/* What the worker may send: on the spawner's socket, and on a reply socket. */
static const uint16_t from_worker[] = { W_SPAWN };
static const uint16_t from_worker_reply[] = { W_SPAWN_KILL };
static const struct peer_table worker_peer = PEER_TABLE("worker", from_worker);
static const struct peer_table reply_peer = PEER_TABLE("worker", from_worker_reply);

static struct {
	struct ident self;
	const struct id_policy *ids; /* the config's, inherited from the worker */
	struct kid *kids;
	size_t nkids;
} SP;

/* ---------------------------------------------------------------- child */

/* The child shares the spawner's memory until it execs (vfork): copying
 * the page tables of even this small process, and throwing them away at
 * exec, cost more than the exec itself.  So the child uses only system
 * calls and its own stack, never malloc or glibc's id setters (which
 * would signal threads), and reports a failure in `fail`, which the
 * spawner reads when it runs again. */
#define CHILD_STACK (64u * 1024u)

struct step_error {
	int err;           /* 0: the exec happened */
	char step[60];
};

struct request {
	pid_t spawner;   /* our pid: the child's parent until it execs */
	struct ident as;
	const char *path, *cwd;
	char *argv[SPAWN_MAX_ARGS + 1];
	char *envp[SPAWN_MAX_ENV + 1];
	const int *fds;  /* the child's 0, 1, 2 */
	int exec_fd;     /* the open program to execute, or -1: `path` */
	struct step_error fail;
};

__attribute__((noreturn)) static void child_fail(struct request *q, const char *step)
{
	q->fail.err = errno ? errno : EPERM;
	snprintf(q->fail.step, sizeof(q->fail.step), "%s", step);
	_exit(127);
}

/* Put the given fds on 0, 1, 2 and the program to execute, if any, on 3
 * (any of them may already sit on one of those numbers); close the rest. */
static void place_fds(struct request *q)
{
	const int src[4] = { q->fds[0], q->fds[1], q->fds[2], q->exec_fd };
	int n = q->exec_fd >= 0 ? 4 : 3, high[4];

	for (int i = 0; i < n; i++) {
		high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
		if (high[i] < 0)
			child_fail(q, "dup");
	}
	/* dup2 clears close-on-exec: fd 3 must survive the exec, since an
	 * interpreter reads a "#!" script through /dev/fd/3 */
	for (int i = 0; i < n; i++)
		if (dup2(high[i], i) < 0)
			child_fail(q, "dup2");
	syscall(SYS_close_range, n, ~0u, 0);
}

/* For good (iddrop.c): groups, gid, uid, no capability, no_new_privs,
 * verified, and neither root nor the pool's identity can come back. */
static void drop_for_good(struct request *q)
{
	const char *step = iddrop_child(&q->as);

	if (step)
		child_fail(q, step);
	/* a session keyring of its own: programs run as different callers
	 * must not share the service's (or each other's) keys */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
		child_fail(q, "a new session keyring");
}

/* A spawner killed with SIGKILL (or its worker: the spawner dies with it)
 * kills none of its children, and their requests have failed: the kernel
 * kills the program then.  Set after the identity drop, which clears it;
 * a spawner that died before is seen in the parent pid.  (The program's
 * own children are its business: they lose their pipes to the worker.) */
static void die_with_spawner(struct request *q)
{
	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(q, "PR_SET_PDEATHSIG");
	if (syscall(SYS_getppid) != q->spawner) {
		errno = ESRCH;
		child_fail(q, "the spawner is gone");
	}
}

static int run_child(void *arg)
{
	struct request *q = arg;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	/* the spawner blocked every signal around the clone: no handler of
	 * its can run here before the defaults are back */
	for (int sig = 1; sig < NSIG; sig++)
		syscall(SYS_rt_sigaction, sig, &dfl, NULL, _NSIG / 8);
	sigemptyset(&none);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);
	setsid();
	place_fds(q);
	drop_for_good(q);
	die_with_spawner(q);
	if (chdir(q->cwd) < 0)
		child_fail(q, "chdir");
	if (q->exec_fd < 0) {
		execve(q->path, q->argv, q->envp);
		child_fail(q, "execve");
	}
	/* the very file the worker opened and checked: nothing is looked up */
	syscall(SYS_execveat, 3, "", q->argv, q->envp, AT_EMPTY_PATH);
	child_fail(q, "execveat");
}

/* Start the child; returns its pid once it has exec'd, or -1 with
 * q->fail saying which step failed. */
static pid_t start_child(struct request *q)
{
	static char stack[CHILD_STACK] __attribute__((aligned(16)));
	sigset_t all, old;
	pid_t pid;
	int status;

	q->fail.err = 0;
	q->spawner = getpid();
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(run_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, q);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		q->fail.err = errno;
		snprintf(q->fail.step, sizeof(q->fail.step), "clone");
		return -1;
	}
	if (q->fail.err) { /* it exited before exec: reap it now */
		waitpid(pid, &status, 0);
		return -1;
	}
	return pid;
}

/* ---------------------------------------------------------------- requests */

static bool uid_allowed(const struct ident *self, const struct id_policy *ids, uint32_t id)
{
	return id == self->uid || idpol_uid_ok(ids, id);
}

/* The pool's own groups, or what the policy allows. */
static bool gid_allowed(const struct ident *self, const struct id_policy *ids, uint32_t id)
{
	if (id == self->gid || idpol_gid_ok(ids, id))
		return true;
	for (size_t k = 0; k < self->ngroups; k++)
		if (id == self->groups[k])
			return true;
	return false;
}

const char *spawner_check_request(const struct wire_frame *f, const struct ident *self,
				  const struct id_policy *ids, struct spawnm_request *m)
{
	if (spawnm_request_decode(f, m) < 0)
		return "malformed request";
	if (m->path[0] != '/' || m->cwd[0] != '/')
		return "path and directory must be absolute";
	if (!uid_allowed(self, ids, m->as.uid) || !gid_allowed(self, ids, m->as.gid))
		return "identity outside the impersonation policy";
	for (size_t i = 0; i < m->as.ngroups; i++)
		if (!gid_allowed(self, ids, m->as.groups[i]))
			return "group outside the impersonation policy";
	return NULL;
}

/* Decode and check a request; NULL if fine, else why not.  The codec
 * checks the form; who the child may be is checked here. */
static const char *read_request(const struct wire_frame *f, struct request *q)
{
	static struct spawnm_request m; /* 5 KiB: off the small stack */
	const char *bad = spawner_check_request(f, &SP.self, SP.ids, &m);

	if (bad)
		return bad;
	q->fds = &f->fds[1];
	q->exec_fd = m.exec_fd ? f->fds[SPAWNM_FDS] : -1;
	q->as = m.as;
	q->path = m.path;
	q->cwd = m.cwd;
	memcpy(q->argv, m.argv, sizeof(q->argv));
	memcpy(q->envp, m.envp, sizeof(q->envp));
	return NULL;
}

static void reply(int sock, uint16_t type, uint32_t v, const char *text)
{
	struct wbuf b;

	wb_init(&b);
	if (type == W_SPAWN_FAILED)
		spawnm_failed_encode(&b, v, text);
	else if (type == W_SPAWN_STARTED)
		spawnm_started_encode(&b, v);
	else
		spawnm_exited_encode(&b, v);
	wire_send(sock, type, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT);
	wb_free(&b);
}

/* Fork and exec; the reply socket hears STARTED or FAILED. */
static void launch(struct wire_frame *f)
{
	struct request q;
	const char *bad = read_request(f, &q);
	int replyfd = f->nfds ? f->fds[0] : -1;
	pid_t pid;

	if (replyfd < 0)
		return; /* nobody to answer: a frame without fds */
	if (bad) {
		reply(replyfd, W_SPAWN_FAILED, EINVAL, bad);
		goto done;
	}
	pid = start_child(&q);
	if (pid < 0) {
		reply(replyfd, W_SPAWN_FAILED, (uint32_t)q.fail.err, q.fail.step);
		goto done;
	}
	reply(replyfd, W_SPAWN_STARTED, (uint32_t)pid, NULL);
	SP.kids = xreallocarray(SP.kids, SP.nkids + 1, sizeof(*SP.kids));
	SP.kids[SP.nkids++] = (struct kid){ .pid = pid, .uid = q.as.uid, .reply = replyfd };
	replyfd = -1; /* kept until the child ends */
done:
	if (replyfd >= 0)
		close(replyfd);
	for (size_t i = 1; i < f->nfds; i++)
		close(f->fds[i]);
	f->nfds = 0;
}

/* Signalling another uid needs CAP_KILL, which we do not hold; we may take
 * the child's uid as our effective uid for the moment instead (it is one
 * we are allowed to set anyway): idswitch_kill_as returns to our own, or
 * aborts. */
static void kill_kid(const struct kid *k)
{
	if (idswitch_kill_as(k->uid, &SP.self, -k->pid, SIGKILL) < 0 && errno != ESRCH)
		log_msg(LOG_ERR, "cannot kill pid %d as uid %u: %m", (int)k->pid,
			(unsigned)k->uid);
}

static void forget(size_t i)
{
	if (SP.kids[i].reply >= 0)
		close(SP.kids[i].reply);
	SP.kids[i] = SP.kids[--SP.nkids];
}

/* Nobody needs the child any more: kill what is left of its process
 * group (a program may leave processes behind), then reap it. */
static void let_go(size_t i)
{
	kill_kid(&SP.kids[i]);
	waitpid(SP.kids[i].pid, NULL, 0);
	forget(i);
}

static uint32_t wait_status(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return ((uint32_t)si->si_status & 0xff) << 8;
	return ((uint32_t)si->si_status & 0x7f) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

/* Tell the worker about children that ended, but leave them unreaped
 * (WNOWAIT) until it lets go.  After EXITED the reply socket is shut for
 * writing: a second wait sees its end, not a silence. */
static void reap(void)
{
	for (size_t i = SP.nkids; i-- > 0;) {
		struct kid *k = &SP.kids[i];
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (k->ended || waitid(P_PID, (id_t)k->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid != k->pid)
			continue;
		if (k->reply < 0) {
			let_go(i);
			continue;
		}
		reply(k->reply, W_SPAWN_EXITED, wait_status(&si), NULL);
		shutdown(k->reply, SHUT_WR);
		k->ended = true;
	}
}

/* A message on a child's reply socket: KILL, or the worker let go of it. */
static void on_reply_socket(size_t i, uint8_t *buf)
{
	char name[48];
	struct wire_frame f;
	int rc = wire_recv(SP.kids[i].reply, buf, &f, MSG_DONTWAIT);

	if (rc < 0 && errno == EAGAIN)
		return;
	if (rc > 0) {
		bool ok = peer_accepts(&reply_peer, f.type) && spawnm_kill_decode(&f) == 0;
		wire_close_fds(&f);
		if (ok) {
			kill_kid(&SP.kids[i]);
			return;
		}
		log_msg(LOG_ERR, "the worker broke the protocol on the reply socket of pid %d: "
			"%s %s; dropping it", (int)SP.kids[i].pid,
			peer_accepts(&reply_peer, f.type) ? "malformed" : "unexpected message",
			peer_type_name(f.type, name, sizeof(name)));
	}
	if (SP.kids[i].ended) {
		let_go(i);
		return;
	}
	kill_kid(&SP.kids[i]); /* reap() lets it go when it has died */
	close(SP.kids[i].reply);
	SP.kids[i].reply = -1;
}

/* The worker sent what it never sends: its children go, and so do we. */
__attribute__((noreturn)) static void drop_worker(struct wire_frame *f)
{
	char name[48];

	log_msg(LOG_ERR, "the worker broke the protocol: unexpected message %s; exiting",
		peer_type_name(f->type, name, sizeof(name)));
	wire_close_fds(f);
	for (size_t i = 0; i < SP.nkids; i++)
		kill_kid(&SP.kids[i]);
	_exit(1);
}

__attribute__((noreturn)) static void spawner_main(int sock)
{
	uint8_t *buf = xmalloc(WIRE_MAX_FRAME);
	sigset_t set;
	int sigfd;

	log_set_role("spawner");
	prctl(PR_SET_NAME, "idgate-spawn", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("PR_SET_DUMPABLE: %m");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		die("signalfd: %m");
	for (;;) {
		struct pollfd *p = xcalloc(SP.nkids + 2, sizeof(*p));
		struct wire_frame f;
		size_t n = SP.nkids;

		p[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		for (size_t i = 0; i < n; i++) /* a negative fd is skipped by poll */
			p[2 + i] = (struct pollfd){ .fd = SP.kids[i].reply, .events = POLLIN };
		if (poll(p, n + 2, -1) > 0) {
			for (size_t i = n; i-- > 0;)
				if (p[2 + i].revents & (POLLIN | POLLHUP))
					on_reply_socket(i, buf);
			if (p[1].revents & POLLIN) {
				struct signalfd_siginfo si;
				while (read(sigfd, &si, sizeof(si)) == sizeof(si))
					;
				reap();
			}
			if (p[0].revents & (POLLIN | POLLHUP)) {
				int rc = wire_recv(sock, buf, &f, 0);
				if (rc == 0 || (rc < 0 && errno != EPROTO)) {
					for (size_t i = 0; i < SP.nkids; i++)
						kill_kid(&SP.kids[i]);
					_exit(0); /* the worker is gone */
				}
				if (rc > 0 && !peer_accepts(&worker_peer, f.type))
					drop_worker(&f);
				if (rc > 0)
					launch(&f);
			}
		}
		free(p);
	}
}

int spawner_start(const struct ident *self, const struct id_policy *ids)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		SP.self = *self;
		SP.ids = ids;
		close_fds_except(&sv[1], 1);
		spawner_main(sv[1]);
	}
	close(sv[1]);
	return sv[0];
}

/* ---------------------------------------------------------------- worker side */

/* One message from the spawner on a reply socket, of a type in `t`, into
 * buf (the answers are small: a buffer of our own keeps this off the heap).
 * 1 with the frame, 0 when the spawner closed it, -1 when it broke the
 * protocol (logged). */
static int recv_from_spawner(int reply, uint8_t *buf, size_t cap, const struct peer_table *t,
			     struct wire_frame *f)
{
	char name[48];
	int rc = wire_recv_small(reply, buf, cap, f, 0);

	if (rc <= 0)
		return rc < 0 && errno == EPROTO ? -1 : 0;
	if (peer_accepts(t, f->type))
		return 1;
	log_msg(LOG_ERR, "the spawner broke the protocol: unexpected message %s",
		peer_type_name(f->type, name, sizeof(name)));
	wire_close_fds(f);
	return -1;
}

static const uint16_t answer_types[] = { W_SPAWN_STARTED, W_SPAWN_FAILED };
static const uint16_t exit_types[] = { W_SPAWN_EXITED };
static const struct peer_table spawner_answer = PEER_TABLE("spawner", answer_types);
static const struct peer_table spawner_exit = PEER_TABLE("spawner", exit_types);

/* STARTED or FAILED on the new reply socket; the socket or -1. */
static int read_answer(int reply, pid_t *pid, char *why, size_t len)
{
	uint8_t buf[WIRE_HDR + 512];
	struct spawnm_answer a;
	struct wire_frame f;

	if (recv_from_spawner(reply, buf, sizeof(buf), &spawner_answer, &f) <= 0 ||
	    spawnm_answer_decode(&f, &a) < 0) {
		wire_close_fds(&f);
		snprintf(why, len, "the spawner did not answer");
		close(reply);
		errno = EPIPE;
		return -1;
	}
	if (a.started) {
		*pid = (pid_t)a.pid;
		return reply;
	}
	snprintf(why, len, "%s: %s", a.step, strerror((int)a.err));
	close(reply);
	errno = (int)a.err;
	return -1;
}

int spawn_start(int sp, const struct spawn_request *q, pid_t *pid, char *why, size_t len)
{
	struct wbuf b;
	int rv[2], fds[SPAWNM_FDS + 1], nfds = SPAWNM_FDS;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rv) < 0) {
		snprintf(why, len, "socketpair: %s", strerror(errno));
		return -1;
	}
	wb_init(&b);
	spawnm_request_encode(&b, q->as, q->path, q->cwd ? q->cwd : "/", q->argv, q->envp);
	fds[0] = rv[1];
	memcpy(fds + 1, q->fds, sizeof(q->fds));
	if (q->exec_fd > 2)
		fds[nfds++] = q->exec_fd;
	if (b.overflow || wire_send(sp, W_SPAWN, 0, b.p, b.len, fds, (size_t)nfds, 0) < 0) {
		snprintf(why, len, "%s", b.overflow ? "arguments and environment too large"
						    : "the spawner is gone");
		wb_free(&b);
		close(rv[0]);
		close(rv[1]);
		errno = b.overflow ? E2BIG : EPIPE;
		return -1;
	}
	wb_free(&b);
	close(rv[1]);
	return read_answer(rv[0], pid, why, len);
}

int spawn_wait(int reply, int timeout_ms, int *status)
{
	struct pollfd p = { .fd = reply, .events = POLLIN };
	uint8_t buf[WIRE_HDR + 64];
	struct wire_frame f;
	uint32_t v;
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return rc;
	if (recv_from_spawner(reply, buf, sizeof(buf), &spawner_exit, &f) <= 0 ||
	    spawnm_exited_decode(&f, &v) < 0) {
		wire_close_fds(&f);
		return -1;
	}
	*status = (int)v;
	return 1;
}

int spawn_kill(int reply)
{
	return wire_send(reply, W_SPAWN_KILL, 0, NULL, 0, NULL, 0, MSG_DONTWAIT);
}
