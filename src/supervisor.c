/* supervisor.c -- the only process that keeps root after start-up, and it
 * does little with it: it opens the listening sockets and the audit log,
 * creates the channels between the front end and the pool workers, forks
 * those children (each drops to its own identity at once), restarts
 * workers that die, and stops everything on SIGTERM.  It never reads the
 * network. */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "authhelper.h"
#include "config.h"
#include "confine.h"
#include "frontend.h"
#include "log.h"
#include "privsep.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

#define START_TIMEOUT_MS 30000

enum role { ROLE_FRONTEND, ROLE_WORKER, ROLE_AUTH };

struct child {
	enum role role;
	unsigned pool;     /* ROLE_WORKER */
	pid_t pid;
	int ctl;           /* supervisor's end */
	bool ready;
	const char *name;  /* for messages */
};

static struct {
	struct config *c;
	int *listen_fds;
	size_t nlisten_fds;
	int audit_fd;
	char *tls_cert_pem, *tls_key_pem;
	int sigfd;
	/* kids[0] is the front end, kids[1..npools] the pool workers, and the
	 * PAM helper comes last when one is needed */
	struct child *kids;
	size_t nkids;
	uint32_t gen;
	bool stopping;
	uint64_t stop_deadline;
} S;

#define FE (&S.kids[0])

/* ---------------------------------------------------------------- resources */

static int open_listener(const struct listen_conf *l)
{
	int one = 1;
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* one socket per front-end loop on the same address: the kernel
	 * spreads connections over the loops */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0 || listen(fd, 511) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* listen_fds[listener * loops + loop] */
static void open_listeners(void)
{
	const struct server_conf *s = &S.c->server;
	unsigned loops = config_loops(S.c);

	S.nlisten_fds = s->nlisten * loops;
	S.listen_fds = xcalloc(S.nlisten_fds, sizeof(int));
	for (size_t i = 0; i < s->nlisten; i++) {
		for (unsigned k = 0; k < loops; k++) {
			int fd = open_listener(&s->listen[i]);
			if (fd < 0)
				die("%s:%d: listen %s: %m", S.c->file, s->listen[i].line,
				    s->listen[i].text);
			S.listen_fds[i * loops + k] = fd;
		}
	}
}

static void open_audit_log(void)
{
	const char *path = S.c->server.audit_log;

	S.audit_fd = -1;
	if (!*path)
		return;
	if (strcmp(path, "-") == 0) {
		S.audit_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		return;
	}
	S.audit_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (S.audit_fd < 0)
		die("audit_log %s: %m", path);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		die("%s: %m", path);
	if (getdelim(&buf, &len, '\0', f) < 0)
		die("%s: cannot read", path);
	fclose(f);
	return buf;
}

static void read_tls_files(void)
{
	const struct server_conf *s = &S.c->server;

	for (size_t i = 0; i < s->nlisten; i++) {
		if (s->listen[i].tls) {
			S.tls_cert_pem = read_file(s->tls_cert);
			S.tls_key_pem = read_file(s->tls_key);
			return;
		}
	}
}

/* ---------------------------------------------------------------- children */

static void child_setup(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	close(S.sigfd);
}

static pid_t spawn_frontend(int ctl_child)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	child_setup();
	size_t n = S.nlisten_fds;
	int *keep = xcalloc(n + 2, sizeof(int));
	memcpy(keep, S.listen_fds, n * sizeof(int));
	keep[n] = ctl_child;
	keep[n + 1] = S.audit_fd;
	close_fds_except(keep, n + 2);
	free(keep);
	struct fe_args a = { .c = S.c, .listen_fds = S.listen_fds, .ctl = ctl_child,
			     .audit_fd = S.audit_fd, .tls_cert_pem = S.tls_cert_pem,
			     .tls_key_pem = S.tls_key_pem };
	frontend_main(&a);
}

/* An impersonating worker enters its own user namespace at once; we map
 * it (only we can: it needs CAP_SETUID here) before it goes on. */
static int map_worker_namespace(pid_t pid, const struct pool_conf *pool, int up, int down)
{
	struct confine_plan plan = { .min_id = S.c->server.min_uid };
	char err[256], c = 0;
	int rc = -1;

	if (read(up, &c, 1) != 1 || c != 'U') {
		log_msg(LOG_ERR, "pool %s: the worker could not enter its user namespace",
			pool->name);
		goto done;
	}
	if (confine_pool_ident(pool, &plan.pool) < 0 || confine_write_maps(pid, &plan, err,
									    sizeof(err)) < 0) {
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

static pid_t spawn_worker(struct pool_conf *pool, int *chans, int ctl_child)
{
	bool ns = pool->impersonates && privsep_privileged();
	int up[2] = { -1, -1 }, down[2] = { -1, -1 };
	pid_t pid;

	if (ns && (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0))
		die("pipe: %m");
	pid = fork();
	if (pid < 0)
		die("fork: %m");
	if (pid > 0) {
		if (ns) {
			close(up[1]);
			close(down[0]);
			if (map_worker_namespace(pid, pool, up[0], down[1]) < 0)
				kill(pid, SIGKILL);
		}
		return pid;
	}
	child_setup();
	int *keep = xcalloc(pool->threads + 3, sizeof(int));
	memcpy(keep, chans, pool->threads * sizeof(int));
	keep[pool->threads] = ctl_child;
	keep[pool->threads + 1] = up[1];
	keep[pool->threads + 2] = down[0];
	close_fds_except(keep, pool->threads + 3);
	free(keep);
	struct worker_args a = { .c = S.c, .pool = pool, .channels = chans,
				 .nchannels = pool->threads, .ctl = ctl_child,
				 .ns_to_parent = up[1], .ns_from_parent = down[0] };
	worker_main(&a);
}

/* Channels go to the front end in batches; the fds are closed here after. */
static int send_channels(unsigned pool, int *fds, size_t n)
{
	struct wbuf b;
	int rc = 0;

	wb_init(&b);
	wb_u32(&b, pool);
	wb_u32(&b, S.gen);
	for (size_t off = 0; off < n && rc == 0; off += WIRE_MAX_FDS) {
		size_t k = n - off < WIRE_MAX_FDS ? n - off : WIRE_MAX_FDS;
		rc = wire_send(FE->ctl, W_CTL_CHANNELS, 0, b.p, b.len, fds + off, k, 0);
	}
	wb_free(&b);
	return rc;
}

static int start_worker(unsigned i)
{
	struct pool_conf *pool = &S.c->pools[i];
	struct child *w = &S.kids[1 + i];
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
	w->pid = spawn_worker(pool, theirs, ctl[1]);
	close(ctl[1]);
	for (size_t k = 0; k < n; k++)
		close(theirs[k]);
	rc = send_channels(i, mine, n);
	for (size_t k = 0; k < n; k++)
		close(mine[k]);
done:
	free(mine);
	free(theirs);
	return rc;
}

/* The PAM helper: its request socket goes to the front end. */
static int start_auth(void)
{
	struct child *a = &S.kids[S.nkids - 1];
	int sp[2], ctl[2], rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		die("socketpair: %m");
	a->ready = false;
	a->ctl = ctl[0];
	a->pid = fork();
	if (a->pid < 0)
		die("fork: %m");
	if (a->pid == 0) {
		int keep[2] = { sp[1], ctl[1] };
		child_setup();
		close_fds_except(keep, 2);
		authhelper_main(S.c, sp[1], ctl[1]);
	}
	close(sp[1]);
	close(ctl[1]);
	rc = wire_send(FE->ctl, W_CTL_AUTHSOCK, 0, NULL, 0, &sp[0], 1, 0);
	close(sp[0]);
	return rc;
}

static void start_frontend(void)
{
	int ctl[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		die("socketpair: %m");
	FE->name = "frontend";
	FE->ctl = ctl[0];
	FE->pid = spawn_frontend(ctl[1]);
	if (FE->pid < 0)
		die("fork: %m");
	close(ctl[1]);
}

/* ---------------------------------------------------------------- events */

static struct child *child_by_pid(pid_t pid)
{
	for (size_t i = 0; i < S.nkids; i++)
		if (S.kids[i].pid == pid)
			return &S.kids[i];
	return NULL;
}

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

static void kill_all(int sig)
{
	for (size_t i = 0; i < S.nkids; i++)
		if (S.kids[i].pid > 0)
			kill(S.kids[i].pid, sig);
}

static void restart(struct child *ch)
{
	int rc = ch->role == ROLE_WORKER ? start_worker(ch->pool) : start_auth();

	if (rc < 0)
		log_msg(LOG_ERR, "%s: cannot hand its socket to the front end: %m", ch->name);
}

static void on_child_exit(pid_t pid, int status)
{
	char how[96];
	struct child *ch = child_by_pid(pid);

	if (!ch)
		return;
	describe_exit(status, how, sizeof(how));
	bool was_ready = ch->ready;
	close(ch->ctl);
	ch->ctl = -1;
	ch->pid = 0;
	ch->ready = false;
	if (S.stopping) {
		log_msg(LOG_INFO, "%s stopped (%s)", ch->name, how);
		if (ch == FE) /* the front end has drained: now the others */
			kill_all(SIGTERM);
		return;
	}
	if (ch == FE || !was_ready) {
		log_msg(LOG_ERR, "%s %s; stopping idgated", ch->name, how);
		S.stopping = true;
		kill_all(SIGTERM);
		exit(1);
	}
	log_msg(LOG_ERR, "%s (pid %d) %s; restarting it", ch->name, (int)pid, how);
	restart(ch);
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		on_child_exit(pid, status);
}

static void begin_stop(void)
{
	if (S.stopping)
		return;
	S.stopping = true;
	S.stop_deadline = now_ms() + S.c->server.shutdown_timeout_ms + 5000;
	sd_notify(0, "STOPPING=1");
	log_msg(LOG_INFO, "stopping: draining requests");
	if (FE->pid > 0)
		kill(FE->pid, SIGTERM);
	else
		kill_all(SIGTERM);
}

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
			log_msg(LOG_WARNING, "SIGHUP: configuration reload is not available in "
			        "this version; restart idgated to apply changes");
			break;
		}
	}
}

static void on_ctl(struct child *ch)
{
	uint8_t *buf = xmalloc(WIRE_MAX_FRAME);
	struct wire_frame f;
	int rc = wire_recv(ch->ctl, buf, &f, MSG_DONTWAIT);

	if (rc > 0) {
		wire_close_fds(&f);
		if (f.type == W_CTL_READY)
			ch->ready = true;
		else
			log_msg(LOG_ERR, "%s sent unexpected control message %u", ch->name, f.type);
	}
	free(buf);
}

static bool all_ready(void)
{
	for (size_t i = 0; i < S.nkids; i++)
		if (!S.kids[i].ready)
			return false;
	return true;
}

static bool anyone_left(void)
{
	for (size_t i = 0; i < S.nkids; i++)
		if (S.kids[i].pid > 0)
			return true;
	return false;
}

/* One round of waiting: signals and control messages. */
static void poll_once(int timeout_ms)
{
	struct pollfd *p = xcalloc(S.nkids + 1, sizeof(*p));
	struct child **who = xcalloc(S.nkids + 1, sizeof(*who));
	size_t n = 0;

	p[n++] = (struct pollfd){ .fd = S.sigfd, .events = POLLIN };
	for (size_t i = 0; i < S.nkids; i++) {
		if (S.kids[i].ctl >= 0 && S.kids[i].pid > 0) {
			who[n] = &S.kids[i];
			p[n++] = (struct pollfd){ .fd = S.kids[i].ctl, .events = POLLIN };
		}
	}
	if (poll(p, n, timeout_ms) > 0) {
		for (size_t i = 1; i < n; i++)
			if (p[i].revents & POLLIN)
				on_ctl(who[i]);
		if (p[0].revents & POLLIN)
			on_signal();
	}
	free(p);
	free(who);
}

static void wait_until_ready(void)
{
	uint64_t deadline = now_ms() + START_TIMEOUT_MS;

	while (!all_ready()) {
		if (now_ms() > deadline) {
			log_msg(LOG_ERR, "children did not start within %d s", START_TIMEOUT_MS / 1000);
			kill_all(SIGKILL);
			exit(1);
		}
		poll_once(200);
		if (S.stopping)
			break;
	}
}

static void log_started(void)
{
	const struct server_conf *s = &S.c->server;

	for (size_t i = 0; i < s->nlisten; i++)
		log_msg(LOG_INFO, "listening on %s", s->listen[i].text);
	log_msg(LOG_INFO, "idgated %s ready: %zu pools, %zu vdirs", PACKAGE_VERSION,
		S.c->npools, S.c->nvdirs);
}

static void setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	S.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (S.sigfd < 0)
		die("signalfd: %m");
}

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

static void setup_children(void)
{
	const struct config *c = S.c;

	S.nkids = 1 + c->npools + (need_auth_helper(c) ? 1 : 0);
	S.kids = xcalloc(S.nkids, sizeof(*S.kids));
	for (size_t i = 0; i < S.nkids; i++)
		S.kids[i].ctl = -1;
	S.kids[0].role = ROLE_FRONTEND;
	S.kids[0].name = "frontend";
	for (size_t i = 0; i < c->npools; i++) {
		struct child *w = &S.kids[1 + i];
		w->role = ROLE_WORKER;
		w->pool = (unsigned)i;
		w->name = xasprintf("pool %s worker", c->pools[i].name);
	}
	if (S.nkids > 1 + c->npools) {
		S.kids[S.nkids - 1].role = ROLE_AUTH;
		S.kids[S.nkids - 1].name = "PAM helper";
	}
}

static void check_privilege(void)
{
	if (privsep_privileged())
		return;
	for (size_t i = 0; i < S.c->npools; i++)
		if (S.c->pools[i].impersonates)
			die("pool %s impersonates callers: idgated must start as root",
			    S.c->pools[i].name);
	log_msg(LOG_WARNING, "not started as root: every process keeps uid %u (users in the "
		"configuration are not applied)", (unsigned)geteuid());
}

int supervisor_run(struct config *c, const char *config_file)
{
	(void)config_file;
	log_set_role("supervisor");
	S.c = c;
	check_privilege();
	setup_signals();
	open_listeners();
	open_audit_log();
	read_tls_files();
	setup_children();
	S.gen = 1;
	start_frontend();
	for (size_t i = 0; i < c->npools; i++)
		if (start_worker((unsigned)i) < 0)
			die("pool %s: cannot hand channels to the front end: %m", c->pools[i].name);
	if (S.kids[S.nkids - 1].role == ROLE_AUTH && start_auth() < 0)
		die("PAM helper: cannot hand its socket to the front end: %m");
	wait_until_ready();
	if (!S.stopping) {
		sd_notify(0, "READY=1");
		log_started();
	}
	while (anyone_left()) {
		poll_once(500);
		if (S.stopping && now_ms() > S.stop_deadline) {
			log_msg(LOG_WARNING, "children did not stop in time; killing them");
			kill_all(SIGKILL);
			S.stop_deadline = UINT64_MAX;
		}
	}
	log_msg(LOG_INFO, "stopped");
	return 0;
}
