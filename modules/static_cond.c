/* static_cond.c -- see static_cond.h. */
#include "static_cond.h"

#include <stdio.h>
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

/* One "bytes=first-last" range against `size`.  Anything we do not serve
 * as a single range (several ranges, bad syntax) is ignored: the whole
 * representation is a valid answer to a Range request. */
int static_range_parse(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	unsigned long long a = 0, b = 0;
	int n = 0;

	if (strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return STATIC_RANGE_NONE;
	h += 6;
	h += strspn(h, " \t");
	if (*h == '-') {
		if (sscanf(h, "-%llu%n", &b, &n) != 1 || h[n + strspn(h + n, " \t")] != '\0')
			return STATIC_RANGE_NONE;
		if (b == 0 || size == 0)
			return STATIC_RANGE_UNSATISFIABLE;
		*len = b > size ? size : b;
		*off = size - *len;
		return STATIC_RANGE_ONE;
	}
	if (sscanf(h, "%llu-%n", &a, &n) != 1)
		return STATIC_RANGE_NONE;
	if (h[n] == '\0' || h[n] == ' ' || h[n] == '\t') {
		b = size ? size - 1 : 0;
	} else {
		int m = 0;
		if (sscanf(h + n, "%llu%n", &b, &m) != 1 || h[n + m] != '\0' || b < a)
			return STATIC_RANGE_NONE;
	}
	if (a >= size)
		return STATIC_RANGE_UNSATISFIABLE;
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return STATIC_RANGE_ONE;
}
