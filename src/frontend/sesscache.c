/* sesscache.c -- see sesscache.h.  Both event loops use it: one lock,
 * held for a copy. */
#include "sesscache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct entry {
	uint32_t vdir;
	uint8_t digest[VERDICT_DIGEST_LEN];
	char *client;
	uint64_t end_ms;
	uint8_t *verdict;
	size_t len;
	struct fe_who who;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *slots[SESSCACHE_SLOTS];

/* The digest is SHA-256 of a value only the gateway's key could seal:
 * its bytes are as good as random, whoever chose the cookie. */
static struct entry **slot_of(const struct sesscache_key *k)
{
	uint32_t h;

	memcpy(&h, k->digest, sizeof(h));
	return &slots[(h ^ (k->vdir * 0x9e3779b9u)) % SESSCACHE_SLOTS];
}

void fe_who_free(struct fe_who *w)
{
	free(w->principal);
	free(w->user);
	free(w->groups_left_out);
	memset(w, 0, sizeof(*w));
}

void fe_who_copy(struct fe_who *dst, const struct fe_who *src)
{
	*dst = *src;
	dst->principal = src->principal ? xstrdup(src->principal) : NULL;
	dst->user = src->user ? xstrdup(src->user) : NULL;
	dst->groups_left_out = xstrdup(src->groups_left_out ? src->groups_left_out : "");
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	free(e->verdict);
	free(e->client);
	fe_who_free(&e->who);
	free(e);
}

void sesscache_put(const struct sesscache_key *k, const uint8_t *verdict, size_t len,
		   uint64_t end_ms, const struct fe_who *who)
{
	struct entry *e = xcalloc(1, sizeof(*e)), *old;
	struct entry **s = slot_of(k);

	e->vdir = k->vdir;
	memcpy(e->digest, k->digest, VERDICT_DIGEST_LEN);
	e->client = xstrdup(k->client);
	e->end_ms = end_ms;
	e->verdict = xmemdup(verdict, len);
	e->len = len;
	fe_who_copy(&e->who, who);
	pthread_mutex_lock(&lock);
	old = *s;
	*s = e;
	pthread_mutex_unlock(&lock);
	entry_free(old);
}

static bool entry_is(const struct entry *e, const struct sesscache_key *k)
{
	return e && e->vdir == k->vdir &&
	       memcmp(e->digest, k->digest, VERDICT_DIGEST_LEN) == 0 &&
	       strcmp(e->client, k->client) == 0;
}

bool sesscache_get(const struct sesscache_key *k, uint64_t now, uint8_t **verdict,
		   size_t *len, struct fe_who *who)
{
	struct entry **s = slot_of(k), *gone = NULL;
	bool found = false;

	pthread_mutex_lock(&lock);
	if (entry_is(*s, k)) {
		if (now >= (*s)->end_ms) {
			gone = *s; /* expired: it never serves again */
			*s = NULL;
		} else {
			*verdict = xmemdup((*s)->verdict, (*s)->len);
			*len = (*s)->len;
			fe_who_copy(who, &(*s)->who);
			found = true;
		}
	}
	pthread_mutex_unlock(&lock);
	entry_free(gone);
	return found;
}

void sesscache_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SESSCACHE_SLOTS; i++) {
		entry_free(slots[i]);
		slots[i] = NULL;
	}
	pthread_mutex_unlock(&lock);
}
