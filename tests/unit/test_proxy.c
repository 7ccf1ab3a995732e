/* test_proxy.c -- the proxy's pure parts: backend addresses, targets, the
 * head sent to the backend (identity headers only the gateway sets, the
 * forwarding headers it strips and sets), the backend's response head,
 * chunked bodies split at every byte, the text an identity signature
 * covers; and the pool of kept connections, which keeps only those with
 * nothing unasked on them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "proxy_conn.h"
#include "proxy_msg.h"

/* ---------------------------------------------------------------- a fake request */

struct fake {
	struct idg_request pub;
	const char *const *hdrs; /* name, value, name, value, ..., NULL */
	char joined[512];
};

static int f_header_at(struct idg_request *r, size_t i, const char **n, const char **v)
{
	struct fake *f = (struct fake *)r;

	for (size_t k = 0; f->hdrs[k]; k += 2)
		if (k / 2 == i) {
			*n = f->hdrs[k];
			*v = f->hdrs[k + 1];
			return 1;
		}
	return 0;
}

static const char *f_header(struct idg_request *r, const char *name)
{
	struct fake *f = (struct fake *)r;
	const char *first = NULL;
	int count = 0;

	for (size_t k = 0; f->hdrs[k]; k += 2) {
		if (strcasecmp(f->hdrs[k], name) != 0)
			continue;
		if (count++ == 0) {
			first = f->hdrs[k + 1];
			snprintf(f->joined, sizeof(f->joined), "%s", first);
		} else {
			snprintf(f->joined + strlen(f->joined), sizeof(f->joined) - strlen(f->joined),
				 ", %s", f->hdrs[k + 1]);
		}
	}
	return count > 1 ? f->joined : first; /* joined, as idgated's own does */
}

static const struct idg_request_ops fake_ops = { .header = f_header, .header_at = f_header_at };

static void fake_init(struct fake *f, const char *method, const char *const *hdrs)
{
	memset(f, 0, sizeof(*f));
	f->pub = (struct idg_request){ .ops = &fake_ops, .method = method, .path = "/app/x",
				       .path_info = "/x", .query = "", .vdir = "/app",
				       .request_id = "rid1", .client_addr = "192.0.2.7",
				       .host = "gw.example", .principal = "alice@EXAMPLE.TEST",
				       .user = "alice", .level = IDG_LEVEL_IMPERSONATION };
	f->hdrs = hdrs;
}

/* The head for f, with strip_headers = strip. */
static char *build_full(struct fake *f, const char *target, const char *strip_list,
			const char *authorization, enum proxy_body *body, uint64_t *len, int *rc)
{
	struct proxy_backend b;
	struct proxy_strip strip;
	char err[200];
	struct sbuf out;

	assert_int_equal(proxy_backend_parse("http://10.0.0.1:8080/", &b, err, sizeof(err)), 0);
	assert_int_equal(proxy_strip_parse(strip_list, &strip, err, sizeof(err)), 0);
	struct proxy_head_opts o = { .backend = &b, .strip = &strip, .authorization = authorization };
	sb_init(&out);
	*rc = proxy_build_head(&out, &f->pub, target, &o, body, len, err, sizeof(err));
	proxy_backend_free(&b);
	proxy_strip_free(&strip);
	return out.s;
}

static char *build_target(struct fake *f, const char *target, const char *authorization,
			  enum proxy_body *body, uint64_t *len, int *rc)
{
	return build_full(f, target, PROXY_STRIP_DEFAULT, authorization, body, len, rc);
}

static char *build(struct fake *f, const char *authorization, enum proxy_body *body,
		   uint64_t *len, int *rc)
{
	return build_target(f, "/x", authorization, body, len, rc);
}

/* The head for f as it is, which must build. */
static char *build_ok(struct fake *f)
{
	enum proxy_body body;
	uint64_t len;
	int rc;
	char *h = build(f, NULL, &body, &len, &rc);

	assert_int_equal(rc, 0);
	return h;
}

/* Each line of a head, to count how often a header appears. */
static int count_lines(const char *head, const char *prefix)
{
	int n = 0;

	for (const char *p = head; (p = strstr(p, prefix)) != NULL; p++)
		if (p == head || p[-1] == '\n')
			n++;
	return n;
}

/* Does a line of the head start with "name:", in any case? */
static bool has_field(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = head; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return true;
	return false;
}

/* ---------------------------------------------------------------- backends */

static void test_backend_parse(void **state)
{
	struct proxy_backend b;
	char err[200];

	(void)state;
	assert_int_equal(proxy_backend_parse("http://127.0.0.1:9000", &b, err, sizeof(err)), 0);
	assert_int_equal(b.kind, PROXY_TCP);
	assert_string_equal(b.host, "127.0.0.1");
	assert_string_equal(b.port, "9000");
	assert_string_equal(b.hostport, "127.0.0.1:9000");
	assert_null(b.prefix);
	proxy_backend_free(&b);
	assert_int_equal(proxy_backend_parse("http://app.example/api/v1", &b, err, sizeof(err)), 0);
	assert_string_equal(b.port, "80");
	assert_string_equal(b.hostport, "app.example");
	assert_string_equal(b.prefix, "/api/v1");
	proxy_backend_free(&b);
	assert_int_equal(proxy_backend_parse("http://[::1]:81/", &b, err, sizeof(err)), 0);
	assert_string_equal(b.host, "::1");
	assert_string_equal(b.hostport, "[::1]:81");
	proxy_backend_free(&b);
	assert_int_equal(proxy_backend_parse("unix:/run/app.sock", &b, err, sizeof(err)), 0);
	assert_int_equal(b.kind, PROXY_UNIX);
	assert_string_equal(b.sockpath, "/run/app.sock");
	const char *bad[] = { "http://", "http://:80", "http://h:0", "http://h:65536", "http://h:8x",
			      "http://h/a b", "http://h_x/", "http://[::1/", "ftp://h", "unix:rel",
			      "https://h", "h:80", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(proxy_backend_parse(bad[i], &b, err, sizeof(err)), -1);
		proxy_backend_free(&b);
	}
	assert_int_equal(proxy_backend_parse("https://h", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "https backends are not supported"));
	/* found by fuzz_confvalues: after a bracketed address comes a port, a
	 * path or nothing (the path became ";8080/x", a target without its '/') */
	const char *after[] = { "http://[::1];8080/x", "http://[::1]x", "http://[::1]api/",
				"http://[::1]:8080x", "http://[::1]?a" };
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		if (proxy_backend_parse(after[i], &b, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted, its path '%s'", after[i], b.prefix ? b.prefix : "");
		proxy_backend_free(&b);
	}
}

/* proxy_target for the backend `spec`. */
static void check_target(const char *spec, const char *path, const char *path_info,
			 const char *query, const char *want)
{
	struct proxy_backend b;
	char err[200], *t;

	assert_int_equal(proxy_backend_parse(spec, &b, err, sizeof(err)), 0);
	t = proxy_target(&b, path, path_info, query);
	assert_string_equal(t, want);
	free(t);
	proxy_backend_free(&b);
}

static void test_target(void **state)
{
	(void)state;
	check_target("http://h:1/", "/app/a b/ü", "/a b/ü", "x=1&y=%41", "/a%20b/%C3%BC?x=1&y=%41");
	check_target("http://h:1/", "/app", "", "", "/");
	check_target("http://h:1/api", "/app/x", "/x", "", "/api/x");
	check_target("http://h:1/api", "/app", "", "q", "/api?q");
	check_target("http://h:1", "/app/x%y#z?", "/x%y#z?", "", "/app/x%25y%23z%3F");
}

/* A query's bytes that could break the request line (CTL, SP, DEL, 8-bit)
 * and '#' are percent-encoded; the rest, escapes included, stays. */
static void test_target_query_encoded(void **state)
{
	(void)state;
	check_target("http://h:1/", "/app/x", "/x", "a=\x01\x7f\xff\t\x0b b&c=%41|{}\"#f",
		     "/x?a=%01%7F%FF%09%0B%20b&c=%41|{}\"%23f");
	check_target("http://h:1/", "/app/x", "/x", "\r\n\x80x=1", "/x?%0D%0A%80x=1");
}

/* The head builder itself never writes a request line with such bytes. */
static int build_rc(const char *target)
{
	static const char *const none[] = { NULL };
	struct fake f;
	enum proxy_body body;
	uint64_t len;
	int rc;

	fake_init(&f, "GET", none);
	free(build_target(&f, target, NULL, &body, &len, &rc));
	return rc;
}

static void test_head_refuses_raw_target(void **state)
{
	const char *bad[] = { "/x?a\x01", "/x?a b", "/x\x7f", "/x?\xff", "/x\r\nX: y", "" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(build_rc(bad[i]), -1);
	assert_int_equal(build_rc("/x?a=%01&b=|"), 0);
}

/* ---------------------------------------------------------------- the head */

static void test_spoofed_identity_dropped(void **state)
{
	static const char *const hdrs[] = {
		"X-Remote-User", "root", "x-remote-user", "admin", "X-REMOTE-PRINCIPAL", "evil@X",
		"x-impersonation-level", "delegation", "X_Remote_User", "root",
		"X-Identity-Signature", "v1; t=1; sig=x", "X-Request-Id", "forged",
		"Allowed-Impersonation-Level", "identification", "Accept", "text/plain", NULL };
	struct fake f;
	enum proxy_body body;
	uint64_t len;
	int rc;

	(void)state;
	fake_init(&f, "GET", hdrs);
	char *h = build(&f, NULL, &body, &len, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(body, PROXY_BODY_NONE);
	assert_int_equal(count_lines(h, "X-Remote-User: alice\r\n"), 1);
	assert_int_equal(count_lines(h, "X-Remote-Principal: alice@EXAMPLE.TEST\r\n"), 1);
	assert_int_equal(count_lines(h, "X-Impersonation-Level: impersonation\r\n"), 1);
	assert_int_equal(count_lines(h, "X-Request-Id: rid1\r\n"), 1);
	assert_null(strcasestr(h, "root"));
	assert_null(strcasestr(h, "admin"));
	assert_null(strcasestr(h, "evil"));
	assert_null(strstr(h, "X_Remote_User"));
	assert_null(strstr(h, "X-Identity-Signature"));
	assert_null(strstr(h, "forged"));
	assert_null(strstr(h, "Allowed-Impersonation-Level"));
	assert_int_equal(count_lines(h, "Accept: text/plain\r\n"), 1);
	assert_true(strncmp(h, "GET /x HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n", 38) == 0);
	free(h);
}

static void test_forwarding_and_hop_by_hop(void **state)
{
	static const char *const hdrs[] = {
		"Connection", "X-Private, keep-alive", "X-Private", "p", "Keep-Alive", "5",
		"TE", "trailers", "Upgrade", "h2c", "Proxy-Authorization", "Basic x",
		"X-Forwarded-For", "203.0.113.1", "X-Forwarded-For", "198.51.100.2",
		"X-Forwarded-Proto", "https", "Host", "evil", "Authorization", "Negotiate client",
		"Content-Length", "5", NULL };
	struct fake f;
	enum proxy_body body;
	uint64_t len;
	int rc;

	(void)state;
	fake_init(&f, "POST", hdrs);
	char *h = build(&f, "Negotiate ours", &body, &len, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(body, PROXY_BODY_LENGTH);
	assert_int_equal(len, 5);
	assert_int_equal(count_lines(h, "X-Forwarded-For: 203.0.113.1, 198.51.100.2, 192.0.2.7\r\n"),
			 1);
	assert_int_equal(count_lines(h, "X-Forwarded-Proto: http\r\n"), 1);
	assert_int_equal(count_lines(h, "X-Forwarded-Host: gw.example\r\n"), 1);
	assert_int_equal(count_lines(h, "Authorization: Negotiate ours\r\n"), 1);
	assert_int_equal(count_lines(h, "Content-Length: 5\r\n"), 1);
	assert_null(strstr(h, "client"));
	assert_null(strstr(h, "X-Private"));
	assert_null(strstr(h, "Keep-Alive"));
	assert_null(strstr(h, "TE:"));
	assert_null(strstr(h, "Upgrade"));
	assert_null(strstr(h, "Proxy-Authorization"));
	assert_null(strstr(h, "evil"));
	assert_null(strstr(h, "Connection"));
	free(h);
}

static void test_body_framing(void **state)
{
	static const char *const chunked[] = { "Transfer-Encoding", "chunked", NULL };
	static const char *const badlen[] = { "Content-Length", "5x", NULL };
	static const char *const none[] = { NULL };
	struct fake f;
	enum proxy_body body;
	uint64_t len;
	int rc;
	char *h;

	(void)state;
	fake_init(&f, "PUT", chunked);
	h = build(&f, NULL, &body, &len, &rc);
	assert_int_equal(body, PROXY_BODY_CHUNKED);
	assert_int_equal(count_lines(h, "Transfer-Encoding: chunked\r\n"), 1);
	free(h);
	fake_init(&f, "POST", badlen);
	h = build(&f, NULL, &body, &len, &rc);
	assert_int_equal(rc, -1);
	free(h);
	fake_init(&f, "POST", none);
	h = build(&f, NULL, &body, &len, &rc);
	assert_int_equal(body, PROXY_BODY_NONE);
	assert_int_equal(count_lines(h, "Content-Length: 0\r\n"), 1);
	free(h);
	fake_init(&f, "GET", none);
	h = build(&f, NULL, &body, &len, &rc);
	assert_null(strstr(h, "Content-Length"));
	free(h);
}

static void test_identity_values_encoded(void **state)
{
	static const char *const none[] = { NULL };
	struct fake f;
	enum proxy_body body;
	uint64_t len;
	int rc;

	(void)state;
	fake_init(&f, "GET", none);
	f.pub.principal = "evil\r\nX-Remote-User: root@X";
	f.pub.user = NULL;
	f.pub.level = IDG_LEVEL_ANONYMOUS;
	char *h = build(&f, NULL, &body, &len, &rc);
	assert_int_equal(count_lines(h, "X-Remote-Principal: evil%0D%0AX-Remote-User:%20root@X\r\n"), 1);
	assert_int_equal(count_lines(h, "X-Remote-User:"), 0);
	assert_int_equal(count_lines(h, "X-Impersonation-Level: anonymous\r\n"), 1);
	free(h);
}

/* Forwarding headers a client sends are stripped (by default these); the
 * gateway sets Forwarded itself (RFC 7239: an IPv6 node quoted). */
static void test_forwarding_headers_stripped(void **state)
{
	static const char *const hdrs[] = {
		"Forwarded", "for=10.0.0.1;host=evil", "X-Real-IP", "10.0.0.2",
		"x-real-ip", "10.0.0.3", "X-Forwarded-Port", "1", "X-Forwarded-Prefix", "/admin",
		"X-FORWARDED-SERVER", "evil", "X-Original-URL", "/admin", "X-Rewrite-URL", "/admin",
		"X-Forwarded-User", "root", "Remote-User", "root", "Remote_User", "root",
		"X-Kept", "yes", NULL };
	const char *gone[] = { "X-Real-IP", "X-Forwarded-Port", "X-Forwarded-Prefix",
			       "X-Forwarded-Server", "X-Original-URL", "X-Rewrite-URL",
			       "X-Forwarded-User", "Remote-User", "Remote_User" };
	const char *values[] = { "evil", "root", "10.0.0.2", "10.0.0.3", "for=10.0.0.1" };
	struct fake f;

	(void)state;
	fake_init(&f, "GET", hdrs);
	char *h = build_ok(&f);
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_false(has_field(h, gone[i]));
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		assert_null(strstr(h, values[i]));
	assert_true(has_field(h, "X-Remote-User"));
	assert_int_equal(count_lines(h, "Forwarded:"), 1);
	assert_int_equal(count_lines(h, "Forwarded: for=192.0.2.7;proto=http;host=gw.example\r\n"),
			 1);
	assert_int_equal(count_lines(h, "X-Kept: yes\r\n"), 1);
	free(h);
	f.pub.client_addr = "2001:db8::7";
	f.pub.host = "[2001:db8::1]:8443";
	f.pub.tls = 1;
	h = build_ok(&f);
	assert_int_equal(count_lines(h, "Forwarded: for=\"[2001:db8::7]\";proto=https;"
					"host=\"[2001:db8::1]:8443\"\r\n"), 1);
	free(h);
}

/* strip_headers replaces the list: names in any case, '_' for '-'; without
 * Forwarded in it, the client's elements pass first and the gateway's is
 * appended (RFC 7239 4); "none" strips nothing more than the gateway's own. */
static void test_strip_headers_configured(void **state)
{
	static const char *const hdrs[] = {
		"Forwarded", "for=10.0.0.1", "X-Real-IP", "10.0.0.2", "X-Custom-Secret", "s",
		"X-Forwarded-User", "someone", "X-Remote-User", "root", NULL };
	struct proxy_strip strip;
	struct fake f;
	enum proxy_body body;
	uint64_t len;
	int rc;
	char err[200], *h;

	(void)state;
	fake_init(&f, "GET", hdrs);
	h = build_full(&f, "/x", "x-custom-secret,X_REAL_IP", NULL, &body, &len, &rc);
	assert_false(has_field(h, "X-Real-IP"));
	assert_false(has_field(h, "X-Custom-Secret"));
	assert_int_equal(count_lines(h, "X-Forwarded-User: someone\r\n"), 1);
	assert_int_equal(count_lines(h, "Forwarded: for=10.0.0.1, for=192.0.2.7;proto=http;"
					"host=gw.example\r\n"), 1);
	assert_int_equal(count_lines(h, "X-Remote-User: alice\r\n"), 1); /* the gateway's, still */
	free(h);
	h = build_full(&f, "/x", "none", NULL, &body, &len, &rc);
	assert_true(has_field(h, "X-Real-IP"));
	assert_true(has_field(h, "X-Custom-Secret"));
	assert_null(strstr(h, "root"));
	free(h);
	assert_int_equal(proxy_strip_parse("A , b\tC", &strip, err, sizeof(err)), 0);
	assert_int_equal(strip.n, 3);
	assert_string_equal(strip.names[2], "C");
	proxy_strip_free(&strip);
	const char *bad[] = { "X-A b@d", ",, ,", "X:Y" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proxy_strip_parse(bad[i], &strip, err, sizeof(err)), -1);
}

/* ---------------------------------------------------------------- responses */

static int parse(const char *head, bool head_req, struct proxy_resp *r)
{
	char err[200];

	return proxy_resp_parse(head, strlen(head), head_req, r, err, sizeof(err));
}

static void test_response_heads(void **state)
{
	struct proxy_resp r;

	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: 1\r\n"
			       "Connection: X-B\r\nX-B: 2\r\nKeep-Alive: 3\r\n\r\n", false, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.length, 12);
	assert_false(r.chunked);
	assert_false(r.close);
	assert_int_equal(r.nhdrs, 1);
	assert_string_equal(r.hdrs[0].name, "X-A");
	proxy_resp_free(&r);
	assert_int_equal(parse("HTTP/1.0 200 OK\nX: y\n\n", false, &r), 0);
	assert_true(r.close); /* 1.0, and the body ends at the close */
	proxy_resp_free(&r);
	assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", false, &r), 0);
	assert_true(r.no_body);
	assert_false(r.close);
	proxy_resp_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			       "WWW-Authenticate: Negotiate abc=\r\n\r\n", false, &r), 0);
	assert_true(r.chunked);
	assert_string_equal(r.negotiate, "abc=");
	proxy_resp_free(&r);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, &r), 0);
	assert_true(r.no_body);
	proxy_resp_free(&r);
	const char *bad[] = {
		"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 600 X\r\n\r\n",
		"HTTX/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], false, &r), -1);
		proxy_resp_free(&r);
	}
}

static void test_head_length(void **state)
{
	(void)state;
	assert_int_equal(proxy_head_length("HTTP/1.1 200 OK\r\n\r\nbody", 23), 19);
	assert_int_equal(proxy_head_length("HTTP/1.1 200 OK\n\nbody", 21), 17);
	assert_int_equal(proxy_head_length("HTTP/1.1 200 OK\r\nX: y\r\n", 24), 0);
	char *big = malloc(PROXY_HEAD_MAX + 10);
	memset(big, 'x', PROXY_HEAD_MAX + 10);
	assert_int_equal(proxy_head_length(big, PROXY_HEAD_MAX + 10), -1);
	free(big);
}

/* ---------------------------------------------------------------- chunked */

/* Decode `in` fed in pieces of `step` bytes through an output of `room`. */
static int decode_all(const char *in, size_t step, size_t room, char *out, size_t *outlen)
{
	struct proxy_chunks ch = { 0 };
	size_t n = strlen(in), off = 0;
	char buf[64];

	*outlen = 0;
	while (off < n && !ch.done) {
		size_t take = n - off < step ? n - off : step;
		size_t got = room < sizeof(buf) ? room : sizeof(buf);
		ssize_t used = proxy_chunks_decode(&ch, in + off, take, buf, &got);
		if (used < 0)
			return -1;
		memcpy(out + *outlen, buf, got);
		*outlen += got;
		off += (size_t)used;
	}
	return ch.done ? (int)(n - off) : -2;
}

static void test_chunked(void **state)
{
	const char *good = "5;name=v\r\nhello\r\na\r\n, chunked!\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
	char out[64];
	size_t len;

	(void)state;
	for (size_t step = 1; step <= strlen(good); step++) {
		for (size_t room = 1; room <= 16; room += 15) {
			assert_int_equal(decode_all(good, step, room, out, &len), 4); /* "NEXT" left */
			assert_int_equal(len, 15);
			assert_memory_equal(out, "hello, chunked!", 15);
		}
	}
	assert_int_equal(decode_all("3\nabc\n0\n\n", 1, 64, out, &len), 0);
	assert_memory_equal(out, "abc", 3);
	const char *bad[] = { "x\r\n", "\r\n", "5\r\nhelloXX", "3\r\nabc\rX", "10000000000000000\r\n",
			      "0\r\n\rX" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(decode_all(bad[i], 1, 64, out, &len), -1);
	assert_int_equal(decode_all("5\r\nhel", 1, 64, out, &len), -2); /* not done yet */
}

/* ---------------------------------------------------------------- signature */

static void test_sign_input(void **state)
{
	char *s;

	(void)state;
	s = proxy_sign_input("alice", "alice@X", "impersonation", "rid", 1700000000);
	assert_string_equal(s, "idgate-identity-v1\nalice\nalice@X\nimpersonation\nrid\n1700000000");
	free(s);
	s = proxy_sign_input(NULL, "a\nb", "anonymous", "rid", 1);
	assert_string_equal(s, "idgate-identity-v1\n\na%0Ab\nanonymous\nrid\n1");
	free(s);
}

/* v2 covers the request too, one value a line; a value with a line break
 * could shift the others, and is never signed. */
static void test_sign_input_v2(void **state)
{
	struct proxy_sign_fields f = {
		.audience = "http://b:8000/", .method = "POST", .target = "/x?a=%01",
		.host = "b:8000", .user = "alice", .principal = "al ice@X",
		.level = "impersonation", .request_id = "rid", .body = "sha-256=AAA=",
		.timestamp = 1700000000,
	};
	char *s;

	(void)state;
	s = proxy_sign_input_v2(&f);
	assert_string_equal(s, "idgate-identity-v2\nhttp://b:8000/\nPOST\n/x?a=%01\nb:8000\n"
			       "alice\nal%20ice@X\nimpersonation\nrid\nsha-256=AAA=\n1700000000");
	free(s);
	f.user = NULL;
	f.principal = NULL;
	f.body = "none";
	s = proxy_sign_input_v2(&f);
	assert_string_equal(s, "idgate-identity-v2\nhttp://b:8000/\nPOST\n/x?a=%01\nb:8000\n"
			       "\n\nimpersonation\nrid\nnone\n1700000000");
	free(s);
	f.host = "b\nPUT";
	assert_null(proxy_sign_input_v2(&f));
	f.host = "b";
	f.target = "/x\r";
	assert_null(proxy_sign_input_v2(&f));
	f.target = "/x";
	f.audience = NULL;
	assert_null(proxy_sign_input_v2(&f));
}

/* ---------------------------------------------------------------- the pool */

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

/* A connection is kept only while nothing is readable on it: not with
 * bytes the backend sent beyond a response, not after it closed -- checked
 * when it is given back and again when it is taken. */
static void test_pool_keeps_only_quiet_connections(void **state)
{
	struct proxy_pool p;
	int sv[2];

	(void)state;
	proxy_pool_init(&p, 4);
	/* stray bytes already there when it is given back: closed, not kept */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "HTTP/1.1 200 OK\r\n", 17), 17);
	proxy_pool_give(&p, sv[0]);
	assert_int_equal(p.n, 0);
	assert_false(fd_open(sv[0]));
	close(sv[1]);
	/* quiet: kept, and taken again */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	proxy_pool_give(&p, sv[0]);
	assert_int_equal(p.n, 1);
	assert_int_equal(proxy_pool_take(&p), sv[0]);
	/* bytes that arrive while it is idle: closed when taken */
	proxy_pool_give(&p, sv[0]);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(proxy_pool_take(&p), -1);
	assert_false(fd_open(sv[0]));
	close(sv[1]);
	/* the backend closed it: closed too */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	proxy_pool_give(&p, sv[0]);
	close(sv[1]);
	assert_int_equal(proxy_pool_take(&p), -1);
	assert_int_equal(p.n, 0);
	proxy_pool_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_parse),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_target_query_encoded),
		cmocka_unit_test(test_head_refuses_raw_target),
		cmocka_unit_test(test_spoofed_identity_dropped),
		cmocka_unit_test(test_forwarding_and_hop_by_hop),
		cmocka_unit_test(test_body_framing),
		cmocka_unit_test(test_identity_values_encoded),
		cmocka_unit_test(test_forwarding_headers_stripped),
		cmocka_unit_test(test_strip_headers_configured),
		cmocka_unit_test(test_response_heads),
		cmocka_unit_test(test_head_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_sign_input),
		cmocka_unit_test(test_sign_input_v2),
		cmocka_unit_test(test_pool_keeps_only_quiet_connections),
	};
	return cmocka_run_group_tests_name("proxy", tests, NULL, NULL);
}
