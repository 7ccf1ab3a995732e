/* fuzz_spool_meta.c -- the spool module's pure parts (spool_msg.c): the
 * .meta file a consumer reads (spool_meta_json, every string from the
 * request or the caller's identity), the queue a request path names
 * (spool_queue_rel: a path below root), the announced Content-Length
 * (spool_length_status) and a message's id (spool_make_id).
 *
 * Input: a u32 of which strings are NULL, numbers, then the strings, one
 * leg each.  Properties: the metadata is one strict JSON
 * object (RFC 8259) in valid UTF-8 and a newline, whose strings read back
 * as given where they were valid UTF-8; a queue has no empty, hidden or
 * parent segment; a length is refused, over, or exactly its digits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sbuf.h"
#include "spool_msg.h"

/* ---------------------------------------------------------------- UTF-8 (RFC 3629) */

static bool utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], lo = 0x80, hi = 0xbf;
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c == 0xe0)
			k = 2, lo = 0xa0;
		else if (c == 0xed)
			k = 2, hi = 0x9f;
		else if (c >= 0xe1 && c <= 0xef)
			k = 2;
		else if (c == 0xf0)
			k = 3, lo = 0x90;
		else if (c == 0xf4)
			k = 3, hi = 0x8f;
		else if (c >= 0xf1 && c <= 0xf3)
			k = 3;
		else
			return false;
		if (i + k >= n)
			return false; /* cut short */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xbf)
				return false;
		i += k + 1;
	}
	return true;
}

/* ---------------------------------------------------------------- strict JSON */

struct json {
	const char *p, *end;
};

static void put_utf8(struct sbuf *b, unsigned cp)
{
	if (cp < 0x80) {
		sb_putc(b, (char)cp);
	} else if (cp < 0x800) {
		sb_putc(b, (char)(0xc0 | cp >> 6));
		sb_putc(b, (char)(0x80 | (cp & 63)));
	} else {
		sb_putc(b, (char)(0xe0 | cp >> 12));
		sb_putc(b, (char)(0x80 | (cp >> 6 & 63)));
		sb_putc(b, (char)(0x80 | (cp & 63)));
	}
}

/* A JSON string into *out (decoded), or false. */
static bool json_string(struct json *j, struct sbuf *out)
{
	if (j->p >= j->end || *j->p++ != '"')
		return false;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;
		if (c < 0x20)
			return false;
		if (c != '\\') {
			sb_putc(out, (char)c);
			continue;
		}
		if (j->p >= j->end)
			return false;
		char e = *j->p++;
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			sb_putc(out, "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]);
			continue;
		}
		if (e != 'u' || j->end - j->p < 4)
			return false;
		unsigned cp = 0;
		for (int i = 0; i < 4; i++) {
			char h = *j->p++;
			int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
				: h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
			if (v < 0)
				return false;
			cp = cp << 4 | (unsigned)v;
		}
		if (cp >= 0xd800 && cp <= 0xdfff)
			return false; /* never written: a lone surrogate */
		put_utf8(out, cp);
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	return true;
}

/* null, a string, or an unsigned integer without leading zeros */
static bool json_value(struct json *j, struct sbuf *s, bool *null)
{
	*null = false;
	if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
		j->p += 4;
		*null = true;
		return true;
	}
	if (j->p < j->end && *j->p == '"')
		return json_string(j, s);
	const char *d = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > d && (j->p - d == 1 || *d != '0');
}

#define NSTR 12
static const char *const keys[NSTR] = { "id", "queue", "request_id", "method", "path",
					 "vdir", "principal", "user", "auth_type", "client",
					 "content_type", "sha256" };

/* {"key":value,...}\n with the string values in `got` by their key. */
static bool json_object(const char *text, size_t len, char *got[NSTR], bool isnull[NSTR])
{
	struct json j = { text, text + len };
	bool first = true;

	if (len < 2 || text[len - 1] != '\n' || *j.p++ != '{')
		return false;
	j.end--; /* the newline */
	while (j.p < j.end && *j.p != '}') {
		struct sbuf k, v;
		bool ok, null;
		if (!first && *j.p++ != ',')
			return false;
		first = false;
		sb_init(&k);
		sb_init(&v);
		ok = json_string(&j, &k) && j.p < j.end && *j.p++ == ':' &&
		     json_value(&j, &v, &null);
		for (int i = 0; ok && i < NSTR; i++) {
			if (k.s && strcmp(k.s, keys[i]) == 0) {
				FZ_CHECK(!got[i] && !isnull[i]); /* each key once */
				isnull[i] = null;
				got[i] = null ? NULL : strndup(v.s ? v.s : "", v.len);
			}
		}
		sb_free(&k);
		sb_free(&v);
		if (!ok)
			return false;
	}
	return j.p + 1 == j.end && *j.p == '}';
}

/* ---------------------------------------------------------------- the checks */

static void check_meta(const struct spool_meta *m, const char *const *str)
{
	struct sbuf b;
	char *got[NSTR] = { NULL };
	bool isnull[NSTR] = { false };

	sb_init(&b);
	spool_meta_json(&b, m);
	FZ_CHECK(utf8_valid((const unsigned char *)b.s, b.len));
	FZ_CHECK(json_object(b.s, b.len, got, isnull));
	for (int i = 0; i < NSTR; i++) {
		if (!str[i]) {
			FZ_CHECK(isnull[i]);
			continue;
		}
		FZ_CHECK(got[i] && utf8_valid((const unsigned char *)got[i], strlen(got[i])));
		if (utf8_valid((const unsigned char *)str[i], strlen(str[i])))
			FZ_CHECK(strcmp(got[i], str[i]) == 0);
		free(got[i]);
	}
	sb_free(&b);
}

static void check_queue(const char *path_info, size_t room)
{
	char *buf = malloc(room ? room : 1);
	const char *rel = spool_queue_rel(path_info, buf, room);

	if (rel) {
		size_t n = strlen(rel);
		FZ_CHECK(n < room && rel[0] != '/' && rel[n - 1] != '/' && !strstr(rel, "//"));
		FZ_CHECK(strcmp(rel, ".") == 0 || (rel[0] != '.' && !strstr(rel, "/.")));
	}
	free(buf);
}

static void check_length(const char *cl, uint64_t max)
{
	uint64_t len = 7;
	int st = spool_length_status(cl, max, &len);
	size_t digits = strspn(cl, "0123456789");

	if (!cl[0] || digits != strlen(cl)) {
		FZ_CHECK(st == 400 && len == 0);
		return;
	}
	errno = 0;
	unsigned long long v = strtoull(cl, NULL, 10);
	if (errno == ERANGE)
		FZ_CHECK(st == 413);
	else
		FZ_CHECK(v > max ? st == 413 : (st == 0 && len == v));
}

static void check_id(uint64_t stamp, const char *tag)
{
	char id[SPOOL_ID_MAX];

	if (spool_make_id(id, stamp, tag) < 0)
		return;
	FZ_CHECK(spool_tag_ok(tag) && strlen(id) == 27 + strlen(tag));
	FZ_CHECK(id[8] == 'T' && id[15] == '.' && id[25] == 'Z' && id[26] == '-');
	FZ_CHECK(strcmp(id + 27, tag) == 0 && spool_tag_ok(id + 27));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	uint32_t nulls = fz_u32(&z);
	uint64_t stamp = fz_u64(&z);
	struct spool_meta m = { .uid = fz_u32(&z), .gid = fz_u32(&z) };
	m.level = (int8_t)fz_u8(&z);
	m.client_port = fz_u32(&z);
	m.length = fz_u32(&z);
	m.stamp_ns = stamp;
	char *s[NSTR];
	const char *str[NSTR];

	for (int i = 0; i < NSTR; i++) {
		s[i] = fz_leg_str(&z, NULL);
		str[i] = nulls >> i & 1 ? NULL : s[i];
	}
	m.id = str[0];
	m.queue = str[1];
	m.request_id = str[2];
	m.method = str[3];
	m.path = str[4];
	m.vdir = str[5];
	m.principal = str[6];
	m.user = str[7];
	m.auth_type = str[8];
	m.client_addr = str[9];
	m.content_type = str[10];
	m.sha256 = str[11];
	check_meta(&m, str);
	check_queue(s[4], (nulls >> 16) % 80);
	check_length(s[0], (uint64_t)m.uid << 32 | m.gid);
	check_id(stamp, s[1]);
	for (int i = 0; i < NSTR; i++)
		free(s[i]);
	return 0;
}
