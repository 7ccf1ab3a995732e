/* uri.h -- request-target decoding and path normalisation. */
#ifndef IDGATE_URI_H
#define IDGATE_URI_H

#include <stddef.h>

#define PATH_KEEP_DOTS_ERROR 0x1 /* reject "." and ".." segments instead of resolving */

/* Normalise an absolute decoded path in place: collapse "//", resolve "."
 * and ".." (RFC 3986 remove_dot_segments).  A trailing '/' is kept.
 * Returns 0, or -1 if the path climbs above "/" or (with
 * PATH_KEEP_DOTS_ERROR) has a dot segment at all. */
int path_normalize(char *path, unsigned flags);

/* Split a raw request-target (origin-form "/p?q" or absolute-form
 * "http://h/p?q") into its decoded, normalised path and its raw query.
 * Returns 0, or an HTTP status (400) with a reason in *why.  The caller
 * frees *path and *query. */
int uri_parse(const char *raw, char **path, char **query, const char **why);

/* Percent-encode a path for a Location header. */
char *uri_encode_path(const char *path);

#endif
