/* fuzz_uri.c -- request-target decoding and path normalisation (uri.c).
 *
 * Input: a raw request-target.  Properties: a target is refused with 400
 * and a reason, or decoded into a path that is absolute, has no empty,
 * "." or ".." segment and no control character, that normalising again
 * leaves as it is, and that comes back unchanged through
 * uri_encode_path() and uri_parse(). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "uri.h"

/* What path_normalize() makes: no empty, "." or ".." segment, and a
 * fixed point. */
static void check_normal(const char *p)
{
	char *again = strdup(p);

	FZ_CHECK(p[0] == '/');
	FZ_CHECK(!strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../"));
	size_t n = strlen(p);
	FZ_CHECK(!(n >= 2 && strcmp(p + n - 2, "/.") == 0));
	FZ_CHECK(!(n >= 3 && strcmp(p + n - 3, "/..") == 0));
	FZ_CHECK(path_normalize(again, PATH_KEEP_DOTS_ERROR) == 0);
	FZ_CHECK(strcmp(again, p) == 0);
	FZ_CHECK(path_normalize(again, 0) == 0);
	FZ_CHECK(strcmp(again, p) == 0);
	free(again);
}

static void check_encoding(const char *p)
{
	char *enc = uri_encode_path(p), *path, *query;
	const char *why = NULL;

	FZ_CHECK(uri_parse(enc, &path, &query, &why) == 0);
	FZ_CHECK(strcmp(path, p) == 0);
	FZ_CHECK(strcmp(query, "") == 0);
	free(enc);
	free(path);
	free(query);
}

/* path_normalize alone, on what it gets: decoded paths */
static void check_normalize(const char *raw)
{
	char *p = strdup(raw);

	if (path_normalize(p, 0) == 0)
		check_normal(p);
	free(p);
	p = strdup(raw);
	if (path_normalize(p, PATH_KEEP_DOTS_ERROR) == 0)
		FZ_CHECK(p[0] == '/' && !strstr(p, "//"));
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = fz_copy(data, size), *path, *query;
	const char *why = NULL;
	int st = uri_parse(raw, &path, &query, &why);

	if (st == 0) {
		FZ_CHECK(path && query);
		check_normal(path);
		for (const unsigned char *c = (const unsigned char *)path; *c; c++)
			FZ_CHECK(*c >= 0x20 && *c != 0x7f);
		check_encoding(path);
		FZ_CHECK(!strchr(query, '#'));
		free(path);
		free(query);
	} else {
		FZ_CHECK(st == 400 && why && !path && !query);
	}
	check_normalize(raw);
	free(raw);
	return 0;
}
