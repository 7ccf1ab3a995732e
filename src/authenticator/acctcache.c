/* acctcache.c -- two small hash tables under one mutex, accounts by name
 * and PAM results by name and client address; entries expire after the
 * TTL and are overwritten on collision (a cache, not a directory). */
#include "acctcache.h"

#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idpolicy.h"
#include "privsep.h"
#include "util.h"

#define SLOTS 1024

struct entry {
	char name[72];
	uint64_t expires_ms;
	struct account a;
};

struct pam_entry {
	char name[72];
	char rhost[64];
	uint64_t expires_ms;
	int code;
	char msg[160];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry table[SLOTS];
static struct pam_entry pam_table[SLOTS];
static uint64_t ttl;
static const struct id_policy *policy;

void acctcache_init(uint64_t ttl_ms, const struct id_policy *ids)
{
	ttl = ttl_ms;
	policy = ids;
}

/* Named now, once per lookup: the audit line of every impersonated
 * request says which groups its handler does not have. */
static void note_left_out(struct account *a)
{
	gid_t *copy;

	if (!policy || !a->ngroups)
		return;
	copy = xcalloc(a->ngroups, sizeof(*copy));
	memcpy(copy, a->groups, a->ngroups * sizeof(*copy));
	idpol_filter_groups(policy, copy, a->ngroups, a->groups_left_out,
			    sizeof(a->groups_left_out));
	free(copy);
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

static size_t slot_of(const char *name)
{
	return (size_t)(fnv1a(1469598103934665603ull, name) % SLOTS);
}

/* name, a separator no name has, then the address */
static size_t pam_slot_of(const char *name, const char *rhost)
{
	return (size_t)(fnv1a(fnv1a(fnv1a(1469598103934665603ull, name), "\n"), rhost) % SLOTS);
}

static void copy_account(struct account *to, const struct account *from)
{
	*to = *from;
	to->groups = NULL;
	if (from->ngroups) {
		to->groups = xcalloc(from->ngroups, sizeof(gid_t));
		memcpy(to->groups, from->groups, from->ngroups * sizeof(gid_t));
	}
}

void account_free(struct account *a)
{
	free(a->groups);
	memset(a, 0, sizeof(*a));
}

static void lookup(const char *name, struct account *a)
{
	struct passwd pw, *res = NULL;
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	char *buf;

	memset(a, 0, sizeof(*a));
	if (size < 16384)
		size = 16384;
	buf = xmalloc((size_t)size);
	if (getpwnam_r(name, &pw, buf, (size_t)size, &res) == 0 && res) {
		a->exists = true;
		a->uid = pw.pw_uid;
		a->gid = pw.pw_gid;
		if (privsep_user_groups(name, pw.pw_gid, &a->groups, &a->ngroups) < 0) {
			a->groups = NULL;
			a->ngroups = 0;
		}
		note_left_out(a);
	}
	free(buf);
}

void account_get(const char *name, struct account *out)
{
	struct entry *e = &table[slot_of(name)];
	uint64_t now = now_ms();
	struct account fresh;

	pthread_mutex_lock(&lock);
	if (ttl && strcmp(e->name, name) == 0 && now < e->expires_ms) {
		copy_account(out, &e->a);
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);
	lookup(name, &fresh); /* NSS may be slow: not under the lock */
	copy_account(out, &fresh);
	if (!ttl || strlen(name) >= sizeof(e->name)) {
		account_free(&fresh);
		return;
	}
	pthread_mutex_lock(&lock);
	account_free(&e->a);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->expires_ms = now + ttl;
	e->a = fresh;
	pthread_mutex_unlock(&lock);
}

bool acctcache_get_pam(const char *name, const char *rhost, int *code, char *msg, size_t len)
{
	struct pam_entry *e = &pam_table[pam_slot_of(name, rhost)];
	bool hit;

	pthread_mutex_lock(&lock);
	hit = ttl && strcmp(e->name, name) == 0 && strcmp(e->rhost, rhost) == 0 &&
	      now_ms() < e->expires_ms;
	if (hit) {
		*code = e->code;
		snprintf(msg, len, "%s", e->msg);
	}
	pthread_mutex_unlock(&lock);
	return hit;
}

void acctcache_set_pam(const char *name, const char *rhost, int code, const char *msg)
{
	struct pam_entry *e = &pam_table[pam_slot_of(name, rhost)];

	if (!ttl || strlen(name) >= sizeof(e->name) || strlen(rhost) >= sizeof(e->rhost))
		return;
	pthread_mutex_lock(&lock);
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->rhost, sizeof(e->rhost), "%s", rhost);
	e->expires_ms = now_ms() + ttl;
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	pthread_mutex_unlock(&lock);
}

bool account_in_group(const struct account *a, gid_t gid)
{
	for (size_t i = 0; i < a->ngroups; i++)
		if (a->groups[i] == gid)
			return true;
	return false;
}
