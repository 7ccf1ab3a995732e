/* frontend.c -- the process that reads the network.  It parses HTTP with
 * libmicrohttpd, decides which vdir and pool serve a request, refuses
 * what it must (400/404/405/...), hands the rest to the pool's worker
 * through the relay, and writes the audit and access lines when the
 * request ends.
 * It holds no privilege: it starts as root only long enough to take what
 * the supervisor prepared, then becomes [server] user with no capability.
 *
 * Peers: what it accepts from each (anything else: logged, the peer dropped)
 *   the network  on a proxy listener, a PROXY v2 header from a sender of
 *                proxy_protocol_from first (proxyproto.c; anything else:
 *                audited, closed); HTTP/1.1 (libmicrohttpd, then
 *                httpcheck.c's strict checks)
 *   supervisor   CHANNELS, AUTHSOCK, POOL_STATE, POOL_RETIRE, STATS_QUERY,
 *                LOGS (relay.c, from_supervisor; dropping it: we exit)
 *   pool worker  RESP_HEAD, RESP_BODY, RESP_END on each channel (relay.c,
 *                from_worker and the channel's state table; the channel
 *                is closed)
 *   authenticator  AUTHN_REPLY, answering its own AUTHN_REQ (authn.c,
 *                from_authenticator; its channel is closed, and what waited
 *                on it fails with 503)
 * It sends the authenticator AUTHN_REQ and AUTHN_CONN_END: credentials
 * go there, and a sealed verdict comes back for the worker (feauth.h); this
 * process holds no key and can claim nobody's identity.  */
#include "frontend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received */
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "admin.h"
#include "audit.h"
#include "authn.h"
#include "feauth.h"
#ifdef IDGATE_TEST_FORGE
#include "forge.h"
#endif
#include "config.h"
#include "ctlmsg.h"
#include "cpu.h"
#include "httpcheck.h"
#include "httputil.h"
#include "tlsclose.h"
#include "iddrop.h"
#include "idpolicy.h"
#include "levels.h"
#include "log.h"
#include "metrics.h"
#include "netmatch.h"
#include "modload.h"
#include "privsep.h"
#include "proxyproto.h"
#include "relay.h"
#include "route.h"
#include "rundir.h"
#include "silentclose.h"
#include "uri.h"
#include "util.h"
#include "reqmsg.h"
#include "wire.h"

#define MAX_LISTENERS 64
#define ACCEPT_BATCH 16          /* accepts a listener gets per turn of its loop */
#define ACCEPT_PAUSE_MS 100      /* out of descriptors: accepting waits this long */
#define ACCEPT_LOG_EVERY_MS 10000
#define HEAD_SCAN_MS 1000        /* header_timeout's resolution */
#define PROXY_HEADER_MS 3000     /* a PROXY header comes whole within this, or the
                                    connection is closed */
#define DRAIN_FRESH_MS 2000      /* a draining front end waits this long at most for the
                                    first request of connections it had accepted */
#define REQUEST_ID_MAX 64
#define TLS_FILE_MAX (1 << 20) /* a certificate chain, a key */
#define FE_ONE_SEND_MAX (64 * 1024) /* a whole body up to this leaves with its head */

enum stage { STAGE_HEAD = 0, STAGE_BODY };

struct fe_req {
	struct rl_state rl;      /* first: the relay's part */
	enum stage stage;        /* libmicrohttpd repeats the first call after a
	                            suspension in it: HEAD until it is done */
	char *raw_uri;
	const char *target_at;   /* where libmicrohttpd's buffer had it (compared, not read) */
	char *path, *query;
	const char *path_info;
	const char *method, *version;
	const struct vdir_conf *v;
	char request_id[REQUEST_ID_MAX + 1];
	char client_request_id[REQUEST_ID_MAX + 1]; /* an untrusted client's X-Request-Id */
	bool trusted_peer;       /* [server] trusted_proxies */
	char client[INET6_ADDRSTRLEN];
	char proxy[INET6_ADDRSTRLEN]; /* who named the client (a PROXY header); "": nobody */
	unsigned client_port;
	bool tls;
	uint64_t t0_us;
	time_t t0_wall;          /* the access log's time */
	char *host, *user_agent, *referer; /* for the logs, as received; NULL: none */
	int status;              /* what we answered */
	uint64_t bytes;
	char reason[1024];
	bool routed, submitted, responded;
	bool must_close;         /* the answer carries Connection: close */
	bool said_close;         /* ... and it did */
	bool body_read;          /* the whole body came in before the answer */
	struct hc_verdict framing; /* how the body is delimited, once checked */
	int deferred;            /* a refusal to answer in the final call */
	const char *deferred_hdr;
	char deferred_val[128];
	struct fe_auth auth;     /* who is calling */
	bool impersonated;
	enum m_refusal refusal;  /* why it was not impersonated (403), for metrics */
};

/* One per client connection (libmicrohttpd's socket context): what feauth
 * keeps for it; how far its request head is, for header_timeout (a head's
 * first byte is seen by the connection's count of received bytes,
 * TCP_INFO: libmicrohttpd reads a head without telling us until it is
 * whole, and the silence before it is idle_timeout's business); and
 * silentclose.h's state.  On a proxy listener, what the trusted sender's
 * PROXY header said (libmicrohttpd has the client's address it named). */
struct fe_sock {
	struct fe_conn *auth;
	struct sc_conn sc;
	struct fe_sock *prev, *next; /* the loop's connections */
	int fd;
	struct fe_loop *loop;    /* whose list it is in */
	bool proxied_tls;        /* the sender says the client spoke TLS to it */
	char sender[INET6_ADDRSTRLEN]; /* the header's sender; "": no header */
	uint64_t header_bytes;   /* the PROXY header's, read before libmicrohttpd's */
	bool in_head;            /* between two requests, or reading a head */
	bool head_timed_out;     /* closed by header_timeout */
	uint64_t head_since_ms;  /* its first byte seen; 0: none yet */
	uint64_t rx_mark;        /* bytes received when the last request ended */
	bool fresh;              /* no request begun yet: counted in FE.fresh */
};

/* A connection accepted on a proxy listener from a trusted sender, until
 * its PROXY header is whole (then libmicrohttpd gets it) or is refused,
 * or PROXY_HEADER_MS pass.  Its descriptor is in the loop's pending_ep. */
struct fe_pending {
	struct fe_pending *prev, *next;
	int fd;
	size_t listener;
	struct sockaddr_storage peer; /* the sender */
	socklen_t peerlen;
	uint64_t deadline_ms;
	size_t have;
	uint8_t buf[PP2_MAX_LEN];
};

/* What a PROXY header said, for sock_new() while MHD_add_connection()
 * reports the connection (on the loop's own thread: the daemons have no
 * thread of their own). */
struct fe_handover {
	bool tls;
	const struct sockaddr *sender;
	uint64_t consumed;       /* the header's bytes, read before the daemon's */
};

static __thread const struct fe_handover *handover;

/* One per event loop: its own daemons, one per listener.  The loop
 * accepts connections itself and hands them to the daemon: out of
 * descriptors, libmicrohttpd 0.9.75 retries accept() in a busy loop (on a
 * listener with no connection yet) and logs every failure. */
struct fe_loop {
	unsigned index;
	pthread_t tid;
	struct MHD_Daemon *daemons[MAX_LISTENERS];
	int listen_fds[MAX_LISTENERS];
	bool watched[MAX_LISTENERS]; /* in accept_ep */
	size_t ndaemons;
	unsigned conn_limit;     /* per daemon (max_connections over the loops) */
	int accept_ep;           /* the listeners that may accept now */
	uint64_t accept_paused_until;
	uint64_t accept_logged_ms;
	unsigned accept_failures; /* since the last message */
	struct fe_sock *socks;
	uint64_t next_scan_ms;
	bool quiesced;
	int pending_ep;          /* the proxy listeners' connections reading a header */
	struct fe_pending *pending;
	unsigned npending[MAX_LISTENERS];
	/* The tick polls only what epoll reported (or what is due): each of
	 * these is an epoll_wait() of its own, and two turns of the loop a
	 * request would otherwise make eight of them. */
	struct rl_watch *accept_w, *pending_w, *daemon_w[MAX_LISTENERS];
	uint64_t daemon_due_ms[MAX_LISTENERS]; /* libmicrohttpd's timeout */
};

/* Each listener's daemon passes its own to the callbacks. */
struct fe_listener {
	bool tls;
	bool proxy;
};

static __thread struct fe_loop *this_loop;

static struct {
	const struct fe_args *args;
	struct config *c;
	struct fe_loop *loops;
	unsigned nloops;
	atomic_bool draining;
	atomic_size_t inflight;
	atomic_size_t fresh; /* connections that have not begun a request (fe_sock.fresh, pending) */
	atomic_uint started;
	struct fe_listener lst[MAX_LISTENERS];
	char *tls_cert_pem, *tls_key_pem; /* until every loop's daemons have started */
	struct MHD_Daemon *admin; /* the metrics listener, or NULL */
} FE;


/* ---------------------------------------------------------------- request ids */

/* 128 bits: a random per-thread prefix and a counter.  Unique and cheap;
 * request ids are labels for the audit trail, not secrets. */
static void new_request_id(char *out)
{
	static __thread uint64_t prefix, counter;

	if (!prefix) {
		if (getrandom(&prefix, sizeof(prefix), 0) != sizeof(prefix) || !prefix)
			prefix = now_us() ^ (uint64_t)pthread_self();
		if (getrandom(&counter, sizeof(counter), 0) != sizeof(counter))
			counter = 0;
	}
	static const char hex[] = "0123456789abcdef";
	uint64_t parts[2] = { prefix, ++counter };

	for (int p = 0; p < 2; p++)
		for (int i = 0; i < 16; i++)
			out[p * 16 + i] = hex[(parts[p] >> (60 - 4 * i)) & 15];
	out[32] = '\0';
}

/* A request id sent by a trusted proxy ([server] trusted_proxies) is
 * taken, so that one id follows a request across hops: 1 to 64 letters,
 * digits, '-' and '_' (no '.', no '/': ids end up in file names), and only
 * one X-Request-Id header.  From anyone else it is only recorded, as
 * client_request_id: a client must not choose the id of the audit line
 * that accuses it (or another's).  Anything else is ignored. */
static enum MHD_Result count_request_ids(void *cls, enum MHD_ValueKind kind, const char *key,
					 const char *value)
{
	const char **found = cls;

	(void)kind;
	if (key && strcasecmp(key, "X-Request-Id") == 0)
		*found = *found ? "" : (value ? value : "");
	return MHD_YES;
}

static bool request_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REQUEST_ID_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static void take_incoming_request_id(struct fe_req *r, struct MHD_Connection *conn)
{
	const char *id = NULL;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_request_ids, &id);
	if (!id || !request_id_ok(id))
		return;
	if (r->trusted_peer)
		snprintf(r->request_id, sizeof(r->request_id), "%s", id);
	else
		snprintf(r->client_request_id, sizeof(r->client_request_id), "%s", id);
}

/* What the logs show of the head (the first of each), taken before any
 * check can refuse it: a refused request's line shows them too. */
static void take_log_headers(struct fe_req *r, struct MHD_Connection *conn)
{
	const char *v;

	if ((v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)))
		r->host = xstrdup(v);
	if ((v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT)))
		r->user_agent = xstrdup(v);
	if (access_log_enabled() &&
	    (v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_REFERER)))
		r->referer = xstrdup(v);
}

/* ---------------------------------------------------------------- responses */

static enum MHD_Result queue(struct fe_req *r, struct MHD_Connection *conn, int status,
			     struct MHD_Response *resp)
{
	enum MHD_Result ret;

	/* the id that names this request in the audit log */
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	/* challenges on a 401, the mutual-authentication token on success */
	for (int i = 0; i < r->auth.nhdr; i++)
		MHD_add_response_header(resp, r->auth.hdr_name[i], r->auth.hdr_value[i]);
	if (r->must_close || atomic_load(&FE.draining)) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
		r->said_close = true;
	}
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	r->responded = true;
	return ret;
}

/* Our own error page.  `hdr`/`val` add one header (Allow, Retry-After...). */
static enum MHD_Result respond_error(struct fe_req *r, struct MHD_Connection *conn, int status,
				     const char *detail, const char *hdr, const char *val)
{
	size_t len;
	char *body = http_error_body(status, detail, &len);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (hdr)
		MHD_add_response_header(resp, hdr, val);
	r->bytes = len;
	return queue(r, conn, status, resp);
}

static void set_reason(struct fe_req *r, const char *why)
{
	if (!r->reason[0])
		snprintf(r->reason, sizeof(r->reason), "%s", why);
}

static ssize_t body_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fe_req *r = cls;
	ssize_t n;

	(void)pos;
	n = relay_read(&r->rl, buf, max);
	if (n > 0) {
		r->bytes += (uint64_t)n;
		return n;
	}
	if (n == 0)
		return 0; /* suspended; resumed when the worker sends more */
	if (n == -1)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* the worker's own reason (RESP_END) says more than ours */
	set_reason(r, r->rl.reason[0] ? r->rl.reason
				      : "pool worker failed while sending the response");
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static struct MHD_Response *worker_response(struct fe_req *r)
{
	struct rl_state *rl = &r->rl;
	struct MHD_Response *resp;
	uint64_t len = rl->resp.length;
	void *body;
	size_t n;

	/* A body that came whole with the head (small files do: the worker's
	 * send_fd) leaves in one send with it: libmicrohttpd sends a buffer's
	 * body together with the head, a callback's or a descriptor's after
	 * it -- a second TCP segment and a second wakeup of the client. */
	if (rl->resp_fd < 0 && (body = relay_take_body(rl, FE_ONE_SEND_MAX, &n))) {
		resp = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(body);
		r->bytes = n;
		return resp;
	}
	if (rl->resp_fd >= 0) {
		resp = MHD_create_response_from_fd_at_offset64(len, rl->resp_fd,
							       rl->resp.fd_offset);
		if (resp) {
			rl->resp_fd = -1; /* libmicrohttpd closes it */
			r->bytes = len;
		}
		return resp;
	}
	return MHD_create_response_from_callback(len == WIRE_LEN_UNKNOWN ? MHD_SIZE_UNKNOWN : len,
						 64 * 1024, body_reader, r, NULL);
}

static enum MHD_Result respond_from_worker(struct fe_req *r, struct MHD_Connection *conn)
{
	struct rl_state *rl = &r->rl;
	struct MHD_Response *resp = worker_response(r);

	if (!resp) {
		set_reason(r, "cannot build the response");
		return respond_error(r, conn, 500, NULL, NULL, NULL);
	}
	for (uint32_t i = 0; i < rl->resp.nhdrs; i++) {
		const struct wire_hdr *h = &rl->resp.hdrs[i];
		if (http_gateway_owned(h->name)) /* the worker checked too */
			continue;
		MHD_add_response_header(resp, h->name, h->value);
	}
	if (rl->reason[0])
		set_reason(r, rl->reason);
	return queue(r, conn, (int)rl->resp.status, resp);
}

/* ---------------------------------------------------------------- the request head */

struct hdr_collect {
	struct wire_hdr *h;
	uint32_t n, cap;
	uint64_t bytes;          /* as they came: "Name: value\r\n" each */
	bool bad;
	bool drop_authorization;
	char **owned;            /* values rewritten here (Cookie), freed after */
	size_t nowned;
};

/* A session cookie is a credential for us, never for the handler or a
 * backend: a Cookie header goes on without it (NULL: not at all). */
static const char *without_session_cookies(struct hdr_collect *hc, const char *value)
{
	char *rest = feauth_strip_session_cookies(value);

	if (!rest)
		return value;
	hc->owned = xreallocarray(hc->owned, hc->nowned + 1, sizeof(*hc->owned));
	hc->owned[hc->nowned++] = rest;
	return *rest ? rest : NULL;
}

static void hdr_collect_free(struct hdr_collect *hc)
{
	for (size_t i = 0; i < hc->nowned; i++)
		free(hc->owned[i]);
	free(hc->owned);
	free(hc->h);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      size_t key_size, const char *value, size_t value_size)
{
	struct hdr_collect *hc = cls;

	(void)kind;
	if (!key || !value || strlen(key) != key_size || strlen(value) != value_size) {
		hc->bad = true;
		return MHD_NO;
	}
	if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0) {
		if (hc->drop_authorization)
			return MHD_YES; /* a credential for us, never for the handler */
	} else {
		hc->bytes += key_size + value_size + 4; /* a token is checked alone */
	}
	if (strcasecmp(key, MHD_HTTP_HEADER_COOKIE) == 0 &&
	    !(value = without_session_cookies(hc, value)))
		return MHD_YES;
	if (!http_token_ok(key) || !http_value_ok(value)) {
		hc->bad = true;
		return MHD_NO;
	}
	if (hc->n == hc->cap) {
		hc->cap = hc->cap ? hc->cap * 2 : 32;
		hc->h = xreallocarray(hc->h, hc->cap, sizeof(*hc->h));
	}
	hc->h[hc->n].name = key;
	hc->h[hc->n].value = value;
	hc->n++;
	return hc->n > WIRE_MAX_HEADERS ? MHD_NO : MHD_YES;
}

/* Its first request has begun, or it closes. */
static void sock_not_fresh(struct fe_sock *s)
{
	if (s && s->fresh) {
		s->fresh = false;
		atomic_fetch_sub(&FE.fresh, 1);
	}
}

static struct fe_sock *sock_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static struct fe_conn *conn_state(struct MHD_Connection *conn)
{
	const struct fe_sock *s = sock_of(conn);
	return s ? s->auth : NULL;
}

static uint64_t conn_id(struct MHD_Connection *conn)
{
	const struct fe_conn *fc = conn_state(conn);
	return fc ? fc->id : 0;
}

/* Encode REQ_HEAD into r->rl.head.  0, or an HTTP status. */
static int encode_head(struct fe_req *r, struct MHD_Connection *conn)
{
	struct hdr_collect hc = { .drop_authorization = r->v->auth != 0 };
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	const struct fe_auth *a = &r->auth;
	/* who the caller is travels sealed: the worker takes it from the
	 * verdict, never from us */
	struct wire_req q = {
		.vdir = r->v->index, .method = r->method, .path = r->path, .query = r->query,
		.version = r->version, .request_id = r->request_id, .client_addr = r->client,
		.host = host ? host : "", .client_port = r->client_port,
		.tls = r->tls, .level = (uint32_t)a->level, .impersonate = r->impersonated,
		.conn_id = conn_id(conn), .verdict = a->verdict, .verdict_len = a->verdict_len,
	};
	struct wbuf b;

	memcpy(q.authz_digest, a->authz_digest, sizeof(q.authz_digest));
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, collect_header, &hc);
	hc.bytes += strlen(r->method) + strlen(r->raw_uri) + strlen(r->version) + 4;
	if (hc.bad || hc.n > WIRE_MAX_HEADERS || hc.bytes > FE.c->server.max_header_size) {
		hdr_collect_free(&hc);
		set_reason(r, hc.bad ? "malformed request header"
				     : "request header larger than max_header_size");
		return hc.bad ? 400 : 431;
	}
	q.hdrs = hc.h;
	q.nhdrs = hc.n;
	wb_init(&b);
#ifdef IDGATE_TEST_FORGE
	/* the forged-verdict test's front end (tests/helpers/forge.c), built
	 * apart as tests/helpers/idgated-forge, never installed */
	forge_head(conn, &q, &b);
#else
	wire_req_encode(&b, &q);
#endif
	hdr_collect_free(&hc);
	if (b.overflow) {
		wb_free(&b);
		set_reason(r, "request head too large for a worker");
		return 431;
	}
	r->rl.head = b.p;
	r->rl.head_len = b.len;
	return 0;
}

/* ---------------------------------------------------------------- heads (header_timeout) */

/* Bytes the connection has received so far; 0 if unknown (then only the
 * request line, seen by on_uri, starts a head's time). */
static uint64_t bytes_received(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return 0;
	return ti.tcpi_bytes_received;
}

static void head_begun(struct fe_sock *s)
{
	if (s && s->in_head && !s->head_since_ms)
		s->head_since_ms = now_ms();
}

/* A request is over: the next head's time starts with its first byte. */
static void head_await(struct fe_sock *s)
{
	if (!s || !FE.c->server.header_timeout_ms)
		return;
	s->in_head = true;
	s->head_since_ms = 0;
	s->rx_mark = bytes_received(s->fd);
}

/* Close the connections whose head has taken longer than header_timeout:
 * a slowloris client sends a byte now and then and is never silent long
 * enough for idle_timeout.  No answer: after shutdown() libmicrohttpd
 * closes the connection, and a request whose line came in is logged 408
 * (unanswered()).  One message a scan at most. */
static void cut_slow_heads(struct fe_loop *fl, uint64_t now)
{
	uint64_t limit = FE.c->server.header_timeout_ms;
	unsigned cut = 0;

	for (struct fe_sock *s = fl->socks; s && limit; s = s->next) {
		if (!s->in_head)
			continue;
		if (!s->head_since_ms) {
			if (bytes_received(s->fd) > s->rx_mark)
				s->head_since_ms = now;
			continue;
		}
		if (now - s->head_since_ms < limit)
			continue;
		s->in_head = false;
		s->head_timed_out = true;
		shutdown(s->fd, SHUT_RDWR);
		cut++;
	}
	if (cut)
		log_msg(LOG_INFO, "closed %u connections whose request head took longer than "
			"header_timeout (%llu ms)", cut, (unsigned long long)limit);
}

/* ---------------------------------------------------------------- libmicrohttpd callbacks */

/* "-" for an address that is not IP; *port if not NULL. */
static void sockaddr_text(const struct sockaddr *sa, char out[INET6_ADDRSTRLEN], unsigned *port)
{
	snprintf(out, INET6_ADDRSTRLEN, "-");
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, out, INET6_ADDRSTRLEN);
		if (port)
			*port = ntohs(in->sin_port);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, out, INET6_ADDRSTRLEN);
		if (port)
			*port = ntohs(in6->sin6_port);
	}
}

static void address_text(struct fe_req *r, const struct sockaddr *sa)
{
	sockaddr_text(sa, r->client, &r->client_port);
}

/* On a proxy listener libmicrohttpd holds the address the trusted
 * sender's PROXY header named (accept_proxied): the client's, for the
 * logs, the handlers, PAM and max_connections_per_ip alike.  Its
 * X-Request-Id is taken only if that client is a trusted proxy itself:
 * HAProxy in TCP mode passes the client's headers on untouched. */
static void client_address(struct fe_req *r, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	address_text(r, sa);
	r->trusted_peer = sa && netlist_has(&FE.c->server.trusted_proxies, sa);
	const struct fe_sock *s = sock_of(conn);
	if (s)
		memcpy(r->proxy, s->sender, sizeof(r->proxy));
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct fe_req *r = xcalloc(1, sizeof(*r));

	r->raw_uri = xstrdup(uri);
	r->target_at = uri;
	r->rl.conn = conn;
	r->rl.resp_fd = -1;
	r->rl.peer.epfd = -1;
	r->t0_us = now_us();
	r->t0_wall = time(NULL);
	new_request_id(r->request_id);
	client_address(r, conn);
	struct fe_sock *s = sock_of(conn);
	/* TLS of our own, or the TLS a trusted proxy terminated */
	r->tls = ((const struct fe_listener *)cls)->tls || (s && s->proxied_tls);
	if (s)
		s->sc.in_request = true;
	head_begun(s);
	atomic_fetch_add(&FE.inflight, 1);
	sock_not_fresh(s);
	return r;
}

/* ---------------------------------------------------------------- the edge's checks */

struct field_list {
	struct hc_field *f;
	size_t n, cap;
};

static enum MHD_Result list_field(void *cls, enum MHD_ValueKind kind, const char *key,
				  size_t key_size, const char *value, size_t value_size)
{
	struct field_list *l = cls;

	(void)kind;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->f = xreallocarray(l->f, l->cap, sizeof(*l->f));
	}
	l->f[l->n++] = (struct hc_field){ .name = key ? key : "", .name_len = key_size,
					  .value = value ? value : "", .value_len = value_size };
	return MHD_YES;
}

/* The head as it came, in libmicrohttpd's read buffer, before anything
 * routes it (httpcheck.h): fields in their order, repeats included.  It
 * also settles how the body is delimited, for has_body() and small_body().
 * 0, or 400 with the reason. */
static int check_intake(struct fe_req *r, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	struct field_list l = { .n = 0 };
	struct hc_head h = {
		.method = r->method, .target_at = r->target_at, .target = r->raw_uri,
		.target_len = strlen(r->raw_uri), .version = r->version,
		.size = ci ? ci->header_size : 0,
	};
	int st;

	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, list_field, &l);
	h.fields = l.f;
	h.nfields = l.n;
	st = hc_check_head(&h, &r->framing);
	free(l.f);
	if (st)
		set_reason(r, r->framing.why);
	return st;
}

/* A head that two parsers could read differently is answered at once,
 * and the connection closed with whatever followed it unread: a request
 * smuggled behind it is never seen (RFC 9112 6.3 and 11.2). */
static enum MHD_Result refuse_and_close(struct fe_req *r, struct MHD_Connection *conn)
{
	r->stage = STAGE_BODY;
	r->must_close = true;
	return respond_error(r, conn, 400, r->reason, NULL, NULL);
}

/* Route and check the method.  0, or the status to answer. */
static int route(struct fe_req *r, const char **extra_hdr, const char **extra_val)
{
	static __thread char allow[128];
	const char *why = NULL;
	int st;

	st = uri_parse(r->raw_uri, &r->path, &r->query, &why);
	if (st) {
		set_reason(r, why);
		return st;
	}
	r->v = route_match(FE.c, r->path, &r->path_info);
	if (!r->v) {
		set_reason(r, "no vdir serves this path");
		return 404;
	}
	if (!(method_bit(r->method) & r->v->module->desc->methods)) {
		methods_allow_header(r->v->module->desc->methods, allow, sizeof(allow));
		*extra_hdr = MHD_HTTP_HEADER_ALLOW;
		*extra_val = allow;
		set_reason(r, "method not allowed by the handler");
		return 405;
	}
	return 0;
}

/* RFC 9112 6.3: without chunks or a Content-Length above 0 there is no
 * body (check_intake left exactly one of them, or none). */
static bool has_body(const struct fe_req *r)
{
	return r->framing.framing == HC_CHUNKED || r->framing.length > 0;
}


#define PENDING (-1)

/* ---------------------------------------------------------------- levels */

struct level_values {
	const char *v[8];
	unsigned n;
	bool too_many;
};

static enum MHD_Result collect_level(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct level_values *lv = cls;

	(void)kind;
	if (!key || strcasecmp(key, LEVEL_HEADER) != 0)
		return MHD_YES;
	if (lv->n == ARRAY_SIZE(lv->v)) {
		lv->too_many = true;
		return MHD_NO;
	}
	lv->v[lv->n++] = value ? value : "";
	return MHD_YES;
}

/* Allowed-Impersonation-Level can only lower what the context showed.
 * 0, or 400 for a value that is not a level. */
static int apply_level_header(struct fe_req *r, struct MHD_Connection *conn)
{
	struct level_values lv = { .n = 0 };
	int level = r->auth.level;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_level, &lv);
	if (lv.too_many || level_apply_header(&level, lv.v, lv.n) < 0) {
		set_reason(r, "Allowed-Impersonation-Level: not anonymous, identification, "
			      "impersonation or delegation");
		return 400;
	}
	r->auth.level = level;
	return 0;
}

/* SPEC's table (levels.c), then the accounts that are never impersonated:
 * one whose uid or primary gid the policy refuses (idpolicy.h).  0, or 403
 * with the reason. */
static int decide_impersonation(struct fe_req *r)
{
	struct fe_auth *a = &r->auth;
	char why[400];

	switch (level_decide(r->v->impersonate, a->level, a->user != NULL)) {
	case RUN_AS_POOL:
		return 0;
	case REFUSE_LEVEL:
		r->refusal = M_REFUSE_LEVEL;
		snprintf(why, sizeof(why), "impersonate = true needs the impersonation level, but "
			 "the client allowed only %s", level_name(a->level));
		break;
	case REFUSE_NO_ACCOUNT:
		r->refusal = M_REFUSE_NO_ACCOUNT;
		snprintf(why, sizeof(why), "impersonation needs a local account; %s has none",
			 a->principal ? a->principal : "the caller");
		break;
	case RUN_AS_CALLER:
		r->refusal = M_REFUSE_MIN_UID;
		if (!idpol_refuses_account(&FE.c->server.ids, a->user, a->uid, a->gid, why,
					   sizeof(why))) {
			r->refusal = M_REFUSE_NONE;
			r->impersonated = true;
			return 0;
		}
		break;
	}
	set_reason(r, why);
	return 403;
}

/* Levels and identities, once the caller is known.  0 or the status. */
static int settle_identity(struct fe_req *r, struct MHD_Connection *conn)
{
	int st = apply_level_header(r, conn);

	/* (delegated credentials, sealed in the verdict, go only where the
	 * vdir takes them: the worker decides with the level sent with it) */
	return st ? st : decide_impersonation(r);
}

/* Route, authenticate, and hand the request over; re-entered after a
 * suspension.  0 when the request went to the relay, PENDING, or the
 * status to answer. */
static int head_stage(struct fe_req *r, struct MHD_Connection *conn, const char **extra_hdr,
		      const char **extra_val)
{
	int st, err;

	if (!r->routed && audit_refusing(&err)) {
		static __thread char why[160];
		snprintf(why, sizeof(why), "the audit log cannot be written (%s): refusing requests "
			 "until it can (audit_failure = refuse)", strerror(err));
		*extra_hdr = MHD_HTTP_HEADER_RETRY_AFTER;
		*extra_val = "5";
		set_reason(r, why);
		return 503;
	}
	if (!r->routed) {
		st = route(r, extra_hdr, extra_val);
		if (st)
			return st;
		r->routed = true;
	}
	if (r->v->auth != 0) {
		struct fe_auth_request q = { .conn = conn, .fc = conn_state(conn), .v = r->v,
					     .tls = r->tls, .client = r->client,
					     .request_id = r->request_id, .method = r->method,
					     .path = r->path };
		st = feauth_run(&r->auth, &q);
		if (st == FEAUTH_SUSPENDED)
			return PENDING;
		if (st) {
			set_reason(r, r->auth.reason);
			return st;
		}
	}
	st = settle_identity(r, conn);
	if (st)
		return st;
	st = encode_head(r, conn);
	if (st)
		return st;
	r->rl.no_body = !has_body(r);
	if (relay_submit(&r->rl, r->v->pool->index) != RL_OK) {
		static __thread char retry[16];
		snprintf(retry, sizeof(retry), "%u", r->rl.retry_after ? r->rl.retry_after : 5);
		*extra_hdr = MHD_HTTP_HEADER_RETRY_AFTER;
		*extra_val = retry;
		set_reason(r, r->rl.reason[0] ? r->rl.reason : "pool queue is full");
		return 503;
	}
	r->submitted = true;
	return 0;
}

static enum MHD_Result on_final(struct fe_req *r, struct MHD_Connection *conn)
{
	switch (relay_await_head(&r->rl)) {
	case RL_READY:
		return respond_from_worker(r, conn);
	case RL_FAILED:
		set_reason(r, r->rl.reason[0] ? r->rl.reason : "pool worker failed");
		if (r->rl.fail_status == 503)
			return respond_error(r, conn, 503, NULL, MHD_HTTP_HEADER_RETRY_AFTER, "60");
		return respond_error(r, conn, r->rl.fail_status ? r->rl.fail_status : 502, NULL,
				     NULL, NULL);
	default:
		return MHD_YES; /* suspended */
	}
}

/* libmicrohttpd closes the connection after a response queued in the
 * first call, which would lose a multi-leg Negotiate context and cost
 * every challenged client a reconnect.  So refusals wait for the final
 * call, reading and dropping a small body on the way; a large body is
 * refused at once (and the connection closed) instead of read. */
#define DEFER_MAX_BODY (64 * 1024)

static bool small_body(const struct fe_req *r)
{
	return r->framing.framing != HC_CHUNKED && r->framing.length <= DEFER_MAX_BODY;
}

static void defer(struct fe_req *r, int status, const char *hdr, const char *val)
{
	r->deferred = status;
	r->deferred_hdr = hdr;
	if (hdr)
		snprintf(r->deferred_val, sizeof(r->deferred_val), "%s", val);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct fe_req *r = *req_cls;
	const char *hdr = NULL, *val = NULL;

	(void)cls;
	(void)url; /* libmicrohttpd's decoding; we decode r->raw_uri ourselves */
	if (!r)
		return MHD_NO;
	if (r->stage == STAGE_HEAD) {
		bool first = !r->method; /* the first call: the headers are in */
		r->method = method;
		r->version = version;
		if (first) {
			struct fe_sock *s = sock_of(conn);
			if (s)
				s->in_head = false;
			take_incoming_request_id(r, conn);
			take_log_headers(r, conn);
			if (check_intake(r, conn))
				return refuse_and_close(r, conn);
		}
		int st = head_stage(r, conn, &hdr, &val);
		if (st == PENDING)
			return MHD_YES; /* suspended; this call comes again */
		r->stage = STAGE_BODY;
		if (st && small_body(r)) {
			defer(r, st, hdr, val);
			return MHD_YES;
		}
		if (st)
			return respond_error(r, conn, st, st == 403 ? r->reason : NULL, hdr, val);
		return MHD_YES;
	}
	if (r->deferred) {
		if (*upload_size) { /* read and drop the body: the connection stays */
			*upload_size = 0;
			return MHD_YES;
		}
		r->body_read = true;
		return respond_error(r, conn, r->deferred, r->deferred == 403 ? r->reason : NULL,
				     r->deferred_hdr, r->deferred_hdr ? r->deferred_val : NULL);
	}
	if (r->responded) { /* an early answer: drop the body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		relay_upload(&r->rl, upload, upload_size);
		/* the relay gave up on a body that trickles in, and let its worker
		 * go (408): no answer can be queued before the body is whole, so
		 * the connection closes now (unanswered() logs the 408) */
		return r->rl.fail_status == 408 ? MHD_NO : MHD_YES;
	}
	r->body_read = true;
	return on_final(r, conn);
}

static void count_request(const struct fe_req *r, uint64_t duration_us)
{
	struct m_request m = {
		.vdir = r->v ? (int)r->v->index : -1, .status = r->status,
		.duration_us = duration_us, .auth = r->auth.outcome, .refusal = r->refusal,
		.ran = !r->submitted ? M_RAN_NOT : r->impersonated ? M_RAN_AS_CALLER : M_RAN_AS_POOL,
	};

	metrics_count(&m);
}

/* No answer of ours: libmicrohttpd answered a request it could not parse
 * (a header line without a colon, a Content-Length that is not a number,
 * bad chunks: its log says which), or the client left. */
static void unanswered(struct fe_req *r, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
	const struct fe_sock *s = sock_of(conn);

	if (s && s->head_timed_out) {
		r->status = 408;
		set_reason(r, "request head not received within header_timeout");
		return;
	}
	if (r->rl.fail_status == 408) { /* a slow body: relay.c */
		r->status = 408;
		set_reason(r, r->rl.reason);
		return;
	}
	if (ci && ci->http_status >= 400) {
		r->status = (int)ci->http_status;
		set_reason(r, "malformed request, refused by libmicrohttpd");
		return;
	}
	r->status = 499;
	set_reason(r, "client closed the connection before the response");
}

/* The audit line (always: whatever happened) and the access line. */
static void write_logs(struct fe_req *r)
{
	const struct fe_auth *au = &r->auth;
	struct audit_rec a = {
		.request_id = r->request_id, .client = r->client, .proxy = r->proxy,
		.client_request_id = r->client_request_id,
		.method = r->method ? r->method : "-", .path = r->path ? r->path : r->raw_uri,
		.vdir = r->v ? r->v->path : NULL, .pool = r->v ? r->v->pool->name : NULL,
		.principal = au->principal, .user = au->user,
		.level = level_name(au->level), .impersonated = r->impersonated,
		.status = r->status,
		.bytes = r->bytes, .duration_us = now_us() - r->t0_us,
		.host = r->host, .user_agent = r->user_agent,
		/* the scheme of a caller who authenticated, not of refused credentials */
		.auth = au->principal || au->anonymous ? au->scheme : NULL, .tls = r->tls,
		.reason = r->status >= 400 || r->reason[0] ? r->reason : NULL,
		.groups_left_out = r->impersonated ? au->groups_left_out : NULL,
	};
	struct access_rec l = {
		.client = r->client, .user = au->user ? au->user : au->principal,
		.when = r->t0_wall, .method = r->method, .target = r->raw_uri,
		.version = r->version, .status = r->status, .bytes = r->bytes,
		.referer = r->referer, .user_agent = r->user_agent,
	};

	audit_write(&a);
	access_log_write(&l);
	count_request(r, a.duration_us);
}

/* ---------------------------------------------------------------- what libmicrohttpd leaves unanswered */

static enum MHD_Result find_close(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	bool *close = cls;

	(void)kind;
	if (key && value && strcasecmp(key, MHD_HTTP_HEADER_CONNECTION) == 0 &&
	    strcasestr(value, "close"))
		*close = true;
	return MHD_YES;
}

/* Whether libmicrohttpd keeps the connection open after this answer (its
 * keepalive_possible() and setup_reply_properties()); in doubt, no, and
 * silentclose.c stays silent.  (A client that closed its side is seen
 * there, at the socket.) */
static bool kept_alive(const struct fe_req *r, struct MHD_Connection *conn,
		       enum MHD_RequestTerminationCode toe)
{
	bool close = false;

	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK || !r->responded || r->said_close ||
	    !r->version || strcmp(r->version, "HTTP/1.1") != 0 || (has_body(r) && !r->body_read))
		return false;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, find_close, &close);
	return !close;
}

static void note_completed(const struct fe_req *r, struct MHD_Connection *conn,
			   enum MHD_RequestTerminationCode toe)
{
	struct fe_sock *s = sock_of(conn);

	if (!s)
		return;
	s->sc.in_request = false;
	s->sc.completed++;
	s->sc.kept_alive = kept_alive(r, conn, toe);
	s->sc.completed_ms = now_ms();
	s->sc.mhd_answers = sc_mhd_answers();
}

/* The socket as silentclose.c asks about it: a PROXY header's bytes are
 * not the client's. */
struct fe_probe_ctx {
	int fd;                  /* first: sc_peek_fd reads it */
	uint64_t skip;
};

static bool tcp_past_header(void *ctx, struct sc_tcp *t)
{
	const struct fe_probe_ctx *c = ctx;

	if (!sc_tcp_fd((void *)&c->fd, t))
		return false;
	t->received = t->received > c->skip ? t->received - c->skip : 0;
	return true;
}

/* The 400 through the TLS session: the bytes the client took, or 0. */
static size_t send_400_tls(gnutls_session_t tls, int fd, const char *request_id, const char *body,
			   size_t len)
{
	char msg[SC_HEAD_MAX + 1024];
	size_t n;
	ssize_t sent;

	sc_drain(fd); /* its records: nobody reads them, and a reset could lose the 400 */
	n = sc_head_400(msg, sizeof(msg), request_id, len);
	if (!n || len > sizeof(msg) - n)
		return 0;
	memcpy(msg + n, body, len);
	/* a session whose handshake never ended, or that failed, refuses */
	sent = gnutls_record_send(tls, msg, n + len);
	return sent > 0 ? (size_t)sent : 0;
}

/* A request line libmicrohttpd closed the connection on without a word
 * (silentclose.h) is answered here, and logged as a refused request: on
 * the socket, or through `tls` (NULL on a plain listener). */
static void answer_silent_close(struct MHD_Connection *conn, const struct fe_sock *s,
				gnutls_session_t tls)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct fe_probe_ctx pc = { .fd = ci ? ci->connect_fd : -1, .skip = s->header_bytes };
	struct sc_probe probe = { .peek = sc_peek_fd, .tcp = tcp_past_header, .ctx = &pc };
	int fd = pc.fd;
	struct fe_req *r;
	size_t len;
	char *body;

	if (fd < 0 || !sc_answer_due(&s->sc, &probe, now_ms(), sc_mhd_answers()))
		return;
	r = xcalloc(1, sizeof(*r));
	r->t0_us = now_us();
	r->t0_wall = time(NULL);
	new_request_id(r->request_id);
	client_address(r, conn);
	set_reason(r, "malformed request line: no method and request-target (libmicrohttpd "
		      "closes on it without an answer)");
	body = http_error_body(400, NULL, &len);
	r->bytes = tls ? send_400_tls(tls, fd, r->request_id, body, len)
		       : sc_send_400(fd, r->request_id, body, len);
	free(body);
	r->status = 400;
	if (!tls || r->bytes) /* not a session that could not carry it (a failed handshake) */
		write_logs(r);
	free(r);
}

/* tlsclose.h's hook: libmicrohttpd is about to end this TLS session.  The
 * session's pointer is the library's connection (it sets it, and the
 * front end uses GnuTLS through it alone). */
static void before_tls_bye(gnutls_session_t session)
{
	struct MHD_Connection *conn = gnutls_session_get_ptr(session);
	const struct fe_sock *s;

	if (!conn || atomic_load(&FE.draining) || tlsclose_peer_closed(session))
		return;
	s = sock_of(conn);
	if (s && !s->sc.plain && !s->head_timed_out)
		answer_silent_close(conn, s, session);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct fe_req *r = *req_cls;

	(void)cls;
	if (!r)
		return;
	note_completed(r, conn, toe);
	if (r->submitted)
		relay_done(&r->rl);
	else
		free(r->rl.head);
	if (!r->responded) {
		unanswered(r, conn);
	} else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		set_reason(r, toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED
				      ? "connection timed out during the response"
				      : "response not completed");
	}
	write_logs(r);
	head_await(sock_of(conn));
	feauth_free(&r->auth);
	free(r->host);
	free(r->user_agent);
	free(r->referer);
	free(r->raw_uri);
	free(r->path);
	free(r->query);
	free(r);
	*req_cls = NULL;
	atomic_fetch_sub(&FE.inflight, 1);
}

static struct fe_sock *sock_new(struct MHD_Connection *conn, const struct fe_listener *lst)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct fe_sock *s = xcalloc(1, sizeof(*s));
	struct fe_loop *fl = this_loop; /* its loop accepted it (accept_some) */

	s->auth = feauth_conn_new();
	s->sc.plain = !lst->tls;
	s->sc.kept_alive = true; /* open, waiting for its first request */
	s->sc.mhd_answers = sc_mhd_answers();
	s->fd = ci ? ci->connect_fd : -1;
	s->in_head = FE.c->server.header_timeout_ms != 0;
	s->fresh = true;
	atomic_fetch_add(&FE.fresh, 1);
	if (lst->proxy && handover) {
		s->proxied_tls = handover->tls;
		sockaddr_text(handover->sender, s->sender, NULL);
		s->header_bytes = s->rx_mark = handover->consumed; /* not a head's bytes */
	} else if (lst->proxy) {
		/* never served with the sender's address as the client's */
		log_msg(LOG_ERR, "a connection of a proxy listener came without its PROXY header: "
			"closed");
		if (s->fd >= 0)
			shutdown(s->fd, SHUT_RDWR);
	}
	if (fl) {
		s->loop = fl;
		s->next = fl->socks;
		if (fl->socks)
			fl->socks->prev = s;
		fl->socks = s;
	}
	return s;
}

static void sock_free(struct fe_sock *s)
{
	sock_not_fresh(s);
	if (s->loop) {
		if (s->prev)
			s->prev->next = s->next;
		else
			s->loop->socks = s->next;
		if (s->next)
			s->next->prev = s->prev;
	}
	feauth_conn_free(s->auth);
	free(s);
}

/* `cls`: the listener's struct fe_listener. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct fe_sock *s;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_ctx = sock_new(conn, cls);
		return;
	}
	s = *socket_ctx;
	if (!s)
		return;
	if (s->sc.plain && !atomic_load(&FE.draining) && !s->head_timed_out)
		answer_silent_close(conn, s, NULL);
	sock_free(s);
	*socket_ctx = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	/* transmit_error_response_len() of 0.9.75: its own answer to a
	 * malformed request, written without a callback (silentclose.h) */
	if (strncmp(fmt, "Error processing request", 24) == 0)
		sc_note_mhd_answer();
	log_vmsg(LOG_INFO, fmt, ap);
}

/* ---------------------------------------------------------------- daemons */

static unsigned conn_limit(const struct server_conf *s)
{
	unsigned limit = s->max_connections / FE.nloops;

	return limit ? limit : 1;
}

static struct MHD_Daemon *start_daemon(const struct fe_args *a, size_t i, unsigned loop)
{
	const struct server_conf *s = &a->c->server;
	/* the loop accepts (accept_some): the daemon gets its connections */
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			 MHD_USE_NO_LISTEN_SOCKET;
	struct MHD_OptionItem opts[16];
	size_t n = 0;

	(void)loop;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) }
	OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL); /* first, or MHD warns */
	OPT(MHD_OPTION_CONNECTION_LIMIT, conn_limit(s), NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->max_connections_per_ip, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, (s->idle_timeout_ms + 999) / 1000, NULL);
	/* headers live in this per-connection pool: it bounds what a client can
	 * make us hold (the exact limits are checked in encode_head() and, for
	 * tokens, in negotiate.c).  libmicrohttpd zeroes the whole pool before
	 * every request of a connection: it is sized to need, not generously. */
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->max_header_size + 16384, NULL);
	/* not 1: that closes the connection without an answer on a space in the
	 * target, and answers a missing Host before check_intake() can give the
	 * audit log a reason; check_intake() refuses both, and more, with 400 */
	OPT(MHD_OPTION_STRICT_FOR_CLIENT, 0, NULL);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, on_uri, &FE.lst[i]);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, &FE.lst[i]);
	/* on a plain listener: no shutdown() of the socket before the close is
	 * reported, so that silentclose.c can still answer (and reads and
	 * writes are tried before epoll says they would succeed) */
	if (!s->listen[i].tls)
		flags |= MHD_USE_TURBO;
	if (s->listen[i].tls) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, FE.tls_cert_pem);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, FE.tls_key_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, s->tls_priorities);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_END);
}

/* ---------------------------------------------------------------- accepting */

static int min_timeout(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* Connections waiting for their PROXY header count as the daemon's. */
static bool daemon_full(const struct fe_loop *fl, size_t i)
{
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(fl->daemons[i], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return (di ? di->num_connections : 0) + fl->npending[i] >= fl->conn_limit;
}

/* A listener is watched while its daemon can take a connection: a full
 * one leaves the next in the listen backlog, as libmicrohttpd did. */
static void watch_listener(struct fe_loop *fl, size_t i, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };

	if (fl->watched[i] == on || fl->listen_fds[i] < 0)
		return;
	if (epoll_ctl(fl->accept_ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fl->listen_fds[i], &ev) == 0)
		fl->watched[i] = on;
	else
		log_msg(LOG_ERR, "cannot %s listening socket %zu: %m", on ? "watch" : "unwatch", i);
}

static bool out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* ---------------------------------------------------------------- PROXY headers */

/* A connection refused before any HTTP: closed without an answer (the
 * sender is a proxy, or someone pretending), and audited with the
 * sender's address and why. */
static void refuse_connection(int fd, const struct sockaddr *sender, const char *why)
{
	struct fe_req *r = xcalloc(1, sizeof(*r));

	close(fd);
	r->t0_us = now_us();
	r->t0_wall = time(NULL);
	new_request_id(r->request_id);
	address_text(r, sender);
	snprintf(r->reason, sizeof(r->reason), "%s; connection closed without an answer", why);
	r->status = 400;
	write_logs(r);
	free(r);
}

static void pending_unlink(struct fe_loop *fl, struct fe_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		fl->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	fl->npending[p->listener]--;
	epoll_ctl(fl->pending_ep, EPOLL_CTL_DEL, p->fd, NULL);
	atomic_fetch_sub(&FE.fresh, 1);
}

static void pending_refuse(struct fe_loop *fl, struct fe_pending *p, const char *why)
{
	char text[256];

	pending_unlink(fl, p);
	snprintf(text, sizeof(text), "PROXY protocol: %s", why);
	refuse_connection(p->fd, (struct sockaddr *)&p->peer, text);
	free(p);
}

/* The header is whole: the connection goes to the listener's daemon with
 * the client's address the header named (the sender's own for LOCAL, and
 * for AF_UNSPEC and AF_UNIX, which name no IP client). */
static void pending_hand_over(struct fe_loop *fl, struct fe_pending *p, const struct pp2_info *in)
{
	struct fe_handover h = { .tls = in->ssl, .sender = (const struct sockaddr *)&p->peer,
				 .consumed = in->len };
	const struct sockaddr *addr = (const struct sockaddr *)(in->has_addr ? &in->src : &p->peer);
	socklen_t addrlen = in->has_addr ? in->addrlen : p->peerlen;

	atomic_fetch_add(&FE.fresh, 1); /* (a draining front end must never see 0 between) */
	pending_unlink(fl, p);
	handover = &h;
	MHD_add_connection(fl->daemons[p->listener], p->fd, addr, addrlen); /* closes it on failure */
	relay_kick();
	handover = NULL;
	atomic_fetch_sub(&FE.fresh, 1);
	free(p);
}

/* Read on, never past the header: what follows (the request, a
 * ClientHello) stays in the socket for libmicrohttpd. */
static void pending_read(struct fe_loop *fl, struct fe_pending *p)
{
	struct pp2_info in;

	for (;;) {
		enum pp2_status st = pp2_parse(p->buf, p->have, &in);
		ssize_t n;

		if (st != PP2_MORE) {
			if (st == PP2_DONE)
				pending_hand_over(fl, p, &in);
			else
				pending_refuse(fl, p, in.why);
			return;
		}
		n = recv(p->fd, p->buf + p->have, in.need - p->have, 0);
		if (n > 0) {
			p->have += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* the rest comes later, or PROXY_HEADER_MS pass */
		pending_refuse(fl, p, n == 0 ? "the sender closed before the header was whole"
					  : "cannot read the header");
		return;
	}
}

/* A connection of a proxy listener: only a trusted sender may name the
 * client, so anyone else is refused before a byte is read. */
static void accept_proxied(struct fe_loop *fl, size_t i, int fd, const struct sockaddr_storage *ss,
			   socklen_t len)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct fe_pending *p;

	if (!netlist_has(&FE.c->server.proxy_protocol_from, (const struct sockaddr *)ss)) {
		refuse_connection(fd, (const struct sockaddr *)ss,
				  "PROXY protocol: the sender is not in proxy_protocol_from");
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->fd = fd;
	p->listener = i;
	memcpy(&p->peer, ss, len);
	p->peerlen = len;
	p->deadline_ms = now_ms() + PROXY_HEADER_MS;
	p->next = fl->pending;
	if (fl->pending)
		fl->pending->prev = p;
	fl->pending = p;
	fl->npending[i]++;
	atomic_fetch_add(&FE.fresh, 1);
	ev.data.ptr = p;
	if (epoll_ctl(fl->pending_ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pending_refuse(fl, p, "cannot watch the connection");
		return;
	}
	pending_read(fl, p); /* HAProxy sends the header at once: it is often here */
}

/* Headers that came in, and those that did not come in time.  Milliseconds
 * until the next deadline, or -1. */
static int run_pending(struct fe_loop *fl, uint64_t now)
{
	struct epoll_event ev[ACCEPT_BATCH];
	int n = 0, timeout = -1;

	if (relay_watch_fired(fl->pending_w))
		n = epoll_wait(fl->pending_ep, ev, ACCEPT_BATCH, 0);
	for (int k = 0; k < n; k++)
		pending_read(fl, ev[k].data.ptr);
	for (struct fe_pending *p = fl->pending, *next; p; p = next) {
		next = p->next;
		if (p->deadline_ms <= now)
			pending_refuse(fl, p, "no whole header within 3 s");
		else
			timeout = min_timeout(timeout, (int)(p->deadline_ms - now));
	}
	return timeout;
}

/* The front end stops: what has not sent its header yet is closed. */
static void drop_pending(struct fe_loop *fl)
{
	while (fl->pending) {
		struct fe_pending *p = fl->pending;
		pending_unlink(fl, p);
		close(p->fd);
		free(p);
	}
}

/* ---------------------------------------------------------------- accepting (2) */

/* Accept what waits on listener i, a batch at most, each connection to the
 * listener's daemon (which closes it if it cannot take it), or, on a proxy
 * listener, to accept_proxied.  -1 when the process or the system is out
 * of descriptors or memory: errno says. */
static int accept_some(struct fe_loop *fl, size_t i)
{
	for (int k = 0; k < ACCEPT_BATCH && !daemon_full(fl, i); k++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int c = accept4(fl->listen_fds[i], (struct sockaddr *)&ss, &len,
				SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0 && FE.lst[i].proxy) {
			accept_proxied(fl, i, c, &ss, len);
			continue;
		}
		if (c >= 0) {
			MHD_add_connection(fl->daemons[i], c, (struct sockaddr *)&ss, len);
			relay_kick();
			continue;
		}
		if (out_of_resources(errno))
			return -1;
		if (errno != ECONNABORTED && errno != EINTR && errno != EPROTO && errno != EPERM)
			break; /* EAGAIN: none left */
	}
	return 0;
}

/* Out of descriptors: stop accepting for ACCEPT_PAUSE_MS (connections
 * wait in the backlog) instead of failing accept() in a loop; said at
 * most every ACCEPT_LOG_EVERY_MS, with how often it happened. */
static void pause_accepting(struct fe_loop *fl, uint64_t now, int err)
{
	size_t open = 0;

	for (size_t i = 0; i < fl->ndaemons; i++)
		watch_listener(fl, i, false);
	fl->accept_paused_until = now + ACCEPT_PAUSE_MS;
	fl->accept_failures++;
	if (fl->accept_logged_ms && now - fl->accept_logged_ms < ACCEPT_LOG_EVERY_MS)
		return;
	for (struct fe_sock *s = fl->socks; s; s = s->next)
		open++;
	log_msg(LOG_ERR, "cannot accept connections: %s (event loop %u holds %zu); accepting "
		"pauses %d ms each time (%u times since the last message)", strerror(err),
		fl->index, open, ACCEPT_PAUSE_MS, fl->accept_failures);
	fl->accept_logged_ms = now;
	fl->accept_failures = 0;
}

/* After every batch of events.  Milliseconds until accepting resumes, or -1. */
static int run_accepts(struct fe_loop *fl, uint64_t now)
{
	struct epoll_event ev[MAX_LISTENERS];
	int n;

	if (fl->quiesced)
		return -1;
	if (fl->accept_paused_until > now)
		return (int)(fl->accept_paused_until - now);
	fl->accept_paused_until = 0;
	for (size_t i = 0; i < fl->ndaemons; i++) /* (a listener watched again: the next turn) */
		watch_listener(fl, i, !daemon_full(fl, i));
	if (!relay_watch_fired(fl->accept_w))
		return -1;
	n = epoll_wait(fl->accept_ep, ev, MAX_LISTENERS, 0);
	for (int k = 0; k < n; k++) {
		if (accept_some(fl, (size_t)ev[k].data.u64) < 0) {
			pause_accepting(fl, now, errno);
			return ACCEPT_PAUSE_MS;
		}
	}
	return -1;
}

/* Draining: the listening sockets close (the supervisor keeps its own
 * for the next front end: what waits in their backlog goes to it).  The
 * connections already accepted stay: their first request is served
 * (drain_and_exit waits for them a while). */
static void stop_accepting(struct fe_loop *fl)
{
	for (size_t i = 0; i < fl->ndaemons; i++) {
		watch_listener(fl, i, false);
		if (fl->listen_fds[i] >= 0)
			close(fl->listen_fds[i]);
		fl->listen_fds[i] = -1;
	}
	fl->quiesced = true;
}

/* ---------------------------------------------------------------- loops */

/* After every batch of events: accept, let libmicrohttpd run (it also
 * takes the connections that were resumed), cut slow heads, and stop
 * listening when draining.  Each daemon runs when its epoll descriptor
 * fired, when this loop resumed or added a connection or another thread
 * woke it after resuming one of its connections (relay_kick, and the
 * relay's wake: libmicrohttpd has no wakeup of its own for our daemons,
 * which have no listening socket), or when its own timeout is due -- 0
 * while it has work left from the last run. */
static int loop_tick(void *arg)
{
	struct fe_loop *fl = arg;
	MHD_UNSIGNED_LONG_LONG t;
	uint64_t now = now_ms();
	bool kicked;
	int timeout;

	if (atomic_load(&FE.draining) && !fl->quiesced)
		stop_accepting(fl);
	timeout = min_timeout(run_accepts(fl, now), run_pending(fl, now));
	if (now >= fl->next_scan_ms) {
		cut_slow_heads(fl, now);
		fl->next_scan_ms = now + HEAD_SCAN_MS;
	}
	if (FE.c->server.header_timeout_ms)
		timeout = min_timeout(timeout, (int)(fl->next_scan_ms - now));
	kicked = relay_loop_kicked(relay_loop(fl->index));
	for (size_t i = 0; i < fl->ndaemons; i++) {
		if (relay_watch_fired(fl->daemon_w[i]) || kicked || now >= fl->daemon_due_ms[i])
			MHD_run(fl->daemons[i]);
		fl->daemon_due_ms[i] = UINT64_MAX;
		if (MHD_get_timeout(fl->daemons[i], &t) == MHD_YES) {
			t = t > 1000 ? 1000 : t;
			timeout = min_timeout(timeout, (int)t);
			fl->daemon_due_ms[i] = now + t;
		}
	}
	return timeout;
}

static void *loop_thread(void *arg)
{
	struct fe_loop *fl = arg;
	const struct fe_args *a = FE.args;
	struct rl_loop *l = relay_loop(fl->index);

	this_loop = fl;
	cpu_place_thread(a->c, fl->index);
	metrics_bind_loop(fl->index);
	fl->conn_limit = conn_limit(&a->c->server);
	fl->accept_ep = epoll_create1(EPOLL_CLOEXEC);
	fl->pending_ep = epoll_create1(EPOLL_CLOEXEC);
	if (fl->accept_ep < 0 || !(fl->accept_w = relay_loop_watch(l, fl->accept_ep)) ||
	    fl->pending_ep < 0 || !(fl->pending_w = relay_loop_watch(l, fl->pending_ep)))
		die("cannot watch the listening sockets: %m");
	for (size_t i = 0; i < a->c->server.nlisten && i < MAX_LISTENERS; i++) {
		struct MHD_Daemon *d = start_daemon(a, i, fl->index);
		const union MHD_DaemonInfo *di;
		if (!d)
			die("cannot serve %s", a->c->server.listen[i].text);
		di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
		if (!di || !(fl->daemon_w[fl->ndaemons] = relay_loop_watch(l, di->epoll_fd)))
			die("cannot watch the HTTP daemon of %s", a->c->server.listen[i].text);
		fl->listen_fds[fl->ndaemons] = a->listen_fds[i * FE.nloops + fl->index];
		set_nonblock(fl->listen_fds[fl->ndaemons], true);
		fl->daemons[fl->ndaemons++] = d;
	}
	relay_loop_set_tick(l, loop_tick, fl);
	atomic_fetch_add(&FE.started, 1);
	relay_loop_run(l);
	stop_accepting(fl);
	drop_pending(fl);
	for (size_t i = 0; i < fl->ndaemons; i++)
		MHD_stop_daemon(fl->daemons[i]);
	close(fl->accept_ep);
	close(fl->pending_ep);
	return NULL;
}

/* ---------------------------------------------------------------- operations */

/* The supervisor's questions, on loop 0: answered at once, without a lock
 * an HTTP thread could hold for long (relay_pool_load takes each pool's
 * lock briefly). */
static int answer_stats(int ctl, const struct wire_frame *f)
{
	struct ctlm_pool_load *load;
	struct wbuf b;
	uint32_t tag;

	if (ctlm_stats_query_decode(f, &tag) < 0)
		return -1;
	load = xcalloc(FE.c->npools + 1, sizeof(*load));
	for (unsigned i = 0; i < FE.c->npools; i++) {
		relay_pool_load(i, &load[i].busy, &load[i].queued);
		load[i].requests = metrics_pool_requests(i);
	}
	wb_init(&b);
	ctlm_stats_encode(&b, tag, load, (uint32_t)FE.c->npools);
	free(load);
	if (b.overflow || wire_send(ctl, W_CTL_STATS, 0, b.p, b.len, NULL, 0, MSG_DONTWAIT) < 0)
		log_msg(LOG_WARNING, "cannot answer the supervisor's counter query: %s",
			b.overflow ? "too many pools" : strerror(errno));
	wb_free(&b);
	return 0;
}

/* The log files opened anew after a rotation (W_CTL_LOGS): our
 * descriptors refer to them from now on; a line being written ends in
 * the old file.  The frame's descriptors are closed by the caller. */
static int take_new_logs(const struct wire_frame *f)
{
	uint32_t which;
	size_t k = 0;

	if (ctlm_logs_decode(f, &which) < 0)
		return -1;
	if ((which & W_LOG_AUDIT) && audit_reopen(f->fds[k++]) < 0)
		log_msg(LOG_ERR, "audit log: cannot take the new file: %m");
	if ((which & W_LOG_ACCESS) && access_log_reopen(f->fds[k++]) < 0)
		log_msg(LOG_ERR, "access log: cannot take the new file: %m");
	return 0;
}

/* The relay's table let only these through (relay.c, from_supervisor). */
static int on_supervisor_message(int ctl, const struct wire_frame *f)
{
	return f->type == W_CTL_STATS_QUERY ? answer_stats(ctl, f) : take_new_logs(f);
}

static void render_metrics(struct sbuf *out)
{
	struct m_live live = { .in_flight = atomic_load(&FE.inflight),
			       .pool_load = relay_pool_load };

	metrics_render(out, &live);
}

/* /health on admin_listen: why not 200, or NULL. */
static const char *unhealthy(void)
{
	if (atomic_load(&FE.draining))
		return "draining: idgated is stopping";
	if (metrics_every_pool_off())
		return "every pool is disabled (rapid_fail) or stopped";
	return NULL;
}

/* A TLS file, whole, from a descriptor the supervisor opened: from its
 * start (pread), since a restarted front end reads the same open file. */
static char *read_tls_file(int fd, const char *key, const char *path)
{
	struct stat st;
	ssize_t got;
	char *buf;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TLS_FILE_MAX)
		die("%s %s: not a regular file of at most %d bytes", key, path, TLS_FILE_MAX);
	buf = xmalloc((size_t)st.st_size + 1);
	got = pread_full(fd, buf, (size_t)st.st_size, 0);
	if (got < 0)
		die("%s %s: %m", key, path);
	buf[got] = '\0';
	close(fd);
	return buf;
}

static void read_tls_files(const struct fe_args *a)
{
	if (a->tls_key_fd < 0)
		return;
	FE.tls_cert_pem = read_tls_file(a->tls_cert_fd, "tls_cert", a->c->server.tls_cert);
	FE.tls_key_pem = read_tls_file(a->tls_key_fd, "tls_key", a->c->server.tls_key);
	/* the malformed request line's 400 on a TLS listener */
	if (tlsclose_install(before_tls_bye) < 0)
		log_msg(LOG_WARNING, "GnuTLS's gnutls_bye not found: on TLS listeners a malformed "
			"request line is closed without an answer");
}

/* libmicrohttpd has parsed the key into GnuTLS's structures when each
 * daemon started; our copy of its text goes. */
static void forget_tls_files(void)
{
	if (FE.tls_key_pem)
		explicit_bzero(FE.tls_key_pem, strlen(FE.tls_key_pem));
	free(FE.tls_key_pem);
	free(FE.tls_cert_pem);
	FE.tls_key_pem = FE.tls_cert_pem = NULL;
}

static void start_loops(const struct fe_args *a)
{
	FE.nloops = config_loops(a->c);
	FE.loops = xcalloc(FE.nloops, sizeof(*FE.loops));
	for (size_t i = 0; i < a->c->server.nlisten && i < MAX_LISTENERS; i++)
		FE.lst[i] = (struct fe_listener){ .tls = a->c->server.listen[i].tls,
						  .proxy = a->c->server.listen[i].proxy };
	metrics_init(a->c, FE.nloops);
	authn_init(FE.nloops);
	if (relay_init(a->c, a->ctl, FE.nloops) < 0)
		die("relay: %m");
	relay_set_ctl_hook(on_supervisor_message);
	relay_take_ctl_backlog();
	for (unsigned i = 0; i < FE.nloops; i++) {
		FE.loops[i].index = i;
		if (pthread_create(&FE.loops[i].tid, NULL, loop_thread, &FE.loops[i]) != 0)
			die("cannot start an event loop");
	}
	while (atomic_load(&FE.started) < FE.nloops)
		usleep(1000);
	forget_tls_files();
}

/* ---------------------------------------------------------------- process */

static void drop_privileges(const struct config *c)
{
	struct ident id = { .uid = c->server.uid, .gid = c->server.gid, .ngroups = 0 };
	char err[256];

	/* no supplementary group; and not dumpable (no core dump, no ptrace
	 * by the same uid): this process holds the TLS key and the clients'
	 * requests */
	if (iddrop_process(&id, err, sizeof(err)) < 0)
		die("cannot become user %s: %s", c->server.user, err);
}

/* Whether the drain goes on: requests in flight, until shutdown_timeout;
 * and connections accepted before the drain that have not begun their
 * first request (HAProxy writes its PROXY header and the client's request
 * apart; a client writes its request just after connect()), for
 * DRAIN_FRESH_MS at most: closed unanswered, they would fail requests
 * that no client has seen an answer to, and that it may not send again.
 * A kept-alive connection between two requests is not waited for: its
 * last answer said nothing of closing, and HTTP lets a server close it
 * (clients send a request again when a kept-alive connection closes). */
static bool still_draining(uint64_t start, uint64_t deadline)
{
	uint64_t now = now_ms();

	if (now >= deadline)
		return false;
	return atomic_load(&FE.inflight) > 0 ||
	       (atomic_load(&FE.fresh) > 0 && now < start + DRAIN_FRESH_MS);
}

/* SIGTERM: a new front end replaces this one (a reload), and answers
 * admin_listen (scrapes, /health) from now on.  SIGINT: the instance
 * stops (the supervisor's own SIGTERM); this front end keeps answering
 * admin_listen while it drains, /health with 503, so that a load balancer
 * sends the next requests elsewhere. */
static void drain_and_exit(const struct config *c, bool instance_stops)
{
	uint64_t start = now_ms(), deadline = start + c->server.shutdown_timeout_ms;

	atomic_store(&FE.draining, true);
	relay_wake_all();
	if (!instance_stops) {
		admin_stop(FE.admin);
		FE.admin = NULL;
	}
	while (still_draining(start, deadline))
		usleep(10000);
	if (atomic_load(&FE.inflight) > 0)
		log_msg(LOG_WARNING, "shutdown_timeout reached with %zu requests in flight",
			atomic_load(&FE.inflight));
	relay_stop();
	for (unsigned i = 0; i < FE.nloops; i++)
		pthread_join(FE.loops[i].tid, NULL);
	admin_stop(FE.admin);
	log_msg(LOG_INFO, "stopped");
	exit(0);
}

void frontend_main(struct fe_args *a)
{
	const struct config *c = a->c;
	sigset_t set;
	int sig;

	log_set_role("frontend");
	prctl(PR_SET_NAME, "idgate-front", 0, 0, 0);
	FE.args = a;
	FE.c = a->c;
	drop_privileges(c);
	feauth_init(c);
	audit_init(a->audit_fd);
	audit_set_policy(c->server.audit_failure_refuse);
	access_log_init(a->access_fd);
	block_child_signals(&set);
	read_tls_files(a);
	start_loops(a);
	if (a->admin_fd >= 0 && !(FE.admin = admin_start(a->admin_fd, render_metrics, unhealthy)))
		die("cannot serve admin_listen %s", c->server.admin_listen.text);
	if (ctlm_send_ready(a->ctl) < 0)
		die("cannot report readiness: %m");
	log_msg(LOG_INFO, "serving as uid %u with %u event loops", (unsigned)geteuid(), FE.nloops);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			drain_and_exit(c, sig == SIGINT);
	}
}
