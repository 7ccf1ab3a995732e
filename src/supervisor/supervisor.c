/* supervisor.c -- the only process that keeps root after start-up, and it
 * does little with it: it opens the listening sockets and the log files,
 * creates the channels between the front end and the pool workers, forks
 * those children (each drops to its own identity at once), maps the user
 * namespaces of impersonating workers, restarts workers that die (until
 * rapid_fail disables their pool), restarts a front end or PAM helper
 * that dies ("role processes", respawn.h: a new front end gets the same
 * listening sockets and new workers and PAM helper; the old ones finish
 * and exit), reloads on SIGHUP, reopens the log files on SIGUSR1 (after a
 * rotation) and stops everything on SIGTERM.  It never reads the network.
 * It tells systemd what serves (sd_notify STATUS=).
 *
 * A running configuration and its children form a generation.  SIGHUP
 * validates the file first; a bad file is reported and changes nothing.
 * A good one starts a new generation on the same listening sockets; once
 * it is ready the old front end drains (it stops accepting and finishes
 * its requests), then the old workers stop.  A new generation one of
 * whose children (other than a pool worker) dies before it is ready is
 * stopped, and the old one goes on serving.
 *
 * idgatectl talks to it over a root-only control socket (control.c): it
 * reports status (with the request counts the front end keeps, asked for
 * over the front end's control channel), starts, stops and recycles a
 * pool's worker, reloads and checks the configuration.  A recycled or
 * stopped worker is "retired": the front end stops giving it requests and
 * closes its channels as their requests end, and the worker exits when
 * its last channel closes.
 *
 * Peers: what it accepts from each (anything else, descriptors where none
 * are expected, or an empty or malformed message: logged, the child killed)
 *   front end    READY; STATS (only as the answer to its own STATS_QUERY)
 *   pool worker  READY
 *   PAM helper   READY
 *   authenticator READY
 *   check child  CHK_BEGIN, CHK_ERROR, CHK_DONE, CHK_FAILED (modinit.c)
 *   idgatectl    ADM_STATUS, ADM_POOL, ADM_RELOAD, ADM_CHECK, ADM_REOPEN
 *                (root only, SO_PEERCRED)
 * It sends the front end CHANNELS, AUTHSOCK, POOL_STATE, POOL_RETIRE,
 * STATS_QUERY and LOGS, never blocking (msgq.c); the authenticator its
 * channel to the PAM helper (PAMSOCK) and the keytab when it changed
 * (KEYTAB, keywatch.h).
 *
 * Each generation has a random verdict key (verdict.h): the authenticator
 * seals with it, the pool workers open with it.  Every other child wipes
 * the copy fork gave it before it does anything else, so the front end
 * never has it and cannot make a verdict.  */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "authenticator.h"
#include "authhelper.h"
#include "config.h"
#include "confine.h"
#include "rundir.h"
#include "control.h"
#include "ctlmsg.h"
#include "ctlproto.h"
#include "diag.h"
#include "frontend.h"
#include "keywatch.h"
#include "listeners.h"
#include "log.h"
#include "modinit.h"
#include "msgq.h"
#include "peers.h"
#include "privsep.h"
#include "respawn.h"
#include "sbuf.h"
#include "util.h"
#include "verdict.h"
#include "wire.h"
#include "worker.h"

#define START_TIMEOUT_MS 30000
#define STATS_TIMEOUT_MS 1000  /* how long status waits for the front end's counts */
#define RETRY_AFTER_DISABLED 60
#define FE_STALL_MS 30000       /* a front end that reads none of its messages this long hangs */
#define FE_QUEUE_MAX 1024       /* messages waiting for a front end, at most ... */
#define FE_QUEUE_MAX_FDS 4096   /* ... and the descriptors they carry */
#define NO_POOL UINT_MAX
#define FE_GONE_WAIT_MS 200     /* fe_gone() */

enum role { ROLE_FRONTEND, ROLE_WORKER, ROLE_AUTH, ROLE_AUTHN };

/* What each child may send on its control channel (the Peers comment
 * above); ctl_read() checks every frame here before it is looked at. */
static const uint16_t from_frontend[] = { W_CTL_READY, W_CTL_STATS };
static const uint16_t from_worker[] = { W_CTL_READY };
static const uint16_t from_pamhelper[] = { W_CTL_READY };
static const uint16_t from_authenticator[] = { W_CTL_READY };
static const struct peer_table peer_tables[] = {
	[ROLE_FRONTEND] = PEER_TABLE("front end", from_frontend),
	[ROLE_WORKER] = PEER_TABLE("pool worker", from_worker),
	[ROLE_AUTH] = PEER_TABLE("PAM helper", from_pamhelper),
	[ROLE_AUTHN] = PEER_TABLE("authenticator", from_authenticator),
};

struct generation;

struct child {
	enum role role;
	unsigned pool;     /* ROLE_WORKER */
	pid_t pid;
	int ctl;           /* supervisor's end */
	bool ready;
	char *name;        /* for messages */
	struct generation *gen;
	uint32_t tag;      /* ROLE_WORKER: names its channels at the front end */
	uint64_t started_ms;
	uint64_t trust_since_ms; /* ROLE_WORKER: for its next start, when its predecessor
				    died (worker_failed); 0: that start */
	int reply_fd;      /* an idgatectl waiting for this worker to be ready */
	uint32_t reply_old_pid;
	struct respawn rs; /* not ROLE_WORKER: when it is started again (respawn.h) */
};

struct pool_health {
	uint64_t *fails;   /* when its workers died, newest last */
	size_t nfails;
	bool disabled;     /* rapid_fail */
	bool stopped;      /* idgatectl pool stop */
	uint64_t restarts; /* workers restarted after a failure */
	int taken_fd;      /* the mark its workers keep of the verdicts they took
			      (trust.h), read when one dies: a memfd, -1 */
};

/* A recycled or stopped worker that finishes its requests, or a peer of a
 * front end that died (`orphan`: a worker or the PAM helper, which finishes
 * what it was doing and exits).  `told`: the front end was told to retire
 * its channels (a recycle waits for the new worker to be ready first). */
struct retired {
	pid_t pid;
	unsigned pool;     /* NO_POOL: not a worker */
	uint32_t tag;
	char *name;        /* for messages */
	bool orphan;
	bool told, termed;
	uint64_t deadline_ms;
	struct retired *next;
};

struct generation {
	unsigned id;
	struct config *c;
	int *listen_fds;   /* [listener * loops + loop], then the admin socket */
	size_t nlisten_fds;
	int admin_fd;      /* in listen_fds too; -1: none */
	int audit_fd, access_fd; /* -1: none */
	int tls_cert_fd, tls_key_fd; /* -1: no tls listener (open_tls_files) */
	int fe_ctl_child;  /* the next front end's end of its control channel, -1 */
	uint8_t verdict_key[VERDICT_KEY_LEN];
	struct keywatch keytab; /* for the authenticator: new keys without a reload */
	/* kids[0] is the front end, kids[1..npools] the pool workers, then
	 * the authenticator and the PAM helper when some vdir authenticates */
	struct child *kids;
	size_t nkids;
	struct pool_health *health;
	struct retired *retired;
	bool retiring;
	char *failed;      /* a reload's generation whose start failed: why */
	bool held;         /* reload() holds it: not freed even when every child is gone */
	struct msgq feq;   /* messages the front end has not taken yet */
	struct generation *next;
};

static struct {
	const char *file;
	int sigfd;
	struct generation *cur;   /* the one that serves new connections */
	struct generation *gens;  /* every generation with children left */
	unsigned next_id;
	bool started, stopping, reloading, reload_again;
	uint64_t stop_deadline;
	uint64_t start_ms;
	int ctl_fd;               /* the control socket (idgatectl), -1: none */
	char *ctl_path;
	char *runtime_dir;       /* locked at start (rundir.h); fixed until exit */
	uint32_t stats_tag;
	char *status;             /* the last STATUS= told to systemd */
	const char *reload_note;  /* how the last reload went, when it did not apply */
	int *reload_waiters;      /* idgatectl reloads that wait for a queued reload */
	size_t nreload_waiters;
} S = { .ctl_fd = -1 };

#define FE(g) (&(g)->kids[0])

static struct child *kid_of(struct generation *g, enum role role)
{
	for (size_t i = 1 + g->c->npools; i < g->nkids; i++)
		if (g->kids[i].role == role)
			return &g->kids[i];
	return NULL;
}

/* In a child that must not have them: every generation's verdict key. */
static void wipe_verdict_keys(void)
{
	for (struct generation *g = S.gens; g; g = g->next)
		explicit_bzero(g->verdict_key, sizeof(g->verdict_key));
}

/* In a child that needs its generation's key: a copy of its own, then the
 * rest wiped. */
static const uint8_t *take_verdict_key(const struct generation *g)
{
	static uint8_t key[VERDICT_KEY_LEN];

	memcpy(key, g->verdict_key, sizeof(key));
	wipe_verdict_keys();
	return key;
}

static void poll_once(int timeout_ms);
static void after_exit_while_retiring(struct generation *g, struct child *ch);
static void retire_waiting(struct generation *g, unsigned pool);
static void notify_status(const char *first);

/* ---------------------------------------------------------------- resources */

/* A log file we create: 0640 whatever the umask, and group adm when that
 * group exists, as Debian's logs are (adm reads them).  Without
 * CAP_CHOWN (the unit) the group comes from the directory: the package
 * makes /var/log/idgate setgid adm. */
static void own_new_log(int fd, const char *key, const char *path)
{
	struct group gr, *adm = NULL;
	char buf[4096];
	struct stat st;

	if (fchmod(fd, 0640) < 0)
		log_msg(LOG_WARNING, "%s %s: chmod 0640: %m", key, path);
	if (!privsep_privileged() || getgrnam_r("adm", &gr, buf, sizeof(buf), &adm) != 0 || !adm)
		return;
	if (fstat(fd, &st) == 0 && st.st_gid == adm->gr_gid)
		return;
	if (fchown(fd, (uid_t)-1, adm->gr_gid) < 0)
		log_msg(LOG_WARNING, "%s %s: cannot give it to group adm: %m (make its directory "
			"setgid adm)", key, path);
}

/* An existing file is left as it is, as Apache and nginx do: its owner
 * and mode are somebody's choice.  Logs name users, so say it when
 * everybody may read them. */
static void warn_if_readable(int fd, const char *key, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IROTH))
		log_msg(LOG_WARNING, "%s %s is readable by every user (mode %04o): chmod o-r it",
			key, path, (unsigned)(st.st_mode & 07777));
}

/* A log file the front end writes to (audit_log, access_log), opened here
 * with root's rights: appended to, created if missing.  "-" is standard
 * error (the journal).  The descriptor, or -1 with err. */
static int open_log_file(const char *key, const char *path, char *err, size_t errlen)
{
	int fd, flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;

	if (strcmp(path, "-") == 0)
		return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	fd = open(path, flags | O_CREAT | O_EXCL, 0640);
	if (fd >= 0) {
		own_new_log(fd, key, path);
		return fd;
	}
	if (errno == EEXIST)
		fd = open(path, flags);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
		return -1;
	}
	warn_if_readable(fd, key, path);
	return fd;
}

/* Both logs of a new generation.  0, or -1 (logged). */
static int open_logs(struct generation *g)
{
	const struct server_conf *s = &g->c->server;
	char err[PATH_MAX + 200];

	if (*s->audit_log && (g->audit_fd = open_log_file("audit_log", s->audit_log, err,
							    sizeof(err))) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return -1;
	}
	if (*s->access_log && (g->access_fd = open_log_file("access_log", s->access_log, err,
							      sizeof(err))) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return -1;
	}
	return 0;
}

/* The TLS certificate and key are opened here, never read: only the
 * front end, which speaks TLS, reads them (from these descriptors, which
 * only it gets), so the private key is in no other process's memory --
 * not ours, and so not in the workers, spawners and PAM helper forked from
 * us.  A restarted front end reads them again from the same files (the
 * ones this generation opened: a key renamed into place takes a reload).
 * 0, or -1 (logged). */
static int open_tls_files(struct generation *g)
{
	const struct server_conf *s = &g->c->server;

	for (size_t i = 0; i < s->nlisten; i++) {
		if (!s->listen[i].tls)
			continue;
		g->tls_cert_fd = open(s->tls_cert, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (g->tls_cert_fd < 0) {
			log_msg(LOG_ERR, "cannot open tls_cert %s: %m", s->tls_cert);
			return -1;
		}
		g->tls_key_fd = open(s->tls_key, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (g->tls_key_fd < 0) {
			log_msg(LOG_ERR, "cannot open tls_key %s: %m", s->tls_key);
			return -1;
		}
		return 0;
	}
	return 0;
}

/* ---------------------------------------------------------------- the front end's messages */

/* The supervisor never waits for the front end: a message it does not
 * take at once waits in g->feq (msgq.h) and goes out, in order, when its
 * socket is writable again.  A front end that takes nothing for
 * FE_STALL_MS while messages wait, or lets FE_QUEUE_MAX of them pile up,
 * hangs: it is killed -- and, as when a front end dies, a new one starts
 * (role_died; a draining one of an old generation just ends).  Meanwhile
 * idgatectl is told that what needs the front end cannot be done now. */
static void fe_hung(struct generation *g, const char *how)
{
	log_msg(LOG_ERR, "the front end (pid %d) has not read its control channel %s; killing it",
		(int)FE(g)->pid, how);
	msgq_clear(&g->feq);
	if (FE(g)->pid > 0)
		kill(FE(g)->pid, SIGKILL);
}

/* 0 when sent or queued, -1 when the front end is gone or hangs. */
static int fe_send(struct generation *g, uint16_t type, const void *p, size_t len,
		   const int *fds, size_t nfds)
{
	bool waiting = msgq_pending(&g->feq);
	char how[64];
	int rc;

	if (FE(g)->ctl < 0) {
		errno = EPIPE;
		return -1;
	}
	rc = msgq_send(&g->feq, FE(g)->ctl, type, p, len, fds, nfds);
	if (rc == 1 && !waiting && FE(g)->pid > 0) /* (before its start: it will read) */
		log_msg(LOG_WARNING, "the front end (pid %d) is not reading its control channel: "
			"its messages wait (%d s at most)", (int)FE(g)->pid, FE_STALL_MS / 1000);
	if (rc < 0 && (errno == ENOBUFS || errno == EMFILE)) {
		snprintf(how, sizeof(how), ": %zu messages wait", g->feq.n);
		fe_hung(g, how);
	}
	return rc < 0 ? -1 : 0;
}

/* Its socket is writable: what waits goes out. */
static void fe_flush(struct generation *g)
{
	if (FE(g)->ctl < 0 || msgq_flush(&g->feq, FE(g)->ctl) != 0)
		return;
	log_msg(LOG_INFO, "the front end (pid %d) reads its control channel again",
		(int)FE(g)->pid);
}

static bool fe_stalled(const struct generation *g)
{
	return msgq_pending(&g->feq);
}

static void check_fe_stalls(void)
{
	char how[64];

	for (struct generation *g = S.gens; g; g = g->next) {
		if (msgq_idle_ms(&g->feq, now_ms()) < FE_STALL_MS)
			continue;
		snprintf(how, sizeof(how), "for %d s", FE_STALL_MS / 1000);
		fe_hung(g, how);
	}
}

/* ---------------------------------------------------------------- children */

static void child_setup(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* SIGUSR1 is the supervisor's (reopen the logs); `systemctl kill -s
	 * USR1` sends it to every process of the unit.  Programs a child
	 * starts get the default back (spawner.c). */
	signal(SIGUSR1, SIG_IGN);
	close(S.sigfd);
}

static pid_t spawn_frontend(struct generation *g, int ctl_child)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	wipe_verdict_keys();
	child_setup();
	size_t n = g->nlisten_fds;
	int *keep = xcalloc(n + 5, sizeof(int));
	memcpy(keep, g->listen_fds, n * sizeof(int));
	keep[n] = ctl_child;
	keep[n + 1] = g->audit_fd;
	keep[n + 2] = g->access_fd;
	keep[n + 3] = g->tls_cert_fd;
	keep[n + 4] = g->tls_key_fd;
	close_fds_except(keep, n + 5);
	free(keep);
	struct fe_args a = { .c = g->c, .listen_fds = g->listen_fds, .ctl = ctl_child,
			     .audit_fd = g->audit_fd, .access_fd = g->access_fd,
			     .admin_fd = g->admin_fd,
			     .tls_cert_fd = g->tls_cert_fd, .tls_key_fd = g->tls_key_fd };
	frontend_main(&a);
}

/* An impersonating worker enters its own user namespace at once; we map
 * it (only we can: it needs CAP_SETUID here) before it goes on. */
static int map_worker_namespace(struct generation *g, pid_t pid, const struct pool_conf *pool,
				int up, int down)
{
	struct confine_plan plan = { .ids = &g->c->server.ids };
	char err[256] = "", c = 0;
	int rc = -1;

	if (read(up, &c, 1) != 1 || c != 'U') {
		log_msg(LOG_ERR, "pool %s: the worker could not enter its user namespace",
			pool->name);
		goto done;
	}
	if (confine_pool_ident(pool, &plan.pool) < 0 ||
	    confine_write_maps(pid, &plan, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "pool %s: mapping the worker's user namespace: %s", pool->name,
			err);
		goto done;
	}
	c = 'M';
	rc = write(down, &c, 1) == 1 ? 0 : -1;
done:
	close(up);
	close(down);
	return rc;
}

static pid_t spawn_worker(struct generation *g, struct pool_conf *pool, int *chans, int ctl_child,
			  uint64_t trust_since_ms)
{
	int taken_fd = g->health[pool - g->c->pools].taken_fd;
	bool ns = pool->impersonates && privsep_privileged();
	int up[2] = { -1, -1 }, down[2] = { -1, -1 };
	pid_t pid;

	if (ns && (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		if (ns) {
			close(up[1]);
			close(down[0]);
			if (map_worker_namespace(g, pid, pool, up[0], down[1]) < 0)
				kill(pid, SIGKILL);
		}
		return pid;
	}
	const uint8_t *key = take_verdict_key(g);
	child_setup();
	int *keep = xcalloc(pool->threads + 4, sizeof(int));
	memcpy(keep, chans, pool->threads * sizeof(int));
	keep[pool->threads] = ctl_child;
	keep[pool->threads + 1] = up[1];
	keep[pool->threads + 2] = down[0];
	keep[pool->threads + 3] = taken_fd;
	close_fds_except(keep, pool->threads + 4);
	free(keep);
	struct worker_args a = { .c = g->c, .pool = pool, .channels = chans,
				 .nchannels = pool->threads, .ctl = ctl_child,
				 .ns_to_parent = up[1], .ns_from_parent = down[0],
				 .verdict_key = key, .trust_since_ms = trust_since_ms,
				 .taken_fd = taken_fd };
	worker_main(&a);
}

/* Channels go to the front end in batches; the fds are closed here after. */
static int send_channels(struct generation *g, unsigned pool, int *fds, size_t n, uint32_t tag)
{
	struct ctlm_channels m = { .pool = pool, .tag = tag };
	struct wbuf b;
	int rc = 0;

	wb_init(&b);
	ctlm_channels_encode(&b, &m);
	for (size_t off = 0; off < n && rc == 0; off += WIRE_MAX_FDS) {
		size_t k = n - off < WIRE_MAX_FDS ? n - off : WIRE_MAX_FDS;
		rc = fe_send(g, W_CTL_CHANNELS, b.p, b.len, fds + off, k);
	}
	wb_free(&b);
	return rc;
}

static int start_worker(struct generation *g, unsigned i)
{
	static uint32_t tag; /* tells the front end that a new worker's channels begin */
	struct pool_conf *pool = &g->c->pools[i];
	struct child *w = &g->kids[1 + i];
	size_t n = pool->threads;
	int *mine = xcalloc(n, sizeof(int)), *theirs = xcalloc(n, sizeof(int));
	int ctl[2], sp[2], rc = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		goto done;
	for (size_t k = 0; k < n; k++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
			die("socketpair: %m");
		mine[k] = sp[0];   /* front end */
		theirs[k] = sp[1]; /* worker */
	}
	w->ready = false;
	w->ctl = ctl[0];
	w->tag = ++tag;
	w->started_ms = now_ms();
	w->pid = spawn_worker(g, pool, theirs, ctl[1], w->trust_since_ms);
	w->trust_since_ms = 0;
	close(ctl[1]);
	for (size_t k = 0; k < n; k++)
		close(theirs[k]);
	if (w->pid > 0)
		rc = send_channels(g, i, mine, n, w->tag);
	for (size_t k = 0; k < n; k++)
		close(mine[k]);
done:
	free(mine);
	free(theirs);
	return rc;
}

/* The PAM helper: its request socket goes to the front end. */
static int send_authsock(struct generation *g, unsigned loop, int fd)
{
	struct wbuf b;
	int rc;

	wb_init(&b);
	ctlm_authsock_encode(&b, loop);
	rc = fe_send(g, W_CTL_AUTHSOCK, b.p, b.len, &fd, 1);
	wb_free(&b);
	return rc;
}

/* The PAM helper: its request socket goes to the authenticator.  (Sent
 * into the channel of an authenticator that died unnoticed, it is lost
 * with it: the helper sees its peer gone, exits, and its successor's
 * socket goes to the next authenticator.) */
static int start_auth(struct generation *g)
{
	struct child *a = kid_of(g, ROLE_AUTH), *an = kid_of(g, ROLE_AUTHN);
	int sp[2], ctl[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	a->ready = false;
	a->ctl = ctl[0];
	a->pid = fork();
	if (a->pid == 0) {
		int keep[2] = { sp[1], ctl[1] };
		wipe_verdict_keys();
		child_setup();
		close_fds_except(keep, 2);
		authhelper_main(g->c, sp[1], ctl[1]);
	}
	close(sp[1]);
	close(ctl[1]);
	if (a->pid > 0 && an && an->ctl >= 0 &&
	    wire_send(an->ctl, W_CTL_PAMSOCK, 0, NULL, 0, &sp[0], 1, MSG_DONTWAIT) < 0)
		log_msg(LOG_WARNING, "PAM helper: cannot hand its socket to the authenticator: %m");
	close(sp[0]);
	return a->pid > 0 ? 0 : -1;
}

/* The authenticator: one channel per front-end event loop, whose other
 * ends go to the front end (now, or queued for the front end about to
 * start).  A PAM helper still running serves the authenticator that was:
 * it is told to go, and the one started after it gets a socket for this
 * one. */
static int start_authn(struct generation *g)
{
	struct child *a = kid_of(g, ROLE_AUTHN), *pam = kid_of(g, ROLE_AUTH);
	unsigned n = config_loops(g->c);
	int *mine = xcalloc(n, sizeof(int)), *theirs = xcalloc(n + 1, sizeof(int));
	int ctl[2], sp[2], rc = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		goto done;
	for (unsigned i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
			die("socketpair: %m");
		mine[i] = sp[0];   /* front end */
		theirs[i] = sp[1]; /* authenticator */
	}
	a->ready = false;
	a->ctl = ctl[0];
	a->pid = fork();
	if (a->pid == 0) {
		struct authn_args args = { .c = g->c, .fe = theirs, .nfe = n, .ctl = ctl[1],
					   .verdict_key = take_verdict_key(g) };
		theirs[n] = ctl[1];
		child_setup();
		close_fds_except(theirs, n + 1);
		authenticator_main(&args);
	}
	close(ctl[1]);
	rc = a->pid > 0 ? 0 : -1;
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = send_authsock(g, i, mine[i]);
	if (rc == 0 && pam && pam->pid > 0)
		kill(pam->pid, SIGTERM);
done:
	for (unsigned i = 0; i < n; i++) {
		if (mine[i] > 0)
			close(mine[i]);
		if (theirs[i] > 0)
			close(theirs[i]);
	}
	free(mine);
	free(theirs);
	return rc;
}

/* The front end's control channel is made before its peers start: what
 * is sent to it for them (their channels, the PAM helper's socket) waits
 * in it, and the front end takes all of that before it serves its first
 * request (relay_take_ctl_backlog) -- a new front end on busy listening
 * sockets must not answer 503 for a PAM helper it has not heard of yet.
 * Every child closes the descriptors it does not need, these too. */
static int fe_open_ctl(struct generation *g)
{
	int ctl[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		return -1;
	FE(g)->ctl = ctl[0];
	g->fe_ctl_child = ctl[1];
	return 0;
}

static int start_frontend(struct generation *g)
{
	if (g->fe_ctl_child < 0 && fe_open_ctl(g) < 0)
		return -1;
	FE(g)->pid = spawn_frontend(g, g->fe_ctl_child);
	close(g->fe_ctl_child);
	g->fe_ctl_child = -1;
	return FE(g)->pid > 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- generations */

/* PAM is only needed when some vdir authenticates and a service is set,
 * or when Basic asks PAM for passwords. */
static bool need_auth_helper(const struct config *c)
{
	for (size_t i = 0; i < c->nvdirs; i++) {
		if ((c->vdirs[i].auth & AUTH_BASIC) ||
		    (c->vdirs[i].auth && *c->server.pam_service))
			return true;
	}
	return false;
}

/* Some vdir authenticates: someone must say who calls. */
static bool need_authenticator(const struct config *c)
{
	for (size_t i = 0; i < c->nvdirs; i++)
		if (c->vdirs[i].auth)
			return true;
	return false;
}

/* A pool's mark of verdicts taken (trust.h): 8 zero bytes in a memfd,
 * which only the pool's workers get.  -1 (logged): none is kept, and a
 * dead worker's successor refuses every verdict made before its death. */
static int open_taken_mark(const char *pool)
{
	int fd = memfd_create("idgate-taken", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, sizeof(uint64_t)) == 0)
		return fd;
	log_msg(LOG_WARNING, "pool %s: cannot keep a mark of verdicts taken: %m", pool);
	if (fd >= 0)
		close(fd);
	return -1;
}

static void setup_children(struct generation *g)
{
	const struct config *c = g->c;

	g->nkids = 1 + c->npools + (need_authenticator(c) ? 1 : 0) + (need_auth_helper(c) ? 1 : 0);
	g->kids = xcalloc(g->nkids, sizeof(*g->kids));
	g->health = xcalloc(c->npools, sizeof(*g->health));
	for (size_t i = 0; i < c->npools; i++)
		g->health[i].taken_fd = open_taken_mark(c->pools[i].name);
	for (size_t i = 0; i < g->nkids; i++) {
		g->kids[i].ctl = -1;
		g->kids[i].reply_fd = -1;
		g->kids[i].gen = g;
	}
	g->kids[0].role = ROLE_FRONTEND;
	g->kids[0].name = xstrdup("front end");
	for (size_t i = 0; i < c->npools; i++) {
		struct child *w = &g->kids[1 + i];
		w->role = ROLE_WORKER;
		w->pool = (unsigned)i;
		w->name = xasprintf("pool %s worker", c->pools[i].name);
	}
	if (need_authenticator(c)) {
		g->kids[1 + c->npools].role = ROLE_AUTHN;
		g->kids[1 + c->npools].name = xstrdup("authenticator");
	}
	if (need_auth_helper(c)) {
		g->kids[g->nkids - 1].role = ROLE_AUTH;
		g->kids[g->nkids - 1].name = xstrdup("PAM helper");
	}
}

static void gen_free(struct generation *g)
{
	keywatch_free(&g->keytab);
	for (struct generation **pp = &S.gens; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	for (size_t i = 0; i < g->nkids; i++) {
		if (g->kids[i].ctl >= 0)
			close(g->kids[i].ctl);
		if (g->kids[i].reply_fd >= 0) {
			ctl_send_error(g->kids[i].reply_fd, CTL_ERR_FAILED,
				       "the configuration was replaced before the worker was ready");
			close(g->kids[i].reply_fd);
		}
		free(g->kids[i].name);
	}
	while (g->retired) {
		struct retired *r = g->retired;
		g->retired = r->next;
		free(r->name);
		free(r);
	}
	free(g->failed);
	msgq_clear(&g->feq);
	for (size_t i = 0; g->health && i < g->c->npools; i++) {
		free(g->health[i].fails);
		if (g->health[i].taken_fd >= 0)
			close(g->health[i].taken_fd);
	}
	if (g->audit_fd >= 0)
		close(g->audit_fd);
	if (g->access_fd >= 0)
		close(g->access_fd);
	free(g->health);
	free(g->kids);
	free(g->listen_fds);
	if (g->tls_cert_fd >= 0)
		close(g->tls_cert_fd);
	if (g->tls_key_fd >= 0)
		close(g->tls_key_fd);
	if (g->fe_ctl_child >= 0)
		close(g->fe_ctl_child);
	config_free(g->c);
	free(g);
	/* sockets that no living generation uses any more */
	size_t n = 0;
	for (struct generation *o = S.gens; o; o = o->next)
		n += o->nlisten_fds;
	int *all = xcalloc(n ? n : 1, sizeof(int)), k = 0;
	for (struct generation *o = S.gens; o; o = o->next)
		for (size_t i = 0; i < o->nlisten_fds; i++)
			all[k++] = o->listen_fds[i];
	listeners_keep_only(all, n);
	free(all);
}

/* The admin listener joins the listening sockets (kept across reloads). */
static int open_admin(struct generation *g)
{
	char err[512];

	if (!g->c->server.admin_listen.addrlen)
		return 0;
	g->admin_fd = listeners_open_admin(g->c, err, sizeof(err));
	if (g->admin_fd < 0) {
		log_msg(LOG_ERR, "%s", err);
		return -1;
	}
	g->listen_fds = xreallocarray(g->listen_fds, g->nlisten_fds + 1, sizeof(int));
	g->listen_fds[g->nlisten_fds++] = g->admin_fd;
	return 0;
}

static struct generation *gen_create(struct config *c)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	char err[512];

	g->id = ++S.next_id;
	g->c = c;
	msgq_init(&g->feq, FE_QUEUE_MAX, FE_QUEUE_MAX_FDS);
	g->audit_fd = g->access_fd = -1;
	g->admin_fd = -1;
	g->tls_cert_fd = g->tls_key_fd = g->fe_ctl_child = -1;
	g->listen_fds = listeners_open(c, config_loops(c), err, sizeof(err));
	if (!g->listen_fds) {
		log_msg(LOG_ERR, "%s", err);
		goto fail;
	}
	g->nlisten_fds = c->server.nlisten * config_loops(c);
	if (open_admin(g) < 0)
		goto fail;
	if (open_logs(g) < 0 || open_tls_files(g) < 0)
		goto fail;
	keywatch_init(&g->keytab, c->server.keytab);
	if (verdict_new_key(g->verdict_key) < 0) {
		log_msg(LOG_ERR, "cannot make the verdict key");
		goto fail;
	}
	setup_children(g);
	g->next = S.gens;
	S.gens = g;
	return g;
fail:
	gen_free(g); /* not linked yet: gen_free only releases */
	return NULL;
}

static int start_child(struct generation *g, struct child *ch);

/* Every child, in the order of g->kids (setup_children), but the front
 * end last: what its peers send it is queued by then (fe_open_ctl). */
static int gen_start(struct generation *g)
{
	if (fe_open_ctl(g) < 0)
		return -1;
	for (size_t i = 0; i < g->nkids; i++)
		if (&g->kids[i] != FE(g) && start_child(g, &g->kids[i]) < 0)
			return -1;
	return start_child(g, FE(g));
}

static void gen_kill(struct generation *g, int sig)
{
	for (size_t i = 0; i < g->nkids; i++)
		if (g->kids[i].pid > 0)
			kill(g->kids[i].pid, sig);
	for (struct retired *r = g->retired; r; r = r->next)
		kill(r->pid, sig);
}

static bool pool_off(const struct generation *g, unsigned pool)
{
	return g->health[pool].disabled || g->health[pool].stopped;
}

static bool gen_ready(const struct generation *g)
{
	for (size_t i = 0; i < g->nkids; i++)
		if (!g->kids[i].ready &&
		    !(g->kids[i].role == ROLE_WORKER && pool_off(g, g->kids[i].pool)))
			return false;
	return true;
}

static bool gen_alive(const struct generation *g)
{
	for (size_t i = 0; i < g->nkids; i++)
		if (g->kids[i].pid > 0)
			return true;
	return g->retired != NULL;
}

/* Wait until every child of g said it is ready.  -1 if one died first or
 * the time ran out (g is then being stopped). */
static int gen_wait_ready(struct generation *g)
{
	uint64_t deadline = now_ms() + START_TIMEOUT_MS;

	while (!gen_ready(g)) {
		if (g->retiring || g->failed || S.stopping)
			return -1;
		if (now_ms() > deadline) {
			log_msg(LOG_ERR, "children did not start within %d s", START_TIMEOUT_MS / 1000);
			return -1;
		}
		poll_once(200);
	}
	return 0;
}

/* The front end drains first; the others stop when it is gone.  A
 * generation with no child left (its front end waits to be restarted) is
 * freed now: the caller must not use g afterwards.  The front end learns
 * which drain it is: SIGTERM, another takes its place (a reload); SIGINT,
 * idgated stops (its admin_listen answers /health 503 while it drains). */
static void gen_retire(struct generation *g)
{
	g->retiring = true;
	if (FE(g)->pid > 0)
		kill(FE(g)->pid, S.stopping ? SIGINT : SIGTERM);
	else
		gen_kill(g, SIGTERM);
	if (!gen_alive(g))
		after_exit_while_retiring(g, NULL);
}

/* ---------------------------------------------------------------- failures */

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

static uint32_t pool_state(const struct generation *g, unsigned pool)
{
	const struct child *w = &g->kids[1 + pool];

	if (g->health[pool].stopped)
		return CTL_STATE_STOPPED;
	if (g->health[pool].disabled)
		return CTL_STATE_DISABLED;
	return w->pid > 0 && w->ready ? CTL_STATE_SERVING : CTL_STATE_STARTING;
}

/* What the front end needs to answer (503 while the pool is off) and to
 * show in its metrics. */
static void tell_pool_state(struct generation *g, unsigned pool)
{
	struct ctlm_pool_state m = { .pool = pool,
				     .retry_after = pool_off(g, pool) ? RETRY_AFTER_DISABLED : 0,
				     .state = pool_state(g, pool),
				     .restarts = g->health[pool].restarts };
	struct wbuf b;

	wb_init(&b);
	ctlm_pool_state_encode(&b, &m);
	if (fe_send(g, W_CTL_POOL_STATE, b.p, b.len, NULL, 0) < 0)
		log_msg(LOG_ERR, "cannot tell the front end about pool %s: %m",
			g->c->pools[pool].name);
	wb_free(&b);
	notify_status(NULL); /* sent when it changed: disabled, stopped, started */
}

/* rapid_fail = N/T: the Nth failure within T disables the pool. */
static bool too_many_failures(struct generation *g, unsigned pool)
{
	const struct pool_conf *pc = &g->c->pools[pool];
	struct pool_health *h = &g->health[pool];
	uint64_t now = now_ms();
	size_t keep = 0;

	for (size_t i = 0; i < h->nfails; i++)
		if (now - h->fails[i] < pc->rapid_fail_window_ms)
			h->fails[keep++] = h->fails[i];
	h->fails = xreallocarray(h->fails, keep + 1, sizeof(*h->fails));
	h->fails[keep++] = now;
	h->nfails = keep;
	return h->nfails >= pc->rapid_fail_count;
}

/* ---------------------------------------------------------------- retired workers */

static void retire_tell(struct generation *g, struct retired *r)
{
	struct ctlm_pool_retire m = { .pool = r->pool, .tag = r->tag };
	struct wbuf b;

	wb_init(&b);
	ctlm_pool_retire_encode(&b, &m);
	if (fe_send(g, W_CTL_POOL_RETIRE, b.p, b.len, NULL, 0) < 0)
		kill(r->pid, SIGTERM); /* the front end cannot let it drain */
	wb_free(&b);
	r->told = true;
	r->deadline_ms = now_ms() + g->c->server.shutdown_timeout_ms;
}

/* Take a child out of its slot (a new one can take it): it finishes what
 * it was doing and exits, watched as a retired process. */
static struct retired *retire_child(struct generation *g, struct child *ch)
{
	struct retired *r = xcalloc(1, sizeof(*r));

	r->pid = ch->pid;
	r->pool = ch->role == ROLE_WORKER ? ch->pool : NO_POOL;
	r->tag = ch->tag;
	r->name = xstrdup(ch->name);
	r->next = g->retired;
	g->retired = r;
	if (ch->ctl >= 0)
		close(ch->ctl); /* it only ever says READY on it */
	ch->ctl = -1;
	ch->pid = 0;
	ch->ready = false;
	return r;
}

/* Take pool's worker out of its slot: it finishes its requests and exits.
 * `now`: retire its channels at once (stop), else once a successor is
 * ready (recycle).  Returns its pid. */
static pid_t retire_worker(struct generation *g, unsigned pool, bool now)
{
	struct retired *r = retire_child(g, &g->kids[1 + pool]);

	if (now)
		retire_tell(g, r);
	return r->pid;
}

/* The old workers of a pool that waited for a successor. */
static void retire_waiting(struct generation *g, unsigned pool)
{
	for (struct retired *r = g->retired; r; r = r->next)
		if (r->pool == pool && !r->told)
			retire_tell(g, r);
}

/* A retired worker that exited; false if pid is not one. */
static bool retired_exit(pid_t pid, int status)
{
	char how[96];

	for (struct generation *g = S.gens; g; g = g->next) {
		for (struct retired **pp = &g->retired; *pp; pp = &(*pp)->next) {
			struct retired *r = *pp;
			if (r->pid != pid)
				continue;
			describe_exit(status, how, sizeof(how));
			if (r->orphan)
				log_msg(LOG_INFO, "%s (pid %d) of the dead front end %s", r->name,
					(int)pid, how);
			else
				log_msg(LOG_INFO, "pool %s: old worker (pid %d) has drained and %s",
					g->c->pools[r->pool].name, (int)pid, how);
			*pp = r->next;
			free(r->name);
			free(r);
			if ((g->retiring || S.stopping) && !gen_alive(g))
				after_exit_while_retiring(g, NULL);
			return true;
		}
	}
	return false;
}

/* A retired worker that does not finish within shutdown_timeout is told
 * to stop, as SIGTERM would. */
static void check_retired(void)
{
	uint64_t now = now_ms();

	for (struct generation *g = S.gens; g; g = g->next) {
		for (struct retired *r = g->retired; r; r = r->next) {
			if (!r->told || r->termed || now < r->deadline_ms)
				continue;
			log_msg(LOG_WARNING, "%s (pid %d) %s still busy after shutdown_timeout; "
				"stopping it", r->name, (int)r->pid,
				r->orphan ? "of the dead front end" : "(retired)");
			kill(r->pid, SIGTERM);
			r->termed = true;
		}
	}
}

static void reply_ready(struct child *w)
{
	char msg[200];

	if (w->reply_fd < 0)
		return;
	if (w->reply_old_pid)
		snprintf(msg, sizeof(msg), "pool %s: worker %d serves; old worker %u drains",
			 w->gen->c->pools[w->pool].name, (int)w->pid, w->reply_old_pid);
	else
		snprintf(msg, sizeof(msg), "pool %s: worker %d serves",
			 w->gen->c->pools[w->pool].name, (int)w->pid);
	ctl_send_ok(w->reply_fd, msg, (uint32_t)w->pid, w->reply_old_pid);
	close(w->reply_fd);
	w->reply_fd = -1;
}

static void reply_failed(struct child *w, const char *how)
{
	if (w->reply_fd < 0)
		return;
	ctl_send_error(w->reply_fd, CTL_ERR_FAILED, "pool %s: the new worker %s before it was "
		       "ready (see idgated's log)", w->gen->c->pools[w->pool].name, how);
	close(w->reply_fd);
	w->reply_fd = -1;
}

/* A worker said READY: the old workers it replaces drain now. */
static void on_worker_ready(struct child *w)
{
	struct generation *g = w->gen;

	retire_waiting(g, w->pool);
	tell_pool_state(g, w->pool);
	reply_ready(w);
}

/* The latest verdict a worker of the pool took (worker/trust.h).  Read, not
 * mapped: a mapping would pass to every child we fork.  One that cannot be
 * read counts as taken now. */
static uint64_t pool_taken(const struct pool_health *h)
{
	uint64_t v;

	if (h->taken_fd < 0 || pread(h->taken_fd, &v, sizeof(v), 0) != (ssize_t)sizeof(v))
		return UINT64_MAX;
	return v;
}

static void worker_failed(struct generation *g, struct child *ch)
{
	const struct pool_conf *pc = &g->c->pools[ch->pool];

	if (too_many_failures(g, ch->pool)) {
		g->health[ch->pool].disabled = true;
		log_msg(LOG_ERR, "pool %s disabled: %zu worker failures within %llu s (rapid_fail); "
			"it answers 503 until the next reload or idgatectl pool start", pc->name,
			g->health[ch->pool].nfails,
			(unsigned long long)(pc->rapid_fail_window_ms / 1000));
		tell_pool_state(g, ch->pool);
		retire_waiting(g, ch->pool); /* a recycle's old worker: no successor */
		return;
	}
	g->health[ch->pool].restarts++;
	/* its successor refuses the verdicts it may have taken, and serves
	 * the requests authenticated for it since (trust.h) */
	ch->trust_since_ms = verdict_trust_boundary(pool_taken(&g->health[ch->pool]), now_ms());
	if (start_worker(g, ch->pool) < 0)
		log_msg(LOG_ERR, "%s: cannot restart it: %m", ch->name);
	tell_pool_state(g, ch->pool);
}

static void after_exit_while_retiring(struct generation *g, struct child *ch)
{
	if (ch && ch == FE(g)) /* the front end has drained: now the others */
		gen_kill(g, SIGTERM);
	if (!gen_alive(g) && !g->held) {
		log_msg(LOG_INFO, "configuration generation %u has stopped", g->id);
		if (g == S.cur)
			S.cur = NULL;
		gen_free(g);
		notify_status(NULL); /* no longer draining */
	}
}

/* ---------------------------------------------------------------- role processes */

/* Every child has a role.  Pool workers are restarted by rapid_fail's
 * rules (worker_failed); a child of any other role -- one of each per
 * generation: the front end, the PAM helper -- by respawn.h's: at once,
 * or after a wait that grows while each new one dies soon after its
 * start, and never given up.  A role whose channels lead to the front end
 * (`fe_peer`) is started anew with each new front end: the old process has
 * nobody to serve any more, so it finishes what it was doing and exits
 * (detach_fe_peers).  Adding a role: a value of enum role, its row in
 * peer_tables and here, and its slot in setup_children (gen_start starts
 * the children in that order). */
struct role_ops {
	int (*start)(struct generation *g, struct child *ch); /* fork, wire its channels */
	bool fe_peer;
};

static int start_frontend_role(struct generation *g, struct child *ch)
{
	(void)ch;
	return start_frontend(g);
}

static int start_worker_role(struct generation *g, struct child *ch)
{
	return start_worker(g, ch->pool);
}

static int start_auth_role(struct generation *g, struct child *ch)
{
	(void)ch;
	return start_auth(g);
}

static int start_authn_role(struct generation *g, struct child *ch)
{
	(void)ch;
	return start_authn(g);
}

/* (the PAM helper serves the authenticator, which serves the front end:
 * both start anew with a new front end, the authenticator first) */
static const struct role_ops roles[] = {
	[ROLE_FRONTEND] = { start_frontend_role, false },
	[ROLE_WORKER] = { start_worker_role, true },
	[ROLE_AUTH] = { start_auth_role, true },
	[ROLE_AUTHN] = { start_authn_role, true },
};

static int start_child(struct generation *g, struct child *ch)
{
	ch->started_ms = now_ms();
	return roles[ch->role].start(g, ch);
}

/* The front end died: its peers serve nobody any more.  Each finishes what
 * it was doing (an answer goes nowhere) and exits -- a worker once its
 * last channel is closed, which the kernel did; the PAM helper at once --
 * watched as a retired process (shutdown_timeout, then SIGTERM).  Workers
 * retired earlier and still waiting for their successor have lost their
 * front end too. */
static void detach_fe_peers(struct generation *g)
{
	uint64_t deadline = now_ms() + g->c->server.shutdown_timeout_ms;

	for (struct retired *r = g->retired; r; r = r->next) {
		if (!r->told)
			r->deadline_ms = deadline;
		r->told = true;
	}
	for (size_t i = 0; i < g->nkids; i++) {
		struct child *ch = &g->kids[i];
		if (!roles[ch->role].fe_peer || ch->pid <= 0)
			continue;
		reply_failed(ch, "lost its front end");
		struct retired *r = retire_child(g, ch);
		r->orphan = r->told = true;
		r->deadline_ms = deadline;
	}
}

/* A new front end and new peers for it: pool workers (but for pools that
 * are off) and the PAM helper, started first (fe_open_ctl); it hears the
 * state of every pool. */
static int restart_frontend(struct generation *g)
{
	if (fe_open_ctl(g) < 0)
		return -1;
	for (size_t i = 0; i < g->nkids; i++) {
		struct child *ch = &g->kids[i];
		if (!roles[ch->role].fe_peer || ch->pid > 0)
			continue;
		ch->rs.due_ms = 0; /* (a PAM helper that waited: the new front end needs it) */
		if (!(ch->role == ROLE_WORKER && pool_off(g, ch->pool)) && start_child(g, ch) < 0)
			log_msg(LOG_ERR, "%s: cannot start it: %m", ch->name);
		if (ch->role == ROLE_WORKER)
			tell_pool_state(g, ch->pool);
	}
	if (start_child(g, FE(g)) == 0)
		return 0;
	close(FE(g)->ctl); /* no front end: the peers just started serve nobody */
	FE(g)->ctl = -1;
	msgq_clear(&g->feq);
	detach_fe_peers(g);
	return -1;
}

static void respawn(struct generation *g, struct child *ch)
{
	int rc;

	ch->rs.due_ms = 0;
	ch->rs.restarts++;
	ch->rs.restarting = true;
	rc = ch == FE(g) ? restart_frontend(g) : start_child(g, ch);
	if (rc < 0) {
		log_msg(LOG_ERR, "%s: cannot restart it: %m; trying again in %d s", ch->name,
			RESPAWN_FIRST_MS / 1000);
		ch->rs.due_ms = now_ms() + RESPAWN_FIRST_MS;
	}
	notify_status(NULL);
}

/* A child of the serving generation that is not a pool worker died: it is
 * started again now or when its wait is over (check_respawns); the front
 * end with new peers. */
static void role_died(struct generation *g, struct child *ch, pid_t pid, const char *how)
{
	uint64_t now = now_ms(), wait = respawn_delay(&ch->rs, ch->started_ms, now);
	char times[96] = "", when[32] = "";

	if (ch->rs.fast)
		snprintf(times, sizeof(times), ", %u time%s in a row within %d s of its start",
			 ch->rs.fast, ch->rs.fast == 1 ? "" : "s", RESPAWN_STABLE_MS / 1000);
	if (wait)
		snprintf(when, sizeof(when), " in %llu s", (unsigned long long)(wait / 1000));
	log_msg(LOG_ERR, "%s (pid %d) %s%s; restarting it%s", ch->name, (int)pid, how, times,
		when);
	ch->rs.restarting = false;
	if (ch == FE(g))
		detach_fe_peers(g);
	if (!wait)
		respawn(g, ch);
	else
		ch->rs.due_ms = now + wait;
	notify_status(NULL);
}

/* The restarts whose wait is over.  A peer of the front end waits for it:
 * a new front end starts its peers itself. */
static void check_respawns(void)
{
	struct generation *g = S.cur;
	uint64_t now = now_ms();

	if (!g || g->retiring || S.stopping)
		return;
	for (size_t i = 0; i < g->nkids; i++) {
		struct child *ch = &g->kids[i];
		if (ch->pid > 0 || !ch->rs.due_ms || now < ch->rs.due_ms ||
		    (roles[ch->role].fe_peer && FE(g)->pid <= 0))
			continue;
		respawn(g, ch);
	}
}

/* A restarted child said READY. */
static void role_ready(struct child *ch)
{
	if (!ch->rs.restarting)
		return;
	ch->rs.restarting = false;
	log_msg(LOG_INFO, "%s (pid %d) serves again (restart %llu)", ch->name, (int)ch->pid,
		(unsigned long long)ch->rs.restarts);
	notify_status(NULL);
}

/* A child of the generation a reload starts died before that generation
 * served: the reload fails (start_new_generation says why and stops the
 * rest), and the running generation goes on. */
static void gen_start_failed(struct generation *g, struct child *ch, pid_t pid, bool was_ready,
			     const char *how)
{
	if (g->failed) {
		log_msg(LOG_INFO, "%s stopped (%s)", ch->name, how);
		return;
	}
	g->failed = xasprintf("its %s (pid %d) %s before %s was ready", ch->name, (int)pid, how,
			      was_ready ? "the configuration" : "it");
	log_msg(LOG_ERR, "reload: %s", g->failed);
}

/* Did a peer of g's front end exit because the front end is gone (it
 * lost its channels)?  Then the front end's control channel is closed
 * too (ctl_read closes our end on that).  But the kernel closes an
 * exiting process's descriptors one by one, so a peer that exited cleanly
 * (the way it does when its channels close) may be reaped before the
 * control channel is seen closed: wait for that a moment (a clean exit
 * of a peer whose front end lives is rare: idgatectl, SIGTERM). */
static bool fe_gone(const struct generation *g, int peer_status)
{
	struct pollfd p = { .fd = FE(g)->ctl, .events = 0 }; /* (hang-up only) */
	bool clean = WIFEXITED(peer_status) && WEXITSTATUS(peer_status) == 0;

	if (FE(g)->ctl < 0)
		return true;
	if (FE(g)->pid <= 0)
		return false; /* not started yet (fe_open_ctl) */
	return poll(&p, 1, clean ? FE_GONE_WAIT_MS : 0) == 1;
}

static void on_child_exit(struct child *ch, int status)
{
	struct generation *g = ch->gen;
	char how[96];
	bool was_ready = ch->ready;
	pid_t pid = ch->pid;

	describe_exit(status, how, sizeof(how));
	reply_failed(ch, how);
	if (ch == FE(g))
		msgq_clear(&g->feq);
	if (ch->ctl >= 0)
		close(ch->ctl);
	ch->ctl = -1;
	ch->pid = 0;
	ch->ready = false;
	if (g->retiring || S.stopping) {
		log_msg(LOG_INFO, "%s stopped (%s)", ch->name, how);
		after_exit_while_retiring(g, ch);
		return;
	}
	if (!S.started) {
		/* at start-up: a setup that cannot work; a restart is systemd's
		 * job (Restart=on-failure), after the operator's */
		log_msg(LOG_ERR, "%s %s; stopping idgated", ch->name, how);
		S.stopping = true;
		for (struct generation *o = S.gens; o; o = o->next)
			gen_kill(o, SIGTERM);
		exit(1);
	}
	if (ch != FE(g) && roles[ch->role].fe_peer && fe_gone(g, status)) {
		/* it lost its channels to a front end that exits (and is
		 * reaped a moment later): not a failure of its own; a new one
		 * starts with the next front end */
		log_msg(LOG_INFO, "%s (pid %d) of the dead front end %s", ch->name, (int)pid, how);
		return;
	}
	if (g != S.cur && (ch->role != ROLE_WORKER || g->failed)) {
		gen_start_failed(g, ch, pid, was_ready, how);
	} else if (ch->role == ROLE_WORKER) {
		log_msg(LOG_ERR, "%s (pid %d) %s", ch->name, (int)pid, how);
		worker_failed(g, ch);
	} else {
		role_died(g, ch, pid, how);
	}
}

static struct child *child_by_pid(pid_t pid)
{
	for (struct generation *g = S.gens; g; g = g->next)
		for (size_t i = 0; i < g->nkids; i++)
			if (g->kids[i].pid == pid)
				return &g->kids[i];
	return NULL;
}

static void on_exit_of(pid_t pid, int status)
{
	struct child *ch = child_by_pid(pid);

	if (ch)
		on_child_exit(ch, status);
	else
		retired_exit(pid, status);
}

/* Every child that exited; a front end's death first: its peers exit
 * because of it (their channels closed), and are then its orphans, not
 * failures of their own (waitpid gives the oldest child first, and the
 * front end is started after its peers). */
static void reap(void)
{
	struct { pid_t pid; int status; } dead[64];
	size_t n;

	do {
		n = 0;
		while (n < 64 && (dead[n].pid = waitpid(-1, &dead[n].status, WNOHANG)) > 0)
			n++;
		for (int fe_pass = 1; fe_pass >= 0; fe_pass--) {
			for (size_t i = 0; i < n; i++) {
				struct child *ch = child_by_pid(dead[i].pid);
				if (!dead[i].pid || (ch && ch->role == ROLE_FRONTEND) != fe_pass)
					continue;
				on_exit_of(dead[i].pid, dead[i].status);
				dead[i].pid = 0;
			}
		}
	} while (n == 64);
}

/* ---------------------------------------------------------------- reload and stop */

/* mkdir -p, root's, 0755; the last two levels (IDGATE_RUN_DIR and the
 * mount point below it) must be root's alone: a mount point someone else
 * controls could be swapped for a link. */
static bool privilege_ok(const struct config *c, bool fatal)
{
	char err[PATH_MAX + 100];

	if (S.runtime_dir && strcmp(S.runtime_dir, c->server.runtime_dir) != 0) {
		log_msg(LOG_ERR, "runtime_dir cannot change on a reload (still %s): restart",
			S.runtime_dir);
		return false;
	}
	if (privsep_privileged()) {
		for (size_t i = 0; i < c->npools; i++) {
			if (!c->pools[i].impersonates ||
			    (rundir_make(c->server.runtime_dir, true, err, sizeof(err)) == 0 &&
			     confine_check_dumpable(err, sizeof(err)) == 0))
				continue;
			if (fatal)
				die("pool %s: %s", c->pools[i].name, err);
			log_msg(LOG_ERR, "pool %s: %s", c->pools[i].name, err);
			return false;
		}
		return true;
	}
	for (size_t i = 0; i < c->npools; i++) {
		if (!c->pools[i].impersonates)
			continue;
		if (fatal)
			die("pool %s impersonates callers: idgated must start as root",
			    c->pools[i].name);
		log_msg(LOG_ERR, "pool %s impersonates callers: idgated must run as root",
			c->pools[i].name);
		return false;
	}
	return true;
}

/* Load and check the file as `idgated -t` does; each problem is logged and,
 * with `why`, collected there too (for idgatectl). */
static struct config *load_checked(const char *what, struct sbuf *why)
{
	struct diag d = { 0 };
	struct config *c = config_load(S.file, &d, true);

	if (c && config_check_modules(c, &d) < 0) {
		config_free(c);
		c = NULL;
	}
	for (size_t i = 0; i < d.n; i++) {
		log_msg(c ? LOG_WARNING : LOG_ERR, "%s: %s", what, d.msgs[i]);
		if (why)
			sb_printf(why, "%s\n", d.msgs[i]);
	}
	diag_free(&d);
	return c;
}

static void warn_fixed_keys(const struct config *c);

static struct config *load_for_reload(struct sbuf *why)
{
	struct config *c = load_checked("reload", why);

	if (c)
		warn_fixed_keys(c);
	if (c && !privilege_ok(c, false)) {
		config_free(c);
		c = NULL;
	}
	return c;
}

enum reload_result { RELOADED = 0, RELOAD_QUEUED, RELOAD_REFUSED, RELOAD_FAILED };

static void warn_fixed_keys(const struct config *c)
{
	if (strcmp(c->server.control_socket, S.ctl_path ? S.ctl_path : "") != 0)
		log_msg(LOG_WARNING, "reload: control_socket changes take effect at the next "
			"restart (still %s)", S.ctl_path ? S.ctl_path : "none");
}

/* ---------------------------------------------------------------- systemd */

/* "pool c" or "pools c, d", the pools of g for which off() holds; 0 if none. */
static size_t put_pools(struct sbuf *b, const struct generation *g,
			bool (*off)(const struct pool_health *))
{
	size_t n = 0;

	for (size_t i = 0; i < g->c->npools; i++)
		n += off(&g->health[i]);
	if (!n)
		return 0;
	sb_puts(b, n == 1 ? "; pool " : "; pools ");
	for (size_t i = 0, k = 0; i < g->c->npools; i++)
		if (off(&g->health[i]))
			sb_printf(b, "%s%s", k++ ? ", " : "", g->c->pools[i].name);
	return n;
}

static bool health_disabled(const struct pool_health *h) { return h->disabled; }
static bool health_stopped(const struct pool_health *h) { return h->stopped; }

/* What `systemctl status idgate` shows (sd_notify STATUS=): the
 * generation that serves, its pools and vdirs, the pools out of service,
 * the generations that still drain, and a reload that did not apply.
 * Sent with `first` (READY=1, ...), or alone when it changed.  A reload
 * under way, and the stop, have their own words (reload(), begin_stop()). */
static void notify_status(const char *first)
{
	const struct generation *g = S.cur;
	struct sbuf b;

	if (!g || S.stopping || (!first && (S.reloading || !S.started)))
		return;
	sb_init(&b);
	sb_printf(&b, "STATUS=serving generation %u: %zu pool%s, %zu vdir%s", g->id,
		  g->c->npools, g->c->npools == 1 ? "" : "s", g->c->nvdirs,
		  g->c->nvdirs == 1 ? "" : "s");
	if (put_pools(&b, g, health_disabled))
		sb_puts(&b, " disabled by rapid_fail");
	if (put_pools(&b, g, health_stopped))
		sb_puts(&b, " stopped (idgatectl)");
	for (size_t i = 0; i < g->nkids; i++)
		if (g->kids[i].role != ROLE_WORKER && g->kids[i].rs.due_ms)
			sb_printf(&b, "; the %s is down, restarting", g->kids[i].name);
	for (const struct generation *o = S.gens; o; o = o->next)
		if (o != g && o->retiring)
			sb_printf(&b, "; generation %u drains", o->id);
	if (S.reload_note)
		sb_printf(&b, "; %s", S.reload_note);
	if (first || !S.status || strcmp(S.status, b.s) != 0) {
		char *msg = first ? xasprintf("%s\n%s", first, b.s) : xstrdup(b.s);
		sd_notify(0, msg);
		free(msg);
		free(S.status);
		S.status = xstrdup(b.s);
	}
	sb_free(&b);
}

static void notify_reloading(void)
{
	char *msg = xasprintf("RELOADING=1\nSTATUS=reloading %s; generation %u serves", S.file,
			      S.cur ? S.cur->id : 0);

	sd_notify(0, msg);
	free(msg);
}

static enum reload_result reload(struct sbuf *why);
static void reply_reload(int fd, enum reload_result res, const struct sbuf *why);

/* The reload asked for while another ran: the idgatectl connections that
 * asked for it hear how it went, not before it ran. */
static void run_queued_reload(void)
{
	int *fds = S.reload_waiters;
	size_t n = S.nreload_waiters;
	enum reload_result res = RELOAD_FAILED;
	struct sbuf why;

	S.reload_waiters = NULL;
	S.nreload_waiters = 0;
	sb_init(&why);
	if (!S.stopping)
		res = reload(&why);
	for (size_t i = 0; i < n; i++) {
		if (S.stopping)
			ctl_send_error(fds[i], CTL_ERR_BUSY, "idgated is stopping");
		else
			reply_reload(fds[i], res, &why);
		close(fds[i]);
	}
	free(fds);
	sb_free(&why);
}

static const char *reload_note(enum reload_result res)
{
	switch (res) {
	case RELOAD_REFUSED:
		return "the last reload was refused (see the log)";
	case RELOAD_FAILED:
		return "the last reload failed: the new configuration did not start (see the log)";
	default:
		return NULL;
	}
}

/* A reload's new generation starts; once it is ready it serves and old
 * drains.  When it does not start (a child died first: g->failed), old
 * keeps serving and `why` (may be NULL) says what died. */
static enum reload_result start_new_generation(struct generation *g, struct generation *old,
					       struct sbuf *why)
{
	enum reload_result res = RELOADED;
	unsigned old_id = old->id;

	g->held = true; /* a child's exit must not free it under us */
	if (gen_start(g) < 0 || gen_wait_ready(g) < 0) {
		res = RELOAD_FAILED;
		log_msg(LOG_ERR, "reload failed: the new configuration did not start%s%s; the "
			"running one keeps serving", g->failed ? ": " : "",
			g->failed ? g->failed : "");
		if (why && g->failed)
			sb_printf(why, "%s", g->failed);
	} else {
		S.cur = g;
	}
	g->held = false;
	gen_retire(res == RELOADED ? old : g); /* (may free it) */
	if (res == RELOADED)
		log_msg(LOG_INFO, "reloaded: configuration generation %u serves, %u drains", g->id,
			old_id);
	return res;
}

/* SIGHUP or idgatectl reload.  `why` (may be NULL) collects the problems
 * of a refused file, or what died in a new configuration that did not
 * start. */
static enum reload_result reload(struct sbuf *why)
{
	struct generation *g, *old = S.cur;
	enum reload_result res = RELOAD_REFUSED;
	struct config *c;

	if (S.reloading) {
		S.reload_again = true;
		return RELOAD_QUEUED;
	}
	S.reloading = true;
	notify_reloading();
	log_msg(LOG_INFO, "reloading %s", S.file);
	c = load_for_reload(why);
	if (!c) {
		log_msg(LOG_ERR, "reload refused: the configuration is not valid; the running one "
			"keeps serving");
	} else if (!(g = gen_create(c))) {
		log_msg(LOG_ERR, "reload refused: cannot prepare the new configuration");
	} else {
		res = start_new_generation(g, old, why);
	}
	S.reloading = false;
	S.reload_note = reload_note(res);
	notify_status("READY=1");
	if (S.reload_again) {
		S.reload_again = false;
		run_queued_reload();
	}
	return res;
}

static void begin_stop(void)
{
	if (S.stopping)
		return;
	S.stopping = true;
	S.stop_deadline = now_ms() + (S.cur ? S.cur->c->server.shutdown_timeout_ms : 0) + 5000;
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: draining requests");
	log_msg(LOG_INFO, "stopping: draining requests");
	for (struct generation *g = S.gens, *next; g; g = next) {
		next = g->next;
		gen_retire(g); /* (may free g) */
	}
}

/* ---------------------------------------------------------------- control channels */

/* A child that breaks the control protocol is not listened to again: it
 * is killed, and reap() treats that as any failure (a pool worker is
 * restarted and counts for rapid_fail; the front end or the PAM helper is
 * restarted as respawn.h says).  Nothing a child sends can make us keep a resource. */
static void drop_child(struct child *ch, const char *why)
{
	log_msg(LOG_ERR, "%s (pid %d) broke the control protocol: %s; dropping it", ch->name,
		(int)ch->pid, why);
	close(ch->ctl);
	ch->ctl = -1;
	if (ch->pid > 0)
		kill(ch->pid, SIGKILL);
}

/* One message from a child's control channel: 1 with a frame, else 0
 * (none waiting, the child closed the channel, or it was dropped).
 * Children send no descriptors: any that come are closed, and break the
 * protocol, like a malformed or zero-length message. */
static int ctl_read(struct child *ch, uint8_t *buf, struct wire_frame *f)
{
	int rc = wire_recv(ch->ctl, buf, f, MSG_DONTWAIT);
	char why[160], name[48];

	if (rc < 0 && errno == EAGAIN)
		return 0;
	if (rc == 0 || (rc < 0 && errno != EPROTO)) { /* it exits: reap() goes on */
		close(ch->ctl);
		ch->ctl = -1;
		return 0;
	}
	if (rc < 0) {
		snprintf(why, sizeof(why), "a malformed or empty message (%s)", strerror(EPROTO));
		drop_child(ch, why);
		return 0;
	}
	if (f->nfds) {
		snprintf(why, sizeof(why), "%zu descriptors on message %u", f->nfds,
			 (unsigned)f->type);
		wire_close_fds(f);
		drop_child(ch, why);
		return 0;
	}
	if (!peer_accepts(&peer_tables[ch->role], f->type)) {
		snprintf(why, sizeof(why), "unexpected message %s from a %s",
			 peer_type_name(f->type, name, sizeof(name)), peer_tables[ch->role].peer);
		drop_child(ch, why);
		return 0;
	}
	return 1;
}

/* CTL_READY: the child started. */
static void on_ready(struct child *ch, const struct wire_frame *f)
{
	if (ctlm_ready_decode(f) < 0) {
		drop_child(ch, "a malformed READY message");
		return;
	}
	ch->ready = true;
	if (ch->role == ROLE_WORKER)
		on_worker_ready(ch);
	else
		role_ready(ch);
}

/* ---------------------------------------------------------------- idgatectl */

/* W_CTL_STATS: the counts of each pool of g.  1 with the answer to query
 * `tag`, 0 for an answer to an earlier query that timed out, -1 for a
 * malformed one (the front end is dropped). */
static int take_stats(struct generation *g, const struct wire_frame *f, uint32_t tag,
		      struct ctl_pool *pools)
{
	uint32_t n = (uint32_t)g->c->npools, got;
	struct ctlm_pool_load *load = xcalloc(n + 1, sizeof(*load));
	int rc = -1;

	if (ctlm_stats_decode(f, n, &got, load) < 0) {
		drop_child(FE(g), "a malformed STATS message");
		goto done;
	}
	rc = pools && got == tag;
	for (uint32_t i = 0; rc == 1 && i < n; i++) {
		pools[i].requests = load[i].requests;
		pools[i].busy = load[i].busy;
		pools[i].queued = load[i].queued;
	}
done:
	free(load);
	return rc;
}

/* The front end's counts, asked for and awaited here (at most
 * STATS_TIMEOUT_MS): the front end answers from its first event loop at
 * once.  Only numbers come back, checked like any message.  0 or -1. */
static int query_frontend(struct generation *g, struct ctl_pool *pools)
{
	uint8_t *buf = xmalloc(WIRE_MAX_FRAME);
	uint64_t deadline = now_ms() + STATS_TIMEOUT_MS;
	uint32_t tag = ++S.stats_tag;
	struct wire_frame f;
	struct wbuf b;
	int rc = -1;

	wb_init(&b);
	ctlm_stats_query_encode(&b, tag);
	if (fe_stalled(g) || fe_send(g, W_CTL_STATS_QUERY, b.p, b.len, NULL, 0) < 0 ||
	    fe_stalled(g)) /* it would not answer in time */
		goto done;
	while (rc < 0 && FE(g)->ctl >= 0 && now_ms() < deadline) {
		struct pollfd p = { .fd = FE(g)->ctl, .events = POLLIN };
		if (poll(&p, 1, (int)(deadline - now_ms())) != 1 || ctl_read(FE(g), buf, &f) <= 0)
			continue;
		if (f.type == W_CTL_READY)
			on_ready(FE(g), &f);
		else if (take_stats(g, &f, tag, pools) == 1)
			rc = 0; /* (a malformed answer dropped the front end) */
	}
done:
	wb_free(&b);
	free(buf);
	return rc;
}

static void fill_pool_status(struct generation *g, unsigned i, struct ctl_pool *p)
{
	const struct child *w = &g->kids[1 + i];
	uint64_t now = now_ms();

	p->name = g->c->pools[i].name;
	p->user = g->c->pools[i].user;
	p->state = pool_state(g, i);
	p->pid = w->pid > 0 ? (uint32_t)w->pid : 0;
	p->threads = g->c->pools[i].threads;
	p->impersonates = g->c->pools[i].impersonates;
	p->since_s = w->pid > 0 ? (now - w->started_ms) / 1000 : 0;
	p->restarts = g->health[i].restarts;
	p->requests = CTL_UNKNOWN;
	for (struct retired *r = g->retired; r; r = r->next)
		if (r->pool == i && p->ndraining < CTL_MAX_DRAINING)
			p->draining[p->ndraining++] = (uint32_t)r->pid;
}

static void admin_status(int fd, struct generation *g)
{
	struct ctl_status st = {
		.version = PACKAGE_VERSION, .config = S.file, .pid = (uint32_t)getpid(),
		.frontend_pid = FE(g)->pid > 0 ? (uint32_t)FE(g)->pid : 0, .generation = g->id,
		.uptime_s = (now_ms() - S.start_ms) / 1000, .npools = (uint32_t)g->c->npools,
	};
	struct wbuf b;

	st.pools = xcalloc(g->c->npools + 1, sizeof(*st.pools));
	for (unsigned i = 0; i < g->c->npools; i++)
		fill_pool_status(g, i, &st.pools[i]);
	if (query_frontend(g, st.pools) < 0)
		log_msg(LOG_WARNING, "status: the front end did not give its counts in time");
	wb_init(&b);
	ctl_status_encode(&b, &st);
	if (b.overflow)
		ctl_send_error(fd, CTL_ERR_FAILED, "too many pools for one status message");
	else
		wire_send(fd, W_ADM_STATUS_REPLY, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT);
	wb_free(&b);
	free(st.pools);
}

/* Start a worker for a pool that has none; idgatectl hears when it is
 * ready (the reply waits on the child).  0 or -1 (answered). */
static int start_for_admin(int fd, struct generation *g, unsigned i, pid_t old)
{
	struct child *w = &g->kids[1 + i];

	if (start_worker(g, i) < 0) {
		ctl_send_error(fd, CTL_ERR_FAILED, "pool %s: cannot start a worker: %s",
			       g->c->pools[i].name, strerror(errno));
		return -1;
	}
	w->reply_fd = fd;
	w->reply_old_pid = old > 0 ? (uint32_t)old : 0;
	tell_pool_state(g, i);
	return 0;
}

static int admin_pool_start(int fd, struct generation *g, unsigned i)
{
	struct pool_health *h = &g->health[i];
	struct child *w = &g->kids[1 + i];

	if (!pool_off(g, i)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "pool %s: already %s (worker %d)", g->c->pools[i].name,
			 w->ready ? "serving" : "starting", (int)w->pid);
		ctl_send_ok(fd, msg, (uint32_t)w->pid, 0);
		return -1;
	}
	log_msg(LOG_INFO, "idgatectl: starting pool %s (it was %s)", g->c->pools[i].name,
		h->stopped ? "stopped" : "disabled by rapid_fail");
	h->stopped = h->disabled = false;
	h->nfails = 0; /* rapid_fail counts afresh */
	return start_for_admin(fd, g, i, 0);
}

static void admin_pool_stop(int fd, struct generation *g, unsigned i)
{
	struct child *w = &g->kids[1 + i];
	char msg[200];
	pid_t old = 0;

	if (g->health[i].stopped) {
		snprintf(msg, sizeof(msg), "pool %s: already stopped", g->c->pools[i].name);
		ctl_send_ok(fd, msg, 0, 0);
		return;
	}
	snprintf(msg, sizeof(msg), "pool %s: stopped", g->c->pools[i].name);
	g->health[i].stopped = true;
	reply_failed(w, "was stopped");
	tell_pool_state(g, i); /* 503 from now on, queued requests too */
	if (w->pid > 0)
		old = retire_worker(g, i, true);
	retire_waiting(g, i);
	if (old)
		snprintf(msg, sizeof(msg), "pool %s: stopped; worker %d finishes its requests",
			 g->c->pools[i].name, (int)old);
	log_msg(LOG_INFO, "idgatectl: %s", msg);
	ctl_send_ok(fd, msg, 0, (uint32_t)old);
}

/* IIS's recycle: a new worker first; the old one drains once it is ready. */
static int admin_pool_recycle(int fd, struct generation *g, unsigned i)
{
	struct child *w = &g->kids[1 + i];
	pid_t old;

	if (pool_off(g, i)) {
		ctl_send_error(fd, CTL_ERR_FAILED, "pool %s is %s: start it instead",
			       g->c->pools[i].name, ctl_state_name(pool_state(g, i)));
		return -1;
	}
	if (w->pid <= 0 || !w->ready || w->reply_fd >= 0) {
		ctl_send_error(fd, CTL_ERR_BUSY, "pool %s: its worker is starting; try again",
			       g->c->pools[i].name);
		return -1;
	}
	log_msg(LOG_INFO, "idgatectl: recycling pool %s (worker %d)", g->c->pools[i].name,
		(int)w->pid);
	old = retire_worker(g, i, false);
	if (start_for_admin(fd, g, i, old) < 0) {
		retire_waiting(g, i);
		return -1;
	}
	return 0;
}

/* 0 when fd now waits for a worker (the caller must not close it). */
static int admin_pool(int fd, struct generation *g, const struct ctl_request *q)
{
	struct pool_conf *pc = config_pool(g->c, q->pool);

	if (!pc) {
		ctl_send_error(fd, CTL_ERR_NO_POOL, "no pool '%s' in %s", q->pool, S.file);
		return -1;
	}
	if (FE(g)->pid <= 0) {
		ctl_send_error(fd, CTL_ERR_BUSY, "the front end is restarting; try again later");
		return -1;
	}
	if (fe_stalled(g)) { /* it has to hear of the change */
		ctl_send_error(fd, CTL_ERR_BUSY, "the front end (pid %d) is not reading its "
			       "control channel; try again later", (int)FE(g)->pid);
		return -1;
	}
	switch (q->action) {
	case CTL_POOL_START:
		return admin_pool_start(fd, g, pc->index);
	case CTL_POOL_STOP:
		admin_pool_stop(fd, g, pc->index);
		return -1;
	default:
		return admin_pool_recycle(fd, g, pc->index);
	}
}

static void reply_reload(int fd, enum reload_result res, const struct sbuf *why)
{
	if (res == RELOADED)
		ctl_send_ok(fd, "reloaded", 0, 0);
	else if (res == RELOAD_REFUSED && why->len)
		ctl_send_error(fd, CTL_ERR_FAILED, "reload refused; the running configuration "
			       "keeps serving:\n%s", why->s);
	else if (res == RELOAD_REFUSED) /* a listener, a log file, TLS files: logged */
		ctl_send_error(fd, CTL_ERR_FAILED, "reload refused: the new configuration could "
			       "not be prepared (see idgated's log); the running one serves");
	else if (why->len)
		ctl_send_error(fd, CTL_ERR_FAILED, "reload failed: the new configuration did not "
			       "start: %s; the running configuration keeps serving (see idgated's "
			       "log)", why->s);
	else
		ctl_send_error(fd, CTL_ERR_FAILED, "reload failed: the new configuration did not "
			       "start (see idgated's log); the running one keeps serving");
}

/* `systemctl reload` runs idgatectl reload and believes its exit status,
 * so the answer waits for the reload: one asked for while another runs
 * is answered once it has run after it (run_queued_reload).  0 when fd
 * now waits (the caller must not close it). */
static int admin_reload(int fd)
{
	struct sbuf why;
	enum reload_result res;

	sb_init(&why);
	res = reload(&why);
	if (res == RELOAD_QUEUED) {
		S.reload_waiters = xreallocarray(S.reload_waiters, S.nreload_waiters + 1,
						 sizeof(int));
		S.reload_waiters[S.nreload_waiters++] = fd;
	} else {
		reply_reload(fd, res, &why);
	}
	sb_free(&why);
	return res == RELOAD_QUEUED ? 0 : -1;
}

/* ---------------------------------------------------------------- log rotation */

/* One log of g opened anew at its path, replacing *fd; what was done, or
 * why not, goes to done or failed (may be NULL).  1 when it was reopened,
 * 0 when there is nothing to reopen (none, or standard error), -1. */
static int reopen_one(const char *key, const char *path, int *fd, struct sbuf *done,
		      struct sbuf *failed)
{
	char err[PATH_MAX + 200];
	int nfd;

	if (*fd < 0 || strcmp(path, "-") == 0)
		return 0;
	nfd = open_log_file(key, path, err, sizeof(err));
	if (nfd < 0) {
		log_msg(LOG_ERR, "cannot reopen %s; the old file stays in use", err);
		if (failed)
			sb_printf(failed, "cannot reopen %s; the old file stays in use\n", err);
		return -1;
	}
	close(*fd);
	*fd = nfd;
	log_msg(LOG_INFO, "reopened %s %s", key, path);
	if (done)
		sb_printf(done, "%s%s %s", done->len ? " and " : "", key, path);
	return 1;
}

/* g's log files, opened anew, go to its front end (W_CTL_LOGS), which
 * writes to them from then on.  0 or -1. */
static int reopen_gen_logs(struct generation *g, struct sbuf *done, struct sbuf *failed)
{
	const struct server_conf *s = &g->c->server;
	int a = reopen_one("audit_log", s->audit_log, &g->audit_fd, done, failed);
	int b = reopen_one("access_log", s->access_log, &g->access_fd, done, failed);
	int fds[2];
	size_t n = 0;
	struct wbuf w;

	if (a > 0)
		fds[n++] = g->audit_fd;
	if (b > 0)
		fds[n++] = g->access_fd;
	if (n && FE(g)->pid > 0) { /* (else the front end that starts next inherits them) */
		wb_init(&w);
		ctlm_logs_encode(&w, (a > 0 ? W_LOG_AUDIT : 0) | (b > 0 ? W_LOG_ACCESS : 0));
		if (fe_send(g, W_CTL_LOGS, w.p, w.len, fds, n) < 0) {
			log_msg(LOG_ERR, "cannot give the front end (pid %d) its new log files: %m",
				(int)FE(g)->pid);
			if (failed)
				sb_printf(failed, "the front end (pid %d) did not get the new "
					  "files: %s\n", (int)FE(g)->pid, strerror(errno));
			a = -1;
		}
		wb_free(&w);
	}
	return a < 0 || b < 0 ? -1 : 0;
}

/* SIGUSR1 or idgatectl reopen, after logrotate renamed the files: every
 * front end writes to files opened anew at the configured paths (a
 * draining one too, for its last lines).  No reload: the workers, the
 * front end and its counters stay.  A file that cannot be opened keeps
 * its old descriptor.  The serving generation's outcome goes to done and
 * failed (may be NULL): 0, or -1 if it failed. */
static int reopen_logs(struct sbuf *done, struct sbuf *failed)
{
	int rc = 0;

	for (struct generation *g = S.gens; g; g = g->next) {
		if (g != S.cur && (FE(g)->pid <= 0 || FE(g)->ctl < 0))
			continue;
		if (g != S.cur)
			reopen_gen_logs(g, NULL, NULL);
		else if (reopen_gen_logs(g, done, failed) < 0)
			rc = -1;
	}
	return rc;
}

static void send_ok_text(int fd, const char *prefix, const char *text)
{
	char *msg = xasprintf("%s%s", prefix, text);

	ctl_send_ok(fd, msg, 0, 0);
	free(msg);
}

static void admin_reopen(int fd)
{
	struct sbuf done, failed;
	int rc;

	sb_init(&done);
	sb_init(&failed);
	rc = reopen_logs(&done, &failed);
	if (rc < 0)
		ctl_send_error(fd, CTL_ERR_FAILED, "%s%s%s", failed.s, done.len ? "reopened " : "",
			       done.s);
	else if (!done.len)
		ctl_send_ok(fd, "no log file to reopen (audit_log and access_log are empty or "
			    "'-')", 0, 0);
	else if (fe_stalled(S.cur))
		ctl_send_error(fd, CTL_ERR_BUSY, "reopened %s, but the front end (pid %d) is not "
			       "reading its control channel: it writes to the new files once it "
			       "does", done.s, (int)FE(S.cur)->pid);
	else
		send_ok_text(fd, "reopened ", done.s);
	sb_free(&done);
	sb_free(&failed);
}

/* `idgated -t` on the running file, reported to idgatectl. */
static void admin_check(int fd)
{
	struct sbuf why;
	struct config *c;

	sb_init(&why);
	c = load_checked("check", &why);
	if (c)
		ctl_send_ok(fd, why.len ? why.s : "configuration OK", 0, 0);
	else
		ctl_send_error(fd, CTL_ERR_FAILED, "%s", why.s);
	config_free(c);
	sb_free(&why);
}

static void on_control(void)
{
	struct ctl_request q;
	int fd = control_accept(S.ctl_fd, &q);

	if (fd < 0)
		return;
	if (!S.cur || S.stopping) {
		ctl_send_error(fd, CTL_ERR_BUSY, "idgated is stopping");
	} else if (q.type == W_ADM_STATUS) {
		admin_status(fd, S.cur);
	} else if (q.type == W_ADM_RELOAD) {
		if (admin_reload(fd) == 0)
			return; /* answered when the queued reload has run */
	} else if (q.type == W_ADM_REOPEN) {
		admin_reopen(fd);
	} else if (q.type == W_ADM_CHECK) {
		admin_check(fd);
	} else if (admin_pool(fd, S.cur, &q) == 0) {
		return; /* answered when the worker is ready */
	}
	close(fd);
}

/* ---------------------------------------------------------------- events */

static void on_signal(void)
{
	struct signalfd_siginfo si;

	while (read(S.sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap();
			break;
		case SIGTERM:
		case SIGINT:
			begin_stop();
			break;
		case SIGHUP:
			if (!S.stopping)
				reload(NULL);
			break;
		case SIGUSR1:
			if (!S.stopping)
				reopen_logs(NULL, NULL);
			break;
		}
	}
}

static void on_ctl(struct child *ch)
{
	uint8_t *buf = xmalloc(WIRE_MAX_FRAME);
	struct wire_frame f;

	if (ctl_read(ch, buf, &f) > 0) {
		if (f.type == W_CTL_READY)
			on_ready(ch, &f);
		else /* STATS: the answer to a status query that timed out */
			take_stats(ch->gen, &f, 0, NULL);
	}
	free(buf);
}

static size_t count_kids(void)
{
	size_t n = 0;

	for (struct generation *g = S.gens; g; g = g->next)
		n += g->nkids;
	return n;
}

/* One round of waiting: signals, control messages, and room for the
 * messages that wait for a front end. */
/* The keytab changed: the serving authenticator gets it (keywatch.h). */
static void watch_keytab(void)
{
	struct child *an = S.cur ? kid_of(S.cur, ROLE_AUTHN) : NULL;
	int fd;

	if (!an || !an->ready || an->ctl < 0 || (fd = keywatch_changed(&S.cur->keytab, now_ms())) < 0)
		return;
	if (wire_send(an->ctl, W_CTL_KEYTAB, 0, NULL, 0, &fd, 1, MSG_DONTWAIT) == 0)
		log_msg(LOG_INFO, "keytab %s changed: the authenticator reads it again",
			S.cur->keytab.path);
	else
		log_msg(LOG_WARNING, "keytab %s changed, but the authenticator cannot be told: %m",
			S.cur->keytab.path);
	close(fd);
}

static void poll_once(int timeout_ms)
{
	size_t cap = count_kids() + 2, n = 0;
	struct pollfd *p = xcalloc(cap, sizeof(*p));
	struct child **who = xcalloc(cap, sizeof(*who));

	p[n++] = (struct pollfd){ .fd = S.sigfd, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = S.ctl_fd, .events = POLLIN }; /* -1: ignored */
	for (struct generation *g = S.gens; g; g = g->next) {
		for (size_t i = 0; i < g->nkids; i++) {
			struct child *ch = &g->kids[i];
			if (ch->ctl < 0 || ch->pid <= 0)
				continue;
			who[n] = ch;
			p[n++] = (struct pollfd){ .fd = ch->ctl, .events = (short)(POLLIN |
				(ch == FE(g) && fe_stalled(g) ? POLLOUT : 0)) };
		}
	}
	if (poll(p, n, timeout_ms) > 0) {
		for (size_t i = 2; i < n; i++) {
			if (p[i].revents & POLLOUT)
				fe_flush(who[i]->gen);
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
				on_ctl(who[i]);
		}
		if (p[1].revents & POLLIN)
			on_control();
		if (p[0].revents & POLLIN)
			on_signal(); /* last: it may free children of this round */
	}
	check_fe_stalls();
	check_respawns();
	watch_keytab();
	free(p);
	free(who);
}

static void log_started(const struct generation *g)
{
	const struct server_conf *s = &g->c->server;

	for (size_t i = 0; i < s->nlisten; i++)
		log_msg(LOG_INFO, "listening on %s", s->listen[i].text);
	log_msg(LOG_INFO, "idgated %s ready: %zu pools, %zu vdirs", PACKAGE_VERSION,
		g->c->npools, g->c->nvdirs);
}

static int open_control(const struct config *c)
{
	char err[PATH_MAX + 200];

	if (!*c->server.control_socket)
		return 0;
	S.ctl_fd = control_open(c->server.control_socket, err, sizeof(err));
	if (S.ctl_fd < 0) {
		log_msg(LOG_ERR, "%s (set control_socket to another path, or empty for none)",
			err);
		return -1;
	}
	S.ctl_path = xstrdup(c->server.control_socket);
	return 0;
}

static void setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	S.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (S.sigfd < 0)
		die("signalfd: %m");
}

/* One instance per runtime directory (rundir.h).  Not started as root, the
 * default one is usually not ours to create: then we say so and go on. */
static void lock_runtime_dir(const struct config *c)
{
	char err[PATH_MAX + 200];

	if (rundir_make(c->server.runtime_dir, false, err, sizeof(err)) < 0 ||
	    rundir_lock(c->server.runtime_dir, err, sizeof(err)) < 0) {
		if (privsep_privileged() || strstr(err, "in use"))
			die("%s", err);
		log_msg(LOG_WARNING, "%s: not checking for another instance", err);
	}
	S.runtime_dir = xstrdup(c->server.runtime_dir);
}

int supervisor_run(struct config *c, const char *config_file)
{
	struct generation *g;

	log_set_role("supervisor");
	S.file = config_file;
	S.start_ms = now_ms();
	privilege_ok(c, true);
	lock_runtime_dir(c);
	if (!privsep_privileged())
		log_msg(LOG_WARNING, "not started as root: every process keeps uid %u (users in "
			"the configuration are not applied)", (unsigned)geteuid());
	setup_signals();
	if (open_control(c) < 0)
		return 1;
	g = gen_create(c);
	if (!g)
		return 1;
	S.cur = g;
	if (gen_start(g) < 0 || gen_wait_ready(g) < 0) {
		gen_kill(g, SIGKILL);
		return 1;
	}
	S.started = true;
	notify_status("READY=1");
	log_started(g);
	while (S.gens) {
		poll_once(500);
		check_retired();
		if (S.stopping && now_ms() > S.stop_deadline) {
			log_msg(LOG_WARNING, "children did not stop in time; killing them");
			for (struct generation *o = S.gens; o; o = o->next)
				gen_kill(o, SIGKILL);
			S.stop_deadline = UINT64_MAX;
		}
	}
	control_close(S.ctl_fd, S.ctl_path);
	log_msg(LOG_INFO, "stopped");
	return 0;
}
