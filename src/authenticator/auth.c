/* auth.c -- the front end's authentication and authorization.
 *
 *   Authorization: Negotiate <token>   -> GSSAPI accept (negotiate.c)
 *   Authorization: Basic <b64>         -> PAM authenticate, TLS listeners only,
 *                                         braked (throttle.h)
 *   none, Cookie: <session cookie>     -> who it says (session.h), with
 *                                         session = cookie; after a fresh
 *                                         authentication it is set
 *   principal -> local name (auth_to_local) -> account (NSS, acctcache.c)
 *   account -> PAM account check (the PAM helper, pamq.c; cached)
 *   -> require valid-user | anonymous-ok | user ... | group ...
 *
 * Every refusal sets a reason for the audit log that says which step
 * refused and why; none contains a token or a password. */
#include "auth.h"

#include <gssapi/gssapi_ext.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acctcache.h"
#include "authhdr.h"
#include "authhelper.h"
#include "authnmsg.h"
#include "challenge.h"
#include "config.h"
#include "levels.h"
#include "idgate/module.h"
#include "log.h"
#include "negotiate.h"
#include "session.h"
#include "throttle.h"
#include "util.h"

enum phase { PH_START = 0, PH_PAM_ACCT, PH_PAM_PASS, PH_FAIL_DELAY, PH_S4U, PH_DONE };

#define MAX_SESSION_COOKIES 4 /* of our name in one request */

static const struct config *cfg;
static struct session_keys *session_keys;

static bool sessions_used(const struct config *c)
{
	for (size_t i = 0; i < c->nvdirs; i++)
		if (c->vdirs[i].session)
			return true;
	return false;
}

int auth_load_session_keys(const struct config *c, char *err, size_t len)
{
	char why[400];

	if (!sessions_used(c))
		return 0;
	session_keys = session_keys_load(c->server.session_key_file, why, sizeof(why));
	if (!session_keys) {
		snprintf(err, len, "session_key_file %s: %s", c->server.session_key_file, why);
		return -1;
	}
	log_msg(LOG_INFO, "loaded %zu session key%s from %s", session_keys_count(session_keys),
		session_keys_count(session_keys) == 1 ? "" : "s", c->server.session_key_file);
	return 0;
}

/* A handler that uses the caller's Kerberos credentials (a proxy that
 * authenticates to its backend as the caller, constrained delegation)
 * needs them on every request, and a cookie carries none: there the
 * client negotiates each time.  (delegation = store with a session is a
 * configuration error.) */
static bool session_applies(const struct vdir_conf *v)
{
	return v->session && session_keys && !v->module_creds && !v->module_s4u;
}

void auth_init(const struct config *c)
{
	cfg = c;
	acctcache_init(c->server.account_cache_ms, &c->server.ids);
	throttle_init();
	for (size_t i = 0; i < c->nvdirs; i++)
		if (c->vdirs[i].session && !session_applies(&c->vdirs[i]))
			log_msg(LOG_WARNING, "vdir %s: session = cookie has no effect: its handler "
				"uses the caller's Kerberos credentials, which a cookie never carries",
				c->vdirs[i].path);
}

static void add_header(struct auth_state *a, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_header(struct auth_state *a, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *v;

	if (a->nhdr >= AUTH_MAX_CHALLENGES)
		return;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	if (!v)
		return;
	a->hdr_name[a->nhdr] = name;
	a->hdr_value[a->nhdr++] = v;
}

/* 401 with the challenges this vdir offers on this listener; `outcome`
 * says why, for the metrics (enum m_auth). */
static int challenge(struct auth_state *a, const struct auth_request *q, int outcome,
		     const char *why)
{
	const char *c[CHALLENGE_MAX];
	int n = challenges(q->v->auth & AUTH_NEGOTIATE, q->v->auth & AUTH_BASIC, q->tls, c);

	a->outcome = outcome;
	if (!a->reason[0])
		snprintf(a->reason, sizeof(a->reason), "%s", why);
	for (int i = 0; i < n; i++)
		add_header(a, CHALLENGE_HEADER, "%s", c[i]);
	return 401;
}

static int deny(struct auth_state *a, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 403 or 503.  Every 403 of this file is a PAM or require refusal, and
 * callers other than pam_denial() say which by setting outcome first. */
static int deny(struct auth_state *a, int status, const char *fmt, ...)
{
	va_list ap;

	if (status == 503)
		a->outcome = M_AUTH_UNAVAILABLE;
	else if (!a->outcome)
		a->outcome = M_AUTH_REQUIRE_DENIED;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
	return status;
}

/* ---------------------------------------------------------------- Negotiate */

/* Keep delegated credentials for the worker, exported to a flat buffer
 * (MIT: the TGT, its session key and the client's name).  They are
 * kept only when the vdir stores them; the caller checked the level. */
static void export_delegated(struct auth_state *a, gss_cred_id_t cred, const char *client)
{
	OM_uint32 major, minor;
	gss_buffer_desc buf = GSS_C_EMPTY_BUFFER;
	char why[300];

	major = gss_export_cred(&minor, cred, &buf);
	if (GSS_ERROR(major)) {
		gss_error_text("gss_export_cred", major, minor, GSS_C_NO_OID, why, sizeof(why));
		log_msg(LOG_WARNING, "client %s: delegated credentials not kept: %s", client, why);
		return;
	}
	a->deleg = xmalloc(buf.length);
	memcpy(a->deleg, buf.value, buf.length);
	a->deleg_len = buf.length;
	explicit_bzero(buf.value, buf.length); /* gss_release_buffer would not */
	gss_release_buffer(&minor, &buf);
}

/* The KDC's answer: a KDC that refuses, fails or does not answer in time
 * is a failed upstream step (502, 504), with its words. */
static int take_s4u_ticket(struct auth_state *a, const struct auth_request *q)
{
	a->phase = PH_DONE;
	if (a->s4u.status) {
		a->outcome = M_AUTH_OK;
		return deny(a, a->s4u.status, "%s (to %s)", a->s4u.why, q->v->s4u_target);
	}
	a->deleg = a->s4u.blob;
	a->deleg_len = a->s4u.len;
	a->s4u.blob = NULL;
	return 0;
}

/* Constrained delegation: not the proxy credential (it holds the gateway's
 * TGT), only the caller's ticket to the vdir's target, asked of the KDC on
 * a thread of kdcq.c once the caller is authorized.  AUTH_SUSPENDED, or a
 * status. */
static int ask_s4u_ticket(struct auth_state *a, const struct auth_request *q)
{
	gss_cred_id_t proxy = a->s4u_proxy;

	a->s4u_proxy = GSS_C_NO_CREDENTIAL;
	a->phase = PH_S4U;
	if (kdcq_s4u(&a->wait, &a->s4u, proxy, q->v->s4u_target) == 0)
		return AUTH_SUSPENDED;
	return take_s4u_ticket(a, q); /* kdcq_s4u said 502 and why */
}

void auth_drop_delegated(struct auth_state *a)
{
	if (a->deleg)
		explicit_bzero(a->deleg, a->deleg_len);
	free(a->deleg);
	a->deleg = NULL;
	a->deleg_len = 0;
}

/* connection_auth: later requests of this connection, sent without an
 * Authorization header, are this caller's until the context expires. */
static void keep_for_connection(struct auth_conn *ac, const struct auth_state *a,
				OM_uint32 lifetime)
{
	free(ac->principal);
	free(ac->localname);
	ac->principal = a->principal ? xstrdup(a->principal) : NULL;
	ac->localname = a->localname ? xstrdup(a->localname) : NULL;
	ac->anonymous = a->anonymous;
	/* delegated credentials stay with the request that brought them */
	ac->level = a->level < IDG_LEVEL_IMPERSONATION ? a->level : IDG_LEVEL_IMPERSONATION;
	if (lifetime == GSS_C_INDEFINITE || lifetime > 24 * 3600)
		lifetime = 24 * 3600;
	ac->expires_ms = now_ms() + (uint64_t)lifetime * 1000;
}

static bool take_from_connection(struct auth_state *a, const struct auth_conn *ac)
{
	if (!ac->expires_ms || now_ms() >= ac->expires_ms)
		return false;
	a->principal = ac->principal ? xstrdup(ac->principal) : NULL;
	a->localname = ac->localname ? xstrdup(ac->localname) : NULL;
	a->anonymous = ac->anonymous;
	a->level = ac->level;
	a->scheme = "Negotiate";
	a->by_connection = true;
	return true;
}

static int run_negotiate(struct auth_state *a, const struct auth_request *q, const char *token)
{
	struct neg_result res;
	int st = 0;

	negotiate_accept(&q->ac->partial, &q->ac->partial_apreq, token,
			 cfg->server.max_header_size, q->v->module_s4u, &res);
	if (res.status == NEG_CONTINUE) {
		a->outcome = M_AUTH_CONTINUE;
		snprintf(a->reason, sizeof(a->reason), "negotiate: exchange continues");
		add_header(a, "WWW-Authenticate", "Negotiate %s",
			   res.out_token ? res.out_token : "");
		neg_result_free(&res);
		return 401;
	}
	if (res.status == NEG_FAILED) {
		static const int classes[] = {
			[NEG_FAIL_TOKEN] = M_AUTH_BAD_TOKEN, [NEG_FAIL_REPLAY] = M_AUTH_REPLAY,
			[NEG_FAIL_EXPIRED] = M_AUTH_EXPIRED,
			[NEG_FAIL_WRONG_SERVICE] = M_AUTH_WRONG_SERVICE,
			[NEG_FAIL_INTERNAL] = M_AUTH_UNAVAILABLE,
		};
		st = challenge(a, q, classes[res.failure], res.reason);
		log_msg(LOG_INFO, "client %s: %s", q->client, res.reason);
		neg_result_free(&res);
		return st;
	}
	a->scheme = "Negotiate";
	a->fresh_until = res.lifetime == GSS_C_INDEFINITE ? INT64_MAX
							   : (int64_t)time(NULL) + res.lifetime;
	/* a proxy credential (constrained delegation) is not the client's
	 * delegation: the realm allowed it, not the client */
	a->level = level_from_context(res.anonymous, res.flags,
				      res.deleg != GSS_C_NO_CREDENTIAL && !res.proxy_cred);
	if (res.deleg != GSS_C_NO_CREDENTIAL &&
	    vdir_takes_credentials(q->v, a->level, q->v->impersonate != IMPERSONATE_FALSE)) {
		if (!res.proxy_cred) {
			export_delegated(a, res.deleg, q->client);
		} else { /* asked of the KDC once authorized (finish) */
			a->s4u_proxy = res.deleg;
			res.deleg = GSS_C_NO_CREDENTIAL;
		}
	}
	a->anonymous = res.anonymous;
	if (!res.anonymous) {
		a->principal = res.principal;
		res.principal = NULL;
		a->localname = res.localname;
		res.localname = NULL;
	}
	if (res.out_token) /* mutual authentication: the client checks us */
		add_header(a, "WWW-Authenticate", "Negotiate %s", res.out_token);
	if (cfg->server.connection_auth)
		keep_for_connection(q->ac, a, res.lifetime);
	neg_result_free(&res); /* releases the delegated credentials: exported or unwanted */
	return st;
}

/* ---------------------------------------------------------------- Basic */

static void drop_password(struct auth_state *a)
{
	if (a->password) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	a->password = NULL;
}

/* The attempt that throttle_begin let through is over. */
static void end_attempt(struct auth_state *a, enum throttle_result r, struct throttle_counts *c)
{
	if (!a->attempt_from[0])
		return;
	throttle_end(a->attempt_from, a->localname, r, now_ms(), c);
	a->attempt_from[0] = '\0';
}

/* 429 with Retry-After, PAM not asked: the address or the account is
 * locked, or has as many attempts in flight as it has failures left. */
static int throttled(struct auth_state *a, const struct throttle_verdict *v)
{
	bool by_address = v->by == THROTTLE_BY_ADDRESS;
	const char *which = by_address ? "from" : "for account";

	a->outcome = M_AUTH_THROTTLED;
	a->basic_events |= 1u << (by_address ? M_BASIC_BY_ADDRESS : M_BASIC_BY_ACCOUNT);
	add_header(a, "Retry-After", "%u", v->retry_after_s);
	if (v->in_flight)
		snprintf(a->reason, sizeof(a->reason), "basic: too many attempts at once %s %s",
			 which, v->key);
	else
		snprintf(a->reason, sizeof(a->reason), "basic: too many failures %s %s (%u); "
			 "refused for %u s after the last", which, v->key, v->failures, v->lock_s);
	return 429;
}

/* User and password from the header, checked (authhdr.c).  0 or 401. */
static int parse_basic(struct auth_state *a, const struct auth_request *q, const char *b64)
{
	const char *why;

	if (authhdr_basic(b64, &a->localname, &a->password, &why) < 0)
		return challenge(a, q, M_AUTH_BAD_TOKEN, why);
	return 0;
}

static int start_basic(struct auth_state *a, const struct auth_request *q, const char *b64)
{
	struct throttle_verdict v;
	int st;

	if (!q->tls)
		return challenge(a, q, M_AUTH_SCHEME, "basic: credentials over plain HTTP refused");
	st = parse_basic(a, q, b64);
	if (st)
		return st;
	a->scheme = "Basic";
	a->level = IDG_LEVEL_IMPERSONATION;
	throttle_begin(q->client, a->localname, now_ms(), &v);
	if (v.by != THROTTLE_NONE) {
		drop_password(a);
		return throttled(a, &v);
	}
	snprintf(a->attempt_from, sizeof(a->attempt_from), "%s", q->client);
	a->phase = PH_PAM_PASS;
	if (pamq_ask(&a->wait, a->localname, q->client, a->password) < 0) {
		drop_password(a);
		end_attempt(a, THROTTLE_ABANDONED, NULL);
		return deny(a, 503, "basic: PAM helper unavailable");
	}
	return AUTH_SUSPENDED;
}

/* Every failure of Basic is logged with its counts (throttle.h), and a
 * lock it starts with its length: a password-guessing run is visible. */
static void log_basic_failure(const struct auth_state *a, const char *client,
			      const struct throttle_counts *c)
{
	log_msg(LOG_WARNING, "basic: authentication failed for user %s from %s (%u failures of "
		"the account, %u from the address): %s", a->localname, client, c->acct_failures,
		c->addr_failures, a->wait.message);
	if (c->addr_lock_s)
		log_msg(LOG_WARNING, "basic: %s stopped for %u s after %u failures", c->addr_key,
			c->addr_lock_s, c->addr_failures);
	if (c->acct_lock_s)
		log_msg(LOG_WARNING, "basic: account %s stopped for %u s after %u failures",
			a->localname, c->acct_lock_s, c->acct_failures);
}

/* A failure is answered after the fail delay, its connection suspended
 * meanwhile (pamq_hold: the loop goes on). */
static int hold_failure(struct auth_state *a, int status)
{
	a->held_status = status;
	if (pamq_hold(&a->wait, THROTTLE_FAIL_DELAY_MS) < 0)
		return status;
	a->basic_events |= 1u << M_BASIC_DELAYED;
	a->phase = PH_FAIL_DELAY;
	return AUTH_SUSPENDED;
}

static int finish_basic(struct auth_state *a, const struct auth_request *q)
{
	struct throttle_counts c;
	int code = a->wait.code, st;

	drop_password(a);
	if (code == PAM_SUCCESS) {
		end_attempt(a, THROTTLE_OK, NULL);
		a->principal = xstrdup(a->localname);
		a->fresh_until = INT64_MAX;
		return 0;
	}
	if (code < 0 && code != AUTH_ANSWER_INVALID) { /* the helper failed, not the client */
		end_attempt(a, THROTTLE_ABANDONED, NULL);
		return deny(a, 503, "basic: %s", a->wait.message);
	}
	end_attempt(a, THROTTLE_FAILED, &c);
	log_basic_failure(a, q->client, &c);
	if (code == AUTH_ANSWER_INVALID)
		st = challenge(a, q, M_AUTH_BAD_TOKEN, "basic: not a valid user name");
	else
		st = challenge(a, q, M_AUTH_BAD_PASSWORD, "basic: PAM refused the credentials");
	return hold_failure(a, st);
}

/* ---------------------------------------------------------------- accounts */

static int pam_denial(struct auth_state *a, int code, const char *msg)
{
	if (code == AUTH_ANSWER_INVALID) {
		a->outcome = M_AUTH_INVALID_NAME;
		return deny(a, 403, "pam: %s", msg);
	}
	if (code < 0)
		return deny(a, 503, "pam: account check unavailable: %s", msg);
	a->outcome = M_AUTH_PAM_DENIED;
	return deny(a, 403, "pam: account %s refused: %s", a->user, msg);
}

/* `name` for a reason: printable ASCII as is, a backslash doubled, any
 * other byte (and the quote) as \xHH -- a log line, an audit field and a
 * 403 page then show exactly which bytes the name had. */
static void quote_name(char *out, size_t len, const char *name)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p && o + 5 < len; p++) {
		if (*p == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\\\");
		else if (*p >= 0x20 && *p < 0x7f && *p != '\'')
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", *p);
	}
	out[o] = '\0';
}

/* An account exists under a name that is not a user name (authhelper.h):
 * NSS returned it, but nothing downstream -- PAM modules, programs,
 * headers, logs -- should have to cope with it.  403 for this request. */
static int refuse_account_name(struct auth_state *a)
{
	char shown[200];

	quote_name(shown, sizeof(shown), a->localname);
	a->outcome = M_AUTH_INVALID_NAME;
	return deny(a, 403, "mapping: account name '%s' is not a valid user name", shown);
}

/* The account a->localname names, if it exists: 0 (a->user set, or no
 * account), or 403 for a name that is not a user name. */
static int map_account(struct auth_state *a)
{
	struct account acc;
	int st = 0;

	account_get(a->localname, &acc);
	if (!acc.exists)
		goto done;
	if (!auth_user_name_ok(a->localname)) {
		st = refuse_account_name(a);
		goto done;
	}
	a->user = xstrdup(a->localname);
	a->uid = acc.uid;
	a->gid = acc.gid;
	snprintf(a->groups_left_out, sizeof(a->groups_left_out), "%s", acc.groups_left_out);
done:
	account_free(&acc);
	return st;
}

/* PAM's account check, for this account from this client address (the
 * stack may decide by PAM_RHOST): cached, or asked now.  0, SUSPENDED,
 * 403 or 503. */
static int check_pam_account(struct auth_state *a, const struct auth_request *q)
{
	int code;
	char msg[160];

	if (acctcache_get_pam(a->user, q->client, &code, msg, sizeof(msg)))
		return code == PAM_SUCCESS ? 0 : pam_denial(a, code, msg);
	a->phase = PH_PAM_ACCT;
	if (pamq_ask(&a->wait, a->user, q->client, NULL) < 0)
		return deny(a, 503, "pam: PAM helper unavailable");
	return AUTH_SUSPENDED;
}

/* Map to an existing account and check it with PAM.  0, SUSPENDED, 403 or
 * 503. */
static int check_account(struct auth_state *a, const struct auth_request *q)
{
	int st;

	if (!a->localname)
		return 0; /* no local account: fine for a trusted-subsystem vdir */
	st = map_account(a);
	if (st || !a->user)
		return st;
	if (!*cfg->server.pam_service || a->phase == PH_PAM_PASS)
		return 0; /* Basic ran pam_acct_mgmt already */
	return check_pam_account(a, q);
}

static int finish_pam_acct(struct auth_state *a, const struct auth_request *q)
{
	if (a->wait.code >= 0)
		acctcache_set_pam(a->user, q->client, a->wait.code, a->wait.message);
	if (a->wait.code != PAM_SUCCESS)
		return pam_denial(a, a->wait.code, a->wait.message);
	return 0;
}

/* ---------------------------------------------------------------- require */

static bool names_match(char *const *names, const char *user, const char *principal)
{
	for (; names && *names; names++)
		if ((user && strcmp(*names, user) == 0) || (principal && strcmp(*names, principal) == 0))
			return true;
	return false;
}

/* require.  valid-user is an identified caller: the anonymous principal
 * (anonymous PKINIT, which FreeIPA enables by default, hands one to anybody
 * who asks the KDC) is let in only by anonymous-ok, which admits both. */
static int authorize(struct auth_state *a, const struct vdir_conf *v)
{
	struct account acc;
	bool in = false;

	switch (v->require) {
	case REQUIRE_ANONYMOUS_OK:
		return 0;
	case REQUIRE_VALID_USER:
		if (a->anonymous)
			return deny(a, 403, "require valid-user: the anonymous principal is not a "
				    "valid user");
		return 0;
	case REQUIRE_USER:
		if (names_match(v->require_names, a->user, a->principal))
			return 0;
		return deny(a, 403, "require user: %s is not listed",
			    a->principal ? a->principal : "anonymous");
	case REQUIRE_GROUP:
		if (!a->user)
			return deny(a, 403, "require group: %s has no local account",
				    a->principal ? a->principal : "anonymous");
		account_get(a->user, &acc);
		for (size_t i = 0; v->require_names[i] && !in; i++)
			in = account_in_group(&acc, v->require_gids[i]);
		account_free(&acc);
		if (in)
			return 0;
		return deny(a, 403, "require group: %s is in none of the groups", a->user);
	}
	return deny(a, 403, "require: unknown rule");
}

/* ---------------------------------------------------------------- sessions */

struct cookie_scan {
	const char *name;
	const char *vals[MAX_SESSION_COOKIES];
	size_t lens[MAX_SESSION_COOKIES];
	size_t n;
};

/* The session cookies of this vdir's name among the Cookie headers sent. */
static void scan_cookies(const struct auth_request *q, struct cookie_scan *cs)
{
	for (uint32_t i = 0; i < q->in->ncookies && cs->n < MAX_SESSION_COOKIES; i++)
		cs->n += session_cookie_values(q->in->cookies[i], cs->name, cs->vals + cs->n,
					       cs->lens + cs->n, MAX_SESSION_COOKIES - cs->n);
}

/* A cookie that did not open is logged, never shown; one made for another
 * vdir of the same name (nested paths) is not news. */
static void log_ignored(const struct auth_request *q, enum session_verdict v,
			const struct session_claims *c)
{
	const char *who = c->principal ? c->principal : "an anonymous caller";

	if (v == SESSION_OTHER_SCOPE)
		log_msg(LOG_DEBUG, "session: a cookie for another vdir, not %s", q->v->path);
	else if (v == SESSION_EXPIRED)
		log_msg(LOG_INFO, "client %s: session cookie of %s for vdir %s ignored: expired",
			q->client, who, q->v->path);
	else if (v == SESSION_FUTURE)
		log_msg(LOG_WARNING, "client %s: session cookie of %s for vdir %s ignored: %s",
			q->client, who, q->v->path, session_verdict_text(v));
	else
		log_msg(LOG_WARNING, "client %s: session cookie for vdir %s ignored: %s", q->client,
			q->v->path, session_verdict_text(v));
}

/* A cookie that did not open is deleted: the client stops sending it. */
static void ignore_cookie(struct auth_state *a, const struct auth_request *q,
			  enum session_verdict v)
{
	snprintf(a->reason, sizeof(a->reason), "no credentials (session cookie ignored: %s)",
		 session_verdict_text(v));
	add_header(a, "Set-Cookie", "%s=; Path=%s; Max-Age=0; HttpOnly%s; SameSite=%s",
		   q->v->session_cookie, q->v->path, q->tls ? "; Secure" : "",
		   samesite_name(q->v->samesite));
}

/* Until when the cookie a request brought authenticates, on the clock
 * verdicts use, and which cookie it was: a session verdict (verdict.h)
 * lasts no longer, and names it. */
static void note_cookie(struct auth_state *a, const struct session_claims *c,
			int64_t lifetime_s, const char *val, size_t len)
{
	struct timespec wall;
	int64_t left_ms;

	clock_gettime(CLOCK_REALTIME, &wall);
	left_ms = session_good_until(c, lifetime_s) * 1000 -
		  ((int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
	a->session_end_ms = left_ms > 0 ? now_ms() + (uint64_t)left_ms : 0;
	verdict_digest_bytes(val, len, a->session_digest);
}

static void take_claims(struct auth_state *a, struct session_claims *c)
{
	a->principal = c->principal;
	a->localname = c->localname;
	c->principal = c->localname = NULL;
	a->anonymous = c->anonymous;
	a->level = c->level;
	a->scheme = c->basic ? "Basic (session)" : "Negotiate (session)";
	a->by_session = true;
}

/* The caller of a session cookie, when one of those sent opens; else the
 * request counts as one without credentials (a->reason says why). */
static bool take_from_session(struct auth_state *a, const struct auth_request *q)
{
	const struct session_scope scope = { q->v->session_cookie, q->v->path };
	struct cookie_scan cs = { .name = q->v->session_cookie };
	struct session_claims c;
	enum session_verdict v, shown = SESSION_OTHER_SCOPE;
	int64_t now = time(NULL);

	if (!session_applies(q->v))
		return false;
	scan_cookies(q, &cs);
	for (size_t i = 0; i < cs.n; i++) {
		v = session_open(session_keys, &scope, cs.vals[i], cs.lens[i], now,
				 (int64_t)q->v->session_lifetime_s, &c);
		if (v == SESSION_OK) {
			log_msg(LOG_DEBUG, "session: %s authenticated by cookie for vdir %s "
				"(level %s, %lld s left)", c.principal ? c.principal : "(anonymous)",
				q->v->path, level_name(c.level), (long long)(c.expires - now));
			note_cookie(a, &c, (int64_t)q->v->session_lifetime_s, cs.vals[i], cs.lens[i]);
			take_claims(a, &c);
			return true;
		}
		log_ignored(q, v, &c);
		session_claims_free(&c);
		if (v != SESSION_OTHER_SCOPE)
			shown = v;
	}
	if (shown != SESSION_OTHER_SCOPE)
		ignore_cookie(a, q, shown);
	return false;
}

/* After a fresh authentication, the cookie that spares the client's next
 * requests the exchange: it lasts session_lifetime, never longer than the
 * credentials that made it (a Kerberos ticket's end), and it never holds
 * more than the impersonation level -- delegated credentials stay with the
 * request that brought them. */
static void issue_cookie(struct auth_state *a, const struct auth_request *q)
{
	const struct vdir_conf *v = q->v;
	const struct session_scope scope = { v->session_cookie, v->path };
	int64_t now = time(NULL), until = now + (int64_t)v->session_lifetime_s;
	struct session_claims c = {
		.principal = a->principal, .localname = a->localname, .anonymous = a->anonymous,
		.basic = strcmp(a->scheme, "Basic") == 0, .issued = now,
		.level = a->level < IDG_LEVEL_IMPERSONATION ? a->level : IDG_LEVEL_IMPERSONATION,
	};
	char why[200], *value;

	if (!a->fresh_until || !session_applies(v))
		return;
	c.expires = until = a->fresh_until < until ? a->fresh_until : until;
	if (until <= now)
		return;
	value = session_seal(session_keys, &scope, &c, why, sizeof(why));
	if (!value) {
		log_msg(LOG_INFO, "client %s: no session cookie for vdir %s: %s", q->client,
			v->path, why);
		return;
	}
	add_header(a, "Set-Cookie", "%s=%s; Path=%s; Max-Age=%lld; HttpOnly%s; "
		   "SameSite=%s", v->session_cookie, value, v->path, (long long)(until - now),
		   q->tls ? "; Secure" : "", samesite_name(v->samesite));
	free(value);
	log_msg(LOG_DEBUG, "session: cookie issued to %s for vdir %s, valid %lld s",
		a->principal ? a->principal : "(anonymous)", v->path, (long long)(until - now));
}

/* ---------------------------------------------------------------- the step */

static int start(struct auth_state *a, const struct auth_request *q)
{
	const char *h = q->in->authorization, *creds;
	enum authhdr_scheme scheme;

	if (!h) {
		if ((q->v->auth & AUTH_NEGOTIATE) && take_from_connection(a, q->ac))
			return 0;
		if (take_from_session(a, q))
			return 0;
		return challenge(a, q, M_AUTH_NO_CREDENTIALS, "no credentials");
	}
	scheme = authhdr_scheme(h, &creds);
	if (scheme == AUTHHDR_NEGOTIATE && (q->v->auth & AUTH_NEGOTIATE))
		return run_negotiate(a, q, creds);
	if (scheme == AUTHHDR_BASIC && (q->v->auth & AUTH_BASIC))
		return start_basic(a, q, creds);
	return challenge(a, q, M_AUTH_SCHEME, "authentication scheme not offered here");
}

/* The metrics' view of the result: every 0 is M_AUTH_OK, or
 * M_AUTH_SESSION by a session cookie. */
static int settle(struct auth_state *a, int st)
{
	if (st == 0)
		a->outcome = a->by_session ? M_AUTH_SESSION : M_AUTH_OK;
	return st;
}

/* The caller is established: `require`, and a session cookie after a
 * fresh authentication that passed it. */
static int finish(struct auth_state *a, const struct auth_request *q)
{
	int st;

	a->phase = PH_DONE;
	st = authorize(a, q->v);
	if (st == 0 && a->s4u_proxy != GSS_C_NO_CREDENTIAL)
		return ask_s4u_ticket(a, q);
	if (st == 0)
		issue_cookie(a, q);
	return st;
}

static int auth_step(struct auth_state *a, const struct auth_request *q)
{
	int st;

	switch (a->phase) {
	case PH_START:
		st = start(a, q);
		if (st)
			return st;
		break;
	case PH_PAM_PASS:
		if (!a->wait.answered)
			return AUTH_SUSPENDED;
		st = finish_basic(a, q);
		if (st)
			return st;
		break;
	case PH_FAIL_DELAY:
		return a->wait.answered ? a->held_status : AUTH_SUSPENDED;
	case PH_S4U: /* (no session cookie where the KDC is asked: session_applies) */
		return a->wait.answered ? take_s4u_ticket(a, q) : AUTH_SUSPENDED;
	case PH_PAM_ACCT:
		if (!a->wait.answered)
			return AUTH_SUSPENDED;
		st = finish_pam_acct(a, q);
		if (st)
			return st;
		return finish(a, q);
	default:
		return 0;
	}
	st = check_account(a, q);
	if (st)
		return st;
	return finish(a, q);
}

int auth_run(struct auth_state *a, const struct auth_request *q)
{
	return settle(a, auth_step(a, q));
}

void auth_state_free(struct auth_state *a)
{
	OM_uint32 minor;

	pamq_forget(&a->wait);
	kdcq_forget(&a->wait);
	if (a->s4u_proxy != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &a->s4u_proxy);
	if (a->s4u.blob)
		explicit_bzero(a->s4u.blob, a->s4u.len);
	free(a->s4u.blob);
	end_attempt(a, THROTTLE_ABANDONED, NULL); /* the request ended before PAM's answer */
	drop_password(a);
	free(a->principal);
	free(a->user);
	free(a->localname);
	for (int i = 0; i < a->nhdr; i++)
		free(a->hdr_value[i]);
	auth_drop_delegated(a);
	memset(a, 0, sizeof(*a));
}

void auth_conn_clear(struct auth_conn *ac)
{
	negotiate_delete_context(&ac->partial);
	free(ac->principal);
	free(ac->localname);
	memset(ac, 0, sizeof(*ac));
}
