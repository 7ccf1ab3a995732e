/* levels.c -- impersonation levels: what the GSSAPI context shows, what
 * the Allowed-Impersonation-Level header lowers it to, and what a vdir
 * does at each level.  Unlike Windows, identification never becomes
 * impersonation here: client and service share a machine, and a uid is
 * all the kernel needs to act as someone. */
#include "levels.h"

#include <gssapi/gssapi_ext.h> /* GSS_C_IDENTIFY_FLAG */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "util.h"

const char *level_name(int level)
{
	const char *n = idg_level_name(level);

	return n ? n : "unknown";
}

int level_from_context(bool anonymous, uint32_t gss_flags, bool delegated)
{
	if (anonymous || (gss_flags & GSS_C_ANON_FLAG))
		return IDG_LEVEL_ANONYMOUS;
	if (gss_flags & GSS_C_IDENTIFY_FLAG)
		return IDG_LEVEL_IDENTIFICATION;
	if (delegated)
		return IDG_LEVEL_DELEGATION;
	return IDG_LEVEL_IMPERSONATION;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One list member [s, e): a level name between optional blanks. */
static int member_level(const char *s, const char *e)
{
	while (s < e && blank(*s))
		s++;
	while (e > s && blank(e[-1]))
		e--;
	for (int l = IDG_LEVEL_ANONYMOUS; l <= IDG_LEVEL_DELEGATION; l++) {
		const char *name = idg_level_name(l);
		size_t n = strlen(name);
		if ((size_t)(e - s) == n && strncasecmp(s, name, n) == 0)
			return l;
	}
	return -1;
}

int level_parse(const char *value)
{
	int lowest = -1;
	const char *s = value;

	if (!value)
		return -1;
	for (;;) {
		const char *comma = strchr(s, ',');
		const char *e = comma ? comma : s + strlen(s);
		int l = member_level(s, e);
		if (l < 0)
			return -1;
		if (lowest < 0 || l < lowest)
			lowest = l;
		if (!comma)
			return lowest;
		s = comma + 1;
	}
}

int level_apply_header(int *level, const char *const *values, unsigned n)
{
	int lowest = *level;

	for (unsigned i = 0; i < n; i++) {
		int l = level_parse(values[i]);
		if (l < 0)
			return -1;
		if (l < lowest)
			lowest = l;
	}
	*level = lowest;
	return 0;
}

enum run_as level_decide(int impersonate, int level, bool has_account)
{
	bool required = impersonate == IMPERSONATE_TRUE;

	if (impersonate == IMPERSONATE_FALSE)
		return RUN_AS_POOL;
	if (level < IDG_LEVEL_IMPERSONATION)
		return required ? REFUSE_LEVEL : RUN_AS_POOL;
	if (!has_account)
		return required ? REFUSE_NO_ACCOUNT : RUN_AS_POOL;
	return RUN_AS_CALLER;
}
