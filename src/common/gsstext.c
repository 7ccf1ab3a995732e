/* gsstext.c -- the words of a GSSAPI failure (see gsstext.h). */
#include "gsstext.h"

#include <stdio.h>
#include <string.h>

static void append_status(char *buf, size_t len, OM_uint32 code, int type, const gss_OID mech)
{
	OM_uint32 minor, more = 0;
	gss_buffer_desc msg;
	size_t used = strlen(buf);

	do {
		if (gss_display_status(&minor, code, type, mech, &more, &msg) != GSS_S_COMPLETE)
			break;
		snprintf(buf + used, len - used, "%s%.*s", used ? "; " : "", (int)msg.length,
			 (const char *)msg.value);
		used = strlen(buf);
		gss_release_buffer(&minor, &msg);
	} while (more != 0);
}

void gss_error_text(const char *what, OM_uint32 major, OM_uint32 minor, const gss_OID mech,
		    char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s: ", what);
	char *tail = buf + n;

	if (n < 0 || (size_t)n >= len)
		return;
	tail[0] = '\0'; /* append_status separates messages from the second on */
	append_status(tail, len - (size_t)n, major, GSS_C_GSS_CODE, GSS_C_NO_OID);
	/* MIT's mechglue remembers which mechanism produced a minor code: with
	 * no OID it finds the right text, even behind SPNEGO */
	(void)mech;
	if (minor)
		append_status(tail, len - (size_t)n, minor, GSS_C_MECH_CODE, GSS_C_NO_OID);
}

