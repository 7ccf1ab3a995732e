/* fuzz_request.h -- a request as a handler module gets it (struct
 * idg_request), made of the fuzzer's bytes, for the targets of what the
 * modules make of a client's request (fuzz_proxy_head, fuzz_cgi_env).
 *
 * Input (after the target's own bytes): flags (TLS, level), then legs --
 * method, path, query, Host, principal, user -- then header names and
 * values, a leg each, to the end.  What idgated guarantees before a module
 * sees a request holds here too, and an input that breaks it is skipped:
 * a method that is a token, an absolute path (path_info below "/app"),
 * a Host that the edge lets through (hc_authority_ok, or none), header
 * names that are tokens and values that are field values (the worker's
 * REQ_HEAD decoder refuses others).  The rest is the fuzzer's: the path's
 * and query's bytes, the identities, the headers. */
#ifndef IDGATE_FUZZ_REQUEST_H
#define IDGATE_FUZZ_REQUEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "httpcheck.h"
#include "idgate/module.h"
#include "wire.h"

#define FZR_MAX_HEADERS 24
#define FZR_VDIR "/app"

struct fzr {
	struct idg_request pub;
	char *legs[6 + 2 * FZR_MAX_HEADERS];
	size_t nlegs, nhdrs;
	const char *hdrs[2 * FZR_MAX_HEADERS];
	char joined[8192];
};

static int fzr_header_at(struct idg_request *r, size_t i, const char **n, const char **v)
{
	struct fzr *f = (struct fzr *)r;

	if (i >= f->nhdrs)
		return 0;
	*n = f->hdrs[2 * i];
	*v = f->hdrs[2 * i + 1];
	return 1;
}

/* Repeated headers joined with ", ", as idgated's own does. */
static const char *fzr_header(struct idg_request *r, const char *name)
{
	struct fzr *f = (struct fzr *)r;
	const char *first = NULL;
	size_t count = 0, o = 0;

	for (size_t i = 0; i < f->nhdrs; i++) {
		if (strcasecmp(f->hdrs[2 * i], name) != 0)
			continue;
		const char *v = f->hdrs[2 * i + 1];
		if (count++ == 0)
			first = v;
		o += (size_t)snprintf(f->joined + o, sizeof(f->joined) - o, "%s%s",
				      count > 1 ? ", " : "", v);
		if (o >= sizeof(f->joined))
			o = sizeof(f->joined) - 1;
	}
	return count > 1 ? f->joined : first;
}

static const struct idg_request_ops fzr_ops = { .header = fzr_header,
						.header_at = fzr_header_at };

static char *fzr_leg(struct fzr *f, struct fz *z)
{
	return f->legs[f->nlegs++] = fz_leg_str(z, NULL);
}

static void fzr_free(struct fzr *f)
{
	for (size_t i = 0; i < f->nlegs; i++)
		free(f->legs[i]);
}

/* The request, or false (and nothing to free but fzr_free) if it breaks
 * what idgated guarantees. */
static bool fzr_read(struct fzr *f, struct fz *z)
{
	uint8_t flags = fz_u8(z);
	char *method, *path, *query, *host, *principal, *user;
	bool ok;

	memset(f, 0, sizeof(*f));
	method = fzr_leg(f, z);
	path = fzr_leg(f, z);
	query = fzr_leg(f, z);
	host = fzr_leg(f, z);
	principal = fzr_leg(f, z);
	user = fzr_leg(f, z);
	ok = http_token_ok(method) && path[0] == '/' &&
	     (!*host || hc_authority_ok(host, strlen(host)));
	while (z->left && f->nhdrs < FZR_MAX_HEADERS) {
		const char *n = fzr_leg(f, z), *v = fzr_leg(f, z);
		ok = ok && http_token_ok(n) && http_value_ok(v);
		f->hdrs[2 * f->nhdrs] = n;
		f->hdrs[2 * f->nhdrs++ + 1] = v;
	}
	f->pub = (struct idg_request){
		.ops = &fzr_ops, .method = method, .path = path, .query = query,
		.vdir = FZR_VDIR, .pool = "default", .request_id = "YWJj-1",
		.client_addr = flags & 8 ? "2001:db8::7" : "192.0.2.7", .client_port = 50123,
		.host = host, .version = flags & 16 ? "HTTP/1.0" : "HTTP/1.1", .tls = flags & 1,
		.principal = *principal ? principal : NULL, .user = *user ? user : NULL,
		.uid = (uid_t)-1, .gid = (gid_t)-1, .level = (enum idg_level)(flags >> 1 & 3),
		.auth_type = *principal ? "Negotiate" : NULL,
	};
	/* path_info: the path below the vdir, as route() leaves it */
	f->pub.path_info = strncmp(path, FZR_VDIR, strlen(FZR_VDIR)) == 0 &&
				   (!path[strlen(FZR_VDIR)] || path[strlen(FZR_VDIR)] == '/')
			       ? path + strlen(FZR_VDIR)
			       : path;
	return ok;
}

#endif
