/* cgi_path.h -- finding a CGI program under `root`, with suexec's checks. */
#ifndef IDGATE_CGI_PATH_H
#define IDGATE_CGI_PATH_H

#include <stddef.h>
#include <sys/types.h>

/* Whose files may be executed. */
struct cgi_owner {
	uid_t target;      /* the uid the program will run as */
	/* The owner root's files show from here: 0, but in a user namespace
	 * that does not map root (an impersonating pool's) the kernel shows
	 * the overflow uid -- for root's files and for those of every other
	 * unmapped account alike. */
	uid_t root;
};

struct cgi_program {
	int fd;          /* O_PATH, close-on-exec: the very file to execute */
	size_t name_len; /* path_info[0, name_len) names it: "/sub/app.cgi" */
	size_t dir_len;  /* path_info[0, dir_len) is its directory: "/sub" */
};

/* Find the program that path_info ("/sub/app.cgi/extra") names beneath
 * rootfd: the first segment that is a regular file; what follows it is
 * PATH_INFO.  Every segment is opened on its own with openat2() beneath
 * the directory before it, refusing symlinks and "..", so the kernel (and
 * the calling thread's identity) decides what can be reached.  Like
 * suexec, it refuses directories from root down and a program that are
 * writable by group or others or not owned by root or the target, and a
 * program that has a setuid/setgid bit or that the caller cannot execute
 * -- all checked with fstat() on the fds it opened.  `root` names rootfd
 * in messages.  Returns 0 with p->fd open, or an HTTP status (403, 404,
 * 500) with why ("cgi: /srv/cgi/x: ..."). */
int cgi_find_program(int rootfd, const char *root, const char *path_info,
		     const struct cgi_owner *own, struct cgi_program *p, char *why, size_t len);

#endif
