/* feauth.h -- the front end's part in authentication: it passes a
 * request's credentials to the authenticator (authn.h) and takes back
 * what to tell the client, who the caller is (for its logs and its early
 * refusals), and the sealed verdict it hands the worker.  It holds no key
 * and decides nobody's identity: a worker acts only on the verdict.
 *
 * With connection_auth, a connection keeps the last connection verdict
 * (for one vdir, until it ends): later requests of that connection to that
 * vdir without credentials use it without asking again.  A session
 * cookie's verdict is kept for every connection (sesscache.h). */
#ifndef IDGATE_FEAUTH_H
#define IDGATE_FEAUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "challenge.h"
#include "authn.h"
#include "sesscache.h"
#include "verdict.h"

struct MHD_Connection;
struct vdir_conf;
struct config;

#define FEAUTH_SUSPENDED (-1)

/* Per connection (libmicrohttpd's socket context). */
struct fe_conn {
	uint64_t id;              /* unique in this front end's life */
	bool told;                /* the authenticator may remember it */
	uint8_t *cv;              /* connection verdict, or NULL */
	size_t cv_len;
	uint32_t cv_vdir;
	uint64_t cv_end;          /* now_ms() clock */
	struct fe_who who;        /* whom cv names */
};

struct fe_auth {
	struct authn_wait wait;
	bool asked;
	/* the result */
	const char *principal, *user; /* NULL: anonymous / no account */
	uid_t uid;
	gid_t gid;
	int level;                /* enum idg_level, lowered by the header after */
	bool anonymous;
	const char *scheme;       /* "Negotiate", "Basic (session)"..., NULL */
	const char *groups_left_out;
	int outcome;              /* enum m_auth */
	const char *reason;
	/* headers for the client: challenges, the mutual token, Set-Cookie */
	char *const *hdr_name, *const *hdr_value;
	int nhdr;
	/* for the worker */
	const uint8_t *verdict;
	size_t verdict_len;
	uint8_t authz_digest[VERDICT_DIGEST_LEN];
	uint8_t *verdict_copy;    /* a kept verdict, copied for this request */
	struct fe_who who_copy;   /* whom a session cookie's kept verdict names */
	/* the headers of a challenge made here (challenge_here) */
	char *own_name[CHALLENGE_MAX], *own_value[CHALLENGE_MAX];
};

struct fe_auth_request {
	struct MHD_Connection *conn;
	struct fe_conn *fc;
	const struct vdir_conf *v;
	bool tls;
	const char *client, *request_id, *method, *path;
};

void feauth_init(const struct config *c);
/* 0 when the caller is established and authorized; FEAUTH_SUSPENDED
 * (call again when the connection resumes); or the status to answer, with
 * a->reason and the headers set. */
int feauth_run(struct fe_auth *a, const struct fe_auth_request *q);
void feauth_free(struct fe_auth *a);
struct fe_conn *feauth_conn_new(void);
void feauth_conn_free(struct fe_conn *fc);
/* A Cookie header without the session cookies of any vdir: NULL when it
 * has none, else a new string ("" when nothing is left). */
char *feauth_strip_session_cookies(const char *cookie);

#endif
