/* levels.h -- what the client allows the service to do with its identity
 * (anonymous < identification < impersonation < delegation), and SPEC's
 * table of what a vdir does at each level.  Pure functions: the front end
 * applies them, the unit tests walk every cell. */
#ifndef IDGATE_LEVELS_H
#define IDGATE_LEVELS_H

#include <stdbool.h>
#include <stdint.h>

#include "idgate/module.h"

#define LEVEL_HEADER "Allowed-Impersonation-Level"

/* "anonymous", "identification", "impersonation", "delegation". */
const char *level_name(int level);

/* The level a GSSAPI context shows: an anonymous principal or the ANON
 * flag -> anonymous; the IDENTIFY flag -> identification (even when
 * credentials were delegated too: MIT hands them over anyway); delegated
 * credentials -> delegation; otherwise impersonation. */
int level_from_context(bool anonymous, uint32_t gss_flags, bool delegated);

/* One value of the Allowed-Impersonation-Level header: a level name, any
 * case, with optional surrounding blanks; a comma-separated list counts as
 * its lowest member.  The level, or -1 for anything else. */
int level_parse(const char *value);

/* The header can only lower a level.  `values`: the n occurrences of the
 * header.  0 with *level lowered, or -1 if one of them is not a level. */
int level_apply_header(int *level, const char *const *values, unsigned n);

/* SPEC's table for a vdir's `impersonate` (IMPERSONATE_FALSE/TRUE/ALLOWED)
 * at a level, for a caller with or without a local account. */
enum run_as {
	RUN_AS_POOL = 0,       /* the pool's identity */
	RUN_AS_CALLER,         /* switched to the caller */
	REFUSE_LEVEL,          /* 403: impersonate = true, the client allowed less */
	REFUSE_NO_ACCOUNT,     /* 403: impersonate = true, no local account */
};
enum run_as level_decide(int impersonate, int level, bool has_account);

#endif
