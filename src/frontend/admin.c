/* admin.c -- see admin.h. */
#include "admin.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sbuf.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void (*render_fn)(struct sbuf *out);
static const char *(*health_fn)(void);

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, const char *allow)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result plain(struct MHD_Connection *conn, unsigned status, const char *text,
			     const char *allow)
{
	return reply(conn, status, "text/plain; charset=utf-8", strdup(text), strlen(text),
		     allow);
}

/* For a load balancer's check (HAProxy's option httpchk): 200 "ok" while
 * serving, 503 with the reason while not. */
static enum MHD_Result health(struct MHD_Connection *conn)
{
	const char *why = health_fn();
	char text[160];

	snprintf(text, sizeof(text), "%s\n", why ? why : "ok");
	return plain(conn, why ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, text, NULL);
}

static enum MHD_Result on_admin_request(void *cls, struct MHD_Connection *conn,
					const char *url, const char *method,
					const char *version, const char *upload,
					size_t *upload_size, void **req_cls)
{
	struct sbuf b;

	(void)cls;
	(void)version;
	(void)upload;
	if (!*req_cls) { /* the first call: headers only */
		*req_cls = (void *)1;
		return MHD_YES;
	}
	if (*upload_size) { /* no body is wanted: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0 && strcmp(url, "/health") != 0)
		return plain(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /health\n", NULL);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return plain(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
	if (strcmp(url, "/health") == 0)
		return health(conn);
	sb_init(&b);
	render_fn(&b);
	return reply(conn, MHD_HTTP_OK, METRICS_TYPE, b.s, b.len, NULL);
}

static void admin_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vmsg(LOG_INFO, fmt, ap);
}

struct MHD_Daemon *admin_start(int fd, void (*render)(struct sbuf *out),
			       const char *(*unhealthy)(void))
{
	/* ITC: MHD_quiesce_daemon() needs it with an internal thread */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_USE_ITC;

	render_fn = render;
	health_fn = unhealthy;
	/* a handful of scrapers: few connections, small memory, short patience */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_admin_request, NULL,
				MHD_OPTION_EXTERNAL_LOGGER, admin_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				MHD_OPTION_STRICT_FOR_CLIENT, 1,
				MHD_OPTION_END);
}

/* The listening socket is shared with the next front end (a reload):
 * quiesce first, so that libmicrohttpd lets go of it without shutting it
 * down, and close only our descriptor. */
void admin_stop(struct MHD_Daemon *d)
{
	MHD_socket fd;

	if (!d)
		return;
	fd = MHD_quiesce_daemon(d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	MHD_stop_daemon(d);
}
