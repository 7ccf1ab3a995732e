/* fuzz_cgi_head.c -- the response head of a CGI program (cgi_head.c): the
 * program may be anyone's, and its head becomes ours.
 *
 * Input: what the program wrote on its stdout.  Properties: the head ends
 * at its first empty line, within CGI_HEAD_MAX; a parsed head has a final
 * status, a Content-Type or a Location unless the status has no body, and
 * passes on only fields whose names are tokens and whose values hold no
 * control character, none of them hop-by-hop, Date or Server, all inside
 * the head. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgi_head.h"
#include "fuzz.h"
#include "httputil.h"

static void check_length(const char *buf, size_t len, ssize_t end)
{
	if (end < 0) {
		FZ_CHECK(len >= CGI_HEAD_MAX);
		return;
	}
	if (end == 0) {
		FZ_CHECK(len < CGI_HEAD_MAX);
		return;
	}
	size_t e = (size_t)end;
	FZ_CHECK(e <= len && e <= CGI_HEAD_MAX && buf[e - 1] == '\n');
	/* the line that ends there is empty, and no line before it */
	FZ_CHECK(e == 1 || buf[e - 2] == '\n' ||
		 (buf[e - 2] == '\r' && (e == 2 || buf[e - 3] == '\n')));
	for (size_t i = 0; i + 1 < e; i++) {
		bool line_start = i == 0 || buf[i - 1] == '\n';
		FZ_CHECK(!(line_start && (buf[i] == '\n' || (buf[i] == '\r' && buf[i + 1] == '\n' &&
								i + 2 < e))));
	}
}

static void check_parsed(const struct cgi_head *h, const char *buf, size_t len)
{
	FZ_CHECK(h->status >= 200 && h->status <= 599);
	FZ_CHECK(h->content_type || h->location || h->status == 204 || h->status == 304);
	FZ_CHECK(h->content_length >= -1 && h->nfields <= CGI_HEAD_MAX_FIELDS);
	for (size_t i = 0; i < h->nfields; i++) {
		const char *n = h->fields[i].name, *v = h->fields[i].value;
		FZ_CHECK(n >= buf && n < buf + len && v >= buf && v < buf + len);
		FZ_CHECK(cgi_is_token(n, strlen(n)));
		FZ_CHECK(!http_hop_by_hop(n) && strcasecmp(n, "Date") != 0 &&
			 strcasecmp(n, "Server") != 0 && strcasecmp(n, "Status") != 0 &&
			 strcasecmp(n, "Content-Length") != 0);
		for (const unsigned char *c = (const unsigned char *)v; *c; c++)
			FZ_CHECK((*c >= 0x20 || *c == '\t') && *c != 0x7f);
	}
	if (h->location)
		FZ_CHECK(*h->location && h->location >= buf && h->location < buf + len);
	if (h->content_type)
		FZ_CHECK(*h->content_type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1); /* its own size: ASan sees past its end */
	struct cgi_head *h = malloc(sizeof(*h));
	ssize_t end;

	memcpy(buf, data, size);
	end = cgi_head_length(buf, size);
	check_length(buf, size, end);
	/* cgi.c parses what cgi_head_length found; anything, too, here */
	if (cgi_head_parse(buf, end > 0 ? (size_t)end : size, h) == 0)
		check_parsed(h, buf, end > 0 ? (size_t)end : size);
	else
		FZ_CHECK(h->error[0] != '\0');
	free(h);
	free(buf);
	return 0;
}
