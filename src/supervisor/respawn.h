/* respawn.h -- when to start again a process that died: the supervisor's
 * role processes (the front end, the PAM helper; not the pool workers,
 * which have rapid_fail).
 *
 * A process that lived RESPAWN_STABLE_MS or more is started again at
 * once.  One that died sooner after its start counts as a death "at
 * once": the first RESPAWN_QUICK in a row are started again at once too
 * (a crash is often a one-off), then each waits twice as long as the last,
 * from RESPAWN_FIRST_MS up to RESPAWN_MAX_MS, and it is never given up:
 * a cause that goes away (a file, an account, memory) ends the outage
 * without anybody's help, and each death is logged.  A process that then
 * lives RESPAWN_STABLE_MS starts the count afresh. */
#ifndef IDGATE_RESPAWN_H
#define IDGATE_RESPAWN_H

#include <stdbool.h>
#include <stdint.h>

#define RESPAWN_STABLE_MS 10000
#define RESPAWN_QUICK 2
#define RESPAWN_FIRST_MS 1000
#define RESPAWN_MAX_MS 60000

struct respawn {
	unsigned fast;     /* deaths in a row, each within RESPAWN_STABLE_MS of its start */
	uint64_t due_ms;   /* a start waits until then; 0: none waits */
	uint64_t restarts; /* starts after a death */
	bool restarting;   /* started after a death and not ready yet */
};

/* A process started at started_ms died at now: counts the death in r and
 * returns how long to wait before starting it again (ms, 0: at once). */
uint64_t respawn_delay(struct respawn *r, uint64_t started_ms, uint64_t now);

#endif
