/* whoami.c -- answers who the handler runs as, read from the kernel.
 *
 * The smallest complete module: copy this file to start a new one.  The
 * credentials (euid, egid, groups) come from /proc/thread-self/status at
 * request time, so a test sees what the kernel enforces for this thread,
 * not what idgated believes it set. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idgate/module.h"
#include "sbuf.h"
#include "util.h"

struct creds {
	long euid, egid;
	char groups[1024]; /* "1001 2000", as the kernel lists them */
};

/* The second field of "Uid:\t0\t0\t0\t0" is the effective id. */
static long effective_id(const char *line)
{
	long real, eff;
	if (sscanf(line, "%*s %ld %ld", &real, &eff) != 2)
		return -1;
	return eff;
}

static int read_creds(struct creds *c)
{
	char buf[8192];
	int fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	c->euid = c->egid = -1;
	c->groups[0] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Uid:", 4) == 0)
			c->euid = effective_id(line);
		else if (strncmp(line, "Gid:", 4) == 0)
			c->egid = effective_id(line);
		else if (strncmp(line, "Groups:", 7) == 0)
			snprintf(c->groups, sizeof(c->groups), "%s", line + 7);
	}
	return c->euid < 0 || c->egid < 0 ? -1 : 0;
}

static void put_groups(struct sbuf *b, const char *list)
{
	const char *p = list;
	int first = 1;

	sb_putc(b, '[');
	while (*p) {
		char *end;
		long g = strtol(p, &end, 10);
		if (end == p) {
			p++;
			continue;
		}
		sb_printf(b, "%s%ld", first ? "" : ",", g);
		first = 0;
		p = end;
	}
	sb_putc(b, ']');
}

static void put_id(struct sbuf *b, const char *key, long id, int known)
{
	if (known)
		sb_printf(b, ",\"%s\":%ld", key, id);
	else
		sb_printf(b, ",\"%s\":null", key);
}


static int whoami_handle(void *ctx, struct idg_request *req)
{
	struct creds c;
	struct sbuf b;
	int mapped = req->user != NULL && req->uid != (uid_t)-1;
	int rc;

	(void)ctx;
	if (read_creds(&c) < 0) {
		req->ops->set_reason(req, "whoami: cannot read /proc/thread-self/status");
		return IDG_ERROR;
	}
	sb_init(&b);
	sb_puts(&b, "{\"principal\":");
	sb_json_str(&b, req->principal);
	sb_puts(&b, ",\"user\":");
	sb_json_str(&b, req->user);
	put_id(&b, "uid", (long)req->uid, mapped);
	put_id(&b, "gid", (long)req->gid, mapped);
	sb_puts(&b, ",\"groups\":");
	put_groups(&b, c.groups);
	sb_printf(&b, ",\"euid\":%ld,\"egid\":%ld,\"impersonated\":%s,\"level\":\"%s\"", c.euid,
		  c.egid, req->impersonated ? "true" : "false",
		  idg_level_name(req->level <= IDG_LEVEL_DELEGATION ? (int)req->level : 0));
	sb_puts(&b, ",\"pool\":");
	sb_json_str(&b, req->pool);
	sb_puts(&b, ",\"vdir\":");
	sb_json_str(&b, req->vdir);
	sb_printf(&b, ",\"delegated\":%s,\"ccache\":", req->ccache ? "true" : "false");
	sb_json_str(&b, req->ccache);
	sb_puts(&b, ",\"request_id\":");
	sb_json_str(&b, req->request_id);
	sb_puts(&b, "}\n");

	req->ops->set_status(req, 200);
	req->ops->add_header(req, "Content-Type", "application/json");
	req->ops->add_header(req, "Cache-Control", "no-store");
	req->ops->set_length(req, (int64_t)b.len);
	rc = req->ops->write(req, b.s, b.len);
	sb_free(&b);
	return rc == 0 ? IDG_OK : IDG_ERROR;
}

static const struct idg_key whoami_keys[] = {
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "whoami",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET | IDG_METHOD_HEAD,
	.keys = whoami_keys,
	.init = NULL,
	.handle = whoami_handle,
	.cleanup = NULL,
};
