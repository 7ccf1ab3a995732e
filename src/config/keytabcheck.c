/* keytabcheck.c -- idgated -t: the acceptor keys Negotiate will use.
 *
 * The front end reads the keytab only when it starts, and an acceptor
 * name without a key used to show up later: as a front end that dies, or
 * as clients refused with "wrong service".  -t reads the keytab as the
 * front end will and says which name has no key, before anything runs.
 *
 * Only names, kvnos and enctypes leave krb5's entries: each entry's
 * contents (its key) are freed as soon as they are read, and no key byte
 * is ever printed. */
#include "keytabcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <krb5.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "confread.h"
#include "diag.h"
#include "sbuf.h"
#include "util.h"

/* One keytab entry, without its key. */
struct kt_key {
	char *principal;  /* unparsed, with its realm */
	char *service;    /* first component */
	char *host;       /* second component; NULL unless there are exactly two */
	unsigned kvno;
	krb5_enctype enctype;
};

struct kt_check {
	const struct config *c;
	struct diag *d;
	krb5_context ctx;
	char name[PATH_MAX + 16]; /* "FILE:/etc/idgate/http.keytab", as krb5 names it */
	const char *whose;     /* " (krb5's default)" when [server] keytab is empty */
	struct kt_key *keys;
	size_t nkeys;
	int errors;
	char why[512];         /* kt_why()'s text */
};

/* ---------------------------------------------------------------- messages */

/* An error or a warning at a line of the configuration, as FILE:LINE. */
static void kt_report(struct kt_check *k, bool error, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void kt_report(struct kt_check *k, bool error, int line, const char *fmt, ...)
{
	const char *file;
	int local;
	va_list ap;

	conf_where(&k->c->src, line, &file, &local);
	va_start(ap, fmt);
	if (error)
		diag_verror(k->d, file, local, fmt, ap);
	else
		diag_vwarning(k->d, file, local, fmt, ap);
	va_end(ap);
	k->errors += error;
}

#define kt_error(k, ...) kt_report(k, true, __VA_ARGS__)

/* krb5's text for an error code, copied (krb5 allocates it). */
static const char *kt_why(struct kt_check *k, krb5_error_code code)
{
	const char *text = krb5_get_error_message(k->ctx, code);

	snprintf(k->why, sizeof(k->why), "%s", text);
	krb5_free_error_message(k->ctx, text);
	return k->why;
}

/* "HTTP/a@R, HTTP/b@R": the distinct principals held, for messages. */
static void held_principals(const struct kt_check *k, struct sbuf *out)
{
	size_t shown = 0;

	for (size_t i = 0; i < k->nkeys; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(k->keys[j].principal, k->keys[i].principal) == 0;
		if (seen)
			continue;
		if (shown++ == 8) {
			sb_puts(out, ", ...");
			return;
		}
		sb_printf(out, "%s%s", out->len ? ", " : "", k->keys[i].principal);
	}
}

static void enctype_text(krb5_enctype e, char *buf, size_t len)
{
	if (krb5_enctype_to_name(e, FALSE, buf, len) != 0)
		snprintf(buf, len, "enctype %d", (int)e);
}

/* ---------------------------------------------------------------- reading */

/* Why krb5 could not read the keytab, in an administrator's words. */
static void read_failure(struct kt_check *k, krb5_error_code code)
{
	const char *path = NULL;
	struct stat st;

	if (str_has_prefix(k->name, "FILE:"))
		path = k->name + 5;
	else if (str_has_prefix(k->name, "WRFILE:"))
		path = k->name + 7;
	if (code == KRB5_KEYTAB_BADVNO && path && stat(path, &st) == 0 && st.st_size == 0)
		kt_error(k, k->c->server.keytab_line, "[server] keytab %s%s: it holds no key (an "
			 "empty file)", k->name, k->whose);
	else if (code == KRB5_KEYTAB_BADVNO)
		kt_error(k, k->c->server.keytab_line, "[server] keytab %s%s: not a keytab (%s)",
			 k->name, k->whose, kt_why(k, code));
	else
		kt_error(k, k->c->server.keytab_line, "[server] keytab %s%s: cannot read it: %s",
			 k->name, k->whose, code > 0 && code < 4096 ? strerror(code)
						: kt_why(k, code));
}

static void keep_entry(struct kt_check *k, const krb5_keytab_entry *e, const char *text)
{
	struct kt_key *key;
	krb5_const_principal p = e->principal;

	k->keys = xreallocarray(k->keys, k->nkeys + 1, sizeof(*k->keys));
	key = &k->keys[k->nkeys++];
	memset(key, 0, sizeof(*key));
	key->principal = xstrdup(text);
	if (p->length >= 1)
		key->service = xstrndup(p->data[0].data, p->data[0].length);
	if (p->length == 2)
		key->host = xstrndup(p->data[1].data, p->data[1].length);
	key->kvno = (unsigned)e->vno;
	key->enctype = e->key.enctype;
}

/* Every entry's name, kvno and enctype into k->keys.  0, or -1 after an
 * error. */
static int read_entries(struct kt_check *k, krb5_keytab kt)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	krb5_error_code code;
	char *text;

	if ((code = krb5_kt_start_seq_get(k->ctx, kt, &cur)) != 0) {
		read_failure(k, code);
		return -1;
	}
	while ((code = krb5_kt_next_entry(k->ctx, kt, &e, &cur)) == 0) {
		if (krb5_unparse_name(k->ctx, e.principal, &text) == 0) {
			keep_entry(k, &e, text);
			krb5_free_unparsed_name(k->ctx, text);
		}
		krb5_free_keytab_entry_contents(k->ctx, &e);
	}
	krb5_kt_end_seq_get(k->ctx, kt, &cur);
	if (code != KRB5_KT_END) {
		read_failure(k, code);
		return -1;
	}
	return 0;
}

/* Resolve the keytab the front end will read, and read it. */
static int open_keytab(struct kt_check *k)
{
	const char *conf = k->c->server.keytab;
	krb5_keytab kt = NULL;
	krb5_error_code code;
	int rc;

	k->whose = *conf ? "" : " (krb5's default)";
	code = *conf ? krb5_kt_resolve(k->ctx, conf, &kt) : krb5_kt_default(k->ctx, &kt);
	if (code) {
		kt_error(k, k->c->server.keytab_line, "[server] keytab %s%s: %s",
			 *conf ? conf : "(default)", k->whose, kt_why(k, code));
		return -1;
	}
	if (krb5_kt_get_name(k->ctx, kt, k->name, sizeof(k->name)) != 0)
		snprintf(k->name, sizeof(k->name), "%s", conf);
	rc = read_entries(k, kt);
	krb5_kt_close(k->ctx, kt);
	if (rc == 0 && k->nkeys == 0) {
		kt_error(k, k->c->server.keytab_line, "[server] keytab %s%s: it holds no key",
			 k->name, k->whose);
		rc = -1;
	}
	return rc;
}

/* ---------------------------------------------------------------- listing */

static void print_keys(const struct kt_check *k, FILE *out)
{
	char enc[100];

	for (size_t i = 0; i < k->nkeys; i++) {
		enctype_text(k->keys[i].enctype, enc, sizeof(enc));
		fprintf(out, "keytab %s: %s kvno %u %s\n", k->name, k->keys[i].principal,
			k->keys[i].kvno, enc);
	}
	fflush(out);
}

/* DES is broken; 3DES and RC4 are deprecated (RFC 6649, RFC 8429) and
 * refused by current Windows and MIT defaults. */
static bool weak_enctype(krb5_enctype e)
{
	switch (e) {
	case ENCTYPE_DES_CBC_CRC: case ENCTYPE_DES_CBC_MD4: case ENCTYPE_DES_CBC_MD5:
	case ENCTYPE_DES_CBC_RAW: case ENCTYPE_DES3_CBC_SHA: case ENCTYPE_DES3_CBC_RAW:
	case ENCTYPE_DES_HMAC_SHA1: case ENCTYPE_DES3_CBC_SHA1: case ENCTYPE_ARCFOUR_HMAC:
	case ENCTYPE_ARCFOUR_HMAC_EXP:
		return true;
	default:
		return false;
	}
}

static bool same_key_version(const struct kt_key *a, const struct kt_key *b)
{
	return a->kvno == b->kvno && strcmp(a->principal, b->principal) == 0;
}

/* A warning for each principal and kvno whose keys are all weak: a client
 * that still has such a ticket works, but it should not. */
static void warn_weak(struct kt_check *k)
{
	for (size_t i = 0; i < k->nkeys; i++) {
		bool first = true, strong = false;
		struct sbuf encs;
		char enc[100];

		for (size_t j = 0; j < i && first; j++)
			first = !same_key_version(&k->keys[j], &k->keys[i]);
		if (!first)
			continue;
		sb_init(&encs);
		for (size_t j = i; j < k->nkeys; j++) {
			if (!same_key_version(&k->keys[j], &k->keys[i]))
				continue;
			strong = strong || !weak_enctype(k->keys[j].enctype);
			enctype_text(k->keys[j].enctype, enc, sizeof(enc));
			sb_printf(&encs, "%s%s", encs.len ? ", " : "", enc);
		}
		if (!strong)
			kt_report(k, false, k->c->server.keytab_line,
				  "[server] keytab %s%s: %s kvno %u has only weak keys (%s): DES, "
				  "3DES and RC4 are deprecated; add AES keys", k->name, k->whose,
				  k->keys[i].principal, k->keys[i].kvno, encs.s);
		sb_free(&encs);
	}
}

/* ---------------------------------------------------------------- names */

/* A key of SERVICE/HOST at any realm; host NULL: of any host. */
static bool holds_service(const struct kt_check *k, const char *service, const char *host)
{
	for (size_t i = 0; i < k->nkeys; i++) {
		const struct kt_key *key = &k->keys[i];
		if (key->host && strcasecmp(key->service, service) == 0 &&
		    (!host || strcasecmp(key->host, host) == 0))
			return true;
	}
	return false;
}

static bool holds_principal(const struct kt_check *k, const char *principal)
{
	for (size_t i = 0; i < k->nkeys; i++)
		if (strcmp(k->keys[i].principal, principal) == 0)
			return true;
	return false;
}

/* acceptor = HTTP/h@R (a principal: the realm of krb5.conf when none is
 * written), or a GSS host-based name HTTP@h, or HTTP@ / HTTP (any host):
 * the keys the front end keeps are those it names (negotiate.c). */
static void check_acceptor(struct kt_check *k)
{
	const struct server_conf *s = &k->c->server;
	char *service = xstrdup(s->acceptor), *at = strchr(service, '@'), *text = NULL;
	krb5_principal p = NULL;
	krb5_error_code code;
	struct sbuf held;

	sb_init(&held);
	held_principals(k, &held);
	if (strchr(service, '/')) {
		if ((code = krb5_parse_name(k->ctx, s->acceptor, &p)) != 0 ||
		    (code = krb5_unparse_name(k->ctx, p, &text)) != 0)
			kt_error(k, s->acceptor_line, "[server] acceptor %s: %s", s->acceptor,
				 kt_why(k, code));
		else if (!holds_principal(k, text))
			kt_error(k, s->acceptor_line, "[server] acceptor %s: no key for %s in keytab "
				 "%s%s; it has %s", s->acceptor, text, k->name, k->whose, held.s);
		goto done;
	}
	if (at)
		*at++ = '\0';
	if (!holds_service(k, service, at && *at ? at : NULL))
		kt_error(k, s->acceptor_line, "[server] acceptor %s: no key for %s/%s (any realm) "
			 "in keytab %s%s; it has %s", s->acceptor, service,
			 at && *at ? at : "<any host>", k->name, k->whose, held.s);
done:
	krb5_free_unparsed_name(k->ctx, text);
	krb5_free_principal(k->ctx, p);
	free(service);
	sb_free(&held);
}

/* What a client connecting to any address of this host asks a ticket for:
 * HTTP/<this host's canonical name>, as MIT canonicalises it (krb5.conf's
 * dns_canonicalize_hostname, rdns) for a host-based name without a host. */
static char *canonical_host(struct kt_check *k)
{
	krb5_principal p = NULL;
	krb5_error_code code;
	char *host = NULL;

	code = krb5_sname_to_principal(k->ctx, NULL, "HTTP", KRB5_NT_SRV_HST, &p);
	if (code == 0 && p->length == 2)
		host = xstrndup(p->data[1].data, p->data[1].length);
	else
		kt_error(k, k->c->server.keytab_line, "[server] keytab: cannot find this host's "
			 "canonical name: %s", code ? kt_why(k, code) : "?");
	krb5_free_principal(k->ctx, p);
	return host;
}

static bool is_loopback(const struct listen_conf *l)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)&l->addr;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&l->addr;

	if (l->addr.ss_family == AF_INET)
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	return l->addr.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

/* acceptor empty: the front end keeps every HTTP/ key, but clients ask for
 * HTTP/<the name they connect to>.  A listener is an address, so that
 * name is this host's canonical name -- or, on a loopback address,
 * "localhost" too. */
static void check_listeners(struct kt_check *k)
{
	const struct server_conf *s = &k->c->server;
	char *host = canonical_host(k);
	struct sbuf held;

	if (!host)
		return;
	sb_init(&held);
	held_principals(k, &held);
	for (size_t i = 0; i < s->nlisten; i++) {
		const struct listen_conf *l = &s->listen[i];
		bool lo = is_loopback(l);
		if (holds_service(k, "HTTP", host) || (lo && holds_service(k, "HTTP", "localhost")))
			continue;
		kt_error(k, s->keytab_line, "[server] keytab %s%s: no key for HTTP/%s%s (any realm), "
			 "the name%s clients use for listen %s (%s); it has %s (set acceptor if "
			 "clients use another name)", k->name, k->whose, host,
			 lo ? " or HTTP/localhost" : "", lo ? "s" : "", l->text,
			 lo ? "this host's canonical name, and localhost for a loopback address"
			    : "this host's canonical name", held.s);
	}
	sb_free(&held);
	free(host);
}

/* ---------------------------------------------------------------- entry */

static bool negotiate_used(const struct config *c)
{
	for (size_t i = 0; i < c->nvdirs; i++)
		if (c->vdirs[i].auth & AUTH_NEGOTIATE)
			return true;
	return false;
}

static void free_keys(struct kt_check *k)
{
	for (size_t i = 0; i < k->nkeys; i++) {
		free(k->keys[i].principal);
		free(k->keys[i].service);
		free(k->keys[i].host);
	}
	free(k->keys);
}

int keytab_check(const struct config *c, struct diag *d, FILE *out)
{
	struct kt_check k = { .c = c, .d = d };
	krb5_error_code code;

	if (!negotiate_used(c))
		return 0;
	if ((code = krb5_init_context(&k.ctx)) != 0) {
		kt_error(&k, c->server.keytab_line, "[server] keytab: krb5_init_context: %s",
			 kt_why(&k, code));
		return k.errors;
	}
	if (open_keytab(&k) < 0)
		goto done;
	print_keys(&k, out);
	warn_weak(&k);
	if (*c->server.acceptor)
		check_acceptor(&k);
	else
		check_listeners(&k);
done:
	free_keys(&k);
	krb5_free_context(k.ctx);
	return k.errors;
}
