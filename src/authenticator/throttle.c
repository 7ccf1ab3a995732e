/* throttle.c -- see throttle.h.  Two set-associative tables (addresses,
 * accounts) under one mutex; every call holds it for a few compares. */
#include "throttle.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define SETS 512
#define WAYS 4

struct entry {
	uint64_t hash;          /* 0: free */
	char key[72];
	uint32_t failures, pending;
	uint64_t last_fail_ms;
};

struct table {
	unsigned limit;
	struct entry e[SETS][WAYS];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct table addrs = { .limit = THROTTLE_ADDR_LIMIT };
static struct table accts = { .limit = THROTTLE_ACCT_LIMIT };
static uint64_t seed = 1469598103934665603ull;

void throttle_init(void)
{
	uint64_t s;

	pthread_mutex_lock(&lock);
	memset(addrs.e, 0, sizeof(addrs.e));
	memset(accts.e, 0, sizeof(accts.e));
	if (getrandom(&s, sizeof(s), 0) == sizeof(s))
		seed ^= s;
	pthread_mutex_unlock(&lock);
}

uint64_t throttle_lock_ms(unsigned failures, unsigned limit)
{
	unsigned shift;

	if (failures < limit)
		return 0;
	shift = failures - limit;
	if (shift >= 16) /* far past the cap: no overflow */
		return THROTTLE_LOCK_MAX_MS;
	uint64_t ms = (uint64_t)THROTTLE_LOCK_MS << shift;
	return ms < THROTTLE_LOCK_MAX_MS ? ms : THROTTLE_LOCK_MAX_MS;
}

static uint64_t hash_of(const char *key)
{
	uint64_t h = seed; /* FNV-1a from a random basis */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h ? h : 1;
}

/* The key of an address: IPv4 as it is, IPv6 as its /64. */
static void address_key(const char *addr, char *out, size_t len)
{
	struct in6_addr a6;
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, addr, &a6) == 1 && !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(a6.s6_addr + 8, 0, 8);
		if (inet_ntop(AF_INET6, &a6, text, sizeof(text))) {
			snprintf(out, len, "%s/64", text);
			return;
		}
	}
	snprintf(out, len, "%s", addr);
}

static void forget_if_old(struct entry *e, uint64_t now)
{
	if (e->failures && now - e->last_fail_ms >= THROTTLE_FORGET_MS)
		e->failures = 0;
}

/* Which of two entries to give up first: one without attempts in flight,
 * then the one whose last failure is older. */
static bool sooner_given_up(const struct entry *e, const struct entry *than)
{
	if ((e->pending == 0) != (than->pending == 0))
		return e->pending == 0;
	return e->last_fail_ms < than->last_fail_ms;
}

/* An entry of the set that may be given to a new key: a free one, one
 * with nothing to remember, else the one sooner_given_up. */
static struct entry *victim(struct entry *set, uint64_t now)
{
	struct entry *best = &set[0];

	for (int w = 0; w < WAYS; w++) {
		struct entry *e = &set[w];
		forget_if_old(e, now);
		if (!e->hash || (!e->failures && !e->pending))
			return e;
		if (sooner_given_up(e, best))
			best = e;
	}
	return best;
}

/* The entry of `key`; with `create`, made if missing.  NULL otherwise. */
static struct entry *find(struct table *t, const char *key, bool create, uint64_t now)
{
	uint64_t h = hash_of(key);
	struct entry *set = t->e[h % SETS];

	for (int w = 0; w < WAYS; w++) {
		if (set[w].hash == h && strcmp(set[w].key, key) == 0) {
			forget_if_old(&set[w], now);
			return &set[w];
		}
	}
	if (!create)
		return NULL;
	struct entry *e = victim(set, now);
	memset(e, 0, sizeof(*e));
	e->hash = h;
	snprintf(e->key, sizeof(e->key), "%s", key);
	return e;
}

/* Whether `e` refuses an attempt now; if so, the verdict says why. */
static bool refuses(const struct table *t, const struct entry *e, uint64_t now,
		    struct throttle_verdict *v)
{
	uint64_t lock_ms = throttle_lock_ms(e->failures, t->limit);
	uint64_t until = e->last_fail_ms + lock_ms;
	unsigned room = e->failures < t->limit ? t->limit - e->failures : 1;

	if (lock_ms && now < until) {
		v->retry_after_s = (unsigned)((until - now + 999) / 1000);
	} else if (e->pending >= room) {
		v->in_flight = 1; /* the answers in flight decide: soon */
		v->retry_after_s = 1;
	} else {
		return false;
	}
	v->failures = e->failures;
	v->lock_s = (unsigned)(lock_ms / 1000);
	snprintf(v->key, sizeof(v->key), "%s", e->key);
	return true;
}

void throttle_begin(const char *addr, const char *user, uint64_t now_ms,
		    struct throttle_verdict *v)
{
	char akey[72];
	struct entry *a, *u;

	memset(v, 0, sizeof(*v));
	address_key(addr, akey, sizeof(akey));
	pthread_mutex_lock(&lock);
	a = find(&addrs, akey, true, now_ms);
	u = find(&accts, user, true, now_ms);
	if (refuses(&addrs, a, now_ms, v))
		v->by = THROTTLE_BY_ADDRESS;
	else if (refuses(&accts, u, now_ms, v))
		v->by = THROTTLE_BY_ACCOUNT;
	else {
		a->pending++;
		u->pending++;
	}
	pthread_mutex_unlock(&lock);
}

/* One side of an attempt's end; the failure count after it. */
static unsigned end_one(struct table *t, const char *key, enum throttle_result r,
			uint64_t now, unsigned *lock_s)
{
	struct entry *e = find(t, key, r == THROTTLE_FAILED, now);

	*lock_s = 0;
	if (!e)
		return 0;
	if (e->pending) /* (0 if the entry was taken over meanwhile) */
		e->pending--;
	if (r == THROTTLE_OK && t == &accts)
		e->failures = 0;
	if (r != THROTTLE_FAILED)
		return e->failures;
	e->failures++;
	e->last_fail_ms = now;
	*lock_s = (unsigned)(throttle_lock_ms(e->failures, t->limit) / 1000);
	return e->failures;
}

void throttle_end(const char *addr, const char *user, enum throttle_result r, uint64_t now_ms,
		  struct throttle_counts *out)
{
	struct throttle_counts c;

	memset(&c, 0, sizeof(c));
	address_key(addr, c.addr_key, sizeof(c.addr_key));
	pthread_mutex_lock(&lock);
	c.addr_failures = end_one(&addrs, c.addr_key, r, now_ms, &c.addr_lock_s);
	c.acct_failures = end_one(&accts, user, r, now_ms, &c.acct_lock_s);
	pthread_mutex_unlock(&lock);
	if (out)
		*out = c;
}
