/* proxy_msg.c -- what the proxy module says to a backend and how it reads
 * the answer.  The client's identity headers are the gateway's to set:
 * whatever a client sends under those names (any case, with '_' for '-',
 * repeated) never reaches the backend. */
#include "proxy_msg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httputil.h"
#include "util.h"

/* ---------------------------------------------------------------- the backend */

static int fail(char *err, size_t len, const char *msg)
{
	snprintf(err, len, "%s", msg);
	return -1;
}

static bool host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-';
}

static bool port_ok(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* RFC 3986 pchar and '/', as an administrator writes a path (encoded). */
static bool prefix_ok(const char *p)
{
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._~!$&'()*+,;=:@/%", *p))
			return false;
	return true;
}

/* "[v6]" or "name" up to ':' or '/'; sets *end after the host. */
static int parse_host(const char *s, struct proxy_backend *b, const char **end, char *err,
		      size_t len)
{
	size_t n;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		n = close ? (size_t)(close - s - 1) : 0;
		if (!close || n == 0 || n >= sizeof(b->host) || strspn(s + 1, "0123456789abcdefABCDEF:.") != n)
			return fail(err, len, "a bracketed IPv6 address is malformed");
		memcpy(b->host, s + 1, n);
		*end = close + 1;
	} else {
		for (n = 0; s[n] && s[n] != ':' && s[n] != '/'; n++)
			if (!host_char_ok(s[n]))
				return fail(err, len, "the host name has a character it may not have");
		if (n == 0 || n >= sizeof(b->host))
			return fail(err, len, "the host name is empty or too long");
		memcpy(b->host, s, n);
		*end = s + n;
	}
	b->host[n] = '\0';
	return 0;
}

static int parse_http(const char *s, struct proxy_backend *b, char *err, size_t len)
{
	const char *p;
	bool v6 = *s == '[';

	if (parse_host(s, b, &p, err, len) < 0)
		return -1;
	snprintf(b->port, sizeof(b->port), "80");
	if (*p == ':') {
		size_t n = strcspn(p + 1, "/");
		if (!port_ok(p + 1, n))
			return fail(err, len, "the port must be a number from 1 to 65535");
		memcpy(b->port, p + 1, n);
		b->port[n] = '\0';
		p += 1 + n;
	}
	/* "[::1];8080/x" would make ";8080/x" the path, and every target sent
	 * without its leading '/' */
	if (*p && *p != '/')
		return fail(err, len, "after the host come a port (:PORT), a path (/PATH) or nothing");
	if (*p) {
		if (!prefix_ok(p))
			return fail(err, len, "the path has a character that must be percent-encoded");
		b->prefix = strdup(p);
		if (!b->prefix)
			return fail(err, len, "out of memory");
	}
	snprintf(b->hostport, sizeof(b->hostport), "%s%s%s%s%s", v6 ? "[" : "", b->host,
		 v6 ? "]" : "", strcmp(b->port, "80") == 0 ? "" : ":",
		 strcmp(b->port, "80") == 0 ? "" : b->port);
	return 0;
}

int proxy_backend_parse(const char *spec, struct proxy_backend *b, char *err, size_t len)
{
	memset(b, 0, sizeof(*b));
	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		if (path[0] != '/' || strlen(path) >= sizeof(b->sockpath))
			return fail(err, len, "unix: needs an absolute socket path of at most 107 bytes");
		b->kind = PROXY_UNIX;
		snprintf(b->sockpath, sizeof(b->sockpath), "%s", path);
		snprintf(b->hostport, sizeof(b->hostport), "localhost");
		return 0;
	}
	if (strncmp(spec, "http://", 7) == 0) {
		b->kind = PROXY_TCP;
		if (parse_http(spec + 7, b, err, len) == 0)
			return 0;
		proxy_backend_free(b);
		return -1;
	}
	if (strncmp(spec, "https://", 8) == 0)
		return fail(err, len, "https backends are not supported: use http:// on a trusted "
				      "network or unix:/path");
	return fail(err, len, "expected http://HOST[:PORT][/PATH] or unix:/PATH");
}

void proxy_backend_free(struct proxy_backend *b)
{
	free(b->prefix);
	b->prefix = NULL;
}

/* ---------------------------------------------------------------- the request */

static bool unreserved_or_path(unsigned char c)
{
	return isalnum(c) || strchr("-._~!$&'()*+,;=:@/", c);
}

static void put_escaped(struct sbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";

	sb_putc(b, '%');
	sb_putc(b, hex[c >> 4]);
	sb_putc(b, hex[c & 15]);
}

static void put_encoded_path(struct sbuf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved_or_path(*p))
			sb_putc(b, (char)*p);
		else
			put_escaped(b, *p);
	}
}

/* A byte that may not stand raw in a request-target (RFC 9112 3.2): a
 * control byte, SP, DEL, an 8-bit byte; '#' would start a fragment. */
static bool target_byte_bad(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '#';
}

/* The query as the client sent it -- its escapes and its delimiters keep
 * their meaning -- but never a byte that could break the request line:
 * those are percent-encoded, which a backend decodes to the same text.
 * (The front end refuses most of them already; this is the last word.) */
static void put_encoded_query(struct sbuf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (target_byte_bad(*p))
			put_escaped(b, *p);
		else
			sb_putc(b, (char)*p);
	}
}

char *proxy_target(const struct proxy_backend *b, const char *path, const char *path_info,
		   const char *query)
{
	struct sbuf t;

	sb_init(&t);
	if (b->prefix) {
		size_t n = strlen(b->prefix);
		sb_puts(&t, b->prefix);
		if (n && b->prefix[n - 1] == '/' && path_info[0] == '/')
			path_info++;
		else if (path_info[0] && path_info[0] != '/')
			sb_putc(&t, '/');
		put_encoded_path(&t, path_info);
	} else {
		put_encoded_path(&t, path);
	}
	if (t.len == 0)
		sb_putc(&t, '/');
	if (query && *query) {
		sb_putc(&t, '?');
		put_encoded_query(&t, query);
	}
	return t.s;
}

/* Is `name` one of the comma-separated tokens of a Connection header? */
static bool listed_in(const char *name, const char *list)
{
	size_t n = strlen(name);

	while (list && *list) {
		list += strspn(list, " \t,");
		size_t k = strcspn(list, ",");
		size_t t = k;
		while (t && (list[t - 1] == ' ' || list[t - 1] == '\t'))
			t--;
		if (t == n && strncasecmp(list, name, n) == 0)
			return true;
		list += k;
	}
	return false;
}

/* ---------------------------------------------------------------- strip_headers */

static bool token_ok(const char *s);

/* Equal names, in any case and with '_' for '-'. */
static bool same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '_' ? '-' : (char)tolower((unsigned char)*a);
		char y = *b == '_' ? '-' : (char)tolower((unsigned char)*b);
		if (x != y)
			return false;
	}
	return *a == *b;
}

static bool stripped(const struct proxy_strip *s, const char *name)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (same_name(s->names[i], name))
			return true;
	return false;
}

static int add_name(struct proxy_strip *s, const char *name)
{
	char **grown = realloc(s->names, (s->n + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	s->names = grown;
	s->names[s->n] = strdup(name);
	if (!s->names[s->n])
		return -1;
	s->n++;
	return 0;
}

int proxy_strip_parse(const char *list, struct proxy_strip *s, char *err, size_t errlen)
{
	char *copy = strdup(list), *save = NULL;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		if (!token_ok(w)) {
			snprintf(err, errlen, "'%s' is not a header name", w);
			goto done;
		}
		if (add_name(s, w) < 0) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
	}
	if (s->n == 0) {
		snprintf(err, errlen, "names no header (write none for none)");
		goto done;
	}
	if (s->n == 1 && strcmp(s->names[0], "none") == 0)
		proxy_strip_free(s);
	rc = 0;
done:
	free(copy);
	if (rc < 0)
		proxy_strip_free(s);
	return rc;
}

void proxy_strip_free(struct proxy_strip *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- the request head */

bool proxy_request_header_dropped(const char *name, const char *connection)
{
	static const char *const owned[] = {
		/* for this hop only, like the hop-by-hop ones */
		"Expect", "Proxy-Authorization",
		/* set by the gateway */
		"Host", "Content-Length", "X-Forwarded-For", "X-Forwarded-Proto", "Forwarded",
		"X-Forwarded-Host", "X-Request-Id", "X-Remote-User", "X-Remote-Principal",
		"X-Impersonation-Level", "X-Identity-Signature",
		/* for the gateway itself */
		"Allowed-Impersonation-Level",
	};

	/* X_Remote_User would become HTTP_X_REMOTE_USER in a CGI-style backend,
	 * like X-Remote-User: names with '_' never pass (as nginx by default) */
	if (strchr(name, '_') || http_hop_by_hop(name))
		return true;
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strcasecmp(name, owned[i]) == 0)
			return true;
	return listed_in(name, connection);
}

void proxy_identity_value(struct sbuf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x21 && *p <= 0x7e && *p != '%')
			sb_putc(b, (char)*p);
		else
			put_escaped(b, *p);
	}
}

static void put_identity(struct sbuf *h, const char *name, const char *value)
{
	if (!value)
		return;
	sb_printf(h, "%s: ", name);
	proxy_identity_value(h, value);
	sb_puts(h, "\r\n");
}

const char *proxy_level_name(enum idg_level l)
{
	const char *n = idg_level_name((int)l);

	return n ? n : "anonymous"; /* never more than it is */
}

/* The hops a request went through: what the client sent (when it is let
 * through), to which the gateway adds itself. */
struct hops {
	struct sbuf xff;  /* X-Forwarded-For */
	struct sbuf fwd;  /* Forwarded elements */
};

static void add_hop(struct sbuf *list, const char *value)
{
	if (list->len)
		sb_puts(list, ", ");
	sb_puts(list, value);
}

/* The client's headers that pass; the X-Forwarded-For values it sent (and
 * its Forwarded ones, unless stripped) are collected to be extended, not
 * trusted. */
static void put_client_headers(struct sbuf *h, struct hops *hops, struct idg_request *req,
			       const struct proxy_head_opts *o)
{
	const char *connection = req->ops->header(req, "Connection");
	const char *name, *value;

	for (size_t i = 0; req->ops->header_at(req, i, &name, &value); i++) {
		if (stripped(o->strip, name))
			continue;
		if (strcasecmp(name, "X-Forwarded-For") == 0) {
			add_hop(&hops->xff, value);
			continue;
		}
		if (strcasecmp(name, "Forwarded") == 0) {
			add_hop(&hops->fwd, value);
			continue;
		}
		if (proxy_request_header_dropped(name, connection) ||
		    (o->authorization && strcasecmp(name, "Authorization") == 0))
			continue;
		sb_printf(h, "%s: %s\r\n", name, value);
	}
}

/* A Forwarded parameter's value (RFC 7239 4): a token as it is, else a
 * quoted-string; a control byte cannot be quoted and is left out. */
static void put_forwarded_value(struct sbuf *h, const char *v)
{
	if (token_ok(v)) {
		sb_puts(h, v);
		return;
	}
	sb_putc(h, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			continue;
		if (*p == '"' || *p == '\\')
			sb_putc(h, '\\');
		sb_putc(h, (char)*p);
	}
	sb_putc(h, '"');
}

/* "for=ADDR;proto=SCHEME;host=HOST", an IPv6 address in brackets. */
static void put_forwarded(struct sbuf *h, struct sbuf *fwd, struct idg_request *req)
{
	struct sbuf node;

	sb_init(&node);
	if (!req->client_addr || !*req->client_addr)
		sb_puts(&node, "unknown");
	else if (strchr(req->client_addr, ':'))
		sb_printf(&node, "[%s]", req->client_addr);
	else
		sb_puts(&node, req->client_addr);
	sb_puts(h, "Forwarded: ");
	if (fwd->len)
		sb_printf(h, "%s, ", fwd->s);
	sb_puts(h, "for=");
	put_forwarded_value(h, node.s);
	sb_printf(h, ";proto=%s", req->tls ? "https" : "http");
	if (req->host && *req->host) {
		sb_puts(h, ";host=");
		put_forwarded_value(h, req->host);
	}
	sb_puts(h, "\r\n");
	sb_free(&node);
}

static void put_gateway_headers(struct sbuf *h, struct hops *hops, struct idg_request *req,
				const struct proxy_head_opts *o)
{
	add_hop(&hops->xff, req->client_addr);
	sb_printf(h, "X-Forwarded-For: %s\r\n", hops->xff.s);
	sb_printf(h, "X-Forwarded-Proto: %s\r\n", req->tls ? "https" : "http");
	if (req->host && *req->host)
		sb_printf(h, "X-Forwarded-Host: %s\r\n", req->host);
	put_forwarded(h, &hops->fwd, req);
	sb_printf(h, "X-Request-Id: %s\r\n", req->request_id);
	put_identity(h, "X-Remote-User", req->user);
	put_identity(h, "X-Remote-Principal", req->principal);
	sb_printf(h, "X-Impersonation-Level: %s\r\n", proxy_level_name(req->level));
	if (o->signature)
		sb_printf(h, "X-Identity-Signature: %s\r\n", o->signature);
	if (o->authorization)
		sb_printf(h, "Authorization: %s\r\n", o->authorization);
}

int proxy_request_body(struct idg_request *req, enum proxy_body *body, uint64_t *length,
		       char *err, size_t errlen)
{
	const char *cl = req->ops->header(req, "Content-Length");

	*length = 0;
	*body = PROXY_BODY_NONE;
	if (req->ops->header(req, "Transfer-Encoding")) {
		*body = PROXY_BODY_CHUNKED;
		return 0;
	}
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(cl, &end, 10);
		if (!isdigit((unsigned char)*cl) || *end || errno || v > (1ull << 62))
			return fail(err, errlen, "the request's Content-Length is malformed");
		*body = v ? PROXY_BODY_LENGTH : PROXY_BODY_NONE;
		*length = v;
	}
	return 0;
}

/* How the body goes: the client's Content-Length, chunked when it sent
 * one in chunks, else none (Content-Length: 0 for methods that carry a
 * body, which some backends insist on). */
static int body_framing(struct sbuf *h, struct idg_request *req, enum proxy_body *body,
			uint64_t *length, char *err, size_t errlen)
{
	if (proxy_request_body(req, body, length, err, errlen) < 0)
		return -1;
	if (*body == PROXY_BODY_CHUNKED)
		sb_puts(h, "Transfer-Encoding: chunked\r\n");
	else if (req->ops->header(req, "Content-Length"))
		sb_printf(h, "Content-Length: %llu\r\n", (unsigned long long)*length);
	else if (!strcmp(req->method, "POST") || !strcmp(req->method, "PUT") ||
		 !strcmp(req->method, "PATCH"))
		sb_puts(h, "Content-Length: 0\r\n");
	return 0;
}

/* The request line is written only with a target of visible ASCII: what
 * proxy_target makes; anything else is a bug to refuse, not to send. */
static bool target_ok(const char *t)
{
	if (!*t)
		return false;
	for (; *t; t++)
		if (target_byte_bad((unsigned char)*t))
			return false;
	return true;
}

const char *proxy_head_host(const struct idg_request *req, const struct proxy_head_opts *o)
{
	return o->preserve_host && req->host && *req->host ? req->host : o->backend->hostport;
}

int proxy_build_head(struct sbuf *out, struct idg_request *req, const char *target,
		     const struct proxy_head_opts *o, enum proxy_body *body, uint64_t *length,
		     char *err, size_t errlen)
{
	struct hops hops;
	const char *host = proxy_head_host(req, o);
	int rc;

	if (!target_ok(target))
		return fail(err, errlen, "the request-target for the backend has a byte that may "
					 "not stand raw in a request line");
	sb_init(&hops.xff);
	sb_init(&hops.fwd);
	sb_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n", req->method, target, host);
	put_client_headers(out, &hops, req, o);
	put_gateway_headers(out, &hops, req, o);
	rc = body_framing(out, req, body, length, err, errlen);
	sb_puts(out, "\r\n");
	sb_free(&hops.xff);
	sb_free(&hops.fwd);
	return rc;
}

/* ---------------------------------------------------------------- the response */

ssize_t proxy_head_length(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return (ssize_t)(i + 2);
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return (ssize_t)(i + 3);
	}
	return len > PROXY_HEAD_MAX ? -1 : 0;
}

static bool token_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static bool value_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
		else if (*s == 0x7f)
			return false;
	return true;
}

static char *trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int parse_status_line(char *line, struct proxy_resp *r, char *err, size_t errlen)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
	    !isdigit((unsigned char)line[10]) || !isdigit((unsigned char)line[11]) ||
	    (line[12] != ' ' && line[12] != '\0' && line[12] != '\r'))
		return fail(err, errlen, "the backend's status line is malformed");
	r->minor = line[7] - '0';
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (r->status < 100 || r->status > 599)
		return fail(err, errlen, "the backend's status code is out of range");
	return 0;
}

/* Framing and connection headers; 0, or -1 with err. */
static int note_framing(struct proxy_resp *r, const char *name, const char *value, char *err,
			size_t errlen)
{
	if (strcasecmp(name, "Content-Length") == 0) {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (!isdigit((unsigned char)*value) || *end || errno || v < 0 ||
		    (r->length >= 0 && r->length != v))
			return fail(err, errlen, "the backend's Content-Length is malformed");
		r->length = v;
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		if (strcasecmp(value, "chunked") != 0)
			return fail(err, errlen, "the backend's Transfer-Encoding is not chunked");
		r->chunked = true;
	} else if (strcasecmp(name, "Connection") == 0) {
		if (listed_in("close", value))
			r->close = true;
		else if (listed_in("keep-alive", value) && r->minor == 0)
			r->close = false;
	} else if (strcasecmp(name, "WWW-Authenticate") == 0 &&
		   strncasecmp(value, "Negotiate ", 10) == 0) {
		r->negotiate = (char *)value + 10;
	}
	return 0;
}

static int parse_field(char *line, struct proxy_resp *r, char *err, size_t errlen)
{
	char *colon = strchr(line, ':'), *name, *value;

	if (line[0] == ' ' || line[0] == '\t')
		return fail(err, errlen, "the backend folded a header line");
	if (!colon)
		return fail(err, errlen, "a backend header line has no ':'");
	*colon = '\0';
	name = line;
	value = trim(colon + 1);
	if (!token_ok(name) || !value_ok(value))
		return fail(err, errlen, "a backend header line is malformed");
	if (note_framing(r, name, value, err, errlen) < 0)
		return -1;
	if (http_hop_by_hop(name) || strcasecmp(name, "Content-Length") == 0)
		return 0;
	if (r->nhdrs == PROXY_MAX_HEADERS)
		return fail(err, errlen, "the backend sent too many headers");
	r->hdrs[r->nhdrs].name = name;
	r->hdrs[r->nhdrs].value = value;
	r->nhdrs++;
	return 0;
}

/* Headers the backend's Connection header names are hop-by-hop too. */
static void drop_connection_listed(struct proxy_resp *r, const char *connection)
{
	size_t k = 0;

	for (size_t i = 0; i < r->nhdrs; i++)
		if (!listed_in(r->hdrs[i].name, connection))
			r->hdrs[k++] = r->hdrs[i];
	r->nhdrs = k;
}

int proxy_resp_parse(const char *head, size_t len, bool head_request, struct proxy_resp *r,
		     char *err, size_t errlen)
{
	char *line, *next, *connection = NULL;

	memset(r, 0, sizeof(*r));
	r->length = -1;
	r->buf = malloc(len + 1);
	if (!r->buf)
		return fail(err, errlen, "out of memory");
	memcpy(r->buf, head, len);
	r->buf[len] = '\0';
	if (memchr(head, '\0', len))
		return fail(err, errlen, "the backend's head contains a NUL byte");
	line = r->buf;
	next = strchr(line, '\n');
	if (!next)
		return fail(err, errlen, "the backend's head has no line end");
	*next = '\0';
	if (parse_status_line(trim(line), r, err, errlen) < 0)
		return -1;
	r->close = r->minor == 0;
	for (line = next + 1; (next = strchr(line, '\n')) != NULL; line = next + 1) {
		*next = '\0';
		if (*line == '\0' || strcmp(line, "\r") == 0)
			break;
		if (line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (strncasecmp(line, "Connection:", 11) == 0)
			connection = line;
		if (parse_field(line, r, err, errlen) < 0)
			return -1;
	}
	if (connection)
		drop_connection_listed(r, connection + strlen(connection) + 1);
	if (r->chunked && r->length >= 0)
		return fail(err, errlen, "the backend sent both Content-Length and chunked");
	r->no_body = head_request || r->status < 200 || r->status == 204 || r->status == 304;
	if (!r->chunked && r->length < 0 && !r->no_body)
		r->close = true; /* the body ends when the backend closes */
	return 0;
}

void proxy_resp_free(struct proxy_resp *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- chunked */

enum { CH_SIZE = 0, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER,
       CH_TRAILER_LINE, CH_END_LF };

#define CHUNK_LINE_MAX 4096

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One byte of framing (not chunk data).  0, or -1 if malformed. */
static int chunk_framing_byte(struct proxy_chunks *ch, char c)
{
	int h;

	if (++ch->line > CHUNK_LINE_MAX)
		return -1;
	switch (ch->state) {
	case CH_SIZE:
		if ((h = hexval(c)) >= 0) {
			if (ch->left >> 60)
				return -1;
			ch->left = ch->left * 16 + (uint64_t)h;
			return 0;
		}
		if (ch->line == 1)
			return -1; /* a size has at least one digit */
		ch->state = c == '\r' ? CH_SIZE_LF : c == '\n' ? CH_DATA : CH_EXT;
		if (c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
			break;
		return -1;
	case CH_EXT:
		if (c == '\r') {
			ch->state = CH_SIZE_LF;
			return 0;
		}
		if (c != '\n')
			return 0;
		ch->state = CH_DATA;
		break;
	case CH_SIZE_LF:
		if (c != '\n')
			return -1;
		ch->state = CH_DATA;
		break;
	case CH_DATA_CR:
		if (c == '\n') {
			ch->state = CH_SIZE;
			ch->line = 0;
			return 0;
		}
		if (c != '\r')
			return -1;
		ch->state = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (c != '\n')
			return -1;
		ch->state = CH_SIZE;
		ch->line = 0;
		return 0;
	case CH_TRAILER:
		if (c == '\r') {
			ch->state = CH_END_LF;
		} else if (c == '\n') {
			ch->done = true;
		} else {
			ch->state = CH_TRAILER_LINE;
		}
		return 0;
	case CH_TRAILER_LINE:
		if (c == '\n') {
			ch->state = CH_TRAILER;
			ch->line = 0;
		}
		return 0;
	case CH_END_LF:
		if (c != '\n')
			return -1;
		ch->done = true;
		return 0;
	default:
		return -1;
	}
	/* a size line ended (or is about to): data, or the last chunk */
	if (ch->state == CH_DATA) {
		ch->line = 0;
		if (ch->left == 0)
			ch->state = CH_TRAILER;
	}
	return 0;
}

ssize_t proxy_chunks_decode(struct proxy_chunks *ch, const char *in, size_t n, char *out,
			    size_t *outn)
{
	size_t i = 0, w = 0, room = *outn;

	while (i < n && !ch->done) {
		if (ch->state == CH_DATA) {
			size_t k = n - i;
			if (k > ch->left)
				k = (size_t)ch->left;
			if (k > room - w)
				k = room - w;
			if (k == 0)
				break; /* out is full */
			memcpy(out + w, in + i, k);
			w += k;
			i += k;
			ch->left -= k;
			if (ch->left == 0)
				ch->state = CH_DATA_CR;
			continue;
		}
		if (chunk_framing_byte(ch, in[i++]) < 0)
			return -1;
	}
	*outn = w;
	return (ssize_t)i;
}

/* ---------------------------------------------------------------- signature */

/* The identity lines, as the headers carry them (empty when absent). */
static void put_identity_lines(struct sbuf *b, const char *user, const char *principal,
			       const char *level, const char *request_id)
{
	const char *parts[] = { user, principal, level, request_id };

	for (size_t i = 0; i < 4; i++) {
		if (parts[i])
			proxy_identity_value(b, parts[i]);
		sb_putc(b, '\n');
	}
}

char *proxy_sign_input(const char *user, const char *principal, const char *level,
		       const char *request_id, long long timestamp)
{
	struct sbuf b;

	sb_init(&b);
	sb_puts(&b, "idgate-identity-v1\n");
	put_identity_lines(&b, user, principal, level, request_id);
	sb_printf(&b, "%lld", timestamp);
	return b.s;
}

char *proxy_sign_input_v2(const struct proxy_sign_fields *f)
{
	const char *raw[] = { f->audience, f->method, f->target, f->host, f->body };
	struct sbuf b;

	/* each value is one line: one with a line break would shift the rest */
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++)
		if (!raw[i] || strpbrk(raw[i], "\r\n"))
			return NULL;
	sb_init(&b);
	sb_printf(&b, "idgate-identity-v2\n%s\n%s\n%s\n%s\n", f->audience, f->method, f->target,
		  f->host);
	put_identity_lines(&b, f->user, f->principal, f->level, f->request_id);
	sb_printf(&b, "%s\n%lld", f->body, f->timestamp);
	return b.s;
}
