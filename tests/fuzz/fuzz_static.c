/* fuzz_static.c -- what a client's headers ask of a file served by the
 * static module: Range (static_range_parse), If-Match and If-None-Match
 * (static_etag_listed), and the dates of If-Modified-Since,
 * If-Unmodified-Since and If-Range (http_date_parse).
 *
 * Input: a mode byte.  0: the file's size (u64), then a Range header.
 * 1: weak or strong, then an entity-tag list.  2: an HTTP date.
 * Properties: a Range is read as RFC 9110 14.1.2 and 14.2 say, by a
 * reference reading here -- "bytes" (any case), "=", blanks, then one
 * first-last, first- or -suffix of digits only, then blanks: served as the
 * exact bytes it names within the file, 416 when it starts past the end
 * (or asks for the last 0 bytes, or the file is empty), anything else
 * (several ranges, a sign, a blank or a byte inside) ignored; an etag list
 * that is well-formed matches exactly when it holds "*" or our tag (weak
 * ones only for If-None-Match); a date is accepted only as an IMF-fixdate
 * whose fields name a real time, and then as that time; every such date
 * is accepted. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fuzz.h"
#include "httputil.h"
#include "static_cond.h"

/* ---------------------------------------------------------------- ranges */

/* Digits at *p into *v (saturating at UINT64_MAX); false if none. */
static bool digits(const char **p, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		*v = *v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : *v * 10 + (uint64_t)(*s - '0');
	if (s == *p)
		return false;
	*p = s;
	return true;
}

static const char *blanks(const char *p)
{
	return p + strspn(p, " \t");
}

/* The reference reading: STATIC_RANGE_* with the expected bytes. */
static int reference_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t a, b;
	bool has_a, has_b;

	if (strncasecmp(h, "bytes=", 6) != 0)
		return STATIC_RANGE_NONE;
	h = blanks(h + 6);
	has_a = digits(&h, &a);
	if (*h++ != '-')
		return STATIC_RANGE_NONE;
	has_b = digits(&h, &b);
	if (*blanks(h) || (!has_a && !has_b) || (has_a && has_b && b < a))
		return STATIC_RANGE_NONE;
	if (!has_a) { /* the last b bytes */
		if (b == 0 || size == 0)
			return STATIC_RANGE_UNSATISFIABLE;
		*len = b < size ? b : size;
		*off = size - *len;
		return STATIC_RANGE_ONE;
	}
	if (a >= size)
		return STATIC_RANGE_UNSATISFIABLE;
	if (!has_b || b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return STATIC_RANGE_ONE;
}

static void range(struct fz *z)
{
	uint64_t size = fz_u64(z) >> (fz_u8(z) % 64), off = 7, len = 7, roff = 0, rlen = 0;
	char *h = fz_rest(z, NULL);
	int got = static_range_parse(h, size, &off, &len);
	int want = reference_range(h, size, &roff, &rlen);

	FZ_CHECK(got == want);
	if (got == STATIC_RANGE_ONE) {
		FZ_CHECK(off == roff && len == rlen);
		FZ_CHECK(len >= 1 && off < size && len <= size - off);
	}
	free(h);
}

/* ---------------------------------------------------------------- entity-tags */

#define ETAG "\"1a-2b-3c\""

/* A well-formed list (RFC 9110 8.8.3, 13.1.1): "*", or entity-tags --
 * [W/] DQUOTE etagc* DQUOTE, etagc any visible byte but DQUOTE -- between
 * commas and blanks.  -1 if it is not well-formed, else whether it names
 * ETAG (a weak one only when weak). */
static int reference_etag(const char *list, int weak)
{
	const char *p = blanks(list);
	int found = 0, elements = 0;

	if (*p == '*')
		return *blanks(p + 1) ? -1 : 1;
	while (*p) {
		int is_weak = strncmp(p, "W/", 2) == 0;
		const char *q = p + (is_weak ? 2 : 0), *end;
		if (*q != '"')
			return -1;
		for (end = q + 1; *end && *end != '"'; end++)
			if ((unsigned char)*end < 0x21 || *end == 0x7f)
				return -1;
		if (*end != '"')
			return -1;
		if ((weak || !is_weak) && (size_t)(end + 1 - q) == strlen(ETAG) &&
		    memcmp(q, ETAG, strlen(ETAG)) == 0)
			found = 1;
		elements++;
		p = blanks(end + 1);
		if (*p && *p++ != ',')
			return -1;
		p = p + strspn(p, " \t,");
	}
	return elements ? found : -1;
}

static void etags(struct fz *z)
{
	int weak = fz_u8(z) & 1;
	char *list = fz_rest(z, NULL);
	int got = static_etag_listed(list, ETAG, weak), want = reference_etag(list, weak);

	FZ_CHECK(got == 0 || got == 1);
	if (want >= 0)
		FZ_CHECK(got == want);
	if (got)
		FZ_CHECK(strchr(list, '*') || strstr(list, ETAG));
	free(list);
}

/* ---------------------------------------------------------------- dates */

/* "Sun, 06 Nov 1994 08:49:37 GMT": the fields, digits only, in range, a
 * day that its month has. */
static bool reference_date(const char *s, struct tm *tm)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	/* '0' a digit, 'w' and 'm' the day's and month's names: day, year,
	 * hour, minute, second are the runs of digits */
	static const char shape[] = "www, 00 mmm 0000 00:00:00 GMT";
	int v[5] = { 0 }, k = -1;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		bool digit = shape[i] == '0';
		if (digit != (s[i] >= '0' && s[i] <= '9'))
			return false;
		if (!digit && shape[i] != 'w' && shape[i] != 'm' && s[i] != shape[i])
			return false;
		if (digit && (i == 0 || shape[i - 1] != '0'))
			k++;
		if (digit)
			v[k] = v[k] * 10 + (s[i] - '0');
	}
	memset(tm, 0, sizeof(*tm));
	tm->tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (strncmp(s + 8, mon[i], 3) == 0)
			tm->tm_mon = i;
	bool named_day = false;
	for (int i = 0; i < 7; i++)
		named_day = named_day || strncmp(s, wd[i], 3) == 0;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!named_day || tm->tm_mon < 0 || v[0] < 1 || v[0] > mdays[tm->tm_mon] || v[1] < 1970 ||
	    v[2] > 23 || v[3] > 59 || v[4] > 60)
		return false;
	bool leap = (v[1] % 4 == 0 && v[1] % 100 != 0) || v[1] % 400 == 0;
	if (tm->tm_mon == 1 && v[0] == 29 && !leap)
		return false;
	tm->tm_mday = v[0];
	tm->tm_year = v[1] - 1900;
	tm->tm_hour = v[2];
	tm->tm_min = v[3];
	tm->tm_sec = v[4];
	return true;
}

static void date(struct fz *z)
{
	char *s = fz_rest(z, NULL);
	struct tm tm;
	time_t t = http_date_parse(s);

	if (reference_date(s, &tm))
		FZ_CHECK(t == timegm(&tm));
	else
		FZ_CHECK(t == (time_t)-1);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);

	switch (fz_u8(&z) % 3) {
	case 0:
		range(&z);
		break;
	case 1:
		etags(&z);
		break;
	default:
		date(&z);
		break;
	}
	return 0;
}
