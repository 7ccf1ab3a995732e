/* proxy_conn.c -- sockets to a backend.  Every wait has a limit, every
 * write is MSG_NOSIGNAL (a backend that hangs up must not kill the
 * worker with SIGPIPE), and a kept connection is checked when it is given
 * back and again when it is taken. */
#include "proxy_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

static int poll_ms(uint64_t ms)
{
	return ms > 24u * 3600 * 1000 ? 24 * 3600 * 1000 : (int)ms;
}

/* ---------------------------------------------------------------- the pool */

void proxy_pool_init(struct proxy_pool *p, unsigned max)
{
	pthread_mutex_init(&p->lock, NULL);
	p->max = max;
	p->n = 0;
	p->idle = max ? calloc(max, sizeof(*p->idle)) : NULL;
	if (!p->idle)
		p->max = 0;
}

void proxy_pool_destroy(struct proxy_pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		close(p->idle[i].fd);
	free(p->idle);
	p->idle = NULL;
	p->n = 0;
	pthread_mutex_destroy(&p->lock);
}

/* A connection may serve another request only while nothing is readable on
 * it: a byte there now belongs to no request of ours -- the rest of a
 * response that said it was over, which the next caller would read as the
 * head of his -- and an EOF or an error means the backend is gone.  A peek
 * that does not wait: it sees only what has arrived (see proxy.c for why
 * bodiless responses are never kept at all). */
static bool quiet(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int proxy_pool_take(struct proxy_pool *p)
{
	uint64_t now = now_ms();
	int fd = -1;

	pthread_mutex_lock(&p->lock);
	while (p->n > 0 && fd < 0) {
		int cand = p->idle[--p->n].fd; /* the most recent: the least likely stale */
		if (now - p->idle[p->n].since_ms < PROXY_IDLE_MAX_MS && quiet(cand))
			fd = cand;
		else
			close(cand);
	}
	pthread_mutex_unlock(&p->lock);
	return fd;
}

void proxy_pool_give(struct proxy_pool *p, int fd)
{
	if (!quiet(fd)) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (p->n < p->max) {
		p->idle[p->n].fd = fd;
		p->idle[p->n].since_ms = now_ms();
		p->n++;
		fd = -1;
	}
	pthread_mutex_unlock(&p->lock);
	if (fd >= 0)
		close(fd);
}

/* ---------------------------------------------------------------- connecting */

static int finish_connect(int fd, uint64_t timeout_ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	int rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	do
		rc = poll(&pf, 1, poll_ms(timeout_ms));
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -1;
	if (soerr) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int connect_one(int family, const struct sockaddr *sa, socklen_t len,
		       uint64_t timeout_ms)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, saved;

	if (fd < 0)
		return -1;
	if (family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, sa, len) == 0 ||
	    ((errno == EINPROGRESS || errno == EINTR) && finish_connect(fd, timeout_ms) == 0))
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int proxy_connect(const struct proxy_backend *b, const struct addrinfo *ai, uint64_t timeout_ms,
		  char *err, size_t errlen)
{
	int fd = -1;

	if (b->kind == PROXY_UNIX) {
		struct sockaddr_un su = { .sun_family = AF_UNIX };
		memcpy(su.sun_path, b->sockpath, strlen(b->sockpath) + 1);
		fd = connect_one(AF_UNIX, (struct sockaddr *)&su, sizeof(su), timeout_ms);
	} else {
		uint64_t deadline = now_ms() + timeout_ms;
		for (; ai && fd < 0; ai = ai->ai_next) {
			uint64_t now = now_ms();
			if (now >= deadline) {
				errno = ETIMEDOUT;
				break;
			}
			fd = connect_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline - now);
		}
	}
	if (fd < 0)
		snprintf(err, errlen, "connect: %s", errno == ETIMEDOUT ? "timed out"
									: strerror(errno));
	return fd;
}

/* ---------------------------------------------------------------- waiting */

int proxy_wait_readable(int fd, int abort_fd, uint64_t timeout_ms)
{
	struct pollfd pf[2] = { { .fd = fd, .events = POLLIN }, { .fd = abort_fd, .events = POLLIN } };
	int rc;

	do
		rc = poll(pf, abort_fd >= 0 ? 2 : 1, poll_ms(timeout_ms));
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return rc;
	if (abort_fd >= 0 && pf[1].revents)
		return 2;
	return 1;
}

int proxy_send_all(int fd, const void *buf, size_t len, uint64_t timeout_ms, size_t *sent)
{
	const char *p = buf;
	struct pollfd pf = { .fd = fd, .events = POLLOUT | POLLIN };

	*sent = 0;
	while (*sent < len) {
		ssize_t n = send(fd, p + *sent, len - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			*sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		int rc = poll(&pf, 1, poll_ms(timeout_ms));
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (rc > 0 && (pf.revents & POLLIN))
			return 1; /* it answers (or hangs up) before taking everything */
	}
	return 0;
}
