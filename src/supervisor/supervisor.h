/* supervisor.h -- the minimal privileged parent. */
#ifndef IDGATE_SUPERVISOR_H
#define IDGATE_SUPERVISOR_H

struct config;

/* Start the front end and one worker per pool, then supervise them until
 * SIGTERM.  Returns the process exit code. */
int supervisor_run(struct config *c, const char *config_file);

#endif
