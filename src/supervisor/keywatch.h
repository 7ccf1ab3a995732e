/* keywatch.h -- the keytab, watched for the authenticator: a KDC (or
 * adcli, SSSD, msktutil, an administrator) writes new keys into it -- a
 * new kvno -- and the running authenticator must see them without a
 * reload.  The file is root's alone and the authenticator is not root, so
 * the supervisor looks at it (st_ino, st_size, st_mtim, at most once a
 * second) and, when it changed, opens it and sends the descriptor to the
 * authenticator (CTL_KEYTAB), which adds the keys it does not have yet
 * and keeps the others: tickets for an older kvno work until they
 * expire. */
#ifndef IDGATE_KEYWATCH_H
#define IDGATE_KEYWATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

struct keywatch {
	char *path;        /* NULL: nothing to watch (no FILE: keytab) */
	struct stat st;
	bool seen;         /* st holds what was there */
	uint64_t next_ms;
};

/* The keytab of `keytab` ([server] keytab, "" for krb5's default), as it
 * is now. */
void keywatch_init(struct keywatch *w, const char *keytab);
/* An open descriptor of the keytab when it changed since the last look
 * (and at most once a second), else -1. */
int keywatch_changed(struct keywatch *w, uint64_t now);
void keywatch_free(struct keywatch *w);

#endif
