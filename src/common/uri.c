/* uri.c -- every byte of a request-target is hostile: decode strictly,
 * refuse what could change meaning between us and a filesystem or a
 * backend (NUL, encoded '/', control characters), then normalise so that
 * vdir routing sees the same path that a handler will use. */
#include "uri.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int path_normalize(char *path, unsigned flags)
{
	char *out = path; /* write position; path[0] is '/' */
	const char *in = path;

	if (*in != '/')
		return -1;
	while (*in) {
		const char *seg;
		size_t len;

		while (*in == '/')
			in++;
		seg = in;
		while (*in && *in != '/')
			in++;
		len = (size_t)(in - seg);
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
			if (flags & PATH_KEEP_DOTS_ERROR)
				return -1;
			if (len == 2) {
				if (out == path)
					return -1; /* above the root */
				while (out > path && *--out != '/')
					;
			}
			if (!*in) /* "/a/." and "/a/.." end in a directory */
				*out++ = '/';
			continue;
		}
		if (len == 0) { /* trailing slash */
			if (out == path || out[-1] != '/')
				*out++ = '/';
			continue;
		}
		*out++ = '/';
		memmove(out, seg, len);
		out += len;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
	return 0;
}

/* Decode %XX in src[0..len) into a new string; refuse what must not pass. */
static char *percent_decode(const char *src, size_t len, const char **why)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '%') {
			if (i + 2 >= len || hex_value(src[i + 1]) < 0 || hex_value(src[i + 2]) < 0) {
				*why = "bad percent-encoding in path";
				goto bad;
			}
			c = (unsigned char)(hex_value(src[i + 1]) * 16 + hex_value(src[i + 2]));
			i += 2;
			if (c == '/') {
				*why = "encoded '/' in path";
				goto bad;
			}
		}
		if (c < 0x20 || c == 0x7f) {
			*why = "control character in path";
			goto bad;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

int uri_parse(const char *raw, char **path, char **query, const char **why)
{
	const char *p = raw, *q;
	char *dec;

	*path = *query = NULL;
	if (str_has_prefix(p, "http://") || str_has_prefix(p, "https://")) {
		p = strstr(p, "//") + 2;
		p = p + strcspn(p, "/?");
		if (*p != '/') {
			*why = "absolute-form request-target without a path";
			return 400;
		}
	}
	if (*p != '/') {
		*why = "request-target is not an absolute path";
		return 400;
	}
	if (strchr(p, '#')) {
		*why = "fragment in request-target";
		return 400;
	}
	q = strchr(p, '?');
	dec = percent_decode(p, q ? (size_t)(q - p) : strlen(p), why);
	if (!dec)
		return 400;
	if (path_normalize(dec, 0) < 0) {
		free(dec);
		*why = "path climbs above the root";
		return 400;
	}
	*path = dec;
	*query = xstrdup(q ? q + 1 : "");
	return 0;
}

char *uri_encode_path(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(path) * 3 + 1);
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("/-._~!$&'()*+,;=:@", *s)) {
			out[o++] = (char)*s;
		} else {
			out[o++] = '%';
			out[o++] = hex[*s >> 4];
			out[o++] = hex[*s & 15];
		}
	}
	out[o] = '\0';
	return out;
}
