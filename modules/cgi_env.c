/* cgi_env.c -- the environment of a CGI program, built from scratch.
 *
 * Nothing of idgated's own environment is passed: only RFC 3875's
 * meta-variables, a fixed PATH, and who the caller is (SPEC, "Identity
 * passed to handlers").  The request's headers become HTTP_* variables,
 * but not the ones that would hand over a credential (Authorization,
 * Proxy-Authorization) or let a client steer the program's own outgoing
 * requests (Proxy -> HTTP_PROXY, "httpoxy").  A value with a control
 * character is left out rather than cleaned: a program that sees a
 * variable sees exactly what the client sent. */
#include "cgi_env.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "uri.h"
#include "util.h"

#define CGI_PATH "/usr/local/bin:/usr/bin:/bin"

/* Control characters, but for tab (legal in a header value), are never
 * passed: a CR or LF in a variable is how header injection starts. */
static int clean(const char *v)
{
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static int has_var(const struct cgi_env *e, const char *name, size_t len)
{
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->vars[i], name, len) == 0 && e->vars[i][len] == '=')
			return 1;
	return 0;
}

/* Add NAME=value; a NULL value adds nothing.  -1 only when out of memory. */
static int add(struct cgi_env *e, const char *name, const char *value)
{
	size_t len;
	char *v;

	if (!value)
		return 0;
	len = strlen(name) + 1 + strlen(value);
	if (!clean(value) || e->n == CGI_ENV_MAX || e->bytes + len + 1 > CGI_ENV_BYTES ||
	    has_var(e, name, strlen(name))) {
		e->dropped++;
		return 0;
	}
	v = malloc(len + 1);
	if (!v)
		return -1;
	snprintf(v, len + 1, "%s=%s", name, value);
	e->vars[e->n++] = v;
	e->vars[e->n] = NULL;
	e->bytes += len + 1;
	return 0;
}

static int addf(struct cgi_env *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int addf(struct cgi_env *e, const char *name, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return add(e, name, buf);
}

/* "host", "host:port", "[v6]" or "[v6]:port" -> name and port; -1 if the
 * Host header is anything else (the fallbacks are used then). */
static int split_host(const char *host, char *name, size_t nlen, char *port, size_t plen)
{
	size_t n;

	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (!close || strspn(host + 1, "0123456789abcdefABCDEF:.") != (size_t)(close - host - 1))
			return -1;
		n = (size_t)(close - host) + 1;
	} else {
		n = strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
	}
	if (n == 0 || n >= nlen)
		return -1;
	memcpy(name, host, n);
	name[n] = '\0';
	port[0] = '\0';
	if (host[n] == '\0')
		return 0;
	if (host[n] != ':' || strlen(host + n + 1) == 0 || strlen(host + n + 1) > 5 ||
	    strspn(host + n + 1, "0123456789") != strlen(host + n + 1) ||
	    atoi(host + n + 1) > 65535 || strlen(host + n + 1) >= plen)
		return -1;
	snprintf(port, plen, "%s", host + n + 1);
	return 0;
}

static int add_server_vars(struct cgi_env *e, struct idg_request *req, const struct cgi_script *s)
{
	char name[256], port[8];
	int rc = 0;

	if (split_host(req->host, name, sizeof(name), port, sizeof(port)) < 0) {
		snprintf(name, sizeof(name), "%s", s->server_name);
		port[0] = '\0';
	}
	if (!port[0])
		snprintf(port, sizeof(port), "%s", req->tls ? "443" : "80");
	rc |= add(e, "GATEWAY_INTERFACE", "CGI/1.1");
	rc |= add(e, "SERVER_SOFTWARE", "idgate/" PACKAGE_VERSION);
	rc |= add(e, "SERVER_NAME", name);
	rc |= add(e, "SERVER_PORT", port);
	rc |= add(e, "SERVER_PROTOCOL", req->version);
	rc |= add(e, "PATH", CGI_PATH);
	if (req->tls)
		rc |= add(e, "HTTPS", "on");
	return rc;
}

static int add_request_vars(struct cgi_env *e, struct idg_request *req)
{
	const char *type = req->ops->header(req, "Content-Type");
	const char *length = req->ops->header(req, "Content-Length");
	char *path = uri_encode_path(req->path), *uri = NULL;
	int rc = 0;

	if (!path || asprintf(&uri, "%s%s%s", path, req->query[0] ? "?" : "", req->query) < 0)
		uri = NULL;
	free(path);
	if (!uri)
		return -1;
	rc |= add(e, "REQUEST_METHOD", req->method);
	rc |= add(e, "REQUEST_URI", uri);
	rc |= add(e, "QUERY_STRING", req->query);
	rc |= add(e, "REMOTE_ADDR", req->client_addr);
	rc |= addf(e, "REMOTE_PORT", "%u", req->client_port);
	rc |= add(e, "CONTENT_TYPE", type);
	if (length && length[0] && strspn(length, "0123456789") == strlen(length))
		rc |= add(e, "CONTENT_LENGTH", length);
	free(uri);
	return rc;
}

static int add_script_vars(struct cgi_env *e, const struct cgi_script *s)
{
	int rc = 0;

	rc |= add(e, "SCRIPT_NAME", s->script_name);
	rc |= add(e, "SCRIPT_FILENAME", s->filename);
	rc |= add(e, "DOCUMENT_ROOT", s->root);
	rc |= add(e, "PATH_INFO", s->path_info);
	if (s->path_info[0]) {
		char *translated;
		if (asprintf(&translated, "%s%s", strcmp(s->root, "/") == 0 ? "" : s->root,
			     s->path_info) < 0)
			return -1;
		rc |= add(e, "PATH_TRANSLATED", translated);
		free(translated);
	}
	return rc;
}

static const char *level_name(enum idg_level level)
{
	const char *n = idg_level_name((int)level);

	return n ? n : "anonymous"; /* never more than it is */
}

static int add_identity_vars(struct cgi_env *e, struct idg_request *req)
{
	int rc = 0;

	rc |= add(e, "REMOTE_USER", req->user ? req->user : req->principal);
	rc |= add(e, "AUTH_TYPE", req->auth_type);
	rc |= add(e, "GSS_NAME", req->principal);
	rc |= add(e, "IDGATE_LEVEL", level_name(req->level));
	rc |= add(e, "IDGATE_REQUEST_ID", req->request_id);
	rc |= add(e, "KRB5CCNAME", req->ccache);
	return rc;
}

/* Headers that never become HTTP_* variables. */
static int header_withheld(const char *name)
{
	static const char *const withheld[] = {
		"Authorization", "Proxy-Authorization", /* credentials */
		"Proxy",                                 /* HTTP_PROXY: httpoxy */
	};

	for (size_t i = 0; i < sizeof(withheld) / sizeof(withheld[0]); i++)
		if (strcasecmp(name, withheld[i]) == 0)
			return 1;
	return 0;
}

/* A header name that makes a variable name: letters, digits and '-' (which
 * becomes '_').  "X_A" and "X-A" would both be HTTP_X_A, and a token's
 * other bytes ('.', '$', '`', '|', ...) would make a name no shell can
 * name (POSIX: letters, digits, '_'), so names with any of them are left
 * out, as Apache's http2env does. */
static bool var_name_ok(const char *name, size_t len)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";

	return len >= 1 && len <= 255 && strspn(name, ok) == len;
}

static int add_header_var(struct cgi_env *e, struct idg_request *req, const char *name)
{
	size_t len = strlen(name);
	char var[5 + 256];

	if (strcasecmp(name, "Content-Type") == 0 || strcasecmp(name, "Content-Length") == 0)
		return 0; /* they are CONTENT_TYPE and CONTENT_LENGTH */
	if (!var_name_ok(name, len) || header_withheld(name)) {
		e->dropped++;
		return 0;
	}
	memcpy(var, "HTTP_", 5);
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];
		var[5 + i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	if (has_var(e, var, strlen(var)))
		return 0; /* a repeated header: the first one added them all, joined */
	return add(e, var, req->ops->header(req, name));
}

int cgi_env_build(struct cgi_env *e, struct idg_request *req, const struct cgi_script *s)
{
	const char *name, *value;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	rc |= add_server_vars(e, req, s);
	rc |= add_request_vars(e, req);
	rc |= add_script_vars(e, s);
	rc |= add_identity_vars(e, req);
	for (size_t i = 0; rc == 0 && req->ops->header_at(req, i, &name, &value); i++)
		rc |= add_header_var(e, req, name);
	if (rc) {
		cgi_env_free(e);
		return -1;
	}
	return 0;
}

void cgi_env_free(struct cgi_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->vars[i]);
	e->n = 0;
	e->vars[0] = NULL;
}

const char *cgi_env_get(const struct cgi_env *e, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->vars[i], name, len) == 0 && e->vars[i][len] == '=')
			return e->vars[i] + len + 1;
	return NULL;
}
