/* listeners.c -- one SO_REUSEPORT socket per front-end loop and listener.
 * A reload hands the same sockets to the new front end: both generations
 * accept from them while the old one drains, and no connection waits on
 * a socket that nobody serves. */
#include "listeners.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

struct lsock {
	struct sockaddr_storage addr;
	socklen_t len;
	unsigned index; /* which of the sockets of that address */
	int fd;
};

#define ADMIN_INDEX 0xffffffffu

static struct lsock *socks;
static size_t nsocks;

static int open_one(const struct listen_conf *l)
{
	int one = 1;
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* one socket per loop on the same address: the kernel spreads the
	 * connections over the loops */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0 || listen(fd, 511) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int find_or_open(const struct listen_conf *l, unsigned index)
{
	for (size_t i = 0; i < nsocks; i++)
		if (socks[i].index == index && socks[i].len == l->addrlen &&
		    memcmp(&socks[i].addr, &l->addr, l->addrlen) == 0)
			return socks[i].fd;
	int fd = open_one(l);
	if (fd < 0)
		return -1;
	socks = xreallocarray(socks, nsocks + 1, sizeof(*socks));
	socks[nsocks] = (struct lsock){ .addr = l->addr, .len = l->addrlen, .index = index, .fd = fd };
	nsocks++;
	return fd;
}

int *listeners_open(const struct config *c, unsigned loops, char *err, size_t errlen)
{
	const struct server_conf *s = &c->server;
	int *fds = xcalloc(s->nlisten * loops, sizeof(int));

	for (size_t i = 0; i < s->nlisten; i++) {
		for (unsigned k = 0; k < loops; k++) {
			fds[i * loops + k] = find_or_open(&s->listen[i], k);
			if (fds[i * loops + k] < 0) {
				const char *file;
				int line;
				conf_where(&c->src, s->listen[i].line, &file, &line);
				snprintf(err, errlen, "%s:%d: listen %s: %s", file, line,
					 s->listen[i].text, strerror(errno));
				free(fds);
				return NULL;
			}
		}
	}
	return fds;
}

int listeners_open_admin(const struct config *c, char *err, size_t errlen)
{
	const struct listen_conf *a = &c->server.admin_listen;
	int fd;

	if (!a->addrlen)
		return -1;
	/* an index no front-end loop uses: the admin socket is one of its own */
	fd = find_or_open(a, ADMIN_INDEX);
	if (fd < 0) {
		const char *file;
		int line;
		conf_where(&c->src, a->line, &file, &line);
		snprintf(err, errlen, "%s:%d: admin_listen %s: %s", file, line, a->text,
			 strerror(errno));
	}
	return fd;
}

void listeners_keep_only(const int *fds, size_t n)
{
	for (size_t i = 0; i < nsocks;) {
		bool used = false;
		for (size_t k = 0; k < n && !used; k++)
			used = fds[k] == socks[i].fd;
		if (used) {
			i++;
			continue;
		}
		close(socks[i].fd);
		socks[i] = socks[--nsocks];
	}
}
