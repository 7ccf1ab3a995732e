/* fuzz_authhdr.c -- the Authorization header as the authenticator reads
 * it (authhdr.c, from auth.c's start() and parse_basic()): the scheme,
 * where the credentials start, and Basic's split into user and password.
 *
 * Input: the header's value, as libmicrohttpd hands it on (a string: up
 * to its first NUL).  The Basic split runs on what follows the scheme, and
 * on the whole value when it names no scheme idgate knows (any string can
 * follow "Basic ").
 *
 * Properties: the scheme is "Negotiate" or "Basic" exactly when the value
 * starts with that word in any case and a space (read again here), and the
 * credentials start after the spaces that follow it; a Basic split that
 * succeeds gives a user without ':' that auth_user_name_ok() takes and a
 * password of at most AUTH_MAX_PASSWORD bytes, which encode back to
 * exactly the credentials; one that fails gives no user and no password
 * and the reason of the first step that failed -- not base64, no ':' or a
 * NUL inside, a user name or password refused -- never any of the input. */
#include <stdlib.h>
#include <string.h>

#include "authhdr.h"
#include "authhelper.h"
#include "base64.h"
#include "fuzz.h"

#define WHY_BASE64 "basic: credentials are not valid base64"
#define WHY_MALFORMED "basic: malformed credentials"
#define WHY_USER "basic: not a valid user name"

/* Does s start with word (lower case), in any case? */
static bool starts_with_word(const char *s, const char *word)
{
	for (; *word; s++, word++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
		if (c != *word)
			return false;
	}
	return true;
}

/* The scheme and where its credentials start, as RFC 9110's
 * `auth-scheme 1*SP token68` reads for the two schemes idgate offers. */
static const char *check_scheme(const char *h)
{
	const char *creds = NULL;
	enum authhdr_scheme s = authhdr_scheme(h, &creds);
	size_t skip = 0;

	if (starts_with_word(h, "negotiate ")) {
		FZ_CHECK(s == AUTHHDR_NEGOTIATE);
		skip = 10;
	} else if (starts_with_word(h, "basic ")) {
		FZ_CHECK(s == AUTHHDR_BASIC);
		skip = 6;
	} else {
		FZ_CHECK(s == AUTHHDR_OTHER && creds == h);
		return creds;
	}
	while (h[skip] == ' ')
		skip++;
	FZ_CHECK(creds == h + skip);
	return creds;
}

/* The reason a split must give for b64, or NULL when it must succeed. */
static const char *expected_refusal(const char *b64)
{
	size_t n;
	unsigned char *raw = base64_decode(b64, &n);
	const char *why = NULL;
	char *colon;

	if (!raw)
		return WHY_BASE64;
	colon = memchr(raw, ':', n);
	if (!colon || memchr(raw, '\0', n)) {
		why = WHY_MALFORMED;
	} else {
		*colon = '\0';
		if (!auth_user_name_ok((char *)raw) || strlen(colon + 1) > AUTH_MAX_PASSWORD)
			why = WHY_USER;
	}
	free(raw);
	return why;
}

static void check_basic(const char *b64)
{
	const char *expect = expected_refusal(b64), *why = NULL;
	char *user = (char *)1, *password = (char *)1, *joined, *again;
	int rc = authhdr_basic(b64, &user, &password, &why);

	if (expect) {
		FZ_CHECK(rc == -1 && !user && !password);
		FZ_CHECK(why && strcmp(why, expect) == 0);
		return;
	}
	FZ_CHECK(rc == 0 && user && password);
	FZ_CHECK(!strchr(user, ':') && auth_user_name_ok(user));
	FZ_CHECK(strlen(password) <= AUTH_MAX_PASSWORD);
	joined = malloc(strlen(user) + 1 + strlen(password) + 1);
	strcpy(joined, user);
	strcat(joined, ":");
	strcat(joined, password);
	again = base64_encode(joined, strlen(joined));
	FZ_CHECK(strcmp(again, b64) == 0);
	free(again);
	free(joined);
	free(user);
	free(password);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = fz_copy(data, size);

	check_basic(check_scheme(h));
	free(h);
	return 0;
}
