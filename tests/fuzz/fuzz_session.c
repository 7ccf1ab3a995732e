/* fuzz_session.c -- session cookies (src/common/session.c): a client's
 * Cookie header (session_cookie_values, and session_cookie_strip before
 * the header reaches a handler), the cookie's value (session_open:
 * base64url, the version, key and scope ids, AES-256-GCM, the claims, the
 * times), what the gateway seals (session_seal), and the key file
 * (session_keys_parse).
 *
 * The keys are FZ_SESSION_KEYS; the seeds (mkseeds.c) hold cookies sealed
 * with them for FZ_SESSION_COOKIE and FZ_SESSION_VDIR.
 *
 * Input: a mode byte.  0, open: a time offset, a maximum lifetime, which
 * scope, then the value.  1, seal: flags, level, issue time, lifetime,
 * then the principal and the local name as legs.  2, Cookie header: the
 * name and another name as legs, then the header.  3, key file: its text.
 * Properties: a verdict is one of the enum's; OK, EXPIRED and FUTURE come
 * with claims within the limits (level anonymous to impersonation, the
 * strings' lengths) and times that say which of the three it is; a value
 * that opens stops opening when any of three of its characters changes;
 * what is sealed opens to the same claims, for its scope only, until it
 * expires; what cannot be sealed is out of the limits.  The values found
 * for a name are in the header and named so; the stripped header has no
 * cookie of that name left and the other name's values unchanged.  A key
 * file is accepted with 1 to 8 keys of 64 to 128 hex digits and nothing
 * else but blanks and comments. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "idgate/module.h"
#include "session.h"

static struct session_keys *keys;
static const struct session_scope ours = { FZ_SESSION_COOKIE, FZ_SESSION_VDIR };
static const struct session_scope others[2] = { { FZ_SESSION_COOKIE, FZ_SESSION_VDIR "/sub" },
						 { "other", FZ_SESSION_VDIR } };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[256];

	(void)argc;
	(void)argv;
	keys = session_keys_parse(FZ_SESSION_KEYS, strlen(FZ_SESSION_KEYS), why, sizeof(why));
	if (!keys)
		fz_fail("session_keys_parse: %s", why);
	return 0;
}

static void check_claims(const struct session_claims *c)
{
	FZ_CHECK(c->level >= IDG_LEVEL_ANONYMOUS && c->level <= IDG_LEVEL_IMPERSONATION);
	FZ_CHECK(!c->principal || (*c->principal && strlen(c->principal) <= SESSION_PRINCIPAL_MAX));
	FZ_CHECK(!c->localname || (*c->localname && strlen(c->localname) <= SESSION_LOCALNAME_MAX));
	FZ_CHECK(c->issued >= 0 && c->expires >= c->issued);
}

/* The verdict's times, as session.h says them. */
static void check_times(enum session_verdict v, const struct session_claims *c, int64_t now,
			int64_t max_lifetime)
{
	int64_t until = c->expires;

	if (max_lifetime >= 0 && until - c->issued > max_lifetime)
		until = c->issued + max_lifetime;
	if (v == SESSION_FUTURE)
		FZ_CHECK(c->issued > now + SESSION_CLOCK_SKEW);
	else if (v == SESSION_EXPIRED)
		FZ_CHECK(c->issued <= now + SESSION_CLOCK_SKEW && now >= until);
	else
		FZ_CHECK(c->issued <= now + SESSION_CLOCK_SKEW && now < until);
}

/* A value that opened: change one character, and it must not open. */
static void check_tampered(const char *v, size_t n, int64_t now)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const size_t at[3] = { 0, n / 2, n - 1 };
	char *copy = malloc(n);
	struct session_claims c;

	for (int i = 0; i < 3; i++) {
		memcpy(copy, v, n);
		const char *p = strchr(alphabet, copy[at[i]]);
		copy[at[i]] = p && p[1] ? p[1] : alphabet[0];
		FZ_CHECK(session_open(keys, &ours, copy, n, now, -1, &c) != SESSION_OK);
		session_claims_free(&c);
	}
	free(copy);
}

static void open_value(struct fz *z)
{
	int64_t now = (int64_t)FZ_SESSION_NOW + (int32_t)fz_u32(z);
	uint32_t life = fz_u32(z);
	int64_t max_lifetime = life == UINT32_MAX ? -1 : (int64_t)life;
	uint8_t which = fz_u8(z) % 3;
	const struct session_scope *s = which ? &others[which - 1] : &ours;
	size_t n;
	char *v = (char *)fz_rest_exact(z, &n);
	struct session_claims c;
	enum session_verdict verdict = session_open(keys, s, v, n, now, max_lifetime, &c);

	FZ_CHECK(verdict <= SESSION_FUTURE);
	FZ_CHECK(n <= SESSION_VALUE_MAX || verdict == SESSION_OVERSIZED);
	if (verdict == SESSION_OK || verdict == SESSION_EXPIRED || verdict == SESSION_FUTURE) {
		check_claims(&c);
		check_times(verdict, &c, now, max_lifetime);
	} else {
		FZ_CHECK(!c.principal && !c.localname);
	}
	if (verdict == SESSION_OK && s == &ours)
		check_tampered(v, n, now);
	session_claims_free(&c);
	free(v);
}

static bool same_string(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static void seal_claims(struct fz *z)
{
	uint8_t flags = fz_u8(z);
	struct session_claims in = { .anonymous = flags & 1, .basic = flags & 2,
				     .level = fz_u8(z) % 6 - 1 }, out;
	char why[256], *v;

	in.issued = (int64_t)FZ_SESSION_NOW + (int32_t)fz_u32(z);
	in.expires = in.issued + fz_u32(z);
	in.principal = fz_leg_str(z, NULL);
	in.localname = fz_leg_str(z, NULL);
	v = session_seal(keys, &ours, &in, why, sizeof(why));
	if (!v) {
		FZ_CHECK(in.issued < 0 || in.level < IDG_LEVEL_ANONYMOUS ||
			 in.level > IDG_LEVEL_IMPERSONATION ||
			 strlen(in.principal) > SESSION_PRINCIPAL_MAX ||
			 strlen(in.localname) > SESSION_LOCALNAME_MAX);
		goto done;
	}
	FZ_CHECK(session_open(keys, &ours, v, strlen(v), in.issued, -1, &out) ==
		 (in.expires > in.issued ? SESSION_OK : SESSION_EXPIRED));
	FZ_CHECK(out.anonymous == in.anonymous && out.basic == in.basic && out.level == in.level);
	FZ_CHECK(out.issued == in.issued && out.expires == in.expires);
	FZ_CHECK(same_string(out.principal, in.principal) && same_string(out.localname, in.localname));
	session_claims_free(&out);
	for (int i = 0; i < 2; i++) {
		FZ_CHECK(session_open(keys, &others[i], v, strlen(v), in.issued, -1, &out) ==
			 SESSION_OTHER_SCOPE);
		session_claims_free(&out);
	}
	FZ_CHECK(session_open(keys, &ours, v, strlen(v), in.expires, -1, &out) == SESSION_EXPIRED);
	session_claims_free(&out);
	free(v);
done:
	free(in.principal);
	free(in.localname);
}

#define MAX_VALUES 8

/* The values for `name` lie in the header, each right after "name", blanks
 * and '=', and hold no ';'. */
static size_t check_values(const char *header, const char *name, const char **vals, size_t *lens)
{
	size_t n = session_cookie_values(header, name, vals, lens, MAX_VALUES);

	FZ_CHECK(n <= MAX_VALUES);
	for (size_t i = 0; i < n; i++) {
		FZ_CHECK(vals[i] > header && vals[i] + lens[i] <= header + strlen(header));
		FZ_CHECK(!memchr(vals[i], ';', lens[i]));
		const char *eq = vals[i] - 1;
		while (eq > header && (*eq == ' ' || *eq == '\t'))
			eq--;
		FZ_CHECK(*eq == '=');
	}
	return n;
}

static void cookie_header(struct fz *z)
{
	char *name = fz_leg_str(z, NULL), *other = fz_leg_str(z, NULL), *header = fz_rest(z, NULL);
	const char *v1[MAX_VALUES], *v2[MAX_VALUES];
	size_t l1[MAX_VALUES], l2[MAX_VALUES], n1, n2;
	char *stripped;

	if (!session_cookie_name_ok(name) || !session_cookie_name_ok(other) ||
	    strcmp(name, other) == 0)
		goto done;
	check_values(header, name, v1, l1);
	n1 = check_values(header, other, v1, l1);
	stripped = session_cookie_strip(header, name);
	if (!stripped) {
		FZ_CHECK(session_cookie_values(header, name, v2, l2, 1) == 0);
		goto done;
	}
	FZ_CHECK(session_cookie_values(stripped, name, v2, l2, 1) == 0);
	n2 = check_values(stripped, other, v2, l2);
	FZ_CHECK(n1 == n2);
	for (size_t i = 0; i < n1; i++)
		FZ_CHECK(l1[i] == l2[i] && memcmp(v1[i], v2[i], l1[i]) == 0);
	free(stripped);
done:
	free(name);
	free(other);
	free(header);
}

/* Every line blank, a comment, or one key of 64 to 128 hex digits. */
static size_t count_keys(const char *text, size_t n)
{
	size_t keys_seen = 0;

	for (const char *p = text, *end = text + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (p < e && *p != '#') {
			size_t len = (size_t)(e - p);
			FZ_CHECK(len % 2 == 0 && len >= 64 && len <= 128);
			FZ_CHECK(strspn(p, "0123456789abcdefABCDEF") >= len);
			keys_seen++;
		}
		p = (nl ? nl : end) + 1;
	}
	return keys_seen;
}

static void key_file(struct fz *z)
{
	size_t n;
	char *text = fz_rest(z, &n), why[256] = "";
	struct session_keys *k = session_keys_parse(text, n, why, sizeof(why));

	if (k) {
		FZ_CHECK(!memchr(text, '\0', n));
		FZ_CHECK(session_keys_count(k) >= 1 && session_keys_count(k) <= SESSION_MAX_KEYS);
		FZ_CHECK(count_keys(text, n) == session_keys_count(k));
		session_keys_free(k);
	} else {
		FZ_CHECK(why[0]);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);

	switch (fz_u8(&z) % 4) {
	case 0:
		open_value(&z);
		break;
	case 1:
		seal_claims(&z);
		break;
	case 2:
		cookie_header(&z);
		break;
	default:
		key_file(&z);
		break;
	}
	return 0;
}
