/* modload.c -- dlopen of handler modules, with the checks sshd applies to
 * its own files: a module runs inside every process of idgated, so it and
 * its directory must be regular, owned by root (or the user running
 * idgated) and writable by nobody else.  Then nobody but root could swap
 * the file between our check and dlopen(). */
#include "modload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int check_owner_mode(const struct stat *st, const char *what, const char *path,
			    char *err, size_t errlen)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(err, errlen, "%s %s is owned by uid %u, not root", what, path,
			 (unsigned)st->st_uid);
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s %s is writable by group or others", what, path);
		return -1;
	}
	return 0;
}

static int check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		snprintf(err, errlen, "modules_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "modules_dir %s is not a directory", dir);
		return -1;
	}
	return check_owner_mode(&st, "modules_dir", dir, err, errlen);
}

static int check_descriptor(const struct idg_module *d, const char *name, char *err,
			    size_t errlen)
{
	if (d->abi_version != IDG_MODULE_ABI_VERSION) {
		snprintf(err, errlen, "module ABI version %u, idgated needs %u", d->abi_version,
			 IDG_MODULE_ABI_VERSION);
		return -1;
	}
	if (!d->name || strcmp(d->name, name) != 0) {
		snprintf(err, errlen, "module calls itself '%s', expected '%s'",
			 d->name ? d->name : "(null)", name);
		return -1;
	}
	if (!d->handle || !d->keys || d->impersonation > IDG_IMPERSONATION_REQUIRED ||
	    d->methods == 0) {
		snprintf(err, errlen, "module descriptor is incomplete (handle, keys, methods)");
		return -1;
	}
	return 0;
}

struct module *module_load(const char *dir, const char *name, char *err, size_t errlen)
{
	struct module *m = NULL;
	char *path = NULL;
	struct stat st;
	void *dl = NULL;
	const struct idg_module *desc;
	int fd = -1;

	if (!str_is_token(name)) {
		snprintf(err, errlen, "'%s' is not a module name", name);
		goto done;
	}
	if (check_dir(dir, err, errlen) < 0)
		goto done;
	path = xasprintf("%s/%s.so", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot load %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot load %s: not a regular file", path);
		goto done;
	}
	if (check_owner_mode(&st, "module", path, err, errlen) < 0)
		goto done;
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(err, errlen, "cannot load %s: %s", path, dlerror());
		goto done;
	}
	desc = dlsym(dl, IDG_MODULE_SYMBOL);
	if (!desc) {
		snprintf(err, errlen, "%s does not export '%s'", path, IDG_MODULE_SYMBOL);
		goto done;
	}
	if (check_descriptor(desc, name, err, errlen) < 0)
		goto done;
	m = xcalloc(1, sizeof(*m));
	m->name = xstrdup(name);
	m->path = path;
	m->dl = dl;
	m->desc = desc;
	path = NULL;
	dl = NULL;
done:
	if (dl)
		dlclose(dl);
	if (fd >= 0)
		close(fd);
	free(path);
	return m;
}

void module_unload(struct module *m)
{
	if (!m)
		return;
	/* Modules stay mapped: a forked child may still run their code, and
	 * unmapping buys nothing in a process that is about to exit. */
	free(m->name);
	free(m->path);
	free(m);
}

const struct idg_key *module_key(const struct module *m, const char *key)
{
	for (const struct idg_key *k = m->desc->keys; k->name; k++)
		if (strcmp(k->name, key) == 0)
			return k;
	return NULL;
}

const char *impersonation_option_name(enum idg_impersonation o)
{
	switch (o) {
	case IDG_IMPERSONATION_NOT_ALLOWED: return "not_allowed";
	case IDG_IMPERSONATION_ALLOWED: return "allowed";
	case IDG_IMPERSONATION_REQUIRED: return "required";
	}
	return "?";
}

static const struct { const char *name; unsigned bit; } methods[] = {
	{ "GET", IDG_METHOD_GET }, { "HEAD", IDG_METHOD_HEAD },
	{ "POST", IDG_METHOD_POST }, { "PUT", IDG_METHOD_PUT },
	{ "DELETE", IDG_METHOD_DELETE }, { "OPTIONS", IDG_METHOD_OPTIONS },
	{ "PATCH", IDG_METHOD_PATCH },
};

unsigned method_bit(const char *method)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

void methods_allow_header(unsigned bits, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		if (!(bits & methods[i].bit))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", methods[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}
