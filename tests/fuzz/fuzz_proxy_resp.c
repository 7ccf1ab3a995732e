/* fuzz_proxy_resp.c -- the proxy module's reading of a backend's response
 * head (proxy_msg.c): where it ends (proxy_head_length) and what it says
 * (proxy_resp_parse).  The backend is not trusted: what passes becomes the
 * client's response head and decides how the body is framed.
 *
 * Input: a byte (bit 0: the request was HEAD), then what the backend sent.
 * Properties: the head ends at its first empty line; a parsed head has a
 * status 100-599, not both Content-Length and chunked, and passes on only
 * end-to-end fields whose names are tokens and whose values hold no
 * control character, all inside its own copy of the head. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "httputil.h"
#include "proxy_msg.h"

static size_t check_length(const char *buf, size_t len)
{
	ssize_t end = proxy_head_length(buf, len);

	if (end < 0) {
		FZ_CHECK(len > PROXY_HEAD_MAX);
		return 0;
	}
	if (end == 0)
		return 0;
	size_t e = (size_t)end;
	FZ_CHECK(e >= 2 && e <= len && buf[e - 1] == '\n');
	FZ_CHECK(buf[e - 2] == '\n' || (e >= 3 && buf[e - 2] == '\r' && buf[e - 3] == '\n'));
	/* the first empty line ("\n\n" or "\n\r\n") ends it */
	for (size_t i = 0; i < e; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n') {
			FZ_CHECK(e == i + 2);
			break;
		}
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
			FZ_CHECK(e == i + 3);
			break;
		}
	}
	return e;
}

static bool token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return true;
}

static void check_parsed(const struct proxy_resp *r, size_t len, bool head_req)
{
	FZ_CHECK(r->status >= 100 && r->status <= 599 && (r->minor == 0 || r->minor == 1));
	FZ_CHECK(!(r->chunked && r->length >= 0) && r->length >= -1);
	FZ_CHECK(r->nhdrs <= PROXY_MAX_HEADERS);
	FZ_CHECK(!head_req || r->no_body);
	FZ_CHECK(r->no_body || r->chunked || r->length >= 0 || r->close);
	for (size_t i = 0; i < r->nhdrs; i++) {
		const char *n = r->hdrs[i].name, *v = r->hdrs[i].value;
		FZ_CHECK(n >= r->buf && n < r->buf + len && v >= r->buf && v <= r->buf + len);
		FZ_CHECK(token(n) && !http_hop_by_hop(n) && strcasecmp(n, "Content-Length") != 0);
		for (const unsigned char *c = (const unsigned char *)v; *c; c++)
			FZ_CHECK((*c >= 0x20 || *c == '\t') && *c != 0x7f);
		FZ_CHECK(!*v || (v[0] != ' ' && v[0] != '\t'));
	}
	if (r->negotiate)
		FZ_CHECK(r->negotiate >= r->buf && r->negotiate <= r->buf + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	bool head_req = fz_u8(&z) & 1;
	size_t len;
	char *buf = (char *)fz_rest_exact(&z, &len);
	struct proxy_resp r;
	char err[200];
	size_t head = check_length(buf, len);
	/* proxy.c parses what proxy_head_length found; the rest, too, here */
	if (proxy_resp_parse(buf, head ? head : len, head_req, &r, err, sizeof(err)) == 0)
		check_parsed(&r, head ? head : len, head_req);
	else
		FZ_CHECK(err[0] != '\0');
	proxy_resp_free(&r);
	free(buf);
	return 0;
}
