/* gsstext.h -- a GSSAPI failure in words: "what: major text; minor text",
 * as mod_auth_gssapi reports them (every error both statuses), for the
 * front end, the worker and the modules alike. */
#ifndef IDGATE_GSSTEXT_H
#define IDGATE_GSSTEXT_H

#include <gssapi/gssapi.h>
#include <stddef.h>

void gss_error_text(const char *what, OM_uint32 major, OM_uint32 minor, const gss_OID mech,
		    char *buf, size_t len);

#endif
