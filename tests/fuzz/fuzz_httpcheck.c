/* fuzz_httpcheck.c -- the edge's checks of a request head (httpcheck.c).
 *
 * They read the head where libmicrohttpd 0.9.75 left it in its read
 * buffer, so the bytes are first parsed here the way that library does
 * (connection.c of 0.9.75: get_next_header_line, parse_initial_message_line,
 * process_header_line, process_broken_line): lines end in CRLF or a bare
 * LF, each separator becomes NUL in place, empty lines before the request
 * line are skipped, the method ends at the first space and the version
 * starts after the last, a folded line is appended to its field's name in
 * a new block after the buffer.  What the library itself refuses (no
 * colon, a version other than HTTP/1.x, an unfinished head) never reaches
 * the checks and is skipped.
 *
 * Input: the bytes a client sent.  Properties: a head the checks let
 * through is, byte for byte, "token SP target SP HTTP/1.(0|1) CRLF
 * *(token ":" OWS value CRLF) CRLF" with no other CR, LF or NUL, a target
 * of visible ASCII, one Host (unless HTTP/1.0), and the framing they
 * report is the one its fields say, read again here independently.  The
 * one exception is the blind spot docs/ARCHITECTURE.md describes: NUL
 * bytes at line ends, which leave the parser's buffer exactly as CR would;
 * for a head with a NUL the buffer must then be byte for byte that of a
 * head in that shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "httpcheck.h"

#define MAX_FIELDS 256

struct sim {
	char *buf;           /* the read buffer, then room for folded names */
	size_t len, pos, pool;
	const char *start;   /* the request line, past skipped empty lines */
	char *target;        /* the target, as the URI callback copies it */
	struct hc_field f[MAX_FIELDS];
	struct hc_head h;
};

/* The next line (NUL for its CRLF or LF), or NULL: no line end yet. */
static char *next_line(struct sim *s, size_t *line_len)
{
	char *line = s->buf + s->pos;

	for (size_t i = s->pos; i < s->len; i++) {
		if (s->buf[i] == '\r' && i + 1 < s->len && s->buf[i + 1] == '\n') {
			*line_len = i - s->pos;
			s->buf[i] = s->buf[i + 1] = '\0';
			s->pos = i + 2;
			return line;
		}
		if (s->buf[i] == '\n') {
			*line_len = i - s->pos;
			s->buf[i] = '\0';
			s->pos = i + 1;
			return line;
		}
	}
	return NULL;
}

static bool version_ok(const char *v, size_t n)
{
	return n == 8 && strncmp(v, "HTTP/1.", 7) == 0 && v[7] >= '0' && v[7] <= '9';
}

/* parse_initial_message_line, as far as it concerns the checks. */
static bool request_line(struct sim *s, char *line, size_t n)
{
	char *sp = memchr(line, ' ', n), *uri, *v;

	if (!sp || sp == line)
		return false;
	*sp = '\0';
	uri = sp + 1;
	while (*uri == ' ' && (size_t)(uri - line) < n)
		uri++;
	if ((size_t)(uri - line) == n)
		return false; /* no version */
	v = line + n - 1;
	while (*v == ' ' && v > uri)
		v--;
	while (*v != ' ' && v > uri)
		v--;
	if (v <= uri || !version_ok(v + 1, n - (size_t)(v + 1 - line)))
		return false;
	*v = '\0';
	s->h.method = line;
	s->h.target_at = uri;
	s->h.version = v + 1;
	s->target = strdup(uri);
	s->h.target = s->target;
	s->h.target_len = strlen(s->target);
	return true;
}

/* process_header_line: "name:" OWS, the value after. */
static bool header_line(struct sim *s, char *line)
{
	char *colon = strchr(line, ':');

	if (!colon || s->h.nfields == MAX_FIELDS)
		return false;
	*colon++ = '\0';
	while (*colon == ' ' || *colon == '\t')
		colon++;
	s->f[s->h.nfields++] = (struct hc_field){ .name = line, .value = colon };
	return true;
}

/* process_broken_line's continuation: the name, moved, grows. */
static void fold(struct sim *s, const char *line)
{
	struct hc_field *f = &s->f[s->h.nfields - 1];
	size_t n = strlen(f->name);
	char *moved = s->buf + s->pool;

	while (*line == ' ' || *line == '\t')
		line++;
	if (f->name < s->buf + s->len) { /* first fold: a new block */
		memmove(moved, f->name, n + 1);
		s->pool += n + 1;
		f->name = moved;
	}
	strcpy((char *)f->name + n, line);
	s->pool += strlen(line);
}

/* 0: a head as libmicrohttpd hands it over; -1: it would refuse it or
 * wait for more. */
static int parse(struct sim *s)
{
	size_t n;
	char *line;

	while ((line = next_line(s, &n)) && !line[0])
		; /* spurious empty lines */
	if (!line || !request_line(s, line, n))
		return -1;
	s->start = line;
	while ((line = next_line(s, &n)) && line[0]) {
		if ((line[0] == ' ' || line[0] == '\t') && s->h.nfields)
			fold(s, line);
		else if (!header_line(s, line))
			return -1;
	}
	if (!line)
		return -1;
	for (size_t i = 0; i < s->h.nfields; i++) {
		s->f[i].name_len = strlen(s->f[i].name);
		s->f[i].value_len = strlen(s->f[i].value);
	}
	s->h.fields = s->f;
	s->h.size = (size_t)(s->buf + s->pos - s->h.method);
	return 0;
}

/* ---------------------------------------------------------------- the strict reading */

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

struct strict {
	size_t host, cl, te;
	const char *cl_value, *te_value;
	size_t cl_len, te_len;
	bool http10;
};

/* One line of raw[0..n) (without its CRLF) is a field line. */
static bool strict_field(const char *p, size_t n, struct strict *st)
{
	size_t name = 0, v;

	while (name < n && tchar((unsigned char)p[name]))
		name++;
	if (name == 0 || name == n || p[name] != ':')
		return false;
	for (size_t i = name + 1; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	v = name + 1 + strspn(p + name + 1, " \t");
	if (v > n)
		v = n;
	if (name == 4 && strncasecmp(p, "Host", 4) == 0)
		st->host++;
	if (name == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
		st->cl++;
		st->cl_value = p + v;
		st->cl_len = n - v;
	}
	if (name == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
		st->te++;
		st->te_value = p + v;
		st->te_len = n - v;
	}
	return true;
}

/* raw[0..size) is the whole head in RFC 9112's own shape. */
static bool strict_head(const char *raw, size_t size, struct strict *st)
{
	const char *p = raw, *end = raw + size, *eol;
	bool first = true;

	memset(st, 0, sizeof(*st));
	for (;;) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			return false;
		size_t n = (size_t)(eol - p);
		if (memchr(p, '\n', n) || memchr(p, '\0', n))
			return false;
		if (first) {
			const char *sp1 = memchr(p, ' ', n), *sp2;
			if (!sp1 || sp1 == p || memchr(sp1, '\r', (size_t)(eol - sp1)))
				return false;
			for (const char *m = p; m < sp1; m++)
				if (!tchar((unsigned char)*m))
					return false;
			sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
			if (!sp2 || sp2 == sp1 + 1 || (size_t)(eol - sp2 - 1) != 8 ||
			    (strncmp(sp2 + 1, "HTTP/1.1", 8) != 0 && strncmp(sp2 + 1, "HTTP/1.0", 8) != 0))
				return false;
			for (const char *t = sp1 + 1; t < sp2; t++)
				if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
					return false;
			st->http10 = strncmp(sp2 + 1, "HTTP/1.0", 8) == 0;
			first = false;
		} else if (n == 0) {
			return eol + 2 == end;
		} else if (memchr(p, '\r', n) || !strict_field(p, n, st)) {
			return false;
		}
		p = eol + 2;
	}
}

static void check_framing(const struct hc_verdict *v, const struct strict *st)
{
	FZ_CHECK(st->te <= 1 && st->cl <= 1 && !(st->te && st->cl));
	if (v->framing == HC_CHUNKED) {
		FZ_CHECK(st->te == 1 && !st->http10);
		FZ_CHECK(st->te_len == 7 && strncasecmp(st->te_value, "chunked", 7) == 0);
	} else if (v->framing == HC_LENGTH) {
		uint64_t n = 0;
		FZ_CHECK(st->cl == 1 && st->cl_len >= 1 && st->cl_len <= 18);
		for (size_t i = 0; i < st->cl_len; i++) {
			FZ_CHECK(st->cl_value[i] >= '0' && st->cl_value[i] <= '9');
			n = n * 10 + (uint64_t)(st->cl_value[i] - '0');
		}
		FZ_CHECK(n == v->length);
	} else {
		FZ_CHECK(v->framing == HC_NO_BODY && st->te == 0 && st->cl == 0);
	}
}

/* The head in RFC 9112's shape that hc_head `h` shows: each line as the
 * parser stored it, CRLF after each. */
static char *canonical(const struct hc_head *h, size_t *len)
{
	size_t cap = 64 + strlen(h->method) + h->target_len + strlen(h->version), n;
	char *c;

	for (size_t i = 0; i < h->nfields; i++)
		cap += h->fields[i].name_len + h->fields[i].value_len + 8 +
		       (size_t)(h->fields[i].value - h->fields[i].name);
	c = malloc(cap);
	n = (size_t)sprintf(c, "%s %s %s\r\n", h->method, h->target, h->version);
	for (size_t i = 0; i < h->nfields; i++) {
		const struct hc_field *f = &h->fields[i];
		const char *ows = f->name + f->name_len + 1;
		n += (size_t)sprintf(c + n, "%s:%.*s%s\r\n", f->name, (int)(f->value - ows), ows,
				     f->value);
	}
	n += (size_t)sprintf(c + n, "\r\n");
	*len = n;
	return c;
}

static struct sim *simulate(const uint8_t *data, size_t size)
{
	struct sim *s = calloc(1, sizeof(*s));

	s->len = size;
	s->pool = size;
	s->buf = malloc(2 * size + 16); /* then as much again for folded names */
	memcpy(s->buf, data, size);
	return s;
}

static void sim_free(struct sim *s)
{
	free(s->target);
	free(s->buf);
	free(s);
}

/* A head the checks accept: in RFC 9112's shape, or -- the blind spot
 * that docs/ARCHITECTURE.md names -- with NUL bytes at line ends, where
 * libmicrohttpd leaves its buffer exactly as that shape would. */
static void check_accepted(const struct sim *s, const char *raw, const struct hc_verdict *v)
{
	struct strict st;
	char *c = NULL;

	if (!memchr(raw, '\0', s->h.size)) {
		FZ_CHECK(strict_head(raw, s->h.size, &st));
	} else {
		size_t n;
		c = canonical(&s->h, &n);
		struct sim *t = simulate((const uint8_t *)c, n);
		FZ_CHECK(strict_head(c, n, &st));
		FZ_CHECK(parse(t) == 0 && t->h.size == s->h.size);
		FZ_CHECK(memcmp(t->h.method, s->h.method, s->h.size) == 0);
		sim_free(t);
	}
	FZ_CHECK(st.host == 1 || (st.host == 0 && st.http10));
	check_framing(v, &st); /* st points into raw or c */
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim *s = simulate(data, size);
	struct hc_verdict v = { .why = NULL };

	if (parse(s) == 0) {
		const char *raw = (const char *)data + (s->h.method - s->buf);
		int rc = hc_check_head(&s->h, &v);
		if (rc == 0)
			check_accepted(s, raw, &v);
		else
			FZ_CHECK(rc == 400 && v.why && *v.why);
	}
	sim_free(s);
	return 0;
}
