/* control.c -- see control.h. */
#include "control.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define READ_TIMEOUT_MS 2000

/* The device and inode of the socket we created, so that at exit we never
 * remove one that another idgated has put in its place. */
static dev_t my_dev;
static ino_t my_ino;

static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "control_socket: cannot create %s: %s", dir,
				 strerror(errno));
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* A socket file left at path: remove it, saying so if somebody answers. */
static int clear_old_socket(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control_socket %s exists and is not a socket", sa->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		log_msg(LOG_WARNING, "control_socket %s is in use by another idgated: taking it "
			"over (give each instance its own control_socket)", sa->sun_path);
	if (fd >= 0)
		close(fd);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "control_socket %s: cannot remove the old socket: %s",
			 sa->sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int bind_socket(int fd, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	mode_t old = umask(0177); /* created 0600: never reachable by others */
	int rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));

	umask(old);
	if (rc < 0 || chmod(sa->sun_path, 0600) < 0 || listen(fd, 16) < 0 ||
	    lstat(sa->sun_path, &st) < 0) {
		snprintf(err, errlen, "control_socket %s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	my_dev = st.st_dev;
	my_ino = st.st_ino;
	return 0;
}

int control_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control_socket %s: path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (make_parent(path, err, errlen) < 0)
		return -1;
	err[0] = '\0';
	if (clear_old_socket(&sa, err, errlen) < 0) {
		if (!err[0])
			snprintf(err, errlen, "control_socket %s: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control_socket: socket: %s", strerror(errno));
		return -1;
	}
	if (bind_socket(fd, &sa, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void control_close(int fd, const char *path)
{
	struct stat st;

	if (fd < 0)
		return;
	close(fd);
	if (lstat(path, &st) == 0 && st.st_dev == my_dev && st.st_ino == my_ino)
		unlink(path);
}

/* Root, or the user idgated runs as when it was not started as root (who
 * can signal it anyway). */
static bool peer_allowed(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0 || len != sizeof(*cred))
		return false;
	return cred->uid == 0 || cred->uid == geteuid();
}

/* One request frame, within READ_TIMEOUT_MS.  0, or -1 (answered). */
static int read_request(int fd, struct ctl_request *q)
{
	uint8_t *buf = xmalloc(WIRE_MAX_FRAME);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct wire_frame f;
	int rc = -1;

	if (poll(&p, 1, READ_TIMEOUT_MS) != 1) {
		ctl_send_error(fd, CTL_ERR_BAD_REQUEST, "no request within %d ms",
			       READ_TIMEOUT_MS);
		goto done;
	}
	if (wire_recv(fd, buf, &f, MSG_DONTWAIT) <= 0) {
		ctl_send_error(fd, CTL_ERR_BAD_REQUEST, "malformed frame");
		goto done;
	}
	if (ctl_request_decode(&f, q) < 0) {
		wire_close_fds(&f);
		log_msg(LOG_WARNING, "control socket: malformed request (type %u, %u bytes)",
			f.type, f.len);
		ctl_send_error(fd, CTL_ERR_BAD_REQUEST, "malformed or unknown request");
		goto done;
	}
	rc = 0;
done:
	free(buf);
	return rc;
}

/* Read and drop what a refused peer sent (briefly): a socket closed with
 * unread data resets the connection, and the peer would not read why. */
static void discard_request(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[64];

	if (poll(&p, 1, 100) == 1)
		(void)!recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
}

int control_accept(int lfd, struct ctl_request *q)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return -1;
	if (!peer_allowed(fd, &cred)) {
		log_msg(LOG_WARNING, "control socket: refused uid %u (pid %d): only root may "
			"control idgated", (unsigned)cred.uid, (int)cred.pid);
		discard_request(fd);
		ctl_send_error(fd, CTL_ERR_DENIED, "permission denied: only root may control "
			       "idgated");
		close(fd);
		return -1;
	}
	if (read_request(fd, q) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}
