/* worker.c -- a pool worker process.  Each thread owns one channel to the
 * front end and serves one request at a time on it: it reads REQ_HEAD,
 * checks it (the front end is less trusted than the pool: nothing in the
 * head is taken on faith, and who the caller is comes only from the
 * authenticator's sealed verdict, trust.h), runs the vdir's module, and streams the
 * response back.  A handler that crashes takes this process down, never
 * the front end or another pool; the supervisor starts a new worker.
 *
 * Peers: what it accepts from each (the tables from_frontend here and
 * answer_types, exit_types in spawner.c)
 *   front end  REQ_HEAD, REQ_BODY, REQ_END, REQ_ABORT on each channel;
 *              anything else, or one out of turn: logged, and the worker
 *              exits (it drops the front end, its one peer on every channel)
 *   spawner    SPAWN_STARTED, SPAWN_FAILED, SPAWN_EXITED on a reply socket;
 *              anything else: logged, the spawn fails
 * It sends the supervisor READY, the front end RESP_*, the spawner SPAWN
 * and SPAWN_KILL.  */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "ctlmsg.h"
#include "confine.h"
#include "cpu.h"
#include "deleg.h"
#include "diag.h"
#include "httputil.h"
#include "iddrop.h"
#include "idswitch.h"
#include "log.h"
#include "modinit.h"
#include "modload.h"
#include "privsep.h"
#include "route.h"
#include "spawner.h"
#include "trust.h"
#include "sbuf.h"
#include "util.h"
#include "peers.h"
#include "reqmsg.h"
#include "wire.h"

#define MAX_RESP_HEADERS 100
#define SMALL_FILE_INLINE (16 * 1024) /* send_fd(): copied, not passed, up to this */
#define SPAWNER_HUP_WAIT_MS 1000 /* check_spawner() */

struct wthread {
	int fd;
	uint8_t *headbuf;  /* REQ_HEAD stays here while the request runs */
	uint8_t *framebuf; /* every later frame */
	uint8_t *plainbuf; /* the opened verdict (trust.h): wiped after each request */
	pthread_t tid;
};

struct out_hdr {
	char *name, *value;
};

struct wreq {
	struct idg_request pub; /* first: modules get &pub */
	struct wthread *t;
	struct wire_req q;
	const struct vdir_conf *v;
	bool head_only;
	/* request body */
	const uint8_t *body;
	size_t body_left;
	bool req_ended, aborted;
	/* response */
	int status;
	int64_t length;
	struct out_hdr hdrs[MAX_RESP_HEADERS];
	size_t nhdrs;
	bool head_sent, resp_ended;
	char reason[512];
	char **scratch;
	size_t nscratch;
	int children[8];  /* spawned and not released */
	size_t nchildren;
};

static struct {
	struct config *c;
	struct pool_conf *pool;
	struct ident self;   /* the pool's identity, to return to after a request */
	int spawner;         /* socket to this worker's spawner (our only child) */
	int ccdir;           /* runtime_dir/ccache, our private tmpfs (impersonating pools), or -1 */
	void **ctx; /* per vdir index; NULL for other pools' vdirs */
	struct wthread *threads;
	size_t nthreads;
	atomic_size_t open_channels;
	atomic_bool stopping; /* SIGTERM: the channels are being shut down */
} W;

__attribute__((noreturn)) static void protocol_error(const char *what)
{
	log_msg(LOG_ERR, "front end broke the protocol (%s); worker exits", what);
	_exit(3);
}

/* What the front end may send on a channel (the Peers comment above). */
static const uint16_t from_frontend[] = { W_REQ_HEAD, W_REQ_BODY, W_REQ_END, W_REQ_ABORT };
static const struct peer_table frontend_peer = PEER_TABLE("front end", from_frontend);

/* The next frame from the front end on channel t, into buf: 1, or 0 when
 * the front end closed the channel.  A malformed frame or one of a type
 * it never sends is a protocol error: the worker exits (it drops every
 * channel: the front end is one peer). */
static int recv_from_frontend(struct wthread *t, uint8_t *buf, struct wire_frame *f)
{
	char why[80], name[48];
	int rc = wire_recv(t->fd, buf, f, 0);

	if (rc == 0 || (rc < 0 && errno != EPROTO))
		return 0;
	if (rc < 0)
		protocol_error("malformed frame");
	if (f->nfds) {
		wire_close_fds(f);
		protocol_error("fd on a request frame");
	}
	if (!peer_accepts(&frontend_peer, f->type)) {
		snprintf(why, sizeof(why), "unexpected message %s",
			 peer_type_name(f->type, name, sizeof(name)));
		protocol_error(why);
	}
	return 1;
}

/* ---------------------------------------------------------------- request body */

/* Next frame from the front end into framebuf; handles the terminal ones.
 * Returns 1 with a body frame, 0 when the body ended. */
static int next_body_frame(struct wreq *r, struct wire_frame *f)
{
	if (!recv_from_frontend(r->t, r->t->framebuf, f)) {
		/* the front end is gone: as good as an abort */
		r->req_ended = r->aborted = true;
		return 0;
	}
	if (f->type == W_REQ_BODY && reqm_body_check(f) == 0)
		return 1;
	if (f->type == W_REQ_HEAD || reqm_end_check(f) < 0)
		protocol_error("unexpected frame during a request");
	r->req_ended = true;
	r->aborted = f->type == W_REQ_ABORT;
	return 0;
}

static ssize_t op_read(struct idg_request *pub, void *buf, size_t len)
{
	struct wreq *r = (struct wreq *)pub;
	struct wire_frame f;

	while (!r->body_left) {
		if (r->req_ended) {
			if (r->aborted) {
				errno = ECONNRESET;
				return -1;
			}
			return 0;
		}
		if (next_body_frame(r, &f)) {
			r->body = f.payload;
			r->body_left = f.len;
		}
	}
	if (len > r->body_left)
		len = r->body_left;
	memcpy(buf, r->body, len);
	r->body += len;
	r->body_left -= len;
	return (ssize_t)len;
}

/* Has the client gone away?  Looks at the next frame without taking a
 * body frame the handler has not read yet.  After the request's end the
 * front end sends nothing but a late REQ_ABORT, when the client leaves
 * while the handler still works -- until our response has ended: from
 * then on the channel carries the next request. */
static bool client_gone(struct wreq *r)
{
	uint8_t hdr[WIRE_HDR];
	uint16_t type;
	struct wire_frame f;
	ssize_t n;

	if (r->aborted)
		return true;
	if (r->resp_ended) /* the exchange is over: what comes is the next request's */
		return false;
	n = recv(r->t->fd, hdr, sizeof(hdr), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return r->req_ended = r->aborted = true;
	if (n < (ssize_t)sizeof(hdr))
		return false;
	memcpy(&type, hdr, 2);
	if (type != W_REQ_ABORT) {
		if (r->req_ended)
			protocol_error("a frame after the end of the request");
		return false;
	}
	if (!recv_from_frontend(r->t, r->t->framebuf, &f) || reqm_end_check(&f) < 0)
		protocol_error("a malformed abort");
	r->body_left = 0;
	return r->req_ended = r->aborted = true;
}

static int op_client_gone(struct idg_request *pub)
{
	return client_gone((struct wreq *)pub);
}

static int op_abort_fd(struct idg_request *pub)
{
	struct wreq *r = (struct wreq *)pub;

	return r->req_ended && !r->body_left && !r->resp_ended ? r->t->fd : -1;
}

/* ---------------------------------------------------------------- response */

static const char *op_header(struct idg_request *pub, const char *name)
{
	struct wreq *r = (struct wreq *)pub;
	const char *first = NULL;
	size_t count = 0;
	struct sbuf b;

	for (uint32_t i = 0; i < r->q.nhdrs; i++) {
		if (strcasecmp(r->q.hdrs[i].name, name) == 0 && count++ == 0)
			first = r->q.hdrs[i].value;
	}
	if (count <= 1)
		return first;
	sb_init(&b); /* repeated: one value joined with ", " (RFC 9110 5.3) */
	for (uint32_t i = 0; i < r->q.nhdrs; i++) {
		if (strcasecmp(r->q.hdrs[i].name, name) != 0)
			continue;
		if (b.len)
			sb_puts(&b, ", ");
		sb_puts(&b, r->q.hdrs[i].value);
	}
	r->scratch = xreallocarray(r->scratch, r->nscratch + 1, sizeof(char *));
	r->scratch[r->nscratch++] = b.s;
	return b.s;
}

static int op_header_at(struct idg_request *pub, size_t i, const char **name, const char **value)
{
	struct wreq *r = (struct wreq *)pub;

	if (i >= r->q.nhdrs)
		return 0;
	*name = r->q.hdrs[i].name;
	*value = r->q.hdrs[i].value;
	return 1;
}

static int op_set_status(struct idg_request *pub, int status)
{
	struct wreq *r = (struct wreq *)pub;

	if (r->head_sent || status < 200 || status > 599) {
		errno = EINVAL;
		return -1;
	}
	r->status = status;
	return 0;
}

static int op_add_header(struct idg_request *pub, const char *name, const char *value)
{
	struct wreq *r = (struct wreq *)pub;

	if (r->head_sent || r->nhdrs >= MAX_RESP_HEADERS || !http_token_ok(name) ||
	    !http_value_ok(value) || http_gateway_owned(name)) {
		errno = EINVAL;
		return -1;
	}
	r->hdrs[r->nhdrs].name = xstrdup(name);
	r->hdrs[r->nhdrs].value = xstrdup(value);
	r->nhdrs++;
	return 0;
}

static int op_set_length(struct idg_request *pub, int64_t length)
{
	struct wreq *r = (struct wreq *)pub;

	if (r->head_sent || length < -1) {
		errno = EINVAL;
		return -1;
	}
	r->length = length;
	return 0;
}

/* Send the head; with `body` (INLINE) it carries the whole body as well,
 * and the response is over. */
static int send_head(struct wreq *r, uint16_t flags, int fd, uint64_t offset, const void *body,
		     size_t body_len)
{
	struct wire_hdr h[MAX_RESP_HEADERS];
	struct wire_resp resp = {
		.status = (uint32_t)(r->status ? r->status : 200),
		.length = r->length < 0 ? WIRE_LEN_UNKNOWN : (uint64_t)r->length,
		.fd_offset = offset, .hdrs = h, .nhdrs = (uint32_t)r->nhdrs,
		.reason = r->reason[0] ? r->reason : NULL,
		.body = body, .body_len = body_len,
	};
	struct wbuf b;
	int rc;

	for (size_t i = 0; i < r->nhdrs; i++) {
		h[i].name = r->hdrs[i].name;
		h[i].value = r->hdrs[i].value;
	}
	wb_init(&b);
	wire_resp_encode(&b, &resp);
	if (b.overflow) {
		wb_free(&b);
		errno = EMSGSIZE;
		return -1;
	}
	rc = wire_send(r->t->fd, W_RESP_HEAD, flags, b.p, b.len, fd >= 0 ? &fd : NULL,
		       fd >= 0 ? 1 : 0, 0);
	wb_free(&b);
	r->head_sent = true;
	if (flags & (W_RESP_END_TOO | W_RESP_INLINE))
		r->resp_ended = true;
	return rc;
}

/* The whole announced body in one write, small enough for one frame: send
 * it with the head (one frame, one wakeup of the front end). */
static bool send_inline(struct wreq *r, const void *buf, size_t len)
{
	if (r->head_sent || r->head_only || r->length != (int64_t)len ||
	    len > WIRE_MAX_PAYLOAD / 2)
		return false;
	return send_head(r, W_RESP_INLINE, -1, 0, buf, len) == 0;
}

static int op_write(struct idg_request *pub, const void *buf, size_t len)
{
	struct wreq *r = (struct wreq *)pub;
	const char *p = buf;

	if (r->resp_ended) {
		errno = EINVAL;
		return -1;
	}
	if (send_inline(r, buf, len))
		return 0;
	if (!r->head_sent && send_head(r, 0, -1, 0, NULL, 0) < 0)
		return -1;
	if (client_gone(r)) {
		errno = ECONNRESET;
		return -1;
	}
	if (r->head_only)
		return 0;
	while (len > 0) {
		size_t n = len < WIRE_MAX_PAYLOAD ? len : WIRE_MAX_PAYLOAD;
		if (wire_send(r->t->fd, W_RESP_BODY, 0, p, n, NULL, 0, 0) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* A small file goes in the head's frame: for the front end, a copy of 16
 * KiB at most is cheaper than a descriptor -- no SCM_RIGHTS, no fstat,
 * pread and close there.  NOT_READ if it cannot be read whole (then the
 * descriptor goes, and the front end's read fails as it would). */
#define NOT_READ (-2)
static int send_file_inline(struct wreq *r, int fd, uint64_t offset, uint64_t length)
{
	uint8_t buf[SMALL_FILE_INLINE];

	if (pread_full(fd, buf, (size_t)length, (off_t)offset) != (ssize_t)length)
		return NOT_READ;
	return send_head(r, W_RESP_INLINE, -1, 0, buf, (size_t)length);
}

static int op_send_fd(struct idg_request *pub, int fd, uint64_t offset, uint64_t length)
{
	struct wreq *r = (struct wreq *)pub;
	struct stat st;
	int rc;

	if (r->head_sent || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    offset > (uint64_t)st.st_size || length > (uint64_t)st.st_size - offset) {
		errno = EINVAL;
		return -1;
	}
	r->length = (int64_t)length;
	if (!r->head_only && length <= SMALL_FILE_INLINE &&
	    (rc = send_file_inline(r, fd, offset, length)) != NOT_READ)
		return rc;
	return send_head(r, W_RESP_FD | W_RESP_END_TOO, fd, offset, NULL, 0);
}

static void op_set_reason(struct idg_request *pub, const char *fmt, ...)
{
	struct wreq *r = (struct wreq *)pub;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

static void op_log(struct idg_request *pub, enum idg_log_level level, const char *fmt, ...)
{
	struct wreq *r = (struct wreq *)pub;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg((int)level, "vdir %s: handler '%s': request %s: %s", r->v->path,
		r->v->module->name, r->q.request_id, msg);
}

/* ---------------------------------------------------------------- children */

/* The spawner died (kill -9, a crash): this worker can start no program
 * any more, nor another spawner (it forks one only while it is small and
 * single-threaded, at its start), so it exits at once and the supervisor
 * starts a new one.  Whichever thread sees it first -- the main thread on
 * SIGCHLD, or a request's thread whose spawn or wait found the spawner's
 * socket closed -- ends the process: every request on this worker then
 * fails alike (502 from the front end, as on any worker that dies), never
 * with the module's own answer to a failed spawn (500). */
__attribute__((noreturn)) static void spawner_died(void)
{
	static atomic_flag dying = ATOMIC_FLAG_INIT;

	if (atomic_flag_test_and_set(&dying))
		for (;;)
			pause(); /* the first one exits for all */
	log_msg(LOG_ERR, "the spawner died; the worker restarts");
	_exit(1);
}

/* A spawn, wait or kill failed as when the spawner is gone (its socket
 * or a reply socket closed): is it?  The kernel closes a dead process's
 * descriptors one by one, so its socket's hang-up may follow the reply
 * socket's by a moment: wait for it that long.  (A spawner that lives
 * never closes a socket a request waits on.) */
static void check_spawner(void)
{
	struct pollfd p = { .fd = W.spawner, .events = 0 }; /* (hang-up only) */

	if (poll(&p, 1, SPAWNER_HUP_WAIT_MS) == 1 && (p.revents & (POLLHUP | POLLERR)))
		spawner_died();
}

static int open_null(int fd, int flags)
{
	return fd >= 0 ? fd : open("/dev/null", flags | O_CLOEXEC);
}

static int op_spawn(struct idg_request *pub, const struct idg_spawn *s)
{
	struct wreq *r = (struct wreq *)pub;
	struct ident as;
	char why[300] = "cannot open /dev/null";
	pid_t pid;
	int fds[3], child;

	if (r->nchildren >= ARRAY_SIZE(r->children)) {
		errno = EMFILE;
		op_set_reason(pub, "spawn: too many children for one request");
		return -1;
	}
	if (s->exec_fd != 0 && s->exec_fd <= 2) {
		errno = EINVAL;
		op_set_reason(pub, "spawn %s: exec_fd %d is neither 0 nor an fd above 2", s->path,
			      s->exec_fd);
		return -1;
	}
	idswitch_acting(&as); /* who this thread acts as now: the caller or the pool */
	fds[0] = open_null(s->stdin_fd, O_RDONLY);
	fds[1] = open_null(s->stdout_fd, O_WRONLY);
	fds[2] = open_null(s->stderr_fd, O_WRONLY);
	struct spawn_request q = { .as = &as, .path = s->path, .cwd = s->cwd, .argv = s->argv,
				   .envp = s->envp, .fds = { fds[0], fds[1], fds[2] },
				   .exec_fd = s->exec_fd };
	child = (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) ? -1
		: spawn_start(W.spawner, &q, &pid, why, sizeof(why));
	int saved = errno;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && fds[i] != (i == 0 ? s->stdin_fd : i == 1 ? s->stdout_fd : s->stderr_fd))
			close(fds[i]);
	if (child < 0) {
		if (saved == EPIPE) /* spawn_start: "the spawner is gone", "did not answer" */
			check_spawner();
		op_set_reason(pub, "spawn %s: %s", s->path, why);
		errno = saved;
		return -1;
	}
	r->children[r->nchildren++] = child;
	return child;
}

static bool owns_child(struct wreq *r, int child, size_t *at)
{
	for (size_t i = 0; i < r->nchildren; i++) {
		if (r->children[i] == child) {
			*at = i;
			return true;
		}
	}
	errno = EBADF;
	return false;
}

static int op_child_wait(struct idg_request *pub, int child, int timeout_ms, int *status)
{
	size_t i;
	int rc;

	if (!owns_child((struct wreq *)pub, child, &i))
		return -1;
	rc = spawn_wait(child, timeout_ms, status);
	if (rc < 0)
		check_spawner();
	return rc;
}

static int op_child_kill(struct idg_request *pub, int child)
{
	size_t i;
	int rc;

	if (!owns_child((struct wreq *)pub, child, &i))
		return -1;
	rc = spawn_kill(child);
	if (rc < 0 && errno != EAGAIN)
		check_spawner();
	return rc;
}

static void op_child_release(struct idg_request *pub, int child)
{
	struct wreq *r = (struct wreq *)pub;
	size_t i;

	if (!owns_child(r, child, &i))
		return;
	close(child); /* the spawner kills what still runs */
	r->children[i] = r->children[--r->nchildren];
}

static const struct idg_request_ops request_ops = {
	.header = op_header,
	.header_at = op_header_at,
	.read = op_read,
	.set_status = op_set_status,
	.add_header = op_add_header,
	.set_length = op_set_length,
	.write = op_write,
	.send_fd = op_send_fd,
	.set_reason = op_set_reason,
	.log = op_log,
	.spawn = op_spawn,
	.child_wait = op_child_wait,
	.child_kill = op_child_kill,
	.child_release = op_child_release,
	.client_gone = op_client_gone,
	.abort_fd = op_abort_fd,
};

/* ---------------------------------------------------------------- one request */

/* The module's result, as the response the client gets. */
static void finish(struct wreq *r, int rc)
{
	uint16_t end_flags = 0;
	struct wbuf b;

	if (!r->head_sent) {
		if (rc == IDG_OK) {
			send_head(r, W_RESP_END_TOO, -1, 0, NULL, 0);
			return;
		}
		int status = rc == IDG_DECLINED ? 404 : (rc >= 400 && rc <= 599) ? rc : 500;
		size_t len;
		char *page = http_error_body(status, NULL, &len);
		for (size_t i = 0; i < r->nhdrs; i++) {
			free(r->hdrs[i].name);
			free(r->hdrs[i].value);
		}
		r->nhdrs = 0;
		r->status = status;
		r->length = (int64_t)len;
		op_add_header(&r->pub, "Content-Type", "text/html; charset=utf-8");
		if (r->head_only) {
			send_head(r, W_RESP_END_TOO, -1, 0, NULL, 0);
		} else {
			op_write(&r->pub, page, len);
		}
		free(page);
		if (r->resp_ended)
			return;
	} else if (r->resp_ended) {
		return;
	} else if (rc != IDG_OK) {
		end_flags = W_RESP_END_ERROR; /* the body is incomplete */
	}
	wb_init(&b);
	reqm_resp_end_encode(&b, r->reason[0] ? r->reason : NULL);
	wire_send(r->t->fd, W_RESP_END, end_flags, b.p, b.len, NULL, 0, 0);
	wb_free(&b);
	r->resp_ended = true;
}

/* Read what is left of the request so the channel is clean for the next. */
static void drain(struct wreq *r)
{
	struct wire_frame f;

	while (!r->req_ended)
		next_body_frame(r, &f);
}

/* Check REQ_HEAD against our own configuration.  NULL if it is fine. */
static const char *check_request(struct wreq *r)
{
	const struct wire_req *q = &r->q;
	const struct vdir_conf *v;

	if (q->vdir >= W.c->nvdirs)
		return "vdir index out of range";
	v = &W.c->vdirs[q->vdir];
	if (v->pool != W.pool)
		return "vdir of another pool";
	if (!(method_bit(q->method) & v->module->desc->methods))
		return "method the handler does not take";
	if (!vdir_covers(v->path, v->path_len, q->path))
		return "path outside the vdir";
	r->v = v;
	return NULL;
}

static void setup_request(struct wreq *r, struct wthread *t)
{
	const struct wire_req *q = &r->q;
	const struct vdir_conf *v = r->v;

	r->t = t;
	r->length = -1;
	r->head_only = strcmp(q->method, "HEAD") == 0;
	r->pub = (struct idg_request){
		.ops = &request_ops,
		.method = q->method,
		.path = q->path,
		.path_info = v->path_len == 1 ? q->path : q->path + v->path_len,
		.query = q->query,
		.vdir = v->path,
		.pool = W.pool->name,
		.request_id = q->request_id,
		.client_addr = q->client_addr,
		.client_port = q->client_port,
		.host = q->host,
		.version = q->version,
		.tls = (int)q->tls,
		.principal = q->principal,
		.user = q->user,
		.uid = (uid_t)q->uid,
		.gid = (gid_t)q->gid,
		.level = (enum idg_level)q->level,
		.impersonated = 0,
		.ccache = NULL,
		.auth_type = q->auth_type == W_AUTH_NEGOTIATE ? "Negotiate"
			     : q->auth_type == W_AUTH_BASIC  ? "Basic" : NULL,
	};
}

static void free_request(struct wreq *r)
{
	while (r->nchildren)
		op_child_release(&r->pub, r->children[0]);
	for (size_t i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	for (size_t i = 0; i < r->nscratch; i++)
		free(r->scratch[i]);
	free(r->scratch);
	free(r->q.hdrs);
}

/* Who to become for an impersonated request, checked here again: the
 * front end said who the caller is; whether that account may be
 * impersonated is ours to decide.  Cached per thread for account_cache. */
#define IDENT_CACHE 16
static __thread struct {
	char user[72];
	uint64_t expires_ms;
	int ok;
	struct ident id;
	char why[160];
} ident_cache[IDENT_CACHE];
static __thread unsigned ident_next;

static int caller_ident(const struct wreq *r, struct ident *id, char *why, size_t len)
{
	uint64_t now = now_ms();
	unsigned k;

	for (k = 0; k < IDENT_CACHE; k++)
		if (strcmp(ident_cache[k].user, r->q.user) == 0 && now < ident_cache[k].expires_ms)
			break;
	if (k == IDENT_CACHE) {
		k = ident_next++ % IDENT_CACHE;
		snprintf(ident_cache[k].user, sizeof(ident_cache[k].user), "%s", r->q.user);
		ident_cache[k].ok = ident_for_user(r->q.user, &W.c->server.ids, &ident_cache[k].id,
						   ident_cache[k].why, sizeof(ident_cache[k].why)) == 0;
		ident_cache[k].expires_ms = now + W.c->server.account_cache_ms;
	}
	if (!ident_cache[k].ok) {
		snprintf(why, len, "%s", ident_cache[k].why);
		return -1;
	}
	if (ident_cache[k].id.uid != (uid_t)r->q.uid) {
		snprintf(why, len, "account %s is uid %u here, not %u", r->q.user,
			 (unsigned)ident_cache[k].id.uid, (unsigned)r->q.uid);
		return -1;
	}
	*id = ident_cache[k].id;
	return 0;
}

/* The exported credentials sit in our head buffer: wiped once used. */
static void wipe_exported(struct wreq *r)
{
	if (r->q.creds)
		explicit_bzero((void *)r->q.creds, r->q.creds_len);
}

static int delegation_failed(struct wreq *r, const char *what, const char *why)
{
	op_set_reason(&r->pub, "delegation: cannot %s the credentials: %s", what, why);
	log_msg(LOG_ERR, "vdir %s: request %s: delegation: cannot %s the credentials: %s",
		r->v->path, r->q.request_id, what, why);
	return 500;
}

/* On the thread switched to the caller: with delegation = store, the
 * delegated credentials in a cache of the caller's for the handler's
 * lifetime. */
static int run_as_caller(struct wreq *r, void *ctx)
{
	struct deleg_cc cc = { .made = false };
	char why[400];
	int rc;

	if (!r->q.creds || r->v->delegation != DELEGATION_STORE)
		return r->v->module->desc->handle(ctx, &r->pub);
	rc = deleg_store(W.ccdir, W.c->server.ccache_dir, r->q.creds, r->q.creds_len, &cc, why,
			 sizeof(why));
	wipe_exported(r);
	if (rc < 0)
		return delegation_failed(r, "store", why);
	r->pub.ccache = cc.env;
	rc = r->v->module->desc->handle(ctx, &r->pub);
	r->pub.ccache = NULL;
	deleg_remove(W.ccdir, &cc);
	return rc;
}

/* Run the module, as the caller when the request says so. */
static int run_identity(struct wreq *r, void *ctx)
{
	struct ident who;
	char why[200];
	int rc;

	if (!r->q.impersonate)
		return r->v->module->desc->handle(ctx, &r->pub);
	if (caller_ident(r, &who, why, sizeof(why)) < 0) {
		op_set_reason(&r->pub, "impersonation refused: %s", why);
		return 403;
	}
	idswitch_thread_acting(&who, &W.self);
	r->pub.impersonated = 1;
	rc = run_as_caller(r, ctx);
	idswitch_thread(&W.self);
	return rc;
}

/* A handler that uses delegated credentials itself gets them in memory;
 * the exported bytes in our head buffer are wiped when the handler ends. */
static int run_handler(struct wreq *r)
{
	void *ctx = W.ctx[r->v->index];
	char why[400];
	int rc;

	rc = 0;
	if (r->q.creds && (r->v->module_creds || r->v->module_s4u))
		rc = deleg_import(r->q.creds, r->q.creds_len, &r->pub.gss_creds, why, sizeof(why));
	if (!r->q.impersonate || r->v->delegation != DELEGATION_STORE)
		wipe_exported(r); /* else run_as_caller stores, then wipes */
	rc = rc < 0 ? delegation_failed(r, "import", why) : run_identity(r, ctx);
	deleg_release(&r->pub.gss_creds);
	wipe_exported(r);
	return rc;
}

static void serve(struct wthread *t, const struct wire_frame *head)
{
	struct wreq r;
	const char *bad;
	char why[300];
	bool trusted;
	int rc;

	memset(&r, 0, sizeof(r));
	if (reqm_head_decode(head, &r.q) < 0)
		protocol_error("malformed request head");
	bad = check_request(&r);
	if (bad)
		protocol_error(bad);
	trusted = trust_check(&r.q, r.v, t->plainbuf, why, sizeof(why)) == 0;
	setup_request(&r, t);
	if (head->flags & W_REQ_END_TOO)
		r.req_ended = true; /* no body follows */
	if (trusted) {
		rc = run_handler(&r);
	} else {
		log_msg(LOG_WARNING, "vdir %s: request %s: %s", r.v->path, r.q.request_id, why);
		op_set_reason(&r.pub, "%s", why);
		rc = 403;
	}
	finish(&r, rc);
	drain(&r);
	explicit_bzero(t->plainbuf, r.q.verdict_len); /* the caller, their credentials */
	free_request(&r);
}

/* The front end closes a worker's channels when the worker was recycled
 * or its pool stopped (or when it exits itself): when the last one is
 * closed, nothing can reach this worker any more, and it exits the way
 * SIGTERM makes it (the main thread takes the signal). */
static void channel_closed(void)
{
	if (atomic_fetch_sub(&W.open_channels, 1) != 1 || atomic_load(&W.stopping))
		return;
	log_msg(LOG_INFO, "the front end closed every channel: exiting");
	kill(getpid(), SIGTERM);
}

static void *channel_thread(void *arg)
{
	struct wthread *t = arg;
	struct wire_frame f;

	/* channel k is read by front-end loop k % loops: share its CPU */
	cpu_place_thread(W.c, (unsigned)((size_t)(t - W.threads) % config_loops(W.c)));
	while (recv_from_frontend(t, t->headbuf, &f)) { /* else the front end closed it */
		if (f.type == W_REQ_ABORT && reqm_end_check(&f) == 0)
			continue; /* late: the request it was for has ended */
		if (f.type != W_REQ_HEAD)
			protocol_error("expected a request head");
		serve(t, &f);
	}
	channel_closed();
	return NULL;
}

/* ---------------------------------------------------------------- process */

/* A pool that impersonates: its own user namespace (the supervisor maps
 * it), CAP_SETUID/CAP_SETGID only, seccomp.  Any other pool: its identity
 * for good, no capability at all. */
static void become_pool_identity(struct worker_args *a)
{
	struct confine_plan plan = { .ids = &W.c->server.ids };
	char err[256];

	if (confine_pool_ident(a->pool, &plan.pool) < 0)
		die("cannot list the groups of user %s", a->pool->user);
	W.self = plan.pool;
	W.ccdir = -1;
	if (a->ns_to_parent >= 0) {
		if (confine_enter_userns(a->ns_to_parent, a->ns_from_parent, err, sizeof(err)) < 0 ||
		    confine_private_tmpfs(W.c->server.ccache_dir, &plan.pool, err, sizeof(err)) < 0)
			die("cannot confine the worker: %s", err);
		W.ccdir = open(W.c->server.ccache_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (W.ccdir < 0)
			die("cannot open %s: %m", W.c->server.ccache_dir);
		if (confine_worker(&plan, err, sizeof(err)) < 0)
			die("cannot confine the worker: %s", err);
		return;
	}
	if (iddrop_process(&plan.pool, err, sizeof(err)) < 0)
		die("cannot become %s: %s", a->pool->user, err);
	if (!privsep_privileged()) /* not started as root: we are what we are */
		idswitch_current(&W.self);
}

static void init_modules(void)
{
	struct diag d = { 0 };
	int failed = 0;

	W.ctx = xcalloc(W.c->nvdirs, sizeof(*W.ctx));
	for (size_t i = 0; i < W.c->nvdirs; i++) {
		const struct vdir_conf *v = &W.c->vdirs[i];
		if (v->pool != W.pool)
			continue;
		if (vdir_module_init(W.c, v, &d, false, &W.ctx[i]) < 0)
			failed = 1;
	}
	for (size_t i = 0; i < d.n; i++)
		log_msg(LOG_ERR, "%s", d.msgs[i]);
	diag_free(&d);
	if (failed)
		exit(2);
}

static void cleanup_modules(void)
{
	for (size_t i = 0; i < W.c->nvdirs; i++) {
		const struct vdir_conf *v = &W.c->vdirs[i];
		if (v->pool == W.pool && v->module->desc->cleanup)
			v->module->desc->cleanup(W.ctx[i]);
	}
}

static void start_threads(struct worker_args *a)
{
	W.nthreads = a->nchannels;
	W.threads = xcalloc(W.nthreads, sizeof(*W.threads));
	atomic_store(&W.open_channels, W.nthreads);
	for (size_t i = 0; i < W.nthreads; i++) {
		struct wthread *t = &W.threads[i];
		t->fd = a->channels[i];
		t->headbuf = xmalloc(WIRE_MAX_FRAME);
		t->framebuf = xmalloc(WIRE_MAX_FRAME);
		t->plainbuf = xmalloc(WIRE_MAX_PAYLOAD);
		if (pthread_create(&t->tid, NULL, channel_thread, t) != 0)
			die("cannot start worker thread");
	}
}

/* The pool's mark of the verdicts its workers took (trust.h), shared with
 * the supervisor, which reads it when this worker dies. */
static uint64_t *map_taken(int fd)
{
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		die("cannot map the pool's mark of verdicts taken: %m");
	return p;
}

void worker_main(struct worker_args *a)
{
	char role[96];
	sigset_t set;
	int sig;

	W.c = a->c;
	W.pool = a->pool;
	trust_init(a->verdict_key, a->trust_since_ms ? a->trust_since_ms : now_ms(),
		   map_taken(a->taken_fd));
	explicit_bzero((void *)a->verdict_key, VERDICT_KEY_LEN); /* ours is trust.c's */
	snprintf(role, sizeof(role), "pool %s", a->pool->name);
	log_set_role(role);
	prctl(PR_SET_NAME, "idgate-pool", 0, 0, 0);
	/* inherited by the spawner; idswitch_thread() sets it again after each
	 * switch, which resets it */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("PR_SET_DUMPABLE: %m");
	become_pool_identity(a);
	/* now, while this process is small and single-threaded */
	W.spawner = spawner_start(&W.self, &W.c->server.ids);
	if (W.spawner < 0)
		die("cannot start the spawner: %m");
	init_modules();
	block_child_signals(&set);
	sigaddset(&set, SIGCHLD); /* the spawner's end, for this thread alone */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	start_threads(a);
	/* logged first: once the supervisor hears READY, the line is there */
	log_msg(LOG_INFO, "serving with %zu threads as uid %u", W.nthreads, (unsigned)W.self.uid);
	if (ctlm_send_ready(a->ctl) < 0)
		die("cannot report readiness: %m");
	while (sigwait(&set, &sig) != 0 || sig == SIGHUP || sig == SIGCHLD) {
		if (sig == SIGCHLD && waitpid(-1, NULL, WNOHANG) > 0)
			spawner_died();
	}
	/* the front end has drained by now; wake threads blocked on recv */
	atomic_store(&W.stopping, true);
	for (size_t i = 0; i < W.nthreads; i++)
		shutdown(W.threads[i].fd, SHUT_RDWR);
	for (size_t i = 0; i < W.nthreads; i++)
		pthread_join(W.threads[i].tid, NULL);
	cleanup_modules();
	exit(0);
}
