/* tfdflood.c -- a hostile handler for the supervisor's control channel:
 * query "flood" finds the worker's control socket to the supervisor and
 * sends it 50 zero-length messages, each carrying 16 descriptors, as a
 * compromised worker could.  It answers "sent N on fd F" (when it lives
 * to answer).
 *
 * The control socket is found the way an attacker inside the worker
 * would: the supervisor created every socket pair the worker inherits
 * (SO_PEERCRED names the creator: our parent), the control pair first,
 * so it is the lowest-numbered of them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "idgate/module.h"

#define FLOOD_FRAMES 50
#define FLOOD_FDS 16

static bool from_supervisor(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int type;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.pid == getppid();
}

static int find_control_socket(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int best = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dirfd(d) || fd < 3)
			continue;
		if (from_supervisor(fd) && (best < 0 || fd < best))
			best = fd;
	}
	closedir(d);
	return best;
}

/* One zero-length message with FLOOD_FDS descriptors; 0 or -1. */
static int send_empty_with_fds(int sock, const int *fds)
{
	char cm[CMSG_SPACE(sizeof(int) * FLOOD_FDS)];
	char none = 0;
	struct iovec iov = { &none, 0 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm,
			      .msg_controllen = sizeof(cm) };
	struct cmsghdr *c;

	memset(cm, 0, sizeof(cm));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * FLOOD_FDS);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * FLOOD_FDS);
	for (int tries = 0; tries < 200; tries++) {
		if (sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == 0)
			return 0;
		if (errno != EAGAIN)
			return -1;
		usleep(10 * 1000); /* the supervisor reads them */
	}
	return -1;
}

static int flood(int sock)
{
	int fds[FLOOD_FDS], sent = 0;

	for (int i = 0; i < FLOOD_FDS; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < FLOOD_FRAMES && send_empty_with_fds(sock, fds) == 0; i++)
		sent++;
	for (int i = 0; i < FLOOD_FDS; i++)
		close(fds[i]);
	return sent;
}

static int flood_handle(void *ctx, struct idg_request *req)
{
	char body[64];
	int sock, sent = 0, n;

	(void)ctx;
	if (strcmp(req->query, "flood") != 0) {
		n = snprintf(body, sizeof(body), "alive\n");
	} else {
		sock = find_control_socket();
		if (sock >= 0)
			sent = flood(sock);
		n = snprintf(body, sizeof(body), "sent %d on fd %d\n", sent, sock);
	}
	req->ops->set_status(req, 200);
	req->ops->set_length(req, n);
	return req->ops->write(req, body, (size_t)n) == 0 ? IDG_OK : IDG_ERROR;
}

static const struct idg_key flood_keys[] = { { NULL, 0, 0, NULL, NULL } };

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "tfdflood",
	.impersonation = IDG_IMPERSONATION_NOT_ALLOWED,
	.methods = IDG_METHOD_GET,
	.keys = flood_keys,
	.handle = flood_handle,
};
