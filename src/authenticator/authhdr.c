/* authhdr.c -- the Authorization header's scheme and Basic's split. */
#include "authhdr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authhelper.h"
#include "base64.h"
#include "util.h"

enum authhdr_scheme authhdr_scheme(const char *h, const char **creds)
{
	*creds = h;
	if (strncasecmp(h, "Negotiate ", 10) == 0) {
		*creds = h + 10 + strspn(h + 10, " ");
		return AUTHHDR_NEGOTIATE;
	}
	if (strncasecmp(h, "Basic ", 6) == 0) {
		*creds = h + 6 + strspn(h + 6, " ");
		return AUTHHDR_BASIC;
	}
	return AUTHHDR_OTHER;
}

int authhdr_basic(const char *b64, char **user, char **password, const char **why)
{
	size_t n;
	char *raw, *colon;
	int ret = -1;

	*user = *password = NULL;
	raw = (char *)base64_decode(b64, &n);
	if (!raw) {
		*why = "basic: credentials are not valid base64";
		return -1;
	}
	colon = strchr(raw, ':');
	if (!colon || strlen(raw) != n) {
		*why = "basic: malformed credentials";
		goto done;
	}
	*colon = '\0';
	if (!auth_user_name_ok(raw) || strlen(colon + 1) > AUTH_MAX_PASSWORD) {
		*why = "basic: not a valid user name";
		goto done;
	}
	*user = xstrdup(raw);
	*password = xstrdup(colon + 1);
	ret = 0;
done:
	explicit_bzero(raw, n);
	free(raw);
	return ret;
}
