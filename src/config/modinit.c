/* modinit.c -- the idg_init_ops a module sees in init(): typed access to
 * its keys and error reports that carry the file and line of the key.
 *
 * init() is module code: it parses the vdir's keys and may open files or
 * resolve names (proxy resolves its backend).  It never runs as root.  In
 * a pool worker it runs as the pool's identity; the checks of idgated -t,
 * start-up, reload and idgatectl check run it in a child per pool that
 * has become the pool's user (no capability, no_new_privs) and reports
 * over a socket pair, in frames the parent checks like any message: which
 * vdir's init() starts, its errors (key and message), and how it ended
 * (passed, and whether it asked for delegated or proxy credentials).  A
 * check that crashes or hangs fails; the parent stays unharmed. */
#include "modinit.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chkmsg.h"
#include "config.h"
#include "confine.h"
#include "diag.h"
#include "iddrop.h"
#include "log.h"
#include "modload.h"
#include "peers.h"
#include "privsep.h"
#include "units.h"
#include "util.h"
#include "wire.h"

#define CHECK_TIMEOUT_MS 30000 /* for the init() calls of one pool */
#define CHECK_MAX_ERRORS 64    /* reported by one init() */

struct init_ctx {
	struct idg_init pub; /* first: modules get &pub */
	const struct config *c;
	const struct vdir_conf *v;
	struct diag *d;      /* errors go here, */
	int sock;            /* or, in a check child, to the parent (-1: not) */
	int errors;
	bool wants_creds, wants_s4u;
	char s4u_target[256]; /* what use_proxy_credentials() named */
};

static const struct init_ctx *ctx_of(const struct idg_init *ini)
{
	return (const struct init_ctx *)ini;
}

static const char *op_get(const struct idg_init *ini, const char *key)
{
	return vdir_key(ctx_of(ini)->v, key);
}

static int op_get_bool(const struct idg_init *ini, const char *key)
{
	const char *val = op_get(ini, key), *why;
	bool b = false;

	if (val)
		parse_bool(val, &b, &why);
	return b;
}

static uint64_t op_get_uint(const struct idg_init *ini, const char *key)
{
	const struct vdir_conf *v = ctx_of(ini)->v;
	const struct idg_key *k = module_key(v->module, key);
	const char *val = op_get(ini, key), *why;
	uint64_t u = 0;

	if (!val || !k)
		return 0;
	if (k->type == IDG_KEY_SIZE)
		parse_size(val, &u, &why);
	else if (k->type == IDG_KEY_DURATION)
		parse_duration_ms(val, &u, &why);
	else
		parse_uint(val, UINT64_MAX, &u, &why);
	return u;
}

static int key_line(const struct vdir_conf *v, const char *key)
{
	for (size_t i = 0; key && i < v->nkeys; i++)
		if (strcmp(v->keys[i].name, key) == 0)
			return v->keys[i].line;
	return v->line;
}

/* "[vdir PATH] handler 'NAME': KEY: MSG" (to be shown at KEY's line). */
static char *vdir_message(const struct vdir_conf *v, const char *key, const char *msg)
{
	return xasprintf("[vdir %s] handler '%s': %s%s%s", v->path, v->module->name,
			 key ? key : "", key ? ": " : "", msg);
}

static void send_wbuf(int sock, uint16_t type, struct wbuf *b)
{
	(void)!wire_send(sock, type, 0, b->p, b->len, NULL, 0, 0);
	wb_free(b);
}

static void op_error(const struct idg_init *ini, const char *key, const char *fmt, ...)
{
	struct init_ctx *x = (struct init_ctx *)ini;
	char msg[768];
	struct wbuf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->errors++;
	if (x->sock < 0) {
		char *text = vdir_message(x->v, key, msg);
		config_error(x->c, x->d, key_line(x->v, key), "%s", text);
		free(text);
		return;
	}
	struct chkm_error m = { .vdir = x->v->index, .key = key, .message = msg };

	wb_init(&b);
	chkm_error_encode(&b, &m);
	send_wbuf(x->sock, W_CHK_ERROR, &b);
}

static void op_log(const struct idg_init *ini, enum idg_log_level level, const char *fmt, ...)
{
	const struct init_ctx *x = ctx_of(ini);
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg((int)level, "vdir %s: handler '%s': %s", x->v->path, x->v->module->name, msg);
}

static void op_use_delegated_credentials(const struct idg_init *ini)
{
	((struct init_ctx *)ini)->wants_creds = true;
}

static void op_use_proxy_credentials(const struct idg_init *ini, const char *target)
{
	struct init_ctx *x = (struct init_ctx *)ini;

	x->wants_s4u = true;
	snprintf(x->s4u_target, sizeof(x->s4u_target), "%s", target ? target : "");
}

static const struct idg_init_ops init_ops = {
	.get = op_get,
	.get_bool = op_get_bool,
	.get_uint = op_get_uint,
	.error = op_error,
	.log = op_log,
	.use_delegated_credentials = op_use_delegated_credentials,
	.use_proxy_credentials = op_use_proxy_credentials,
};

static struct init_ctx init_ctx_for(const struct config *c, const struct vdir_conf *v,
				    bool checking)
{
	return (struct init_ctx){
		.pub = { .ops = &init_ops, .vdir = v->path, .pool = v->pool->name,
			 .impersonate = (int)v->impersonate, .checking = checking },
		.c = c, .v = v, .sock = -1,
	};
}

/* init(), and cleanup() again when it reported errors but returned 0. */
static int run_init(struct init_ctx *x, void **ctx)
{
	const struct idg_module *m = x->v->module->desc;
	int rc = 0;

	*ctx = NULL;
	if (m->init)
		rc = m->init(&x->pub, ctx);
	if (rc != 0 && x->errors == 0)
		op_error(&x->pub, NULL, "init failed");
	if (rc == 0 && x->errors > 0) {
		if (m->cleanup)
			m->cleanup(*ctx);
		*ctx = NULL;
		rc = -1;
	}
	return rc ? -1 : 0;
}

/* What init() asked for is recorded in the configuration, for the front
 * end (which is forked from the supervisor with it). */
static void record_wishes(const struct vdir_conf *v, bool creds, bool s4u, const char *target)
{
	struct vdir_conf *w = (struct vdir_conf *)v;

	if (creds)
		w->module_creds = true;
	if (s4u) {
		w->module_s4u = true;
		free(w->s4u_target);
		w->s4u_target = xstrdup(target);
	}
}

int vdir_module_init(const struct config *c, const struct vdir_conf *v, struct diag *d,
		     bool checking, void **ctx)
{
	struct init_ctx x = init_ctx_for(c, v, checking);
	int rc;

	x.d = d;
	rc = run_init(&x, ctx);
	if (rc == 0)
		record_wishes(v, x.wants_creds, x.wants_s4u, x.s4u_target);
	return rc;
}

/* ---------------------------------------------------------------- the check child */

static bool checked_here(const struct vdir_conf *v, const struct pool_conf *pool)
{
	return v->pool == pool && v->module;
}

/* init() then cleanup() of one vdir, framed by W_CHK_BEGIN and W_CHK_DONE. */
static void check_vdir(const struct config *c, const struct vdir_conf *v, int sock)
{
	struct init_ctx x = init_ctx_for(c, v, true);
	struct wbuf b;
	void *ctx;
	int rc;

	wb_init(&b);
	chkm_begin_encode(&b, v->index);
	send_wbuf(sock, W_CHK_BEGIN, &b);
	x.sock = sock;
	rc = run_init(&x, &ctx);
	if (rc == 0 && v->module->desc->cleanup)
		v->module->desc->cleanup(ctx);
	struct chkm_done m = { .vdir = v->index, .passed = rc == 0, .target = x.s4u_target,
			       .flags = (x.wants_creds ? CHK_CREDS : 0) |
					(x.wants_s4u ? CHK_S4U : 0) };

	wb_init(&b);
	chkm_done_encode(&b, &m);
	send_wbuf(sock, W_CHK_DONE, &b);
}

/* Become the pool's user for good, as its worker does.  0, or -1 with err. */
static int become_pool(const struct pool_conf *pool, char *err, size_t len)
{
	struct ident id;
	char why[256];

	if (confine_pool_ident(pool, &id) < 0) {
		snprintf(err, len, "cannot find the groups of user %s", pool->user);
		return -1;
	}
	if (iddrop_process(&id, why, sizeof(why)) < 0) {
		snprintf(err, len, "cannot become user %s: %s", pool->user, why);
		return -1;
	}
	return 0;
}

__attribute__((noreturn)) static void check_child(const struct config *c,
						  const struct pool_conf *pool, int sock)
{
	char err[512], role[96];
	struct wbuf b;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_fds_except(&sock, 1);
	snprintf(role, sizeof(role), "pool %s check", pool->name);
	log_set_role(role);
	if (become_pool(pool, err, sizeof(err)) < 0) {
		wb_init(&b);
		chkm_failed_encode(&b, err);
		send_wbuf(sock, W_CHK_FAILED, &b);
		_exit(1);
	}
	for (size_t i = 0; i < c->nvdirs; i++)
		if (checked_here(&c->vdirs[i], pool))
			check_vdir(c, &c->vdirs[i], sock);
	_exit(0);
}

/* ---------------------------------------------------------------- the parent */

/* The messages of every pool's check, put in the order of the vdirs. */
struct report {
	unsigned vdir, seq;
	int line;
	char *text;
};

struct reports {
	struct report *r;
	size_t n;
};

/* One pool's check child, as its parent sees it. */
struct watch {
	const struct config *c;
	const struct pool_conf *pool;
	struct reports *rs;
	int current;       /* the vdir whose init() runs, -1: none */
	int last;          /* the vdir begun last: they come in order */
	unsigned nerrors;  /* reported by the current init() */
	size_t ndone, nvdirs;
	bool failed;       /* some init() failed (and said why) */
	const char *broken; /* the child broke the protocol: why */
	char why[80];       /* (the text broken may point to) */
};

static void report_text(struct reports *rs, unsigned vdir, int line, char *text)
{
	rs->r = xreallocarray(rs->r, rs->n + 1, sizeof(*rs->r));
	rs->r[rs->n] = (struct report){ .vdir = vdir, .seq = (unsigned)rs->n, .line = line,
					.text = text };
	rs->n++;
}

/* A message for the current vdir (or the pool when none has begun). */
static void watch_report(struct watch *w, const char *key, const char *msg)
{
	const struct vdir_conf *v;

	w->failed = true;
	if (w->current < 0) {
		report_text(w->rs, (unsigned)(w->last + 1), w->pool->line,
			    xasprintf("[pool %s] %s", w->pool->name, msg));
		return;
	}
	v = &w->c->vdirs[w->current];
	report_text(w->rs, v->index, key_line(v, key), vdir_message(v, key, msg));
}

static int broken(struct watch *w, const char *why)
{
	w->broken = why;
	return -1;
}

/* Control characters become '?': the text goes to logs and terminals. */
static char *printable(const char *s)
{
	char *t = xstrdup(s);

	for (char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return t;
}

static int on_begin(struct watch *w, const struct wire_frame *f)
{
	uint32_t i;

	if (chkm_begin_decode(f, (uint32_t)w->c->nvdirs, &i) < 0 || w->current >= 0 ||
	    (int64_t)i <= (int64_t)w->last || !checked_here(&w->c->vdirs[i], w->pool))
		return broken(w, "an init() out of turn");
	w->current = w->last = (int)i;
	w->nerrors = 0;
	return 0;
}

static int on_error(struct watch *w, const struct wire_frame *f)
{
	struct chkm_error m;
	char *text;

	if (chkm_error_decode(f, (uint32_t)w->c->nvdirs, &m) < 0 || w->current < 0 ||
	    m.vdir != (uint32_t)w->current)
		return broken(w, "a malformed error");
	if (m.key && !module_key(w->c->vdirs[m.vdir].module, m.key))
		return broken(w, "an error about a key the module does not have");
	if (++w->nerrors > CHECK_MAX_ERRORS)
		return broken(w, "too many errors");
	text = printable(m.message);
	watch_report(w, m.key, text);
	free(text);
	return 0;
}

static int on_done(struct watch *w, const struct wire_frame *f)
{
	struct chkm_done m;

	if (chkm_done_decode(f, (uint32_t)w->c->nvdirs, &m) < 0 || w->current < 0 ||
	    m.vdir != (uint32_t)w->current)
		return broken(w, "a malformed verdict");
	if (m.passed && w->nerrors == 0)
		record_wishes(&w->c->vdirs[m.vdir], m.flags & CHK_CREDS, m.flags & CHK_S4U,
			      m.target);
	else if (w->nerrors == 0)
		watch_report(w, NULL, "init failed");
	else
		w->failed = true;
	w->current = -1;
	w->ndone++;
	return 0;
}

static int on_failed(struct watch *w, const struct wire_frame *f)
{
	const char *msg;
	char *text;

	if (chkm_failed_decode(f, &msg) < 0 || w->current >= 0)
		return broken(w, "a malformed failure");
	text = printable(msg);
	watch_report(w, NULL, text);
	free(text);
	w->ndone = w->nvdirs; /* nothing more comes */
	return 0;
}

/* What a check child may send its parent: nothing else is looked at. */
static const uint16_t from_check[] = { W_CHK_BEGIN, W_CHK_ERROR, W_CHK_DONE, W_CHK_FAILED };
static const struct peer_table check_peer = PEER_TABLE("module check", from_check);

static int on_frame(struct watch *w, const struct wire_frame *f)
{
	char name[48];

	if (!peer_accepts(&check_peer, f->type)) {
		snprintf(w->why, sizeof(w->why), "an unexpected message %s",
			 peer_type_name(f->type, name, sizeof(name)));
		return broken(w, w->why);
	}
	switch (f->type) {
	case W_CHK_BEGIN:
		return on_begin(w, f);
	case W_CHK_ERROR:
		return on_error(w, f);
	case W_CHK_DONE:
		return on_done(w, f);
	default:
		return on_failed(w, f);
	}
}

/* Frames until every vdir of the pool is done, the child ends, breaks
 * the protocol or runs out of time.  false when it ran out of time. */
static bool read_verdicts(struct watch *w, int sock)
{
	uint8_t *buf = xmalloc(WIRE_MAX_FRAME);
	uint64_t deadline = now_ms() + CHECK_TIMEOUT_MS;
	struct wire_frame f;
	bool in_time = true;

	while (w->ndone < w->nvdirs && !w->broken) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		uint64_t now = now_ms();
		int rc = now < deadline ? poll(&p, 1, (int)(deadline - now)) : 0;
		if (rc == 0) {
			in_time = false;
			break;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		rc = rc < 0 ? -1 : wire_recv(sock, buf, &f, MSG_DONTWAIT);
		if (rc == 0 || (rc < 0 && errno != EPROTO))
			break; /* the child ended */
		if (rc < 0 || f.nfds) {
			wire_close_fds(&f);
			broken(w, "a malformed message");
		} else {
			(void)on_frame(w, &f); /* sets w->broken */
		}
	}
	free(buf);
	return in_time;
}

/* Reap the child and say why an init() did not finish.  It is killed
 * first: it has nothing left to do but exit, or it is stuck, or it broke
 * the protocol (a child that already died keeps its exit status). */
static void finish_child(struct watch *w, pid_t pid, bool in_time)
{
	bool unfinished = w->ndone < w->nvdirs;
	char msg[256];
	int status = 0;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (w->broken)
		snprintf(msg, sizeof(msg), "the module check broke its protocol (%s)", w->broken);
	else if (!unfinished)
		return;
	else if (!in_time)
		snprintf(msg, sizeof(msg), "init() did not finish within %d s",
			 CHECK_TIMEOUT_MS / 1000);
	else if (WIFSIGNALED(status))
		snprintf(msg, sizeof(msg), "init() was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(msg, sizeof(msg), "init() ended with exit status %d", WEXITSTATUS(status));
	watch_report(w, NULL, msg);
}

static int cannot_start(struct watch *w, const int *sp)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "cannot start the module checks: %s", strerror(errno));
	if (sp) {
		close(sp[0]);
		close(sp[1]);
	}
	watch_report(w, NULL, msg);
	return -1;
}

/* The init() of every vdir of one pool, in a child that is the pool's
 * user.  0 if they all passed. */
static int check_pool(const struct config *c, const struct pool_conf *pool,
		      struct reports *rs)
{
	struct watch w = { .c = c, .pool = pool, .rs = rs, .current = -1, .last = -1 };
	int sp[2];
	pid_t pid;
	bool in_time;

	for (size_t i = 0; i < c->nvdirs; i++)
		w.nvdirs += checked_here(&c->vdirs[i], pool);
	if (!w.nvdirs)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return cannot_start(&w, NULL);
	if ((pid = fork()) < 0)
		return cannot_start(&w, sp);
	if (pid == 0) {
		close(sp[0]);
		check_child(c, pool, sp[1]);
	}
	close(sp[1]);
	in_time = read_verdicts(&w, sp[0]);
	close(sp[0]);
	finish_child(&w, pid, in_time);
	return w.failed ? -1 : 0;
}

static int cmp_report(const void *a, const void *b)
{
	const struct report *x = a, *y = b;

	if (x->vdir != y->vdir)
		return x->vdir < y->vdir ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

int config_check_modules(const struct config *c, struct diag *d)
{
	struct reports rs = { 0 };
	int rc = 0;

	for (size_t i = 0; i < c->npools; i++)
		if (check_pool(c, &c->pools[i], &rs) < 0)
			rc = -1;
	if (rs.n)
		qsort(rs.r, rs.n, sizeof(*rs.r), cmp_report);
	for (size_t i = 0; i < rs.n; i++) {
		config_error(c, d, rs.r[i].line, "%s", rs.r[i].text);
		free(rs.r[i].text);
	}
	free(rs.r);
	return rc;
}
