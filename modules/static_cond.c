/* static_cond.c -- see static_cond.h. */
#include "static_cond.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Does a list of entity-tags (If-Match / If-None-Match) name ours?  Weak
 * comparison ignores a W/ prefix; strong comparison refuses weak tags. */
int static_etag_listed(const char *list, const char *etag, int weak)
{
	size_t elen = strlen(etag);
	const char *p = list;

	while (*p) {
		int is_weak = 0;
		p += strspn(p, " \t,");
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0) {
			is_weak = 1;
			p += 2;
		}
		if (*p != '"')
			return 0; /* malformed: treat as no match */
		const char *end = strchr(p + 1, '"');
		if (!end)
			return 0;
		if ((weak || !is_weak) && (size_t)(end + 1 - p) == elen &&
		    strncmp(p, etag, elen) == 0)
			return 1;
		p = end + 1;
	}
	return 0;
}

/* Decimal digits at *p into *v, saturating at UINT64_MAX (a position past
 * any file); false if there are none.  RFC 9110's 1*DIGIT: no sign, no
 * blank before them (sscanf's %llu took both). */
static bool take_pos(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
	}
	if (s == *p)
		return false;
	*v = n;
	*p = s;
	return true;
}

/* The last `n` bytes. */
static int suffix_range(uint64_t n, uint64_t size, uint64_t *off, uint64_t *len)
{
	if (n == 0 || size == 0)
		return STATIC_RANGE_UNSATISFIABLE;
	*len = n > size ? size : n;
	*off = size - *len;
	return STATIC_RANGE_ONE;
}

/* One "bytes=first-last", "bytes=first-" or "bytes=-suffix" against
 * `size`, blanks allowed after it.  Anything we do not serve as a single
 * range (several ranges, bad syntax) is ignored: the whole representation
 * is a valid answer to a Range request. */
int static_range_parse(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t first = 0, last = 0;
	bool has_first, has_last;

	if (strncasecmp(h, "bytes=", 6) != 0)
		return STATIC_RANGE_NONE;
	h += 6;
	h += strspn(h, " \t");
	has_first = take_pos(&h, &first);
	if (*h != '-')
		return STATIC_RANGE_NONE;
	h++;
	has_last = take_pos(&h, &last);
	if (h[strspn(h, " \t")] != '\0' || (!has_first && !has_last) ||
	    (has_first && has_last && last < first))
		return STATIC_RANGE_NONE;
	if (!has_first)
		return suffix_range(last, size, off, len);
	if (first >= size)
		return STATIC_RANGE_UNSATISFIABLE;
	if (!has_last || last >= size)
		last = size - 1;
	*off = first;
	*len = last - first + 1;
	return STATIC_RANGE_ONE;
}
