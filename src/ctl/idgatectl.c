/* idgatectl.c -- control a running idgated over its control socket:
 * status, pool start|stop|recycle NAME, reload, reopen, check.  One request per
 * connection, framed and checked as ctlproto.h says.  Human-readable
 * output by default, --json for scripts.
 *
 * Exit status: 0 done; 1 idgated refused or the action failed; 2 usage;
 * 3 idgated could not be reached or answered nonsense.
 *
 * Peers: what it accepts (anything else: exit 3)
 *   supervisor  ADM_OK, ADM_ERROR, ADM_STATUS_REPLY, on a socket that root
 *               (or idgatectl's own uid) serves, checked before sending  */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "sbuf.h"
#include "util.h"
#include "wire.h"

#ifndef IDGATE_RUN_DIR
#define IDGATE_RUN_DIR "/run/idgate"
#endif

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

struct opts {
	const char *socket;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: idgatectl [-s SOCKET] [--json] COMMAND\n"
		   "commands:\n"
		   "  status                      pools, workers, pids, uptime, restarts, requests\n"
		   "  pool start|stop|recycle NAME\n"
		   "  reload                      reload the configuration (as SIGHUP does) and\n"
		   "                              wait for it: exit 1 with the file's problems\n"
		   "                              if it is refused\n"
		   "  reopen                      reopen the log files (as SIGUSR1 does)\n"
		   "  check                       check the running configuration file (idgated -t)\n"
		   "options:\n"
		   "  -s, --socket PATH  control socket (default %s/control)\n"
		   "  -j, --json         machine-readable output\n"
		   "  -V, --version      print the version\n", IDGATE_RUN_DIR);
}

/* ---------------------------------------------------------------- transport */

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "idgatectl: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	fprintf(stderr, "idgatectl: cannot connect to %s: %s%s\n", path, strerror(e),
		e == ENOENT || e == ECONNREFUSED ? " (is idgated running?)"
		: e == EACCES || e == EPERM     ? " (idgatectl needs root)"
						: "");
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Whoever listens on the socket must be root (or ourselves, for an
 * idgated an unprivileged user runs): a socket path someone else could
 * bind must not receive our request, nor answer it.  0, or -1 (said why). */
static int check_listener(int fd, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
		fprintf(stderr, "idgatectl: %s: cannot tell who serves it: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (cred.uid == 0 || cred.uid == geteuid())
		return 0;
	fprintf(stderr, "idgatectl: %s is served by uid %u (pid %d), not by root: refusing to "
		"talk to it\n", path, (unsigned)cred.uid, (int)cred.pid);
	return -1;
}

/* Send the request, receive the one reply into buf.  0, or -1 (said why). */
static int exchange(const struct opts *o, const struct ctl_request *q, uint8_t *buf,
		    struct wire_frame *f)
{
	int fd = connect_socket(o->socket), rc = -1;
	struct pollfd p;

	if (fd < 0)
		return -1;
	if (check_listener(fd, o->socket) < 0)
		goto done;
	if (ctl_request_send(fd, q) < 0) {
		fprintf(stderr, "idgatectl: cannot send to %s: %s\n", o->socket, strerror(errno));
		goto done;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, CTL_TIMEOUT_MS) != 1) {
		fprintf(stderr, "idgatectl: no answer from idgated within %d s\n",
			CTL_TIMEOUT_MS / 1000);
		goto done;
	}
	rc = wire_recv(fd, buf, f, MSG_DONTWAIT);
	if (rc <= 0) {
		fprintf(stderr, "idgatectl: %s\n", rc == 0 ? "idgated closed the connection"
							  : "malformed answer from idgated");
		rc = -1;
		goto done;
	}
	wire_close_fds(f);
	rc = 0;
done:
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- output */

static void put_duration(struct sbuf *b, uint64_t s)
{
	if (s >= 86400)
		sb_printf(b, "%llud%02lluh", (unsigned long long)(s / 86400),
			  (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		sb_printf(b, "%lluh%02llum", (unsigned long long)(s / 3600),
			  (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		sb_printf(b, "%llum%02llus", (unsigned long long)(s / 60),
			  (unsigned long long)(s % 60));
	else
		sb_printf(b, "%llus", (unsigned long long)s);
}

static void human_pool(struct sbuf *b, const struct ctl_pool *p)
{
	struct sbuf up;
	char pid[16] = "-", req[24] = "?";

	sb_init(&up);
	if (p->pid) {
		snprintf(pid, sizeof(pid), "%u", p->pid);
		put_duration(&up, p->since_s);
	} else {
		sb_puts(&up, "-");
	}
	if (p->requests != CTL_UNKNOWN)
		snprintf(req, sizeof(req), "%llu", (unsigned long long)p->requests);
	sb_printf(b, "%-16s %-9s %-8s %-8s %8llu %10s %6u %6u  %s%s\n", p->name,
		  ctl_state_name(p->state), pid, up.s, (unsigned long long)p->restarts, req,
		  p->busy, p->queued, p->user, p->impersonates ? " (impersonates)" : "");
	for (uint32_t i = 0; i < p->ndraining; i++)
		sb_printf(b, "%-16s draining old worker %u\n", "", p->draining[i]);
	sb_free(&up);
}

static void human_status(struct sbuf *b, const struct ctl_status *st)
{
	sb_printf(b, "idgated %s, pid %u, up ", st->version, st->pid);
	put_duration(b, st->uptime_s);
	sb_printf(b, "\nconfiguration %s (generation %u)\nfront end pid %u\n\n", st->config,
		  st->generation, st->frontend_pid);
	sb_printf(b, "%-16s %-9s %-8s %-8s %8s %10s %6s %6s  %s\n", "POOL", "STATE", "PID",
		  "UPTIME", "RESTARTS", "REQUESTS", "BUSY", "QUEUED", "USER");
	for (uint32_t i = 0; i < st->npools; i++)
		human_pool(b, &st->pools[i]);
}

static void json_pool(struct sbuf *b, const struct ctl_pool *p)
{
	sb_puts(b, "{\"name\":");
	sb_json_str(b, p->name);
	sb_printf(b, ",\"state\":\"%s\",\"pid\":", ctl_state_name(p->state));
	if (p->pid)
		sb_printf(b, "%u", p->pid);
	else
		sb_puts(b, "null");
	sb_puts(b, ",\"user\":");
	sb_json_str(b, p->user);
	sb_printf(b, ",\"threads\":%u,\"impersonates\":%s,\"uptime\":%llu,\"restarts\":%llu,"
		  "\"requests\":", p->threads, p->impersonates ? "true" : "false",
		  (unsigned long long)p->since_s, (unsigned long long)p->restarts);
	if (p->requests == CTL_UNKNOWN)
		sb_puts(b, "null");
	else
		sb_printf(b, "%llu", (unsigned long long)p->requests);
	sb_printf(b, ",\"busy\":%u,\"queued\":%u,\"draining\":[", p->busy, p->queued);
	for (uint32_t i = 0; i < p->ndraining; i++)
		sb_printf(b, "%s%u", i ? "," : "", p->draining[i]);
	sb_puts(b, "]}");
}

static void json_status(struct sbuf *b, const struct ctl_status *st)
{
	sb_puts(b, "{\"version\":");
	sb_json_str(b, st->version);
	sb_printf(b, ",\"pid\":%u,\"uptime\":%llu,\"config\":", st->pid,
		  (unsigned long long)st->uptime_s);
	sb_json_str(b, st->config);
	sb_printf(b, ",\"generation\":%u,\"frontend_pid\":%u,\"pools\":[", st->generation,
		  st->frontend_pid);
	for (uint32_t i = 0; i < st->npools; i++) {
		if (i)
			sb_putc(b, ',');
		json_pool(b, &st->pools[i]);
	}
	sb_puts(b, "]}\n");
}

/* ---------------------------------------------------------------- replies */

static int on_status_reply(const struct opts *o, const struct wire_frame *f)
{
	struct ctl_status st;
	struct sbuf b;

	if (ctl_status_decode(f->payload, f->len, &st) < 0) {
		fprintf(stderr, "idgatectl: malformed status from idgated\n");
		return EXIT_UNREACHABLE;
	}
	sb_init(&b);
	if (o->json)
		json_status(&b, &st);
	else
		human_status(&b, &st);
	fputs(b.s, stdout);
	sb_free(&b);
	free(st.pools);
	return 0;
}

static int on_ok_reply(const struct opts *o, const struct wire_frame *f)
{
	const char *msg;
	uint32_t pid, old;
	struct sbuf b;

	if (ctl_ok_decode(f->payload, f->len, &msg, &pid, &old) < 0) {
		fprintf(stderr, "idgatectl: malformed answer from idgated\n");
		return EXIT_UNREACHABLE;
	}
	if (!o->json) {
		printf("%s%s", msg, *msg && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
		return 0;
	}
	sb_init(&b);
	sb_puts(&b, "{\"ok\":true,\"message\":");
	sb_json_str(&b, msg);
	sb_printf(&b, ",\"pid\":%u,\"old_pid\":%u}\n", pid, old);
	fputs(b.s, stdout);
	sb_free(&b);
	return 0;
}

static int on_error_reply(const struct opts *o, const struct wire_frame *f)
{
	const char *msg;
	uint32_t code;
	struct sbuf b;

	if (ctl_error_decode(f->payload, f->len, &code, &msg) < 0) {
		fprintf(stderr, "idgatectl: malformed answer from idgated\n");
		return EXIT_UNREACHABLE;
	}
	if (o->json) {
		sb_init(&b);
		sb_printf(&b, "{\"ok\":false,\"code\":%u,\"message\":", code);
		sb_json_str(&b, msg);
		sb_puts(&b, "}\n");
		fputs(b.s, stdout);
		sb_free(&b);
	}
	fprintf(stderr, "idgatectl: %s%s", msg, *msg && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
	return EXIT_REFUSED;
}

static int run(const struct opts *o, const struct ctl_request *q)
{
	uint8_t *buf = xmalloc(WIRE_MAX_FRAME);
	struct wire_frame f;
	int rc = EXIT_UNREACHABLE;

	if (exchange(o, q, buf, &f) == 0) {
		if (f.type == W_ADM_STATUS_REPLY && q->type == W_ADM_STATUS)
			rc = on_status_reply(o, &f);
		else if (f.type == W_ADM_OK)
			rc = on_ok_reply(o, &f);
		else if (f.type == W_ADM_ERROR)
			rc = on_error_reply(o, &f);
		else
			fprintf(stderr, "idgatectl: unexpected answer %u from idgated\n", f.type);
	}
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- command line */

static int parse_pool_command(int argc, char **argv, struct ctl_request *q)
{
	static const char *const actions[] = { "start", "stop", "recycle" };

	if (argc != 3) {
		fprintf(stderr, "idgatectl: usage: pool start|stop|recycle NAME\n");
		return -1;
	}
	q->type = W_ADM_POOL;
	for (uint32_t i = 0; i < 3; i++)
		if (strcmp(argv[1], actions[i]) == 0)
			q->action = CTL_POOL_START + i;
	if (!q->action) {
		fprintf(stderr, "idgatectl: unknown pool action '%s' (start, stop or recycle)\n",
			argv[1]);
		return -1;
	}
	if (!ctl_pool_name_ok(argv[2])) {
		fprintf(stderr, "idgatectl: '%s' is not a pool name\n", argv[2]);
		return -1;
	}
	snprintf(q->pool, sizeof(q->pool), "%s", argv[2]);
	return 0;
}

static int parse_command(int argc, char **argv, struct ctl_request *q)
{
	memset(q, 0, sizeof(*q));
	if (argc < 1) {
		usage(stderr);
		return -1;
	}
	if (strcmp(argv[0], "pool") == 0)
		return parse_pool_command(argc, argv, q);
	if (argc != 1) {
		fprintf(stderr, "idgatectl: '%s' takes no arguments\n", argv[0]);
		return -1;
	}
	if (strcmp(argv[0], "status") == 0)
		q->type = W_ADM_STATUS;
	else if (strcmp(argv[0], "reload") == 0)
		q->type = W_ADM_RELOAD;
	else if (strcmp(argv[0], "check") == 0)
		q->type = W_ADM_CHECK;
	else if (strcmp(argv[0], "reopen") == 0)
		q->type = W_ADM_REOPEN;
	else {
		fprintf(stderr, "idgatectl: unknown command '%s'\n", argv[0]);
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .socket = IDGATE_RUN_DIR "/control" };
	struct ctl_request q;
	int opt;

	while ((opt = getopt_long(argc, argv, "+s:jVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': o.socket = optarg; break;
		case 'j': o.json = true; break;
		case 'V': printf("idgatectl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (parse_command(argc - optind, argv + optind, &q) < 0)
		return EXIT_USAGE;
	return run(&o, &q);
}
