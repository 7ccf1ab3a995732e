/* test_spool.c -- the spool module.  Its pure parts: ids (format, order,
 * a clock that stands still or steps back), the metadata JSON with
 * hostile strings, queue names from request paths, Content-Length against
 * max_size, errno to status.  And the real spool.so through a fake
 * request on a real directory: what a message leaves on disk, and that a
 * body over max_size (announced or streamed), a client that leaves
 * mid-body, a missing, hidden or symlinked queue and a queue the pool may
 * not write leave nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../modules/spool_msg.h"
#include "idgate/module.h"

/* ---------------------------------------------------------------- ids */

static void test_next_stamp(void **state)
{
	uint64_t last = 0;

	(void)state;
	assert_int_equal(spool_next_stamp(100, 50), 100);
	assert_int_equal(spool_next_stamp(100, 100), 101);
	assert_int_equal(spool_next_stamp(90, 100), 101); /* the clock stepped back */
	/* a clock that stands still still gives increasing stamps */
	for (int i = 0; i < 1000; i++) {
		uint64_t s = spool_next_stamp(5000, last);
		assert_true(s > last);
		last = s;
	}
	assert_int_equal(last, 5999);
}

static void test_tag(void **state)
{
	char long_tag[SPOOL_TAG_MAX + 2];

	(void)state;
	assert_true(spool_tag_ok("0123456789abcdef0123456789abcdef"));
	assert_true(spool_tag_ok("A-z_0"));
	assert_false(spool_tag_ok(NULL));
	assert_false(spool_tag_ok(""));
	assert_false(spool_tag_ok("a/b"));
	assert_false(spool_tag_ok(".."));
	assert_false(spool_tag_ok("a b"));
	assert_false(spool_tag_ok("a.meta"));
	assert_false(spool_tag_ok("caf\xc3\xa9"));
	memset(long_tag, 'x', SPOOL_TAG_MAX);
	long_tag[SPOOL_TAG_MAX] = '\0';
	assert_true(spool_tag_ok(long_tag));
	long_tag[SPOOL_TAG_MAX] = 'x';
	long_tag[SPOOL_TAG_MAX + 1] = '\0';
	assert_false(spool_tag_ok(long_tag));
}

static void test_make_id(void **state)
{
	char id[SPOOL_ID_MAX], prev[SPOOL_ID_MAX], tag[SPOOL_TAG_MAX + 1];
	/* across a nanosecond, a second, a minute, a day, a year and a digit count */
	static const uint64_t stamps[] = {
		0, 1, 999999999, 1000000000, 59999999999, 60000000000, 86399999999999,
		86400000000000, 1735689599999999999ull, 1735689600000000000ull,
		1735787045123456789ull, 1735787045123456790ull, 10000000000000000000ull,
	};

	(void)state;
	assert_int_equal(spool_make_id(id, 0, "abc"), 0);
	assert_string_equal(id, "19700101T000000.000000000Z-abc");
	assert_int_equal(spool_make_id(id, 1735787045123456789ull, "3f2a"), 0);
	assert_string_equal(id, "20250102T030405.123456789Z-3f2a");
	assert_int_equal(spool_make_id(id, 1, "bad/tag"), -1);
	assert_int_equal(spool_make_id(id, 1, ""), -1);
	/* the longest tag fits */
	memset(tag, 'f', SPOOL_TAG_MAX);
	tag[SPOOL_TAG_MAX] = '\0';
	assert_int_equal(spool_make_id(id, 1735787045123456789ull, tag), 0);
	assert_int_equal(strlen(id), 27 + SPOOL_TAG_MAX);
	/* plain string order is arrival order, whatever the tags */
	assert_int_equal(spool_make_id(prev, stamps[0], "zzzz"), 0);
	for (size_t i = 1; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		assert_int_equal(spool_make_id(id, stamps[i], "0000"), 0);
		assert_true(strcmp(prev, id) < 0);
		assert_int_equal(strlen(prev) - 4, strlen(id) - 4); /* fixed width */
		assert_int_equal(spool_make_id(prev, stamps[i], "zzzz"), 0);
	}
}

static void test_rfc3339(void **state)
{
	char t[SPOOL_TIME_MAX];

	(void)state;
	assert_int_equal(spool_rfc3339(t, 1735787045123456789ull), 0);
	assert_string_equal(t, "2025-01-02T03:04:05.123456789Z");
	assert_int_equal(spool_rfc3339(t, 5), 0);
	assert_string_equal(t, "1970-01-01T00:00:00.000000005Z");
}

/* ---------------------------------------------------------------- metadata */

static char *meta_json(const struct spool_meta *m)
{
	struct sbuf b;

	sb_init(&b);
	spool_meta_json(&b, m);
	return b.s; /* the caller frees it */
}

static const struct spool_meta plain = {
	.id = "20250102T030405.123456789Z-ab", .queue = "/orders",
	.stamp_ns = 1735787045123456789ull, .request_id = "ab", .method = "POST",
	.path = "/spool/orders", .vdir = "/spool", .principal = "alice@IDGATE.TEST",
	.user = "alice", .uid = 1001, .gid = 1002, .level = IDG_LEVEL_DELEGATION,
	.auth_type = "Negotiate", .client_addr = "::1", .client_port = 40000,
	.content_type = "text/plain; charset=utf-8", .length = 11,
	.sha256 = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
};

static void test_meta_plain(void **state)
{
	char *j = meta_json(&plain);

	(void)state;
	assert_string_equal(j,
		"{\"id\":\"20250102T030405.123456789Z-ab\",\"queue\":\"/orders\","
		"\"time\":\"2025-01-02T03:04:05.123456789Z\",\"request_id\":\"ab\","
		"\"method\":\"POST\",\"path\":\"/spool/orders\",\"vdir\":\"/spool\","
		"\"principal\":\"alice@IDGATE.TEST\",\"user\":\"alice\",\"uid\":1001,\"gid\":1002,"
		"\"level\":\"delegation\",\"auth_type\":\"Negotiate\",\"client\":\"::1\","
		"\"client_port\":40000,\"content_type\":\"text/plain; charset=utf-8\","
		"\"length\":11,\"sha256\":"
		"\"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\"}\n");
	free(j);
}

static void test_meta_anonymous(void **state)
{
	struct spool_meta m = plain;
	char *j;

	(void)state;
	m.principal = m.user = m.auth_type = m.content_type = NULL;
	m.uid = (uid_t)-1;
	m.gid = (gid_t)-1;
	m.level = IDG_LEVEL_ANONYMOUS;
	j = meta_json(&m);
	assert_non_null(strstr(j, ",\"principal\":null,\"user\":null,\"uid\":null,\"gid\":null,"
				  "\"level\":\"anonymous\",\"auth_type\":null,"));
	assert_non_null(strstr(j, ",\"content_type\":null,"));
	free(j);
	/* a principal without a local account: the ids are not shown */
	m.principal = "svc@IDGATE.TEST";
	m.uid = 0;
	m.level = IDG_LEVEL_IDENTIFICATION;
	j = meta_json(&m);
	assert_non_null(strstr(j, ",\"principal\":\"svc@IDGATE.TEST\",\"user\":null,\"uid\":null,"
				  "\"gid\":null,\"level\":\"identification\","));
	free(j);
}

static void test_meta_hostile(void **state)
{
	struct spool_meta m = plain;
	char *j;

	(void)state;
	/* quotes, backslashes, controls, DEL, a fake key, and bytes that are not
	 * UTF-8: a lone continuation, a truncated sequence, an overlong '/', a
	 * surrogate, a code point above U+10FFFF; real UTF-8 passes as it is */
	m.principal = "a\"b\\c\n\r\t\x01\x1f\x7f\",\"uid\":0,\"x\":\"@R";
	m.user = "\x80\xe2\x82 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 caf\xc3\xa9 \xf0\x9f\x98\x80";
	m.content_type = "</script>\u2028";
	m.queue = "/q\"ueue";
	j = meta_json(&m);
	assert_non_null(strstr(j, ",\"principal\":\"a\\\"b\\\\c\\u000a\\u000d\\u0009\\u0001\\u001f"
				  "\\u007f\\\",\\\"uid\\\":0,\\\"x\\\":\\\"@R\","));
	assert_non_null(strstr(j, ",\"user\":\"\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd "
				  "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\\ufffd "
				  "caf\xc3\xa9 \xf0\x9f\x98\x80\","));
	assert_non_null(strstr(j, ",\"content_type\":\"</script>\xe2\x80\xa8\","));
	assert_non_null(strstr(j, ",\"queue\":\"/q\\\"ueue\","));
	/* the uid that counts is still the real one, once */
	assert_non_null(strstr(j, ",\"uid\":1001,"));
	assert_null(strstr(strstr(j, ",\"uid\":1001,") + 1, ",\"uid\":"));
	/* nothing below 0x20 is left raw, but the final newline */
	for (const char *p = j; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || (*p == '\n' && p[1] == '\0'));
	free(j);
}

/* ---------------------------------------------------------------- requests, pure */

static void test_queue_rel(void **state)
{
	char buf[32], tiny[4];

	(void)state;
	assert_string_equal(spool_queue_rel("", buf, sizeof(buf)), ".");
	assert_string_equal(spool_queue_rel(NULL, buf, sizeof(buf)), ".");
	assert_string_equal(spool_queue_rel("/", buf, sizeof(buf)), ".");
	assert_string_equal(spool_queue_rel("/orders", buf, sizeof(buf)), "orders");
	assert_string_equal(spool_queue_rel("/orders/", buf, sizeof(buf)), "orders");
	assert_string_equal(spool_queue_rel("//a//b/", buf, sizeof(buf)), "a/b");
	assert_string_equal(spool_queue_rel("/a b/%2e", buf, sizeof(buf)), "a b/%2e");
	assert_null(spool_queue_rel("/.work", buf, sizeof(buf)));
	assert_null(spool_queue_rel("/a/.b/c", buf, sizeof(buf)));
	assert_null(spool_queue_rel("/..", buf, sizeof(buf)));
	assert_null(spool_queue_rel("/a/..", buf, sizeof(buf)));
	assert_null(spool_queue_rel("/.", buf, sizeof(buf)));
	assert_string_equal(spool_queue_rel("/abc", tiny, sizeof(tiny)), "abc");
	assert_null(spool_queue_rel("/abcd", tiny, sizeof(tiny)));
	assert_null(spool_queue_rel("/ab/c", tiny, sizeof(tiny)));
	assert_string_equal(spool_queue_rel("/", tiny, 2), ".");
}

static void test_length_status(void **state)
{
	uint64_t n = 99;

	(void)state;
	assert_int_equal(spool_length_status(NULL, 10, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(spool_length_status("0", 10, &n), 0);
	assert_int_equal(spool_length_status("10", 10, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(spool_length_status("11", 10, &n), 413);
	assert_int_equal(spool_length_status("0", 0, &n), 0);
	assert_int_equal(spool_length_status("1", 0, &n), 413);
	assert_int_equal(spool_length_status("18446744073709551615", UINT64_MAX, &n), 0);
	assert_true(n == UINT64_MAX);
	assert_int_equal(spool_length_status("18446744073709551616", UINT64_MAX, &n), 413);
	assert_int_equal(spool_length_status("99999999999999999999999999", 10, &n), 413);
	assert_int_equal(spool_length_status("", 10, &n), 400);
	assert_int_equal(spool_length_status("-1", 10, &n), 400);
	assert_int_equal(spool_length_status("+1", 10, &n), 400);
	assert_int_equal(spool_length_status(" 1", 10, &n), 400);
	assert_int_equal(spool_length_status("1 ", 10, &n), 400);
	assert_int_equal(spool_length_status("1k", 10, &n), 400);
	assert_int_equal(spool_length_status("5, 5", 10, &n), 400);
	/* found by fuzz_spool_meta: not a number, however many digits it starts with */
	assert_int_equal(spool_length_status("99999999999999999999999999x", 10, &n), 400);
	assert_int_equal(spool_length_status("18446744073709551616 ", UINT64_MAX, &n), 400);
}

static void test_errno_status(void **state)
{
	(void)state;
	assert_int_equal(spool_errno_status(ENOSPC), 507);
	assert_int_equal(spool_errno_status(EDQUOT), 507);
	assert_int_equal(spool_errno_status(ENOENT), 404);
	assert_int_equal(spool_errno_status(ENOTDIR), 404);
	assert_int_equal(spool_errno_status(ELOOP), 403);
	assert_int_equal(spool_errno_status(EXDEV), 403);
	assert_int_equal(spool_errno_status(EACCES), 500);
	assert_int_equal(spool_errno_status(EPERM), 500);
	assert_int_equal(spool_errno_status(EROFS), 500);
	assert_int_equal(spool_errno_status(EIO), 500);
	assert_string_equal(spool_errno_text(EACCES), "permission denied");
	assert_string_equal(spool_errno_text(ENOSPC), "no space left on device");
	assert_string_equal(spool_errno_text(EDQUOT), "disk quota exceeded");
	assert_string_equal(spool_errno_text(EROFS), "read-only file system (under systemd, add the directory to the unit's ReadWritePaths=: systemctl edit idgate)");
	assert_string_equal(spool_errno_text(ENOENT), "no such queue");
	assert_string_equal(spool_errno_text(EIO), "Input/output error");
}

/* ---------------------------------------------------------------- the module, faked request */

static const struct idg_module *mod;
static char tmp[64], root[128];
static void *ctx;

struct fake {
	struct idg_request pub;
	const char *in_names[4], *in_values[4];
	size_t nin;
	const char *chunks[8]; /* the body, as the client sends it */
	size_t nchunks, next;
	int end_errno;         /* after the chunks: 0 for the end, else read() fails */
	size_t reads;
	int status;
	int64_t length;
	char out[8][2][128];
	size_t nout;
	char body[512];
	char reason[512];
};

static const char *f_header(struct idg_request *r, const char *name)
{
	struct fake *f = (struct fake *)r;
	for (size_t i = 0; i < f->nin; i++)
		if (strcasecmp(f->in_names[i], name) == 0)
			return f->in_values[i];
	return NULL;
}

static ssize_t f_read(struct idg_request *r, void *buf, size_t len)
{
	struct fake *f = (struct fake *)r;
	size_t n;

	f->reads++;
	if (f->next == f->nchunks) {
		if (!f->end_errno)
			return 0;
		errno = f->end_errno;
		return -1;
	}
	n = strlen(f->chunks[f->next]);
	assert_true(n <= len);
	memcpy(buf, f->chunks[f->next++], n);
	return (ssize_t)n;
}

static int f_set_status(struct idg_request *r, int s)
{
	((struct fake *)r)->status = s;
	return 0;
}

static int f_add_header(struct idg_request *r, const char *n, const char *v)
{
	struct fake *f = (struct fake *)r;
	snprintf(f->out[f->nout][0], 128, "%s", n);
	snprintf(f->out[f->nout][1], 128, "%s", v);
	f->nout++;
	return 0;
}

static int f_set_length(struct idg_request *r, int64_t len)
{
	((struct fake *)r)->length = len;
	return 0;
}

static int f_write(struct idg_request *r, const void *buf, size_t len)
{
	struct fake *f = (struct fake *)r;
	size_t have = strlen(f->body);
	assert_true(have + len < sizeof(f->body));
	memcpy(f->body + have, buf, len);
	f->body[have + len] = '\0';
	return 0;
}

static void f_set_reason(struct idg_request *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(((struct fake *)r)->reason, 512, fmt, ap);
	va_end(ap);
}

static void f_log(struct idg_request *r, enum idg_log_level level, const char *fmt, ...)
{
	(void)r;
	(void)level;
	(void)fmt;
}

static const struct idg_request_ops fake_ops = {
	.header = f_header, .read = f_read, .set_status = f_set_status,
	.add_header = f_add_header, .set_length = f_set_length, .write = f_write,
	.set_reason = f_set_reason, .log = f_log,
};

static void hdr(struct fake *f, const char *name, const char *value)
{
	f->in_names[f->nin] = name;
	f->in_values[f->nin] = value;
	f->nin++;
}

static void body(struct fake *f, const char *chunk)
{
	f->chunks[f->nchunks++] = chunk;
}

/* Run one request; the status the client would see. */
static int run(struct fake *f, const char *path_info)
{
	static char path[256];
	int rc;

	snprintf(path, sizeof(path), "/spool%s", path_info);
	f->pub.ops = &fake_ops;
	f->pub.method = "POST";
	f->pub.path = path;
	f->pub.path_info = path_info;
	f->pub.query = "";
	f->pub.vdir = "/spool";
	f->pub.request_id = f->pub.request_id ? f->pub.request_id : "0123456789abcdef";
	f->pub.client_addr = "127.0.0.1";
	f->pub.uid = (uid_t)-1;
	f->pub.gid = (gid_t)-1;
	f->length = -1;
	rc = mod->handle(ctx, &f->pub);
	return rc == IDG_OK ? f->status : rc;
}

/* ---------------------------------------------------------------- init fakes */

struct fake_init {
	struct idg_init pub;
	const char *root, *max_size;
	char error[256];
};

static const char *fi_get(const struct idg_init *ini, const char *key)
{
	const struct fake_init *f = (const struct fake_init *)ini;
	if (strcmp(key, "root") == 0)
		return f->root;
	if (strcmp(key, "max_size") == 0)
		return f->max_size;
	if (strcmp(key, "fsync") == 0)
		return "true";
	return NULL;
}

static int fi_get_bool(const struct idg_init *ini, const char *key)
{
	(void)ini;
	return strcmp(key, "fsync") == 0;
}

static uint64_t fi_get_uint(const struct idg_init *ini, const char *key)
{
	return strtoull(fi_get(ini, key), NULL, 10);
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

static void fi_log(const struct idg_init *ini, enum idg_log_level level, const char *fmt, ...)
{
	(void)ini;
	(void)level;
	(void)fmt;
}

static const struct idg_init_ops fake_init_ops = {
	.get = fi_get, .get_bool = fi_get_bool, .get_uint = fi_get_uint,
	.error = fi_error, .log = fi_log,
};

static int init_with(struct fake_init *fi, const char *r, void **c)
{
	fi->pub.ops = &fake_init_ops;
	fi->pub.vdir = "/spool";
	fi->pub.pool = "default";
	fi->root = r;
	fi->max_size = "16";
	return mod->init(&fi->pub, c);
}

/* ---------------------------------------------------------------- fixture */

static void at(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", root, rel);
}

static void dir_at(const char *rel, mode_t mode)
{
	char path[256];
	at(path, sizeof(path), rel);
	assert_int_equal(mkdir(path, mode), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The names in a directory of root, sorted, joined by spaces. */
static char *names_in(const char *rel)
{
	static char out[1024];
	char path[256];
	struct dirent **list;
	int n;

	at(path, sizeof(path), rel);
	n = scandir(path, &list, NULL, alphasort);
	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(list[i]->d_name, ".") != 0 && strcmp(list[i]->d_name, "..") != 0) {
			if (out[0])
				strcat(out, " ");
			strcat(out, list[i]->d_name);
		}
		free(list[i]);
	}
	free(list);
	return out;
}

static char *slurp(const char *rel, struct stat *st)
{
	static char out[1024];
	char path[256];
	ssize_t n;
	int fd;

	at(path, sizeof(path), rel);
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, st), 0);
	n = read(fd, out, sizeof(out) - 1);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	return out;
}

static void remove_all(const char *rel)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "find %s/%s -maxdepth 1 -name '2*' -delete", root, rel);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	void *dl = dlopen(MODULES_BUILDDIR "/spool.so", RTLD_NOW);
	struct fake_init fi = { 0 };
	char path[256];
	int fd;

	(void)state;
	assert_non_null(dl);
	mod = dlsym(dl, IDG_MODULE_SYMBOL);
	assert_non_null(mod);
	strcpy(tmp, "/tmp/idgate-spool-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 0755), 0);
	snprintf(root, sizeof(root), "%s/root", tmp);
	assert_int_equal(mkdir(root, 0755), 0);
	dir_at("orders", 0755);
	dir_at(".work", 0755);
	dir_at("ro", 0755);
	at(path, sizeof(path), "out");
	assert_int_equal(symlink(tmp, path), 0);
	at(path, sizeof(path), "afile");
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	umask(077); /* the files' mode must not depend on it */
	assert_int_equal(init_with(&fi, root, &ctx), 0);
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

/* ---------------------------------------------------------------- module tests */

static void test_descriptor(void **state)
{
	(void)state;
	assert_string_equal(mod->name, "spool");
	assert_int_equal(mod->impersonation, IDG_IMPERSONATION_NOT_ALLOWED);
	assert_int_equal(mod->methods, IDG_METHOD_POST | IDG_METHOD_PUT);
}

static void test_accepted(void **state)
{
	struct fake f = { 0 };
	char id[SPOOL_ID_MAX], want[300], name[300];
	struct stat st;
	const char *meta;

	(void)state;
	hdr(&f, "Content-Type", "text/plain");
	body(&f, "hello ");
	body(&f, "world");
	f.pub.principal = "alice@IDGATE.TEST";
	f.pub.level = IDG_LEVEL_IMPERSONATION;
	assert_int_equal(run(&f, ""), 202);
	assert_string_equal(f.reason, "");
	/* the answer names the message */
	assert_int_equal(sscanf(f.body, "{\"id\":\"%90[^\"]\",", id), 1);
	assert_int_equal(strlen(id), 26 + 1 + 16);
	assert_string_equal(id + 27, "0123456789abcdef");
	snprintf(want, sizeof(want), "{\"id\":\"%s\",\"queue\":\"/\"}\n", id);
	assert_string_equal(f.body, want);
	assert_int_equal(f.length, (int64_t)strlen(want));
	assert_string_equal(f.out[0][0], "Content-Type");
	assert_string_equal(f.out[0][1], "application/json");
	/* two files, named by the id, 0640 whatever the umask */
	snprintf(want, sizeof(want), ".work %s.body %s.meta afile orders out ro", id, id);
	assert_string_equal(names_in("."), want);
	snprintf(name, sizeof(name), "%s.body", id);
	assert_string_equal(slurp(name, &st), "hello world");
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_nlink, 1);
	snprintf(name, sizeof(name), "%s.meta", id);
	meta = slurp(name, &st);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_non_null(strstr(meta, "\"queue\":\"/\","));
	assert_non_null(strstr(meta, "\"principal\":\"alice@IDGATE.TEST\",\"user\":null,"
				     "\"uid\":null,\"gid\":null,\"level\":\"impersonation\","));
	assert_non_null(strstr(meta, ",\"content_type\":\"text/plain\",\"length\":11,\"sha256\":"
				     "\"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\"}\n"));
	remove_all(".");
}

static void test_empty_body_and_queue(void **state)
{
	struct fake f = { 0 };
	char id[SPOOL_ID_MAX], name[300];
	struct stat st;

	(void)state;
	hdr(&f, "Content-Length", "0");
	assert_int_equal(run(&f, "/orders/"), 202);
	assert_int_equal(sscanf(f.body, "{\"id\":\"%90[^\"]\",", id), 1);
	assert_non_null(strstr(f.body, ",\"queue\":\"/orders\"}"));
	assert_string_equal(names_in("."), ".work afile orders out ro");
	snprintf(name, sizeof(name), "orders/%s.body", id);
	assert_string_equal(slurp(name, &st), "");
	assert_int_equal(st.st_size, 0);
	snprintf(name, sizeof(name), "orders/%s.meta", id);
	assert_non_null(strstr(slurp(name, &st), ",\"content_type\":null,\"length\":0,\"sha256\":"
				"\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}"));
	remove_all("orders");
}

static void test_order(void **state)
{
	char ids[5][SPOOL_ID_MAX], want[1024] = "";

	(void)state;
	/* the same request id every time: the stamps keep them apart, in order */
	for (int i = 0; i < 5; i++) {
		struct fake f = { 0 };
		body(&f, "x");
		assert_int_equal(run(&f, "/orders"), 202);
		assert_int_equal(sscanf(f.body, "{\"id\":\"%90[^\"]\",", ids[i]), 1);
		if (i > 0)
			assert_true(strcmp(ids[i - 1], ids[i]) < 0);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s.body %s.meta",
			 i ? " " : "", ids[i], ids[i]);
	}
	assert_string_equal(names_in("orders"), want);
	remove_all("orders");
}

static void test_hostile_request_id(void **state)
{
	struct fake f = { 0 };
	char id[SPOOL_ID_MAX];

	(void)state;
	f.pub.request_id = "../../etc/x";
	body(&f, "x");
	assert_int_equal(run(&f, ""), 202);
	assert_int_equal(sscanf(f.body, "{\"id\":\"%90[^\"]\",", id), 1);
	/* a random tag instead: 32 hex digits */
	assert_int_equal(strlen(id), 27 + 32);
	assert_int_equal(strspn(id + 27, "0123456789abcdef"), 32);
	remove_all(".");
}

static void test_too_large(void **state)
{
	struct fake a = { 0 }, b = { 0 }, c = { 0 };

	(void)state;
	/* announced: refused before a byte is read */
	hdr(&a, "Content-Length", "17");
	body(&a, "0123456789abcdefg");
	assert_int_equal(run(&a, ""), 413);
	assert_int_equal(a.reads, 0);
	assert_string_equal(a.reason, "spool: the body is over max_size (16 bytes)");
	/* streamed: refused at the byte that is one too many */
	body(&b, "0123456789");
	body(&b, "abcdefg");
	body(&b, "never read");
	assert_int_equal(run(&b, ""), 413);
	assert_int_equal(b.reads, 2);
	assert_string_equal(b.reason, "spool: the body is over max_size (16 bytes)");
	/* exactly max_size is fine */
	body(&c, "0123456789abcdef");
	assert_int_equal(run(&c, "/orders"), 202);
	remove_all("orders");
	assert_string_equal(names_in("."), ".work afile orders out ro");
	assert_string_equal(names_in("orders"), "");
}

static void test_client_leaves(void **state)
{
	struct fake f = { 0 };

	(void)state;
	body(&f, "part of ");
	body(&f, "it");
	f.end_errno = ECONNRESET;
	assert_int_equal(run(&f, "/orders"), IDG_ERROR);
	assert_string_equal(f.reason, "spool: the client went away after 10 bytes; nothing queued");
	assert_int_equal(f.status, 0);
	assert_string_equal(names_in("orders"), "");
	assert_string_equal(names_in("."), ".work afile orders out ro");
}

static void test_queues_refused(void **state)
{
	static const struct { const char *path; int status; const char *reason; } cases[] = {
		{ "/nosuch", 404, "no such queue" },
		{ "/orders/deeper", 404, "no such queue" },
		{ "/afile", 404, "not a queue (not a directory)" },
		{ "/out", 403, "a symbolic link on the way" },
		{ "/.work", 404, NULL },
		{ "/orders/..", 404, NULL },
	};
	char want[300];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f = { 0 };
		body(&f, "x");
		assert_int_equal(run(&f, cases[i].path), cases[i].status);
		if (cases[i].reason)
			snprintf(want, sizeof(want), "spool: %s%s: %s", root, cases[i].path,
				 cases[i].reason);
		else
			snprintf(want, sizeof(want), "spool: %s: not a queue (hidden or too long)",
				 cases[i].path);
		assert_string_equal(f.reason, want);
		assert_int_equal(f.reads, 0);
	}
	assert_string_equal(names_in("."), ".work afile orders out ro");
	assert_string_equal(names_in(".work"), "");
	assert_string_equal(names_in("orders"), "");
}

/* As an unprivileged pool user: a queue it may not write is the
 * administrator's problem (500, with the reason), and leaves nothing. */
static void test_permission_denied(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fake f = { 0 };
		char want[300];
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(90);
		body(&f, "x");
		snprintf(want, sizeof(want), "spool: %s/ro: permission denied", root);
		_exit(run(&f, "/ro") == 500 && strcmp(f.reason, want) == 0 && f.reads == 0 ? 0 : 91);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(names_in("ro"), "");
}

static void test_init_errors(void **state)
{
	struct fake_init fi = { 0 };
	void *c = NULL;
	char ro[256], want[400];
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(init_with(&fi, "/nonexistent/spool", &c), -1);
	assert_string_equal(fi.error, "root: /nonexistent/spool: No such file or directory");
	memset(&fi, 0, sizeof(fi));
	at(ro, sizeof(ro), "afile");
	assert_int_equal(init_with(&fi, ro, &c), -1);
	snprintf(want, sizeof(want), "root: %s: Not a directory", ro);
	assert_string_equal(fi.error, want);
	if (geteuid() != 0)
		return;
	/* the pool's user must be able to write root */
	at(ro, sizeof(ro), "ro");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fake_init g = { 0 };
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(90);
		snprintf(want, sizeof(want), "root: %s: uid 65534 cannot create files in it "
			 "(the pool's user)", ro);
		_exit(init_with(&g, ro, &c) == -1 && strcmp(g.error, want) == 0 ? 0 : 91);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_next_stamp),
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_make_id),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_meta_plain),
		cmocka_unit_test(test_meta_anonymous),
		cmocka_unit_test(test_meta_hostile),
		cmocka_unit_test(test_queue_rel),
		cmocka_unit_test(test_length_status),
		cmocka_unit_test(test_errno_status),
	};
	const struct CMUnitTest module[] = {
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_empty_body_and_queue),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_hostile_request_id),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_client_leaves),
		cmocka_unit_test(test_queues_refused),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_init_errors),
	};
	int failed = cmocka_run_group_tests_name("spool_msg", pure, NULL, NULL);

	return failed | cmocka_run_group_tests_name("spool.so", module, setup, teardown);
}
