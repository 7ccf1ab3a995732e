/* route.c -- longest-prefix vdir matching on segment boundaries.  The
 * config keeps vdirs sorted longest first, so the first hit wins. */
#include "route.h"

#include <string.h>

#include "config.h"

bool vdir_covers(const char *vpath, size_t vlen, const char *path)
{
	if (vlen == 1 && vpath[0] == '/')
		return path[0] == '/';
	if (strncmp(path, vpath, vlen) != 0)
		return false;
	return path[vlen] == '\0' || path[vlen] == '/';
}

const struct vdir_conf *route_match(const struct config *c, const char *path,
				    const char **path_info)
{
	for (size_t i = 0; i < c->nvdirs; i++) {
		const struct vdir_conf *v = &c->vdirs[i];
		if (vdir_covers(v->path, v->path_len, path)) {
			*path_info = (v->path_len == 1) ? path : path + v->path_len;
			return v;
		}
	}
	*path_info = NULL;
	return NULL;
}
