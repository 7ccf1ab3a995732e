/* config.c -- idgate.conf.  inih splits lines into sections and key=value
 * pairs; our line reader in front of it counts lines (so every message
 * carries FILE:LINE), records section headers (inih reports none for an
 * empty section) and reports every malformed line, not only the first.
 * Every key is then set by its table (confkeys.c), and cross-section rules
 * run once the whole file is read. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <krb5.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "confkeys.h"
#include "confread.h"
#include "modload.h"
#include "rundir.h"
#include "session.h"
#include "units.h"
#include "uri.h"
#include "util.h"

#define MAX_LINE 4096
#define MAX_SEEN 64

enum sect { SECT_NONE, SECT_SERVER, SECT_POOL, SECT_VDIR, SECT_BAD };

struct conf_parser {
	struct config *c;
	struct diag *d;
	const char *file;
	int line;
	/* input: the file and what it includes (confread.c) */
	struct confread in;
	char *buf;
	size_t bufcap;
	/* current section */
	enum sect kind;
	struct pool_conf *pool;
	struct vdir_conf *vdir;
	struct { char name[64]; int line; } seen[MAX_SEEN];
	size_t nseen;
	int server_line;
};

/* Problems at a global line number (confread.h), told as FILE:LINE of the
 * file it is in -- the main file, or one it includes. */
static void cdiag(struct conf_parser *p, bool error, int line, const char *fmt, va_list ap)
{
	const char *file;
	int local;

	conf_where(&p->c->src, line, &file, &local);
	(error ? diag_verror : diag_vwarning)(p->d, file, local, fmt, ap);
}

static void cerr(struct conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cerr(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cdiag(p, true, line, fmt, ap);
	va_end(ap);
}

static void cwarn(struct conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void cwarn(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cdiag(p, false, line, fmt, ap);
	va_end(ap);
}

#define perr(p, ...) cerr((p), (p)->line, __VA_ARGS__)

/* "line N", or "FILE:N" when that line is in another file than the one
 * being read: for "(first at ...)" */
const char *conf_at(struct conf_parser *p, int line, char *buf, size_t len)
{
	const char *file, *here;
	int local, cur;

	conf_where(&p->c->src, line, &file, &local);
	conf_where(&p->c->src, p->line, &here, &cur);
	if (strcmp(file, here) == 0)
		snprintf(buf, len, "line %d", local);
	else
		snprintf(buf, len, "%s:%d", file, local);
	return buf;
}

void conf_error(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cdiag(p, true, line, fmt, ap);
	va_end(ap);
}

static const char *sect_name(struct conf_parser *p)
{
	static __thread char name[300];
	if (p->kind == SECT_POOL)
		snprintf(name, sizeof(name), "pool %s", p->pool->name);
	else if (p->kind == SECT_VDIR)
		snprintf(name, sizeof(name), "vdir %s", p->vdir->path);
	else
		snprintf(name, sizeof(name), "server");
	return name;
}

/* The keys of the current section, and the struct they are set in */
static const struct conf_key *sect_keys(struct conf_parser *p, void **base)
{
	if (p->kind == SECT_POOL) {
		*base = p->pool;
		return conf_sections[1].keys;
	}
	if (p->kind == SECT_VDIR) {
		*base = p->vdir;
		return conf_sections[2].keys;
	}
	*base = &p->c->server;
	return conf_sections[0].keys;
}

/* ---------------------------------------------------------------- sections */

static struct pool_conf *add_pool(struct conf_parser *p, const char *name, int line)
{
	struct config *c = p->c;
	struct pool_conf *pool;
	char sect[96];

	c->pools = xreallocarray(c->pools, c->npools + 1, sizeof(*c->pools));
	pool = &c->pools[c->npools];
	memset(pool, 0, sizeof(*pool));
	pool->name = xstrdup(name);
	pool->index = (unsigned)c->npools++;
	pool->line = line;
	snprintf(sect, sizeof(sect), "pool %s", name);
	conf_defaults(p, conf_sections[1].keys, pool, sect);
	return pool;
}

static void begin_pool(struct conf_parser *p, const char *name)
{
	char where[PATH_MAX + 16];
	struct pool_conf *old;

	if (!*name || !str_is_token(name) || strlen(name) > 64) {
		perr(p, "[pool %s]: a pool name is 1-64 letters, digits, '.', '_' or '-'", name);
		p->kind = SECT_BAD;
		return;
	}
	old = config_pool(p->c, name);
	if (old) {
		perr(p, "[pool %s] repeated (first at %s)", name,
		     conf_at(p, old->line, where, sizeof(where)));
		p->kind = SECT_BAD;
		return;
	}
	p->pool = add_pool(p, name, p->line);
	p->kind = SECT_POOL;
}

static void begin_vdir(struct conf_parser *p, const char *arg)
{
	char where[PATH_MAX + 16];
	struct config *c = p->c;
	struct vdir_conf *v;
	char *path = xstrdup(arg);

	if (path[0] != '/' || strpbrk(path, " \t%?#\\") || path_normalize(path, PATH_KEEP_DOTS_ERROR) < 0) {
		perr(p, "[vdir %s]: a vdir is an absolute path without '.', '..', '%%', '?', '#' or spaces",
		     arg);
		p->kind = SECT_BAD;
		free(path);
		return;
	}
	size_t len = strlen(path);
	if (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	for (size_t i = 0; i < c->nvdirs; i++) {
		if (strcmp(c->vdirs[i].path, path) == 0) {
			perr(p, "[vdir %s] repeated (first at %s)", path,
			     conf_at(p, c->vdirs[i].line, where, sizeof(where)));
			p->kind = SECT_BAD;
			free(path);
			return;
		}
	}
	c->vdirs = xreallocarray(c->vdirs, c->nvdirs + 1, sizeof(*c->vdirs));
	v = &c->vdirs[c->nvdirs];
	memset(v, 0, sizeof(*v));
	v->path = path;
	v->path_len = len;
	v->index = (unsigned)c->nvdirs++;
	v->line = p->line;
	p->vdir = v;
	p->kind = SECT_VDIR;
	conf_defaults(p, conf_sections[2].keys, v, sect_name(p));
}

static void begin_section(struct conf_parser *p, char *name)
{
	char where[PATH_MAX + 16];
	char *arg = name + strcspn(name, " \t");

	if (*arg) {
		*arg++ = '\0';
		arg += strspn(arg, " \t");
	}
	p->nseen = 0;
	p->pool = NULL;
	p->vdir = NULL;
	if (strcmp(name, "server") == 0 && !*arg) {
		if (p->server_line) {
			perr(p, "[server] repeated (first at %s)",
			     conf_at(p, p->server_line, where, sizeof(where)));
			p->kind = SECT_BAD;
			return;
		}
		p->server_line = p->line;
		p->kind = SECT_SERVER;
	} else if (strcmp(name, "pool") == 0) {
		begin_pool(p, arg);
	} else if (strcmp(name, "vdir") == 0) {
		begin_vdir(p, arg);
	} else {
		perr(p, "unknown section [%s%s%s] (expected [server], [pool NAME] or [vdir PATH])",
		     name, *arg ? " " : "", arg);
		p->kind = SECT_BAD;
	}
}

/* ---------------------------------------------------------------- inih glue */

static char *trim(char *s)
{
	char *e;
	s += strspn(s, " \t\r\n");
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	return s;
}

static void end_section(struct conf_parser *p)
{
	p->kind = SECT_NONE;
	p->pool = NULL;
	p->vdir = NULL;
	p->nseen = 0;
}

/* "include = GLOB" (before inih sees it: the value may hold a '#') */
static bool is_include(const char *s)
{
	size_t n = strlen("include");

	return strncmp(s, "include", n) == 0 && s[n + strspn(s + n, " \t")] == '=';
}

/* An include line ends the current section, like a section header: the
 * files it names start with no section, and so does what follows it. */
static void include_files(struct conf_parser *p, const char *line)
{
	char why[PATH_MAX + 100], *mem = xstrdup(strchr(line, '=') + 1), *glob;

	for (char *c = mem; *c; c++) { /* an inline comment, as inih has them */
		if ((*c == '#' || *c == ';') && c > mem && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	}
	glob = trim(mem);
	if (!*glob)
		perr(p, "include: expected a file or a pattern (e.g. conf.d/*.conf)");
	else if (strpbrk(glob, " \t"))
		perr(p, "include: '%s': one pattern per include line", glob);
	else if (confread_include(&p->in, glob, why, sizeof(why)) < 0)
		perr(p, "%s", why);
	end_section(p);
	free(mem);
}

/* Classify one raw line: sections are handled here; key lines pass to inih;
 * malformed lines are reported and hidden from inih. Returns false to hide. */
static bool classify_line(struct conf_parser *p, char *raw)
{
	char *s = trim(raw), *end;

	if (!*s || *s == '#' || *s == ';')
		return true;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end) {
			perr(p, "section header without ']'");
			p->kind = SECT_BAD;
			return false;
		}
		char *rest = trim(end + 1);
		if (*rest && *rest != '#' && *rest != ';') {
			perr(p, "text after section header: '%s'", rest);
			p->kind = SECT_BAD;
			return false;
		}
		*end = '\0';
		begin_section(p, trim(s + 1));
		return true;
	}
	if (!strchr(s, '=')) {
		perr(p, "expected 'key = value' or '[section]'");
		return false;
	}
	if (is_include(s)) {
		include_files(p, s);
		return false;
	}
	return true;
}

static char *read_line(char *str, int num, void *stream)
{
	struct conf_parser *p = stream;
	char why[PATH_MAX + 100];
	ssize_t n = confread_next(&p->in, &p->buf, &p->bufcap, why, sizeof(why));

	if (n == -2) { /* a file an include matched cannot be read */
		perr(p, "%s", why);
		n = 0;
		p->buf[0] = '\0';
	}
	if (n < 0)
		return NULL;
	p->line = p->in.gline;
	if (p->in.switched)
		end_section(p); /* a file's sections end with it */
	str[0] = '\n';
	str[1] = '\0';
	if ((size_t)n != strlen(p->buf)) {
		perr(p, "line contains a NUL byte");
		return str;
	}
	if (n >= MAX_LINE || n >= num - 1) {
		perr(p, "line longer than %d bytes", MAX_LINE);
		return str;
	}
	char *copy = xstrdup(p->buf);
	if (classify_line(p, copy))
		memcpy(str, p->buf, (size_t)n + 1);
	free(copy);
	return str;
}

static bool seen_before(struct conf_parser *p, const char *key)
{
	char where[PATH_MAX + 16];
	for (size_t i = 0; i < p->nseen; i++) {
		if (strcmp(p->seen[i].name, key) == 0) {
			perr(p, "[%s] key '%s' repeated (first at %s)", sect_name(p), key,
			     conf_at(p, p->seen[i].line, where, sizeof(where)));
			return true;
		}
	}
	if (p->nseen < MAX_SEEN) {
		snprintf(p->seen[p->nseen].name, sizeof(p->seen[p->nseen].name), "%s", key);
		p->seen[p->nseen].line = p->line;
		p->nseen++;
	}
	return false;
}

/* A key of a vdir that is not a vdir key is its module's, checked once the
 * module is loaded (check_module_keys()). */
static void vdir_module_key(struct conf_parser *p, const char *key, const char *value)
{
	struct vdir_conf *v = p->vdir;

	if (!str_is_token(key)) {
		perr(p, "[vdir %s] '%s' is not a key name", v->path, key);
		return;
	}
	v->keys = xreallocarray(v->keys, v->nkeys + 1, sizeof(*v->keys));
	v->keys[v->nkeys].name = xstrdup(key);
	v->keys[v->nkeys].value = xstrdup(value);
	v->keys[v->nkeys].line = p->line;
	v->nkeys++;
}

/* A key line of the current section: by its table, else a module's key in
 * a vdir, else unknown. */
static void set_key(struct conf_parser *p, const char *name, const char *value)
{
	struct conf_set s = { .p = p, .value = value, .line = p->line };
	const struct conf_key *keys = sect_keys(p, &s.base);

	s.k = conf_key_find(keys, name);
	if (!(s.k && (s.k->flags & CONF_REPEAT)) && seen_before(p, name))
		return; /* reported */
	s.sect = sect_name(p);
	if (s.k)
		conf_key_set(&s);
	else if (p->kind == SECT_VDIR)
		vdir_module_key(p, name, value);
	else
		perr(p, "[%s] unknown key '%s'", s.sect, name);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parser *p = user;

	(void)section; /* we track sections ourselves, see classify_line() */
	if (p->kind == SECT_NONE) {
		perr(p, "key '%s' outside of any section", name);
	} else if (p->kind == SECT_BAD) {
		/* already reported at the section header */
	} else if (strlen(name) >= sizeof(p->seen[0].name)) {
		perr(p, "[%s] key '%.40s...' is too long", sect_name(p), name);
	} else {
		set_key(p, name, value);
	}
	return 1;
}

/* ---------------------------------------------------------------- resolution */

/* Every [server] key that has a default, from the table; control_socket's
 * (runtime_dir/control) waits for runtime_dir, in resolve_server(). */
static void server_defaults(struct conf_parser *p)
{
	conf_defaults(p, conf_sections[0].keys, &p->c->server, "server");
}

static void resolve_listen(struct conf_parser *p)
{
	struct server_conf *s = &p->c->server;

	for (size_t i = 0; i < s->nlisten; i++) {
		struct listen_conf *l = &s->listen[i];
		if (l->proxy && s->proxy_protocol_from.n == 0)
			cerr(p, l->line,
				   "[server] listen: '%s' reads a PROXY header: set proxy_protocol_from "
				   "(who may send one), or every connection is refused", l->text);
		if (!l->tls)
			continue;
		if (!s->tls_cert || !s->tls_key) {
			cerr(p, l->line,
				   "[server] listen: '%s' is a tls listener: set tls_cert and tls_key",
				   l->text);
			continue;
		}
		const char *files[] = { s->tls_cert, s->tls_key };
		for (size_t k = 0; k < 2; k++) {
			FILE *f = fopen(files[k], "r");
			if (!f)
				cerr(p, l->line, "[server] %s %s: %s",
					   k ? "tls_key" : "tls_cert", files[k], strerror(errno));
			else
				fclose(f);
		}
	}
}

/* Look a user up; `group` (may be NULL) overrides the user's primary
 * group.  Problems are reported at the line of the key concerned. */
static int lookup_identity(struct conf_parser *p, int user_line, int group_line, const char *what,
			   const char *user, const char *group, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr;

	if (!pw) {
		cerr(p, user_line, "%s user: no such user '%s'", what, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		cerr(p, user_line, "%s user: '%s' is root: only the supervisor "
			   "may hold root", what, user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group) {
		gr = getgrnam(group);
		if (!gr) {
			cerr(p, group_line, "%s group: no such group '%s'", what,
				   group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	if (*gid == 0) {
		cerr(p, group ? group_line : user_line,
			   "%s group: '%s' is gid 0: only the supervisor may hold root", what,
			   group ? group : user);
		return -1;
	}
	return 0;
}

static bool is_loopback(const struct sockaddr_storage *a)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;

	if (a->ss_family == AF_INET)
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
		return true;
	return memcmp(in6->sin6_addr.s6_addr, v4mapped, 12) == 0 &&
	       in6->sin6_addr.s6_addr[12] == 127;
}

/* The metrics endpoint has no authentication: by default it may only
 * listen on loopback, and never on the address of a [server] listen. */
static void resolve_admin(struct conf_parser *p)
{
	struct server_conf *s = &p->c->server;
	const struct listen_conf *a = &s->admin_listen;

	if (!a->addrlen)
		return;
	if (!is_loopback(&a->addr) && !s->admin_allow_remote)
		cerr(p, a->line,
			   "[server] admin_listen: '%s' is not a loopback address, and the "
			   "metrics endpoint has no authentication; set admin_allow_remote = true "
			   "to serve it there anyway (behind a firewall)", a->text);
	for (size_t i = 0; i < s->nlisten; i++)
		if (s->listen[i].addrlen == a->addrlen &&
		    memcmp(&s->listen[i].addr, &a->addr, a->addrlen) == 0)
			cerr(p, a->line,
				   "[server] admin_listen: '%s' is also a listen address (line %d)",
				   a->text, s->listen[i].line);
}

/* impersonate_groups: names of groups below min_gid (or above max_gid)
 * that impersonation may use.  The default, "users", is skipped where no
 * such group exists; a name written in the file must exist. */
static void resolve_impersonate_groups(struct conf_parser *p)
{
	struct server_conf *s = &p->c->server;
	char *copy = xstrdup(s->impersonate_groups), *save = NULL;
	int line = s->impersonate_groups_line;

	for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		struct group gr, *res = NULL;
		char buf[16384];
		if (getgrnam_r(t, &gr, buf, sizeof(buf), &res) != 0 || !res) {
			if (line)
				cerr(p, line,
					   "[server] impersonate_groups: no group '%s'", t);
		} else if (gr.gr_gid == 0) {
			cerr(p, line,
				   "[server] impersonate_groups: '%s' is gid 0: never impersonated", t);
		} else if (s->ids.nextra == IDPOL_MAX_EXTRA) {
			cerr(p, line,
				   "[server] impersonate_groups: more than %d groups", IDPOL_MAX_EXTRA);
			break;
		} else {
			s->ids.extra_gids[s->ids.nextra++] = gr.gr_gid;
		}
	}
	free(copy);
}

static void resolve_ids(struct conf_parser *p)
{
	struct id_policy *ids = &p->c->server.ids;
	struct server_conf *s = &p->c->server;

	/* 0: not in the file (the least a file may give is 1) */
	if (!ids->min_gid)
		ids->min_gid = ids->min_uid;
	if (!ids->max_gid)
		ids->max_gid = ids->max_uid;
	if (ids->min_uid > ids->max_uid)
		cerr(p, s->uid_line,
			   "[server] min_uid %u is above max_uid %u: nobody could be impersonated",
			   ids->min_uid, ids->max_uid);
	if (ids->min_gid > ids->max_gid)
		cerr(p, s->gid_line ? s->gid_line : s->uid_line,
			   "[server] min_gid %u is above max_gid %u: no group could be used",
			   ids->min_gid, ids->max_gid);
	resolve_impersonate_groups(p);
}

/* The authenticator's user holds the acceptor keys: never the front
 * end's (the process the network reaches), which could then read them. */
static void authenticator_identity(struct conf_parser *p)
{
	struct server_conf *s = &p->c->server;

	if (lookup_identity(p, s->line_of_auth_user, 0, "[server] authenticator", s->auth_user,
			    NULL, &s->auth_uid, &s->auth_gid) == 0 && s->auth_uid == s->uid)
		cerr(p, s->line_of_auth_user ? s->line_of_auth_user : s->line_of_user,
		     "[server] authenticator_user: '%s' is also the front end's user: the process "
		     "the network reaches could read the acceptor keys; give the authenticator "
		     "a user of its own", s->auth_user);
}

static void resolve_server(struct conf_parser *p)
{
	struct server_conf *s = &p->c->server;
	struct stat st;

	resolve_listen(p);
	resolve_admin(p);
	resolve_ids(p);
	s->ccache_dir = xasprintf("%s/ccache", s->runtime_dir);
	if (!s->control_socket)
		s->control_socket = xasprintf("%s/control", s->runtime_dir);
	lookup_identity(p, s->line_of_user, 0, "[server]", s->user, NULL, &s->uid, &s->gid);
	authenticator_identity(p);
	if (*s->pam_service) {
		char *pam = xasprintf("/etc/pam.d/%s", s->pam_service);
		if (stat(pam, &st) < 0)
			cwarn(p, 0,
				     "[server] pam_service '%s': %s: %s (PAM uses 'other')",
				     s->pam_service, pam, strerror(errno));
		free(pam);
	}
}

/* A pool's user (default idgate-pool) and group; never the front end's
 * user, whose processes its handlers could then signal. */
static void pool_identity(struct conf_parser *p, struct pool_conf *pool)
{
	int line = pool->user_line ? pool->user_line : pool->line;
	char what[96];

	snprintf(what, sizeof(what), "[pool %s]", pool->name);
	if (lookup_identity(p, line, pool->group_line, what, pool->user, pool->group, &pool->uid,
			    &pool->gid) == 0 && pool->uid == p->c->server.uid)
		cerr(p, line,
			   "%s user: '%s' is also the front end's ([server] user): its handlers "
			   "could signal the front end; give the pool a user of its own",
			   what, pool->user);
	else if (pool->uid == p->c->server.auth_uid)
		cerr(p, line,
			   "%s user: '%s' is also the authenticator's ([server] authenticator_user): "
			   "its handlers could read the acceptor keys; give the pool a user of its own",
			   what, pool->user);
}

static void resolve_pools(struct conf_parser *p)
{
	struct config *c = p->c;

	for (size_t i = 0; i < c->npools; i++)
		pool_identity(p, &c->pools[i]);
}

/* TLS of our own, or a proxy listener: the TLS a trusted proxy
 * terminated (its PROXY header's SSL TLV) counts too. */
static bool tls_listener_exists(const struct server_conf *s)
{
	for (size_t i = 0; i < s->nlisten; i++)
		if (s->listen[i].tls || s->listen[i].proxy)
			return true;
	return false;
}

static void check_vdir_auth(struct conf_parser *p, struct vdir_conf *v)
{
	int line = v->auth_line ? v->auth_line : v->line;

	if (v->auth == 0) {
		if (v->require_line)
			cerr(p, v->require_line,
				   "[vdir %s] require: needs authentication, but auth = anonymous",
				   v->path);
		if (v->impersonate != IMPERSONATE_FALSE)
			cerr(p, v->impersonate_line,
				   "[vdir %s] impersonate = %s: an anonymous caller cannot be "
				   "impersonated (auth = anonymous)", v->path,
				   impersonate_name(v->impersonate));
	}
	if (v->delegation == DELEGATION_STORE && !(v->auth & AUTH_NEGOTIATE))
		cerr(p, v->delegation_line,
			   "[vdir %s] delegation = store: credentials are delegated only by "
			   "Negotiate, but auth does not offer it", v->path);
	else if (v->delegation == DELEGATION_STORE && v->impersonate == IMPERSONATE_FALSE)
		cerr(p, v->delegation_line,
			   "[vdir %s] delegation = store needs impersonate = true or allowed: "
			   "delegated credentials are stored in a cache owned by the caller, "
			   "for a handler that runs as the caller", v->path);
	if ((v->auth & AUTH_BASIC) && !tls_listener_exists(&p->c->server))
		cerr(p, line,
			   "[vdir %s] auth: basic sends passwords, so it needs a tls listener "
			   "(or a proxy listener behind a proxy that terminates TLS)",
			   v->path);
	if (v->require == REQUIRE_GROUP) {
		size_t n = str_list_len(v->require_names);
		v->require_gids = xcalloc(n, sizeof(gid_t));
		for (size_t i = 0; i < n; i++) {
			struct group *gr = getgrnam(v->require_names[i]);
			if (!gr)
				cerr(p, v->require_line,
					   "[vdir %s] require: no such group '%s'", v->path,
					   v->require_names[i]);
			else
				v->require_gids[i] = gr->gr_gid;
		}
	}
}

/* session = cookie: a vdir that authenticates, whose requests need no
 * delegated credentials (a cookie never carries any), with a path that
 * can be a cookie's Path, and a key file to seal with. */
static void check_vdir_session(struct conf_parser *p, struct vdir_conf *v)
{
	const struct server_conf *s = &p->c->server;

	if (!v->session) {
		if (v->session_other_line)
			cwarn(p, v->session_other_line, "[vdir %s] session_*: no effect without "
			      "session = cookie", v->path);
		return;
	}
	if (v->auth == 0)
		cerr(p, v->session_line, "[vdir %s] session = cookie: auth = anonymous "
		     "authenticates nobody to remember", v->path);
	if (v->delegation == DELEGATION_STORE)
		cerr(p, v->session_line, "[vdir %s] session = cookie cannot serve delegation = "
		     "store: a cookie never carries delegated credentials, and the handler would "
		     "run without them", v->path);
	if (!*s->session_key_file)
		cerr(p, v->session_line, "[vdir %s] session = cookie needs [server] "
		     "session_key_file, the keys that seal cookies", v->path);
	for (const char *c = v->path; *c; c++)
		if (*c == ';' || *c < 0x21 || *c > 0x7e) {
			cerr(p, v->session_line, "[vdir %s] session = cookie: the path cannot be a "
			     "cookie's Path (a ';' or a byte that is not visible ASCII)", v->path);
			break;
		}
	if (v->samesite == SAMESITE_NONE && !tls_listener_exists(s))
		cwarn(p, v->session_other_line, "[vdir %s] session_samesite = None: browsers "
		      "refuse it without Secure, which is set on tls listeners only", v->path);
}

/* Pools first (an implicit [pool default] may be added, which moves the
 * pools array), then the vdirs' pointers into it. */
static void resolve_vdir_pools(struct conf_parser *p)
{
	struct config *c = p->c;

	for (size_t i = 0; i < c->nvdirs; i++) {
		struct vdir_conf *v = &c->vdirs[i];
		if (!config_pool(c, v->pool_name) && strcmp(v->pool_name, "default") == 0) {
			/* an implicit [pool default], as IIS's DefaultAppPool */
			pool_identity(p, add_pool(p, "default", 0));
		}
	}
	for (size_t i = 0; i < c->nvdirs; i++) {
		struct vdir_conf *v = &c->vdirs[i];
		v->pool = config_pool(c, v->pool_name);
		if (!v->pool)
			cerr(p, v->pool_line ? v->pool_line : v->line,
				   "[vdir %s] pool: no [pool %s] section", v->path, v->pool_name);
		else if (v->impersonate != IMPERSONATE_FALSE)
			v->pool->impersonates = true;
	}
}

/* ---------------------------------------------------------------- modules */

static int validate_typed(enum idg_key_type type, const char *value, const char **why)
{
	uint64_t u;
	bool b;

	switch (type) {
	case IDG_KEY_STRING:
		*why = "a value is required";
		return *value ? 0 : -1;
	case IDG_KEY_PATH:
		*why = "must be an absolute path";
		return value[0] == '/' ? 0 : -1;
	case IDG_KEY_BOOL:
		return parse_bool(value, &b, why);
	case IDG_KEY_UINT:
		return parse_uint(value, UINT64_MAX, &u, why);
	case IDG_KEY_SIZE:
		return parse_size(value, &u, why);
	case IDG_KEY_DURATION:
		return parse_duration_ms(value, &u, why);
	case IDG_KEY_NAME:
		*why = "expected letters, digits, '.', '_' or '-'";
		return str_is_token(value) ? 0 : -1;
	}
	*why = "unknown key type in module";
	return -1;
}

static void check_module_keys(struct conf_parser *p, struct vdir_conf *v)
{
	const struct module *m = v->module;
	const char *why;

	for (size_t i = 0; i < v->nkeys; i++) {
		const struct idg_key *k = module_key(m, v->keys[i].name);
		if (!k) {
			cerr(p, v->keys[i].line,
				   "[vdir %s] unknown key '%s' (not a vdir key, nor one of "
				   "handler '%s')", v->path, v->keys[i].name, m->name);
			continue;
		}
		if (validate_typed(k->type, v->keys[i].value, &why) < 0)
			cerr(p, v->keys[i].line,
				   "[vdir %s] handler '%s': %s: '%s': %s", v->path, m->name,
				   k->name, v->keys[i].value, why);
	}
	for (const struct idg_key *k = m->desc->keys; k->name; k++) {
		if ((k->flags & IDG_KEY_REQUIRED) && !vdir_key(v, k->name))
			cerr(p, v->line,
				   "[vdir %s] handler '%s' needs key '%s' (%s)", v->path, m->name,
				   k->name, k->help ? k->help : "required");
	}
}

/* WCF's rule, checked when the service loads: the vdir and its module must
 * agree on impersonation, or nothing starts. */
static void check_impersonation_option(struct conf_parser *p, struct vdir_conf *v)
{
	enum idg_impersonation opt = v->module->desc->impersonation;
	int line = v->impersonate_line ? v->impersonate_line : v->line;

	if (opt == IDG_IMPERSONATION_NOT_ALLOWED && v->impersonate != IMPERSONATE_FALSE)
		cerr(p, line,
			   "[vdir %s] impersonate = %s, but handler '%s' is not_allowed to "
			   "impersonate: set impersonate = false", v->path,
			   impersonate_name(v->impersonate), v->module->name);
	if (opt == IDG_IMPERSONATION_REQUIRED && v->impersonate == IMPERSONATE_FALSE)
		cerr(p, line,
			   "[vdir %s] impersonate = false, but handler '%s' requires "
			   "impersonation: set impersonate = true", v->path, v->module->name);
}

static struct module *find_or_load_module(struct conf_parser *p, struct vdir_conf *v)
{
	struct config *c = p->c;
	char err[512];
	struct module *m;

	for (size_t i = 0; i < c->nmodules; i++)
		if (strcmp(c->modules[i]->name, v->handler) == 0)
			return c->modules[i];
	m = module_load(c->server.modules_dir, v->handler, err, sizeof(err));
	if (!m) {
		cerr(p, v->handler_line ? v->handler_line : v->line,
			   "[vdir %s] handler '%s': %s", v->path, v->handler, err);
		return NULL;
	}
	c->modules = xreallocarray(c->modules, c->nmodules + 1, sizeof(*c->modules));
	c->modules[c->nmodules++] = m;
	return m;
}

static void resolve_vdirs(struct conf_parser *p, bool load_modules)
{
	struct config *c = p->c;

	resolve_vdir_pools(p);
	for (size_t i = 0; i < c->nvdirs; i++) {
		struct vdir_conf *v = &c->vdirs[i];
		check_vdir_auth(p, v);
		check_vdir_session(p, v);
		if (!load_modules)
			continue;
		v->module = find_or_load_module(p, v);
		if (!v->module)
			continue;
		check_module_keys(p, v);
		check_impersonation_option(p, v);
	}
}

static int vdir_cmp(const void *a, const void *b)
{
	const struct vdir_conf *x = a, *y = b;

	if (x->path_len != y->path_len)
		return x->path_len > y->path_len ? -1 : 1;
	return strcmp(x->path, y->path);
}

static void sort_vdirs(struct config *c)
{
	if (c->nvdirs > 1)
		qsort(c->vdirs, c->nvdirs, sizeof(*c->vdirs), vdir_cmp);
	for (size_t i = 0; i < c->nvdirs; i++)
		c->vdirs[i].index = (unsigned)i;
}

/* ---------------------------------------------------------------- entry */

/* "user:group" of a file, by name where NSS knows them */
static const char *owner_name(uid_t uid, gid_t gid)
{
	static char buf[160];
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	snprintf(g, sizeof(g), "%u", (unsigned)gid);
	snprintf(buf, sizeof(buf), "%s:%s", pw ? pw->pw_name : u, gr ? gr->gr_name : g);
	return buf;
}

/* The keytab's file name: [server] keytab, else krb5's default (krb5.conf,
 * KRB5_KTNAME).  NULL for a keytab that is not a file (MEMORY:, ...). */
static char *keytab_file(const char *name)
{
	char dflt[PATH_MAX + 16] = "";
	krb5_context k;

	if (!*name && krb5_init_context(&k) == 0) {
		krb5_kt_default_name(k, dflt, sizeof(dflt));
		krb5_free_context(k);
		name = dflt;
	}
	if (str_has_prefix(name, "FILE:"))
		return xstrdup(name + 5);
	if (str_has_prefix(name, "WRFILE:"))
		return xstrdup(name + 7);
	return name[0] == '/' ? xstrdup(name) : NULL;
}

/* Negotiate needs the keytab, read as root before the front end drops its
 * privileges: one that cannot be opened now is an error, said with the
 * file's owner and mode, not a front end that dies at start. */
static void check_keytab(struct conf_parser *p)
{
	struct server_conf *s = &p->c->server;
	char *file = NULL, how[256] = "";
	bool used = false;
	struct stat st;
	int fd;

	for (size_t i = 0; i < p->c->nvdirs; i++)
		used = used || (p->c->vdirs[i].auth & AUTH_NEGOTIATE);
	if (!used || !(file = keytab_file(s->keytab)))
		return;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		free(file);
		return;
	}
	int e = errno;
	if (stat(file, &st) == 0)
		snprintf(how, sizeof(how), " (owner %s, mode %04o; idgated reads it as %s)",
			 owner_name(st.st_uid, st.st_gid), (unsigned)(st.st_mode & 07777),
			 geteuid() == 0 ? "root" : "the user it runs as");
	cerr(p, s->keytab_line, "[server] keytab %s: %s%s", file, strerror(e), how);
	free(file);
}

/* The session keys are read as root before the front end drops its
 * privileges, like the keytab: a file that is missing, malformed or that
 * others may read is an error now. */
static void check_session_keys(struct conf_parser *p)
{
	const struct server_conf *s = &p->c->server;
	struct session_keys *k;
	char why[512];
	bool used = false;

	for (size_t i = 0; i < p->c->nvdirs; i++)
		used = used || p->c->vdirs[i].session;
	if (!used || !*s->session_key_file)
		return;
	k = session_keys_load(s->session_key_file, why, sizeof(why));
	if (!k)
		cerr(p, s->session_key_file_line, "[server] session_key_file %s: %s",
		     s->session_key_file, why);
	session_keys_free(k);
}

/* A handler that runs as the caller must be able to reach its delegated
 * credentials below runtime_dir/ccache: as a caller, not as root. */
static void check_runtime_dir(struct conf_parser *p)
{
	struct server_conf *s = &p->c->server;
	char err[PATH_MAX + 200];
	bool imp = false;

	for (size_t i = 0; i < p->c->npools; i++)
		imp = imp || p->c->pools[i].impersonates;
	if (imp && rundir_check_searchable(s->ccache_dir, true, err, sizeof(err)) < 0)
		cerr(p, s->runtime_dir_line, "[server] %s", err);
}

static struct config *parse(struct conf_parser *p, bool load_modules)
{
	struct config *c = p->c;
	size_t before = p->d->nerrors;
	int rc;

	ini_allow_multiline = false;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = ";#";
	ini_start_comment_prefixes = ";#";
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = MAX_LINE + 2;
	ini_initial_alloc = MAX_LINE + 2;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;

	c->file = xstrdup(p->file);
	server_defaults(p);
	rc = ini_parse_stream(read_line, p, on_key, p);
	if (rc < 0) {
		cerr(p, 0, "cannot read: %s", strerror(errno));
	} else if (rc > 0 && p->d->nerrors == before) {
		/* a line inih refused that our reader let through */
		cerr(p, rc, "syntax error");
	}
	resolve_server(p);
	resolve_pools(p);
	resolve_vdirs(p, load_modules);
	check_runtime_dir(p);
	check_keytab(p);
	check_session_keys(p);
	if (c->nvdirs == 0)
		cwarn(p, 0, "no [vdir] section: every request gets 404");
	sort_vdirs(c);
	free(p->buf);
	confread_close(&p->in);
	if (p->d->nerrors > before) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *config_load(const char *file, struct diag *d, bool load_modules)
{
	struct conf_parser p = { .d = d, .file = file };
	struct stat st;

	if (stat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
		diag_error(d, file, 0, "not a regular file");
		return NULL;
	}
	p.c = xcalloc(1, sizeof(*p.c));
	if (confread_open_file(&p.in, &p.c->src, file) < 0) {
		diag_error(d, file, 0, "cannot open: %s", strerror(errno));
		confread_close(&p.in);
		conf_sources_free(&p.c->src);
		free(p.c);
		return NULL;
	}
	return parse(&p, load_modules);
}

struct config *config_load_string(const char *name, const char *text, struct diag *d,
				  bool load_modules)
{
	struct conf_parser p = { .d = d, .file = name };

	p.c = xcalloc(1, sizeof(*p.c));
	confread_open_text(&p.in, &p.c->src, name, text);
	return parse(&p, load_modules);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	conf_sources_free(&c->src);
	struct server_conf *s = &c->server;
	for (size_t i = 0; i < s->nlisten; i++)
		free(s->listen[i].text);
	free(s->listen);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->keytab);
	free(s->acceptor);
	free(s->pam_service);
	free(s->session_key_file);
	free(s->user);
	free(s->auth_user);
	free(s->audit_log);
	free(s->access_log);
	free(s->tls_priorities);
	free(s->impersonate_groups);
	free(s->modules_dir);
	free(s->control_socket);
	free(s->runtime_dir);
	free(s->replay_cache_dir);
	netlist_free(&s->trusted_proxies);
	netlist_free(&s->proxy_protocol_from);
	free(s->ccache_dir);
	free(s->admin_listen.text);
	for (size_t i = 0; i < c->npools; i++) {
		free(c->pools[i].name);
		free(c->pools[i].user);
		free(c->pools[i].group);
	}
	free(c->pools);
	for (size_t i = 0; i < c->nvdirs; i++) {
		struct vdir_conf *v = &c->vdirs[i];
		free(v->path);
		free(v->pool_name);
		free(v->handler);
		free(v->s4u_target);
		free(v->session_cookie);
		str_free_list(v->require_names);
		free(v->require_gids);
		for (size_t k = 0; k < v->nkeys; k++) {
			free(v->keys[k].name);
			free(v->keys[k].value);
		}
		free(v->keys);
	}
	free(c->vdirs);
	for (size_t i = 0; i < c->nmodules; i++)
		module_unload(c->modules[i]);
	free(c->modules);
	free(c->file);
	free(c);
}

void config_error(const struct config *c, struct diag *d, int line, const char *fmt, ...)
{
	const char *file;
	int local;
	va_list ap;

	conf_where(&c->src, line, &file, &local);
	va_start(ap, fmt);
	diag_verror(d, file, local, fmt, ap);
	va_end(ap);
}

struct pool_conf *config_pool(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->npools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

/* A module key's value as written, else the module's default. */
const char *vdir_key(const struct vdir_conf *v, const char *name)
{
	for (size_t i = 0; i < v->nkeys; i++)
		if (strcmp(v->keys[i].name, name) == 0)
			return v->keys[i].value;
	if (v->module) {
		const struct idg_key *k = module_key(v->module, name);
		if (k)
			return k->default_value;
	}
	return NULL;
}

const char *samesite_name(enum samesite s)
{
	return s == SAMESITE_STRICT ? "Strict" : s == SAMESITE_NONE ? "None" : "Lax";
}

const char *impersonate_name(enum impersonate_mode m)
{
	switch (m) {
	case IMPERSONATE_FALSE: return "false";
	case IMPERSONATE_TRUE: return "true";
	case IMPERSONATE_ALLOWED: return "allowed";
	}
	return "?";
}

unsigned config_loops(const struct config *c)
{
	long n = c->server.threads ? (long)c->server.threads : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (unsigned)n;
}

int config_loop_cpu(const struct config *c, unsigned loop)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!c->server.cpu_affinity || ncpu < 2)
		return -1;
	return (int)(loop % (unsigned)ncpu);
}
