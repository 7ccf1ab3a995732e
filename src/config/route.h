/* route.h -- which [vdir] serves a path. */
#ifndef IDGATE_ROUTE_H
#define IDGATE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct vdir_conf;

/* Does vdir path `vpath` (normalised, no trailing '/') cover `path`?  On
 * segment boundaries only: "/app" covers "/app" and "/app/x", not "/apple". */
bool vdir_covers(const char *vpath, size_t vlen, const char *path);

/* The vdir with the longest covering path, or NULL; *path_info is the part
 * of path below it ("" or starting with '/'). */
const struct vdir_conf *route_match(const struct config *c, const char *path,
				    const char **path_info);

#endif
