/* trust.c -- see trust.h.
 *
 * Once only: every request verdict's id is remembered until it expires.
 * Two sets take turns: ids go into the current one, and every
 * VERDICT_REQUEST_TTL_MS the older set is emptied and becomes current --
 * anything only it held has expired by then, and is refused for that
 * alone.  So memory is bounded by what can arrive in two lifetimes. */
#include "trust.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "levels.h"
#include "log.h"
#include "util.h"

struct idset {
	uint8_t (*ids)[VERDICT_ID_LEN]; /* all zeros: a free slot */
	size_t cap, n;                  /* cap a power of two, n < cap / 2 */
};

static struct {
	uint8_t key[VERDICT_KEY_LEN];
	uint64_t started_ms;
	uint64_t *taken; /* shared with the pool's workers and the supervisor, or NULL */
	pthread_mutex_t lock;
	struct idset sets[2];
	unsigned cur;
	uint64_t turned_ms;
} T = { .lock = PTHREAD_MUTEX_INITIALIZER };

void trust_init(const uint8_t key[VERDICT_KEY_LEN], uint64_t started_ms, uint64_t *taken)
{
	memcpy(T.key, key, VERDICT_KEY_LEN);
	T.started_ms = started_ms;
	T.turned_ms = started_ms;
	T.taken = taken;
}

/* A request verdict made at `issued` is taken: the pool's mark rises to
 * it (trust.h), before anything is done on its word. */
static void note_taken(uint64_t issued)
{
	uint64_t seen;

	if (!T.taken)
		return;
	seen = __atomic_load_n(T.taken, __ATOMIC_ACQUIRE);
	while (seen < issued && !__atomic_compare_exchange_n(T.taken, &seen, issued, false,
							     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

/* ---------------------------------------------------------------- seen ids */

static bool id_is_zero(const uint8_t *id)
{
	static const uint8_t zero[VERDICT_ID_LEN];
	return memcmp(id, zero, VERDICT_ID_LEN) == 0;
}

static size_t slot_of(const struct idset *s, const uint8_t *id)
{
	uint64_t h;

	memcpy(&h, id, sizeof(h)); /* random bytes: a hash already */
	return (size_t)h & (s->cap - 1);
}

/* true when it was there already; else it is now */
static bool idset_add(struct idset *s, const uint8_t *id, bool insert);

static void idset_grow(struct idset *s)
{
	struct idset bigger = { .cap = s->cap ? s->cap * 2 : 1024 };

	bigger.ids = xcalloc(bigger.cap, VERDICT_ID_LEN);
	for (size_t i = 0; i < s->cap; i++)
		if (!id_is_zero(s->ids[i]))
			idset_add(&bigger, s->ids[i], true);
	free(s->ids);
	*s = bigger;
}

static bool idset_add(struct idset *s, const uint8_t *id, bool insert)
{
	size_t i;

	if (insert && (s->n + 1) * 2 > s->cap)
		idset_grow(s);
	if (!s->cap)
		return false;
	for (i = slot_of(s, id); !id_is_zero(s->ids[i]); i = (i + 1) & (s->cap - 1))
		if (memcmp(s->ids[i], id, VERDICT_ID_LEN) == 0)
			return true;
	if (insert) {
		memcpy(s->ids[i], id, VERDICT_ID_LEN);
		s->n++;
	}
	return false;
}

static void turn_sets(uint64_t now)
{
	while (now - T.turned_ms >= VERDICT_REQUEST_TTL_MS) {
		struct idset *old = &T.sets[T.cur ^ 1];
		free(old->ids);
		memset(old, 0, sizeof(*old));
		T.cur ^= 1;
		T.turned_ms += VERDICT_REQUEST_TTL_MS;
	}
}

/* true the first time an id is seen; never again */
static bool first_use(const uint8_t *id, uint64_t now)
{
	bool seen;

	if (id_is_zero(id))
		return false;
	pthread_mutex_lock(&T.lock);
	turn_sets(now);
	seen = idset_add(&T.sets[T.cur ^ 1], id, false) || idset_add(&T.sets[T.cur], id, true);
	pthread_mutex_unlock(&T.lock);
	return !seen;
}

/* ---------------------------------------------------------------- bindings */

static int refuse(char *why, size_t len, const char *what)
{
	snprintf(why, len, "verdict refused: %s", what);
	return -1;
}

static int check_request_binding(const struct verdict *v, const struct wire_req *q,
				 uint64_t now, char *why, size_t len)
{
	if (strcmp(v->request_id, q->request_id) != 0)
		return refuse(why, len, "made for another request");
	if (strcmp(v->method, q->method) != 0 || strcmp(v->path, q->path) != 0)
		return refuse(why, len, "made for another method or path");
	if (memcmp(v->authz_digest, q->authz_digest, VERDICT_DIGEST_LEN) != 0)
		return refuse(why, len, "made for other credentials");
	if (v->issued_ms < T.started_ms)
		return refuse(why, len, "made before this worker started");
	if (!first_use(v->id, now))
		return refuse(why, len, "used before (a replay)");
	note_taken(v->issued_ms);
	return 0;
}

static int check_binding(const struct verdict *v, const struct wire_req *q, char *why,
			 size_t len)
{
	uint64_t now = now_ms();

	if (v->vdir != q->vdir)
		return refuse(why, len, "made for another vdir");
	if (now >= v->expires_ms)
		return refuse(why, len, "expired");
	if (v->kind == VERDICT_CONNECTION)
		return v->conn_id == q->conn_id ? 0 : refuse(why, len, "made for another "
							     "connection");
	if (v->kind == VERDICT_SESSION) /* the head names the cookie it came with */
		return memcmp(v->authz_digest, q->authz_digest, VERDICT_DIGEST_LEN) == 0
			? 0 : refuse(why, len, "made for another session cookie");
	return check_request_binding(v, q, now, why, len);
}

/* ---------------------------------------------------------------- the caller */

static void take_caller(struct wire_req *q, const struct verdict *v)
{
	if (v->level < q->level)
		q->level = v->level; /* the header may lower it, nobody may raise it */
	q->auth_type = v->auth_type;
	if (q->level == IDG_LEVEL_ANONYMOUS) /* the handler is not told who it is */
		return;
	q->principal = v->principal;
	q->user = v->user;
	q->uid = v->uid;
	q->gid = v->gid;
}

/* The front end decided whether to run as the caller; we check that it
 * decided as SPEC's table says for who the verdict names. */
static int check_impersonation(const struct wire_req *q, const struct vdir_conf *v, char *why,
			       size_t len)
{
	enum run_as dec = level_decide(v->impersonate, (int)q->level, q->user != NULL);

	if (dec == REFUSE_LEVEL || dec == REFUSE_NO_ACCOUNT)
		return refuse(why, len, "the vdir refuses this caller at this level");
	if ((dec == RUN_AS_CALLER) != (q->impersonate != 0))
		return refuse(why, len, "the front end's run-as disagrees with the caller's level");
	return 0;
}

static void take_credentials(struct wire_req *q, const struct vdir_conf *v,
			     const struct verdict *vd)
{
	if (vd->creds && vdir_takes_credentials(v, (int)q->level, q->impersonate)) {
		q->creds = vd->creds;
		q->creds_len = vd->creds_len;
	} else if (vd->creds) {
		explicit_bzero((void *)vd->creds, vd->creds_len);
	}
}

int trust_check(struct wire_req *q, const struct vdir_conf *v, uint8_t *plain, char *why,
		size_t len)
{
	struct verdict vd;
	char what[200];

	q->principal = q->user = NULL;
	q->uid = q->gid = (uint32_t)-1;
	q->auth_type = W_AUTH_NONE;
	q->creds = NULL;
	q->creds_len = 0;
	if (!v->auth) {
		if (q->verdict)
			return refuse(why, len, "a verdict for a vdir that does not authenticate");
		return check_impersonation(q, v, why, len);
	}
	if (!q->verdict)
		return refuse(why, len, "none came with the request");
	if (verdict_open(T.key, q->verdict, q->verdict_len, plain, &vd, what, sizeof(what)) < 0)
		return refuse(why, len, what);
	if (check_binding(&vd, q, why, len) < 0)
		return -1;
	take_caller(q, &vd);
	if (check_impersonation(q, v, why, len) < 0)
		return -1;
	take_credentials(q, v, &vd);
	return 0;
}
