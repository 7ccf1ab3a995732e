/* authenticator.c -- the one process that can tell who is calling.
 *
 * It alone holds the acceptor keys (a private MEMORY: keytab copied from
 * the keytab file before it drops its privileges), the replay cache and
 * the session cookie keys; it runs gss_accept_sec_context, asks the PAM
 * helper for account checks and Basic passwords, maps principals to
 * accounts, checks `require`, and holds delegated credentials until they
 * leave sealed in a verdict.  The front end -- the process the network
 * reaches -- sends it a request's credentials and gets back what to tell
 * the client and a verdict it can neither read nor forge (verdict.h): the
 * pool workers act on nothing else.  So a compromised front end can
 * replay nothing, claim nobody, and read no key: OpenSSH's monitor, for
 * HTTP.
 *
 * It runs as its own user (authenticator_user), with no capability,
 * no_new_privs, not dumpable, under a seccomp filter that refuses exec,
 * every set*id call, ptrace and namespaces.  One thread runs the loop: an
 * accept is tens of microseconds, and nothing there blocks (PAM answers
 * come back on the helper's socket, fail delays are timers of the loop).
 * The KDC, which can be slow or hung, is asked on threads of their own
 * (kdcq.c, constrained delegation), started when first needed: the loop
 * goes on, and a question the KDC leaves unanswered fails at its deadline.
 *
 * Peers: what it accepts from each (anything else, or a malformed
 * message: logged, and the peer dropped -- dropping the front end or the
 * supervisor ends the process, the supervisor starts a new one; a PAM
 * helper dropped exits, and the supervisor starts a new one)
 *   supervisor  CTL_PAMSOCK (one fd: the PAM helper's socket), CTL_KEYTAB
 *               (one fd: the keytab changed, keytab rotation)
 *   front end   AUTHN_REQ, AUTHN_CONN_END (authjob.c), on one channel per
 *               front-end event loop (given at the fork), each answered
 *               on the channel it came from
 *   PAM helper  AUTH_RESULT (pamq.c)
 * It sends the supervisor READY, the front end AUTHN_REPLY, the PAM
 * helper AUTH_ACCT and AUTH_PASS.  */
#include "authenticator.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "authjob.h"
#include "config.h"
#include "cpu.h"
#include "confine.h"
#include "ctlmsg.h"
#include "iddrop.h"
#include "kdcq.h"
#include "log.h"
#include "negotiate.h"
#include "pamq.h"
#include "peers.h"
#include "privsep.h"
#include "rundir.h"
#include "util.h"
#include "wire.h"

enum src { SRC_CTL = 1, SRC_PAM, SRC_SIG, SRC_KDC, SRC_FE /* + the front end's loop */ };

static const uint16_t from_supervisor[] = { W_CTL_PAMSOCK, W_CTL_KEYTAB };
static const uint16_t from_frontend[] = { W_AUTHN_REQ, W_AUTHN_CONN_END };
static const struct peer_table supervisor_peer = PEER_TABLE("supervisor", from_supervisor);
static const struct peer_table frontend_peer = PEER_TABLE("front end", from_frontend);

static struct {
	const struct config *c;
	int epfd, ctl, sigfd;
	const int *fe;       /* the front end's channels, one per loop */
	unsigned nfe;
	int pam_watched;
	uint8_t buf[WIRE_MAX_FRAME];
} A = { .pam_watched = -1 };

/* ---------------------------------------------------------------- start-up */

static bool negotiate_used(const struct config *c)
{
	for (size_t i = 0; i < c->nvdirs; i++)
		if (c->vdirs[i].auth & AUTH_NEGOTIATE)
			return true;
	return false;
}

/* The replay cache (replay.c) lives in replay_cache_dir, which survives
 * restarts (/var/tmp, krb5's default, is emptied by systemd's PrivateTmp=
 * at every stop: a token captured before a restart could be replayed
 * right after it) and belongs to the authenticator's user alone.  Made
 * now, as root; the file in it is opened once this process is that user.
 * MIT's own cache is off (each credential says rcache "none:"; the
 * variable is for any credential that would not). */
static void place_replay_cache(const struct config *c)
{
	char err[PATH_MAX + 200];

	if (rundir_make_private(c->server.replay_cache_dir, c->server.auth_uid,
				c->server.auth_gid, err, sizeof(err)) < 0)
		die("%s", err);
	setenv("KRB5RCACHETYPE", "none", 1);
}

/* Like the front end's loops and the workers (cpu.h): a question from a
 * loop does not preempt the loop that is about to wait for its answer
 * anyway -- one switch instead of two.  (Measured, bench/run: Negotiate
 * on every request 7 µs of CPU less.) */
static void schedule_as_batch(const struct config *c)
{
	if (c->server.cpu_affinity)
		cpu_batch_thread();
}

static void open_replay_cache(const struct config *c)
{
	char err[PATH_MAX + 200];

	if (negotiate_used(c) &&
	    negotiate_open_replay_cache(c->server.replay_cache_dir, err, sizeof(err)) < 0)
		die("%s", err);
}

/* The keys are read now, while the files may still be readable only by
 * root; afterwards this process never opens them again. */
static void load_keys(const struct config *c)
{
	char err[512];

	if (auth_load_session_keys(c, err, sizeof(err)) < 0)
		die("%s", err);
	if (!negotiate_used(c))
		return;
	place_replay_cache(c);
	if (negotiate_load_keys(c, err, sizeof(err)) < 0)
		die("Negotiate: %s", err);
}

/* Its own user, no supplementary group, no capability, not dumpable (it
 * holds keys), and a filter against what it never does. */
static void confine_self(const struct config *c)
{
	struct ident id = { .uid = c->server.auth_uid, .gid = c->server.auth_gid, .ngroups = 0 };
	char err[256];

	if (privsep_privileged() && iddrop_process(&id, err, sizeof(err)) < 0)
		die("cannot become user %s: %s", c->server.auth_user, err);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl: %m");
	if (confine_authenticator(err, sizeof(err)) < 0)
		die("cannot confine the authenticator: %s", err);
}

/* ---------------------------------------------------------------- the loop */

static void watch(int fd, enum src what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = what };

	if (epoll_ctl(A.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %m");
}

static void set_pam(int fd)
{
	if (A.pam_watched >= 0)
		epoll_ctl(A.epfd, EPOLL_CTL_DEL, A.pam_watched, NULL);
	pamq_set_socket(fd);
	A.pam_watched = fd;
	watch(fd, SRC_PAM);
}

/* _exit: the KDC question threads (kdcq.c) may be inside MIT krb5, waiting
 * for a KDC, and exit() would run krb5's and GnuTLS's destructors under
 * their feet.  Nothing of ours needs to run at exit (the replay cache is
 * written as each ticket is taken). */
__attribute__((noreturn)) static void leave(int status)
{
	fflush(NULL);
	_exit(status);
}

/* Without its front end this process serves nobody: it ends, and the
 * supervisor starts a new one with channels to the front end that runs
 * (or, in a reload, to none: the generation is stopping). */
__attribute__((noreturn)) static void drop_frontend(const char *why)
{
	log_msg(LOG_ERR, "front end %s: dropping its channels and its %zu questions; exiting",
		why, authjob_count());
	leave(1);
}

/* One question per wake-up: the channel is watched level-triggered, so
 * another one waiting brings epoll_wait back at once, and the usual single
 * question costs no second recvmsg that would only say EAGAIN. */
static void on_frontend(unsigned loop)
{
	struct wire_frame f;
	char name[48];
	int rc = wire_recv(A.fe[loop], A.buf, &f, MSG_DONTWAIT);

	if (rc < 0 && errno == EAGAIN)
		return;
	if (rc == 0 || (rc < 0 && errno != EPROTO)) { /* (ECONNRESET: it died) */
		log_msg(LOG_INFO, "the front end is gone: exiting");
		leave(0);
	}
	if (rc < 0)
		drop_frontend("sent a malformed frame");
	if (!peer_accepts(&frontend_peer, f.type) || f.nfds) {
		wire_close_fds(&f);
		log_msg(LOG_ERR, "front end sent %s, which it never may",
			peer_type_name(f.type, name, sizeof(name)));
		drop_frontend("broke the protocol");
	}
	if (authjob_on_frame(&f, A.fe[loop]) < 0)
		drop_frontend("sent a malformed question");
}

static void reread_keytab(int fd)
{
	char err[300];

	if (negotiate_add_keys(fd, err, sizeof(err)) < 0)
		log_msg(LOG_WARNING, "keytab changed, but cannot be read: %s", err);
	close(fd);
}

/* -1: the supervisor is gone, or broke the protocol: the process ends. */
static int on_supervisor(void)
{
	struct wire_frame f;
	char name[48];
	int rc = wire_recv(A.ctl, A.buf, &f, MSG_DONTWAIT);

	if (rc < 0 && errno == EAGAIN)
		return 0;
	if (rc <= 0)
		return -1;
	if (!peer_accepts(&supervisor_peer, f.type)) {
		log_msg(LOG_ERR, "supervisor sent %s", peer_type_name(f.type, name, sizeof(name)));
		wire_close_fds(&f);
		return -1;
	}
	if (f.type == W_CTL_PAMSOCK && ctlm_pamsock_decode(&f) == 0)
		set_pam(f.fds[0]);
	else if (f.type == W_CTL_KEYTAB && ctlm_keytab_decode(&f) == 0)
		reread_keytab(f.fds[0]);
	else {
		wire_close_fds(&f);
		return -1;
	}
	return 0;
}

static void on_event(uint32_t what)
{
	struct signalfd_siginfo si;

	if (what >= SRC_FE) {
		on_frontend(what - SRC_FE);
		return;
	}
	switch (what) {
	case SRC_PAM:
		pamq_on_readable();
		break;
	case SRC_KDC:
		kdcq_on_readable();
		break;
	case SRC_CTL:
		if (on_supervisor() < 0) {
			log_msg(LOG_INFO, "the supervisor's channel closed: exiting");
			leave(0);
		}
		break;
	case SRC_SIG:
		if (read(A.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			log_msg(LOG_INFO, "stopped");
			leave(0);
		}
		break;
	}
}

__attribute__((noreturn)) static void run(void)
{
	struct epoll_event ev[16];

	for (;;) {
		int timeout = pamq_run_timers(now_ms());
		int kdc = kdcq_run_timers(now_ms());
		if (kdc >= 0 && (timeout < 0 || kdc < timeout))
			timeout = kdc;
		int n = epoll_wait(A.epfd, ev, 16, timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %m");
		for (int i = 0; i < n; i++)
			on_event(ev[i].data.u32);
	}
}

static void setup_loop(struct authn_args *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	A.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	A.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (A.sigfd < 0 || A.epfd < 0)
		die("cannot set up the loop: %m");
	A.ctl = a->ctl;
	set_nonblock(A.ctl, true);
	watch(A.ctl, SRC_CTL);
	watch(A.sigfd, SRC_SIG);
	int kfd = kdcq_init();
	if (kfd < 0)
		die("cannot set up the loop: eventfd: %m");
	watch(kfd, SRC_KDC);
	A.fe = a->fe;
	A.nfe = a->nfe;
	for (unsigned i = 0; i < a->nfe; i++) {
		set_nonblock(a->fe[i], true);
		watch(a->fe[i], (enum src)(SRC_FE + i));
	}
}

void authenticator_main(struct authn_args *a)
{
	const struct config *c = a->c;

	log_set_role("authenticator");
	prctl(PR_SET_NAME, "idgate-authn", 0, 0, 0);
	A.c = c;
	authjob_init(c, a->verdict_key);
	load_keys(c);
	schedule_as_batch(c);
	confine_self(c);
	open_replay_cache(c);
	auth_init(c);
	setup_loop(a);
	if (ctlm_send_ready(a->ctl) < 0)
		die("cannot report readiness: %m");
	log_msg(LOG_INFO, "serving as uid %u", (unsigned)geteuid());
	run();
}
