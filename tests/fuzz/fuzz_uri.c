/* fuzz_uri.c -- request-target decoding, path normalisation (uri.c) and
 * which vdir serves the path (route.c).
 *
 * Input: a raw request-target.  Properties: a target is refused with 400
 * and a reason, or decoded into a path that is absolute, has no empty,
 * "." or ".." segment and no control character, that normalising again
 * leaves as it is, and that comes back unchanged through
 * uri_encode_path() and uri_parse(); and that path goes to the vdir with
 * the longest path covering it on a segment boundary (of two
 * configurations, one without "/"), with the rest as path_info ("" or
 * from a '/'), or to none when none covers it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "fuzz.h"
#include "route.h"
#include "uri.h"

#define VDIRS "[vdir /app]\nauth = anonymous\n[vdir /app/admin/]\nauth = anonymous\n" \
	"[vdir /apple]\nauth = anonymous\n[vdir /caf\xc3\xa9/c]\nauth = anonymous\n"

static struct config *confs[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const text[2] = { "[vdir /]\nauth = anonymous\n" VDIRS, VDIRS };
	struct diag d = { .msgs = NULL };

	(void)argc;
	(void)argv;
	for (int i = 0; i < 2; i++) {
		confs[i] = config_load_string("route.conf", text[i], &d, false);
		if (!confs[i]) {
			diag_print(&d, stderr);
			fz_fail("cannot load the routes");
		}
	}
	diag_free(&d);
	return 0;
}

/* Does vdir v cover path, read again: "/" every path, another its own path
 * and what lies below it. */
static bool covers(const struct vdir_conf *v, const char *path)
{
	if (strcmp(v->path, "/") == 0)
		return true;
	return strncmp(path, v->path, v->path_len) == 0 &&
	       (path[v->path_len] == '\0' || path[v->path_len] == '/');
}

static void check_route(const struct config *c, const char *path)
{
	const char *info = NULL;
	const struct vdir_conf *v = route_match(c, path, &info);

	for (size_t i = 0; i < c->nvdirs; i++)
		if (covers(&c->vdirs[i], path))
			FZ_CHECK(v && v->path_len >= c->vdirs[i].path_len);
	if (!v) {
		FZ_CHECK(!info);
		return;
	}
	FZ_CHECK(covers(v, path) && info);
	FZ_CHECK(!*info || *info == '/');
	if (v->path_len > 1)
		FZ_CHECK(info == path + v->path_len);
	else
		FZ_CHECK(info == path);
}

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
		check_route(confs[0], path);
		check_route(confs[1], path);
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
