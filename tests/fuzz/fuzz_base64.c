/* fuzz_base64.c -- strict base64 (base64.c): Negotiate tokens and Basic
 * credentials, as they come from the network; base64url (session
 * cookies); and the user names the PAM helper passes on
 * (auth_user_name_ok: from Basic credentials and from auth_to_local).
 *
 * Input: text to decode, and bytes to encode.  Properties: decoding
 * accepts exactly one encoding of each value (what it accepts encodes back
 * to the same text), whatever is encoded decodes back, and an accepted
 * user name is one the header's rules allow, read again here. */
#include <stdlib.h>
#include <string.h>

#include "authhelper.h"
#include "base64.h"
#include "fuzz.h"

static void check_decode(const char *s)
{
	size_t n = 0;
	unsigned char *d = base64_decode(s, &n);

	if (!d)
		return;
	char *e = base64_encode(d, n);
	FZ_CHECK(strcmp(e, s) == 0);
	FZ_CHECK(d[n] == '\0');
	free(e);
	free(d);
}

static void check_encode(const uint8_t *data, size_t size)
{
	char *e = base64_encode(data, size);
	size_t n = 0;
	unsigned char *d;

	FZ_CHECK(strlen(e) == (size + 2) / 3 * 4);
	d = base64_decode(e, &n);
	if (size == 0) {
		FZ_CHECK(d == NULL); /* an empty token is no token */
	} else {
		FZ_CHECK(d && n == size && memcmp(d, data, size) == 0);
	}
	free(d);
	free(e);
}

/* base64url without padding (session cookies): one encoding per value. */
static void check_decode_url(const char *s, size_t len)
{
	size_t n = 0;
	unsigned char *d = base64url_decode(s, len, &n);

	if (!d)
		return;
	char *e = base64url_encode(d, n);
	FZ_CHECK(strlen(e) == len && memcmp(e, s, len) == 0);
	free(e);
	free(d);
}

/* A name PAM gets, read again by the header's rules: LOCAL or LOCAL@DOMAIN,
 * at most AUTH_MAX_USER bytes; LOCAL of [A-Za-z0-9_.-] not starting with
 * '.' or '-', not only digits, perhaps a final '$'; DOMAIN of
 * [A-Za-z0-9.-] starting with a letter or digit.  So no byte that could
 * mean something to a PAM module, a shell or a log line. */
static void check_user_name(const char *s)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const char *at, *dollar;
	size_t local;

	if (!auth_user_name_ok(s))
		return;
	at = strchr(s, '@');
	local = at ? (size_t)(at - s) : strlen(s);
	FZ_CHECK(strlen(s) <= AUTH_MAX_USER && local >= 1);
	FZ_CHECK(strchr(alnum, s[0]) || s[0] == '_');
	dollar = strchr(s, '$');
	FZ_CHECK(!dollar || dollar == s + local - 1);
	for (size_t i = 0; i < local - (dollar ? 1 : 0); i++)
		FZ_CHECK(s[i] && (strchr(alnum, s[i]) || strchr("_.-", s[i])));
	FZ_CHECK(dollar || strspn(s, "0123456789") < local);
	if (!at)
		return;
	FZ_CHECK(at[1] && strchr(alnum, at[1]) && !strchr(at + 1, '@'));
	for (const char *c = at + 1; *c; c++)
		FZ_CHECK(strchr(alnum, *c) || *c == '.' || *c == '-');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_copy(data, size);

	check_decode(s);
	check_decode_url(s, strlen(s));
	check_encode(data, size);
	check_user_name(s);
	free(s);
	return 0;
}
