/* fuzz_config.c -- idgate.conf (config.c through inih, and confread.c for
 * `include`), from a string: config_load_string, handlers not loaded.
 *
 * The configuration is the administrator's, but it is parsed as root and
 * every byte of it must give a FILE:LINE message or a configuration,
 * never a crash.  The parser reads what a configuration names (include
 * patterns, tls_cert, tls_key, keytab) and looks at more (runtime_dir,
 * pam_service): so that no input opens a device, a FIFO or some large
 * part of the system, inputs that name a file outside this target's own
 * directory (its working directory, which holds a few files to include)
 * are skipped, but for absolute names below /etc, /srv and /nonexistent.
 *
 * Properties: a configuration that loads has its vdirs normalised, unique
 * and sorted longest first, each with a pool and a handler; one that
 * does not has at least one error.
 *
 * The users and groups a configuration names are looked up through
 * nsscache.c, which asks NSS once per name (a third of the time went to
 * reading /etc/passwd and systemd's userdb for every input), and ASan
 * keeps 2 frames of each allocation's and free's stack (below). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "fuzz.h"
#include "uri.h"

static char conf_name[PATH_MAX];

/* ASan's default keeps 30 frames of every malloc's and free's stack in its
 * stack depot, which never forgets one.  Most of the parser's allocations
 * come through libc (vasprintf, strdup, getline, glob, realpath), built
 * without frame pointers: past libc's frame the fast unwinder reads
 * whatever lies on the stack (perf showed frames such as 0xbebebebe...,
 * ASan's malloc fill), so nearly every such stack was a new one.  The
 * depot grew without end: after 1.8 million executions StackDepot::Put
 * took a quarter of the time and the process 750 MB, at 1,000 executions
 * a second and falling.  With 2 frames (the allocating function and its
 * caller) ASan finds every error as before and reports the access's whole
 * stack; for more of an allocation's, replay the input with
 * ASAN_OPTIONS=malloc_context_size=30. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "malloc_context_size=2";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fz_tmpdir();

	(void)argc;
	(void)argv;
	if (chdir(dir) < 0 || mkdir("conf.d", 0755) < 0)
		fz_fail("cannot prepare %s", dir);
	snprintf(conf_name, sizeof(conf_name), "%s/idgate.conf", dir);
	fz_write_file("conf.d/10-app.conf", "[vdir /inc]\nhandler = static\nroot = /srv/www\n");
	fz_write_file("conf.d/20-pool.conf", "[pool inc]\nthreads = 2\n\n[vdir /inc/p]\npool = inc\n");
	fz_write_file("nested.conf", "include = conf.d/*.conf\n[server]\nlisten = 127.0.0.1:1\n");
	fz_write_file("loop.conf", "include = loop.conf\n");
	fz_write_file("broken.conf", "[vdir\nkey\n[pool ]\n");
	fz_write_file("krb5.conf", "[libdefaults]\n\tdefault_realm = FUZZ.TEST\n");
	/* no krb5.conf of the system's, no keytab of the system's */
	setenv("KRB5_CONFIG", "krb5.conf", 1);
	setenv("KRB5_KTNAME", "FILE:no-keytab", 1);
	return 0;
}

static bool allowed_absolute(const char *s)
{
	static const char *const ok[] = { "/etc/", "/srv/", "/nonexistent/" };

	if (!s[1] || strchr(" \t\r\n,;#\"'", s[1]))
		return true; /* "/" itself */
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncmp(s, ok[i], strlen(ok[i])) == 0)
			return true;
	return false;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* "scheme://" of a URL (a proxy's backend), but not "FILE://" (a keytab) */
static bool url_slashes(const char *line, const char *c)
{
	if (c - line < 2 || c[-1] != ':' || c[1] != '/')
		return false;
	return !(c - line >= 5 && strncmp(c - 5, "FILE:", 5) == 0);
}

/* Section headers name no file; other lines may, anywhere in them: a name
 * is absolute where a '/' follows no name character. */
static bool names_only_here(const char *text)
{
	if (strstr(text, ".."))
		return false;
	for (const char *line = text; *line;) {
		const char *end = line + strcspn(line, "\n"), *s = line + strspn(line, " \t\r");
		bool include = strncmp(s, "include", 7) == 0;
		for (const char *c = s; *s != '[' && c < end; c++) {
			if (*c != '/' || (c > s && name_char(c[-1])))
				continue;
			if (url_slashes(s, c))
				c++; /* and the second '/' */
			else if (include || !allowed_absolute(c))
				return false;
		}
		line = *end ? end + 1 : end;
	}
	return true;
}

static void check_config(const struct config *c)
{
	for (size_t i = 0; i < c->nvdirs; i++) {
		const struct vdir_conf *v = &c->vdirs[i];
		char *p = strdup(v->path);
		FZ_CHECK(v->path[0] == '/' && strlen(v->path) == v->path_len);
		FZ_CHECK(v->path_len == 1 || v->path[v->path_len - 1] != '/');
		FZ_CHECK(path_normalize(p, PATH_KEEP_DOTS_ERROR) == 0 &&
			 strncmp(p, v->path, v->path_len) == 0);
		free(p);
		FZ_CHECK(v->index == i && v->handler);
		FZ_CHECK(v->pool >= c->pools && v->pool < c->pools + c->npools);
		if (i)
			FZ_CHECK(c->vdirs[i - 1].path_len >= v->path_len);
		for (size_t k = 0; k < i; k++)
			FZ_CHECK(strcmp(c->vdirs[k].path, v->path) != 0);
	}
	for (size_t i = 0; i < c->npools; i++)
		FZ_CHECK(c->pools[i].name && c->pools[i].user && c->pools[i].index == i);
	FZ_CHECK(c->server.nlisten >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_copy(data, size);
	struct diag d = { .msgs = NULL };
	struct config *c;

	if (!names_only_here(text)) {
		free(text);
		return -1; /* not added to the corpus */
	}
	c = config_load_string(conf_name, text, &d, false);
	if (c) {
		FZ_CHECK(d.nerrors == 0);
		check_config(c);
		config_free(c);
	} else {
		FZ_CHECK(d.nerrors > 0);
	}
	diag_free(&d);
	free(text);
	return 0;
}
