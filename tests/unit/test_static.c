/* test_static.c -- the real static.so, driven through a fake request:
 * path confinement (.., symlinks in and out, absolute symlinks), directory
 * handling, conditional requests and ranges, and the caller's permission
 * checks (a child drops to nobody and must get 403 for a 0600 file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httputil.h"
#include "idgate/module.h"

static const struct idg_module *mod;
static char tmp[64], root[128];
static void *ctx;

/* ---------------------------------------------------------------- fakes */

struct fake {
	struct idg_request pub;
	const char *in_names[8], *in_values[8];
	size_t nin;
	int status;
	int64_t length;
	char out[16][2][256];
	size_t nout;
	bool fd_sent;
	uint64_t off, len;
	char reason[256];
};

static const char *f_header(struct idg_request *r, const char *name)
{
	struct fake *f = (struct fake *)r;
	for (size_t i = 0; i < f->nin; i++)
		if (strcasecmp(f->in_names[i], name) == 0)
			return f->in_values[i];
	return NULL;
}

static int f_set_status(struct idg_request *r, int s)
{
	((struct fake *)r)->status = s;
	return 0;
}

static int f_add_header(struct idg_request *r, const char *n, const char *v)
{
	struct fake *f = (struct fake *)r;
	snprintf(f->out[f->nout][0], 256, "%s", n);
	snprintf(f->out[f->nout][1], 256, "%s", v);
	f->nout++;
	return 0;
}

static int f_set_length(struct idg_request *r, int64_t len)
{
	((struct fake *)r)->length = len;
	return 0;
}

static int f_send_fd(struct idg_request *r, int fd, uint64_t off, uint64_t len)
{
	struct fake *f = (struct fake *)r;
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	f->fd_sent = true;
	f->off = off;
	f->len = len;
	return 0;
}

static void f_set_reason(struct idg_request *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(((struct fake *)r)->reason, 256, fmt, ap);
	va_end(ap);
}

static const struct idg_request_ops fake_ops = {
	.header = f_header, .set_status = f_set_status, .add_header = f_add_header,
	.set_length = f_set_length, .send_fd = f_send_fd, .set_reason = f_set_reason,
};

static const char *out_header(struct fake *f, const char *name)
{
	for (size_t i = 0; i < f->nout; i++)
		if (strcmp(f->out[i][0], name) == 0)
			return f->out[i][1];
	return NULL;
}

/* Run one request; returns the status the client would see. */
static int run(struct fake *f, const char *method, const char *path_info)
{
	f->pub.ops = &fake_ops;
	f->pub.method = method;
	f->pub.path = path_info;
	f->pub.path_info = path_info;
	f->pub.query = "";
	f->length = -1;
	int rc = mod->handle(ctx, &f->pub);
	if (rc == IDG_OK)
		return f->status ? f->status : 200;
	return rc;
}

static void hdr(struct fake *f, const char *name, const char *value)
{
	f->in_names[f->nin] = name;
	f->in_values[f->nin] = value;
	f->nin++;
}

/* ---------------------------------------------------------------- init fakes */

struct fake_init {
	struct idg_init pub;
	const char *root, *index;
	char error[256];
};

static const char *fi_get(const struct idg_init *ini, const char *key)
{
	const struct fake_init *f = (const struct fake_init *)ini;
	if (strcmp(key, "root") == 0)
		return f->root;
	if (strcmp(key, "index") == 0)
		return f->index;
	return NULL;
}

static void fi_error(const struct idg_init *ini, const char *key, const char *fmt, ...)
{
	struct fake_init *f = (struct fake_init *)ini;
	va_list ap;
	int n = snprintf(f->error, sizeof(f->error), "%s: ", key ? key : "-");
	va_start(ap, fmt);
	vsnprintf(f->error + n, sizeof(f->error) - (size_t)n, fmt, ap);
	va_end(ap);
}

static const struct idg_init_ops fake_init_ops = { .get = fi_get, .error = fi_error };

static int init_with(struct fake_init *fi, const char *r, const char *index, void **c)
{
	fi->pub.ops = &fake_init_ops;
	fi->root = r;
	fi->index = index;
	return mod->init(&fi->pub, c);
}

/* ---------------------------------------------------------------- fixture */

static void put(const char *rel, const char *text, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void link_at(const char *target, const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void dir_at(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	void *dl = dlopen(MODULES_BUILDDIR "/static.so", RTLD_NOW);
	struct fake_init fi = { 0 };
	char fifo[200];

	(void)state;
	assert_non_null(dl);
	mod = dlsym(dl, IDG_MODULE_SYMBOL);
	assert_non_null(mod);
	strcpy(tmp, "/tmp/idgate-static-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 0755), 0);
	put("outside.txt", "outside root\n", 0644);
	dir_at("root");
	snprintf(root, sizeof(root), "%s/root", tmp);
	put("root/hello.txt", "hello world", 0644);
	put("root/secret.txt", "for root only", 0600);
	dir_at("root/dir");
	put("root/dir/index.html", "idx", 0644);
	dir_at("root/empty");
	link_at("hello.txt", "root/link_in");
	link_at("/etc/passwd", "root/link_abs");
	link_at("../outside.txt", "root/link_up");
	link_at("../../outside.txt", "root/dir/link_up2");
	link_at(root, "root/link_self_abs"); /* absolute, even to root itself */
	snprintf(fifo, sizeof(fifo), "%s/fifo", root);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(init_with(&fi, root, "index.html", &ctx), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	mod->cleanup(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* ---------------------------------------------------------------- tests */

static void test_plain_file(void **state)
{
	struct fake f = { 0 };

	(void)state;
	assert_int_equal(run(&f, "GET", "/hello.txt"), 200);
	assert_true(f.fd_sent);
	assert_int_equal(f.off, 0);
	assert_int_equal(f.len, 11);
	assert_string_equal(out_header(&f, "Content-Type"), "text/plain; charset=utf-8");
	assert_string_equal(out_header(&f, "Accept-Ranges"), "bytes");
	assert_non_null(out_header(&f, "ETag"));
	assert_int_equal(out_header(&f, "ETag")[0], '"');
	assert_true(http_date_parse(out_header(&f, "Last-Modified")) > 0);
}

static void expect_status(const char *path, int status, const char *reason_part)
{
	struct fake f = { 0 };
	int got = run(&f, "GET", path);

	if (got != status)
		fprintf(stderr, "%s: got %d (%s)\n", path, got, f.reason);
	assert_int_equal(got, status);
	assert_false(f.fd_sent && status >= 300);
	if (reason_part)
		assert_non_null(strstr(f.reason, reason_part));
}

static void test_confinement(void **state)
{
	(void)state;
	expect_status("/link_in", 200, NULL);
	expect_status("/link_abs", 403, "resolves outside root");
	expect_status("/link_up", 403, "resolves outside root");
	expect_status("/dir/link_up2", 403, "resolves outside root");
	expect_status("/link_self_abs/hello.txt", 403, "resolves outside root");
	/* the front end never passes "..", but the module must not rely on it */
	expect_status("/../outside.txt", 403, "resolves outside root");
	expect_status("/dir/../../outside.txt", 403, "resolves outside root");
	expect_status("/nope", 404, "not found");
	expect_status("/hello.txt/", 404, "not found");
	expect_status("/fifo", 403, "not a regular file");
	expect_status("/empty/", 403, "no index.html and listings are off");
}

static void test_directories(void **state)
{
	struct fake f = { 0 };

	(void)state;
	f.pub.query = "";
	assert_int_equal(run(&f, "GET", "/dir"), 301);
	assert_string_equal(out_header(&f, "Location"), "/dir/");
	memset(&f, 0, sizeof(f));
	assert_int_equal(run(&f, "GET", "/dir/"), 200);
	assert_true(f.fd_sent);
	assert_int_equal(f.len, 3);
	assert_string_equal(out_header(&f, "Content-Type"), "text/html; charset=utf-8");
	memset(&f, 0, sizeof(f));
	/* root has no index.html, and listings are refused */
	assert_int_equal(run(&f, "GET", "/"), 403);
	assert_false(f.fd_sent);
}

static void range(const char *spec, int status, uint64_t off, uint64_t len, const char *cr)
{
	struct fake f = { 0 };

	hdr(&f, "Range", spec);
	assert_int_equal(run(&f, "GET", "/hello.txt"), status);
	if (status == 206 || status == 200) {
		assert_true(f.fd_sent);
		assert_int_equal(f.off, off);
		assert_int_equal(f.len, len);
	} else {
		assert_false(f.fd_sent);
	}
	if (cr)
		assert_string_equal(out_header(&f, "Content-Range"), cr);
	else
		assert_null(out_header(&f, "Content-Range"));
}

static void test_ranges(void **state)
{
	struct fake f = { 0 };

	(void)state;
	range("bytes=0-4", 206, 0, 5, "bytes 0-4/11");
	range("bytes=6-", 206, 6, 5, "bytes 6-10/11");
	range("bytes=-3", 206, 8, 3, "bytes 8-10/11");
	range("bytes=-30", 206, 0, 11, "bytes 0-10/11");
	range("bytes=5-100", 206, 5, 6, "bytes 5-10/11");
	range("bytes=11-", 416, 0, 0, "bytes */11");
	range("bytes=-0", 416, 0, 0, "bytes */11");
	range("bytes=0-1,3-4", 200, 0, 11, NULL);
	range("bytes=4-2", 200, 0, 11, NULL);
	range("items=0-1", 200, 0, 11, NULL);
	range("bytes=x-y", 200, 0, 11, NULL);
	hdr(&f, "Range", "bytes=0-1");
	assert_int_equal(run(&f, "HEAD", "/hello.txt"), 200);
	assert_int_equal(f.len, 11);
}

/* Found by fuzz_static: an HTTP date is an IMF-fixdate (RFC 9110 5.6.7)
 * that names a real time -- two digits for the day, hour, minute and
 * second, four for the year, each in range, a day its month has -- or it
 * is no date (the conditional header is then ignored); sscanf took signs,
 * blanks and one digit, and timegm() made Feb 29 2005 into Mar 1. */
static void test_http_date_strict(void **state)
{
	static const struct { const char *s; time_t t; } good[] = {
		{ "Thu, 01 Jan 2026 00:00:00 GMT", 1767225600 },
		{ "Sun, 29 Feb 2004 23:59:59 GMT", 1078099199 },
		{ "Thu, 31 Dec 2026 23:59:60 GMT", 1798761600 },
		{ "Mon, 01 Jan 1970 00:00:00 GMT", 0 },
	};
	static const char *const bad[] = {
		"Sun, 29 Feb 2005 23:59:60 GMT", "Thu, 31 Apr 2026 00:00:00 GMT",
		"Thu, 01 Jan 2026 -1:00:00 GMT", "Thu,  1 Jan 2026 00:00:00 GMT",
		"Thu, 01 Jan 2026 0:00:00 GMT",  "Thu, +1 Jan 2026 00:00:00 GMT",
		"Thu, 01 Jan 2026 00:-1:00 GMT", "Thu, 01 Jan 2026 00:00:-1 GMT",
		"Thu, 00 Jan 2026 00:00:00 GMT", "Xyz, 01 Jan 2026 00:00:00 GMT",
		"Thu,01 Jan 2026 00:00:00 GMT",  "Thu, 01 Jan 2026 00:00:00 GMT ",
		"Thu, 01 Jan 1969 23:59:59 GMT", "Thu, 01 jan 2026 00:00:00 GMT",
	};
	char wrong[2048] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (http_date_parse(good[i].s) != good[i].t)
			snprintf(wrong + strlen(wrong), sizeof(wrong) - strlen(wrong),
				 " '%s' refused;", good[i].s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (http_date_parse(bad[i]) != (time_t)-1)
			snprintf(wrong + strlen(wrong), sizeof(wrong) - strlen(wrong),
				 " '%s' accepted;", bad[i]);
	if (wrong[0])
		fail_msg("dates:%s", wrong);
}

/* Found by fuzz_static: a range is digits only (RFC 9110 14.1.2), with
 * blanks allowed after it whatever its form; a sign, a blank inside, or
 * anything after the blanks, and the header is ignored (200, the whole
 * file).  (libmicrohttpd trims a value's blanks; the module must not rely
 * on it.) */
static void test_ranges_strict(void **state)
{
	static const struct { const char *spec; int status; } cases[] = {
		{ "bytes=6- x", 200 },    { "bytes=6-\tjunk", 200 }, { "bytes=+5-6", 200 },
		{ "bytes=5-+6", 200 },    { "bytes=5- 6", 200 },      { "bytes=-+3", 200 },
		{ "bytes=- 3", 200 },     { "bytes=5-\t6", 200 },     { "bytes=0-4 ", 206 },
		{ "bytes=0-4\t", 206 },   { "bytes=-3 ", 206 },       { "bytes=6- ", 206 },
		{ "bytes=18446744073709551616-", 416 }, { "bytes=0-18446744073709551616", 206 },
	};
	char wrong[1024] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f = { 0 };
		hdr(&f, "Range", cases[i].spec);
		int st = run(&f, "GET", "/hello.txt");
		if (st != cases[i].status)
			snprintf(wrong + strlen(wrong), sizeof(wrong) - strlen(wrong),
				 " '%s' got %d (want %d);", cases[i].spec, st, cases[i].status);
	}
	if (wrong[0])
		fail_msg("ranges:%s", wrong);
}

static void etag_of(char *buf, size_t len)
{
	struct fake f = { 0 };
	assert_int_equal(run(&f, "GET", "/hello.txt"), 200);
	snprintf(buf, len, "%s", out_header(&f, "ETag"));
}

static int with_header(const char *name, const char *value, struct fake *f)
{
	memset(f, 0, sizeof(*f));
	hdr(f, name, value);
	return run(f, "GET", "/hello.txt");
}

static void test_conditionals(void **state)
{
	char etag[64], weak[80], list[160], past[40], future[40];
	struct fake f;

	(void)state;
	etag_of(etag, sizeof(etag));
	snprintf(weak, sizeof(weak), "W/%s", etag);
	snprintf(list, sizeof(list), "\"nope\", %s", etag);
	http_date(time(NULL) - 86400 * 365 * 20, past, sizeof(past));
	http_date(time(NULL) + 86400, future, sizeof(future));

	assert_int_equal(with_header("If-None-Match", etag, &f), 304);
	assert_false(f.fd_sent);
	assert_int_equal(f.length, 11); /* the representation's length */
	assert_string_equal(out_header(&f, "ETag"), etag);
	assert_int_equal(with_header("If-None-Match", weak, &f), 304);
	assert_int_equal(with_header("If-None-Match", list, &f), 304);
	assert_int_equal(with_header("If-None-Match", "*", &f), 304);
	assert_int_equal(with_header("If-None-Match", "\"other\"", &f), 200);
	assert_int_equal(with_header("If-Modified-Since", future, &f), 304);
	assert_int_equal(with_header("If-Modified-Since", past, &f), 200);
	assert_int_equal(with_header("If-Modified-Since", "garbage", &f), 200);
	assert_int_equal(with_header("If-Match", "\"other\"", &f), 412);
	assert_int_equal(with_header("If-Match", weak, &f), 412); /* strong comparison */
	assert_int_equal(with_header("If-Match", etag, &f), 200);
	assert_int_equal(with_header("If-Match", "*", &f), 200);
	assert_int_equal(with_header("If-Unmodified-Since", past, &f), 412);
	assert_int_equal(with_header("If-Unmodified-Since", future, &f), 200);

	memset(&f, 0, sizeof(f));
	hdr(&f, "Range", "bytes=0-0");
	hdr(&f, "If-Range", etag);
	assert_int_equal(run(&f, "GET", "/hello.txt"), 206);
	memset(&f, 0, sizeof(f));
	hdr(&f, "Range", "bytes=0-0");
	hdr(&f, "If-Range", "\"changed\"");
	assert_int_equal(run(&f, "GET", "/hello.txt"), 200);
	assert_int_equal(f.len, 11);
}

/* As nobody, a 0600 root file is EACCES -> 403; a 0644 one is served. */
static void test_caller_permissions(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0) {
		/* not root: we are already an unprivileged caller */
		expect_status("/secret.txt", 403, "permission denied");
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fake f = { 0 }, g = { 0 };
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(90);
		int a = run(&f, "GET", "/secret.txt");
		int b = run(&g, "GET", "/hello.txt");
		_exit(a == 403 && strstr(f.reason, "permission denied") && b == 200 ? 0 : 91);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_init_errors(void **state)
{
	struct fake_init fi = { 0 };
	void *c = NULL;

	(void)state;
	assert_int_equal(init_with(&fi, "/nonexistent/www", "index.html", &c), -1);
	assert_string_equal(fi.error, "root: /nonexistent/www: No such file or directory");
	memset(&fi, 0, sizeof(fi));
	assert_int_equal(init_with(&fi, root, "sub/index.html", &c), -1);
	assert_string_equal(fi.error, "index: 'sub/index.html' must be a file name, not a path");
	memset(&fi, 0, sizeof(fi));
	assert_int_equal(init_with(&fi, "/etc/hostname", "index.html", &c), -1);
	assert_string_equal(fi.error, "root: /etc/hostname: Not a directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_file),
		cmocka_unit_test(test_confinement),
		cmocka_unit_test(test_directories),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_ranges_strict),
		cmocka_unit_test(test_http_date_strict),
		cmocka_unit_test(test_conditionals),
		cmocka_unit_test(test_caller_permissions),
		cmocka_unit_test(test_init_errors),
	};
	return cmocka_run_group_tests_name("static", tests, setup, teardown);
}
