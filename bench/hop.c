/* bench/hop [-n ROUND_TRIPS] [-k PAIRS] [-p split|same|free] -- the floor
 * of one hop between two processes, as idgate's front end and a pool
 * worker make it for every request: a message of 300 bytes over a
 * SOCK_SEQPACKET socketpair, each side waiting in epoll_wait, and a
 * message back.  Prints the CPU of all the processes (user + system,
 * from getrusage) per round trip.
 *
 * PAIRS pairs run at once (8: as many as bench/peers' C=8 keeps busy).
 * split: one side of every pair on CPU 0, the other on CPU 1; same: both
 * on CPU 0; free: the scheduler's choice.  Numbers compare within one run
 * on one box only. */

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG_LEN 300

enum placement { SPLIT, SAME, FREE };

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("hop: sched_setaffinity");
}

/* One side: wait, read, answer -- n times; `first` starts the exchange
 * and does not answer the last message. */
static int side(int fd, long n, int first)
{
	char buf[MSG_LEN];
	struct epoll_event ev = { .events = EPOLLIN }, got;
	int ep = epoll_create1(0);

	memset(buf, 'x', sizeof(buf));
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	if (first && send(fd, buf, sizeof(buf), 0) < 0)
		return -1;
	for (long i = 0; i < n; i++) {
		if (epoll_wait(ep, &got, 1, -1) < 0 && errno != EINTR)
			return -1;
		if (recv(fd, buf, sizeof(buf), 0) <= 0)
			return -1;
		if (!(first && i == n - 1) && send(fd, buf, sizeof(buf), 0) < 0)
			return -1;
	}
	return 0;
}

static pid_t start_side(int fd, long n, int first, enum placement p)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (p != FREE)
		pin(p == SPLIT && !first ? 1 : 0);
	_exit(side(fd, n, first) < 0 ? 1 : 0);
}

static int start_pair(long n, enum placement p)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	if (start_side(sv[0], n, 1, p) < 0 || start_side(sv[1], n, 0, p) < 0)
		return -1;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static enum placement placement_of(const char *s)
{
	if (strcmp(s, "split") == 0)
		return SPLIT;
	if (strcmp(s, "same") == 0)
		return SAME;
	if (strcmp(s, "free") == 0)
		return FREE;
	fprintf(stderr, "hop: -p split, same or free\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long n = 100000, pairs = 1;
	const char *pname = "split";
	int opt, status, failed = 0;
	struct rusage ru;

	while ((opt = getopt(argc, argv, "n:k:p:")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'k': pairs = atol(optarg); break;
		case 'p': pname = optarg; break;
		default: return 2;
		}
	}
	if (n < 1 || pairs < 1 || pairs > 256)
		return 2;
	for (long k = 0; k < pairs; k++)
		if (start_pair(n, placement_of(pname)) < 0) {
			perror("hop");
			return 1;
		}
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	getrusage(RUSAGE_CHILDREN, &ru);
	double us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	printf("hop pairs %ld placement %s round_trips %ld cpu_us_per_round_trip %.2f%s\n",
	       pairs, pname, n * pairs, us / ((double)n * (double)pairs),
	       failed ? " FAILED" : "");
	return failed;
}
