/* units.c -- parsing of unit-bearing config values.  Strict: no sign, no
 * spaces inside, no overflow; every refusal says why. */
#include "units.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Leading decimal digits of s into *v; returns the rest, or NULL. */
static const char *take_digits(const char *s, uint64_t *v, const char **why)
{
	uint64_t n = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p)) {
		*why = "expected a number";
		return NULL;
	}
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (n > (UINT64_MAX - d) / 10) {
			*why = "number too large";
			return NULL;
		}
		n = n * 10 + d;
	}
	*v = n;
	return p;
}

static int mul_checked(uint64_t v, uint64_t m, uint64_t *out, const char **why)
{
	if (m && v > UINT64_MAX / m) {
		*why = "number too large";
		return -1;
	}
	*out = v * m;
	return 0;
}

int parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why)
{
	uint64_t v;
	const char *rest = take_digits(s, &v, why);

	if (!rest)
		return -1;
	if (*rest) {
		*why = "expected a whole number";
		return -1;
	}
	if (v > max) {
		*why = "number too large";
		return -1;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out, const char **why)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1024 }, { "kb", 1024 },
		{ "m", 1024 * 1024 }, { "mb", 1024 * 1024 },
		{ "g", 1024 * 1024 * 1024 }, { "gb", 1024 * 1024 * 1024 },
	};
	uint64_t v;
	const char *rest = take_digits(s, &v, why);

	if (!rest)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(rest, units[i].suffix) == 0)
			return mul_checked(v, units[i].mult, out, why);
	*why = "unknown size unit (use k, m or g)";
	return -1;
}

int parse_duration_ms(const char *s, uint64_t *out, const char **why)
{
	static const struct { const char *suffix; uint64_t ms; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t v;
	const char *rest = take_digits(s, &v, why);

	if (!rest)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(rest, units[i].suffix) == 0)
			return mul_checked(v, units[i].ms, out, why);
	*why = "unknown duration unit (use ms, s, m, h or d)";
	return -1;
}

int parse_bool(const char *s, bool *out, const char **why)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	*why = "expected true or false";
	return -1;
}

int parse_rapid_fail(const char *s, unsigned *count, uint64_t *window_ms, const char **why)
{
	uint64_t n;
	const char *rest = take_digits(s, &n, why);

	if (!rest)
		return -1;
	if (*rest != '/') {
		*why = "expected FAILURES/DURATION, e.g. 5/5m";
		return -1;
	}
	if (n < 1 || n > 10000) {
		*why = "failure count must be between 1 and 10000";
		return -1;
	}
	if (parse_duration_ms(rest + 1, window_ms, why) < 0)
		return -1;
	if (*window_ms == 0) {
		*why = "duration must be positive";
		return -1;
	}
	*count = (unsigned)n;
	return 0;
}
