/* whoami.c -- answers who the handler runs as, read from the kernel.
 *
 * The smallest complete module: copy this file to start a new one.  The
 * credentials (euid, egid, groups) come from /proc/thread-self/status at
 * request time, so a test sees what the kernel enforces for this thread,
 * not what idgated believes it set. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_CLOEXEC, strtok_r: a module built on its own says so itself */
#endif
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <idgate/module.h>

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

/* The answer is built in a fixed buffer: a module needs nothing but
 * <idgate/module.h> and libc (this file builds outside idgate's tree:
 * cc $(pkg-config --cflags idgate) -shared -fPIC -o whoami.so whoami.c). */
struct out {
	char s[8192];
	size_t len;
	int full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->s + o->len, sizeof(o->s) - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(o->s) - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

/* A JSON string, or null. */
static void put_str(struct out *o, const char *key, const char *v)
{
	put(o, "%s\"%s\":", o->len > 1 ? "," : "", key);
	if (!v) {
		put(o, "null");
		return;
	}
	put(o, "\"");
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(o, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			put(o, "\\u%04x", *p);
		else
			put(o, "%c", *p);
	}
	put(o, "\"");
}

static void put_groups(struct out *o, const char *list)
{
	const char *p = list;
	int first = 1;

	put(o, ",\"groups\":[");
	while (*p) {
		char *end;
		long g = strtol(p, &end, 10);
		if (end == p) {
			p++;
			continue;
		}
		put(o, "%s%ld", first ? "" : ",", g);
		first = 0;
		p = end;
	}
	put(o, "]");
}

static void put_id(struct out *o, const char *key, long id, int known)
{
	if (known)
		put(o, ",\"%s\":%ld", key, id);
	else
		put(o, ",\"%s\":null", key);
}

static const char *level_name(unsigned level)
{
	static const char *const names[] = { "anonymous", "identification", "impersonation",
					     "delegation" };
	return level < sizeof(names) / sizeof(names[0]) ? names[level] : "anonymous";
}

static int whoami_handle(void *ctx, struct idg_request *req)
{
	struct creds c;
	struct out o = { .len = 0 };
	int mapped = req->user != NULL && req->uid != (uid_t)-1;

	(void)ctx;
	if (read_creds(&c) < 0) {
		req->ops->set_reason(req, "whoami: cannot read /proc/thread-self/status");
		return IDG_ERROR;
	}
	put(&o, "{");
	put_str(&o, "principal", req->principal);
	put_str(&o, "user", req->user);
	put_id(&o, "uid", (long)req->uid, mapped);
	put_id(&o, "gid", (long)req->gid, mapped);
	put_groups(&o, c.groups);
	put(&o, ",\"euid\":%ld,\"egid\":%ld,\"impersonated\":%s,\"level\":\"%s\"", c.euid,
	    c.egid, req->impersonated ? "true" : "false", level_name((unsigned)req->level));
	put_str(&o, "pool", req->pool);
	put_str(&o, "vdir", req->vdir);
	put(&o, ",\"delegated\":%s", req->ccache ? "true" : "false");
	put_str(&o, "ccache", req->ccache);
	put_str(&o, "request_id", req->request_id);
	put(&o, "}\n");
	if (o.full) {
		req->ops->set_reason(req, "whoami: the answer does not fit its buffer");
		return IDG_ERROR;
	}
	req->ops->set_status(req, 200);
	req->ops->add_header(req, "Content-Type", "application/json");
	req->ops->add_header(req, "Cache-Control", "no-store");
	req->ops->set_length(req, (int64_t)o.len);
	return req->ops->write(req, o.s, o.len) == 0 ? IDG_OK : IDG_ERROR;
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
