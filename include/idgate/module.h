/*
 * idgate/module.h -- the handler module ABI of idgate.
 *
 * A handler module is a shared object, modules_dir/NAME.so, that exports
 * exactly one symbol:
 *
 *     const struct idg_module idgate_module = { ... };
 *
 * idgated loads it with dlopen(), checks abi_version, validates the vdir's
 * keys against the module's key table, and calls:
 *
 *   init()     once per [vdir] that names the module, in the pool worker
 *              process, running as the pool's service identity; and,
 *              with ini->checking set and followed by cleanup(), whenever
 *              the configuration is checked (idgated -t, start-up, reload,
 *              idgatectl check), in a child process that has become the
 *              pool's user, with no capability: never as root;
 *   handle()   once per request, on a worker thread.  When the vdir
 *              impersonates, the thread already runs with the caller's
 *              uid, gid and groups: files opened, sockets connected and
 *              processes started are the caller's, checked by the kernel;
 *   cleanup()  when the worker exits.
 *
 * Everything a module needs from the daemon is reached through function
 * pointers in the structures below, so a module links against nothing of
 * idgated and can be written by copying modules/whoami.c.
 *
 * Threads: handle() runs concurrently on up to `threads` threads of the
 * pool; the ctx returned by init() is shared by them and must be treated
 * as read-only (or protected by the module).  A module must never change
 * process-wide credentials (setuid(), setgroups(), ...): idgated switches
 * the calling thread only, and glibc's wrappers would change every thread.
 *
 * Copyright: the idgate developers.  License: MIT.
 */
#ifndef IDGATE_MODULE_H
#define IDGATE_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a structure below changes incompatibly. */
#define IDG_MODULE_ABI_VERSION 2

/* The symbol every module exports, and how to export it when the module
 * is built with -fvisibility=hidden (recommended). */
#define IDG_MODULE_SYMBOL "idgate_module"
#define IDG_MODULE_EXPORT __attribute__((visibility("default")))

/* WCF's ImpersonationOption: may the handler run as the caller? */
enum idg_impersonation {
	IDG_IMPERSONATION_NOT_ALLOWED = 0, /* never: vdir impersonate must be false */
	IDG_IMPERSONATION_ALLOWED = 1,     /* vdir decides */
	IDG_IMPERSONATION_REQUIRED = 2,    /* vdir impersonate must be true|allowed */
};

/* Types of module config keys; the daemon parses and validates them. */
enum idg_key_type {
	IDG_KEY_STRING = 0,   /* any non-empty text */
	IDG_KEY_PATH = 1,     /* an absolute path */
	IDG_KEY_BOOL = 2,     /* true|false|yes|no|on|off */
	IDG_KEY_UINT = 3,     /* decimal integer >= 0 */
	IDG_KEY_SIZE = 4,     /* bytes, with optional k, m, g suffix */
	IDG_KEY_DURATION = 5, /* milliseconds, written 250ms, 30s, 5m, 1h */
	IDG_KEY_NAME = 6,     /* a token: letters, digits, . _ - */
};

#define IDG_KEY_REQUIRED 0x1u

struct idg_key {
	const char *name;
	enum idg_key_type type;
	unsigned flags;           /* IDG_KEY_REQUIRED */
	const char *default_value; /* used when the key is absent; may be NULL */
	const char *help;         /* one line, shown in docs and errors */
};

/* HTTP methods a module accepts; others get 405 with an Allow header. */
#define IDG_METHOD_GET     (1u << 0)
#define IDG_METHOD_HEAD    (1u << 1)
#define IDG_METHOD_POST    (1u << 2)
#define IDG_METHOD_PUT     (1u << 3)
#define IDG_METHOD_DELETE  (1u << 4)
#define IDG_METHOD_OPTIONS (1u << 5)
#define IDG_METHOD_PATCH   (1u << 6)

/* Results of handle(), after nginx: OK, declined, error, or a status. */
#define IDG_OK        0   /* the module produced the whole response */
#define IDG_DECLINED  (-1) /* not the module's: 404 */
#define IDG_ERROR     (-2) /* internal error: 500, or the connection is cut
                              if the response head was already sent */
/* Any value 400..599: idgated sends its standard error response. */

enum idg_log_level { IDG_LOG_ERR = 3, IDG_LOG_WARNING = 4, IDG_LOG_INFO = 6, IDG_LOG_DEBUG = 7 };

/* What the client allowed the service to do with its identity. */
enum idg_level {
	IDG_LEVEL_ANONYMOUS = 0,
	IDG_LEVEL_IDENTIFICATION = 1,
	IDG_LEVEL_IMPERSONATION = 2,
	IDG_LEVEL_DELEGATION = 3,
};

/* ---- configuration, seen by init() ---- */

struct idg_init;

struct idg_init_ops {
	/* The value of one of the module's keys (after its default), or NULL. */
	const char *(*get)(const struct idg_init *ini, const char *key);
	/* Typed values; the daemon validated them against the key's type. */
	int (*get_bool)(const struct idg_init *ini, const char *key);
	uint64_t (*get_uint)(const struct idg_init *ini, const char *key);
	/* Report a problem with a key (NULL: the vdir itself); shown as
	 * FILE:LINE: vdir PATH: handler 'NAME': key: message. */
	void (*error)(const struct idg_init *ini, const char *key, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void (*log)(const struct idg_init *ini, enum idg_log_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* The handler uses the caller's delegated Kerberos credentials itself
	 * (e.g. to authenticate to a backend as the caller): at the delegation
	 * level they reach handle() as req->gss_creds, whether or not the vdir
	 * stores them in a cache (delegation = store).  Call it from init()
	 * when the vdir's keys ask for it; idgated asks init() at load time. */
	void (*use_delegated_credentials)(const struct idg_init *ini);
	/* The handler acts as the caller toward `target` by Kerberos
	 * constrained delegation (S4U2Proxy): idgated accepts this vdir's
	 * tickets with credentials of its own and, at the impersonation level
	 * (or above), asks the KDC for the caller's ticket to `target` where
	 * the keys live; req->gss_creds then holds that ticket alone -- never
	 * the gateway's TGT -- and reaches `target` as the caller, nothing
	 * else.  `target`: a GSS host-based name "HTTP@host" or a principal
	 * "HTTP/host@REALM"; the KDC honours it only if it allows the
	 * gateway's principal to delegate to it. */
	void (*use_proxy_credentials)(const struct idg_init *ini, const char *target);
};

struct idg_init {
	const struct idg_init_ops *ops;
	const char *vdir;   /* the vdir path, e.g. "/app" */
	const char *pool;   /* the pool's name */
	int impersonate;    /* 0 false, 1 true, 2 allowed */
	int checking;       /* 1 under `idgated -t`: validate, do not start work */
};

/* ---- requests, seen by handle() ---- */

struct idg_request;

/* A program to start for a request (see idg_request_ops.spawn). */
struct idg_spawn {
	const char *path;        /* absolute */
	char *const *argv;       /* argv[0] included, NULL-terminated */
	char *const *envp;       /* the whole environment: nothing is inherited */
	const char *cwd;         /* absolute; NULL: "/" */
	int stdin_fd;            /* the child's fds 0, 1, 2; -1: /dev/null */
	int stdout_fd;
	int stderr_fd;
	/* > 2: execute this open file (O_PATH is enough) rather than looking
	 * `path` up again, so that what the module checked is what runs;
	 * `path` then only names it in messages.  The child gets it as fd 3,
	 * which an interpreter needs for a "#!" script.  0: execute `path`. */
	int exec_fd;
};

struct idg_request_ops {
	/* A request header (case-insensitive name), or NULL.  Repeated
	 * headers are joined with ", " as RFC 9110 allows. */
	const char *(*header)(struct idg_request *req, const char *name);
	/* Iterate over all request headers: i from 0 while it returns 1. */
	int (*header_at)(struct idg_request *req, size_t i, const char **name, const char **value);
	/* Read the request body: > 0 bytes, 0 at its end, -1 on error (errno). */
	ssize_t (*read)(struct idg_request *req, void *buf, size_t len);

	/* The response: status first, then headers, then the body. */
	int (*set_status)(struct idg_request *req, int status);
	int (*add_header)(struct idg_request *req, const char *name, const char *value);
	/* Announce the body length (Content-Length); without it the body is
	 * chunked.  -1 for unknown. */
	int (*set_length)(struct idg_request *req, int64_t length);
	/* Write body bytes; sends the head first if needed.  0 or -1 (errno;
	 * ECONNRESET when the client went away). */
	int (*write)(struct idg_request *req, const void *buf, size_t len);
	/* Send `length` bytes of `fd` from `offset` as the whole body: the
	 * descriptor goes to the front end, which sends the bytes from it
	 * (ranges up to 16 KiB are read here and go with the head: cheaper
	 * than passing a descriptor).  The module keeps its fd. */
	int (*send_fd)(struct idg_request *req, int fd, uint64_t offset, uint64_t length);
	/* Why the request failed or was denied; goes to the audit log. */
	void (*set_reason)(struct idg_request *req, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
	void (*log)(struct idg_request *req, enum idg_log_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* Start a program as this request's identity -- the caller when the
	 * request is impersonated, else the pool -- in a child that drops it
	 * for good (real, effective and saved ids, groups, every capability),
	 * with no_new_privs, only the given environment and only fds 0-2, in a
	 * process group of its own.  Returns a child handle >= 0 (a file
	 * descriptor that becomes readable when the child ends), or -1 with
	 * errno (the reason is set for the audit log). */
	int (*spawn)(struct idg_request *req, const struct idg_spawn *s);
	/* 1 when the child ended (*status as from waitpid), 0 when timeout_ms
	 * passed first (-1: no limit), -1 on error. */
	int (*child_wait)(struct idg_request *req, int child, int timeout_ms, int *status);
	/* Kill the child and its process group. */
	int (*child_kill)(struct idg_request *req, int child);
	/* Done with the child; it is killed if it still runs, and so is what
	 * it left in its process group.  Children not released are released
	 * when the request ends. */
	void (*child_release)(struct idg_request *req, int child);

	/* Has the client gone away?  1 or 0; never blocks.  write() and read()
	 * report it too (ECONNRESET); this is for a module that waits for
	 * something else, e.g. a program that prints nothing for a while. */
	int (*client_gone)(struct idg_request *req);
	/* Once the request body was read to its end (read() returned 0): a
	 * descriptor that becomes readable (POLLIN) when the client may have
	 * gone, to poll alongside the module's own; then ask client_gone().
	 * Poll it only; never read, write or close it.  -1 before the end of
	 * the body, and once the response is complete. */
	int (*abort_fd)(struct idg_request *req);
};

struct idg_request {
	const struct idg_request_ops *ops;
	const char *method;      /* "GET" */
	const char *path;        /* decoded, normalised: "/app/a b.txt" */
	const char *path_info;   /* path below the vdir: "/a b.txt" ("" at the vdir) */
	const char *query;       /* raw query string without '?', "" if none */
	const char *vdir;        /* "/app" */
	const char *pool;        /* "default" */
	const char *request_id;
	const char *client_addr; /* "127.0.0.1" or "::1" */
	unsigned client_port;
	const char *host;        /* the Host header, or "" */
	const char *version;     /* "HTTP/1.1" */
	int tls;                 /* came over a TLS listener */

	/* Who the caller is.  NULL principal/user: anonymous. */
	const char *principal;   /* "alice@EXAMPLE.TEST" */
	const char *user;        /* mapped local account, or NULL */
	uid_t uid;               /* the mapped account's ids; (uid_t)-1 if none */
	gid_t gid;
	enum idg_level level;    /* the level the client allowed */
	int impersonated;        /* this thread runs as the caller */
	const char *ccache;      /* KRB5CCNAME of delegated credentials, or NULL */
	const char *auth_type;   /* "Negotiate", "Basic", or NULL when anonymous */
	/* The caller's delegated credentials (or, with use_proxy_credentials,
	 * a constrained-delegation proxy credential) as an MIT gss_cred_id_t,
	 * valid during handle() only, for a module that asked for them in
	 * init(); NULL otherwise.  A secret: never log or export it. */
	void *gss_creds;
};

/* ---- the descriptor ---- */

struct idg_module {
	uint32_t abi_version;     /* IDG_MODULE_ABI_VERSION */
	const char *name;         /* must equal the file name without ".so" */
	enum idg_impersonation impersonation;
	unsigned methods;         /* IDG_METHOD_* accepted */
	const struct idg_key *keys; /* terminated by { NULL } */

	/* Build the per-vdir context; 0 on success, -1 after ini->ops->error(). */
	int (*init)(const struct idg_init *ini, void **ctx);
	/* IDG_OK, IDG_DECLINED, IDG_ERROR or an HTTP status 400..599. */
	int (*handle)(void *ctx, struct idg_request *req);
	void (*cleanup)(void *ctx);
};

#ifdef __cplusplus
}
#endif
#endif /* IDGATE_MODULE_H */
