/* admin.h -- the front end's admin listener ([server] admin_listen): a
 * tiny HTTP server on its own libmicrohttpd thread, apart from the event
 * loops, that answers GET /metrics with the Prometheus text format, GET
 * /health with 200 "ok" or 503 and why (for a load balancer's check), and
 * nothing else.  It has no authentication, so it must never say who
 * called (metrics.h keeps identities out of labels). */
#ifndef IDGATE_ADMIN_H
#define IDGATE_ADMIN_H

struct MHD_Daemon;
struct sbuf;

/* Serve on the listening socket fd; render() writes the metrics text;
 * unhealthy() says why /health is 503 now, or NULL (200).  NULL if the
 * daemon could not start. */
struct MHD_Daemon *admin_start(int fd, void (*render)(struct sbuf *out),
			       const char *(*unhealthy)(void));
/* Stop it (NULL: nothing); the socket stays open for the next front end. */
void admin_stop(struct MHD_Daemon *d);

#endif
