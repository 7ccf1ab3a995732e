/* deleg.h -- delegated Kerberos credentials in a pool worker: stored for
 * one request in a credential cache owned by the caller, removed when the
 * request ends. */
#ifndef IDGATE_DELEG_H
#define IDGATE_DELEG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Impersonating workers mount their private tmpfs on [server]
 * runtime_dir/ccache (rundir.h), the "credential directory" below. */

struct deleg_cc {
	char name[40];  /* the request's directory in the credential directory */
	char env[PATH_MAX + 64]; /* KRB5CCNAME: "FILE:DIR/NAME/ccache" */
	bool made;      /* the directory exists (remove it) */
};

/* On a thread that already runs as the caller: make a private directory
 * (0700) under `dirfd` (the credential directory, whose path is `dir`),
 * import the exported credentials (gss_export_cred's buffer) and store
 * them in a FILE cache there (0600, the caller's).  0, or -1 with why;
 * whatever was made is removed. */
int deleg_store(int dirfd, const char *dir, const void *blob, size_t len, struct deleg_cc *cc,
		char *why, size_t wlen);

/* Remove the cache and anything else the handler left in its directory;
 * still as the caller (nobody else may enter it). */
void deleg_remove(int dirfd, struct deleg_cc *cc);

/* The exported credentials as a gss_cred_id_t in memory (*cred), for a
 * handler that uses them itself.  0, or -1 with why. */
int deleg_import(const void *blob, size_t len, void **cred, char *why, size_t wlen);
/* Release what deleg_import gave (NULL is fine); sets *cred to NULL. */
void deleg_release(void **cred);

#endif
