/* cgi.c -- runs programs under `root` (RFC 3875, CGI/1.1).
 *
 * The program is found and checked on the handler thread (cgi_path.c):
 * under impersonation that thread already is the caller, so the kernel
 * checks the caller's rights while the path is resolved.  It always runs
 * in a child started by the spawner, which drops to the request's
 * identity for good; the child executes the very file that was checked
 * (idg_spawn.exec_fd).  Its environment is built from scratch
 * (cgi_env.c).
 *
 * While it runs, one loop moves three streams at once with poll() on
 * non-blocking pipes: the request body to its stdin, its stdout to the
 * client (first the response head, parsed strictly by cgi_head.c, then
 * the body as it comes), and its stderr to idgated's log, line by line.
 * The front end sends no response before it has the whole request, so
 * what the program writes while the request body is still coming is kept
 * in a memfd (up to SPOOL_MAX) and sent when the body is in: a program
 * that writes before it has read all its input cannot deadlock with us.
 * Only the request body is read with a blocking call (req->ops->read),
 * and only when the program has taken everything read so far. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgi_env.h"
#include "cgi_head.h"
#include "cgi_path.h"
#include "idgate/module.h"
#include "modroot.h"
#include "util.h"

#define IO_SIZE 65536
#define STDERR_CAP 65536 /* bytes of a program's stderr logged per request */
#define KILL_WAIT_MS 5000
#define SPOOL_MAX (32u << 20) /* output kept while the request body still comes */

struct cgi_ctx {
	int rootfd;
	char *root;           /* as configured, without a trailing '/' */
	uint64_t timeout_ms;
	uid_t root_uid;       /* the owner root's files show here (cgi_owner.root) */
	char server_name[256];
};

/* ---------------------------------------------------------------- configuration */

static uid_t overflow_uid(void)
{
	FILE *f = fopen("/proc/sys/kernel/overflowuid", "re");
	unsigned long uid = 65534;

	if (f) {
		if (fscanf(f, "%lu", &uid) != 1)
			uid = 65534;
		fclose(f);
	}
	return (uid_t)uid;
}

/* An impersonating pool lives in a user namespace that does not map root
 * (confine.c); there the kernel shows root's files as the overflow uid. */
static uid_t root_shows_as(void)
{
	FILE *f = fopen("/proc/self/uid_map", "re");
	unsigned long inside, outside, count;
	uid_t shown = overflow_uid();

	if (!f)
		return 0;
	while (fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3)
		if (outside == 0 && count > 0)
			shown = (uid_t)inside;
	fclose(f);
	return shown;
}

static int cgi_init(const struct idg_init *ini, void **ctxp)
{
	const char *root = ini->ops->get(ini, "root");
	uint64_t timeout = ini->ops->get_uint(ini, "timeout");
	struct cgi_ctx *ctx;
	int fd;

	if (timeout == 0 || timeout > INT_MAX) {
		ini->ops->error(ini, "timeout", "must be between 1ms and 24d");
		return -1;
	}
	fd = modroot_open(ini, root, O_PATH, false);
	if (fd < 0)
		return -1;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !(ctx->root = modroot_name(root))) {
		free(ctx);
		close(fd);
		return -1;
	}
	ctx->rootfd = fd;
	ctx->timeout_ms = timeout;
	ctx->root_uid = root_shows_as();
	if (gethostname(ctx->server_name, sizeof(ctx->server_name) - 1) < 0)
		snprintf(ctx->server_name, sizeof(ctx->server_name), "localhost");
	if (ctx->root_uid != 0 && !ini->checking)
		ini->ops->log(ini, IDG_LOG_INFO, "root's files show as uid %u in this pool's user "
			      "namespace, like those of every account it does not map: all pass "
			      "the owner check as root's", (unsigned)ctx->root_uid);
	*ctxp = ctx;
	return 0;
}

static void cgi_cleanup(void *p)
{
	struct cgi_ctx *ctx = p;

	if (!ctx)
		return;
	close(ctx->rootfd);
	free(ctx->root);
	free(ctx);
}

/* ---------------------------------------------------------------- one run */

struct run {
	struct idg_request *req;
	const char *name;       /* SCRIPT_NAME, in messages */
	uint64_t timeout_ms, deadline;
	int result;             /* the handler's result, once the run stopped */
	int child;              /* the spawn handle, or -1 */
	int in, out, err;       /* our ends of its stdin, stdout, stderr; -1: closed */
	bool exited;
	int status;             /* its wait status, once exited */
	/* request body -> stdin */
	char *inbuf;
	size_t in_off, in_len;
	bool body_done;         /* the whole request body was read */
	/* stdout -> the response */
	char *head, *outbuf;
	size_t head_len;
	bool head_done, head_sent, discard, overlong;
	int64_t length, taken;  /* Content-Length (-1: none); body bytes taken */
	int spool;              /* memfd: output kept while the body comes; -1 */
	size_t spooled;
	/* stderr -> the log */
	char errline[512];
	size_t errlen, errlogged;
	bool errcut;
};

/* Record why the run stops; returns 1, which stops the loop. */
static int stop(struct run *r, int result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int stop(struct run *r, int result, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->req->ops->set_reason(r->req, "cgi: %s: %s", r->name, msg);
	r->req->ops->log(r->req, IDG_LOG_WARNING, "cgi: %s: %s", r->name, msg);
	r->result = result;
	return 1;
}

static int client_gone(struct run *r)
{
	r->req->ops->child_kill(r->req, r->child);
	return stop(r, IDG_ERROR, "the client went away");
}

static int timed_out(struct run *r)
{
	uint64_t t = r->timeout_ms;
	bool secs = t % 1000 == 0;

	r->req->ops->child_kill(r->req, r->child);
	/* once the head went out, only cutting the connection says it failed */
	return stop(r, r->head_sent ? IDG_ERROR : 504, "timed out after %llu %s",
		    (unsigned long long)(secs ? t / 1000 : t), secs ? "s" : "ms");
}

/* ---------------------------------------------------------------- stderr */

/* A control character would let a program forge log lines: it shows as
 * '?' (a CRLF line end loses its CR). */
static void log_stderr_line(struct run *r)
{
	size_t n = r->errlen;

	r->errlen = 0;
	if (n && r->errline[n - 1] == '\r')
		n--;
	if (r->errcut || n == 0)
		return;
	if (r->errlogged + n > STDERR_CAP) {
		r->req->ops->log(r->req, IDG_LOG_WARNING, "cgi: %s: stderr truncated after %zu bytes",
				 r->name, r->errlogged);
		r->errcut = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->errline[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			r->errline[i] = '?';
	}
	r->errlogged += n + 1;
	r->req->ops->log(r->req, IDG_LOG_WARNING, "cgi: %s: stderr: %.*s", r->name, (int)n,
			 r->errline);
}

/* Lines go to the log as they come; too long a line is cut into several.
 * Past STDERR_CAP, stderr is still read (or the program would block on
 * it) but dropped. */
static void take_stderr(struct run *r, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			log_stderr_line(r);
			continue;
		}
		if (r->errlen == sizeof(r->errline))
			log_stderr_line(r);
		r->errline[r->errlen++] = buf[i];
	}
}

static void read_stderr(struct run *r)
{
	char buf[4096];
	ssize_t n = read(r->err, buf, sizeof(buf));

	if (n > 0) {
		take_stderr(r, buf, (size_t)n);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		log_stderr_line(r);
		close(r->err);
		r->err = -1;
	}
}

/* What is left in the pipe when the program is over; a process it left
 * behind may hold stderr open, so this stops at EAGAIN, not at EOF. */
static void drain_stderr(struct run *r)
{
	char buf[4096];
	ssize_t n;

	while (r->err >= 0 && (n = read(r->err, buf, sizeof(buf))) > 0)
		take_stderr(r, buf, (size_t)n);
	log_stderr_line(r);
}

/* ---------------------------------------------------------------- stdin */

/* More of the request body when the program took all we had; once it
 * reads no more, the rest is read and dropped (the front end answers only
 * after the whole request).  This is the one blocking call of the loop:
 * the body comes at the client's pace. */
static int feed_body(struct run *r)
{
	ssize_t n;

	if (r->body_done || (r->in >= 0 && r->in_off < r->in_len))
		return 0;
	if (r->in >= 0 && r->exited) { /* nobody reads its stdin any more */
		close(r->in);
		r->in = -1;
	}
	n = r->req->ops->read(r->req, r->inbuf, IO_SIZE);
	if (n > 0) {
		r->in_off = 0;
		r->in_len = r->in >= 0 ? (size_t)n : 0;
		return 0;
	}
	if (n == 0) { /* the whole body: the program sees its end */
		r->body_done = true;
		if (r->in >= 0)
			close(r->in);
		r->in = -1;
		return 0;
	}
	if (errno == ECONNRESET)
		return client_gone(r);
	return stop(r, IDG_ERROR, "cannot read the request body: %s", strerror(errno));
}

static void write_stdin(struct run *r)
{
	ssize_t n = write(r->in, r->inbuf + r->in_off, r->in_len - r->in_off);

	if (n > 0) {
		r->in_off += (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		/* EPIPE: it reads no more; feed_body() drops the rest */
		close(r->in);
		r->in = -1;
		r->in_off = r->in_len = 0;
	}
}

/* ---------------------------------------------------------------- stdout */

static int send_body(struct run *r, const char *buf, size_t n)
{
	if (n == 0 && r->head_sent)
		return 0;
	/* n == 0: the head alone, so that the client sees it now */
	if (r->req->ops->write(r->req, buf, n) < 0)
		return errno == ECONNRESET ? client_gone(r)
					   : stop(r, IDG_ERROR, "cannot send the response: %s",
						  strerror(errno));
	r->head_sent = true;
	return 0;
}

/* Keep output while the request body is still coming: the front end
 * sends no response before it has the whole request, so writing now would
 * block us, and the program with us, while the client waits to send the
 * rest of its body. */
static int spool(struct run *r, const char *buf, size_t n)
{
	if (r->spool < 0) {
		r->spool = memfd_create("idgate-cgi-spool", MFD_CLOEXEC);
		if (r->spool < 0)
			return stop(r, IDG_ERROR, "memfd_create: %s", strerror(errno));
	}
	for (size_t done = 0; done < n;) {
		ssize_t k = pwrite(r->spool, buf + done, n - done, (off_t)(r->spooled + done));
		if (k < 0)
			return stop(r, IDG_ERROR, "cannot keep its output: %s", strerror(errno));
		done += (size_t)k;
	}
	r->spooled += n;
	return 0;
}

/* The request body is in: the head and what was kept go out. */
static int flush_spool(struct run *r)
{
	if (!r->body_done || !r->head_done || r->discard || (r->head_sent && r->spool < 0))
		return 0;
	for (size_t off = 0; off < r->spooled;) {
		ssize_t k = pread(r->spool, r->outbuf, IO_SIZE, (off_t)off);
		if (k <= 0)
			return stop(r, IDG_ERROR, "cannot read its kept output: %s",
				    k < 0 ? strerror(errno) : "short file");
		if (send_body(r, r->outbuf, (size_t)k))
			return 1;
		off += (size_t)k;
	}
	if (r->spool >= 0)
		close(r->spool);
	r->spool = -1;
	r->spooled = 0;
	return send_body(r, "", 0);
}

/* Body bytes from the program, never more than its Content-Length. */
static int take_body(struct run *r, const char *buf, size_t n)
{
	if (r->discard)
		return 0;
	if (r->length >= 0 && (int64_t)n > r->length - r->taken) {
		if (!r->overlong)
			r->req->ops->log(r->req, IDG_LOG_WARNING, "cgi: %s: more output than its "
					 "Content-Length of %lld; the rest is dropped", r->name,
					 (long long)r->length);
		r->overlong = true;
		n = (size_t)(r->length - r->taken);
	}
	r->taken += (int64_t)n;
	if (!r->body_done)
		return n ? spool(r, buf, n) : 0;
	return send_body(r, buf, n);
}

static void apply_head(struct run *r, const struct cgi_head *h)
{
	struct idg_request *req = r->req;

	req->ops->set_status(req, h->status);
	if (h->content_type)
		req->ops->add_header(req, "Content-Type", h->content_type);
	if (h->location)
		req->ops->add_header(req, "Location", h->location);
	for (size_t i = 0; i < h->nfields; i++)
		if (req->ops->add_header(req, h->fields[i].name, h->fields[i].value) < 0)
			req->ops->log(req, IDG_LOG_WARNING, "cgi: %s: response header %s dropped",
				      r->name, h->fields[i].name);
	if (h->content_length >= 0)
		req->ops->set_length(req, h->content_length);
	r->length = h->content_length;
	/* HEAD still runs the program; 204 and 304 never have a body */
	r->discard = strcmp(req->method, "HEAD") == 0 || h->status == 204 || h->status == 304;
	r->head_done = true;
}

static int read_head(struct run *r)
{
	ssize_t n = read(r->out, r->head + r->head_len, CGI_HEAD_MAX - r->head_len), len;
	struct cgi_head h;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(r->out); /* its end is judged when it has exited */
			r->out = -1;
		}
		return 0;
	}
	r->head_len += (size_t)n;
	len = cgi_head_length(r->head, r->head_len);
	if (len == 0)
		return 0;
	if (len < 0)
		return stop(r, 502, "response head larger than %d bytes", CGI_HEAD_MAX);
	if (cgi_head_parse(r->head, (size_t)len, &h) < 0)
		return stop(r, 502, "%s", h.error);
	apply_head(r, &h);
	return take_body(r, r->head + len, r->head_len - (size_t)len);
}

static int read_stdout(struct run *r)
{
	ssize_t n;

	if (!r->head_done)
		return read_head(r);
	n = read(r->out, r->outbuf, IO_SIZE);
	if (n > 0)
		return take_body(r, r->outbuf, (size_t)n);
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(r->out);
		r->out = -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- the loop */

static void child_ended(struct run *r)
{
	if (r->req->ops->child_wait(r->req, r->child, 0, &r->status) != 0)
		r->exited = true; /* 1, or -1: it cannot be waited for any more either */
}

/* Wait for whichever stream can move, at most until the deadline. */
static int wait_and_move(struct run *r, int timeout)
{
	struct pollfd p[5];
	nfds_t n = 0;
	int rc, gone = r->body_done ? r->req->ops->abort_fd(r->req) : -1;

	if (r->in >= 0)
		p[n++] = (struct pollfd){ .fd = r->in, .events = POLLOUT };
	if (r->out >= 0 && r->spooled < SPOOL_MAX) /* else it waits, blocked on stdout */
		p[n++] = (struct pollfd){ .fd = r->out, .events = POLLIN };
	if (r->err >= 0)
		p[n++] = (struct pollfd){ .fd = r->err, .events = POLLIN };
	if (!r->exited)
		p[n++] = (struct pollfd){ .fd = r->child, .events = POLLIN };
	if (gone >= 0) /* a program that prints nothing still dies with its client */
		p[n++] = (struct pollfd){ .fd = gone, .events = POLLIN };
	rc = poll(p, n, timeout);
	if (rc < 0 && errno != EINTR)
		return stop(r, IDG_ERROR, "poll: %s", strerror(errno));
	for (nfds_t i = 0; rc > 0 && i < n; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == r->in)
			write_stdin(r);
		else if (p[i].fd == r->out && read_stdout(r))
			return 1;
		else if (p[i].fd == r->err)
			read_stderr(r);
		else if (p[i].fd == r->child)
			child_ended(r);
		else if (p[i].fd == gone && r->req->ops->client_gone(r->req))
			return client_gone(r);
	}
	return 0;
}

/* How it ended, once its stdout is closed and it has exited. */
static int conclude(struct run *r)
{
	int st = r->status;

	drain_stderr(r);
	if (!r->head_done)
		return WIFSIGNALED(st)
			? stop(r, 502, "killed by signal %d before its response head", WTERMSIG(st))
			: stop(r, 502, "exited with status %d before its response head",
			       WEXITSTATUS(st));
	if (WIFSIGNALED(st))
		return stop(r, IDG_ERROR, "killed by signal %d after its response head",
			    WTERMSIG(st));
	if (r->length >= 0 && !r->discard && r->taken < r->length)
		return stop(r, IDG_ERROR, "ended after %lld of the %lld bytes of its Content-Length",
			    (long long)r->taken, (long long)r->length);
	if (WEXITSTATUS(st))
		r->req->ops->log(r->req, IDG_LOG_WARNING, "cgi: %s: exited with status %d", r->name,
				 WEXITSTATUS(st));
	r->result = IDG_OK;
	return 1;
}

static int relay(struct run *r)
{
	while (r->out >= 0 || !r->exited) {
		uint64_t now = now_ms();
		if (now >= r->deadline) {
			timed_out(r);
			return r->result;
		}
		/* a body to drop is read without waiting for the program */
		int wait = !r->body_done && r->in < 0 ? 0 : (int)(r->deadline - now);
		if (feed_body(r) || flush_spool(r) || wait_and_move(r, wait))
			return r->result;
	}
	/* it is over; a response goes out only after the whole request */
	while (!r->body_done)
		if (feed_body(r))
			return r->result;
	if (r->head_done && flush_spool(r))
		return r->result;
	conclude(r);
	return r->result;
}

/* ---------------------------------------------------------------- starting it */

struct names {
	char *script_name; /* SCRIPT_NAME: "/cgi/sub/app.cgi" */
	char *filename;    /* SCRIPT_FILENAME: "/srv/cgi/sub/app.cgi" */
	char *cwd;         /* its directory: "/srv/cgi/sub" */
	const char *path_info; /* what follows it: "/extra" */
};

static int make_names(const struct cgi_ctx *ctx, const struct idg_request *req,
		      const struct cgi_program *p, struct names *nm)
{
	const char *vdir = strcmp(req->vdir, "/") == 0 ? "" : req->vdir;
	const char *root = strcmp(ctx->root, "/") == 0 ? "" : ctx->root;
	const char *pi = req->path_info;

	nm->path_info = pi + p->name_len;
	if (asprintf(&nm->script_name, "%s%.*s", vdir, (int)p->name_len, pi) < 0)
		nm->script_name = NULL;
	if (asprintf(&nm->filename, "%s%.*s", root, (int)p->name_len, pi) < 0)
		nm->filename = NULL;
	if (asprintf(&nm->cwd, "%s%.*s", root, (int)p->dir_len, pi) < 0)
		nm->cwd = NULL;
	if (nm->cwd && !nm->cwd[0]) { /* root is "/" and the program is in it */
		free(nm->cwd);
		nm->cwd = strdup("/");
	}
	return nm->script_name && nm->filename && nm->cwd ? 0 : -1;
}

static void free_names(struct names *nm)
{
	free(nm->script_name);
	free(nm->filename);
	free(nm->cwd);
}

/* Find and check the program as this thread's identity; a refusal is
 * logged and becomes the audit reason. */
static int find_program(const struct cgi_ctx *ctx, struct idg_request *req, struct cgi_program *p)
{
	struct cgi_owner own = { .target = req->impersonated ? req->uid : geteuid(),
				 .root = ctx->root_uid };
	char why[300];
	int rc = cgi_find_program(ctx->rootfd, ctx->root, req->path_info, &own, p, why,
				  sizeof(why));

	if (rc) {
		req->ops->set_reason(req, "%s", why);
		req->ops->log(req, rc == 404 ? IDG_LOG_INFO : IDG_LOG_WARNING, "%s", why);
		return rc;
	}
	if (p->fd <= 2) { /* exec_fd must be above 2 (idgated runs with 0-2 open) */
		int fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 3);
		close(p->fd);
		p->fd = fd;
		if (fd < 0)
			return IDG_ERROR;
	}
	return 0;
}

static int run_begin(struct run *r, struct idg_request *req, const struct cgi_ctx *ctx)
{
	memset(r, 0, sizeof(*r));
	r->req = req;
	r->child = r->in = r->out = r->err = r->spool = -1;
	r->length = -1;
	r->timeout_ms = ctx->timeout_ms;
	r->inbuf = malloc(IO_SIZE);
	r->outbuf = malloc(IO_SIZE);
	r->head = malloc(CGI_HEAD_MAX);
	return r->inbuf && r->outbuf && r->head ? 0 : -1;
}

/* Our ends of three pipes, non-blocking; the child's ends stay blocking,
 * as programs expect. */
static int make_pipes(struct run *r, int theirs[3])
{
	int p[3][2];

	for (int i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			while (i-- > 0) {
				close(p[i][0]);
				close(p[i][1]);
			}
			return -1;
		}
	}
	r->in = p[0][1];
	r->out = p[1][0];
	r->err = p[2][0];
	theirs[0] = p[0][0];
	theirs[1] = p[1][1];
	theirs[2] = p[2][1];
	fcntl(r->in, F_SETFL, O_NONBLOCK);
	fcntl(r->out, F_SETFL, O_NONBLOCK);
	fcntl(r->err, F_SETFL, O_NONBLOCK);
	return 0;
}

static int spawn_program(struct run *r, const struct cgi_ctx *ctx, const struct names *nm,
			 int progfd)
{
	struct idg_request *req = r->req;
	struct cgi_script script = { .root = ctx->root, .script_name = nm->script_name,
				     .path_info = nm->path_info, .filename = nm->filename,
				     .server_name = ctx->server_name };
	char *argv[] = { nm->filename, NULL };
	struct cgi_env env;
	int theirs[3];

	if (cgi_env_build(&env, req, &script) < 0) {
		stop(r, IDG_ERROR, "cannot build the environment: out of memory");
		return IDG_ERROR;
	}
	if (make_pipes(r, theirs) < 0) {
		stop(r, IDG_ERROR, "pipe: %s", strerror(errno));
		cgi_env_free(&env);
		return IDG_ERROR;
	}
	struct idg_spawn s = { .path = nm->filename, .argv = argv, .envp = env.vars,
			       .cwd = nm->cwd, .stdin_fd = theirs[0], .stdout_fd = theirs[1],
			       .stderr_fd = theirs[2], .exec_fd = progfd };
	r->child = req->ops->spawn(req, &s);
	for (int i = 0; i < 3; i++)
		close(theirs[i]);
	cgi_env_free(&env);
	if (r->child < 0) { /* spawn set the reason: "spawn PATH: step: error" */
		req->ops->log(req, IDG_LOG_WARNING, "cgi: %s: cannot start it: %s", r->name,
			      strerror(errno));
		return IDG_ERROR;
	}
	r->deadline = now_ms() + r->timeout_ms;
	return 0;
}

/* Nothing outlives the request: a child still running is killed and
 * waited for, so that it is gone when the client has its answer. */
static void run_end(struct run *r)
{
	if (r->child >= 0) {
		if (!r->exited) {
			r->req->ops->child_kill(r->req, r->child);
			r->req->ops->child_wait(r->req, r->child, KILL_WAIT_MS, &r->status);
		}
		r->req->ops->child_release(r->req, r->child);
	}
	if (r->err >= 0)
		drain_stderr(r);
	if (r->in >= 0)
		close(r->in);
	if (r->out >= 0)
		close(r->out);
	if (r->err >= 0)
		close(r->err);
	if (r->spool >= 0)
		close(r->spool);
	free(r->inbuf);
	free(r->outbuf);
	free(r->head);
}

static int cgi_handle(void *p, struct idg_request *req)
{
	struct cgi_ctx *ctx = p;
	struct cgi_program prog = { .fd = -1 };
	struct names nm = { 0 };
	struct run r;
	int rc;

	if (run_begin(&r, req, ctx) < 0) {
		rc = IDG_ERROR;
		goto done;
	}
	rc = find_program(ctx, req, &prog);
	if (rc)
		goto done;
	if (make_names(ctx, req, &prog, &nm) < 0) {
		rc = IDG_ERROR;
		goto done;
	}
	r.name = nm.script_name;
	rc = spawn_program(&r, ctx, &nm, prog.fd);
	if (rc == 0)
		rc = relay(&r);
done:
	run_end(&r);
	if (prog.fd >= 0)
		close(prog.fd);
	free_names(&nm);
	return rc;
}

static const struct idg_key cgi_keys[] = {
	{ "root", IDG_KEY_PATH, IDG_KEY_REQUIRED, NULL, "directory of the programs" },
	{ "timeout", IDG_KEY_DURATION, 0, "60s", "how long a program may run" },
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "cgi",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET | IDG_METHOD_HEAD | IDG_METHOD_POST | IDG_METHOD_PUT |
		   IDG_METHOD_DELETE | IDG_METHOD_OPTIONS | IDG_METHOD_PATCH,
	.keys = cgi_keys,
	.init = cgi_init,
	.handle = cgi_handle,
	.cleanup = cgi_cleanup,
};
