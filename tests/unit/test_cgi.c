/* test_cgi.c -- the pure parts of the cgi module: the response-head parser
 * (valid heads, Status, Location, CRLF and LF, every malformed class, the
 * size limit), the environment builder (RFC 3875 variables, identity
 * variables present and absent, no HTTP_PROXY, no Authorization, no
 * control characters, limits), and the program lookup with suexec's
 * checks on a real directory tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../modules/cgi_env.h"
#include "../../modules/cgi_head.h"
#include "../../modules/cgi_path.h"
#include "spawner.h"

/* ---------------------------------------------------------------- head parser */

/* Parse a whole head given as a C string; -1 with h->error when refused. */
static int parse(const char *text, struct cgi_head *h, char *copy, size_t size)
{
	size_t len = strlen(text);
	ssize_t hl;

	assert_true(len < size);
	memcpy(copy, text, len + 1);
	hl = cgi_head_length(copy, len);
	if (hl <= 0) {
		snprintf(h->error, sizeof(h->error), "length %zd", hl);
		return -1;
	}
	return cgi_head_parse(copy, (size_t)hl, h);
}

static void test_head_length(void **state)
{
	char big[CGI_HEAD_MAX + 8];

	(void)state;
	assert_int_equal(cgi_head_length("", 0), 0);
	assert_int_equal(cgi_head_length("Content-Type: a/b\n", 18), 0);
	assert_int_equal(cgi_head_length("Content-Type: a/b\r\n", 19), 0);
	assert_int_equal(cgi_head_length("Content-Type: a/b\n\nbody", 23), 19);
	assert_int_equal(cgi_head_length("Content-Type: a/b\r\n\r\nbody", 25), 21);
	assert_int_equal(cgi_head_length("Content-Type: a/b\n\r\n", 20), 20);
	assert_int_equal(cgi_head_length("\n", 1), 1);
	/* a head that ends exactly at the limit is fine, one byte more is not */
	memset(big, 'x', sizeof(big));
	memcpy(big, "X-A: ", 5);
	big[CGI_HEAD_MAX - 2] = '\n';
	big[CGI_HEAD_MAX - 1] = '\n';
	assert_int_equal(cgi_head_length(big, sizeof(big)), CGI_HEAD_MAX);
	big[CGI_HEAD_MAX - 2] = 'x';
	big[CGI_HEAD_MAX - 1] = '\n';
	big[CGI_HEAD_MAX] = '\n';
	assert_int_equal(cgi_head_length(big, sizeof(big)), -1);
	/* no end in sight: more is needed until the limit, then it is too large */
	memset(big, 'x', sizeof(big));
	assert_int_equal(cgi_head_length(big, CGI_HEAD_MAX - 1), 0);
	assert_int_equal(cgi_head_length(big, CGI_HEAD_MAX), -1);
}

static void test_head_valid(void **state)
{
	struct cgi_head h;
	char buf[512];

	(void)state;
	assert_int_equal(parse("Content-Type: text/plain\n\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.status, 200);
	assert_string_equal(h.content_type, "text/plain");
	assert_null(h.location);
	assert_int_equal(h.content_length, -1);
	assert_int_equal(h.nfields, 0);

	assert_int_equal(parse("content-type:text/html; charset=utf-8 \r\nX-Thing:  a  b\t\r\n"
			       "Content-Length: 42\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
			       "X-Empty:\r\n\r\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.status, 200);
	assert_string_equal(h.content_type, "text/html; charset=utf-8");
	assert_int_equal(h.content_length, 42);
	assert_int_equal(h.nfields, 4);
	assert_string_equal(h.fields[0].name, "X-Thing");
	assert_string_equal(h.fields[0].value, "a  b");
	assert_string_equal(h.fields[1].name, "Set-Cookie");
	assert_string_equal(h.fields[2].value, "b=2");
	assert_string_equal(h.fields[3].name, "X-Empty");
	assert_string_equal(h.fields[3].value, "");

	/* mixed line ends are each fine */
	assert_int_equal(parse("Content-Type: a/b\r\nX-A: 1\n\r\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.nfields, 1);
	/* obs-text passes */
	assert_int_equal(parse("Content-Type: a/b\nX-A: caf\xc3\xa9\n\n", &h, buf, sizeof(buf)), 0);
	assert_string_equal(h.fields[0].value, "caf\xc3\xa9");
}

static void test_head_status_location(void **state)
{
	struct cgi_head h;
	char buf[512];

	(void)state;
	assert_int_equal(parse("Status: 404 Not Found\nContent-Type: text/plain\n\n", &h, buf,
			       sizeof(buf)), 0);
	assert_int_equal(h.status, 404);
	assert_int_equal(parse("Status: 201\r\nContent-Type: a/b\r\n\r\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.status, 201);
	assert_int_equal(parse("Location: http://example.test/x?y\n\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.status, 302);
	assert_string_equal(h.location, "http://example.test/x?y");
	assert_null(h.content_type);
	assert_int_equal(parse("Status: 301 Moved\nLocation: /new\n\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.status, 301);
	assert_string_equal(h.location, "/new");
	assert_int_equal(parse("Status: 599\nContent-Type: a/b\n\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.status, 599);
	/* a status without a body needs no Content-Type */
	assert_int_equal(parse("Status: 204 No Content\n\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.status, 204);
	assert_int_equal(parse("Status: 304\n\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.status, 304);
	/* the same Content-Length twice is no conflict */
	assert_int_equal(parse("Content-Type: a/b\nContent-Length: 5\nContent-Length: 5\n\n", &h,
			       buf, sizeof(buf)), 0);
	assert_int_equal(h.content_length, 5);
	assert_int_equal(parse("Content-Type: a/b\nContent-Length: 0\n\n", &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.content_length, 0);
}

static void test_head_dropped(void **state)
{
	struct cgi_head h;
	char buf[512];

	(void)state;
	assert_int_equal(parse("Content-Type: a/b\nConnection: close\nKeep-Alive: 5\n"
			       "Transfer-Encoding: chunked\nTE: trailers\nTrailer: X\n"
			       "Upgrade: h2c\nDate: yesterday\nServer: evil/1.0\nX-Kept: yes\n\n",
			       &h, buf, sizeof(buf)), 0);
	assert_int_equal(h.ndropped, 8);
	assert_int_equal(h.nfields, 1);
	assert_string_equal(h.fields[0].name, "X-Kept");
}

/* Each malformed class, with the reason it gets. */
static void test_head_malformed(void **state)
{
	static const struct {
		const char *head, *error;
	} bad[] = {
		{ "Content-Type a/b\n\n", "malformed response header line" },
		{ "Content-Type : a/b\n\n", "malformed response header line" },
		{ ": a/b\nContent-Type: a/b\n\n", "malformed response header line" },
		{ "Content-Type: a/b\nX-A: 1\n continued\n\n", "malformed response header line" },
		{ "Content-Type: a/b\n\tX-A: 1\n\n", "malformed response header line" },
		{ "Content-Type: a/b\rX-A: 1\n\n", "malformed response header line" },
		{ "Content-Type: a/b\nX-A: 1\r\r\n\n", "malformed response header line" },
		{ "Content-Type: a/b\nX-A: a\x01z\n\n", "malformed response header line" },
		{ "Content-Type: a/b\nX-A: a\x7fz\n\n", "malformed response header line" },
		{ "Content-Type: a/b\nX(A): 1\n\n", "malformed response header line" },
		{ "Content-Type: a/b\nX\xc3\xa9: 1\n\n", "malformed response header line" },
		{ "HTTP/1.1 200 OK\nContent-Type: a/b\n\n", "malformed response header line" },
		{ "Status: 100 Continue\nContent-Type: a/b\n\n",
		  "Status 100 is not a final status (200-599)" },
		{ "Status: 199\nContent-Type: a/b\n\n", "Status 199 is not a final status (200-599)" },
		{ "Status: 600\nContent-Type: a/b\n\n", "Status 600 is not a final status (200-599)" },
		{ "Status: 20\nContent-Type: a/b\n\n", "invalid Status" },
		{ "Status: 200OK\nContent-Type: a/b\n\n", "invalid Status" },
		{ "Status: abc\nContent-Type: a/b\n\n", "invalid Status" },
		{ "Status: 099\nContent-Type: a/b\n\n", "invalid Status" },
		{ "Status:\nContent-Type: a/b\n\n", "invalid Status" },
		{ "Status: 200\nStatus: 200\nContent-Type: a/b\n\n", "repeated Status" },
		{ "Content-Type: a/b\nContent-Length: -1\n\n", "invalid Content-Length" },
		{ "Content-Type: a/b\nContent-Length: 1x\n\n", "invalid Content-Length" },
		{ "Content-Type: a/b\nContent-Length: 5, 5\n\n", "invalid Content-Length" },
		{ "Content-Type: a/b\nContent-Length: 1234567890123456789\n\n",
		  "invalid Content-Length" },
		{ "Content-Type: a/b\nContent-Length:\n\n", "invalid Content-Length" },
		{ "Content-Type: a/b\nContent-Length: 5\nContent-Length: 6\n\n",
		  "conflicting Content-Length" },
		{ "Content-Type: a/b\nContent-Type: c/d\n\n", "repeated Content-Type" },
		{ "Content-Type:\n\n", "empty Content-Type" },
		{ "Location: /a\nLocation: /b\n\n", "repeated Location" },
		{ "Location: \n\n", "empty Location" },
		{ "X-A: 1\n\n", "no Content-Type or Location in the response head" },
		{ "Status: 200\n\n", "no Content-Type or Location in the response head" },
		{ "\n", "no Content-Type or Location in the response head" },
	};
	struct cgi_head h;
	char buf[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].head, &h, buf, sizeof(buf));
		if (rc != -1 || strcmp(h.error, bad[i].error) != 0)
			fail_msg("head %zu: rc %d, error '%s', want '%s'", i, rc, h.error,
				 bad[i].error);
	}
}

static void test_head_nul_and_limits(void **state)
{
	char buf[64], big[CGI_HEAD_MAX];
	struct cgi_head h;
	size_t at = 0;

	(void)state;
	/* a NUL inside a line (C strings cannot carry it: by length) */
	memcpy(buf, "Content-Type: a/b\nX-A: a\0b\n\n", 28);
	assert_int_equal(cgi_head_length(buf, 28), 28);
	assert_int_equal(cgi_head_parse(buf, 28, &h), -1);
	assert_string_equal(h.error, "malformed response header line");
	/* too many fields to pass on */
	at += (size_t)snprintf(big, sizeof(big), "Content-Type: a/b\n");
	for (int i = 0; i <= CGI_HEAD_MAX_FIELDS; i++)
		at += (size_t)snprintf(big + at, sizeof(big) - at, "X-%d: %d\n", i, i);
	at += (size_t)snprintf(big + at, sizeof(big) - at, "\n");
	assert_int_equal(cgi_head_length(big, at), (ssize_t)at);
	assert_int_equal(cgi_head_parse(big, at, &h), -1);
	assert_string_equal(h.error, "too many response header fields");
}

/* ---------------------------------------------------------------- environment */

struct fake {
	struct idg_request pub;
	const char *names[400], *values[400];
	size_t n;
	char joined[1024];
};

static const char *f_header(struct idg_request *r, const char *name)
{
	struct fake *f = (struct fake *)r;
	const char *first = NULL;
	size_t count = 0;

	f->joined[0] = '\0';
	for (size_t i = 0; i < f->n; i++) {
		if (strcasecmp(f->names[i], name) != 0)
			continue;
		if (count++ == 0)
			first = f->values[i];
		snprintf(f->joined + strlen(f->joined), sizeof(f->joined) - strlen(f->joined),
			 "%s%s", count > 1 ? ", " : "", f->values[i]);
	}
	return count > 1 ? f->joined : first;
}

static int f_header_at(struct idg_request *r, size_t i, const char **name, const char **value)
{
	struct fake *f = (struct fake *)r;

	if (i >= f->n)
		return 0;
	*name = f->names[i];
	*value = f->values[i];
	return 1;
}

static const struct idg_request_ops fake_ops = { .header = f_header, .header_at = f_header_at };

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->pub = (struct idg_request){
		.ops = &fake_ops, .method = "POST", .path = "/cgi/app.cgi/extra path",
		.path_info = "/app.cgi/extra path", .query = "a=1&b=%20", .vdir = "/cgi",
		.pool = "default", .request_id = "req-42", .client_addr = "127.0.0.1",
		.client_port = 51234, .host = "gw.example.test:8080", .version = "HTTP/1.1",
		.principal = "alice@EXAMPLE.TEST", .user = "alice", .uid = 1001, .gid = 1001,
		.level = IDG_LEVEL_IMPERSONATION, .impersonated = 1, .auth_type = "Negotiate",
	};
}

static void hdr(struct fake *f, const char *name, const char *value)
{
	f->names[f->n] = name;
	f->values[f->n] = value;
	f->n++;
}

static const struct cgi_script script = {
	.root = "/srv/cgi", .script_name = "/cgi/app.cgi", .path_info = "/extra path",
	.filename = "/srv/cgi/app.cgi", .server_name = "fallback.test",
};

#define assert_var(e, name, want)                                                 \
	do {                                                                      \
		const char *got_ = cgi_env_get((e), (name));                      \
		if (!got_ || strcmp(got_, (want)) != 0)                           \
			fail_msg("%s: want '%s', got '%s'", (name), (want),      \
				 got_ ? got_ : "(absent)");                        \
	} while (0)

static void test_env_rfc3875(void **state)
{
	struct fake f;
	struct cgi_env e;

	(void)state;
	fake_init(&f);
	hdr(&f, "Content-Type", "application/x-www-form-urlencoded");
	hdr(&f, "Content-Length", "11");
	hdr(&f, "User-Agent", "curl/7.88");
	hdr(&f, "Accept", "text/html");
	hdr(&f, "Accept", "text/plain");
	hdr(&f, "X-Forwarded-For", "10.0.0.1");
	hdr(&f, "Host", "gw.example.test:8080");
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	assert_var(&e, "GATEWAY_INTERFACE", "CGI/1.1");
	assert_var(&e, "SERVER_SOFTWARE", "idgate/" PACKAGE_VERSION);
	assert_var(&e, "SERVER_NAME", "gw.example.test");
	assert_var(&e, "SERVER_PORT", "8080");
	assert_var(&e, "SERVER_PROTOCOL", "HTTP/1.1");
	assert_var(&e, "REQUEST_METHOD", "POST");
	assert_var(&e, "REQUEST_URI", "/cgi/app.cgi/extra%20path?a=1&b=%20");
	assert_var(&e, "QUERY_STRING", "a=1&b=%20");
	assert_var(&e, "SCRIPT_NAME", "/cgi/app.cgi");
	assert_var(&e, "SCRIPT_FILENAME", "/srv/cgi/app.cgi");
	assert_var(&e, "DOCUMENT_ROOT", "/srv/cgi");
	assert_var(&e, "PATH_INFO", "/extra path");
	assert_var(&e, "PATH_TRANSLATED", "/srv/cgi/extra path");
	assert_var(&e, "REMOTE_ADDR", "127.0.0.1");
	assert_var(&e, "REMOTE_PORT", "51234");
	assert_var(&e, "CONTENT_TYPE", "application/x-www-form-urlencoded");
	assert_var(&e, "CONTENT_LENGTH", "11");
	assert_var(&e, "PATH", "/usr/local/bin:/usr/bin:/bin");
	assert_var(&e, "HTTP_USER_AGENT", "curl/7.88");
	assert_var(&e, "HTTP_ACCEPT", "text/html, text/plain");
	assert_var(&e, "HTTP_X_FORWARDED_FOR", "10.0.0.1");
	assert_var(&e, "HTTP_HOST", "gw.example.test:8080");
	assert_null(cgi_env_get(&e, "HTTPS"));
	assert_null(cgi_env_get(&e, "HTTP_CONTENT_TYPE"));
	assert_null(cgi_env_get(&e, "HTTP_CONTENT_LENGTH"));
	assert_null(e.vars[e.n]);
	/* every variable once */
	for (size_t i = 0; i < e.n; i++)
		for (size_t k = i + 1; k < e.n; k++)
			assert_true(strncmp(e.vars[i], e.vars[k], strcspn(e.vars[i], "=") + 1) != 0);
	cgi_env_free(&e);
}

static void test_env_withheld(void **state)
{
	struct fake f;
	struct cgi_env e;

	(void)state;
	fake_init(&f);
	hdr(&f, "Authorization", "Negotiate YIIsecret");
	hdr(&f, "Proxy-Authorization", "Basic c2VjcmV0");
	hdr(&f, "Proxy", "http://evil.test:3128");
	hdr(&f, "X_Remote_User", "root");
	hdr(&f, "X-Bad", "a\r\nInjected: 1");
	hdr(&f, "X-Lf", "a\nb");
	hdr(&f, "X-Ctl", "a\x01z");
	hdr(&f, "X-Del", "a\x7fz");
	hdr(&f, "X-Tab", "a\tb");
	hdr(&f, "Bad Name", "1");
	hdr(&f, "Content-Length", "12x");
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	assert_null(cgi_env_get(&e, "HTTP_AUTHORIZATION"));
	assert_null(cgi_env_get(&e, "HTTP_PROXY_AUTHORIZATION"));
	assert_null(cgi_env_get(&e, "HTTP_PROXY"));
	assert_null(cgi_env_get(&e, "HTTP_X_REMOTE_USER"));
	assert_null(cgi_env_get(&e, "HTTP_X_BAD"));
	assert_null(cgi_env_get(&e, "HTTP_X_LF"));
	assert_null(cgi_env_get(&e, "HTTP_X_CTL"));
	assert_null(cgi_env_get(&e, "HTTP_X_DEL"));
	assert_null(cgi_env_get(&e, "HTTP_BAD NAME"));
	assert_null(cgi_env_get(&e, "CONTENT_LENGTH"));
	assert_var(&e, "HTTP_X_TAB", "a\tb");
	for (size_t i = 0; i < e.n; i++) {
		assert_null(strstr(e.vars[i], "secret"));
		assert_null(strstr(e.vars[i], "c2VjcmV0"));
		assert_null(strpbrk(e.vars[i], "\r\n\x01\x7f"));
	}
	assert_int_equal(e.dropped, 9);
	cgi_env_free(&e);
}

/* Found by fuzz_cgi_env: a header name is a token, and a token may hold
 * '.', '$', '!', '`', '|', ... which no shell can name: a variable's name
 * is letters, digits and '_' (POSIX XBD 8.1), so a header name of other
 * than letters, digits and '-' is left out (as Apache's http2env does). */
static void test_env_names(void **state)
{
	static const char *const odd[] = { "X.Dot", "X$Y", "X!", "X`id`", "X|Y", "X~", "X#",
					   "X%41", "X&Y", "X'Y", "X*", "X+Y", "X^Y" };
	struct fake f;
	struct cgi_env e;
	char names[1024] = "";

	(void)state;
	fake_init(&f);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		hdr(&f, odd[i], "1");
	hdr(&f, "X-Good-1", "2");
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	for (size_t i = 0; i < e.n; i++) {
		size_t n = strcspn(e.vars[i], "=");
		if (strspn(e.vars[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") < n)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), " %.*s",
				 (int)n, e.vars[i]);
	}
	if (names[0])
		fail_msg("variables no shell can name:%s", names);
	assert_var(&e, "HTTP_X_GOOD_1", "2");
	cgi_env_free(&e);
}

static void test_env_identity(void **state)
{
	struct fake f;
	struct cgi_env e;

	(void)state;
	fake_init(&f);
	f.pub.ccache = "FILE:/run/idgate/ccache/req-42";
	f.pub.tls = 1;
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	assert_var(&e, "REMOTE_USER", "alice");
	assert_var(&e, "AUTH_TYPE", "Negotiate");
	assert_var(&e, "GSS_NAME", "alice@EXAMPLE.TEST");
	assert_var(&e, "IDGATE_LEVEL", "impersonation");
	assert_var(&e, "IDGATE_REQUEST_ID", "req-42");
	assert_var(&e, "KRB5CCNAME", "FILE:/run/idgate/ccache/req-42");
	assert_var(&e, "HTTPS", "on");
	cgi_env_free(&e);

	/* a principal without a local account (trusted subsystem) */
	fake_init(&f);
	f.pub.user = NULL;
	f.pub.level = IDG_LEVEL_DELEGATION;
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	assert_var(&e, "REMOTE_USER", "alice@EXAMPLE.TEST");
	assert_var(&e, "GSS_NAME", "alice@EXAMPLE.TEST");
	assert_var(&e, "IDGATE_LEVEL", "delegation");
	assert_null(cgi_env_get(&e, "KRB5CCNAME"));
	cgi_env_free(&e);

	/* anonymous: nobody to name */
	fake_init(&f);
	f.pub.user = f.pub.principal = f.pub.auth_type = NULL;
	f.pub.level = IDG_LEVEL_ANONYMOUS;
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	assert_null(cgi_env_get(&e, "REMOTE_USER"));
	assert_null(cgi_env_get(&e, "AUTH_TYPE"));
	assert_null(cgi_env_get(&e, "GSS_NAME"));
	assert_null(cgi_env_get(&e, "KRB5CCNAME"));
	assert_var(&e, "IDGATE_LEVEL", "anonymous");
	cgi_env_free(&e);

	fake_init(&f);
	f.pub.level = IDG_LEVEL_IDENTIFICATION;
	f.pub.user = "bad\nuser";
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	assert_var(&e, "IDGATE_LEVEL", "identification");
	assert_null(cgi_env_get(&e, "REMOTE_USER")); /* dropped, not cleaned */
	cgi_env_free(&e);
}

static void test_env_server(void **state)
{
	static const struct {
		const char *host;
		int tls;
		const char *name, *port;
	} cases[] = {
		{ "gw.example.test", 0, "gw.example.test", "80" },
		{ "gw.example.test", 1, "gw.example.test", "443" },
		{ "[::1]:8443", 1, "[::1]", "8443" },
		{ "[::1]", 0, "[::1]", "80" },
		{ "127.0.0.1:8080", 0, "127.0.0.1", "8080" },
		{ "", 0, "fallback.test", "80" },
		{ "a b", 0, "fallback.test", "80" },
		{ "host:99999", 0, "fallback.test", "80" },
		{ "host:", 0, "fallback.test", "80" },
		{ "host:80x", 0, "fallback.test", "80" },
		{ "[::1", 0, "fallback.test", "80" },
		{ "[zz]:80", 0, "fallback.test", "80" },
	};
	struct cgi_script s = script;
	struct fake f;
	struct cgi_env e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_init(&f);
		f.pub.host = cases[i].host;
		f.pub.tls = cases[i].tls;
		assert_int_equal(cgi_env_build(&e, &f.pub, &s), 0);
		assert_var(&e, "SERVER_NAME", cases[i].name);
		assert_var(&e, "SERVER_PORT", cases[i].port);
		cgi_env_free(&e);
	}
	/* no PATH_INFO: no PATH_TRANSLATED either */
	fake_init(&f);
	s.path_info = "";
	f.pub.query = "";
	f.pub.path = "/cgi/app.cgi";
	assert_int_equal(cgi_env_build(&e, &f.pub, &s), 0);
	assert_var(&e, "PATH_INFO", "");
	assert_null(cgi_env_get(&e, "PATH_TRANSLATED"));
	assert_var(&e, "REQUEST_URI", "/cgi/app.cgi");
	assert_var(&e, "QUERY_STRING", "");
	cgi_env_free(&e);
}

static void test_env_limits(void **state)
{
	static char names[400][16], big[2][30000];
	struct fake f;
	struct cgi_env e;

	(void)state;
	assert_true(CGI_ENV_MAX <= SPAWN_MAX_ENV);
	fake_init(&f);
	for (int i = 0; i < 400; i++) {
		snprintf(names[i], sizeof(names[i]), "X-H%d", i);
		hdr(&f, names[i], "v");
	}
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	assert_int_equal(e.n, CGI_ENV_MAX);
	assert_null(e.vars[CGI_ENV_MAX]);
	assert_true(e.dropped > 0);
	assert_var(&e, "REMOTE_USER", "alice"); /* ours come first */
	cgi_env_free(&e);

	fake_init(&f);
	memset(big, 'a', sizeof(big));
	big[0][sizeof(big[0]) - 1] = big[1][sizeof(big[1]) - 1] = '\0';
	hdr(&f, "X-Big-One", big[0]);
	hdr(&f, "X-Big-Two", big[1]);
	hdr(&f, "X-Small", "s");
	assert_int_equal(cgi_env_build(&e, &f.pub, &script), 0);
	assert_non_null(cgi_env_get(&e, "HTTP_X_BIG_ONE"));
	assert_null(cgi_env_get(&e, "HTTP_X_BIG_TWO"));
	assert_var(&e, "HTTP_X_SMALL", "s");
	assert_true(e.bytes <= CGI_ENV_BYTES);
	cgi_env_free(&e);
}

/* ---------------------------------------------------------------- program lookup */

static char tmp[64];
static int rootfd = -1;

static void make_file(const char *rel, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void make_dir(const char *rel, mode_t mode)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup_tree(void **state)
{
	char path[256];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test_cgi.XXXXXX");
	if (!mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return -1;
	make_file("ok.cgi", 0755);
	make_file("gw.cgi", 0775);
	make_file("ow.cgi", 0757);
	make_file("setuid.cgi", 04755);
	make_file("setgid.cgi", 02755);
	make_file("noexec.cgi", 0644);
	make_dir("sub", 0755);
	make_file("sub/app.cgi", 0700);
	make_dir("wdir", 0777);
	make_file("wdir/x.cgi", 0755);
	make_dir("gdir", 0775);
	make_file("gdir/x.cgi", 0755);
	snprintf(path, sizeof(path), "%s/link.cgi", tmp);
	if (symlink("ok.cgi", path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/out", tmp);
	if (symlink("/bin", path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/fifo", tmp);
	if (mkfifo(path, 0755) < 0)
		return -1;
	rootfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -1 : 0;
}

static int teardown_tree(void **state)
{
	char cmd[128];

	(void)state;
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* Look up path_info as ourselves; the status, and why in *why. */
static int lookup(const char *path_info, struct cgi_program *p, char *why, size_t len)
{
	struct cgi_owner own = { .target = geteuid(), .root = 0 };

	why[0] = '\0';
	return cgi_find_program(rootfd, tmp, path_info, &own, p, why, len);
}

#define assert_refused(path_info, status, fmt)                                        \
	do {                                                                          \
		struct cgi_program p_;                                                \
		char why_[300], want_[300];                                           \
		int rc_ = lookup((path_info), &p_, why_, sizeof(why_));               \
		snprintf(want_, sizeof(want_), fmt, tmp);                             \
		if (rc_ != (status) || strcmp(why_, want_) != 0)                      \
			fail_msg("%s: want %d '%s', got %d '%s'", (path_info), (status), \
				 want_, rc_, why_);                                   \
		assert_int_equal(p_.fd, -1);                                          \
	} while (0)

static void test_find_ok(void **state)
{
	struct cgi_program p;
	struct stat a, b;
	char why[300], path[256];

	(void)state;
	assert_int_equal(lookup("/ok.cgi/extra/more", &p, why, sizeof(why)), 0);
	assert_int_equal(p.name_len, strlen("/ok.cgi"));
	assert_int_equal(p.dir_len, 0);
	snprintf(path, sizeof(path), "%s/ok.cgi", tmp);
	assert_int_equal(fstat(p.fd, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_true(fcntl(p.fd, F_GETFD) & FD_CLOEXEC);
	assert_true((fcntl(p.fd, F_GETFL) & O_PATH) == O_PATH);
	close(p.fd);

	assert_int_equal(lookup("/sub/app.cgi", &p, why, sizeof(why)), 0);
	assert_int_equal(p.name_len, strlen("/sub/app.cgi"));
	assert_int_equal(p.dir_len, strlen("/sub"));
	close(p.fd);
	assert_int_equal(lookup("/sub/app.cgi/", &p, why, sizeof(why)), 0);
	assert_int_equal(p.name_len, strlen("/sub/app.cgi"));
	close(p.fd);
}

static void test_find_refusals(void **state)
{
	(void)state;
	assert_refused("", 404, "cgi: %s names a directory, not a program");
	assert_refused("/sub", 404, "cgi: %s/sub names a directory, not a program");
	assert_refused("/sub/", 404, "cgi: %s/sub/ names a directory, not a program");
	assert_refused("/missing.cgi/x", 404, "cgi: %s/missing.cgi: not found");
	assert_refused("/sub/missing", 404, "cgi: %s/sub/missing: not found");
	assert_refused("/../etc/passwd", 403, "cgi: %s/..: a dot segment");
	assert_refused("/sub/../ok.cgi", 403, "cgi: %s/sub/..: a dot segment");
	assert_refused("/./ok.cgi", 403, "cgi: %s/.: a dot segment");
	assert_refused("/link.cgi", 403, "cgi: %s/link.cgi is a symbolic link");
	assert_refused("/out/sh", 403, "cgi: %s/out is a symbolic link");
	assert_refused("/fifo", 403, "cgi: %s/fifo is not a regular file");
	assert_refused("/gw.cgi", 403, "cgi: %s/gw.cgi is writable by group or others");
	assert_refused("/ow.cgi", 403, "cgi: %s/ow.cgi is writable by group or others");
	assert_refused("/setuid.cgi", 403, "cgi: %s/setuid.cgi has the setuid or setgid bit");
	assert_refused("/setgid.cgi/x", 403, "cgi: %s/setgid.cgi has the setuid or setgid bit");
	assert_refused("/wdir/x.cgi", 403, "cgi: directory %s/wdir is writable by group or others");
	assert_refused("/gdir/x.cgi", 403, "cgi: directory %s/gdir is writable by group or others");
}

static void test_find_not_executable(void **state)
{
	struct cgi_program p;
	char why[300], want[300];

	(void)state;
	snprintf(want, sizeof(want), "cgi: %s/noexec.cgi is not executable by uid %u", tmp,
		 (unsigned)geteuid());
	assert_int_equal(lookup("/noexec.cgi", &p, why, sizeof(why)), 403);
	assert_string_equal(why, want);
}

static void test_find_owner(void **state)
{
	struct cgi_owner own = { .target = 4242, .root = 0 };
	struct cgi_program p;
	char why[300], want[300], path[256];

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs chown */
	/* root's program runs for anybody */
	assert_int_equal(cgi_find_program(rootfd, tmp, "/ok.cgi", &own, &p, why, sizeof(why)), 0);
	close(p.fd);
	/* another user's does not; the target's own does */
	snprintf(path, sizeof(path), "%s/sub/app.cgi", tmp);
	assert_int_equal(chown(path, 4343, (gid_t)-1), 0);
	assert_int_equal(cgi_find_program(rootfd, tmp, "/sub/app.cgi", &own, &p, why, sizeof(why)),
			 403);
	snprintf(want, sizeof(want), "cgi: %s/sub/app.cgi is owned by uid 4343, not by root or "
		 "uid 4242", tmp);
	assert_string_equal(why, want);
	/* in a user namespace without root, root's files show as the overflow
	 * uid: then uid 0 is nobody in particular */
	own.root = 65534;
	assert_int_equal(cgi_find_program(rootfd, tmp, "/ok.cgi", &own, &p, why, sizeof(why)), 403);
	snprintf(want, sizeof(want), "cgi: directory %s is owned by uid 0, not by root or uid 4242",
		 tmp);
	assert_string_equal(why, want);
	/* and a directory of another user */
	own.root = 0;
	snprintf(path, sizeof(path), "%s/sub", tmp);
	assert_int_equal(chown(path, 4343, (gid_t)-1), 0);
	assert_int_equal(cgi_find_program(rootfd, tmp, "/sub/app.cgi", &own, &p, why, sizeof(why)),
			 403);
	snprintf(want, sizeof(want), "cgi: directory %s/sub is owned by uid 4343, not by root or "
		 "uid 4242", tmp);
	assert_string_equal(why, want);
	assert_int_equal(chown(path, 0, (gid_t)-1), 0);
	snprintf(path, sizeof(path), "%s/sub/app.cgi", tmp);
	assert_int_equal(chown(path, 0, (gid_t)-1), 0);
}

static void test_find_root_checked(void **state)
{
	struct cgi_program p;
	char why[300], want[300];

	(void)state;
	assert_int_equal(chmod(tmp, 0777), 0);
	assert_int_equal(lookup("/ok.cgi", &p, why, sizeof(why)), 403);
	assert_int_equal(chmod(tmp, 0755), 0);
	snprintf(want, sizeof(want), "cgi: directory %s is writable by group or others", tmp);
	assert_string_equal(why, want);
	assert_int_equal(p.fd, -1);
}

int main(void)
{
	const struct CMUnitTest head[] = {
		cmocka_unit_test(test_head_length),
		cmocka_unit_test(test_head_valid),
		cmocka_unit_test(test_head_status_location),
		cmocka_unit_test(test_head_dropped),
		cmocka_unit_test(test_head_malformed),
		cmocka_unit_test(test_head_nul_and_limits),
	};
	const struct CMUnitTest env[] = {
		cmocka_unit_test(test_env_rfc3875),
		cmocka_unit_test(test_env_withheld),
		cmocka_unit_test(test_env_names),
		cmocka_unit_test(test_env_identity),
		cmocka_unit_test(test_env_server),
		cmocka_unit_test(test_env_limits),
	};
	const struct CMUnitTest path[] = {
		cmocka_unit_test(test_find_ok),
		cmocka_unit_test(test_find_refusals),
		cmocka_unit_test(test_find_not_executable),
		cmocka_unit_test(test_find_owner),
		cmocka_unit_test(test_find_root_checked),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("cgi response head", head, NULL, NULL);
	failed += cmocka_run_group_tests_name("cgi environment", env, NULL, NULL);
	failed += cmocka_run_group_tests_name("cgi program lookup", path, setup_tree, teardown_tree);
	return failed ? 1 : 0;
}
