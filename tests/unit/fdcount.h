/* fdcount.h -- how many descriptors this process has open (tests that
 * check nothing leaks). */
#ifndef IDGATE_TEST_FDCOUNT_H
#define IDGATE_TEST_FDCOUNT_H

#include <dirent.h>

/* Entries of /proc/self/fd (with ".", ".." and the directory's own fd,
 * the same each time), or -1. */
static inline int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif
