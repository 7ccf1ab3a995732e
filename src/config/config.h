/* config.h -- idgate.conf: the model, parsing and validation. */
#ifndef IDGATE_CONFIG_H
#define IDGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "idgate/module.h"
#include "confread.h"
#include "idpolicy.h"
#include "netmatch.h"

/* The default of [server] tls_priorities */
#define IDGATE_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct diag;
struct module;

#define AUTH_NEGOTIATE 0x1u
#define AUTH_BASIC     0x2u
/* auth == 0 means anonymous */

enum require_kind { REQUIRE_VALID_USER = 0, REQUIRE_USER, REQUIRE_GROUP, REQUIRE_ANONYMOUS_OK };
enum impersonate_mode { IMPERSONATE_FALSE = 0, IMPERSONATE_TRUE = 1, IMPERSONATE_ALLOWED = 2 };
enum delegation_mode { DELEGATION_NONE = 0, DELEGATION_STORE = 1 };
enum samesite { SAMESITE_LAX = 0, SAMESITE_STRICT, SAMESITE_NONE };

struct listen_conf {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool tls;
	bool proxy;  /* a PROXY protocol v2 header comes first ([server] proxy_protocol_from) */
	char *text;  /* as written, for messages */
	int line;
};

/* A key=value line of a vdir that belongs to its module. */
struct modkey {
	char *name;
	char *value;
	int line;
};

struct pool_conf {
	char *name;
	unsigned index;
	int line;          /* 0: implicit */
	char *user;
	char *group;       /* NULL: the user's primary group */
	int user_line, group_line;
	uid_t uid;
	gid_t gid;
	unsigned threads;
	unsigned rapid_fail_count;
	uint64_t rapid_fail_window_ms;
	bool impersonates; /* some vdir of the pool may run as the caller */
};

struct vdir_conf {
	char *path;        /* normalised: "/" or "/a/b" without trailing '/' */
	size_t path_len;
	unsigned index;
	int line;
	char *pool_name;
	int pool_line;
	struct pool_conf *pool;
	char *handler;
	int handler_line;
	const struct module *module;
	unsigned auth;     /* AUTH_* bits; 0 anonymous */
	int auth_line;
	enum require_kind require;
	char **require_names; /* NULL-terminated, for user/group */
	gid_t *require_gids;  /* for group: the names' gids */
	int require_line;
	enum impersonate_mode impersonate;
	int impersonate_line;
	int delegation_line;
	bool module_creds;   /* its handler uses delegated credentials (modinit.c) */
	bool module_s4u;     /* ... or constrained delegation (S4U2Proxy) ... */
	char *s4u_target;    /* ... to this service (modinit.c) */
	enum delegation_mode delegation;
	/* session = cookie (session.h): a cookie authenticates later requests */
	bool session;
	int session_line;
	uint64_t session_lifetime_s;
	enum samesite samesite;
	char *session_cookie; /* its name */
	int session_other_line; /* the last of session_lifetime/_samesite/_cookie */
	struct modkey *keys;  /* the module's keys, as written */
	size_t nkeys;
};

struct server_conf {
	struct listen_conf *listen;
	size_t nlisten;
	char *tls_cert;
	char *tls_key;
	char *tls_priorities; /* GnuTLS priority string of the tls listeners */
	char *keytab;       /* "" : the krb5 default */
	int keytab_line;
	char *acceptor;     /* "" : any key in the keytab */
	int acceptor_line;
	char *pam_service;  /* "" : none */
	char *session_key_file; /* "" : none; the keys of session cookies */
	int session_key_file_line;
	/* who may be impersonated: min_uid, max_uid, min_gid, max_gid and
	 * impersonate_groups (resolved to gids), see idpolicy.h */
	struct id_policy ids;  /* min_gid, max_gid 0 while parsing: not given */
	int uid_line, gid_line;    /* the last line of min/max_uid, of min/max_gid */
	char *impersonate_groups;  /* names, blank- or comma-separated */
	int impersonate_groups_line;
	char *user;
	uid_t uid;
	gid_t gid;
	char *auth_user;    /* the authenticator's (authenticator_user) */
	uid_t auth_uid;
	gid_t auth_gid;
	int line_of_auth_user;
	char *audit_log;    /* "-" stderr, "" none */
	bool audit_failure_refuse; /* audit_failure = refuse (default) | continue */
	char *access_log;   /* NCSA Combined; "-" stderr, "" none (the default) */
	char *modules_dir;
	/* limits, beyond SPEC's keys; see idgate.conf(5) */
	unsigned max_connections;
	unsigned max_connections_per_ip;
	uint64_t idle_timeout_ms;
	uint64_t header_timeout_ms; /* a request head, from its first byte; 0: no limit */
	uint64_t max_header_size;
	uint64_t request_timeout_ms;
	uint64_t shutdown_timeout_ms;
	unsigned threads;   /* HTTP threads of the front end; 0: one per CPU */
	unsigned queue;     /* requests waiting for a busy pool, per pool */
	uint64_t account_cache_ms; /* NSS and PAM account results */
	bool cpu_affinity;  /* pin front-end loop i and its workers to CPU i */
	bool connection_auth; /* a Negotiate identity lasts for its connection */
	int line_of_user;
	/* runtime state (rundir.h): the instance lock, the ccache mount point */
	char *runtime_dir;
	int runtime_dir_line;
	char *replay_cache_dir;    /* KRB5RCACHEDIR of the authenticator */
	struct netlist trusted_proxies; /* whose X-Request-Id is taken */
	struct netlist proxy_protocol_from; /* whose PROXY header names the client */
	char *ccache_dir;          /* runtime_dir/ccache */
	/* operations: idgatectl's socket ("" : none; default runtime_dir/control)
	 * and the metrics listener */
	char *control_socket;
	struct listen_conf admin_listen; /* addrlen 0: none */
	bool admin_allow_remote;   /* admin_listen may be a non-loopback address */
	int admin_allow_remote_line;
};

struct config {
	char *file;
	struct conf_sources src;  /* which file each line number is in (confread.h) */
	struct server_conf server;
	struct pool_conf *pools;
	size_t npools;
	struct vdir_conf *vdirs;  /* sorted: longest path first */
	size_t nvdirs;
	struct module **modules;  /* loaded, one per distinct handler */
	size_t nmodules;
};

/* Parse and validate FILE.  Returns NULL after reporting every problem to
 * `d` as "FILE:LINE: message".  With load_modules, handlers are loaded from
 * modules_dir and each vdir's keys are checked against its module. */
struct config *config_load(const char *file, struct diag *d, bool load_modules);
void config_free(struct config *c);

/* Parse from a string (unit tests). `name` stands in for the file name. */
struct config *config_load_string(const char *name, const char *text, struct diag *d,
				  bool load_modules);

/* A problem at a line of the configuration (a global line number, which
 * may be in an included file): reported as that file's FILE:LINE. */
void config_error(const struct config *c, struct diag *d, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Lookups. */
struct pool_conf *config_pool(const struct config *c, const char *name);
const char *vdir_key(const struct vdir_conf *v, const char *name);

const char *impersonate_name(enum impersonate_mode m);
const char *samesite_name(enum samesite s);

/* Does a request at the delegation level bring its delegated credentials
 * to this vdir's worker?  Stored in a cache when the handler runs as the
 * caller (delegation = store), or in memory for a handler that uses them
 * itself (a proxy authenticating to its backend). */
static inline bool vdir_takes_delegated(const struct vdir_conf *v, bool impersonated)
{
	return (v->delegation == DELEGATION_STORE && impersonated) || v->module_creds;
}

/* Do the credentials accepted with the caller's ticket travel to the
 * worker at this level?  Delegated ones at the delegation level; a proxy
 * credential (constrained delegation) from the impersonation level up:
 * the realm, not the client, decides where it may be used. */
static inline bool vdir_takes_credentials(const struct vdir_conf *v, int level,
					  bool impersonated)
{
	if (level == IDG_LEVEL_DELEGATION && vdir_takes_delegated(v, impersonated))
		return true;
	return v->module_s4u && level >= IDG_LEVEL_IMPERSONATION;
}

/* The front end's event loops ([server] threads, or one per CPU), and the
 * CPU that loop i and the worker threads behind its channels use (-1:
 * no pinning). */
unsigned config_loops(const struct config *c);
int config_loop_cpu(const struct config *c, unsigned loop);

#endif
