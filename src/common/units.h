/* units.h -- values of config keys: sizes, durations, counts, booleans. */
#ifndef IDGATE_UNITS_H
#define IDGATE_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* Each returns 0, or -1 with a static message in *why. */
int parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why);
/* Bytes: "512", "64k", "1m", "2g" (binary multiples, case-insensitive). */
int parse_size(const char *s, uint64_t *out, const char **why);
/* Milliseconds: "250ms", "30s", "5m", "1h", "1d"; a bare number is seconds. */
int parse_duration_ms(const char *s, uint64_t *out, const char **why);
int parse_bool(const char *s, bool *out, const char **why);
/* "N/DURATION", e.g. "5/5m". */
int parse_rapid_fail(const char *s, unsigned *count, uint64_t *window_ms, const char **why);

#endif
