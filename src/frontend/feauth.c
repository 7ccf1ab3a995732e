/* feauth.c -- see feauth.h. */
#include "feauth.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "config.h"
#include "metrics.h"
#include "session.h"
#include "util.h"

static const struct config *cfg;
static uint64_t conn_prefix;     /* random: ids of an earlier front end never recur */
static atomic_uint_fast32_t conn_counter;

void feauth_init(const struct config *c)
{
	uint32_t r = 0;

	cfg = c;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)now_us();
	conn_prefix = (uint64_t)r << 32;
}

struct fe_conn *feauth_conn_new(void)
{
	struct fe_conn *fc = xcalloc(1, sizeof(*fc));

	fc->id = conn_prefix | (uint32_t)atomic_fetch_add(&conn_counter, 1);
	return fc;
}

static void forget_conn_verdict(struct fe_conn *fc)
{
	free(fc->cv);
	fc->cv = NULL;
	fc->cv_len = 0;
	fc->cv_end = 0;
	fe_who_free(&fc->who);
}

void feauth_conn_free(struct fe_conn *fc)
{
	if (!fc)
		return;
	if (fc->told)
		authn_conn_end(fc->id);
	forget_conn_verdict(fc);
	free(fc);
}

char *feauth_strip_session_cookies(const char *cookie)
{
	char *out = NULL, *next;

	for (size_t i = 0; cfg && i < cfg->nvdirs; i++) {
		const struct vdir_conf *v = &cfg->vdirs[i];
		if (!v->session || !(next = session_cookie_strip(out ? out : cookie,
								  v->session_cookie)))
			continue;
		free(out);
		out = next;
	}
	return out;
}

/* ---------------------------------------------------------------- asking */

static enum MHD_Result collect_cookie_header(void *cls, enum MHD_ValueKind kind,
					     const char *key, const char *value)
{
	struct authn_request *q = cls;

	(void)kind;
	if (key && value && strcasecmp(key, MHD_HTTP_HEADER_COOKIE) == 0)
		q->cookies[q->ncookies++] = value;
	return q->ncookies < AUTHN_MAX_COOKIES ? MHD_YES : MHD_NO;
}

static int ask(struct fe_auth *a, const struct fe_auth_request *q, const char *authz)
{
	struct authn_request m = {
		.conn_id = q->fc->id, .vdir = q->v->index, .tls = q->tls,
		.request_id = q->request_id, .method = q->method, .path = q->path,
		.client = q->client, .authorization = authz,
	};

	if (q->v->session) /* (the authenticator looks at cookies for nothing else) */
		MHD_get_connection_values(q->conn, MHD_HEADER_KIND, collect_cookie_header, &m);
	a->wait.conn = q->conn;
	if (authn_ask(&a->wait, &m) < 0) {
		a->outcome = M_AUTH_UNAVAILABLE;
		a->reason = "the authenticator is unavailable";
		return 503;
	}
	a->asked = true;
	q->fc->told = true;
	return FEAUTH_SUSPENDED;
}

/* ---------------------------------------------------------------- answers */

static void take_who(struct fe_auth *a, const struct fe_who *w)
{
	a->principal = w->principal;
	a->user = w->user;
	a->uid = w->uid;
	a->gid = w->gid;
	a->level = w->level;
	a->anonymous = w->anonymous;
	a->scheme = authn_scheme_name(w->scheme);
	a->groups_left_out = w->groups_left_out ? w->groups_left_out : "";
}

/* A verdict kept from an earlier answer serves this request. */
static void use_kept(struct fe_auth *a, const struct fe_who *w, int outcome)
{
	take_who(a, w);
	a->outcome = outcome;
	a->reason = "";
}

/* connection_auth: the connection verdict of a later request, for this
 * vdir and still in time.  true when taken. */
static bool take_conn_verdict(struct fe_auth *a, const struct fe_auth_request *q)
{
	struct fe_conn *fc = q->fc;

	if (!fc->cv || fc->cv_vdir != q->v->index || now_ms() >= fc->cv_end)
		return false;
	a->verdict_copy = xmemdup(fc->cv, fc->cv_len);
	a->verdict = a->verdict_copy;
	a->verdict_len = fc->cv_len;
	use_kept(a, &fc->who, M_AUTH_OK);
	return true;
}

/* A session cookie this front end has seen authenticate, for this vdir
 * and client address and still in time (sesscache.h): the head names it
 * by its digest, which the worker checks against the verdict.  true when
 * taken. */
static bool take_session_verdict(struct fe_auth *a, const struct fe_auth_request *q)
{
	struct authn_request cookies = { .ncookies = 0 };
	const char *vals[AUTHN_MAX_COOKIES];
	size_t lens[AUTHN_MAX_COOKIES], n;
	uint8_t digest[VERDICT_DIGEST_LEN];
	const struct sesscache_key k = { q->v->index, digest, q->client };
	uint64_t now = now_ms();

	MHD_get_connection_values(q->conn, MHD_HEADER_KIND, collect_cookie_header, &cookies);
	for (uint32_t h = 0; h < cookies.ncookies; h++) {
		n = session_cookie_values(cookies.cookies[h], q->v->session_cookie, vals, lens,
					  AUTHN_MAX_COOKIES);
		for (size_t i = 0; i < n; i++) {
			verdict_digest_bytes(vals[i], lens[i], digest);
			if (!sesscache_get(&k, now, &a->verdict_copy, &a->verdict_len,
					   &a->who_copy))
				continue;
			a->verdict = a->verdict_copy;
			memcpy(a->authz_digest, digest, VERDICT_DIGEST_LEN);
			use_kept(a, &a->who_copy, M_AUTH_SESSION);
			return true;
		}
	}
	return false;
}

static struct fe_who who_of(const struct authn_answer *ans)
{
	return (struct fe_who){
		.principal = ans->principal, .user = ans->user, .uid = ans->uid, .gid = ans->gid,
		.level = ans->level, .anonymous = ans->anonymous, .scheme = ans->scheme,
		.groups_left_out = ans->groups_left_out,
	};
}

/* The verdict the answer gives later requests: the connection's, or the
 * session cookie's (for any connection). */
static void keep_verdict(const struct fe_auth_request *q, const struct authn_answer *ans)
{
	struct fe_conn *fc = q->fc;
	struct fe_who who = who_of(ans);
	const struct sesscache_key k = { q->v->index, ans->session_digest, q->client };

	forget_conn_verdict(fc);
	if (!ans->conn_verdict)
		return;
	if (ans->cookie_verdict) {
		sesscache_put(&k, ans->conn_verdict, ans->conn_verdict_len, ans->conn_expires_ms,
			      &who);
		return;
	}
	fc->cv = xmemdup(ans->conn_verdict, ans->conn_verdict_len);
	fc->cv_len = ans->conn_verdict_len;
	fc->cv_vdir = q->v->index;
	fc->cv_end = ans->conn_expires_ms;
	fe_who_copy(&fc->who, &who);
}

static int take_answer(struct fe_auth *a, const struct fe_auth_request *q)
{
	const struct authn_answer *ans = &a->wait.ans;
	struct fe_who who;

	for (int i = 0; i < M_BASIC_COUNT; i++)
		if (ans->basic_events & (1u << i))
			metrics_count_basic((enum m_basic)i);
	a->outcome = ans->outcome;
	a->reason = ans->reason ? ans->reason : "";
	a->hdr_name = ans->hdr_name;
	a->hdr_value = ans->hdr_value;
	a->nhdr = ans->nhdr;
	if (ans->status != 0)
		return ans->status;
	who = who_of(ans);
	take_who(a, &who);
	a->verdict = ans->verdict;
	a->verdict_len = ans->verdict_len;
	keep_verdict(q, ans);
	return 0;
}

/* No credentials at all -- no Authorization header, no session cookie to
 * look at (a vdir without sessions), on a connection the authenticator
 * knows nothing of (never asked about, so no identity kept for it): the
 * authenticator could only challenge, as this does (challenge.h).  true
 * when answered here. */
static bool challenge_here(struct fe_auth *a, const struct fe_auth_request *q,
			   const char *authz)
{
	const char *c[CHALLENGE_MAX];
	int n;

	if (authz || q->v->session || q->fc->told)
		return false;
	n = challenges(q->v->auth & AUTH_NEGOTIATE, q->v->auth & AUTH_BASIC, q->tls, c);
	for (int i = 0; i < n; i++) {
		/* (libmicrohttpd copies them: they are never written to) */
		a->own_name[i] = (char *)CHALLENGE_HEADER;
		a->own_value[i] = (char *)c[i];
	}
	a->hdr_name = a->own_name;
	a->hdr_value = a->own_value;
	a->nhdr = n;
	a->outcome = M_AUTH_NO_CREDENTIALS;
	a->reason = "no credentials";
	return true;
}

int feauth_run(struct fe_auth *a, const struct fe_auth_request *q)
{
	const char *authz;

	if (a->asked)
		return a->wait.answered ? take_answer(a, q) : FEAUTH_SUSPENDED;
	authz = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_AUTHORIZATION);
	verdict_digest(authz, a->authz_digest);
	if (!authz && (q->v->auth & AUTH_NEGOTIATE) && take_conn_verdict(a, q))
		return 0;
	if (!authz && q->v->session && take_session_verdict(a, q))
		return 0;
	if (challenge_here(a, q, authz))
		return 401;
	return ask(a, q, authz);
}

void feauth_free(struct fe_auth *a)
{
	authn_forget(&a->wait);
	free(a->verdict_copy);
	fe_who_free(&a->who_copy);
	memset(a, 0, sizeof(*a));
}
