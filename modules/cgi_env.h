/* cgi_env.h -- the environment of a CGI program, built from scratch
 * (RFC 3875 section 4.1, and idgate's identity variables). */
#ifndef IDGATE_CGI_ENV_H
#define IDGATE_CGI_ENV_H

#include <stddef.h>

#include "idgate/module.h"

#define CGI_ENV_MAX 256        /* variables: the spawner takes SPAWN_MAX_ENV */
#define CGI_ENV_BYTES 49152    /* their bytes: one spawn frame is 64 KiB */

/* What the module found out about the program. */
struct cgi_script {
	const char *root;        /* DOCUMENT_ROOT: the `root` key */
	const char *script_name; /* SCRIPT_NAME: "/cgi/app.cgi" */
	const char *path_info;   /* PATH_INFO: "/extra", or "" */
	const char *filename;    /* SCRIPT_FILENAME: "/srv/cgi/app.cgi" */
	const char *server_name; /* SERVER_NAME when the Host header gives none */
};

struct cgi_env {
	char *vars[CGI_ENV_MAX + 1]; /* "NAME=value", NULL-terminated */
	size_t n, bytes;
	size_t dropped;              /* left out: control characters, limits */
};

/* Build the whole environment of the program for req.  Values with a
 * control character are left out, never passed; so are Authorization,
 * Proxy-Authorization and Proxy (httpoxy) and header names of other
 * than letters, digits and '-' (HTTP_X_A could otherwise be forged by
 * "X_A", and "X.A" would make a variable no shell can name).
 * Returns 0, or -1 when out of memory. */
int cgi_env_build(struct cgi_env *e, struct idg_request *req, const struct cgi_script *s);
void cgi_env_free(struct cgi_env *e);
/* The value of NAME in e, or NULL (for tests and messages). */
const char *cgi_env_get(const struct cgi_env *e, const char *name);

#endif
