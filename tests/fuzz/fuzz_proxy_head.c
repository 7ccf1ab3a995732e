/* fuzz_proxy_head.c -- what the proxy module sends a backend for a
 * client's request (proxy_msg.c): the request-target (proxy_target: the
 * decoded path below the vdir, percent-encoded, and the client's query)
 * and the head (proxy_build_head: the client's headers that pass, after
 * Connection, strip_headers and the gateway's own, then the gateway's
 * identity and forwarding headers).  A backend believes X-Remote-User: a
 * client that can smuggle a line into this head is whoever it likes.
 *
 * Input: a byte of options (the backend, strip_headers, preserve_host, a
 * signature, the gateway's Negotiate Authorization), then fuzz_request.h's
 * request.  Properties: the target is visible ASCII without '#', starts
 * with '/', and its path decodes to the path the backend should see; the
 * head is one request line, field lines of a token, ": " and a value
 * without CR, LF, NUL or another control byte but tab, and one empty line
 * at its end; Host comes once, first; the gateway's headers come exactly
 * once each and say what the gateway knows (X-Remote-User and
 * X-Remote-Principal the identities, percent-encoded as
 * proxy_identity_value does); no hop-by-hop header of the client's, none
 * it names in Connection, none of strip_headers, no name with '_'; a body
 * is framed by Content-Length or chunked, never both. */
#include "fuzz_request.h"
#include "httputil.h"
#include "proxy_msg.h"
#include "sbuf.h"

static const char *const backends[] = { "http://10.0.0.1:8080/", "http://[::1]/api",
					"unix:/run/app.sock", "http://backend.example.test:81/x/" };
static const char *const strips[] = { PROXY_STRIP_DEFAULT, "none", "X-Custom, x_secret Forwarded" };

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The path the backend should see: the prefix, then the path below the
 * vdir with one '/' between; or the client's whole path. */
static void check_target(const char *t, const struct proxy_backend *b, const struct idg_request *r)
{
	const char *path = r->path, *q;
	size_t skip = 0;
	struct sbuf want, got;

	FZ_CHECK(t[0] == '/');
	for (const char *p = t; *p; p++)
		FZ_CHECK(*p > 0x20 && *p < 0x7f && *p != '#');
	sb_init(&want);
	sb_init(&got);
	if (b->prefix) {
		size_t n = strlen(b->prefix);
		path = r->path_info;
		skip = n;
		sb_puts(&want, b->prefix);
		if (n && b->prefix[n - 1] == '/' && path[0] == '/')
			path++;
		else if (path[0] && path[0] != '/')
			sb_putc(&want, '/');
	}
	sb_puts(&want, path);
	if (!want.len)
		sb_putc(&want, '/');
	sb_puts(&got, "");
	q = strchr(t, '?');
	for (const char *p = t + skip; p < (q ? q : t + strlen(t)); p++) {
		if (*p != '%') {
			sb_putc(&got, *p);
			continue;
		}
		FZ_CHECK(hexval(p[1]) >= 0 && hexval(p[2]) >= 0);
		sb_putc(&got, (char)(hexval(p[1]) << 4 | hexval(p[2])));
		p += 2;
	}
	FZ_CHECK(strncmp(t, want.s, skip) == 0);
	FZ_CHECK(strcmp(got.s, want.s + skip) == 0 || (!*(want.s + skip) && !got.len));
	FZ_CHECK(!q == !*r->query);
	sb_free(&want);
	sb_free(&got);
}

struct field {
	const char *name, *value;
	size_t nlen, vlen;
};

#define MAX_FIELDS (FZR_MAX_HEADERS + 16)

/* The head's lines; false if it is not one request line, field lines and
 * one empty line at the end. */
static size_t split_head(char *h, const char *method, const char *target, struct field *f)
{
	char *line = h, *end;
	size_t n = 0;

	end = strstr(line, "\r\n");
	FZ_CHECK(end && strlen(method) + 1 + strlen(target) + 9 == (size_t)(end - line));
	FZ_CHECK(strncmp(line, method, strlen(method)) == 0 && line[strlen(method)] == ' ');
	FZ_CHECK(strncmp(end - 9, " HTTP/1.1", 9) == 0);
	for (line = end + 2; (end = strstr(line, "\r\n")) && end != line; line = end + 2) {
		char *colon = memchr(line, ':', (size_t)(end - line));
		FZ_CHECK(colon && colon[1] == ' ' && n < MAX_FIELDS);
		f[n] = (struct field){ line, colon + 2, (size_t)(colon - line),
				       (size_t)(end - colon - 2) };
		for (const char *c = f[n].value; c < end; c++)
			FZ_CHECK(!(((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f));
		char *name = strndup(line, f[n].nlen);
		FZ_CHECK(http_token_ok(name));
		free(name);
		n++;
	}
	FZ_CHECK(end == line && end[2] == '\0'); /* the empty line, last */
	return n;
}

static size_t count(const struct field *f, size_t n, const char *name, const char **value,
		    size_t *vlen)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++) {
		if (f[i].nlen != strlen(name) || strncasecmp(f[i].name, name, f[i].nlen) != 0)
			continue;
		if (c++ == 0 && value) {
			*value = f[i].value;
			*vlen = f[i].vlen;
		}
	}
	return c;
}

static void check_identity(const struct field *f, size_t n, const char *name, const char *id)
{
	const char *v = NULL;
	size_t vlen = 0;
	struct sbuf want;

	FZ_CHECK(count(f, n, name, &v, &vlen) == (id ? 1u : 0u));
	if (!id)
		return;
	sb_init(&want);
	proxy_identity_value(&want, id);
	FZ_CHECK(want.len == vlen && memcmp(want.s, v, vlen) == 0);
	sb_free(&want);
}

/* Header names the gateway writes itself. */
static bool gateways(const char *name, size_t n)
{
	static const char *const own[] = { "Host", "X-Forwarded-For", "X-Forwarded-Proto",
					   "X-Forwarded-Host", "Forwarded", "X-Request-Id",
					   "X-Remote-User", "X-Remote-Principal",
					   "X-Impersonation-Level", "X-Identity-Signature",
					   "Authorization", "Content-Length", "Transfer-Encoding" };

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strlen(own[i]) == n && strncasecmp(name, own[i], n) == 0)
			return true;
	return false;
}

static void check_fields(const struct field *f, size_t n, struct idg_request *r,
			 const struct proxy_head_opts *o)
{
	const char *connection = r->ops->header(r, "Connection");

	FZ_CHECK(n >= 1 && f[0].nlen == 4 && strncasecmp(f[0].name, "Host", 4) == 0);
	FZ_CHECK(count(f, n, "Host", NULL, NULL) == 1);
	static const char *const once[] = { "X-Forwarded-For", "X-Forwarded-Proto", "Forwarded",
					    "X-Request-Id", "X-Impersonation-Level" };
	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		FZ_CHECK(count(f, n, once[i], NULL, NULL) == 1);
	FZ_CHECK(count(f, n, "X-Forwarded-Host", NULL, NULL) == (*r->host ? 1u : 0u));
	FZ_CHECK(count(f, n, "X-Identity-Signature", NULL, NULL) == (o->signature ? 1u : 0u));
	if (o->authorization)
		FZ_CHECK(count(f, n, "Authorization", NULL, NULL) == 1);
	FZ_CHECK(count(f, n, "Content-Length", NULL, NULL) + count(f, n, "Transfer-Encoding",
								   NULL, NULL) <= 1);
	check_identity(f, n, "X-Remote-User", r->user);
	check_identity(f, n, "X-Remote-Principal", r->principal);
	for (size_t i = 0; i < n; i++) {
		char *name = strndup(f[i].name, f[i].nlen);
		FZ_CHECK(!strchr(name, '_'));
		if (gateways(name, f[i].nlen)) {
			free(name);
			continue;
		}
		FZ_CHECK(!http_hop_by_hop(name));
		FZ_CHECK(!proxy_request_header_dropped(name, connection));
		for (size_t k = 0; o->strip && k < o->strip->n; k++) {
			char s[256];
			snprintf(s, sizeof(s), "%s", o->strip->names[k]);
			for (char *c = s; *c; c++)
				*c = *c == '_' ? '-' : *c;
			FZ_CHECK(strcasecmp(s, name) != 0);
		}
		free(name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	uint8_t how = fz_u8(&z);
	struct proxy_backend b;
	struct proxy_strip strip;
	struct fzr r;
	struct field f[MAX_FIELDS];
	char err[256];
	enum proxy_body body;
	uint64_t length;
	struct sbuf head;

	if (!fzr_read(&r, &z))
		goto done;
	if (proxy_backend_parse(backends[how % 4], &b, err, sizeof(err)) < 0 ||
	    proxy_strip_parse(strips[how / 4 % 3], &strip, err, sizeof(err)) < 0)
		fz_fail("%s", err);
	struct proxy_head_opts o = { .backend = &b, .strip = &strip, .preserve_host = how & 16,
				     .signature = how & 32 ? "v2;t=1;s=c2ln" : NULL,
				     .authorization = how & 64 ? "Negotiate YIIC" : NULL };
	char *target = proxy_target(&b, r.pub.path, r.pub.path_info, r.pub.query);
	check_target(target, &b, &r.pub);
	sb_init(&head);
	if (proxy_build_head(&head, &r.pub, target, &o, &body, &length, err, sizeof(err)) == 0) {
		size_t n = split_head(head.s, r.pub.method, target, f);
		check_fields(f, n, &r.pub, &o);
	}
	sb_free(&head);
	free(target);
	proxy_backend_free(&b);
	proxy_strip_free(&strip);
done:
	fzr_free(&r);
	return 0;
}
