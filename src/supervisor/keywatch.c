/* keywatch.c -- see keywatch.h. */
#include "keywatch.h"

#include <errno.h>
#include <fcntl.h>
#include <krb5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOOK_EVERY_MS 1000

/* The file behind a keytab name: "FILE:/p", "WRFILE:/p" or "/p"; krb5's
 * default when empty.  NULL for any other type (nothing to watch). */
static char *keytab_path(const char *keytab)
{
	char name[1024];
	krb5_context ctx;

	if (!*keytab) {
		if (krb5_init_context(&ctx) != 0)
			return NULL;
		if (krb5_kt_default_name(ctx, name, sizeof(name)) != 0)
			name[0] = '\0';
		krb5_free_context(ctx);
		keytab = name;
	}
	if (str_has_prefix(keytab, "FILE:"))
		keytab += 5;
	else if (str_has_prefix(keytab, "WRFILE:"))
		keytab += 7;
	return keytab[0] == '/' ? xstrdup(keytab) : NULL;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

void keywatch_init(struct keywatch *w, const char *keytab)
{
	memset(w, 0, sizeof(*w));
	w->path = keytab_path(keytab);
	w->seen = w->path && stat(w->path, &w->st) == 0;
}

int keywatch_changed(struct keywatch *w, uint64_t now)
{
	struct stat st;
	int fd;

	if (!w->path || now < w->next_ms)
		return -1;
	w->next_ms = now + LOOK_EVERY_MS;
	if (stat(w->path, &st) < 0 || (w->seen && same_file(&st, &w->st)))
		return -1;
	fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		log_msg(LOG_WARNING, "keytab %s changed, but cannot be opened: %m", w->path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	w->st = st;
	w->seen = true;
	return fd;
}

void keywatch_free(struct keywatch *w)
{
	free(w->path);
	w->path = NULL;
}
