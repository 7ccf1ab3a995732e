/* nsscache.c -- the account lookups of a fuzz target, answered once per
 * name or id (linked into fuzz_config only: fuzz.mk).
 *
 * Every configuration that loads looks its users and groups up: [server]
 * user, the authenticator's, each pool's, impersonate_groups, require
 * group.  Through NSS each lookup reads /etc/passwd or /etc/group and asks
 * systemd's userdb (a dozen directories searched): a third of fuzz_config's
 * time went there, none of it in idgate's code.  These definitions take
 * the place of libc's (and of ASan's interceptors, which only mark libc's
 * answers as initialised) and give the answer NSS gave the first time --
 * the accounts do not change while a target runs, so the parser gets the
 * very same answers, found or not.  The table is small and direct-mapped:
 * a fuzzer's made-up names replace each other, and an entry that does not
 * fit is asked from NSS every time. */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define SLOTS 256
#define ENTRY_BUF 4096 /* an account whose record is longer is not kept */

enum kind { PW_NAM, PW_UID, GR_NAM, GR_GID };

struct entry {
	bool used, found;
	enum kind kind;
	char key[64]; /* a name, or an id in decimal */
	union {
		struct passwd pw;
		struct group gr;
	} u;
	char buf[ENTRY_BUF];
};

static struct entry table[SLOTS];

typedef int (*pwnam_fn)(const char *, struct passwd *, char *, size_t, struct passwd **);
typedef int (*pwuid_fn)(uid_t, struct passwd *, char *, size_t, struct passwd **);
typedef int (*grnam_fn)(const char *, struct group *, char *, size_t, struct group **);
typedef int (*grgid_fn)(gid_t, struct group *, char *, size_t, struct group **);

/* libc's own, found past this executable */
static struct {
	pwnam_fn pwnam;
	pwuid_fn pwuid;
	grnam_fn grnam;
	grgid_fn grgid;
} libc;

static void *next_definition(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f)
		fz_fail("nsscache: no %s in libc", name);
	return f;
}

static void find_libc(void)
{
	if (libc.pwnam)
		return;
	libc.pwnam = (pwnam_fn)next_definition("getpwnam_r");
	libc.pwuid = (pwuid_fn)next_definition("getpwuid_r");
	libc.grnam = (grnam_fn)next_definition("getgrnam_r");
	libc.grgid = (grgid_fn)next_definition("getgrgid_r");
}

static struct entry *slot(enum kind kind, const char *key)
{
	uint32_t h = 2166136261u + (uint32_t)kind;

	for (const char *c = key; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return &table[h % SLOTS];
}

/* libc's reentrant lookup for `kind`: 0 (*res NULL: none) or an errno. */
static int ask_libc(enum kind kind, const char *name, unsigned id, void *dst, char *buf,
		    size_t len, void **res)
{
	switch (kind) {
	case PW_NAM:
		return libc.pwnam(name, dst, buf, len, (struct passwd **)res);
	case PW_UID:
		return libc.pwuid((uid_t)id, dst, buf, len, (struct passwd **)res);
	case GR_NAM:
		return libc.grnam(name, dst, buf, len, (struct group **)res);
	default:
		return libc.grgid((gid_t)id, dst, buf, len, (struct group **)res);
	}
}

/* Ask NSS into e (bool: kept). */
static bool ask_nss(struct entry *e, enum kind kind, const char *name, unsigned id)
{
	void *res = NULL;
	int rc = ask_libc(kind, name, id, &e->u, e->buf, sizeof(e->buf), &res);

	if (rc != 0 && rc != ENOENT && rc != ESRCH)
		return false; /* ERANGE, EIO, ...: not kept, asked again next time */
	e->found = res != NULL;
	return true;
}

/* The entry for a lookup, NULL when it cannot be kept (then NSS answers). */
static struct entry *lookup(enum kind kind, const char *name, unsigned id)
{
	char key[sizeof(table[0].key)];
	struct entry *e;

	find_libc();
	if (name && strlen(name) >= sizeof(key))
		return NULL;
	if (name)
		snprintf(key, sizeof(key), "%s", name);
	else
		snprintf(key, sizeof(key), "%u", id);
	e = slot(kind, key);
	if (e->used && e->kind == kind && strcmp(e->key, key) == 0)
		return e;
	e->used = false;
	if (!ask_nss(e, kind, name, id))
		return NULL;
	e->used = true;
	e->kind = kind;
	memcpy(e->key, key, sizeof(key));
	return e;
}

/* ---------------------------------------------------------------- copies */

/* Copy s into the caller's buffer at *at (NULL when it does not fit). */
static char *put(const char *s, char **at, size_t *left)
{
	size_t n = strlen(s) + 1;
	char *r = *at;

	if (n > *left)
		return NULL;
	memcpy(r, s, n);
	*at += n;
	*left -= n;
	return r;
}

static int copy_pw(const struct passwd *src, struct passwd *dst, char *buf, size_t len)
{
	char *at = buf;

	*dst = *src;
	if (!(dst->pw_name = put(src->pw_name, &at, &len)) ||
	    !(dst->pw_passwd = put(src->pw_passwd, &at, &len)) ||
	    !(dst->pw_gecos = put(src->pw_gecos, &at, &len)) ||
	    !(dst->pw_dir = put(src->pw_dir, &at, &len)) ||
	    !(dst->pw_shell = put(src->pw_shell, &at, &len)))
		return ERANGE;
	return 0;
}

static int copy_gr(const struct group *src, struct group *dst, char *buf, size_t len)
{
	size_t nmem = 0, align = (uintptr_t)buf % sizeof(char *);
	char *at;

	while (src->gr_mem[nmem])
		nmem++;
	if (align)
		align = sizeof(char *) - align;
	if (len < align + (nmem + 1) * sizeof(char *))
		return ERANGE;
	*dst = *src;
	dst->gr_mem = (char **)(void *)(buf + align);
	at = buf + align + (nmem + 1) * sizeof(char *);
	len -= align + (nmem + 1) * sizeof(char *);
	if (!(dst->gr_name = put(src->gr_name, &at, &len)) ||
	    !(dst->gr_passwd = put(src->gr_passwd, &at, &len)))
		return ERANGE;
	for (size_t i = 0; i < nmem; i++)
		if (!(dst->gr_mem[i] = put(src->gr_mem[i], &at, &len)))
			return ERANGE;
	dst->gr_mem[nmem] = NULL;
	return 0;
}

/* ---------------------------------------------------------------- libc's names */

/* What libc's reentrant function answers, from the table where it can. */
static int answer(enum kind kind, const char *name, unsigned id, void *dst, char *buf,
		  size_t len, void **res)
{
	struct entry *e = lookup(kind, name, id);
	int rc;

	*res = NULL;
	if (!e)
		return ask_libc(kind, name, id, dst, buf, len, res);
	if (!e->found)
		return 0;
	if (kind == PW_NAM || kind == PW_UID)
		rc = copy_pw(&e->u.pw, dst, buf, len);
	else
		rc = copy_gr(&e->u.gr, dst, buf, len);
	if (rc == 0)
		*res = dst;
	return rc;
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	return answer(PW_NAM, name, 0, pw, buf, len, (void **)res);
}

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	return answer(PW_UID, NULL, (unsigned)uid, pw, buf, len, (void **)res);
}

int getgrnam_r(const char *name, struct group *gr, char *buf, size_t len, struct group **res)
{
	return answer(GR_NAM, name, 0, gr, buf, len, (void **)res);
}

int getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, struct group **res)
{
	return answer(GR_GID, NULL, (unsigned)gid, gr, buf, len, (void **)res);
}

/* The non-reentrant ones: static storage as libc's, one for accounts and
 * one for groups (owner_name() holds one of each). */
static void *answer_static(enum kind kind, const char *name, unsigned id)
{
	static struct {
		union {
			struct passwd pw;
			struct group gr;
		} u;
		char buf[ENTRY_BUF];
	} store[2];
	int which = kind == PW_NAM || kind == PW_UID ? 0 : 1;
	void *r;

	errno = answer(kind, name, id, &store[which].u, store[which].buf, ENTRY_BUF, &r);
	return r;
}

struct passwd *getpwnam(const char *name)
{
	return answer_static(PW_NAM, name, 0);
}

struct passwd *getpwuid(uid_t uid)
{
	return answer_static(PW_UID, NULL, (unsigned)uid);
}

struct group *getgrnam(const char *name)
{
	return answer_static(GR_NAM, name, 0);
}

struct group *getgrgid(gid_t gid)
{
	return answer_static(GR_GID, NULL, (unsigned)gid);
}
