/* test_session.c -- session cookies (session.h): the key file, a round
 * trip, every byte of a cookie flipped, another key, key rotation,
 * expiry and a shortened lifetime, the clock, truncated, oversized and
 * malformed values, another vdir or cookie name, replay (allowed), what a
 * cookie refuses to carry, a cookie built independently from the format
 * session.h documents, and the Cookie header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
#include "session.h"

#define NOW 1700000000 /* an arbitrary wall-clock time */
#define HOUR 3600

/* Three keys of 32 bytes, as the key file has them. */
#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"
#define KEY_C "0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef"

static const struct session_scope SCOPE = { "idgate_session", "/app" };

static struct session_keys *keys(const char *text)
{
	char why[256] = "";
	struct session_keys *k = session_keys_parse(text, strlen(text), why, sizeof(why));

	if (!k)
		fail_msg("keys refused: %s", why);
	return k;
}

/* The reason a key text is refused ("" when it is accepted). */
static const char *refused(const char *text)
{
	static char why[256];
	struct session_keys *k;

	why[0] = '\0';
	k = session_keys_parse(text, strlen(text), why, sizeof(why));
	if (k) {
		session_keys_free(k);
		return "";
	}
	return why;
}

static struct session_claims alice(void)
{
	return (struct session_claims){ .principal = "alice@IDGATE.TEST", .localname = "alice",
					.level = IDG_LEVEL_IMPERSONATION, .issued = NOW,
					.expires = NOW + HOUR };
}

static char *seal(const struct session_keys *k, const struct session_scope *s,
		  const struct session_claims *c)
{
	char why[256] = "";
	char *v = session_seal(k, s, c, why, sizeof(why));

	if (!v)
		fail_msg("seal refused: %s", why);
	return v;
}

static enum session_verdict open_at(const struct session_keys *k, const struct session_scope *s,
				    const char *v, int64_t now, int64_t max_lifetime)
{
	struct session_claims c;
	enum session_verdict r = session_open(k, s, v, strlen(v), now, max_lifetime, &c);

	session_claims_free(&c);
	return r;
}

static enum session_verdict open_now(const struct session_keys *k, const char *v)
{
	return open_at(k, &SCOPE, v, NOW + 1, HOUR);
}

/* A cookie's bytes, and its value again from bytes. */
static unsigned char *raw_of(const char *v, size_t *n)
{
	unsigned char *raw = base64url_decode(v, strlen(v), n);

	assert_non_null(raw);
	return raw;
}

/* ---------------------------------------------------------------- the key file */

static void test_key_text(void **state)
{
	struct session_keys *k;

	(void)state;
	k = keys("# session keys\n\n  " KEY_A "  \r\n# old:\n" KEY_B "\n");
	assert_int_equal(session_keys_count(k), 2);
	session_keys_free(k);
	k = keys(KEY_A KEY_B); /* 64 bytes on one line */
	assert_int_equal(session_keys_count(k), 1);
	session_keys_free(k);
	assert_string_equal(refused(KEY_A "0"), "line 1: not a key: expected 64 to 128 "
			    "hexadecimal digits (e.g. the output of openssl rand -hex 32)");
	assert_string_equal(refused("# a comment\n" "0011"), "line 2: not a key: expected 64 to "
			    "128 hexadecimal digits (e.g. the output of openssl rand -hex 32)");
	assert_string_not_equal(refused(KEY_A KEY_B "00"), ""); /* 65 bytes */
	char nothex[] = KEY_A;
	nothex[5] = 'g';
	assert_string_not_equal(refused(nothex), "");
	assert_string_not_equal(refused("00 " KEY_A), "");       /* a blank inside */
	assert_string_equal(refused(""), "no key in it (one per line, e.g. from openssl rand "
			    "-hex 32)");
	assert_string_equal(refused("# only a comment\n\n"),
			    "no key in it (one per line, e.g. from openssl rand -hex 32)");
	char nine[9 * 65 + 1] = "";
	for (int i = 0; i < 9; i++)
		strcat(nine, KEY_A "\n");
	assert_string_equal(refused(nine), "line 9: more than 8 keys");
	char nul[] = KEY_A "\n";
	nul[10] = '\0';
	assert_null(session_keys_parse(nul, sizeof(nul) - 1, (char[64]){ 0 }, 64));
}

static const char *load_why(const char *file)
{
	static char why[256];
	struct session_keys *k;

	why[0] = '\0';
	k = session_keys_load(file, why, sizeof(why));
	if (k) {
		session_keys_free(k);
		return "";
	}
	return why;
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/test_session.XXXXXX", file[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/key", dir);
	assert_string_equal(load_why(file), "No such file or directory");
	f = fopen(file, "w");
	fprintf(f, "%s\n", KEY_A);
	fclose(f);
	chmod(file, 0600);
	assert_string_equal(load_why(file), "");
	chmod(file, 0640);
	assert_string_equal(load_why(file), "mode 0640: group or others may read or change it, "
			    "and it holds the keys that make sessions (chmod 600)");
	chmod(file, 0602);
	assert_string_not_equal(load_why(file), "");
	chmod(file, 0400);
	assert_string_equal(load_why(file), "");
	assert_string_equal(load_why(dir), "not a regular file");
	f = fopen(file, "w");
	for (int i = 0; i < 300; i++)
		fprintf(f, "# %s\n", KEY_A);
	fclose(f);
	assert_string_equal(load_why(file), "larger than 16384 bytes: not a key file");
	unlink(file);
	rmdir(dir);
}

/* ---------------------------------------------------------------- sealing and opening */

/* Most tests need a key and alice's cookie sealed with it. */
struct fixture {
	struct session_keys *k;
	char *v;
};

static int with_cookie(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct session_claims c = alice();

	f->k = keys(KEY_A);
	f->v = seal(f->k, &SCOPE, &c);
	*state = f;
	return 0;
}

static int without_cookie(void **state)
{
	struct fixture *f = *state;

	free(f->v);
	session_keys_free(f->k);
	free(f);
	return 0;
}

static void test_round_trip(void **state)
{
	struct session_keys *k = keys(KEY_A);
	struct session_claims in = alice(), out;
	char *v = seal(k, &SCOPE, &in);

	(void)state;
	assert_true(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
		    strlen(v));
	assert_int_equal(session_open(k, &SCOPE, v, strlen(v), NOW + 10, HOUR, &out), SESSION_OK);
	assert_string_equal(out.principal, "alice@IDGATE.TEST");
	assert_string_equal(out.localname, "alice");
	assert_int_equal(out.level, IDG_LEVEL_IMPERSONATION);
	assert_false(out.anonymous);
	assert_false(out.basic);
	assert_int_equal(out.issued, NOW);
	assert_int_equal(out.expires, NOW + HOUR);
	session_claims_free(&out);
	free(v);

	/* the anonymous principal, at the anonymous level; Basic */
	in = (struct session_claims){ .anonymous = true, .level = IDG_LEVEL_ANONYMOUS,
				      .issued = NOW, .expires = NOW + 60 };
	v = seal(k, &SCOPE, &in);
	assert_int_equal(session_open(k, &SCOPE, v, strlen(v), NOW, HOUR, &out), SESSION_OK);
	assert_null(out.principal);
	assert_null(out.localname);
	assert_true(out.anonymous);
	assert_int_equal(out.level, IDG_LEVEL_ANONYMOUS);
	session_claims_free(&out);
	free(v);
	in = alice();
	in.basic = true;
	in.level = IDG_LEVEL_IDENTIFICATION;
	v = seal(k, &SCOPE, &in);
	assert_int_equal(session_open(k, &SCOPE, v, strlen(v), NOW, HOUR, &out), SESSION_OK);
	assert_true(out.basic);
	assert_int_equal(out.level, IDG_LEVEL_IDENTIFICATION);
	session_claims_free(&out);
	free(v);
	session_keys_free(k);
}

/* A fresh nonce each time: two cookies for the same claims differ. */
static void test_nonce(void **state)
{
	struct session_keys *k = keys(KEY_A);
	struct session_claims c = alice();
	char *v1 = seal(k, &SCOPE, &c), *v2 = seal(k, &SCOPE, &c);

	(void)state;
	assert_string_not_equal(v1, v2);
	assert_int_equal(strlen(v1), strlen(v2));
	free(v1);
	free(v2);
	session_keys_free(k);
}

/* Every bit of every byte matters; the header's parts say which part was
 * touched. */
static void test_tampering(void **state)
{
	const struct fixture *f = *state;
	const struct session_keys *k = f->k;
	const char *v = f->v;
	size_t n;
	unsigned char *raw = raw_of(v, &n);

	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			raw[i] ^= (unsigned char)(1u << bit);
			char *t = base64url_encode(raw, n);
			enum session_verdict want = i == 0 ? SESSION_VERSION
						    : i < 5 ? SESSION_UNKNOWN_KEY
						    : i < 9 ? SESSION_OTHER_SCOPE : SESSION_FORGED;
			enum session_verdict got = open_now(k, t);
			if (got != want)
				fail_msg("byte %zu bit %d flipped: %s, want %s", i, bit,
					 session_verdict_text(got), session_verdict_text(want));
			free(t);
			raw[i] ^= (unsigned char)(1u << bit);
		}
	}
	char *t = base64url_encode(raw, n);
	assert_string_equal(t, v);
	assert_int_equal(open_now(k, t), SESSION_OK);
	free(t);
	free(raw);
}

static void test_wrong_key_and_rotation(void **state)
{
	struct session_keys *a = keys(KEY_A), *b = keys(KEY_B);
	struct session_keys *rotated = keys(KEY_C "\n" KEY_A "\n"), *c_only = keys(KEY_C);
	struct session_claims c = alice();
	char *va = seal(a, &SCOPE, &c), *vr;

	(void)state;
	assert_int_equal(open_now(b, va), SESSION_UNKNOWN_KEY);
	assert_int_equal(open_now(a, va), SESSION_OK);
	/* a new key first: old cookies still open, new ones use the new key */
	assert_int_equal(open_now(rotated, va), SESSION_OK);
	vr = seal(rotated, &SCOPE, &c);
	assert_int_equal(open_now(c_only, vr), SESSION_OK);
	assert_int_equal(open_now(a, vr), SESSION_UNKNOWN_KEY);
	/* the old key removed: its cookies are gone */
	assert_int_equal(open_now(c_only, va), SESSION_UNKNOWN_KEY);
	free(va);
	free(vr);
	session_keys_free(a);
	session_keys_free(b);
	session_keys_free(rotated);
	session_keys_free(c_only);
}

/* Expiry, a lifetime shortened since the cookie was made, and the clock
 * of another gateway that runs ahead. */
static void test_times(void **state)
{
	const struct fixture *f = *state;
	const struct session_keys *k = f->k;
	struct session_claims out;
	const char *v = f->v;

	assert_int_equal(open_at(k, &SCOPE, v, NOW, HOUR), SESSION_OK);
	assert_int_equal(open_at(k, &SCOPE, v, NOW + HOUR - 1, HOUR), SESSION_OK);
	assert_int_equal(open_at(k, &SCOPE, v, NOW + HOUR, HOUR), SESSION_EXPIRED);
	assert_int_equal(open_at(k, &SCOPE, v, NOW + 10 * HOUR, HOUR), SESSION_EXPIRED);
	/* the lifetime is now 10 minutes: the hour-long cookie ends sooner */
	assert_int_equal(open_at(k, &SCOPE, v, NOW + 599, 600), SESSION_OK);
	assert_int_equal(open_at(k, &SCOPE, v, NOW + 600, 600), SESSION_EXPIRED);
	/* a longer lifetime does not lengthen it */
	assert_int_equal(open_at(k, &SCOPE, v, NOW + HOUR, 24 * HOUR), SESSION_EXPIRED);
	/* made by a gateway whose clock is ahead: up to the skew is fine */
	assert_int_equal(open_at(k, &SCOPE, v, NOW - SESSION_CLOCK_SKEW, HOUR), SESSION_OK);
	assert_int_equal(open_at(k, &SCOPE, v, NOW - SESSION_CLOCK_SKEW - 1, HOUR),
			 SESSION_FUTURE);
	/* what the log needs is filled in even when expired */
	assert_int_equal(session_open(k, &SCOPE, v, strlen(v), NOW + HOUR, HOUR, &out),
			 SESSION_EXPIRED);
	assert_string_equal(out.principal, "alice@IDGATE.TEST");
	session_claims_free(&out);
}

/* Every shorter prefix of a cookie is refused, at no cost beyond decoding
 * when too short to hold a header. */
static void test_truncated(void **state)
{
	const struct fixture *f = *state;
	const struct session_keys *k = f->k;
	const char *v = f->v;
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++) {
		struct session_claims out;
		enum session_verdict r = session_open(k, &SCOPE, v, i, NOW, HOUR, &out);
		if (r != SESSION_MALFORMED && r != SESSION_FORGED)
			fail_msg("%zu of %zu characters: %s", i, n, session_verdict_text(r));
		if (i < (21 + 22 + 16) * 4 / 3 && r != SESSION_MALFORMED)
			fail_msg("%zu characters, shorter than any cookie: %s", i,
				 session_verdict_text(r));
		session_claims_free(&out);
	}
}

static void test_oversized_and_limits(void **state)
{
	struct session_keys *k = keys(KEY_A);
	char big[SESSION_VALUE_MAX + 2], p[SESSION_PRINCIPAL_MAX + 2], l[SESSION_LOCALNAME_MAX + 2];
	struct session_claims c = alice(), out;
	char why[128];
	char *v;

	(void)state;
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(open_now(k, big), SESSION_OVERSIZED);
	/* the longest names still fit, and open */
	memset(p, 'p', SESSION_PRINCIPAL_MAX);
	p[SESSION_PRINCIPAL_MAX] = '\0';
	memset(l, 'l', SESSION_LOCALNAME_MAX);
	l[SESSION_LOCALNAME_MAX] = '\0';
	c.principal = p;
	c.localname = l;
	v = seal(k, &SCOPE, &c);
	assert_true(strlen(v) <= SESSION_VALUE_MAX);
	assert_int_equal(session_open(k, &SCOPE, v, strlen(v), NOW, HOUR, &out), SESSION_OK);
	assert_string_equal(out.principal, p);
	session_claims_free(&out);
	free(v);
	/* one byte more gets no cookie */
	p[SESSION_PRINCIPAL_MAX] = 'p';
	p[SESSION_PRINCIPAL_MAX + 1] = '\0';
	assert_null(session_seal(k, &SCOPE, &c, why, sizeof(why)));
	assert_string_equal(why, "principal or local name too long for a cookie");
	/* never delegation */
	c = alice();
	c.level = IDG_LEVEL_DELEGATION;
	assert_null(session_seal(k, &SCOPE, &c, why, sizeof(why)));
	assert_string_equal(why, "level 3: a cookie never carries delegation");
	session_keys_free(k);
}

static void test_malformed_base64(void **state)
{
	const struct fixture *f = *state;
	const struct session_keys *k = f->k;
	const char *v = f->v;
	char *t;
	size_t n = strlen(v);

	assert_int_equal(open_now(k, ""), SESSION_MALFORMED);
	assert_int_equal(open_now(k, "A"), SESSION_MALFORMED);
	assert_int_equal(open_now(k, "not a cookie"), SESSION_MALFORMED);
	assert_int_equal(open_now(k, "\"quoted\""), SESSION_MALFORMED);
	/* the standard alphabet, padding, one character too many */
	const char *bad[] = { "+", "/", "=", " ", "%", "." };
	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		t = strdup(v);
		t[n / 2] = bad[b][0];
		assert_int_equal(open_now(k, t), SESSION_MALFORMED);
		free(t);
	}
	t = malloc(n + 3);
	snprintf(t, n + 3, "%s==", v);
	assert_int_equal(open_now(k, t), SESSION_MALFORMED);
	snprintf(t, n + 2, "%sA", v);
	assert_int_not_equal(open_now(k, t), SESSION_OK);
	free(t);
	/* non-zero pad bits: "AB" decodes with bits left over, "AA" does not */
	size_t len;
	unsigned char *d = base64url_decode("AB", 2, &len);
	assert_null(d);
	d = base64url_decode("AA", 2, &len);
	assert_non_null(d);
	assert_int_equal(len, 1);
	free(d);
}

/* First 4 bytes of SHA-256("NAME\0VDIR"): the scope id of session.h. */
static void scope_id(const struct session_scope *s, unsigned char *out)
{
	char buf[256];
	unsigned char digest[32];
	size_t ln = strlen(s->cookie_name), lv = strlen(s->vdir);

	memcpy(buf, s->cookie_name, ln + 1);
	memcpy(buf + ln + 1, s->vdir, lv);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, ln + 1 + lv, digest), 0);
	memcpy(out, digest, 4);
}

/* A cookie for /app is not one for /other or for /app/x, nor under
 * another name -- and claiming the other scope's id does not help: the
 * associated data binds the whole name and path. */
static void test_scope(void **state)
{
	const struct fixture *f = *state;
	const struct session_keys *k = f->k;
	const struct session_scope other = { "idgate_session", "/other" },
				   nested = { "idgate_session", "/app/x" },
				   renamed = { "other_session", "/app" };
	const char *v = f->v;
	char *t;
	size_t n;
	unsigned char *raw = raw_of(v, &n);

	assert_int_equal(open_at(k, &other, v, NOW, HOUR), SESSION_OTHER_SCOPE);
	assert_int_equal(open_at(k, &nested, v, NOW, HOUR), SESSION_OTHER_SCOPE);
	assert_int_equal(open_at(k, &renamed, v, NOW, HOUR), SESSION_OTHER_SCOPE);
	scope_id(&SCOPE, raw + 5); /* nothing changes: it is ours */
	t = base64url_encode(raw, n);
	assert_string_equal(t, v);
	free(t);
	scope_id(&other, raw + 5);
	t = base64url_encode(raw, n);
	assert_int_equal(open_at(k, &other, t, NOW, HOUR), SESSION_FORGED);
	free(t);
	free(raw);
}

/* Within its lifetime a cookie opens as often as it is shown: a bearer
 * token, like mod_auth_gssapi's (documented in idgate.conf(5)). */
static void test_replay_allowed(void **state)
{
	const struct fixture *f = *state;
	const struct session_keys *k = f->k;
	const char *v = f->v;

	for (int i = 0; i < 3; i++)
		assert_int_equal(open_now(k, v), SESSION_OK);
}

/* ---------------------------------------------------------------- the documented format */

/* A cookie made from session.h's description alone, with GnuTLS: key,
 * version, ids, nonce, associated data and payload exactly as written
 * there.  `plain` is the payload, n bytes. */
static char *independent_seal(const char *hexkey, const struct session_scope *s,
			      const unsigned char *plain, size_t n)
{
	unsigned char material[32], prk[32], key[32], id[4], raw[1200], ad[300];
	gnutls_datum_t ikm = { material, 32 }, salt = { (unsigned char *)"idgate session cookie v1", 24 };
	gnutls_datum_t p = { prk, 32 }, k = { key, 32 };
	gnutls_datum_t i1 = { (unsigned char *)"aead key", 8 }, i2 = { (unsigned char *)"key id", 6 };
	gnutls_aead_cipher_hd_t h;
	size_t ln = strlen(s->cookie_name), lv = strlen(s->vdir), ctlen = sizeof(raw) - 21;

	for (int i = 0; i < 32; i++)
		sscanf(hexkey + 2 * i, "%2hhx", &material[i]);
	assert_int_equal(gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &salt, prk), 0);
	assert_int_equal(gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &p, &i1, key, 32), 0);
	assert_int_equal(gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &p, &i2, id, 4), 0);
	raw[0] = 1;
	memcpy(raw + 1, id, 4);
	scope_id(s, raw + 5);
	memset(raw + 9, 0x5a, 12);
	memcpy(ad, raw, 21);
	memcpy(ad + 21, s->cookie_name, ln + 1);
	memcpy(ad + 21 + ln + 1, s->vdir, lv);
	assert_int_equal(gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &k), 0);
	assert_int_equal(gnutls_aead_cipher_encrypt(h, raw + 9, 12, ad, 21 + ln + 1 + lv, 16, plain,
						    n, raw + 21, &ctlen), 0);
	gnutls_aead_cipher_deinit(h);
	return base64url_encode(raw, 21 + ctlen);
}

/* flags, level, issued, expires, then "bob@R" and "bob" */
static size_t payload(unsigned char *p, unsigned flags, unsigned level, uint64_t issued,
		      uint64_t expires)
{
	size_t o = 0;

	p[o++] = (unsigned char)flags;
	p[o++] = (unsigned char)level;
	for (int i = 0; i < 8; i++)
		p[o++] = (unsigned char)(issued >> (56 - 8 * i));
	for (int i = 0; i < 8; i++)
		p[o++] = (unsigned char)(expires >> (56 - 8 * i));
	memcpy(p + o, "\0\5bob@R\0\3bob", 12);
	return o + 12;
}

static enum session_verdict open_independent(unsigned flags, unsigned level, uint64_t issued,
					     uint64_t expires, size_t extra,
					     struct session_claims *out)
{
	struct session_keys *k = keys(KEY_A);
	unsigned char p[128];
	size_t n = payload(p, flags, level, issued, expires);
	char *v;
	enum session_verdict r;

	memset(p + n, 0, extra);
	v = independent_seal(KEY_A, &SCOPE, p, n + extra);
	r = session_open(k, &SCOPE, v, strlen(v), NOW, HOUR, out);
	free(v);
	session_keys_free(k);
	return r;
}

static void test_documented_format(void **state)
{
	struct session_claims out;

	(void)state;
	assert_int_equal(open_independent(2, 1, NOW - 5, NOW + 60, 0, &out), SESSION_OK);
	assert_string_equal(out.principal, "bob@R");
	assert_string_equal(out.localname, "bob");
	assert_true(out.basic);
	assert_false(out.anonymous);
	assert_int_equal(out.level, IDG_LEVEL_IDENTIFICATION);
	assert_int_equal(out.expires, NOW + 60);
	session_claims_free(&out);
	/* authentic, and still refused: what our sealer never writes */
	assert_int_equal(open_independent(0, 3, NOW, NOW + 60, 0, &out), SESSION_MALFORMED);
	assert_int_equal(open_independent(4, 2, NOW, NOW + 60, 0, &out), SESSION_MALFORMED);
	assert_int_equal(open_independent(0, 2, NOW, NOW - 1, 0, &out), SESSION_MALFORMED);
	assert_int_equal(open_independent(0, 2, NOW, UINT64_MAX, 0, &out), SESSION_MALFORMED);
	assert_int_equal(open_independent(0, 2, NOW, NOW + 60, 1, &out), SESSION_MALFORMED);
	assert_null(out.principal);
}

/* ---------------------------------------------------------------- the Cookie header */

static void test_cookie_values(void **state)
{
	const char *v[4];
	size_t l[4];

	(void)state;
	assert_int_equal(session_cookie_values("a=1; idgate_session=XYZ; b=2", "idgate_session",
					       v, l, 4), 1);
	assert_int_equal(l[0], 3);
	assert_memory_equal(v[0], "XYZ", 3);
	/* nested vdirs: two of the same name; blanks; no space after ';' */
	assert_int_equal(session_cookie_values(" s=one ;t=x;s = two\t;s", "s", v, l, 4), 2);
	assert_memory_equal(v[0], "one", l[0]);
	assert_int_equal(l[0], 3);
	assert_memory_equal(v[1], "two", l[1]);
	assert_int_equal(l[1], 3);
	assert_int_equal(session_cookie_values("s=1; s=2; s=3", "s", v, l, 2), 2);
	assert_int_equal(session_cookie_values("idgate_session2=1; xidgate_session=2",
					       "idgate_session", v, l, 4), 0);
	assert_int_equal(session_cookie_values("", "s", v, l, 4), 0);
	assert_int_equal(session_cookie_values("s=", "s", v, l, 4), 1);
	assert_int_equal(l[0], 0);
}

static void test_cookie_strip(void **state)
{
	char *s;

	(void)state;
	assert_null(session_cookie_strip("a=1; b=2", "s"));
	s = session_cookie_strip("a=1; s=secret; b=2", "s");
	assert_string_equal(s, "a=1; b=2");
	free(s);
	s = session_cookie_strip("s=one;s=two", "s");
	assert_string_equal(s, "");
	free(s);
	s = session_cookie_strip("x;y;s=1;z", "s"); /* grows by the blanks it adds */
	assert_string_equal(s, "x; y; z");
	free(s);
	s = session_cookie_strip(" s = 1 ; ss=2", "s");
	assert_string_equal(s, "ss=2");
	free(s);
}

static void test_cookie_name(void **state)
{
	(void)state;
	assert_true(session_cookie_name_ok("idgate_session"));
	assert_true(session_cookie_name_ok("__Host-idgate"));
	assert_false(session_cookie_name_ok(""));
	assert_false(session_cookie_name_ok("a b"));
	assert_false(session_cookie_name_ok("a=b"));
	assert_false(session_cookie_name_ok("a;b"));
	char long_name[SESSION_COOKIE_NAME_MAX + 2];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(session_cookie_name_ok(long_name));
	long_name[SESSION_COOKIE_NAME_MAX] = '\0';
	assert_true(session_cookie_name_ok(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_text),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test_setup_teardown(test_tampering, with_cookie, without_cookie),
		cmocka_unit_test(test_wrong_key_and_rotation),
		cmocka_unit_test_setup_teardown(test_times, with_cookie, without_cookie),
		cmocka_unit_test_setup_teardown(test_truncated, with_cookie, without_cookie),
		cmocka_unit_test(test_oversized_and_limits),
		cmocka_unit_test_setup_teardown(test_malformed_base64, with_cookie, without_cookie),
		cmocka_unit_test_setup_teardown(test_scope, with_cookie, without_cookie),
		cmocka_unit_test_setup_teardown(test_replay_allowed, with_cookie, without_cookie),
		cmocka_unit_test(test_documented_format),
		cmocka_unit_test(test_cookie_values),
		cmocka_unit_test(test_cookie_strip),
		cmocka_unit_test(test_cookie_name),
	};
	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
