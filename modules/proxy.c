/* proxy.c -- forwards requests to a backend over HTTP/1.1, to
 * `backend = http://host:port[/path]` or `unix:/path`, streaming bodies
 * both ways.
 *
 * Trusted subsystem: the backend is told who the caller is, by the gateway
 * alone (proxy_msg.c drops what a client sends under those names):
 * X-Remote-User, X-Remote-Principal, X-Impersonation-Level, X-Request-Id,
 * and with identity_signing_key an HMAC over them -- in v2 also over the
 * request itself (method, target, Host, audience, body), see sign().
 * Impersonation: the connection is made by the handler thread, which is
 * the caller, so a unix: backend sees the caller in SO_PEERCRED.  Double hop:
 * backend_auth = negotiate authenticates to the backend as the caller with
 * the credentials the caller delegated; without them the request is
 * refused, never sent anonymously.
 *
 * Connections are kept for reuse only when nothing about them belongs to
 * one caller: not for an impersonated request (made as the caller), not
 * with backend_auth (a backend may tie an authentication to its
 * connection).  And only when the response ended exactly where its own
 * framing said, with nothing more readable (see respond()): bytes a
 * backend writes beyond a response would be read as the next caller's. */
#include <errno.h>
#include <gssapi/gssapi.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "idgate/module.h"
#include "proxy_auth.h"
#include "proxy_conn.h"
#include "proxy_msg.h"
#include "sbuf.h"

#define IO_SIZE 65536
#define CHUNK_ROOM 16 /* room before the data for a chunk's size line */

struct proxy_ctx {
	char *spec;               /* the backend as configured, for messages */
	struct proxy_backend be;
	struct addrinfo *ai;      /* TCP: resolved once, at start */
	bool negotiate;           /* backend_auth = negotiate */
	bool s4u;                 /* s4u2proxy: constrained delegation */
	gss_name_t service;
	bool preserve_host;
	uint64_t connect_ms, timeout_ms;
	unsigned char *key;       /* identity_signing_key, or NULL */
	size_t keylen;
	int sig_version;          /* identity_signature: 1 or 2 */
	char *audience;           /* identity_audience, or the backend as configured */
	struct proxy_strip strip; /* strip_headers */
	struct proxy_pool pool;
};

/* One exchange with the backend. */
struct px {
	const struct proxy_ctx *c;
	struct idg_request *req;
	int fd;
	bool reused, reusable, retry;
	bool body_started;        /* something of the client's body was read */
	bool early;               /* the backend answered before taking the body */
	bool head_out;            /* the response head was given to the client */
	enum proxy_body body;
	uint64_t body_len;
	char *whole;              /* a body read whole before the head (v2 digest), or NULL */
	struct sbuf head;
	struct proxy_gss gss;
	char *io;                 /* CHUNK_ROOM + IO_SIZE + 2 */
	char *in;                 /* the backend's bytes: head, then body */
	size_t in_len;
	struct proxy_resp resp;
	int result;
};

/* ---------------------------------------------------------------- outcomes */

static int refuse(struct px *x, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct px *x, int status, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->req->ops->set_reason(x->req, "proxy: %s: %s", x->c->spec, msg);
	x->req->ops->log(x->req, status >= 500 || status == IDG_ERROR ? IDG_LOG_WARNING
								     : IDG_LOG_INFO,
			 "proxy: %s: %s", x->c->spec, msg);
	x->result = status;
	x->reusable = false;
	return status;
}

/* Once the response head went out, a failure can only cut the connection. */
static int fail_status(const struct px *x, int status)
{
	return x->head_out ? IDG_ERROR : status;
}

static bool reuse_allowed(const struct px *x)
{
	return !x->req->impersonated && !x->c->negotiate && x->c->pool.max > 0;
}

/* ---------------------------------------------------------------- the request */

/* The client's body of `len` bytes, to its end, into x->whole.  0 or status. */
static int read_whole_body(struct px *x, uint64_t len)
{
	size_t got = 0;
	ssize_t n;

	x->whole = malloc((size_t)len + 1);
	if (!x->whole)
		return refuse(x, 500, "out of memory");
	/* one byte of room more: the read that returns 0 marks the end */
	while ((n = x->req->ops->read(x->req, x->whole + got, (size_t)len + 1 - got)) > 0)
		got += (size_t)n;
	if (n < 0)
		return refuse(x, IDG_ERROR, "the client went away while sending its body");
	if (got != len)
		return refuse(x, 400, "the request body ended after %zu of %llu bytes", got,
			      (unsigned long long)len);
	return 0;
}

/* What a v2 signature says of the body.  A streamed body cannot be
 * digested before the head that carries the signature: so a body of known
 * length up to PROXY_DIGEST_MAX is read whole first (and sent from
 * memory), and its SHA-256 is signed; of a larger or chunked one only its
 * framing is ("length=N", "chunked").  0 or status. */
static int describe_body(struct px *x, char **desc)
{
	enum proxy_body body;
	uint64_t len;
	char err[200];

	*desc = NULL;
	if (proxy_request_body(x->req, &body, &len, err, sizeof(err)) < 0)
		return refuse(x, 400, "%s", err);
	if (body == PROXY_BODY_NONE) {
		*desc = strdup("none");
	} else if (body == PROXY_BODY_CHUNKED) {
		*desc = strdup("chunked");
	} else if (len <= PROXY_DIGEST_MAX) {
		if (read_whole_body(x, len))
			return x->result;
		*desc = proxy_body_digest(x->whole, (size_t)len);
	} else if (asprintf(desc, "length=%llu", (unsigned long long)len) < 0) {
		*desc = NULL;
	}
	return *desc ? 0 : refuse(x, 500, "out of memory");
}

/* X-Identity-Signature (identity_signing_key).  v1 covers the identity
 * alone; v2 also what the request is: audience, method, target, Host and
 * body, so that a captured signature cannot vouch for another request.
 * 0 or status. */
static int sign(struct px *x, const char *target, const struct proxy_head_opts *o, char **sig)
{
	struct idg_request *req = x->req;
	const char *level = proxy_level_name(req->level);
	long long ts = (long long)time(NULL);
	char *in = NULL, *body = NULL;

	if (x->c->sig_version == 1) {
		in = proxy_sign_input(req->user, req->principal, level, req->request_id, ts);
	} else {
		if (describe_body(x, &body))
			return x->result;
		struct proxy_sign_fields f = {
			.audience = x->c->audience, .method = req->method, .target = target,
			.host = proxy_head_host(req, o), .user = req->user,
			.principal = req->principal, .level = level, .request_id = req->request_id,
			.body = body, .timestamp = ts,
		};
		in = proxy_sign_input_v2(&f);
	}
	*sig = in ? proxy_sign(x->c->key, x->c->keylen, x->c->sig_version == 1 ? "v1" : "v2", in,
			       ts)
		  : NULL;
	free(in);
	free(body);
	return *sig ? 0 : refuse(x, 500, "cannot sign the identity headers");
}

/* Credentials for the backend and the signature; the head.  0 or status. */
static int prepare(struct px *x)
{
	struct idg_request *req = x->req;
	struct proxy_head_opts o = { .backend = &x->c->be, .strip = &x->c->strip,
				     .preserve_host = x->c->preserve_host };
	char err[400], *target, *sig = NULL;
	int rc;

	if (x->c->negotiate) {
		if (!req->gss_creds && x->c->s4u)
			return refuse(x, 403, "s4u2proxy: no evidence of the caller to delegate with "
					      "(level %s; a ticket that is not forwardable gives none)",
				      proxy_level_name(req->level));
		if (!req->gss_creds)
			return refuse(x, 403, "backend_auth = negotiate needs the caller's delegated "
					      "credentials, and the client delegated none (level %s)",
				      proxy_level_name(req->level));
		if (proxy_gss_start(&x->gss, req->gss_creds, x->c->service, err, sizeof(err)) < 0)
			return refuse(x, 502, "cannot authenticate to the backend as %s: %s",
				      req->principal ? req->principal : "the caller", err);
		o.authorization = x->gss.header;
	}
	target = proxy_target(&x->c->be, req->path, req->path_info, req->query);
	if (!target)
		return refuse(x, 500, "out of memory");
	if (x->c->key && sign(x, target, &o, &sig)) {
		free(target);
		return x->result;
	}
	o.signature = sig;
	sb_init(&x->head);
	rc = proxy_build_head(&x->head, req, target, &o, &x->body, &x->body_len, err, sizeof(err));
	free(target);
	free(sig);
	return rc < 0 ? refuse(x, 400, "%s", err) : 0;
}

static int connect_backend(struct px *x)
{
	char err[200];
	int e;

	x->reused = false;
	if (reuse_allowed(x)) {
		x->fd = proxy_pool_take((struct proxy_pool *)&x->c->pool);
		if (x->fd >= 0) {
			x->reused = true;
			return 0;
		}
	}
	x->fd = proxy_connect(&x->c->be, x->c->ai, x->c->connect_ms, err, sizeof(err));
	if (x->fd >= 0)
		return 0;
	e = errno;
	return refuse(x, e == ETIMEDOUT ? 504 : (e == EACCES || e == EPERM) ? 403 : 502, "%s",
		      err);
}

/* A connection from the pool that the backend closed meanwhile fails at
 * once: such a request is sent again, on a new connection, if nothing of
 * it is lost (no body was read from the client yet). */
static int send_failed(struct px *x, const char *what)
{
	if (x->reused && !x->body_started) {
		x->retry = true;
		return -1;
	}
	return refuse(x, errno == ETIMEDOUT ? 504 : 502, "%s: %s", what,
		      errno == ETIMEDOUT ? "timed out" : strerror(errno));
}

static int send_bytes(struct px *x, const void *p, size_t n, const char *what)
{
	size_t sent;
	int rc = proxy_send_all(x->fd, p, n, x->c->timeout_ms, &sent);

	if (rc < 0)
		return send_failed(x, what);
	if (rc == 1)
		x->early = true; /* the backend has spoken: stop sending */
	return 0;
}

/* Body data as it goes: a chunk's size line before it, CRLF after. */
static int send_body_piece(struct px *x, char *data, size_t n)
{
	if (x->body != PROXY_BODY_CHUNKED)
		return send_bytes(x, data, n, "sending the request body");
	char line[CHUNK_ROOM];
	int k = snprintf(line, sizeof(line), "%zx\r\n", n);
	memcpy(data - k, line, (size_t)k);
	memcpy(data + n, "\r\n", 2);
	return send_bytes(x, data - k, (size_t)k + n + 2, "sending the request body");
}

static int send_body(struct px *x)
{
	char *data = x->io + CHUNK_ROOM;
	uint64_t sent = 0;

	while (!x->early) {
		ssize_t n = x->req->ops->read(x->req, data, IO_SIZE);
		x->body_started = true;
		if (n < 0)
			return refuse(x, IDG_ERROR, "the client went away while sending its body");
		if (n == 0)
			break;
		sent += (uint64_t)n;
		if (send_body_piece(x, data, (size_t)n) < 0)
			return x->result ? x->result : refuse(x, 502, "sending the request body failed");
	}
	if (x->early) {
		x->reusable = false; /* the rest of the body would be in the way */
		return 0;
	}
	if (x->body == PROXY_BODY_CHUNKED)
		return send_bytes(x, "0\r\n\r\n", 5, "sending the request body");
	if (x->body == PROXY_BODY_LENGTH && sent != x->body_len)
		return refuse(x, 400, "the request body ended after %llu of %llu bytes",
			      (unsigned long long)sent, (unsigned long long)x->body_len);
	return 0;
}

static int send_request(struct px *x)
{
	if (send_bytes(x, x->head.s, x->head.len, "sending the request head") < 0)
		return -1;
	if (x->early || x->body == PROXY_BODY_NONE)
		return 0;
	if (x->whole) /* nothing of it is lost if this connection turns out stale */
		return send_bytes(x, x->whole, (size_t)x->body_len, "sending the request body");
	return send_body(x);
}

/* ---------------------------------------------------------------- the response head */

/* More bytes from the backend into x->in.  1 got some, 0 EOF, -1 failed
 * (refused with a status). */
static int read_more(struct px *x, const char *what)
{
	int abort_fd = x->req->ops->abort_fd(x->req);
	int w = proxy_wait_readable(x->fd, abort_fd, x->c->timeout_ms);
	ssize_t n;

	if (w == 2 && x->req->ops->client_gone(x->req))
		return refuse(x, IDG_ERROR, "the client went away"), -1;
	if (w == 0)
		return refuse(x, fail_status(x, 504), "no %s within %llu ms", what,
			      (unsigned long long)x->c->timeout_ms), -1;
	if (w < 0)
		return refuse(x, fail_status(x, 502), "poll: %s", strerror(errno)), -1;
	if (w == 2)
		return 1; /* a wake-up without news: the caller asks again */
	n = recv(x->fd, x->in + x->in_len, PROXY_HEAD_MAX + IO_SIZE - x->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n < 0)
		return refuse(x, fail_status(x, 502), "reading the %s: %s", what, strerror(errno)),
		       -1;
	x->in_len += (size_t)n;
	return n > 0;
}

static void consume(struct px *x, size_t n)
{
	memmove(x->in, x->in + n, x->in_len - n);
	x->in_len -= n;
}

/* Read heads until a final one (1xx informational heads are dropped). */
static int read_head(struct px *x)
{
	char err[200];
	bool head_req = strcmp(x->req->method, "HEAD") == 0;

	for (;;) {
		ssize_t len = proxy_head_length(x->in, x->in_len);
		if (len < 0)
			return refuse(x, 502, "the response head is larger than %d bytes",
				      PROXY_HEAD_MAX);
		if (len == 0) {
			size_t before = x->in_len;
			int rc = read_more(x, "response");
			if (rc < 0)
				return x->result;
			if (rc == 0 && before == 0 && x->reused && !x->body_started) {
				x->retry = true;
				return -1;
			}
			if (rc == 0)
				return refuse(x, 502, "the backend closed the connection before its "
						      "response head");
			continue;
		}
		proxy_resp_free(&x->resp);
		if (proxy_resp_parse(x->in, (size_t)len, head_req, &x->resp, err, sizeof(err)) < 0)
			return refuse(x, 502, "%s", err);
		consume(x, (size_t)len);
		if (x->resp.status == 101)
			return refuse(x, 502, "the backend switched protocols; upgrades are not "
					      "proxied");
		if (x->resp.status >= 200)
			return 0;
	}
}

/* backend_auth: a 401 means the caller's credentials were refused; a token
 * must prove the backend's identity (mutual authentication). */
static int check_backend_auth(struct px *x)
{
	char err[300];

	if (!x->c->negotiate)
		return 0;
	if (x->resp.status == 401)
		return refuse(x, 502, "the backend refused the caller's delegated credentials "
				      "(401)");
	if (x->resp.negotiate && proxy_gss_finish(&x->gss, x->resp.negotiate, err, sizeof(err)) < 0)
		return refuse(x, 502, "the backend failed mutual authentication: %s", err);
	return 0;
}

static void pass_head(struct px *x)
{
	struct idg_request *req = x->req;

	req->ops->set_status(req, x->resp.status);
	for (size_t i = 0; i < x->resp.nhdrs; i++) {
		const char *name = x->resp.hdrs[i].name;
		/* a challenge from the backend is for us, with backend_auth */
		if (x->c->negotiate && strcasecmp(name, "WWW-Authenticate") == 0)
			continue;
		req->ops->add_header(req, name, x->resp.hdrs[i].value); /* Date etc. are ours */
	}
	if (x->resp.chunked)
		req->ops->set_length(req, -1);
	else if (x->resp.length >= 0 || !x->resp.no_body)
		req->ops->set_length(req, x->resp.length);
	else
		req->ops->set_length(req, x->resp.status == 204 || x->resp.status == 304 ? 0 : -1);
	x->head_out = true;
}

/* ---------------------------------------------------------------- the response body */

static int to_client(struct px *x, const char *p, size_t n)
{
	if (n && x->req->ops->write(x->req, p, n) < 0) {
		x->reusable = false;
		return refuse(x, IDG_ERROR, errno == ECONNRESET ? "the client went away"
							       : "cannot send the response");
	}
	return 0;
}

static int relay_length(struct px *x)
{
	uint64_t left = (uint64_t)x->resp.length;

	while (left > 0) {
		if (x->in_len == 0) {
			int rc = read_more(x, "response body");
			if (rc < 0)
				return x->result;
			if (rc == 0)
				return refuse(x, IDG_ERROR, "the backend closed the connection %llu "
							    "bytes short of its Content-Length",
					      (unsigned long long)left);
			continue;
		}
		size_t n = x->in_len < left ? x->in_len : (size_t)left;
		if (to_client(x, x->in, n))
			return x->result;
		consume(x, n);
		left -= n;
	}
	x->reusable = x->reusable && x->in_len == 0; /* extra bytes: out of step */
	return 0;
}

static int relay_chunked(struct px *x)
{
	struct proxy_chunks ch = { 0 };

	while (!ch.done) {
		if (x->in_len == 0) {
			int rc = read_more(x, "response body");
			if (rc < 0)
				return x->result;
			if (rc == 0)
				return refuse(x, IDG_ERROR, "the backend closed the connection inside "
							    "a chunked body");
			continue;
		}
		size_t out = IO_SIZE;
		ssize_t used = proxy_chunks_decode(&ch, x->in, x->in_len, x->io, &out);
		if (used < 0)
			return refuse(x, IDG_ERROR, "the backend's chunked body is malformed");
		consume(x, (size_t)used);
		if (to_client(x, x->io, out))
			return x->result;
	}
	x->reusable = x->reusable && x->in_len == 0;
	return 0;
}

static int relay_until_close(struct px *x)
{
	x->reusable = false;
	for (;;) {
		if (x->in_len && to_client(x, x->in, x->in_len))
			return x->result;
		x->in_len = 0;
		int rc = read_more(x, "response body");
		if (rc < 0)
			return x->result;
		if (rc == 0)
			return 0;
	}
}

static int relay_body(struct px *x)
{
	if (x->resp.no_body)
		return 0;
	if (x->resp.chunked)
		return relay_chunked(x);
	if (x->resp.length >= 0)
		return relay_length(x);
	return relay_until_close(x);
}

/* ---------------------------------------------------------------- one request */

static int exchange(struct px *x)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		x->retry = false;
		if (connect_backend(x))
			return x->result;
		x->reusable = reuse_allowed(x);
		if (send_request(x) == 0 && !x->result && read_head(x) == 0)
			return 0;
		if (!x->retry)
			return x->result;
		close(x->fd); /* a stale keep-alive connection: once more, afresh */
		x->fd = -1;
		x->in_len = 0;
	}
	return refuse(x, 502, "the backend closed two connections in a row");
}

/* A bodiless response (to HEAD, a 204, a 304) ends where the request or
 * the status says, not where bytes of the backend's say: a backend that
 * sends a body anyway -- a common bug -- may write it a moment later, and
 * no wait of ours can rule that out.  Kept, that connection would hand
 * the body to the next caller as the head of his response, so it is
 * closed; the cost is one new connection after such a response.  Others
 * are kept when their length or last chunk ended exactly at the bytes
 * read (relay_length, relay_chunked) and nothing more is readable when
 * the connection is given back and again when it is taken (proxy_conn.c);
 * see docs/MODULES.md for what that cannot catch. */
static bool framing_kept(const struct px *x)
{
	return !x->resp.close && !x->resp.no_body && !x->early;
}

static int respond(struct px *x)
{
	if (check_backend_auth(x))
		return x->result;
	x->reusable = x->reusable && framing_kept(x);
	pass_head(x);
	/* (with no body bytes at all, the worker sends the head at the end) */
	return relay_body(x) ? x->result : IDG_OK;
}

static void finish(struct px *x)
{
	if (x->fd >= 0) {
		if (x->reusable && x->result == 0)
			proxy_pool_give((struct proxy_pool *)&x->c->pool, x->fd);
		else
			close(x->fd);
	}
	proxy_resp_free(&x->resp);
	proxy_gss_free(&x->gss);
	sb_free(&x->head);
	free(x->whole);
	free(x->io);
	free(x->in);
}

static int proxy_handle(void *p, struct idg_request *req)
{
	struct px x = { .c = p, .req = req, .fd = -1 };
	int rc;

	x.io = malloc(CHUNK_ROOM + IO_SIZE + 2);
	x.in = malloc(PROXY_HEAD_MAX + IO_SIZE);
	if (!x.io || !x.in) {
		finish(&x);
		return IDG_ERROR;
	}
	rc = prepare(&x);
	if (rc == 0)
		rc = exchange(&x);
	if (rc == 0)
		rc = respond(&x);
	x.result = rc;
	finish(&x);
	return rc;
}

/* ---------------------------------------------------------------- configuration */

static int resolve(const struct idg_init *ini, struct proxy_ctx *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	int rc;

	if (c->be.kind != PROXY_TCP)
		return 0;
	rc = getaddrinfo(c->be.host, c->be.port, &hints, &c->ai);
	if (rc) {
		ini->ops->error(ini, "backend", "%s: %s", c->be.host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

static int setup_auth(const struct idg_init *ini, struct proxy_ctx *c)
{
	const char *mode = ini->ops->get(ini, "backend_auth");
	const char *service = ini->ops->get(ini, "backend_service");
	char err[300], dflt[300];

	if (strcmp(mode, "none") == 0) {
		if (!ini->ops->get_bool(ini, "s4u2proxy"))
			return 0;
		ini->ops->error(ini, "s4u2proxy", "needs backend_auth = negotiate");
		return -1;
	}
	if (strcmp(mode, "negotiate") != 0) {
		ini->ops->error(ini, "backend_auth", "'%s': expected none or negotiate", mode);
		return -1;
	}
	c->negotiate = true;
	c->s4u = ini->ops->get_bool(ini, "s4u2proxy");
	if (!service) {
		snprintf(dflt, sizeof(dflt), "HTTP@%s",
			 c->be.kind == PROXY_TCP ? c->be.host : "localhost");
		service = dflt;
	}
	if (c->s4u) /* the front end gets the caller's ticket to it (S4U2Proxy) */
		ini->ops->use_proxy_credentials(ini, service);
	else
		ini->ops->use_delegated_credentials(ini);
	if (proxy_service_name(service, &c->service, err, sizeof(err)) < 0) {
		ini->ops->error(ini, "backend_service", "%s", err);
		return -1;
	}
	return 0;
}

static int setup_key(const struct idg_init *ini, struct proxy_ctx *c)
{
	const char *path = ini->ops->get(ini, "identity_signing_key");
	const char *version = ini->ops->get(ini, "identity_signature");
	const char *audience = ini->ops->get(ini, "identity_audience");
	char err[400];

	if (strcmp(version, "v1") != 0 && strcmp(version, "v2") != 0) {
		ini->ops->error(ini, "identity_signature", "'%s': expected v1 or v2", version);
		return -1;
	}
	c->sig_version = version[1] - '0';
	c->audience = strdup(audience ? audience : c->spec);
	if (!c->audience) {
		ini->ops->error(ini, "identity_audience", "out of memory");
		return -1;
	}
	if (!path)
		return 0;
	if (proxy_read_key(path, &c->key, &c->keylen, err, sizeof(err)) < 0) {
		ini->ops->error(ini, "identity_signing_key", "%s", err);
		return -1;
	}
	return 0;
}

static void proxy_cleanup(void *p)
{
	struct proxy_ctx *c = p;
	OM_uint32 minor;

	if (!c)
		return;
	proxy_pool_destroy(&c->pool);
	if (c->ai)
		freeaddrinfo(c->ai);
	if (c->service != GSS_C_NO_NAME)
		gss_release_name(&minor, &c->service);
	if (c->key)
		explicit_bzero(c->key, c->keylen);
	free(c->key);
	proxy_backend_free(&c->be);
	proxy_strip_free(&c->strip);
	free(c->audience);
	free(c->spec);
	free(c);
}

static int proxy_init(const struct idg_init *ini, void **ctxp)
{
	struct proxy_ctx *c = calloc(1, sizeof(*c));
	const char *spec = ini->ops->get(ini, "backend");
	char err[300];

	if (!c)
		return -1;
	c->service = GSS_C_NO_NAME;
	c->spec = strdup(spec);
	proxy_pool_init(&c->pool, (unsigned)ini->ops->get_uint(ini, "keepalive"));
	c->preserve_host = ini->ops->get_bool(ini, "preserve_host");
	c->connect_ms = ini->ops->get_uint(ini, "connect_timeout");
	c->timeout_ms = ini->ops->get_uint(ini, "timeout");
	if (!c->spec || proxy_backend_parse(spec, &c->be, err, sizeof(err)) < 0) {
		ini->ops->error(ini, "backend", "'%s': %s", spec, c->spec ? err : "out of memory");
		goto fail;
	}
	if (proxy_strip_parse(ini->ops->get(ini, "strip_headers"), &c->strip, err, sizeof(err)) < 0) {
		ini->ops->error(ini, "strip_headers", "%s", err);
		goto fail;
	}
	if (c->connect_ms == 0 || c->timeout_ms == 0) {
		ini->ops->error(ini, c->connect_ms ? "timeout" : "connect_timeout",
				"must be more than 0");
		goto fail;
	}
	if (resolve(ini, c) < 0 || setup_auth(ini, c) < 0 || setup_key(ini, c) < 0)
		goto fail;
	*ctxp = c;
	return 0;
fail:
	proxy_cleanup(c);
	return -1;
}

static const struct idg_key proxy_keys[] = {
	{ "backend", IDG_KEY_STRING, IDG_KEY_REQUIRED, NULL,
	  "http://HOST[:PORT][/PATH] or unix:/PATH" },
	{ "backend_auth", IDG_KEY_NAME, 0, "none",
	  "none, or negotiate: authenticate to the backend as the caller (delegation)" },
	{ "backend_service", IDG_KEY_STRING, 0, NULL,
	  "the backend's GSSAPI service name (default HTTP@backend-host)" },
	{ "s4u2proxy", IDG_KEY_BOOL, 0, "false",
	  "with backend_auth = negotiate: constrained delegation from the gateway's own "
	  "credentials (S4U2Proxy), not the caller's delegated ones" },
	{ "preserve_host", IDG_KEY_BOOL, 0, "false", "send the client's Host header" },
	{ "strip_headers", IDG_KEY_STRING, 0, PROXY_STRIP_DEFAULT,
	  "headers of the client never passed on (forwarding ones a backend may believe), or none" },
	{ "connect_timeout", IDG_KEY_DURATION, 0, "5s", "how long connecting may take" },
	{ "timeout", IDG_KEY_DURATION, 0, "60s", "how long the backend may stay silent" },
	{ "keepalive", IDG_KEY_UINT, 0, "16", "idle connections kept per vdir and worker" },
	{ "identity_signing_key", IDG_KEY_PATH, 0, NULL,
	  "a key file: sign the identity headers (HMAC-SHA256)" },
	{ "identity_signature", IDG_KEY_NAME, 0, "v2",
	  "v2: sign the identity and the request (method, target, Host, audience, body); "
	  "v1: the identity alone, for backends that check only v1" },
	{ "identity_audience", IDG_KEY_STRING, 0, NULL,
	  "whom a v2 signature is for (default: the backend as configured)" },
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "proxy",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET | IDG_METHOD_HEAD | IDG_METHOD_POST | IDG_METHOD_PUT |
		   IDG_METHOD_DELETE | IDG_METHOD_OPTIONS | IDG_METHOD_PATCH,
	.keys = proxy_keys,
	.init = proxy_init,
	.handle = proxy_handle,
	.cleanup = proxy_cleanup,
};
