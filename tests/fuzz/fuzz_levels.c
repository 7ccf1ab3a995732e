/* fuzz_levels.c -- the Allowed-Impersonation-Level header (levels.c).
 *
 * Input: the level the context showed (a byte), then the values of the
 * header's occurrences, one leg each.  Properties: the header
 * only ever lowers the level; a refused occurrence refuses the lot and
 * leaves the level alone; an accepted one is a list of level names. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "levels.h"

#define MAX_VALUES 16

/* Each comma-separated member is a name between blanks. */
static void check_members(const char *v, int level)
{
	char *copy = strdup(v), *save = NULL;
	int lowest = 4;
	size_t members = 0;

	for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		m += strspn(m, " \t");
		size_t n = strcspn(m, " \t");
		FZ_CHECK(m[n + strspn(m + n, " \t")] == '\0');
		m[n] = '\0';
		int l = -1;
		for (int k = IDG_LEVEL_ANONYMOUS; k <= IDG_LEVEL_DELEGATION; k++)
			if (strcasecmp(m, level_name(k)) == 0)
				l = k;
		FZ_CHECK(l >= 0);
		lowest = l < lowest ? l : lowest;
		members++;
	}
	FZ_CHECK(members >= 1);
	FZ_CHECK(lowest == level);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	int initial = fz_u8(&z) % 4, level = initial, lowest = initial;
	char *values[MAX_VALUES];
	unsigned n = 0;
	bool refused = false;

	while (z.left && n < MAX_VALUES)
		values[n++] = fz_leg_str(&z, NULL);
	for (unsigned i = 0; i < n; i++) {
		int l = level_parse(values[i]);
		if (l < 0) {
			refused = true;
			continue;
		}
		FZ_CHECK(l <= IDG_LEVEL_DELEGATION);
		check_members(values[i], l);
		lowest = l < lowest ? l : lowest;
	}
	int rc = level_apply_header(&level, (const char *const *)values, n);
	if (refused) {
		FZ_CHECK(rc == -1 && level == initial);
	} else {
		FZ_CHECK(rc == 0 && level == lowest && level <= initial);
	}
	for (unsigned i = 0; i < n; i++)
		free(values[i]);
	return 0;
}
