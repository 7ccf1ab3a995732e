/* httputil.h -- status texts, error bodies, dates. */
#ifndef IDGATE_HTTPUTIL_H
#define IDGATE_HTTPUTIL_H

#include <stddef.h>
#include <time.h>

const char *http_reason(int status);
/* A small HTML page for an error status; `detail` (may be NULL) is a
 * sentence of ours for the client, escaped.  Caller frees. */
char *http_error_body(int status, const char *detail, size_t *len);
/* RFC 9110 IMF-fixdate into buf (at least 30 bytes). */
void http_date(time_t t, char *buf, size_t len);
/* Parse an IMF-fixdate (the only form we must accept strictly); -1 if bad. */
time_t http_date_parse(const char *s);

#endif
