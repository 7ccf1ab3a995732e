/* session.c -- session cookies: the key file, sealing and opening, and the
 * Cookie header (session.h). */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "idgate/module.h"
#include "util.h"
#include "wire.h"

#define COOKIE_VERSION 1
#define KEY_ID_LEN 4
#define SCOPE_ID_LEN 4
#define NONCE_LEN 12
#define TAG_LEN 16
#define AEAD_KEY_LEN 32
#define HEAD_LEN (1 + KEY_ID_LEN + SCOPE_ID_LEN + NONCE_LEN)
#define AT_KEY_ID 1
#define AT_SCOPE_ID (AT_KEY_ID + KEY_ID_LEN)
#define AT_NONCE (AT_SCOPE_ID + SCOPE_ID_LEN)
#define FIXED_LEN (1 + 1 + 8 + 8 + 2 + 2) /* the plaintext but its strings */
#define PLAIN_MAX (FIXED_LEN + SESSION_PRINCIPAL_MAX + SESSION_LOCALNAME_MAX)
#define RAW_MAX (HEAD_LEN + PLAIN_MAX + TAG_LEN)
#define FLAG_ANONYMOUS 1u
#define FLAG_BASIC 2u
#define TIME_MAX ((int64_t)1 << 40) /* no cookie lives beyond year 36812 */

_Static_assert((RAW_MAX + 2) / 3 * 4 <= SESSION_VALUE_MAX,
	       "the largest cookie we make must be one we open");

struct session_key {
	uint8_t aead[AEAD_KEY_LEN];
	uint8_t id[KEY_ID_LEN];
};

struct session_keys {
	size_t n;
	struct session_key k[SESSION_MAX_KEYS];
};

/* ---------------------------------------------------------------- keys */

/* The cipher's key and the key's public id, both from HKDF-SHA256 of the
 * key file's bytes: the id says nothing about the key, and the bytes of
 * the file are used for nothing else. */
static int derive(const uint8_t *material, size_t n, struct session_key *out)
{
	static const char salt[] = "idgate session cookie v1";
	uint8_t prk[32];
	gnutls_datum_t ikm = { (unsigned char *)material, (unsigned)n };
	gnutls_datum_t s = { (unsigned char *)salt, sizeof(salt) - 1 };
	gnutls_datum_t p = { prk, sizeof(prk) };
	gnutls_datum_t info_key = { (unsigned char *)"aead key", 8 };
	gnutls_datum_t info_id = { (unsigned char *)"key id", 6 };
	int rc;

	rc = gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &s, prk);
	if (rc == 0)
		rc = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &p, &info_key, out->aead, AEAD_KEY_LEN);
	if (rc == 0)
		rc = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &p, &info_id, out->id, KEY_ID_LEN);
	explicit_bzero(prk, sizeof(prk));
	return rc == 0 ? 0 : -1;
}

/* One key line, trimmed: 64 to 128 hex digits into key.  Its length in
 * bytes, or -1. */
static int decode_key(const char *s, size_t n, uint8_t *key)
{
	if (n % 2 || n < 2 * SESSION_KEY_MIN || n > 2 * SESSION_KEY_MAX)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

/* One line of the file.  0 (a key added, or nothing on it), or -1 with
 * why; the line's text is never quoted: it may be a key with a typo. */
static int take_line(struct session_keys *k, const char *s, size_t n, unsigned line, char *why,
		     size_t len)
{
	uint8_t key[SESSION_KEY_MAX];
	int klen, rc = -1;

	while (n && strchr(" \t\r", s[n - 1]))
		n--;
	while (n && strchr(" \t", *s)) {
		s++;
		n--;
	}
	if (n == 0 || *s == '#')
		return 0;
	klen = decode_key(s, n, key);
	if (klen < 0)
		snprintf(why, len, "line %u: not a key: expected %d to %d hexadecimal digits "
			 "(e.g. the output of openssl rand -hex 32)", line, 2 * SESSION_KEY_MIN,
			 2 * SESSION_KEY_MAX);
	else if (k->n == SESSION_MAX_KEYS)
		snprintf(why, len, "line %u: more than %d keys", line, SESSION_MAX_KEYS);
	else if (derive(key, (size_t)klen, &k->k[k->n]) < 0)
		snprintf(why, len, "line %u: GnuTLS cannot derive a key from it", line);
	else {
		k->n++;
		rc = 0;
	}
	explicit_bzero(key, sizeof(key));
	return rc;
}

struct session_keys *session_keys_parse(const char *text, size_t n, char *why, size_t len)
{
	struct session_keys *k = xcalloc(1, sizeof(*k));
	const char *p = text, *end = text + n;
	unsigned line = 0;

	if (memchr(text, '\0', n)) {
		snprintf(why, len, "contains a NUL byte: not a key file");
		goto bad;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		if (take_line(k, p, (size_t)(e - p), ++line, why, len) < 0)
			goto bad;
		p = e + 1;
	}
	if (k->n == 0) {
		snprintf(why, len, "no key in it (one per line, e.g. from openssl rand -hex 32)");
		goto bad;
	}
	return k;
bad:
	session_keys_free(k);
	return NULL;
}

/* The file may hold the keys only if nobody but its owner, root (or the
 * user idgated runs as, when not root), can read or change it. */
static int check_key_file(int fd, char *why, size_t len)
{
	struct stat st;
	uid_t me = geteuid();

	if (fstat(fd, &st) < 0) {
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "not a regular file");
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(why, len, "mode %04o: group or others may read or change it, and it holds "
			 "the keys that make sessions (chmod 600)", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != me) {
		snprintf(why, len, "owned by uid %u: it must be root's", (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_size > SESSION_KEY_FILE_MAX) {
		snprintf(why, len, "larger than %d bytes: not a key file", SESSION_KEY_FILE_MAX);
		return -1;
	}
	return 0;
}

struct session_keys *session_keys_load(const char *file, char *why, size_t len)
{
	char buf[SESSION_KEY_FILE_MAX + 1];
	struct session_keys *k = NULL;
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(why, len, "%s", strerror(errno));
		return NULL;
	}
	if (check_key_file(fd, why, len) < 0)
		goto done;
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		snprintf(why, len, "%s", strerror(errno));
	else if (n > SESSION_KEY_FILE_MAX)
		snprintf(why, len, "larger than %d bytes: not a key file", SESSION_KEY_FILE_MAX);
	else
		k = session_keys_parse(buf, (size_t)n, why, len);
	explicit_bzero(buf, sizeof(buf));
done:
	close(fd);
	return k;
}

size_t session_keys_count(const struct session_keys *k)
{
	return k ? k->n : 0;
}

void session_keys_free(struct session_keys *k)
{
	if (!k)
		return;
	explicit_bzero(k, sizeof(*k));
	free(k);
}

/* ---------------------------------------------------------------- sealing */

static void put_u16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The associated data: the header, then "NAME\0VDIR" (the scope id is a
 * hash of that second part). */
static uint8_t *associated_data(const uint8_t *head, const struct session_scope *s, size_t *n)
{
	size_t ln = strlen(s->cookie_name), lv = strlen(s->vdir);
	uint8_t *ad = xmalloc(HEAD_LEN + ln + 1 + lv);

	memcpy(ad, head, HEAD_LEN);
	memcpy(ad + HEAD_LEN, s->cookie_name, ln + 1);
	memcpy(ad + HEAD_LEN + ln + 1, s->vdir, lv);
	*n = HEAD_LEN + ln + 1 + lv;
	return ad;
}

static int scope_id(const struct session_scope *s, uint8_t *out)
{
	uint8_t head[HEAD_LEN] = { 0 }, digest[32];
	size_t n;
	uint8_t *ad = associated_data(head, s, &n);
	int rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, ad + HEAD_LEN, n - HEAD_LEN, digest);

	free(ad);
	memcpy(out, digest, SCOPE_ID_LEN);
	return rc == 0 ? 0 : -1;
}

/* AES-256-GCM over `in` with the key, the header's nonce and the scope as
 * associated data; a handle per call (a few hundred ns): GnuTLS' handles
 * are not for several threads at once. */
static int aead(bool seal, const struct session_key *key, const uint8_t *head,
		const struct session_scope *s, const uint8_t *in, size_t n, uint8_t *out,
		size_t *outlen)
{
	gnutls_datum_t kd = { (unsigned char *)key->aead, AEAD_KEY_LEN };
	gnutls_aead_cipher_hd_t h;
	size_t adlen;
	uint8_t *ad;
	int rc;

	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &kd) < 0)
		return -1;
	ad = associated_data(head, s, &adlen);
	if (seal)
		rc = gnutls_aead_cipher_encrypt(h, head + AT_NONCE, NONCE_LEN, ad, adlen, TAG_LEN,
						in, n, out, outlen);
	else
		rc = gnutls_aead_cipher_decrypt(h, head + AT_NONCE, NONCE_LEN, ad, adlen, TAG_LEN,
						in, n, out, outlen);
	gnutls_aead_cipher_deinit(h);
	free(ad);
	return rc < 0 ? -1 : 0;
}

/* The plaintext of `c` into p (PLAIN_MAX bytes).  Its length, or -1. */
static int encode_claims(const struct session_claims *c, uint8_t *p, char *why, size_t len)
{
	size_t lp = c->principal ? strlen(c->principal) : 0;
	size_t ll = c->localname ? strlen(c->localname) : 0;
	size_t o = 0;

	if (c->level < IDG_LEVEL_ANONYMOUS || c->level > IDG_LEVEL_IMPERSONATION) {
		snprintf(why, len, "level %d: a cookie never carries delegation", c->level);
		return -1;
	}
	if (lp > SESSION_PRINCIPAL_MAX || ll > SESSION_LOCALNAME_MAX) {
		snprintf(why, len, "principal or local name too long for a cookie");
		return -1;
	}
	if (c->issued < 0 || c->expires < c->issued || c->expires >= TIME_MAX) {
		snprintf(why, len, "times out of range");
		return -1;
	}
	p[o++] = (uint8_t)((c->anonymous ? FLAG_ANONYMOUS : 0) | (c->basic ? FLAG_BASIC : 0));
	p[o++] = (uint8_t)c->level;
	put_u64(p + o, (uint64_t)c->issued);
	put_u64(p + o + 8, (uint64_t)c->expires);
	o += 16;
	put_u16(p + o, lp);
	memcpy(p + o + 2, c->principal ? c->principal : "", lp);
	o += 2 + lp;
	put_u16(p + o, ll);
	memcpy(p + o + 2, c->localname ? c->localname : "", ll);
	return (int)(o + 2 + ll);
}

char *session_seal(const struct session_keys *k, const struct session_scope *s,
		   const struct session_claims *c, char *why, size_t len)
{
	uint8_t raw[RAW_MAX], plain[PLAIN_MAX];
	size_t ctlen = sizeof(raw) - HEAD_LEN;
	char *out = NULL;
	int n = encode_claims(c, plain, why, len);

	if (n < 0)
		return NULL;
	raw[0] = COOKIE_VERSION;
	memcpy(raw + AT_KEY_ID, k->k[0].id, KEY_ID_LEN);
	if (scope_id(s, raw + AT_SCOPE_ID) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, raw + AT_NONCE, NONCE_LEN) < 0 ||
	    aead(true, &k->k[0], raw, s, plain, (size_t)n, raw + HEAD_LEN, &ctlen) < 0)
		snprintf(why, len, "GnuTLS cannot seal a cookie");
	else
		out = base64url_encode(raw, HEAD_LEN + ctlen);
	explicit_bzero(plain, sizeof(plain));
	return out;
}

/* ---------------------------------------------------------------- opening */

/* A string of the plaintext: u16 length, bytes without NUL.  Advances *o. */
static int take_string(const uint8_t *p, size_t n, size_t *o, size_t max, char **out)
{
	size_t l;

	if (*o + 2 > n)
		return -1;
	l = (size_t)p[*o] << 8 | p[*o + 1];
	*o += 2;
	if (l > max || *o + l > n || memchr(p + *o, '\0', l))
		return -1;
	*out = l ? xstrndup((const char *)p + *o, l) : NULL;
	*o += l;
	return 0;
}

/* An authentic plaintext still has to make sense: one that does not was
 * made by a broken or foreign sealer, and is refused like a forgery. */
static enum session_verdict decode_claims(const uint8_t *p, size_t n, struct session_claims *c)
{
	uint64_t issued, expires;
	size_t o = 18;

	if (n < FIXED_LEN || (p[0] & ~(FLAG_ANONYMOUS | FLAG_BASIC)) ||
	    p[1] > IDG_LEVEL_IMPERSONATION)
		return SESSION_MALFORMED;
	issued = get_u64(p + 2);
	expires = get_u64(p + 10);
	if (issued >= (uint64_t)TIME_MAX || expires >= (uint64_t)TIME_MAX || expires < issued)
		return SESSION_MALFORMED;
	c->anonymous = p[0] & FLAG_ANONYMOUS;
	c->basic = p[0] & FLAG_BASIC;
	c->level = p[1];
	c->issued = (int64_t)issued;
	c->expires = (int64_t)expires;
	if (take_string(p, n, &o, SESSION_PRINCIPAL_MAX, &c->principal) < 0 ||
	    take_string(p, n, &o, SESSION_LOCALNAME_MAX, &c->localname) < 0 || o != n)
		return SESSION_MALFORMED;
	return SESSION_OK;
}

/* Try each of our keys that has the cookie's key id. */
static enum session_verdict unseal(const struct session_keys *k, const struct session_scope *s,
				   const uint8_t *raw, size_t n, struct session_claims *c)
{
	uint8_t plain[RAW_MAX];
	enum session_verdict v = SESSION_UNKNOWN_KEY;

	for (size_t i = 0; i < k->n && v == SESSION_UNKNOWN_KEY; i++) {
		size_t plen = sizeof(plain);
		if (memcmp(raw + AT_KEY_ID, k->k[i].id, KEY_ID_LEN) != 0)
			continue;
		v = SESSION_FORGED;
		if (aead(false, &k->k[i], raw, s, raw + HEAD_LEN, n - HEAD_LEN, plain, &plen) == 0)
			v = decode_claims(plain, plen, c);
	}
	explicit_bzero(plain, sizeof(plain));
	return v;
}

int64_t session_good_until(const struct session_claims *c, int64_t max_lifetime)
{
	if (max_lifetime >= 0 && c->expires - c->issued > max_lifetime)
		return c->issued + max_lifetime;
	return c->expires;
}

static enum session_verdict check_times(const struct session_claims *c, int64_t now,
					int64_t max_lifetime)
{
	int64_t until = session_good_until(c, max_lifetime);

	if (c->issued > now + SESSION_CLOCK_SKEW)
		return SESSION_FUTURE;
	return now >= until ? SESSION_EXPIRED : SESSION_OK;
}

enum session_verdict session_open(const struct session_keys *k, const struct session_scope *s,
				  const char *v, size_t n, int64_t now, int64_t max_lifetime,
				  struct session_claims *out)
{
	uint8_t sid[SCOPE_ID_LEN];
	enum session_verdict verdict = SESSION_MALFORMED;
	size_t rlen = 0;
	uint8_t *raw;

	memset(out, 0, sizeof(*out));
	if (n > SESSION_VALUE_MAX)
		return SESSION_OVERSIZED;
	raw = base64url_decode(v, n, &rlen);
	if (!raw)
		return SESSION_MALFORMED;
	if (raw[0] != COOKIE_VERSION)
		verdict = SESSION_VERSION;
	else if (rlen < HEAD_LEN + FIXED_LEN + TAG_LEN || scope_id(s, sid) < 0)
		verdict = SESSION_MALFORMED;
	else if (memcmp(raw + AT_SCOPE_ID, sid, SCOPE_ID_LEN) != 0)
		verdict = SESSION_OTHER_SCOPE;
	else
		verdict = unseal(k, s, raw, rlen, out);
	if (verdict == SESSION_OK)
		verdict = check_times(out, now, max_lifetime);
	else
		session_claims_free(out);
	free(raw);
	return verdict;
}

const char *session_verdict_text(enum session_verdict v)
{
	switch (v) {
	case SESSION_OK: return "valid";
	case SESSION_MALFORMED: return "malformed";
	case SESSION_OVERSIZED: return "too long";
	case SESSION_VERSION: return "of an unknown version";
	case SESSION_OTHER_SCOPE: return "made for another vdir or cookie name";
	case SESSION_UNKNOWN_KEY: return "sealed with a key not in session_key_file";
	case SESSION_FORGED: return "does not authenticate (tampered with, or forged)";
	case SESSION_EXPIRED: return "expired";
	case SESSION_FUTURE: return "issued in the future (the clocks of the gateways that "
				    "share the key differ)";
	}
	return "?";
}

void session_claims_free(struct session_claims *c)
{
	free(c->principal);
	free(c->localname);
	memset(c, 0, sizeof(*c));
}

/* ---------------------------------------------------------------- the Cookie header */

struct pair {
	const char *start, *end;     /* the pair, blanks around it trimmed */
	const char *name_end;        /* NULL: no '=' */
	const char *value;
};

/* The next "name=value" of a Cookie header at *p; false at the end. */
static bool next_pair(const char **p, struct pair *pr)
{
	const char *s = *p, *e, *eq;

	if (!*s)
		return false;
	e = s + strcspn(s, ";");
	*p = *e ? e + 1 : e;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	pr->start = s;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	pr->end = e;
	eq = memchr(s, '=', (size_t)(e - s));
	pr->name_end = eq;
	pr->value = NULL;
	if (!eq)
		return true;
	while (pr->name_end > s && (pr->name_end[-1] == ' ' || pr->name_end[-1] == '\t'))
		pr->name_end--;
	pr->value = eq + 1;
	while (pr->value < e && (*pr->value == ' ' || *pr->value == '\t'))
		pr->value++;
	return true;
}

static bool pair_named(const struct pair *pr, const char *name)
{
	size_t n = strlen(name);

	return pr->name_end && (size_t)(pr->name_end - pr->start) == n &&
	       memcmp(pr->start, name, n) == 0;
}

size_t session_cookie_values(const char *header, const char *name, const char **vals,
			     size_t *lens, size_t max)
{
	struct pair pr;
	size_t found = 0;

	while (found < max && next_pair(&header, &pr)) {
		if (!pair_named(&pr, name))
			continue;
		vals[found] = pr.value;
		lens[found++] = (size_t)(pr.end - pr.value);
	}
	return found;
}

char *session_cookie_strip(const char *header, const char *name)
{
	struct pair pr;
	size_t n = strlen(header), o = 0;
	char *out = xmalloc(2 * n + 1); /* "a;b" becomes "a; b" */
	bool stripped = false;

	while (next_pair(&header, &pr)) {
		if (pair_named(&pr, name)) {
			stripped = true;
			continue;
		}
		if (pr.start == pr.end)
			continue;
		if (o) {
			memcpy(out + o, "; ", 2);
			o += 2;
		}
		memcpy(out + o, pr.start, (size_t)(pr.end - pr.start));
		o += (size_t)(pr.end - pr.start);
	}
	out[o] = '\0';
	if (!stripped) {
		free(out);
		return NULL;
	}
	return out;
}

bool session_cookie_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= SESSION_COOKIE_NAME_MAX && http_token_ok(name);
}
