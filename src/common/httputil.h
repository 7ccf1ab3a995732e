/* httputil.h -- status texts, error bodies, dates. */
#ifndef IDGATE_HTTPUTIL_H
#define IDGATE_HTTPUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* RFC 9110 7.6.1's hop-by-hop fields (and Proxy-Connection): they concern
 * one connection and never pass from one side of idgated to the other. */
bool http_hop_by_hop(const char *name);
/* Those, and the framing and date fields that idgated writes itself: a
 * handler's response never sets them. */
bool http_gateway_owned(const char *name);

const char *http_reason(int status);
/* A small HTML page for an error status; `detail` (may be NULL) is a
 * sentence of ours for the client, escaped.  Caller frees. */
char *http_error_body(int status, const char *detail, size_t *len);
/* RFC 9110 IMF-fixdate into buf (at least 30 bytes). */
void http_date(time_t t, char *buf, size_t len);
/* Parse an IMF-fixdate (the only form we must accept strictly); -1 if bad. */
time_t http_date_parse(const char *s);

#endif
