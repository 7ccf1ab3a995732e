/* httpcheck.c -- a request head is refused at the edge when a hop in front
 * of idgated, idgated itself and a backend behind it could read it
 * differently: the framing (RFC 9112 6.1-6.3), the line structure
 * (2.2, 5.1, 5.2) and Host (3.2).  libmicrohttpd 0.9.75 is lenient on
 * every one of them, and keeps no trace of some (bare LF, obs-fold) but
 * in where it left the parts of the head in its read buffer; that is what
 * hc_check_layout reads. */
#include "httpcheck.h"

#include <string.h>
#include <strings.h>

#include "wire.h"

#define SMUGGLING "request smuggling: "
#define WHY_FOLD SMUGGLING "a header line folded onto the next (obs-fold)"
#define WHY_BARE_LF SMUGGLING "a line ends in a bare LF"

/* ---------------------------------------------------------------- layout */

/* The bytes from `from` to `to`, or SIZE_MAX when `to` comes first. */
static size_t span(const char *from, const char *to)
{
	return to < from ? SIZE_MAX : (size_t)(to - from);
}

/* The parser wrote NUL over CR and LF and kept every other byte: a gap of
 * the right length that holds another byte is not made of line ends.
 * (A line that starts with NUL is an empty line to libmicrohttpd, so a
 * bare LF, then NUL, a byte and LF, spans the four bytes of CRLF CRLF.) */
static bool only_nuls(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* What separates one line's content from the next line: CRLF, two bytes
 * that the parser replaced with NUL.  A bare LF leaves one. */
static int line_break(const char *end, const char *next, const char *malformed, const char **why)
{
	size_t gap = span(end, next);

	if (gap == 2 && only_nuls(end, 2))
		return 0;
	*why = gap == 1 ? WHY_BARE_LF : malformed;
	return 400;
}

/* "name:" OWS value, in place.  A continuation line (obs-fold) is appended
 * to the name in a new block of the connection's pool, after the buffer,
 * so a folded field's name no longer comes just before its value. */
static bool field_in_place(const struct hc_field *f)
{
	const char *p = f->name + f->name_len + 1; /* past the colon */

	if (f->value < p)
		return false;
	while (p < f->value && (*p == ' ' || *p == '\t'))
		p++;
	return p == f->value;
}

int hc_check_layout(const struct hc_head *h, const char **why)
{
	const char *end = h->method + strlen(h->method);
	size_t last;

	if (span(end, h->target_at) != 1 ||
	    span(h->target_at + h->target_len, h->version) != 1) {
		*why = "malformed request line";
		return 400;
	}
	end = h->version + strlen(h->version);
	for (size_t i = 0; i < h->nfields; i++) {
		const struct hc_field *f = &h->fields[i];
		if (!field_in_place(f)) {
			*why = WHY_FOLD;
			return 400;
		}
		if (line_break(end, f->name, "malformed request head", why))
			return 400;
		end = f->value + f->value_len;
	}
	/* the last line's CRLF, then the empty line's */
	last = span(end, h->method + h->size);
	if (last == 4 && only_nuls(end, 4))
		return 0;
	*why = last >= 2 && last <= 4 ? WHY_BARE_LF : "malformed request head";
	return 400;
}

/* ---------------------------------------------------------------- request line */

/* libmicrohttpd 0.9.75 takes any bytes before the first space for a
 * method (a tab, a CTL, a byte above 0x7f) and any HTTP/1.<digit> for a
 * version, which it then treats as HTTP/1.1.  A hop that reads the line
 * another way would frame what follows another way. */
int hc_check_request_line(const struct hc_head *h, const char **why)
{
	if (!http_token_ok(h->method)) {
		*why = "malformed request line: the method is not a token";
		return 400;
	}
	if (strcmp(h->version, "HTTP/1.1") != 0 && strcmp(h->version, "HTTP/1.0") != 0) {
		*why = "malformed request line: an HTTP/1 version other than 1.0 and 1.1";
		return 400;
	}
	return 0;
}

/* ---------------------------------------------------------------- fields and target */

int hc_check_fields(const struct hc_field *f, size_t n, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = f[i].name_len;
		if (strlen(f[i].name) != len || !http_token_ok(f[i].name)) {
			/* RFC 9112 5.1: "Content-Length : 5" is a classic of smuggling */
			bool ws = len && (f[i].name[len - 1] == ' ' || f[i].name[len - 1] == '\t');
			*why = ws ? SMUGGLING "whitespace between a header field name and the colon"
				  : "malformed header field name (not a token)";
			return 400;
		}
		if (strlen(f[i].value) != f[i].value_len || !http_value_ok(f[i].value)) {
			*why = "control character in a header field value";
			return 400;
		}
	}
	return 0;
}

/* Raw bytes above 0x7f are refused too: RFC 9112 3.2 makes the target
 * ASCII, clients percent-encode the rest, and a backend or a log that
 * reads them as text may not agree with the next one on what they are. */
int hc_check_target(const char *target, size_t len, const char **why)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)target[i];
		if (c <= 0x20 || c == 0x7f) {
			*why = "control character, space or DEL in the request-target";
			return 400;
		}
		if (c > 0x7f) {
			*why = "a byte above 0x7f in the request-target";
			return 400;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- Host */

static bool field_is(const struct hc_field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

/* The first field called `name`, and how many there are. */
static const struct hc_field *find_field(const struct hc_head *h, const char *name, size_t *n)
{
	const struct hc_field *first = NULL;

	*n = 0;
	for (size_t i = 0; i < h->nfields; i++) {
		if (field_is(&h->fields[i], name)) {
			if (!first)
				first = &h->fields[i];
			(*n)++;
		}
	}
	return first;
}

static bool http10(const struct hc_head *h)
{
	return strcmp(h->version, "HTTP/1.0") == 0;
}

static bool reg_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool ipv6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	       c == ':' || c == '.';
}

bool hc_authority_ok(const char *s, size_t len)
{
	size_t i = 0, digits;

	if (len && s[0] == '[') {
		for (i = 1; i < len && ipv6_char(s[i]); i++)
			;
		if (i == 1 || i == len || s[i] != ']')
			return false;
		i++;
	} else {
		while (i < len && reg_name_char(s[i]))
			i++;
		if (i == 0)
			return false;
	}
	if (i == len)
		return true;
	if (s[i] != ':')
		return false;
	digits = len - i - 1;
	if (digits < 1 || digits > 5)
		return false;
	while (++i < len)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* RFC 9112 3.2.2 lets an origin server prefer the target's authority to
 * Host; a hop in front may have routed by Host.  So both must agree. */
static int check_absolute_form(const struct hc_head *h, const struct hc_field *host,
			       const char **why)
{
	const char *t = h->target, *auth;
	size_t skip, alen;

	if (h->target_len >= 7 && strncmp(t, "http://", 7) == 0)
		skip = 7;
	else if (h->target_len >= 8 && strncmp(t, "https://", 8) == 0)
		skip = 8;
	else
		return 0;
	auth = t + skip;
	for (alen = 0; skip + alen < h->target_len && !strchr("/?#", auth[alen]); alen++)
		;
	if (memchr(auth, '@', alen))
		*why = "user information in the request-target";
	else if (!hc_authority_ok(auth, alen))
		*why = "the absolute-form request-target's authority is not host[:port]";
	else if (host && (host->value_len != alen || strncasecmp(host->value, auth, alen) != 0))
		*why = "the absolute-form request-target names another host than Host";
	else
		return 0;
	return 400;
}

int hc_check_host(const struct hc_head *h, const char **why)
{
	size_t n;
	const struct hc_field *host = find_field(h, "Host", &n);

	if (n > 1)
		*why = "two Host header fields";
	else if (n == 0 && !http10(h))
		*why = "HTTP/1.1 request without Host";
	else if (host && !hc_authority_ok(host->value, host->value_len))
		*why = "Host is not host[:port]";
	else
		return check_absolute_form(h, host, why);
	return 400;
}

/* ---------------------------------------------------------------- framing */

static bool same_values(const struct hc_head *h, const char *name)
{
	const struct hc_field *first = NULL;

	for (size_t i = 0; i < h->nfields; i++) {
		const struct hc_field *f = &h->fields[i];
		if (!field_is(f, name))
			continue;
		if (!first)
			first = f;
		else if (f->value_len != first->value_len ||
			 memcmp(f->value, first->value, f->value_len) != 0)
			return false;
	}
	return true;
}

/* 1*DIGIT that fits in 63 bits, or -1. */
static int parse_length(const struct hc_field *cl, uint64_t *out)
{
	uint64_t n = 0;

	if (cl->value_len == 0 || cl->value_len > 18)
		return -1;
	for (size_t i = 0; i < cl->value_len; i++) {
		if (cl->value[i] < '0' || cl->value[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(cl->value[i] - '0');
	}
	*out = n;
	return 0;
}

/* What libmicrohttpd does with the one Transfer-Encoding left: "chunked"
 * (any case, nothing around it) is read in chunks; anything else would be
 * read to the end of the connection. */
static int check_transfer_encoding(const struct hc_head *h, const struct hc_field *te,
				   size_t ncl, const char **why)
{
	if (ncl)
		*why = SMUGGLING "both Content-Length and Transfer-Encoding";
	else if (http10(h))
		*why = SMUGGLING "Transfer-Encoding in an HTTP/1.0 request";
	else if (te->value_len != 7 || strncasecmp(te->value, "chunked", 7) != 0)
		*why = SMUGGLING "a transfer coding other than chunked";
	else
		return 0;
	return 400;
}

int hc_check_framing(const struct hc_head *h, struct hc_verdict *v)
{
	size_t nte, ncl;
	const struct hc_field *te = find_field(h, "Transfer-Encoding", &nte);
	const struct hc_field *cl = find_field(h, "Content-Length", &ncl);

	v->framing = HC_NO_BODY;
	v->length = 0;
	if (nte > 1) {
		v->why = SMUGGLING "Transfer-Encoding sent more than once";
		return 400;
	}
	if (te) {
		if (check_transfer_encoding(h, te, ncl, &v->why))
			return 400;
		v->framing = HC_CHUNKED;
		return 0;
	}
	if (ncl > 1) {
		v->why = same_values(h, "Content-Length")
				 ? SMUGGLING "Content-Length sent more than once"
				 : SMUGGLING "two different Content-Length values";
		return 400;
	}
	if (cl && parse_length(cl, &v->length) < 0) {
		v->why = SMUGGLING "Content-Length is not a number of bytes";
		return 400;
	}
	v->framing = cl ? HC_LENGTH : HC_NO_BODY;
	return 0;
}

int hc_check_head(const struct hc_head *h, struct hc_verdict *v)
{
	if (hc_check_layout(h, &v->why) || hc_check_request_line(h, &v->why) ||
	    hc_check_fields(h->fields, h->nfields, &v->why) ||
	    hc_check_target(h->target, h->target_len, &v->why) || hc_check_host(h, &v->why))
		return 400;
	return hc_check_framing(h, v);
}
