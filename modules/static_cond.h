/* static_cond.h -- what a client's headers ask of a file (static.c): a
 * range, and the entity-tags of If-Match and If-None-Match.  Pure, so that
 * tests/fuzz/fuzz_static reads them the way static.so does. */
#ifndef IDGATE_STATIC_COND_H
#define IDGATE_STATIC_COND_H

#include <stdint.h>

enum { STATIC_RANGE_NONE, STATIC_RANGE_ONE, STATIC_RANGE_UNSATISFIABLE };

/* A Range header against a file of `size` bytes: STATIC_RANGE_ONE with
 * *off and *len (one byte at least, within the file),
 * STATIC_RANGE_UNSATISFIABLE (416), or STATIC_RANGE_NONE: send it whole. */
int static_range_parse(const char *h, uint64_t size, uint64_t *off, uint64_t *len);

/* Does the list of entity-tags name `etag` ("\"...\"")?  1 or 0. */
int static_etag_listed(const char *list, const char *etag, int weak);

#endif
