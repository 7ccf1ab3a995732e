/* confkeys.c -- the keys of [server], [pool] and [vdir] as tables, and the
 * parsers of their values.  A key's default is text parsed by the same
 * setter as a value of the file, so the tables are the whole truth about
 * defaults: idgated -k prints them, t-man-keys compares them with
 * idgate.conf(5), test_config parses every one. */
#include "confkeys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "session.h"
#include "units.h"
#include "util.h"

#ifndef IDGATE_MODULES_DIR
#define IDGATE_MODULES_DIR "/usr/lib/idgate/modules"
#endif
#ifndef IDGATE_AUDIT_LOG
#define IDGATE_AUDIT_LOG "/var/log/idgate/audit.jsonl"
#endif
#ifndef IDGATE_RUN_DIR
#define IDGATE_RUN_DIR "/run/idgate"
#endif

/* ---------------------------------------------------------------- plain kinds */

static void *field(const struct conf_set *s)
{
	return (char *)s->base + s->k->off;
}

static int bad_value(const struct conf_set *s, const char *why)
{
	conf_error(s->p, s->line, "[%s] %s: '%s': %s", s->sect, s->k->name, s->value, why);
	return -1;
}

/* bool, unsigned, an enum or uint64_t: as large as the field is */
static void store_number(const struct conf_set *s, uint64_t v)
{
	void *f = field(s);

	if (s->k->size == sizeof(bool))
		*(bool *)f = v != 0;
	else if (s->k->size == sizeof(unsigned))
		*(unsigned *)f = (unsigned)v;
	else
		*(uint64_t *)f = v;
}

static int set_string(const struct conf_set *s)
{
	char **out = field(s);

	if (!*s->value && !(s->k->flags & CONF_EMPTY))
		return bad_value(s, "a value is required");
	free(*out);
	*out = xstrdup(s->value);
	return 0;
}

static int set_path(const struct conf_set *s)
{
	char why[64];

	if (s->k->max && strlen(s->value) > s->k->max) {
		/* a socket's path beneath it must fit sun_path */
		snprintf(why, sizeof(why), "longer than %llu bytes", (unsigned long long)s->k->max);
		return bad_value(s, why);
	}
	if (*s->value && s->value[0] != '/')
		return bad_value(s, "must be an absolute path");
	return set_string(s);
}

/* A log file: an absolute path, "-" (standard error: the journal) or
 * empty (none). */
static int set_log(const struct conf_set *s)
{
	if (*s->value && strcmp(s->value, "-") != 0 && s->value[0] != '/')
		return bad_value(s, "must be an absolute path, '-' or empty");
	return set_string(s);
}

static int set_name(const struct conf_set *s)
{
	if ((*s->value || !(s->k->flags & CONF_EMPTY)) && !str_is_token(s->value))
		return bad_value(s, s->k->bad);
	return set_string(s);
}

static int set_bool(const struct conf_set *s)
{
	const char *why;
	bool b;

	if (parse_bool(s->value, &b, &why) < 0)
		return bad_value(s, why);
	store_number(s, b);
	return 0;
}

static int set_uint(const struct conf_set *s)
{
	uint64_t v;
	const char *why;
	char range[80];

	if (parse_uint(s->value, UINT32_MAX, &v, &why) < 0)
		return bad_value(s, why);
	if (v < s->k->min || v > s->k->max) {
		snprintf(range, sizeof(range), "must be between %llu and %llu",
			 (unsigned long long)s->k->min, (unsigned long long)s->k->max);
		return bad_value(s, range);
	}
	store_number(s, v);
	return 0;
}

static int set_size(const struct conf_set *s)
{
	const char *why;
	uint64_t v;

	if (parse_size(s->value, &v, &why) < 0)
		return bad_value(s, why);
	if (v < s->k->min || v > s->k->max)
		return bad_value(s, "size out of range");
	store_number(s, v);
	return 0;
}

static int set_duration(const struct conf_set *s)
{
	const char *why;
	uint64_t ms;

	if (parse_duration_ms(s->value, &ms, &why) < 0)
		return bad_value(s, why);
	store_number(s, ms);
	return 0;
}

/* "expected A, B or C" */
static void expected_words(const struct conf_word *w, char *buf, size_t len)
{
	size_t n = 0, used;

	while (w[n].word)
		n++;
	used = (size_t)snprintf(buf, len, "expected");
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i == 0 ? " " : i + 1 == n ? " or " : ", ", w[i].word);
}

static int set_enum(const struct conf_set *s)
{
	bool anycase = s->k->flags & CONF_ANYCASE;
	char why[160];

	for (const struct conf_word *w = s->k->words; w->word; w++) {
		if ((anycase ? strcasecmp : strcmp)(s->value, w->word) == 0) {
			store_number(s, (uint64_t)w->value);
			return 0;
		}
	}
	expected_words(s->k->words, why, sizeof(why));
	return bad_value(s, why);
}

static int set_custom(const struct conf_set *s)
{
	return s->k->set(s);
}

static const struct {
	const char *name;
	conf_setter set;
} kinds[CONF_NKINDS] = {
	[CONF_STRING] = { "string", set_string },
	[CONF_PATH] = { "path", set_path },
	[CONF_LOG] = { "path|-", set_log },
	[CONF_NAME] = { "name", set_name },
	[CONF_LIST] = { "list", set_string },
	[CONF_BOOL] = { "bool", set_bool },
	[CONF_UINT] = { "uint", set_uint },
	[CONF_SIZE] = { "size", set_size },
	[CONF_DURATION] = { "duration", set_duration },
	[CONF_ENUM] = { "enum", set_enum },
	[CONF_CUSTOM] = { NULL, set_custom },
};

/* ---------------------------------------------------------------- listeners */

static int split_port(char *addr, char **port, const char **why)
{
	char *end;

	if (addr[0] == '[') {
		end = strchr(addr, ']');
		if (!end || end[1] != ':') {
			*why = "IPv6 address must be written [ADDRESS]:PORT";
			return -1;
		}
		*end = '\0';
		*port = end + 2;
		return 1; /* the address starts after the '[' */
	}
	*port = strrchr(addr, ':');
	if (!*port) {
		*why = "expected ADDRESS:PORT";
		return -1;
	}
	*(*port)++ = '\0';
	if (strchr(addr, ':')) {
		*why = "IPv6 address must be written [ADDRESS]:PORT";
		return -1;
	}
	return 0;
}

static int set_sockaddr(struct listen_conf *l, const char *addr, unsigned long port,
			const char **why)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;

	if (strcmp(addr, "*") == 0)
		addr = "0.0.0.0";
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		l->addrlen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		l->addrlen = sizeof(*in6);
	} else {
		*why = "not an IP address (use an IPv4 address, [IPv6] or *)";
		return -1;
	}
	return 0;
}

/* The words after the address: "tls", "proxy", each once, in any order. */
static int parse_listen_flags(char *flags, struct listen_conf *l, const char **why)
{
	char *save = NULL;

	for (char *w = strtok_r(flags, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		bool *flag = strcmp(w, "tls") == 0 ? &l->tls : strcmp(w, "proxy") == 0 ? &l->proxy
										: NULL;
		if (!flag || *flag) {
			*why = flag ? "'tls' or 'proxy' given twice"
				    : "expected ADDRESS:PORT optionally followed by 'tls' and 'proxy'";
			return -1;
		}
		*flag = true;
	}
	return 0;
}

/* "ADDR:PORT [tls] [proxy]" with ADDR an IPv4 literal, [IPv6], or '*'. */
static int parse_listen(const char *value, struct listen_conf *l, const char **why)
{
	char *copy = xstrdup(value), *addr = copy, *port, *flag, *end;
	int rc = -1, skip;
	unsigned long pn;

	memset(l, 0, sizeof(*l));
	flag = addr + strcspn(addr, " \t");
	if (*flag) {
		*flag++ = '\0';
		if (parse_listen_flags(flag, l, why) < 0)
			goto done;
	}
	if ((skip = split_port(addr, &port, why)) < 0)
		goto done;
	errno = 0;
	pn = strtoul(port, &end, 10);
	if (!*port || *end || errno || pn < 1 || pn > 65535 || port[0] == '+' || port[0] == '-') {
		*why = "port must be a number from 1 to 65535";
		goto done;
	}
	if (set_sockaddr(l, addr + skip, pn, why) < 0)
		goto done;
	l->text = xstrdup(value);
	rc = 0;
done:
	free(copy);
	return rc;
}

static void drop_listeners(struct server_conf *sc)
{
	for (size_t i = 0; i < sc->nlisten; i++)
		free(sc->listen[i].text);
	free(sc->listen);
	sc->listen = NULL;
	sc->nlisten = 0;
}

/* Repeatable.  The default is the listener of line 0: the file's first
 * listen replaces it. */
static int set_listen(const struct conf_set *s)
{
	char where[PATH_MAX + 16];
	struct server_conf *sc = s->base;
	struct listen_conf l;
	const char *why;

	if (parse_listen(s->value, &l, &why) < 0)
		return bad_value(s, why);
	if (s->line && sc->nlisten == 1 && sc->listen[0].line == 0)
		drop_listeners(sc);
	for (size_t i = 0; i < sc->nlisten; i++) {
		if (sc->listen[i].addrlen == l.addrlen &&
		    memcmp(&sc->listen[i].addr, &l.addr, l.addrlen) == 0) {
			free(l.text);
			conf_error(s->p, s->line, "[server] listen: '%s' repeated (first at %s)",
				   s->value, conf_at(s->p, sc->listen[i].line, where, sizeof(where)));
			return -1;
		}
	}
	l.line = s->line;
	sc->listen = xreallocarray(sc->listen, sc->nlisten + 1, sizeof(*sc->listen));
	sc->listen[sc->nlisten++] = l;
	return 0;
}

/* The metrics listener; where it may listen is checked in config.c's
 * resolve_admin(). */
static int set_admin_listen(const struct conf_set *s)
{
	struct listen_conf *a = &((struct server_conf *)s->base)->admin_listen;
	const char *why;

	free(a->text);
	memset(a, 0, sizeof(*a));
	if (!*s->value)
		return 0; /* off */
	if (parse_listen(s->value, a, &why) < 0)
		return bad_value(s, why);
	a->line = s->line;
	if (a->tls)
		return bad_value(s, "the admin listener has no tls: keep it on loopback");
	if (a->proxy)
		return bad_value(s, "the admin listener reads no PROXY header: keep it on loopback");
	return 0;
}

/* ---------------------------------------------------------------- other [server] values */

/* Checked with GnuTLS itself, so that a typo is a FILE:LINE error, not a
 * listener that fails at start. */
static int set_tls_priorities(const struct conf_set *s)
{
	gnutls_priority_t prio;
	const char *where = NULL;
	char why[160];

	if (gnutls_priority_init(&prio, s->value, &where) != GNUTLS_E_SUCCESS) {
		snprintf(why, sizeof(why), "GnuTLS refuses it at '%s'", where ? where : s->value);
		return bad_value(s, why);
	}
	gnutls_priority_deinit(prio);
	return set_string(s);
}

/* An address list (netmatch.h) replacing *l. */
static int set_netlist(const struct conf_set *s, struct netlist *l)
{
	const char *bad;
	char item[128];

	netlist_free(l);
	if (netlist_parse(s->value, l, &bad, item, sizeof(item)) < 0) {
		conf_error(s->p, s->line, "[%s] %s: '%s': %s", s->sect, s->k->name, item, bad);
		return -1;
	}
	return 0;
}

static int set_trusted_proxies(const struct conf_set *s)
{
	return set_netlist(s, &((struct server_conf *)s->base)->trusted_proxies);
}

static int set_proxy_protocol_from(const struct conf_set *s)
{
	return set_netlist(s, &((struct server_conf *)s->base)->proxy_protocol_from);
}

static int set_rapid_fail(const struct conf_set *s)
{
	struct pool_conf *pool = s->base;
	const char *why;

	if (parse_rapid_fail(s->value, &pool->rapid_fail_count, &pool->rapid_fail_window_ms,
			     &why) < 0)
		return bad_value(s, why);
	return 0;
}

/* ---------------------------------------------------------------- [vdir] values */

static int set_auth(const struct conf_set *s)
{
	static const char expected[] = "expected negotiate, anonymous or 'negotiate basic'";
	struct vdir_conf *v = s->base;
	char *copy = xstrdup(s->value), *save = NULL;
	unsigned bits = 0;
	bool anon = false;
	int rc = 0;

	for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		if (strcmp(t, "negotiate") == 0)
			bits |= AUTH_NEGOTIATE;
		else if (strcmp(t, "basic") == 0)
			bits |= AUTH_BASIC;
		else if (strcmp(t, "anonymous") == 0)
			anon = true;
		else
			rc = bad_value(s, expected);
	}
	if (rc == 0 && (anon == (bits != 0)))
		rc = bad_value(s, expected);
	v->auth = bits;
	free(copy);
	return rc;
}

/* "user NAME..." or "group NAME...": the names after the kind */
static int require_names(const struct conf_set *s, char **save)
{
	struct vdir_conf *v = s->base;
	size_t n = 0;

	str_free_list(v->require_names);
	v->require_names = NULL;
	for (char *t = strtok_r(NULL, " \t", save); t; t = strtok_r(NULL, " \t", save)) {
		v->require_names = xreallocarray(v->require_names, n + 2, sizeof(char *));
		v->require_names[n++] = xstrdup(t);
		v->require_names[n] = NULL;
	}
	return n ? 0 : bad_value(s, "name at least one user or group");
}

static int set_require(const struct conf_set *s)
{
	struct vdir_conf *v = s->base;
	char *copy = xstrdup(s->value), *save = NULL, *kind;
	int rc = 0;

	kind = strtok_r(copy, " \t", &save);
	if (kind && (strcmp(kind, "valid-user") == 0 || strcmp(kind, "anonymous-ok") == 0)) {
		v->require = kind[0] == 'v' ? REQUIRE_VALID_USER : REQUIRE_ANONYMOUS_OK;
		if (strtok_r(NULL, " \t", &save))
			rc = bad_value(s, kind[0] == 'v' ? "valid-user takes no names"
							 : "anonymous-ok takes no names");
	} else if (kind && (strcmp(kind, "user") == 0 || strcmp(kind, "group") == 0)) {
		v->require = kind[0] == 'u' ? REQUIRE_USER : REQUIRE_GROUP;
		rc = require_names(s, &save);
	} else {
		rc = bad_value(s, "expected valid-user, anonymous-ok, 'user NAME...' or "
				  "'group NAME...'");
	}
	free(copy);
	return rc;
}

static int set_session_lifetime(const struct conf_set *s)
{
	struct vdir_conf *v = s->base;
	const char *why;
	uint64_t ms;

	if (parse_duration_ms(s->value, &ms, &why) < 0)
		return bad_value(s, why);
	if (ms < 1000 || ms > 30ull * 24 * 3600 * 1000)
		return bad_value(s, "must be between 1s and 30 days");
	v->session_lifetime_s = ms / 1000;
	return 0;
}

static int set_session_cookie(const struct conf_set *s)
{
	if (!session_cookie_name_ok(s->value))
		return bad_value(s, "a cookie name is 1-64 letters, digits or !#$%&'*+-.^_`|~");
	return set_string(s);
}

/* ---------------------------------------------------------------- the tables */

#define FIELD(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define LINE(T, f) .line_at = offsetof(T, f) + 1
#define S(f) FIELD(struct server_conf, f)
#define SLINE(f) LINE(struct server_conf, f)
#define P(f) FIELD(struct pool_conf, f)
#define PLINE(f) LINE(struct pool_conf, f)
#define V(f) FIELD(struct vdir_conf, f)
#define VLINE(f) LINE(struct vdir_conf, f)
#define IDS_MAX (UINT32_MAX - 1) /* (uid_t)-1 means "unchanged" to setresuid */

static const struct conf_word audit_failure_words[] = {
	{ "refuse", true }, { "continue", false }, { NULL, 0 }
};
static const struct conf_word impersonate_words[] = {
	{ "false", IMPERSONATE_FALSE }, { "true", IMPERSONATE_TRUE },
	{ "allowed", IMPERSONATE_ALLOWED }, { NULL, 0 }
};
static const struct conf_word delegation_words[] = {
	{ "none", DELEGATION_NONE }, { "store", DELEGATION_STORE }, { NULL, 0 }
};
static const struct conf_word session_words[] = {
	{ "off", false }, { "cookie", true }, { NULL, 0 }
};
static const struct conf_word samesite_words[] = {
	{ "Lax", SAMESITE_LAX }, { "Strict", SAMESITE_STRICT }, { "None", SAMESITE_NONE },
	{ NULL, 0 }
};

/* In the order of idgate.conf(5). */
static const struct conf_key server_keys[] = {
	{ "listen", CONF_CUSTOM, CONF_REPEAT, .set = set_listen, .type = "address [tls] [proxy]",
	  .dflt = "127.0.0.1:8080",
	  .help = "where HTTP is served; tls: HTTPS (tls_cert, tls_key); proxy: PROXY v2 first" },
	{ "tls_cert", CONF_PATH, 0, S(tls_cert),
	  .help = "PEM certificate (chain) of the tls listeners" },
	{ "tls_key", CONF_PATH, 0, S(tls_key), .help = "PEM private key of tls_cert" },
	/* TLS 1.2 and 1.3 only: 1.0 and 1.1 are deprecated (RFC 8996) */
	{ "tls_priorities", CONF_CUSTOM, 0, S(tls_priorities), .set = set_tls_priorities,
	  .type = "string", .dflt = IDGATE_TLS_PRIORITIES,
	  .help = "GnuTLS priority string of the tls listeners" },
	{ "keytab", CONF_STRING, CONF_EMPTY, S(keytab), SLINE(keytab_line), .dflt = "",
	  .help = "the acceptor keytab, a path or a krb5 keytab name; empty: krb5's default" },
	{ "acceptor", CONF_STRING, CONF_EMPTY, S(acceptor), SLINE(acceptor_line), .dflt = "",
	  .help = "GSS acceptor name (HTTP@host); empty: every HTTP/ key of the keytab" },
	{ "session_key_file", CONF_PATH, CONF_EMPTY, S(session_key_file),
	  SLINE(session_key_file_line), .dflt = "",
	  .help = "the keys that seal session cookies; empty: none" },
	{ "pam_service", CONF_NAME, CONF_EMPTY, S(pam_service), .bad = "not a PAM service name",
	  .dflt = "idgate", .help = "PAM service of account checks and Basic; empty: no PAM" },
	{ "min_uid", CONF_UINT, 0, S(ids.min_uid), SLINE(uid_line), .min = 1, .max = IDS_MAX,
	  .dflt = "1000", .help = "accounts below it are never impersonated" },
	/* UID_MAX of login.defs */
	{ "max_uid", CONF_UINT, 0, S(ids.max_uid), SLINE(uid_line), .min = 1, .max = IDS_MAX,
	  .dflt = "60000", .help = "accounts above it are never impersonated" },
	{ "min_gid", CONF_UINT, 0, S(ids.min_gid), SLINE(gid_line), .min = 1, .max = IDS_MAX,
	  .help = "the lowest group of an impersonated handler; default: min_uid" },
	{ "max_gid", CONF_UINT, 0, S(ids.max_gid), SLINE(gid_line), .min = 1, .max = IDS_MAX,
	  .help = "the highest group of an impersonated handler; default: max_uid" },
	{ "impersonate_groups", CONF_LIST, CONF_EMPTY, S(impersonate_groups),
	  SLINE(impersonate_groups_line), .dflt = "users",
	  .help = "groups outside min_gid..max_gid that impersonation may use" },
	{ "user", CONF_STRING, 0, S(user), SLINE(line_of_user), .dflt = "idgate",
	  .help = "the front end's user (not root)" },
	{ "authenticator_user", CONF_STRING, 0, S(auth_user), SLINE(line_of_auth_user),
	  .dflt = "idgate-auth",
	  .help = "the authenticator's user: it alone holds the acceptor keys (not root, "
		  "not the front end's or a pool's)" },
	{ "audit_log", CONF_LOG, CONF_EMPTY, S(audit_log), .dflt = IDGATE_AUDIT_LOG,
	  .help = "the audit trail, JSON lines; -: standard error; empty: none" },
	{ "access_log", CONF_LOG, CONF_EMPTY, S(access_log), .dflt = "",
	  .help = "NCSA Combined access log; -: standard error; empty: none" },
	{ "modules_dir", CONF_PATH, 0, S(modules_dir), .dflt = IDGATE_MODULES_DIR,
	  .help = "where handler modules NAME.so are" },
	{ "max_connections", CONF_UINT, 0, S(max_connections), .min = 1, .max = 1000000,
	  .dflt = "1024", .help = "open connections per listener" },
	{ "max_connections_per_ip", CONF_UINT, 0, S(max_connections_per_ip), .min = 0,
	  .max = 1000000, .dflt = "0", .help = "connections per client address; 0: no limit" },
	{ "idle_timeout", CONF_DURATION, 0, S(idle_timeout_ms), .dflt = "60s",
	  .help = "how long a connection may stay silent" },
	{ "header_timeout", CONF_DURATION, 0, S(header_timeout_ms), .dflt = "30s",
	  .help = "how long a request head may take to come in, from its first byte; 0: no limit" },
	{ "max_header_size", CONF_SIZE, 0, S(max_header_size), .min = 1024, .max = 1024 * 1024,
	  .dflt = "16k", .help = "request line and headers (larger: 431)" },
	{ "request_timeout", CONF_DURATION, 0, S(request_timeout_ms), .dflt = "5m",
	  .help = "a pool must start answering within it (503, 504)" },
	{ "shutdown_timeout", CONF_DURATION, 0, S(shutdown_timeout_ms), .dflt = "30s",
	  .help = "how long requests in flight may finish at a stop or reload" },
	{ "threads", CONF_UINT, 0, S(threads), .min = 0, .max = 256, .dflt = "0",
	  .help = "front-end event loops; 0: one per CPU" },
	{ "queue", CONF_UINT, 0, S(queue), .min = 0, .max = 100000, .dflt = "256",
	  .help = "requests that may wait for a busy pool, per pool" },
	{ "account_cache", CONF_DURATION, 0, S(account_cache_ms), .dflt = "30s",
	  .help = "how long account lookups and PAM account results are cached" },
	{ "cpu_affinity", CONF_BOOL, 0, S(cpu_affinity), .dflt = "true",
	  .help = "pin event loop i and the workers behind it to CPU i" },
	{ "connection_auth", CONF_BOOL, 0, S(connection_auth), .dflt = "false",
	  .help = "a Negotiate identity lasts for its connection" },
	{ "runtime_dir", CONF_PATH, 0, S(runtime_dir), SLINE(runtime_dir_line), .max = 89,
	  .dflt = IDGATE_RUN_DIR, .help = "the instance lock, ccache/ and the control socket" },
	{ "audit_failure", CONF_ENUM, 0, S(audit_failure_refuse), .words = audit_failure_words,
	  .dflt = "refuse", .help = "when the audit log cannot be written: refuse requests or not" },
	{ "trusted_proxies", CONF_CUSTOM, CONF_EMPTY, .set = set_trusted_proxies,
	  .type = "networks", .dflt = "", .help = "clients whose X-Request-Id is taken" },
	{ "proxy_protocol_from", CONF_CUSTOM, CONF_EMPTY, .set = set_proxy_protocol_from,
	  .type = "networks", .dflt = "",
	  .help = "who may send a PROXY v2 header on a proxy listener (name the client)" },
	{ "replay_cache_dir", CONF_PATH, 0, S(replay_cache_dir),
	  .dflt = IDGATE_STATE_DIR "/rcache", .help = "the front end's Kerberos replay cache" },
	{ "control_socket", CONF_PATH, CONF_EMPTY, S(control_socket), .max = 99,
	  .help = "idgatectl's Unix socket; default: runtime_dir/control; empty: none" },
	{ "admin_listen", CONF_CUSTOM, CONF_EMPTY, .set = set_admin_listen, .type = "address",
	  .dflt = "", .help = "the metrics listener (loopback); empty: none" },
	{ "admin_allow_remote", CONF_BOOL, 0, S(admin_allow_remote),
	  SLINE(admin_allow_remote_line), .dflt = "false",
	  .help = "admin_listen may be a non-loopback address" },
	{ .name = NULL }
};

static const struct conf_key pool_keys[] = {
	{ "user", CONF_STRING, 0, P(user), PLINE(user_line), .dflt = IDGATE_POOL_USER,
	  .help = "the pool's service identity (not root, not the front end's)" },
	{ "group", CONF_STRING, 0, P(group), PLINE(group_line),
	  .help = "the pool's group; default: the user's primary group" },
	{ "threads", CONF_UINT, 0, P(threads), .min = 1, .max = 1024, .dflt = "8",
	  .help = "requests the worker serves at once" },
	{ "rapid_fail", CONF_CUSTOM, 0, .set = set_rapid_fail, .type = "N/duration",
	  .dflt = "5/5m", .help = "worker failures within a duration that disable the pool" },
	{ .name = NULL }
};

static const struct conf_key vdir_keys[] = {
	{ "pool", CONF_NAME, 0, V(pool_name), VLINE(pool_line), .bad = "not a pool name",
	  .dflt = "default", .help = "the pool that serves it" },
	{ "handler", CONF_NAME, 0, V(handler), VLINE(handler_line), .bad = "not a module name",
	  .dflt = "static", .help = "the module modules_dir/NAME.so" },
	{ "auth", CONF_CUSTOM, 0, VLINE(auth_line), .set = set_auth,
	  .type = "negotiate|anonymous|negotiate basic", .dflt = "negotiate",
	  .help = "how callers authenticate" },
	{ "require", CONF_CUSTOM, 0, VLINE(require_line), .set = set_require,
	  .type = "valid-user|anonymous-ok|user NAME...|group NAME...", .dflt = "valid-user",
	  .help = "who may enter" },
	{ "impersonate", CONF_ENUM, 0, V(impersonate), VLINE(impersonate_line),
	  .words = impersonate_words, .dflt = "false", .help = "run the handler as the caller" },
	{ "delegation", CONF_ENUM, 0, V(delegation), VLINE(delegation_line),
	  .words = delegation_words, .dflt = "none",
	  .help = "store: keep delegated credentials for a handler that runs as the caller" },
	{ "session", CONF_ENUM, 0, V(session), VLINE(session_line), .words = session_words,
	  .dflt = "off", .help = "cookie: a sealed cookie authenticates later requests" },
	{ "session_lifetime", CONF_CUSTOM, 0, VLINE(session_other_line),
	  .set = set_session_lifetime, .type = "duration 1s..30d", .dflt = "1h",
	  .help = "how long a session cookie is valid" },
	{ "session_samesite", CONF_ENUM, CONF_ANYCASE, V(samesite), VLINE(session_other_line),
	  .words = samesite_words, .dflt = "Lax", .help = "the session cookie's SameSite" },
	{ "session_cookie", CONF_CUSTOM, 0, V(session_cookie), VLINE(session_other_line),
	  .set = set_session_cookie, .type = "name", .dflt = "idgate_session",
	  .help = "the session cookie's name" },
	{ .name = NULL }
};

const struct conf_section conf_sections[] = {
	{ "server", server_keys },
	{ "pool", pool_keys },
	{ "vdir", vdir_keys },
	{ NULL, NULL }
};

/* ---------------------------------------------------------------- use */

const struct conf_key *conf_key_find(const struct conf_key *keys, const char *name)
{
	for (const struct conf_key *k = keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

int conf_key_set(const struct conf_set *s)
{
	const struct conf_key *k = s->k;

	if (s->line && k->line_at)
		*(int *)((char *)s->base + k->line_at - 1) = s->line;
	return kinds[k->kind].set(s);
}

int conf_defaults(struct conf_parser *p, const struct conf_key *keys, void *base, const char *sect)
{
	int rc = 0;

	for (const struct conf_key *k = keys; k->name; k++) {
		struct conf_set s = { .p = p, .k = k, .value = k->dflt, .base = base,
				      .sect = sect, .line = 0 };
		if (k->dflt && conf_key_set(&s) < 0)
			rc = -1;
	}
	return rc;
}

void conf_key_type(const struct conf_key *k, char *buf, size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "%s", k->type ? k->type : kinds[k->kind].name);

	if ((k->kind == CONF_UINT || k->kind == CONF_SIZE) && used < len)
		used += (size_t)snprintf(buf + used, len - used, " %llu..%llu",
					 (unsigned long long)k->min, (unsigned long long)k->max);
	if (k->kind == CONF_PATH && k->max && used < len)
		used += (size_t)snprintf(buf + used, len - used, " (at most %llu bytes)",
					 (unsigned long long)k->max);
	for (const struct conf_word *w = k->words; w && w->word && used < len; w++)
		used += (size_t)snprintf(buf + used, len - used, "%c%s",
					 w == k->words ? ' ' : '|', w->word);
	if ((k->flags & CONF_ANYCASE) && used < len)
		used += (size_t)snprintf(buf + used, len - used, " (any case)");
	if ((k->flags & CONF_EMPTY) && used < len)
		used += (size_t)snprintf(buf + used, len - used, "|empty");
	if ((k->flags & CONF_REPEAT) && used < len)
		snprintf(buf + used, len - used, ", repeatable");
}

void conf_keys_print(FILE *f)
{
	char type[160];

	for (const struct conf_section *sec = conf_sections; sec->name; sec++) {
		for (const struct conf_key *k = sec->keys; k->name; k++) {
			conf_key_type(k, type, sizeof(type));
			fprintf(f, "%s\t%s\t%s\t%s%s%s\t%s\n", sec->name, k->name, type,
				k->dflt ? "\"" : "", k->dflt ? k->dflt : "-", k->dflt ? "\"" : "",
				k->help);
		}
	}
}
