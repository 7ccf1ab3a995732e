/* supervisor.c -- the only process that keeps root after start-up, and it
 * does little with it: it opens the listening sockets and the audit log,
 * creates the channels between the front end and the pool workers, forks
 * those children (each drops to its own identity at once), maps the user
 * namespaces of impersonating workers, restarts workers that die (until
 * rapid_fail disables their pool), reloads on SIGHUP and stops everything
 * on SIGTERM.  It never reads the network.
 *
 * A running configuration and its children form a generation.  SIGHUP
 * validates the file first; a bad file is reported and changes nothing.
 * A good one starts a new generation on the same listening sockets; once
 * it is ready the old front end drains (it stops accepting and finishes
 * its requests), then the old workers stop. */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "deleg.h"
#include "diag.h"
#include "frontend.h"
#include "listeners.h"
#include "log.h"
#include "modinit.h"
#include "privsep.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

#define START_TIMEOUT_MS 30000
#define RETRY_AFTER_DISABLED 60

enum role { ROLE_FRONTEND, ROLE_WORKER, ROLE_AUTH };

struct generation;

struct child {
	enum role role;
	unsigned pool;     /* ROLE_WORKER */
	pid_t pid;
	int ctl;           /* supervisor's end */
	bool ready;
	char *name;        /* for messages */
	struct generation *gen;
};

struct pool_health {
	uint64_t *fails;   /* when its workers died, newest last */
	size_t nfails;
	bool disabled;
};

struct generation {
	unsigned id;
	struct config *c;
	int *listen_fds;   /* [listener * loops + loop] */
	size_t nlisten_fds;
	int audit_fd;
	char *tls_cert_pem, *tls_key_pem;
	/* kids[0] is the front end, kids[1..npools] the pool workers, and the
	 * PAM helper comes last when one is needed */
	struct child *kids;
	size_t nkids;
	struct pool_health *health;
	bool retiring;
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
} S;

#define FE(g) (&(g)->kids[0])

static void poll_once(int timeout_ms);

/* ---------------------------------------------------------------- resources */

static int open_audit_log(const char *path)
{
	int fd;

	if (!*path)
		return -1;
	if (strcmp(path, "-") == 0)
		return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		log_msg(LOG_ERR, "audit_log %s: %m", path);
	return fd;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int read_tls_files(struct generation *g)
{
	const struct server_conf *s = &g->c->server;

	for (size_t i = 0; i < s->nlisten; i++) {
		if (!s->listen[i].tls)
			continue;
		g->tls_cert_pem = read_file(s->tls_cert);
		g->tls_key_pem = read_file(s->tls_key);
		if (!g->tls_cert_pem || !g->tls_key_pem) {
			log_msg(LOG_ERR, "cannot read tls_cert %s or tls_key %s: %m", s->tls_cert,
				s->tls_key);
			return -1;
		}
		return 0;
	}
	return 0;
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

static pid_t spawn_frontend(struct generation *g, int ctl_child)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	child_setup();
	size_t n = g->nlisten_fds;
	int *keep = xcalloc(n + 2, sizeof(int));
	memcpy(keep, g->listen_fds, n * sizeof(int));
	keep[n] = ctl_child;
	keep[n + 1] = g->audit_fd;
	close_fds_except(keep, n + 2);
	free(keep);
	struct fe_args a = { .c = g->c, .listen_fds = g->listen_fds, .ctl = ctl_child,
			     .audit_fd = g->audit_fd, .tls_cert_pem = g->tls_cert_pem,
			     .tls_key_pem = g->tls_key_pem };
	frontend_main(&a);
}

/* An impersonating worker enters its own user namespace at once; we map
 * it (only we can: it needs CAP_SETUID here) before it goes on. */
static int map_worker_namespace(struct generation *g, pid_t pid, const struct pool_conf *pool,
				int up, int down)
{
	struct confine_plan plan = { .min_id = g->c->server.min_uid };
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

static pid_t spawn_worker(struct generation *g, struct pool_conf *pool, int *chans, int ctl_child)
{
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
	child_setup();
	int *keep = xcalloc(pool->threads + 3, sizeof(int));
	memcpy(keep, chans, pool->threads * sizeof(int));
	keep[pool->threads] = ctl_child;
	keep[pool->threads + 1] = up[1];
	keep[pool->threads + 2] = down[0];
	close_fds_except(keep, pool->threads + 3);
	free(keep);
	struct worker_args a = { .c = g->c, .pool = pool, .channels = chans,
				 .nchannels = pool->threads, .ctl = ctl_child,
				 .ns_to_parent = up[1], .ns_from_parent = down[0] };
	worker_main(&a);
}

/* Channels go to the front end in batches; the fds are closed here after. */
static int send_channels(struct generation *g, unsigned pool, int *fds, size_t n, uint32_t tag)
{
	struct wbuf b;
	int rc = 0;

	wb_init(&b);
	wb_u32(&b, pool);
	wb_u32(&b, tag);
	for (size_t off = 0; off < n && rc == 0; off += WIRE_MAX_FDS) {
		size_t k = n - off < WIRE_MAX_FDS ? n - off : WIRE_MAX_FDS;
		rc = wire_send(FE(g)->ctl, W_CTL_CHANNELS, 0, b.p, b.len, fds + off, k, 0);
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
	w->pid = spawn_worker(g, pool, theirs, ctl[1]);
	close(ctl[1]);
	for (size_t k = 0; k < n; k++)
		close(theirs[k]);
	if (w->pid > 0)
		rc = send_channels(g, i, mine, n, ++tag);
	for (size_t k = 0; k < n; k++)
		close(mine[k]);
done:
	free(mine);
	free(theirs);
	return rc;
}

/* The PAM helper: its request socket goes to the front end. */
static int start_auth(struct generation *g)
{
	struct child *a = &g->kids[g->nkids - 1];
	int sp[2], ctl[2], rc;

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
		child_setup();
		close_fds_except(keep, 2);
		authhelper_main(g->c, sp[1], ctl[1]);
	}
	close(sp[1]);
	close(ctl[1]);
	rc = a->pid > 0 ? wire_send(FE(g)->ctl, W_CTL_AUTHSOCK, 0, NULL, 0, &sp[0], 1, 0) : -1;
	close(sp[0]);
	return rc;
}

static int start_frontend(struct generation *g)
{
	int ctl[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
		return -1;
	FE(g)->ctl = ctl[0];
	FE(g)->pid = spawn_frontend(g, ctl[1]);
	close(ctl[1]);
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

static void setup_children(struct generation *g)
{
	const struct config *c = g->c;

	g->nkids = 1 + c->npools + (need_auth_helper(c) ? 1 : 0);
	g->kids = xcalloc(g->nkids, sizeof(*g->kids));
	g->health = xcalloc(c->npools, sizeof(*g->health));
	for (size_t i = 0; i < g->nkids; i++) {
		g->kids[i].ctl = -1;
		g->kids[i].gen = g;
	}
	g->kids[0].role = ROLE_FRONTEND;
	g->kids[0].name = xstrdup("frontend");
	for (size_t i = 0; i < c->npools; i++) {
		struct child *w = &g->kids[1 + i];
		w->role = ROLE_WORKER;
		w->pool = (unsigned)i;
		w->name = xasprintf("pool %s worker", c->pools[i].name);
	}
	if (g->nkids > 1 + c->npools) {
		g->kids[g->nkids - 1].role = ROLE_AUTH;
		g->kids[g->nkids - 1].name = xstrdup("PAM helper");
	}
}

static void gen_free(struct generation *g)
{
	for (struct generation **pp = &S.gens; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	for (size_t i = 0; i < g->nkids; i++) {
		if (g->kids[i].ctl >= 0)
			close(g->kids[i].ctl);
		free(g->kids[i].name);
	}
	for (size_t i = 0; g->health && i < g->c->npools; i++)
		free(g->health[i].fails);
	if (g->audit_fd >= 0)
		close(g->audit_fd);
	free(g->health);
	free(g->kids);
	free(g->listen_fds);
	free(g->tls_cert_pem);
	free(g->tls_key_pem);
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

static struct generation *gen_create(struct config *c)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	char err[512];

	g->id = ++S.next_id;
	g->c = c;
	g->audit_fd = -1;
	g->listen_fds = listeners_open(c, config_loops(c), err, sizeof(err));
	if (!g->listen_fds) {
		log_msg(LOG_ERR, "%s", err);
		goto fail;
	}
	g->nlisten_fds = c->server.nlisten * config_loops(c);
	g->audit_fd = open_audit_log(c->server.audit_log);
	if ((*c->server.audit_log && g->audit_fd < 0) || read_tls_files(g) < 0)
		goto fail;
	setup_children(g);
	g->next = S.gens;
	S.gens = g;
	return g;
fail:
	gen_free(g); /* not linked yet: gen_free only releases */
	return NULL;
}

static int gen_start(struct generation *g)
{
	if (start_frontend(g) < 0)
		return -1;
	for (size_t i = 0; i < g->c->npools; i++)
		if (start_worker(g, (unsigned)i) < 0)
			return -1;
	if (g->kids[g->nkids - 1].role == ROLE_AUTH && start_auth(g) < 0)
		return -1;
	return 0;
}

static void gen_kill(struct generation *g, int sig)
{
	for (size_t i = 0; i < g->nkids; i++)
		if (g->kids[i].pid > 0)
			kill(g->kids[i].pid, sig);
}

static bool gen_ready(const struct generation *g)
{
	for (size_t i = 0; i < g->nkids; i++)
		if (!g->kids[i].ready && !(g->kids[i].role == ROLE_WORKER &&
					   g->health[g->kids[i].pool].disabled))
			return false;
	return true;
}

static bool gen_alive(const struct generation *g)
{
	for (size_t i = 0; i < g->nkids; i++)
		if (g->kids[i].pid > 0)
			return true;
	return false;
}

/* Wait until every child of g said it is ready.  -1 if one died first or
 * the time ran out (g is then being stopped). */
static int gen_wait_ready(struct generation *g)
{
	uint64_t deadline = now_ms() + START_TIMEOUT_MS;

	while (!gen_ready(g)) {
		if (g->retiring || S.stopping)
			return -1;
		if (now_ms() > deadline) {
			log_msg(LOG_ERR, "children did not start within %d s", START_TIMEOUT_MS / 1000);
			return -1;
		}
		poll_once(200);
	}
	return 0;
}

/* The front end drains first; the others stop when it is gone. */
static void gen_retire(struct generation *g)
{
	g->retiring = true;
	if (FE(g)->pid > 0)
		kill(FE(g)->pid, SIGTERM);
	else
		gen_kill(g, SIGTERM);
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

static void tell_pool_state(struct generation *g, unsigned pool, bool disabled)
{
	struct wbuf b;

	wb_init(&b);
	wb_u32(&b, pool);
	wb_u32(&b, disabled ? RETRY_AFTER_DISABLED : 0);
	if (FE(g)->ctl >= 0 && wire_send(FE(g)->ctl, W_CTL_POOL_STATE, 0, b.p, b.len, NULL, 0, 0) < 0)
		log_msg(LOG_ERR, "cannot tell the front end about pool %s: %m",
			g->c->pools[pool].name);
	wb_free(&b);
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

static void worker_failed(struct generation *g, struct child *ch)
{
	const struct pool_conf *pc = &g->c->pools[ch->pool];

	if (too_many_failures(g, ch->pool)) {
		g->health[ch->pool].disabled = true;
		log_msg(LOG_ERR, "pool %s disabled: %zu worker failures within %llu s (rapid_fail); "
			"it answers 503 until the next reload", pc->name, g->health[ch->pool].nfails,
			(unsigned long long)(pc->rapid_fail_window_ms / 1000));
		tell_pool_state(g, ch->pool, true);
		return;
	}
	if (start_worker(g, ch->pool) < 0)
		log_msg(LOG_ERR, "%s: cannot restart it: %m", ch->name);
}

static void after_exit_while_retiring(struct generation *g, struct child *ch)
{
	if (ch == FE(g)) /* the front end has drained: now the others */
		gen_kill(g, SIGTERM);
	if (!gen_alive(g)) {
		log_msg(LOG_INFO, "configuration generation %u has stopped", g->id);
		if (g == S.cur)
			S.cur = NULL;
		gen_free(g);
	}
}

static void on_child_exit(struct child *ch, int status)
{
	struct generation *g = ch->gen;
	char how[96];
	bool was_ready = ch->ready;
	pid_t pid = ch->pid;

	describe_exit(status, how, sizeof(how));
	close(ch->ctl);
	ch->ctl = -1;
	ch->pid = 0;
	ch->ready = false;
	if (g->retiring || S.stopping) {
		log_msg(LOG_INFO, "%s stopped (%s)", ch->name, how);
		after_exit_while_retiring(g, ch);
		return;
	}
	if (ch == FE(g) || !S.started || (ch->role == ROLE_AUTH && !was_ready)) {
		/* without a front end, nothing is served; a restart is
		 * systemd's job (Restart=on-failure) */
		log_msg(LOG_ERR, "%s %s; stopping idgated", ch->name, how);
		S.stopping = true;
		for (struct generation *o = S.gens; o; o = o->next)
			gen_kill(o, SIGTERM);
		exit(1);
	}
	log_msg(LOG_ERR, "%s (pid %d) %s", ch->name, (int)pid, how);
	if (ch->role == ROLE_WORKER)
		worker_failed(g, ch);
	else if (start_auth(g) < 0)
		log_msg(LOG_ERR, "PAM helper: cannot restart it: %m");
}

static struct child *child_by_pid(pid_t pid)
{
	for (struct generation *g = S.gens; g; g = g->next)
		for (size_t i = 0; i < g->nkids; i++)
			if (g->kids[i].pid == pid)
				return &g->kids[i];
	return NULL;
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *ch = child_by_pid(pid);
		if (ch)
			on_child_exit(ch, status);
	}
}

/* ---------------------------------------------------------------- reload and stop */

/* mkdir -p, root's, 0755; the last two levels (IDGATE_RUN_DIR and the
 * mount point below it) must be root's alone: a mount point someone else
 * controls could be swapped for a link. */
static int make_mount_point(const char *path, char *err, size_t len)
{
	char buf[PATH_MAX];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		goto fail;
	for (int level = 0; level < 2; level++) {
		if (lstat(buf, &st) < 0)
			goto fail;
		if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
			snprintf(err, len, "%s must be a directory of root's, not writable by others",
				 buf);
			return -1;
		}
		*strrchr(buf, '/') = '\0';
	}
	return 0;
fail:
	snprintf(err, len, "%s: %s", buf, strerror(errno));
	return -1;
}

static bool privilege_ok(const struct config *c, bool fatal)
{
	char err[PATH_MAX + 100];

	if (privsep_privileged()) {
		for (size_t i = 0; i < c->npools; i++) {
			if (!c->pools[i].impersonates || make_mount_point(DELEG_DIR, err,
									sizeof(err)) == 0)
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

static struct config *load_for_reload(void)
{
	struct diag d = { 0 };
	struct config *c = config_load(S.file, &d, true);

	if (c && config_check_modules(c, &d) < 0) {
		config_free(c);
		c = NULL;
	}
	for (size_t i = 0; i < d.n; i++)
		log_msg(c ? LOG_WARNING : LOG_ERR, "reload: %s", d.msgs[i]);
	diag_free(&d);
	if (c && !privilege_ok(c, false)) {
		config_free(c);
		c = NULL;
	}
	return c;
}

static void reload(void)
{
	struct generation *g, *old = S.cur;
	struct config *c;

	if (S.reloading) {
		S.reload_again = true;
		return;
	}
	S.reloading = true;
	sd_notify(0, "RELOADING=1");
	log_msg(LOG_INFO, "SIGHUP: reloading %s", S.file);
	c = load_for_reload();
	if (!c) {
		log_msg(LOG_ERR, "reload refused: the configuration is not valid; the running one "
			"keeps serving");
	} else if (!(g = gen_create(c))) {
		log_msg(LOG_ERR, "reload refused: cannot prepare the new configuration");
	} else if (gen_start(g) < 0 || gen_wait_ready(g) < 0) {
		log_msg(LOG_ERR, "reload failed: the new configuration did not start; the running "
			"one keeps serving");
		gen_retire(g);
	} else {
		S.cur = g;
		gen_retire(old);
		log_msg(LOG_INFO, "reloaded: configuration generation %u serves, %u drains", g->id,
			old->id);
	}
	sd_notify(0, "READY=1");
	S.reloading = false;
	if (S.reload_again) {
		S.reload_again = false;
		reload();
	}
}

static void begin_stop(void)
{
	if (S.stopping)
		return;
	S.stopping = true;
	S.stop_deadline = now_ms() + (S.cur ? S.cur->c->server.shutdown_timeout_ms : 0) + 5000;
	sd_notify(0, "STOPPING=1");
	log_msg(LOG_INFO, "stopping: draining requests");
	for (struct generation *g = S.gens; g; g = g->next)
		gen_retire(g);
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
				reload();
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

static size_t count_kids(void)
{
	size_t n = 0;

	for (struct generation *g = S.gens; g; g = g->next)
		n += g->nkids;
	return n;
}

/* One round of waiting: signals and control messages. */
static void poll_once(int timeout_ms)
{
	size_t cap = count_kids() + 1, n = 0;
	struct pollfd *p = xcalloc(cap, sizeof(*p));
	struct child **who = xcalloc(cap, sizeof(*who));

	p[n++] = (struct pollfd){ .fd = S.sigfd, .events = POLLIN };
	for (struct generation *g = S.gens; g; g = g->next) {
		for (size_t i = 0; i < g->nkids; i++) {
			struct child *ch = &g->kids[i];
			if (ch->ctl >= 0 && ch->pid > 0) {
				who[n] = ch;
				p[n++] = (struct pollfd){ .fd = ch->ctl, .events = POLLIN };
			}
		}
	}
	if (poll(p, n, timeout_ms) > 0) {
		for (size_t i = 1; i < n; i++)
			if (p[i].revents & POLLIN)
				on_ctl(who[i]);
		if (p[0].revents & POLLIN)
			on_signal(); /* last: it may free children of this round */
	}
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

int supervisor_run(struct config *c, const char *config_file)
{
	struct generation *g;

	log_set_role("supervisor");
	S.file = config_file;
	privilege_ok(c, true);
	if (!privsep_privileged())
		log_msg(LOG_WARNING, "not started as root: every process keeps uid %u (users in "
			"the configuration are not applied)", (unsigned)geteuid());
	setup_signals();
	g = gen_create(c);
	if (!g)
		return 1;
	S.cur = g;
	if (gen_start(g) < 0 || gen_wait_ready(g) < 0) {
		gen_kill(g, SIGKILL);
		return 1;
	}
	S.started = true;
	sd_notify(0, "READY=1");
	log_started(g);
	while (S.gens) {
		poll_once(500);
		if (S.stopping && now_ms() > S.stop_deadline) {
			log_msg(LOG_WARNING, "children did not stop in time; killing them");
			for (struct generation *o = S.gens; o; o = o->next)
				gen_kill(o, SIGKILL);
			S.stop_deadline = UINT64_MAX;
		}
	}
	log_msg(LOG_INFO, "stopped");
	return 0;
}
