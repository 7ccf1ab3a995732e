/* authjob.c -- see authjob.h.
 *
 * A connection is remembered only when there is something to remember: a
 * multi-leg exchange in progress, or (connection_auth) the identity it
 * established.  The front end says when a connection closes; since it is
 * the process we trust least, the table is bounded anyway (the least
 * recently used idle entry goes first). */
#include "authjob.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "authnmsg.h"
#include "config.h"
#include "log.h"
#include "reqmsg.h"
#include "util.h"

#define CONN_BUCKETS 4096u
#define SEND_TRIES 20        /* x 50 ms: a front end that reads nothing for 1 s */

struct conn {
	uint64_t id;
	struct auth_conn ac;
	unsigned jobs;           /* in flight on it */
	struct conn *hnext;      /* bucket */
	struct conn *prev, *next; /* LRU: most recent first */
};

struct job {
	struct auth_state a;
	struct auth_request q;
	struct authn_request in;
	uint8_t *raw;            /* the request's bytes, which `in` points into */
	struct conn *conn;       /* NULL: `own` serves */
	struct auth_conn own;
	int fe;                  /* the channel it came on, and its answer goes on */
	struct job *prev, *next;
};

static struct {
	const struct config *c;
	uint8_t key[VERDICT_KEY_LEN];
	struct conn *buckets[CONN_BUCKETS];
	struct conn *lru_head, *lru_tail;
	size_t nconns, max_conns;
	struct job *jobs;
	size_t njobs;
} J;

void authjob_init(const struct config *c, const uint8_t key[VERDICT_KEY_LEN])
{
	J.c = c;
	memcpy(J.key, key, VERDICT_KEY_LEN);
	J.max_conns = 2 * (size_t)c->server.max_connections + 1024;
}

size_t authjob_count(void)
{
	return J.njobs;
}

/* ---------------------------------------------------------------- connections */

static struct conn **bucket(uint64_t id)
{
	return &J.buckets[(id ^ (id >> 29)) % CONN_BUCKETS];
}

static struct conn *conn_find(uint64_t id)
{
	for (struct conn *k = *bucket(id); k; k = k->hnext)
		if (k->id == id)
			return k;
	return NULL;
}

static void lru_unlink(struct conn *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		J.lru_head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		J.lru_tail = k->prev;
	k->prev = k->next = NULL;
}

static void lru_push(struct conn *k)
{
	k->next = J.lru_head;
	if (J.lru_head)
		J.lru_head->prev = k;
	J.lru_head = k;
	if (!J.lru_tail)
		J.lru_tail = k;
}

static void conn_free(struct conn *k)
{
	for (struct conn **pp = bucket(k->id); *pp; pp = &(*pp)->hnext) {
		if (*pp == k) {
			*pp = k->hnext;
			break;
		}
	}
	lru_unlink(k);
	auth_conn_clear(&k->ac);
	free(k);
	J.nconns--;
}

/* Room for one more: the least recently used idle entry goes. */
static bool conn_make_room(void)
{
	for (struct conn *k = J.lru_tail; J.nconns >= J.max_conns && k; k = k->prev) {
		if (!k->jobs) {
			log_msg(LOG_WARNING, "more than %zu connections remembered: forgetting "
				"the least recently used", J.max_conns);
			conn_free(k);
			return true;
		}
	}
	return J.nconns < J.max_conns;
}

/* A job's own state becomes the connection's: a leg is pending, or the
 * identity is kept (connection_auth). */
static void conn_adopt(struct job *j)
{
	struct conn *k;

	if (j->conn || (j->own.partial == GSS_C_NO_CONTEXT && !j->own.expires_ms))
		return;
	if (!conn_make_room())
		return;
	k = xcalloc(1, sizeof(*k));
	k->id = j->in.conn_id;
	k->ac = j->own;
	memset(&j->own, 0, sizeof(j->own));
	k->hnext = *bucket(k->id);
	*bucket(k->id) = k;
	lru_push(k);
	J.nconns++;
	j->conn = k; /* the reply's connection verdict reads it there */
	k->jobs++;
}

/* ---------------------------------------------------------------- verdicts */

static uint32_t wire_auth_type(const char *scheme)
{
	if (!scheme)
		return W_AUTH_NONE;
	return str_has_prefix(scheme, "Basic") ? W_AUTH_BASIC : W_AUTH_NEGOTIATE;
}

static void verdict_who(struct verdict *v, const struct auth_state *a)
{
	v->principal = a->principal;
	v->user = a->user;
	v->uid = a->user ? (uint32_t)a->uid : (uint32_t)-1;
	v->gid = a->user ? (uint32_t)a->gid : (uint32_t)-1;
	v->level = (uint32_t)a->level;
	v->auth_type = wire_auth_type(a->scheme);
}

static int seal_for_request(const struct job *j, struct wbuf *out)
{
	struct verdict v = { .kind = VERDICT_REQUEST, .vdir = j->in.vdir,
			     .conn_id = j->in.conn_id, .request_id = j->in.request_id,
			     .method = j->in.method, .path = j->in.path,
			     .creds = j->a.deleg, .creds_len = j->a.deleg_len };

	verdict_who(&v, &j->a);
	v.issued_ms = now_ms();
	v.expires_ms = v.issued_ms + VERDICT_REQUEST_TTL_MS;
	verdict_digest(j->in.authorization, v.authz_digest);
	if (verdict_new_id(&v) < 0)
		return -1;
	return verdict_seal(J.key, &v, out);
}

/* A kept verdict ends at `end` (0: none), and never after account_cache:
 * PAM and `require` are asked again then.  0 when there is none to give. */
static uint64_t kept_until(uint64_t end)
{
	uint64_t now = now_ms(), cache = J.c->server.account_cache_ms;

	if (!end || !cache)
		return 0;
	if (end > now + cache)
		end = now + cache;
	return end > now ? end : 0;
}

/* connection_auth: the identity the connection keeps, for this vdir, until
 * the context ends or the account check is due again. */
static uint64_t conn_verdict_end(const struct job *j)
{
	const struct auth_conn *ac = j->conn ? &j->conn->ac : &j->own;

	if (!J.c->server.connection_auth || j->a.by_session)
		return 0;
	return kept_until(ac->expires_ms);
}

/* A session cookie's caller, for this vdir, to whoever brings the same
 * cookie again before it expires or the account check is due: the front
 * end stops asking for each request (verdict.h, VERDICT_SESSION). */
static uint64_t session_verdict_end(const struct job *j)
{
	return j->a.by_session ? kept_until(j->a.session_end_ms) : 0;
}

/* A verdict later requests may use: VERDICT_CONNECTION names the
 * connection, VERDICT_SESSION the cookie. */
static int seal_kept(const struct job *j, uint32_t kind, uint64_t end, struct wbuf *out)
{
	struct verdict v = { .kind = kind, .vdir = j->in.vdir };

	if (kind == VERDICT_CONNECTION)
		v.conn_id = j->in.conn_id;
	else
		memcpy(v.authz_digest, j->a.session_digest, VERDICT_DIGEST_LEN);
	verdict_who(&v, &j->a);
	if (v.level > IDG_LEVEL_IMPERSONATION)
		v.level = IDG_LEVEL_IMPERSONATION; /* credentials stay with their request */
	v.issued_ms = now_ms();
	v.expires_ms = end;
	if (verdict_new_id(&v) < 0)
		return -1;
	return verdict_seal(J.key, &v, out);
}

/* The verdict later requests may use instead of asking, if any. */
static void add_kept_verdict(const struct job *j, struct authn_reply *r, struct wbuf *out)
{
	uint64_t end;
	uint32_t kind = VERDICT_CONNECTION;

	if (!(end = conn_verdict_end(j))) {
		if (!(end = session_verdict_end(j)))
			return;
		kind = VERDICT_SESSION;
	}
	if (seal_kept(j, kind, end, out) < 0)
		return;
	r->conn_verdict = out->p;
	r->conn_verdict_len = out->len;
	r->conn_expires_ms = end;
	if (kind == VERDICT_SESSION)
		r->session_digest = j->a.session_digest;
}

/* ---------------------------------------------------------------- replies */

/* a->scheme as the wire's enum: the names are authnmsg.c's */
static uint32_t scheme_code(const struct auth_state *a)
{
	for (uint32_t i = AUTHN_SCHEME_NONE + 1; a->scheme && i < AUTHN_SCHEME_COUNT; i++)
		if (strcmp(a->scheme, authn_scheme_name(i)) == 0)
			return i;
	return AUTHN_SCHEME_NONE;
}

static void reply_identity(struct authn_reply *r, const struct auth_state *a)
{
	r->principal = a->principal;
	r->user = a->user;
	r->uid = a->user ? (uint32_t)a->uid : (uint32_t)-1;
	r->gid = a->user ? (uint32_t)a->gid : (uint32_t)-1;
	r->level = (uint32_t)a->level;
	r->anonymous = a->anonymous;
	r->scheme = scheme_code(a);
	r->groups_left_out = a->groups_left_out;
}

/* A front end that does not read for a second is stuck; its request is
 * dropped (it answers the client when its own timeout comes). */
static void send_reply(int fe, const struct wbuf *b, uint64_t tag)
{
	for (int i = 0; i < SEND_TRIES; i++) {
		if (wire_send(fe, W_AUTHN_REPLY, 0, b->p, b->len, NULL, 0, MSG_DONTWAIT) == 0)
			return;
		if (errno != EAGAIN)
			break;
		struct pollfd p = { .fd = fe, .events = POLLOUT };
		poll(&p, 1, 50);
	}
	log_msg(LOG_ERR, "cannot answer the front end (question %llu): %m",
		(unsigned long long)tag);
}

static void reply(struct job *j, int st)
{
	struct authn_reply r = { .tag = j->in.tag, .status = (uint32_t)st,
				 .outcome = (uint32_t)j->a.outcome,
				 .basic_events = j->a.basic_events, .reason = j->a.reason,
				 .nhdrs = (uint32_t)j->a.nhdr, .groups_left_out = "" };
	struct wbuf b, rv = { 0 }, cv = { 0 };

	for (int i = 0; i < j->a.nhdr; i++)
		r.hdrs[i] = (struct authn_header){ j->a.hdr_name[i], j->a.hdr_value[i] };
	if (st == 0) {
		reply_identity(&r, &j->a);
		if (seal_for_request(j, &rv) < 0) {
			r.status = 503;
			r.reason = "authenticator: cannot seal the verdict";
		}
		r.verdict = rv.p;
		r.verdict_len = rv.len;
		if (r.status == 0)
			add_kept_verdict(j, &r, &cv);
	}
	wb_init(&b);
	authn_reply_encode(&b, &r);
	if (!b.overflow)
		send_reply(j->fe, &b, j->in.tag);
	else
		log_msg(LOG_ERR, "answer to question %llu too large", (unsigned long long)j->in.tag);
	explicit_bzero(b.p, b.cap); /* it held the credentials, sealed; still */
	wb_free(&b);
	if (rv.p)
		explicit_bzero(rv.p, rv.cap);
	wb_free(&rv);
	wb_free(&cv);
}

/* ---------------------------------------------------------------- jobs */

static void job_unlink(struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		J.jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	J.njobs--;
}

static void job_free(struct job *j)
{
	job_unlink(j);
	auth_state_free(&j->a);
	if (j->conn)
		j->conn->jobs--;
	auth_conn_clear(&j->own);
	free(j->raw);
	free(j);
}

static void job_run(struct job *j)
{
	int st = auth_run(&j->a, &j->q);

	if (st == AUTH_SUSPENDED)
		return;
	conn_adopt(j);
	reply(j, st);
	job_free(j);
}

static void job_resume(struct pamq_wait *w)
{
	job_run((struct job *)((char *)w - offsetof(struct job, a.wait)));
}

static struct job *job_new(const struct wire_frame *f)
{
	struct job *j = xcalloc(1, sizeof(*j));
	struct wire_frame copy = *f;
	bool has_tag;

	j->raw = xmalloc(f->len ? f->len : 1);
	memcpy(j->raw, f->payload, f->len);
	copy.payload = j->raw;
	if (authn_request_decode(&copy, (uint32_t)J.c->nvdirs, &j->in, &has_tag) < 0) {
		free(j->raw);
		free(j);
		return NULL;
	}
	j->next = J.jobs;
	if (J.jobs)
		J.jobs->prev = j;
	J.jobs = j;
	J.njobs++;
	return j;
}

static void job_start(struct job *j)
{
	j->conn = conn_find(j->in.conn_id);
	if (j->conn) {
		j->conn->jobs++;
		lru_unlink(j->conn);
		lru_push(j->conn);
	}
	j->a.wait.resume = job_resume;
	j->q = (struct auth_request){ .in = &j->in, .ac = j->conn ? &j->conn->ac : &j->own,
				      .v = &J.c->vdirs[j->in.vdir], .tls = j->in.tls,
				      .client = j->in.client };
	if (!j->q.v->auth) { /* nothing to say about a vdir without authentication */
		snprintf(j->a.reason, sizeof(j->a.reason), "vdir %s does not authenticate",
			 j->q.v->path);
		reply(j, 400);
		job_free(j);
		return;
	}
	job_run(j);
}

static int on_conn_end(const struct wire_frame *f)
{
	uint64_t id;
	struct conn *k;

	if (authn_conn_end_decode(f, &id) < 0)
		return -1;
	k = conn_find(id);
	if (k && !k->jobs)
		conn_free(k);
	else if (k) /* a question still waits on it: its identity ends now anyway */
		auth_conn_clear(&k->ac);
	return 0;
}

int authjob_on_frame(const struct wire_frame *f, int fe)
{
	struct job *j;

	if (f->type == W_AUTHN_CONN_END)
		return on_conn_end(f);
	j = job_new(f);
	if (!j)
		return -1;
	j->fe = fe;
	job_start(j);
	return 0;
}
