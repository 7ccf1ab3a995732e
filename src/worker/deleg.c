/* deleg.c -- delegated credentials, on the worker's side.
 *
 * The front end exports what the client delegated (gss_export_cred: the
 * TGT, its session key, the client's name) into the request head, only
 * when the vdir stores credentials, the level is delegation and the
 * handler runs as the caller.  Here, on the handler thread already
 * switched to the caller, they become a FILE credential cache:
 *
 *   runtime_dir/ccache/         a private tmpfs of this worker's mount
 *                               namespace (confine.c), pool-owned, 1733
 *   .../ccache/cc-<random>/     the request's own directory, caller, 0700
 *   .../ccache/cc-<random>/ccache                                   0600
 *
 * one per request, never one per principal (two requests of one caller
 * must not share or overwrite a cache), and removed when the request ends.
 * If the worker dies, the tmpfs dies with its namespace. */
#include "deleg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gsstext.h"

#define CCACHE_FILE "ccache"
#define REMOVE_DEPTH 8

static int random_name(char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r) || len < 3 + 2 * sizeof(r) + 1)
		return -1;
	memcpy(out, "cc-", 3);
	for (size_t i = 0; i < sizeof(r); i++) {
		out[3 + 2 * i] = hex[r[i] >> 4];
		out[4 + 2 * i] = hex[r[i] & 15];
	}
	out[3 + 2 * sizeof(r)] = '\0';
	return 0;
}

int deleg_import(const void *blob, size_t len, void **cred, char *why, size_t wlen)
{
	OM_uint32 major, minor;
	gss_buffer_desc buf = { len, (void *)blob };
	gss_cred_id_t c = GSS_C_NO_CREDENTIAL;

	*cred = NULL;
	major = gss_import_cred(&minor, &buf, &c);
	if (GSS_ERROR(major)) {
		gss_error_text("gss_import_cred", major, minor, GSS_C_NO_OID, why, wlen);
		return -1;
	}
	*cred = c;
	return 0;
}

void deleg_release(void **cred)
{
	OM_uint32 minor;
	gss_cred_id_t c = *cred;

	if (c != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &c);
	*cred = NULL;
}

/* Import the exported credentials and store them into cc->env. */
static int store_into(const void *blob, size_t len, const char *env, char *why, size_t wlen)
{
	OM_uint32 major, minor, ignored;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	gss_key_value_element_desc el = { "ccache", env };
	gss_key_value_set_desc store = { 1, &el };
	void *imported;

	if (deleg_import(blob, len, &imported, why, wlen) < 0)
		return -1;
	cred = imported;
	major = gss_store_cred_into(&minor, cred, GSS_C_INITIATE, (gss_OID)gss_mech_krb5, 1, 0,
				    &store, NULL, NULL);
	gss_release_cred(&ignored, &cred);
	if (GSS_ERROR(major)) {
		gss_error_text("gss_store_cred_into", major, minor, GSS_C_NO_OID, why, wlen);
		return -1;
	}
	return 0;
}

/* The cache must be a regular file of ours, readable by us alone. */
static int check_cache(int dirfd, const struct deleg_cc *cc, char *why, size_t wlen)
{
	char rel[64];
	struct stat st;

	snprintf(rel, sizeof(rel), "%s/" CCACHE_FILE, cc->name);
	if (fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		snprintf(why, wlen, "the stored cache is not a file of the caller");
		return -1;
	}
	if ((st.st_mode & 07777) != 0600 && fchmodat(dirfd, rel, 0600, 0) < 0) {
		snprintf(why, wlen, "chmod 0600 of the cache: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int deleg_store(int dirfd, const char *dir, const void *blob, size_t len, struct deleg_cc *cc,
		char *why, size_t wlen)
{
	memset(cc, 0, sizeof(*cc));
	if (dirfd < 0) {
		snprintf(why, wlen, "this worker has no place for credentials");
		return -1;
	}
	if (random_name(cc->name, sizeof(cc->name)) < 0) {
		snprintf(why, wlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	if (mkdirat(dirfd, cc->name, 0700) < 0) {
		snprintf(why, wlen, "mkdir %s/%s: %s", dir, cc->name, strerror(errno));
		return -1;
	}
	cc->made = true;
	snprintf(cc->env, sizeof(cc->env), "FILE:%s/%s/" CCACHE_FILE, dir, cc->name);
	if (store_into(blob, len, cc->env, why, wlen) < 0 ||
	    check_cache(dirfd, cc, why, wlen) < 0) {
		deleg_remove(dirfd, cc);
		return -1;
	}
	return 0;
}

/* Remove `name` under `dirfd`, and what a directory holds, not following
 * symbolic links (unlinkat removes a link, never its target). */
static void remove_tree(int at, const char *name, int depth)
{
	int fd;
	DIR *d;
	struct dirent *e;

	if (unlinkat(at, name, 0) == 0 || errno != EISDIR || depth == 0)
		return;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			remove_tree(dirfd(d), e->d_name, depth - 1);
	}
	closedir(d);
	unlinkat(at, name, AT_REMOVEDIR);
}

void deleg_remove(int dirfd, struct deleg_cc *cc)
{
	if (!cc->made)
		return;
	remove_tree(dirfd, cc->name, REMOVE_DEPTH);
	cc->made = false;
}
