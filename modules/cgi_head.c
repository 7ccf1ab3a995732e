/* cgi_head.c -- the response head of a CGI program, parsed strictly.
 *
 * A program's head is untrusted input that becomes our response head, so
 * anything a careful HTTP parser would refuse is refused here too (RFC
 * 3875 section 6, RFC 9112 section 5): lines end in LF or CRLF and nothing
 * else, no folded lines, no space before the colon, a name that is a
 * token, a value without control characters.  The CGI fields (Status,
 * Location, Content-Type, Content-Length) are checked and taken out; the
 * fields that belong to this hop or to the server are dropped. */
#include "cgi_head.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httputil.h"

int cgi_is_token(const char *s, size_t len)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
		    !(c >= 'A' && c <= 'Z') && (c == '\0' || !strchr(tchar, c)))
			return 0;
	}
	return 1;
}

ssize_t cgi_head_length(const char *buf, size_t len)
{
	size_t at = 0;

	for (;;) {
		const char *nl = memchr(buf + at, '\n', len - at);
		if (!nl)
			return len >= CGI_HEAD_MAX ? -1 : 0;
		size_t end = (size_t)(nl - buf) + 1;
		if (end > CGI_HEAD_MAX)
			return -1;
		if (end - at == 1 || (end - at == 2 && buf[at] == '\r'))
			return (ssize_t)end; /* the empty line */
		at = end;
	}
}

static int fail(struct cgi_head *h, const char *why)
{
	snprintf(h->error, sizeof(h->error), "%s", why);
	return -1;
}

/* A field value may hold visible characters, spaces, tabs and obs-text. */
static int value_ok(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static int is_dropped(const char *name)
{
	/* hop-by-hop, and what idgated itself says */
	return http_gateway_owned(name) || strcasecmp(name, "Server") == 0;
}

/* "NNN" or "NNN reason", NNN a final status (1xx are not for CGI). */
static int parse_status(struct cgi_head *h, const char *v)
{
	if (h->status)
		return fail(h, "repeated Status");
	if (strlen(v) < 3 || !(v[0] >= '1' && v[0] <= '9') || !(v[1] >= '0' && v[1] <= '9') ||
	    !(v[2] >= '0' && v[2] <= '9') || (v[3] != '\0' && v[3] != ' ' && v[3] != '\t'))
		return fail(h, "invalid Status");
	h->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
	if (h->status < 200 || h->status > 599) {
		snprintf(h->error, sizeof(h->error), "Status %d is not a final status (200-599)",
			 h->status);
		return -1;
	}
	return 0;
}

static int parse_length(struct cgi_head *h, const char *v)
{
	size_t n = strlen(v);
	int64_t len = 0;

	if (n == 0 || n > 18 || strspn(v, "0123456789") != n)
		return fail(h, "invalid Content-Length");
	for (size_t i = 0; i < n; i++)
		len = len * 10 + (v[i] - '0');
	if (h->content_length >= 0 && h->content_length != len)
		return fail(h, "conflicting Content-Length");
	h->content_length = len;
	return 0;
}

static int take_once(struct cgi_head *h, const char **slot, const char *v, const char *name)
{
	if (*slot) {
		snprintf(h->error, sizeof(h->error), "repeated %s", name);
		return -1;
	}
	if (!*v) {
		snprintf(h->error, sizeof(h->error), "empty %s", name);
		return -1;
	}
	*slot = v;
	return 0;
}

static int take_field(struct cgi_head *h, const char *name, const char *value)
{
	if (strcasecmp(name, "Status") == 0)
		return parse_status(h, value);
	if (strcasecmp(name, "Content-Length") == 0)
		return parse_length(h, value);
	if (strcasecmp(name, "Location") == 0)
		return take_once(h, &h->location, value, "Location");
	if (strcasecmp(name, "Content-Type") == 0)
		return take_once(h, &h->content_type, value, "Content-Type");
	if (is_dropped(name)) {
		h->ndropped++;
		return 0;
	}
	if (h->nfields == CGI_HEAD_MAX_FIELDS)
		return fail(h, "too many response header fields");
	h->fields[h->nfields++] = (struct cgi_field){ name, value };
	return 0;
}

/* One line without its LF (and CR): "Name: value" -> NUL-terminated name
 * and value in place, then taken. */
static int parse_line(struct cgi_head *h, char *line, size_t len)
{
	char *colon = memchr(line, ':', len);
	char *v, *end = line + len;

	if (!colon || !cgi_is_token(line, (size_t)(colon - line)))
		return fail(h, "malformed response header line");
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (!value_ok(v, (size_t)(end - v)))
		return fail(h, "malformed response header line");
	*colon = '\0';
	*end = '\0';
	return take_field(h, line, v);
}

static int final_status(struct cgi_head *h)
{
	int bodiless = h->status == 204 || h->status == 304;

	/* RFC 3875 6.2: a document has a Content-Type, a redirect a
	 * Location; a status that can have no body needs neither */
	if (!h->content_type && !h->location && !bodiless)
		return fail(h, "no Content-Type or Location in the response head");
	if (!h->status)
		h->status = h->location ? 302 : 200;
	return 0;
}

int cgi_head_parse(char *buf, size_t len, struct cgi_head *h)
{
	char *p = buf, *end = buf + len;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	for (;;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		if (!nl)
			return fail(h, "response head without its empty line");
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break; /* the empty line: the head is over */
		if (memchr(p, '\r', n) || memchr(p, '\0', n) || p[0] == ' ' || p[0] == '\t')
			return fail(h, "malformed response header line");
		if (parse_line(h, p, n) < 0)
			return -1;
		p = nl + 1;
	}
	return final_status(h);
}
