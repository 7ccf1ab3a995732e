/* showcreds.c -- run by the spawner in the tests: prints, as JSON, what
 * the child really got: all three uids and gids, groups, capabilities,
 * no_new_privs, the environment, the open fds, and whether the pool's
 * identity (argv[1]) or root can be regained. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static void status_field(const char *name)
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, strlen(name)) == 0 && line[strlen(name)] == ':') {
			char *v = line + strlen(name) + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			printf("\"%s\":\"%s\",", name, v);
		}
	}
	if (f)
		fclose(f);
}

static const char *attempt(long rc)
{
	return rc == 0 ? "ok" : errno == EPERM ? "EPERM" : errno == EINVAL ? "EINVAL" : "other";
}

int main(int argc, char **argv)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	DIR *d;
	struct dirent *de;
	int first = 1;

	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	printf("{\"uid\":[%u,%u,%u],\"gid\":[%u,%u,%u],", r, e, s, rg, eg, sg);
	status_field("Groups");
	status_field("CapEff");
	status_field("CapPrm");
	status_field("CapInh");
	status_field("CapAmb");
	status_field("NoNewPrivs");
	printf("\"env\":[");
	for (char **p = environ; *p; p++)
		printf("%s\"%s\"", p == environ ? "" : ",", *p);
	printf("],\"fds\":[");
	d = opendir("/proc/self/fd");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		printf("%s%s", first ? "" : ",", de->d_name);
		first = 0;
	}
	if (d)
		closedir(d);
	printf("],\"regain_pool\":\"%s\",",
	       argc > 1 ? attempt(syscall(SYS_setresuid, atoi(argv[1]), atoi(argv[1]), atoi(argv[1])))
			: "untested");
	printf("\"regain_root\":\"%s\",\"pgrp_is_self\":%s,",
	       attempt(syscall(SYS_setresuid, 0, 0, 0)), getpgrp() == getpid() ? "true" : "false");
	/* the session keyring it has (KEYCTL_GET_KEYRING_ID of
	 * KEY_SPEC_SESSION_KEYRING, without creating one), or the errno */
	long ks = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* SESSION */, 0);
	if (ks >= 0)
		printf("\"session_keyring\":%ld}\n", ks);
	else
		printf("\"session_keyring\":\"%s\"}\n", attempt(ks));
	return argc > 2 ? atoi(argv[2]) : 0;
}
