/* respawn.c -- the wait before a role process is started again (respawn.h). */
#include "respawn.h"

uint64_t respawn_delay(struct respawn *r, uint64_t started_ms, uint64_t now)
{
	uint64_t wait = RESPAWN_FIRST_MS;

	if (now < started_ms || now - started_ms >= RESPAWN_STABLE_MS) {
		r->fast = 0;
		return 0;
	}
	r->fast++;
	if (r->fast <= RESPAWN_QUICK)
		return 0;
	for (unsigned i = RESPAWN_QUICK + 1; i < r->fast && wait < RESPAWN_MAX_MS; i++)
		wait *= 2;
	return wait < RESPAWN_MAX_MS ? wait : RESPAWN_MAX_MS;
}
