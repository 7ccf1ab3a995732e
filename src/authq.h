/* authq.h -- the front end's questions to the PAM helper, asked without
 * blocking an HTTP thread: the connection is suspended until the answer
 * comes back through the relay thread. */
#ifndef IDGATE_AUTHQ_H
#define IDGATE_AUTHQ_H

#include <stdbool.h>
#include <stdint.h>

struct MHD_Connection;

struct authq_wait {
	struct MHD_Connection *conn;
	uint64_t tag;
	bool pending;       /* asked, not answered yet */
	bool answered;
	int code;           /* PAM result code; -1: the helper failed */
	char message[200];
	struct authq_wait *next;
};

/* The helper's socket, from the supervisor (replaces an earlier one). */
void authq_set_socket(int fd);
/* Send the question and suspend w->conn.  0, or -1 (helper unavailable:
 * nothing suspended).  password NULL: an account check. */
int authq_ask(struct authq_wait *w, const char *user, const char *rhost, const char *password);
/* The request ended while waiting. */
void authq_forget(struct authq_wait *w);
/* Called by the relay thread when the helper's socket is readable. */
void authq_on_readable(void);
int authq_socket(void);

#endif
